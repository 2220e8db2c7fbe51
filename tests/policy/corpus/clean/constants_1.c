static const unsigned int crc_table[] = {
    0x545ce5b3,
    0x53ea8e25,
    0x8f98937c,
    0x1bae01b9,
    0xa91d7b2d,
    0x09131a5c,
    0x0fdf3982,
    0xe80209e1,
    0xb474e925,
    0xe027526a,
    0xa7f957ac,
    0x8dcc263f,
    0x883faed0,
    0x3f742855,
    0xfe968322,
    0x8a54fa1e,
};
#define MAX_PASSWORD_LEN 128
#define TOKEN_BUCKET_SIZE 64
