/* test_registry.c - models shared by file: keys follow the file's size and modification time,
 * users are counted, a second load of the same file gives way to the registered one, the last
 * user frees the model, and running out of memory registers nothing. */
#include "testutil.h"

#include "registry.h"

#include <sys/stat.h>
#include <sys/time.h>

static char tmp[64];

static int setup(void **state)
{
    (void)state;
    char src[512];
    mn_test_tmpfile(tmp, sizeof tmp, ".mnet");
    FILE *f = fopen(mn_test_path(src, sizeof src, "tests/fixtures/ref/small.mnet"), "rb");
    assert_non_null(f);
    static char buf[1 << 17];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(n > 0 && n < sizeof buf);
    assert_int_equal(mn_test_write(tmp, buf, n), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(tmp);
    return 0;
}

static mn_model *load(void)
{
    mn_model *m = NULL;
    char err[MN_ERR_LEN];
    if (mn_model_load(tmp, &m, err) != MN_OK) fail_msg("%s", err);
    return m;
}

static void test_keys_follow_the_file(void **state)
{
    (void)state;
    char k1[MN_REGISTRY_KEY_LEN], k2[MN_REGISTRY_KEY_LEN], err[MN_ERR_LEN];
    assert_int_equal(mn_registry_key(tmp, k1, err), MN_OK);
    assert_non_null(strstr(k1, tmp));
    assert_int_equal(mn_registry_key(tmp, k2, err), MN_OK);
    assert_string_equal(k1, k2);
    /* the same bytes, another modification time: another key */
    struct timeval tv[2] = {{1000000000, 0}, {1000000000, 0}};
    assert_int_equal(utimes(tmp, tv), 0);
    assert_int_equal(mn_registry_key(tmp, k2, err), MN_OK);
    assert_string_not_equal(k1, k2);
    assert_int_equal(mn_registry_key("/nonexistent/m.mnet", k2, err), MN_ERR_IO);
    assert_string_equal(err, "/nonexistent/m.mnet: cannot open: No such file or directory");
    char longpath[1200];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    assert_int_not_equal(mn_registry_key(longpath, k2, err), MN_OK);
}

static void test_users_and_sharing(void **state)
{
    (void)state;
    char key[MN_REGISTRY_KEY_LEN], err[MN_ERR_LEN];
    assert_int_equal(mn_registry_key(tmp, key, err), MN_OK);
    assert_null(mn_registry_acquire(key));
    mn_model *a = load(), *out = NULL;
    assert_int_equal(mn_registry_adopt(key, a, &out, err), MN_OK);
    assert_ptr_equal(out, a);
    assert_int_equal(mn_registry_users(a), 1);
    /* another object loads the same file meanwhile: it gets the registered copy */
    mn_model *b = load(), *out2 = NULL;
    assert_int_equal(mn_registry_adopt(key, b, &out2, err), MN_OK);
    assert_ptr_equal(out2, a);
    assert_int_equal(mn_registry_users(a), 2);
    assert_ptr_equal(mn_registry_acquire(key), a);
    assert_int_equal(mn_registry_users(a), 3);
    mn_registry_release(a);
    mn_registry_release(a);
    assert_int_equal(mn_registry_users(a), 1);
    assert_ptr_equal(mn_registry_acquire(key), a);
    mn_registry_release(a);
    mn_registry_release(a); /* the last user: the model is freed */
    assert_null(mn_registry_acquire(key));
    mn_registry_release(NULL);
    mn_model *c = load(); /* a model the registry does not hold: left alone */
    mn_registry_release(c);
    assert_int_equal(mn_registry_users(c), 0);
    mn_model_free(c);
}

static int fail_after;
static void *failing_malloc(size_t n, void *ctx)
{
    (void)ctx;
    return fail_after-- > 0 ? malloc(n) : NULL;
}
static void *failing_realloc(void *p, size_t n, void *ctx)
{
    (void)ctx;
    return fail_after-- > 0 ? realloc(p, n) : NULL;
}
static void plain_free(void *p, void *ctx)
{
    (void)ctx;
    free(p);
}

static void test_out_of_memory_registers_nothing(void **state)
{
    (void)state;
    char key[MN_REGISTRY_KEY_LEN], err[MN_ERR_LEN];
    assert_int_equal(mn_registry_key(tmp, key, err), MN_OK);
    for (int k = 0; k < 2; k++) {
        mn_model *m = load(), *out = m;
        static const mn_allocator a = {failing_malloc, failing_realloc, plain_free, NULL};
        fail_after = k;
        mn_set_allocator(&a);
        mn_status st = mn_registry_adopt(key, m, &out, err);
        mn_set_allocator(NULL);
        assert_int_equal(st, MN_ERR_NOMEM);
        assert_null(out);
        assert_null(mn_registry_acquire(key));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keys_follow_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users_and_sharing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_memory_registers_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
