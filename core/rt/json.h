/* json.h - a small JSON parser for untrusted input (the model file header): objects, arrays,
 * strings with escapes (\uXXXX with surrogate pairs, encoded as UTF-8), numbers, true, false,
 * null. Never reads past the given length, limits nesting depth and input size, and keeps
 * integers exactly (up to 2^64-1) beside the double value. Parses into a tree owned by one
 * document; duplicate object keys are kept in order so the caller can refuse them. */
#ifndef MN_JSON_H
#define MN_JSON_H

#include <stdio.h>

#include "base.h"
#include "sbuf.h"

#define MN_JSON_MAX_DEPTH 64           /* arrays/objects nested deeper are refused */
#define MN_JSON_MAX_BYTES (16u << 20)  /* longer input is refused */

typedef enum {
    MN_JSON_NULL,
    MN_JSON_BOOL,
    MN_JSON_NUMBER,
    MN_JSON_STRING,
    MN_JSON_ARRAY,
    MN_JSON_OBJECT,
} mn_json_type;

typedef struct mn_json mn_json;
struct mn_json {
    mn_json_type type;
    int boolean;        /* MN_JSON_BOOL: 0 or 1 */
    double number;      /* MN_JSON_NUMBER: value (nearest double) */
    int is_uint;        /* MN_JSON_NUMBER: 1 when the text is a non-negative integer that fits */
    uint64_t uint;      /* ... in uint64, held exactly here (no sign, fraction or exponent) */
    const char *str;    /* MN_JSON_STRING: decoded UTF-8, NUL-terminated */
    size_t str_len;     /* ... bytes, without the terminator (may hold NULs from \u0000) */
    const char *key;    /* member of an object: its decoded key, NUL-terminated */
    size_t key_len;
    mn_json *child;     /* ARRAY/OBJECT: first element or member, in document order */
    mn_json *next;      /* next sibling */
    size_t n;           /* ARRAY/OBJECT: number of children */
};

typedef struct mn_json_doc mn_json_doc;

/* Parses len bytes (no terminator needed; whitespace may follow the value). On success *out
 * owns the tree (free with mn_json_free). On failure *out is NULL, err says what and at which
 * byte offset ("JSON: unterminated string at byte 17"), MN_ERR_FORMAT for bad syntax,
 * MN_ERR_LIMIT for depth/size, MN_ERR_NOMEM. */
mn_status mn_json_parse(const char *buf, size_t len, mn_json_doc **out, char *err);
void mn_json_free(mn_json_doc *doc); /* NULL is a no-op */

const mn_json *mn_json_root(const mn_json_doc *doc);

/* First member of obj named key (NULL if obj is not an object or has no such key). */
const mn_json *mn_json_get(const mn_json *obj, const char *key);

/* Element i of an array (NULL if out of range or not an array). */
const mn_json *mn_json_at(const mn_json *arr, size_t i);

const char *mn_json_type_name(mn_json_type t);

/* Writes s to f, or appends it to b, as a JSON string literal: quotes, backslashes and control
 * characters (C0, DEL, C1) escaped, as \" \\ and \u00xx; the rest is copied as it is. The
 * model writer, reports and every --json output use this one rule. */
void mn_json_fput_str(FILE *f, const char *s);
void mn_json_put_str(mn_sbuf *b, const char *s);

#endif
