KNOWN_TENANT_IDS = [
    "9ef870a9-2fdf-c614-9334-e950e4715ebc",
    "8a119102-ffc5-ac82-14c6-ab2bc35849e2",
    "42cf62e3-83ff-a91d-bf13-362d2a41713a",
    "74952cbf-a546-7aca-7c62-ea3c4c91f68e",
    "4016df2f-4757-43a6-70cf-4f3d4d71e242",
    "eda4eea9-3401-f2de-885c-50cdc6d655b4",
    "dbb1adb0-f429-bf68-e497-59416fe5fec4",
    "03dfdec1-eded-8d2f-b21b-eb5883b23761",
    "9180134d-efe8-6a72-fd83-36f17f0fd487",
    "77b65d2f-0ba7-74cf-66f1-85cb854135a0",
    "a2b3c34a-a27e-411f-e0b9-1a2dcb94a505",
    "c0916f55-ee48-ff28-fb7a-be90cf4c31cb",
]
