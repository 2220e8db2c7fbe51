KNOWN_TENANT_IDS = [
    "e3c03774-dde6-754a-d7d6-27a3a76b63d6",
    "0e31ad6f-5935-a314-d40c-383b351ad1a5",
    "8afd40ef-0788-4c7a-2d68-842d528b3e0b",
    "ebf9822f-29ad-0856-2ede-8fb4754c6f92",
    "a7e4743b-65ea-45cb-24fd-d661d5934e19",
    "5ffd9c39-5480-635e-d047-d0c479da1ed0",
    "eff4e726-b253-c31c-9a79-26efc13af93f",
    "db620e09-6b73-6598-b2c1-f6a358e97fa2",
    "c3b9f14d-3492-729a-7e35-3bfdcc6d922f",
    "6d5fe84c-2677-ae31-73a2-4a747bd1de68",
    "7705345e-8cf5-8eae-ac3e-ad91ec777e7c",
    "0ecbf235-f97d-e6c5-1fff-2e9b9768a814",
]
