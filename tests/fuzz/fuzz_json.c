/* fuzz_json.c - libFuzzer harness for the JSON parser (mn_json_parse): any bytes must parse or
 * fail cleanly, and a parsed tree must keep the promises of json.h (child counts, terminated
 * strings, exact unsigned integers, bounded depth). */
#include "base.h"
#include "json.h"

#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"

static void walk(const mn_json *v, int depth)
{
    FUZZ_CHECK(depth <= MN_JSON_MAX_DEPTH + 1, "depth %d", depth);
    switch (v->type) {
    case MN_JSON_NULL:
        break;
    case MN_JSON_BOOL:
        FUZZ_CHECK(v->boolean == 0 || v->boolean == 1, "bool %d", v->boolean);
        break;
    case MN_JSON_NUMBER:
        /* both are the correctly rounded value of the same integer text */
        if (v->is_uint) FUZZ_CHECK(v->number == (double)v->uint, "%g vs %llu", v->number,
                                   (unsigned long long)v->uint);
        break;
    case MN_JSON_STRING:
        FUZZ_CHECK(v->str != NULL, "string without text");
        FUZZ_CHECK(v->str[v->str_len] == '\0', "string not terminated at %zu", v->str_len);
        break;
    case MN_JSON_ARRAY:
    case MN_JSON_OBJECT: {
        size_t n = 0;
        for (const mn_json *c = v->child; c; c = c->next, n++) {
            if (v->type == MN_JSON_OBJECT) {
                FUZZ_CHECK(c->key != NULL, "member %zu has no key", n);
                FUZZ_CHECK(c->key[c->key_len] == '\0', "key not terminated");
                /* lookup finds this member or an earlier one of the same name (keys holding
                 * a NUL cannot be named by a C string) */
                if (strlen(c->key) == c->key_len) {
                    const mn_json *g = mn_json_get(v, c->key);
                    FUZZ_CHECK(g != NULL && g->key_len == c->key_len, "member %s not found",
                               c->key);
                }
            } else {
                FUZZ_CHECK(mn_json_at(v, n) == c, "element %zu not at its index", n);
            }
            walk(c, depth + 1);
        }
        FUZZ_CHECK(n == v->n, "%zu children, n says %zu", n, v->n);
        if (v->type == MN_JSON_ARRAY) FUZZ_CHECK(mn_json_at(v, n) == NULL, "element past end");
        break;
    }
    default:
        FUZZ_CHECK(0, "type %d", (int)v->type);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so that any read past the end is caught */
    char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    mn_json_doc *doc = (mn_json_doc *)1;
    char err[MN_ERR_LEN] = "";
    mn_status s = mn_json_parse(buf, size, &doc, err);
    if (s == MN_OK) {
        FUZZ_CHECK(doc != NULL, "ok without a document");
        const mn_json *root = mn_json_root(doc);
        FUZZ_CHECK(root != NULL, "ok without a root");
        walk(root, 0);
        mn_json_free(doc);
    } else {
        FUZZ_CHECK(doc == NULL, "failure left a document");
        FUZZ_CHECK(err[0] != '\0', "failure %s without a message", mn_status_name(s));
        FUZZ_CHECK(s == MN_ERR_FORMAT || s == MN_ERR_LIMIT || s == MN_ERR_NOMEM, "status %s",
                   mn_status_name(s));
    }
    free(buf);
    return 0;
}
