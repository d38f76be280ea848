/* test_json.c - the JSON parser: values, escapes, exact integers, and refusal of malformed,
 * truncated and too-deep input without reading past the buffer. */
#include "testutil.h"

#include "json.h"

static mn_json_doc *parse_ok(const char *s)
{
    char err[MN_ERR_LEN] = "";
    mn_json_doc *doc = NULL;
    mn_status st = mn_json_parse(s, strlen(s), &doc, err);
    if (st != MN_OK) fail_msg("parse of %s failed: %s", s, err);
    assert_non_null(doc);
    return doc;
}

/* Parses a copy in an exactly sized heap block so that ASan catches any read past the end. */
static mn_status parse_exact(const char *s, size_t n, char *err)
{
    char *b = malloc(n ? n : 1);
    memcpy(b, s, n);
    mn_json_doc *doc = NULL;
    mn_status st = mn_json_parse(b, n, &doc, err);
    if (st == MN_OK) assert_non_null(doc);
    else assert_null(doc);
    mn_json_free(doc);
    free(b);
    return st;
}

static void test_values(void **state)
{
    (void)state;
    mn_json_doc *doc = parse_ok(" {\"a\": [1, -2.5, 1e3, true, false, null], \"b\": {\"c\": \"x\"},"
                                " \"big\": 18446744073709551615, \"over\": 18446744073709551616} ");
    const mn_json *r = mn_json_root(doc);
    assert_int_equal(r->type, MN_JSON_OBJECT);
    assert_int_equal(r->n, 4);
    const mn_json *a = mn_json_get(r, "a");
    assert_non_null(a);
    assert_int_equal(a->type, MN_JSON_ARRAY);
    assert_int_equal(a->n, 6);
    assert_true(mn_json_at(a, 0)->is_uint);
    assert_int_equal(mn_json_at(a, 0)->uint, 1);
    assert_false(mn_json_at(a, 1)->is_uint);
    assert_true(mn_json_at(a, 1)->number == -2.5);
    assert_false(mn_json_at(a, 2)->is_uint);
    assert_true(mn_json_at(a, 2)->number == 1000.0);
    assert_int_equal(mn_json_at(a, 3)->type, MN_JSON_BOOL);
    assert_int_equal(mn_json_at(a, 3)->boolean, 1);
    assert_int_equal(mn_json_at(a, 4)->boolean, 0);
    assert_int_equal(mn_json_at(a, 5)->type, MN_JSON_NULL);
    assert_null(mn_json_at(a, 6));
    assert_string_equal(mn_json_get(mn_json_get(r, "b"), "c")->str, "x");
    const mn_json *big = mn_json_get(r, "big");
    assert_true(big->is_uint);
    assert_true(big->uint == UINT64_MAX);
    assert_false(mn_json_get(r, "over")->is_uint);
    assert_null(mn_json_get(r, "missing"));
    assert_null(mn_json_get(a, "a"));
    mn_json_free(doc);
}

static void test_escapes(void **state)
{
    (void)state;
    mn_json_doc *doc =
        parse_ok("[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"\\u00e9\\u20ac\\ud83c\\udfb5\", \"\\u0000z\"]");
    const mn_json *r = mn_json_root(doc);
    assert_string_equal(mn_json_at(r, 0)->str, "a\"b\\c/d\b\f\n\r\t");
    assert_string_equal(mn_json_at(r, 1)->str, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x8e\xb5");
    assert_int_equal(mn_json_at(r, 2)->str_len, 2);
    assert_int_equal(mn_json_at(r, 2)->str[1], 'z');
    mn_json_free(doc);
}

static void test_duplicate_keys_kept(void **state)
{
    (void)state;
    mn_json_doc *doc = parse_ok("{\"k\": 1, \"k\": 2}");
    const mn_json *r = mn_json_root(doc);
    assert_int_equal(r->n, 2);
    assert_int_equal(mn_json_get(r, "k")->uint, 1);
    assert_int_equal(r->child->next->uint, 2);
    mn_json_free(doc);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *bad[] = {
        "", " ", "{", "}", "[", "[1,", "[1,]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{a:1}",
        "\"abc", "\"ab\\", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"\\ud800\"", "\"\\udc00\"",
        "\"\\ud800\\u0041\"", "\"a\nb\"", "01", "-", "1.", "1e", "1e+", ".5", "+1", "tru", "nul",
        "falsey", "[1] x", "{\"a\":1}}", "[1 2]", "NaN", "Infinity", "\"\\u", "[\"\\",
    };
    char err[MN_ERR_LEN];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        mn_status st = parse_exact(bad[i], strlen(bad[i]), err);
        if (st != MN_ERR_FORMAT) fail_msg("input %zu '%s' gave status %d", i, bad[i], (int)st);
        assert_non_null(strstr(err, "JSON: "));
    }
}

/* Raw bytes in strings must be UTF-8 (RFC 8259 8.1): well-formed sequences pass unchanged,
 * stray continuation bytes, overlong forms, surrogates, code points past U+10FFFF and cut
 * sequences are refused. */
static void test_strings_are_utf8(void **state)
{
    (void)state;
    mn_json_doc *doc = parse_ok("[\"\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xb5 \xf4\x8f\xbf\xbf\"]");
    assert_string_equal(mn_json_at(mn_json_root(doc), 0)->str,
                        "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xb5 \xf4\x8f\xbf\xbf");
    mn_json_free(doc);
    static const char *bad[] = {
        "\"\xff\"", "\"\x80\"", "\"a\xbf" "b\"", "\"\xc0\x80\"", "\"\xc1\xbf\"", "\"\xe0\x80\xaf\"",
        "\"\xed\xa0\x80\"", "\"\xf0\x80\x80\xaf\"", "\"\xf4\x90\x80\x80\"", "\"\xf5\x80\x80\x80\"",
        "\"\xc3\"", "\"\xe2\x82\"", "{\"k\xfe\":1}",
    };
    char err[MN_ERR_LEN];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        mn_status st = parse_exact(bad[i], strlen(bad[i]), err);
        if (st != MN_ERR_FORMAT) fail_msg("input %zu gave status %d", i, (int)st);
        assert_non_null(strstr(err, "invalid UTF-8"));
    }
}

static void test_truncated_prefixes(void **state)
{
    (void)state;
    const char *s = "{\"__metadata__\":{\"format\":\"melodynet\",\"n\":\"\\u00e9\"},"
                    "\"t\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}";
    char err[MN_ERR_LEN];
    size_t n = strlen(s);
    assert_int_equal(parse_exact(s, n, err), MN_OK);
    for (size_t k = 0; k < n; k++) assert_int_not_equal(parse_exact(s, k, err), MN_OK);
}

static void test_depth_limit(void **state)
{
    (void)state;
    char buf[2 * 200 + 1];
    char err[MN_ERR_LEN];
    for (int depth = MN_JSON_MAX_DEPTH - 2; depth <= MN_JSON_MAX_DEPTH + 2; depth++) {
        memset(buf, '[', (size_t)depth);
        memset(buf + depth, ']', (size_t)depth);
        mn_status st = parse_exact(buf, 2 * (size_t)depth, err);
        if (depth <= MN_JSON_MAX_DEPTH) assert_int_equal(st, MN_OK);
        else {
            assert_int_equal(st, MN_ERR_LIMIT);
            assert_non_null(strstr(err, "deep"));
        }
    }
    memset(buf, '[', 200);
    memset(buf + 200, ']', 200);
    assert_int_equal(parse_exact(buf, 400, err), MN_ERR_LIMIT);
}

static void test_size_limit(void **state)
{
    (void)state;
    char err[MN_ERR_LEN];
    mn_json_doc *doc = NULL;
    /* the length alone is refused before anything is read */
    assert_int_equal(mn_json_parse("1", (size_t)MN_JSON_MAX_BYTES + 1, &doc, err), MN_ERR_LIMIT);
    assert_null(doc);
}

static long live_blocks;
static void *live_malloc(size_t n, void *ctx) { (void)ctx; live_blocks++; return malloc(n); }
static void *live_realloc(void *p, size_t n, void *ctx) { (void)ctx; if (!p) live_blocks++; return realloc(p, n); }
static void live_free(void *p, void *ctx) { (void)ctx; live_blocks--; free(p); }

/* A failed parse frees what it made; a good one frees everything on mn_json_free. */
static void test_no_leak(void **state)
{
    (void)state;
    static const mn_allocator a = {live_malloc, live_realloc, live_free, NULL};
    mn_set_allocator(&a);
    live_blocks = 0;
    char err[MN_ERR_LEN];
    mn_json_doc *doc = NULL;
    const char *s = "{\"a\":[1,2,{\"b\":\"c\"}]}";
    assert_int_equal(mn_json_parse(s, strlen(s) - 1, &doc, err), MN_ERR_FORMAT);
    assert_null(doc);
    assert_int_equal(live_blocks, 0);
    assert_int_equal(mn_json_parse(s, strlen(s), &doc, err), MN_OK);
    assert_true(live_blocks > 0);
    mn_json_free(doc);
    assert_int_equal(live_blocks, 0);
    mn_set_allocator(NULL);
    mn_json_free(NULL);
}

/* Bytes of every value, fed one at a time through the parser: no crash and no read past the
 * end for any single-byte input. */
static void test_all_single_bytes(void **state)
{
    (void)state;
    char err[MN_ERR_LEN];
    for (int c = 0; c < 256; c++) {
        char b = (char)c;
        mn_status st = parse_exact(&b, 1, err);
        if (c >= '0' && c <= '9') assert_int_equal(st, MN_OK);
        else assert_int_not_equal(st, MN_OK);
    }
}

static void test_fput_str_round_trips(void **state)
{
    (void)state;
    const char *in = "a \"quoted\" path\\with\ttab\nand \x01 \xc3\xa9";
    FILE *f = tmpfile();
    assert_non_null(f);
    mn_json_fput_str(f, in);
    long n = ftell(f);
    rewind(f);
    char buf[256];
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    mn_json_doc *doc;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_json_parse(buf, (size_t)n, &doc, err), MN_OK);
    assert_int_equal(mn_json_root(doc)->type, MN_JSON_STRING);
    assert_string_equal(mn_json_root(doc)->str, in);
    mn_json_free(doc);
}

/* Both string writers give the same bytes: quote, backslash, C0, DEL and C1 escaped, other
 * UTF-8 (a no-break space is C2 A0, not C1) as it is; and the text parses back. */
static void test_string_writers_agree(void **state)
{
    (void)state;
    const char *in = "q\" b\\ t\t nl\n \x01 del\x7f c1\xc2\x80\xc2\x9f nbsp\xc2\xa0 \xc3\xa9";
    const char *want = "\"q\\\" b\\\\ t\\u0009 nl\\u000a \\u0001 del\\u007f c1\\u0080\\u009f "
                       "nbsp\xc2\xa0 \xc3\xa9\"";
    mn_sbuf b = {0};
    mn_json_put_str(&b, "");
    assert_string_equal(b.buf, "\"\"");
    b.n = 0;
    mn_json_put_str(&b, in);
    assert_false(b.failed);
    assert_string_equal(b.buf, want);
    FILE *f = tmpfile();
    assert_non_null(f);
    mn_json_fput_str(f, in);
    long n = ftell(f);
    rewind(f);
    char buf[256];
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    assert_int_equal((size_t)n, b.n);
    assert_memory_equal(buf, b.buf, b.n);
    mn_json_doc *doc;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_json_parse(b.buf, b.n, &doc, err), MN_OK);
    assert_string_equal(mn_json_root(doc)->str, in);
    mn_json_free(doc);
    mn_sbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_duplicate_keys_kept),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_strings_are_utf8),
        cmocka_unit_test(test_truncated_prefixes),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_no_leak),
        cmocka_unit_test(test_all_single_bytes),
        cmocka_unit_test(test_fput_str_round_trips),
        cmocka_unit_test(test_string_writers_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
