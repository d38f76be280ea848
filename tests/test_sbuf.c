/* test_sbuf.c - the growable text buffer: appends of every kind, growth well past the first
 * block, formatted text longer than any fixed scratch, and a failed allocation remembered. */
#include "testutil.h"

#include "sbuf.h"

static void test_appends_and_growth(void **state)
{
    (void)state;
    mn_sbuf b = {0};
    mn_sbuf_puts(&b, "ab");
    mn_sbuf_putc(&b, 'c');
    mn_sbuf_put(&b, "dxyz", 1);
    mn_sbuf_printf(&b, "-%d-%s", 42, "e");
    assert_string_equal(b.buf, "abcd-42-e");
    assert_int_equal(b.n, 9);
    char big[10001];
    memset(big, 'q', 10000);
    big[10000] = 0;
    mn_sbuf_printf(&b, "[%s]", big); /* longer than any fixed formatting buffer */
    assert_int_equal(b.n, 9 + 10002);
    assert_int_equal(b.buf[b.n - 1], ']');
    assert_int_equal(b.buf[b.n], 0);
    for (int i = 0; i < 20000; i++) mn_sbuf_putc(&b, 'z');
    assert_int_equal(b.n, 9 + 10002 + 20000);
    assert_false(b.failed);
    mn_sbuf_free(&b);
    assert_null(b.buf);
    assert_int_equal(b.n, 0);
}

static void *fail_malloc(size_t n, void *c) { (void)n, (void)c; return NULL; }
static void *fail_realloc(void *p, size_t n, void *c) { (void)p, (void)n, (void)c; return NULL; }
static void plain_free(void *p, void *c) { (void)c; free(p); }

static void test_failure_is_remembered(void **state)
{
    (void)state;
    static const mn_allocator failing = {fail_malloc, fail_realloc, plain_free, NULL};
    mn_set_allocator(&failing);
    mn_sbuf b = {0};
    mn_sbuf_puts(&b, "lost");
    mn_set_allocator(NULL);
    mn_sbuf_puts(&b, "also dropped"); /* once failed, the contents stay incomplete */
    assert_true(b.failed);
    assert_null(b.buf);
    mn_sbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appends_and_growth),
        cmocka_unit_test(test_failure_is_remembered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
