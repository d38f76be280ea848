/* sbuf.c - growable text buffer. */
#include "sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Makes room for extra more bytes and the terminator. */
static void reserve(mn_sbuf *b, size_t extra)
{
    if (b->failed || b->n + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            b->failed = 1;
            return;
        }
        cap *= 2;
    }
    char *p = mn_realloc(b->buf, cap);
    if (!p) {
        b->failed = 1;
        return;
    }
    b->buf = p;
    b->cap = cap;
}

void mn_sbuf_put(mn_sbuf *b, const char *s, size_t n)
{
    reserve(b, n);
    if (b->failed) return;
    memcpy(b->buf + b->n, s, n);
    b->n += n;
    b->buf[b->n] = '\0';
}

void mn_sbuf_puts(mn_sbuf *b, const char *s) { mn_sbuf_put(b, s, strlen(s)); }

void mn_sbuf_putc(mn_sbuf *b, char c) { mn_sbuf_put(b, &c, 1); }

void mn_sbuf_printf(mn_sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0) {
        b->failed = 1;
        return;
    }
    reserve(b, (size_t)k);
    if (b->failed) return;
    va_start(ap, fmt);
    vsnprintf(b->buf + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

void mn_sbuf_free(mn_sbuf *b)
{
    mn_free(b->buf);
    memset(b, 0, sizeof *b);
}
