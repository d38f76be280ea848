/* sha256.h - SHA-256 (FIPS 180-4) of bytes in memory or of a whole file, so that a model can
 * name the exact file it was fine-tuned from in a form `sha256sum` can check. */
#ifndef MN_SHA256_H
#define MN_SHA256_H

#include "base.h"

typedef struct {
    uint32_t h[8];     /* chaining state */
    uint8_t buf[64];   /* pending bytes of the current block */
    size_t n_buf;      /* 0..63 */
    uint64_t n_bytes;  /* message length so far */
} mn_sha256;

void mn_sha256_init(mn_sha256 *s);
void mn_sha256_update(mn_sha256 *s, const void *p, size_t n);
void mn_sha256_final(mn_sha256 *s, uint8_t digest[32]); /* s must be re-initialised after */

/* Digest of n bytes as 64 lowercase hex digits and a NUL. */
void mn_sha256_hex(const void *p, size_t n, char hex[65]);

/* Digest of every byte of the regular file at path, as hex. MN_ERR_IO naming the path when it
 * cannot be opened or read, with the messages of mn_infile_open (base.h). */
mn_status mn_sha256_file(const char *path, char hex[65], char *err);

#endif
