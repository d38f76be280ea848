/* json.c - recursive-descent JSON parser over a bounded buffer. Nodes and decoded strings live
 * in a chunked arena owned by the document, so freeing is one walk over the chunks and a
 * failed parse frees everything it made. Every read checks the position against the end. */
#include "json.h"

#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (64u << 10)

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes */
} chunk;

struct mn_json_doc {
    chunk *chunks;
    mn_json *root;
};

typedef struct {
    const char *p, *end, *start;
    mn_json_doc *doc;
    char *err;
    mn_status st;
} parser;

/*=== arena ==================================================================================*/

static void *arena_alloc(mn_json_doc *doc, size_t n)
{
    size_t a = sizeof(max_align_t);
    n = (n + a - 1) / a * a;
    chunk *c = doc->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = mn_malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = doc->chunks;
        doc->chunks = c;
    }
    void *r = (char *)c->data + c->used;
    c->used += n;
    return r;
}

void mn_json_free(mn_json_doc *doc)
{
    if (!doc) return;
    chunk *c = doc->chunks;
    while (c) {
        chunk *n = c->next;
        mn_free(c);
        c = n;
    }
    mn_free(doc);
}

/*=== errors =================================================================================*/

static int fail(parser *ps, mn_status st, const char *what)
{
    if (ps->st == MN_OK) {
        ps->st = st;
        mn_errf(ps->err, st, "JSON: %s at byte %zu", what, (size_t)(ps->p - ps->start));
    }
    return -1;
}

static int nomem(parser *ps) { return fail(ps, MN_ERR_NOMEM, "out of memory"); }

/*=== lexing =================================================================================*/

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int read_hex4(parser *ps, unsigned *out)
{
    if (ps->end - ps->p < 4) return fail(ps, MN_ERR_FORMAT, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(ps->p[i]);
        if (h < 0) return fail(ps, MN_ERR_FORMAT, "bad hex digit in \\u escape");
        v = v * 16 + (unsigned)h;
    }
    ps->p += 4;
    *out = v;
    return 0;
}

static size_t utf8_put(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the well-formed UTF-8 sequence at p (at most n bytes), 0 when there is none. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0], cp, k;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) k = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) k = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) k = 4, cp = c & 0x07;
    else return 0;
    if (n < k) return 0;
    for (unsigned i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    return k;
}

/* Parses a string starting at the opening quote. The decoded form is never longer than the
 * raw text (an escape of n bytes yields at most n bytes of UTF-8), so one allocation of the
 * raw length suffices. */
static int parse_string(parser *ps, const char **out, size_t *out_len)
{
    ps->p++; /* opening quote */
    const char *q = ps->p;
    while (q < ps->end && *q != '"') {
        if (*q == '\\' && ps->end - q < 2) {
            q = ps->end;
            break;
        }
        q += *q == '\\' ? 2 : 1;
    }
    if (q >= ps->end) return fail(ps, MN_ERR_FORMAT, "unterminated string");
    char *o = arena_alloc(ps->doc, (size_t)(q - ps->p) + 1);
    if (!o) return nomem(ps);
    size_t n = 0;
    while (ps->p < q) {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) return fail(ps, MN_ERR_FORMAT, "control character in string");
        if (c >= 0x80) {
            /* JSON text is UTF-8 (RFC 8259 8.1): a well-formed sequence, no overlong form, no
             * surrogate, nothing past U+10FFFF; copied as it is */
            size_t k = utf8_len((const unsigned char *)ps->p, (size_t)(q - ps->p));
            if (!k) return fail(ps, MN_ERR_FORMAT, "invalid UTF-8 in string");
            memcpy(o + n, ps->p, k);
            n += k;
            ps->p += k;
            continue;
        }
        if (c != '\\') {
            o[n++] = (char)c;
            ps->p++;
            continue;
        }
        ps->p++;
        char e = *ps->p++;
        switch (e) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (read_hex4(ps, &cp)) return -1;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return fail(ps, MN_ERR_FORMAT, "lone low surrogate in \\u escape");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (q - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u')
                    return fail(ps, MN_ERR_FORMAT, "high surrogate without a low one");
                ps->p += 2;
                if (read_hex4(ps, &lo)) return -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return fail(ps, MN_ERR_FORMAT, "high surrogate without a low one");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            n += utf8_put(o + n, cp);
            break;
        }
        default:
            ps->p--;
            return fail(ps, MN_ERR_FORMAT, "bad escape in string");
        }
        /* a read_hex4 on the last escape could not cross q: q marks the closing quote and the
         * scan above never stops inside an escape */
    }
    ps->p = q + 1;
    o[n] = '\0';
    *out = o;
    *out_len = n;
    return 0;
}

/* strtod honours LC_NUMERIC; a host (such as Pd) may have set a comma locale. Converts the
 * JSON text with '.' replaced by the locale's decimal point. */
static double to_double(const char *tok, size_t n)
{
    char buf[400];
    if (n >= sizeof buf) n = sizeof buf - 1;
    memcpy(buf, tok, n);
    buf[n] = '\0';
    const char *dp = localeconv()->decimal_point;
    if (dp && dp[0] && dp[0] != '.' && !dp[1]) {
        char *d = strchr(buf, '.');
        if (d) *d = dp[0];
    }
    return strtod(buf, NULL);
}

static int parse_number(parser *ps, mn_json *v)
{
    const char *s = ps->p, *q = ps->p;
    int neg = 0, frac = 0;
    if (q < ps->end && *q == '-') {
        neg = 1;
        q++;
    }
    if (q >= ps->end || *q < '0' || *q > '9') return fail(ps, MN_ERR_FORMAT, "bad number");
    if (*q == '0') {
        q++;
        if (q < ps->end && *q >= '0' && *q <= '9')
            return fail(ps, MN_ERR_FORMAT, "number with a leading zero");
    } else {
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    const char *int_end = q;
    if (q < ps->end && *q == '.') {
        frac = 1;
        q++;
        if (q >= ps->end || *q < '0' || *q > '9') return fail(ps, MN_ERR_FORMAT, "bad fraction");
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        frac = 1;
        q++;
        if (q < ps->end && (*q == '+' || *q == '-')) q++;
        if (q >= ps->end || *q < '0' || *q > '9') return fail(ps, MN_ERR_FORMAT, "bad exponent");
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    if ((size_t)(q - s) > 350) return fail(ps, MN_ERR_LIMIT, "number too long");
    v->type = MN_JSON_NUMBER;
    v->number = to_double(s, (size_t)(q - s));
    if (!neg && !frac) {
        uint64_t u = 0;
        int ok = 1;
        for (const char *d = s; d < int_end; d++) {
            unsigned dig = (unsigned)(*d - '0');
            if (u > (UINT64_MAX - dig) / 10) {
                ok = 0;
                break;
            }
            u = u * 10 + dig;
        }
        v->is_uint = ok;
        v->uint = ok ? u : 0;
    }
    ps->p = q;
    return 0;
}

static int literal(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return fail(ps, MN_ERR_FORMAT, "unexpected character");
    ps->p += n;
    return 0;
}

/*=== values =================================================================================*/

static int parse_value(parser *ps, mn_json *v, int depth);

static int parse_container(parser *ps, mn_json *v, int depth, int is_object)
{
    if (depth >= MN_JSON_MAX_DEPTH) return fail(ps, MN_ERR_LIMIT, "nesting too deep");
    char close = is_object ? '}' : ']';
    v->type = is_object ? MN_JSON_OBJECT : MN_JSON_ARRAY;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return 0;
    }
    mn_json **tail = &v->child;
    for (;;) {
        mn_json *c = arena_alloc(ps->doc, sizeof *c);
        if (!c) return nomem(ps);
        memset(c, 0, sizeof *c);
        skip_ws(ps);
        if (is_object) {
            if (ps->p >= ps->end || *ps->p != '"') return fail(ps, MN_ERR_FORMAT, "expected a key");
            if (parse_string(ps, &c->key, &c->key_len)) return -1;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') return fail(ps, MN_ERR_FORMAT, "expected ':'");
            ps->p++;
            skip_ws(ps);
        }
        if (parse_value(ps, c, depth + 1)) return -1;
        *tail = c;
        tail = &c->next;
        v->n++;
        skip_ws(ps);
        if (ps->p >= ps->end) return fail(ps, MN_ERR_FORMAT, "unexpected end");
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            return 0;
        }
        return fail(ps, MN_ERR_FORMAT, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int parse_value(parser *ps, mn_json *v, int depth)
{
    skip_ws(ps);
    if (ps->p >= ps->end) return fail(ps, MN_ERR_FORMAT, "unexpected end");
    switch (*ps->p) {
    case '{': return parse_container(ps, v, depth, 1);
    case '[': return parse_container(ps, v, depth, 0);
    case '"':
        v->type = MN_JSON_STRING;
        return parse_string(ps, &v->str, &v->str_len);
    case 't':
        v->type = MN_JSON_BOOL;
        v->boolean = 1;
        return literal(ps, "true");
    case 'f':
        v->type = MN_JSON_BOOL;
        return literal(ps, "false");
    case 'n':
        v->type = MN_JSON_NULL;
        return literal(ps, "null");
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) return parse_number(ps, v);
        return fail(ps, MN_ERR_FORMAT, "unexpected character");
    }
}

mn_status mn_json_parse(const char *buf, size_t len, mn_json_doc **out, char *err)
{
    *out = NULL;
    if (!buf && len) return mn_errf(err, MN_ERR_ARG, "JSON: no buffer");
    if (len > MN_JSON_MAX_BYTES)
        return mn_errf(err, MN_ERR_LIMIT, "JSON: %zu bytes, limit %u", len, MN_JSON_MAX_BYTES);
    mn_json_doc *doc = mn_calloc(1, sizeof *doc);
    if (!doc) return mn_errf(err, MN_ERR_NOMEM, "JSON: out of memory");
    parser ps = {buf, buf + len, buf, doc, err, MN_OK};
    mn_json *root = arena_alloc(doc, sizeof *root);
    if (!root) {
        mn_json_free(doc);
        return mn_errf(err, MN_ERR_NOMEM, "JSON: out of memory");
    }
    memset(root, 0, sizeof *root);
    if (parse_value(&ps, root, 0) == 0) {
        skip_ws(&ps);
        if (ps.p != ps.end) fail(&ps, MN_ERR_FORMAT, "trailing characters");
    }
    if (ps.st != MN_OK) {
        mn_json_free(doc);
        return ps.st;
    }
    doc->root = root;
    *out = doc;
    return MN_OK;
}

const mn_json *mn_json_root(const mn_json_doc *doc) { return doc ? doc->root : NULL; }

const mn_json *mn_json_get(const mn_json *obj, const char *key)
{
    if (!obj || obj->type != MN_JSON_OBJECT) return NULL;
    size_t n = strlen(key);
    for (const mn_json *c = obj->child; c; c = c->next)
        if (c->key_len == n && memcmp(c->key, key, n) == 0) return c;
    return NULL;
}

const mn_json *mn_json_at(const mn_json *arr, size_t i)
{
    if (!arr || arr->type != MN_JSON_ARRAY || i >= arr->n) return NULL;
    const mn_json *c = arr->child;
    while (i-- && c) c = c->next;
    return c;
}

const char *mn_json_type_name(mn_json_type t)
{
    switch (t) {
    case MN_JSON_NULL: return "null";
    case MN_JSON_BOOL: return "boolean";
    case MN_JSON_NUMBER: return "number";
    case MN_JSON_STRING: return "string";
    case MN_JSON_ARRAY: return "array";
    case MN_JSON_OBJECT: return "object";
    }
    return "?";
}

/* The one JSON string writer: quotes, backslashes, C0, DEL and C1 controls escaped, in pieces
 * handed to put. */
static void put_str(void (*put)(void *ctx, const char *p, size_t n), void *ctx, const char *s)
{
    put(ctx, "\"", 1);
    const unsigned char *p = (const unsigned char *)s, *run = p;
    for (; *p; p++) {
        unsigned c = *p;
        int c1 = c == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F;
        if (c != '"' && c != '\\' && c >= 0x20 && c != 0x7F && !c1) continue;
        if (p > run) put(ctx, (const char *)run, (size_t)(p - run));
        char e[8];
        if (c1) c = *++p;
        int n = c == '"' || c == '\\' ? snprintf(e, sizeof e, "\\%c", (int)c)
                                       : snprintf(e, sizeof e, "\\u%04x", c);
        put(ctx, e, (size_t)n);
        run = p + 1;
    }
    if (p > run) put(ctx, (const char *)run, (size_t)(p - run));
    put(ctx, "\"", 1);
}

static void put_file(void *ctx, const char *p, size_t n) { fwrite(p, 1, n, ctx); }
static void put_sbuf(void *ctx, const char *p, size_t n) { mn_sbuf_put(ctx, p, n); }

void mn_json_fput_str(FILE *f, const char *s) { put_str(put_file, f, s); }
void mn_json_put_str(mn_sbuf *b, const char *s) { put_str(put_sbuf, b, s); }
