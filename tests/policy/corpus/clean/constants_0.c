static const unsigned int crc_table[] = {
    0xe83b53cd,
    0xbf6723b6,
    0x3e578f6c,
    0x97c3947c,
    0x8b3ba866,
    0x4020f15a,
    0x44449674,
    0x237fc716,
    0xc85542ac,
    0x4108e347,
    0xaad02a7e,
    0xef3a5dfd,
    0xd98eb355,
    0x3b2192ab,
    0x40406490,
    0x2793beb3,
};
#define MAX_PASSWORD_LEN 128
#define TOKEN_BUCKET_SIZE 64
