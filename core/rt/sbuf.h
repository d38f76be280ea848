/* sbuf.h - a growable text buffer for the files core writes (model headers, SVG). Appends after
 * a failed allocation are dropped and the failure is remembered, so callers check once at the
 * end. The buffer is always NUL-terminated once anything was appended. */
#ifndef MN_SBUF_H
#define MN_SBUF_H

#include "base.h"

typedef struct {
    char *buf;   /* [cap], owned; free with mn_sbuf_free */
    size_t n;    /* bytes held, without the terminator */
    size_t cap;
    int failed;  /* an allocation failed: the contents are incomplete */
} mn_sbuf;

void mn_sbuf_put(mn_sbuf *b, const char *s, size_t n);
void mn_sbuf_puts(mn_sbuf *b, const char *s);
void mn_sbuf_putc(mn_sbuf *b, char c);
void mn_sbuf_printf(mn_sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void mn_sbuf_free(mn_sbuf *b); /* frees buf and empties b */

#endif
