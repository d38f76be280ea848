/* test_base.c - error formatting, the allocation hook and atomic file writing: a failed write
 * leaves the target as it was and no temporary file behind. */
#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

static void read_all(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t k = fread(buf, 1, n - 1, f);
    buf[k] = 0;
    fclose(f);
}

static void test_atomic_write(void **state)
{
    (void)state;
    char dir[] = "/tmp/mn_base_XXXXXX", path[64], err[MN_ERR_LEN], buf[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/out.txt", dir);
    char *tmp;
    FILE *f = mn_atomic_open(path, &tmp, err);
    assert_non_null(f);
    fputs("first", f);
    assert_int_equal(mn_atomic_close(f, tmp, path, 1, err), MN_OK);
    read_all(path, buf, sizeof buf);
    assert_string_equal(buf, "first");
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);
    /* a failed write keeps the old file and removes the temporary one */
    f = mn_atomic_open(path, &tmp, err);
    assert_non_null(f);
    fputs("second, half", f);
    assert_int_equal(mn_atomic_close(f, tmp, path, 0, err), MN_ERR_IO);
    assert_non_null(strstr(err, path));
    read_all(path, buf, sizeof buf);
    assert_string_equal(buf, "first");
    assert_int_equal(count_entries(dir), 1);
    unlink(path);
    rmdir(dir);
    /* no folder: an error naming the path, nothing to free */
    tmp = (char *)1;
    assert_null(mn_atomic_open("/nonexistent-dir/x", &tmp, err));
    assert_null(tmp);
    assert_non_null(strstr(err, "/nonexistent-dir/x"));
}

static void test_errf_and_alloc(void **state)
{
    (void)state;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_errf(err, MN_ERR_FORMAT, "%s: %d", "x", 3), MN_ERR_FORMAT);
    assert_string_equal(err, "x: 3");
    assert_int_equal(mn_errf(NULL, MN_ERR_IO, "ignored"), MN_ERR_IO);
    assert_null(mn_calloc(SIZE_MAX / 2, 4)); /* overflow refused */
    char *d = mn_strdup("abc");
    assert_string_equal(d, "abc");
    mn_free(d);
    mn_free(NULL);
    assert_string_equal(mn_status_name(MN_OK), "ok");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atomic_write),
        cmocka_unit_test(test_errf_and_alloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
