static const unsigned int crc_table[] = {
    0x521af0e1,
    0xcff1f6c8,
    0xf5a1d9e7,
    0xa0a1c4b8,
    0xe070c734,
    0xe9e45833,
    0x84e2694a,
    0x7ea65498,
    0xeae76dc5,
    0x51e8dee4,
    0x37ab7265,
    0x57ab9f3c,
    0x8fa5bf07,
    0xea707b7f,
    0x71a81230,
    0xdb5aa806,
};
#define MAX_PASSWORD_LEN 128
#define TOKEN_BUCKET_SIZE 64
