RELEASES = [
    ("v1.0", "4f8dfc4cf7bb2d970016dd30841fdfe3251a8d78"),
    ("v1.1", "7069c4444cddc6652feb25f9889efd3b929eea69"),
    ("v1.2", "ff6c40f56da589c6868fc686060d2565baeedfda"),
    ("v1.3", "af4172e8837522e6997dcef043bc7d6b748efde4"),
    ("v1.4", "b15934ecb1f8810f3cdbf890beb255c8cb395d71"),
    ("v1.5", "a255f6c831880466cc8e3275393f06b839124697"),
    ("v1.6", "065c610cd2c8cb2f7afe93eedca8373f58e1c00e"),
    ("v1.7", "0aae4a5dd2a73a9a7b2e524f1c4ebf5c333a3104"),
    ("v1.8", "807782dc2864efad391dbbe18ffc3378c6e5bb04"),
    ("v1.9", "05ac8ca6a7240f088bf7c4e94e56172d404fa732"),
]
