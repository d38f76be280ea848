/* test_tokens.c - the token file of `melodynet prep`: byte layout of tokens.h field by field
 * (durations mapped through the table, rests, positions, empty melodies left out, the
 * validation set), the CRC-32 against zlib's check value, and the failures. */
#include "testutil.h"

#include "tokens.h"
#include "train.h"

static void push(mn_melody *m, int pitch, int dur, int pos)
{
    mn_event e = {pitch, pitch == MN_REST ? 0 : 90, dur, pos, 96};
    assert_int_equal(mn_melody_push(m, &e, NULL), MN_OK);
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void test_crc(void **state)
{
    (void)state;
    assert_int_equal(mn_tokens_crc32(0, "123456789", 9), 0xcbf43926u);
    /* in pieces: the same */
    assert_int_equal(mn_tokens_crc32(mn_tokens_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
}

static void test_layout(void **state)
{
    (void)state;
    mn_melody m[3];
    for (int i = 0; i < 3; i++) mn_melody_init(&m[i]);
    push(&m[0], 60, 24, 0);
    push(&m[0], MN_REST, 13, 24); /* 13 ticks maps to 12 */
    push(&m[0], 200, 48, 37);     /* out of range: a rest */
    push(&m[2], 72, 96, 0);       /* m[1] is empty: left out */
    mn_melody v;
    mn_melody_init(&v);
    push(&v, 64, 6, 90);
    mn_durtable t = {4, {6, 12, 24, 48}};
    char path[] = "/tmp/mn_tokens_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    mn_midi_options mo = {2, 5};
    mn_tokens_set ts = {"a b", m, 3}, vs = {"v", &v, 1};
    char err[MN_ERR_LEN];
    assert_int_equal(mn_tokens_write(path, &t, 32, &mo, &ts, &vs, err), MN_OK);
    FILE *f = fopen(path, "rb");
    uint8_t b[512];
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    unlink(path);
    size_t want = 8 + 4 * 7 + 4 + 16 + 4 /* header */ + 4 + 4 + 3 + 16 + 8 + 4 * 4 /* train */ +
                  4 + 4 + 1 + 16 + 4 + 4 /* valid */ + 4;
    assert_int_equal(n, want);
    assert_memory_equal(b, "MNTOKENS", 8);
    const uint8_t *p = b + 8;
    assert_int_equal(le(p, 4), 1), p += 4;
    assert_int_equal(le(p, 4), MN_TPQ), p += 4;
    assert_int_equal((int32_t)le(p, 4), MN_TRAIN_SHIFT_LO), p += 4;
    assert_int_equal((int32_t)le(p, 4), MN_TRAIN_SHIFT_HI), p += 4;
    assert_int_equal(le(p, 4), 2), p += 4;
    assert_int_equal(le(p, 4), 5), p += 4;
    assert_int_equal(le(p, 4), 32), p += 4;
    assert_int_equal(le(p, 4), 4), p += 4;
    for (int i = 0; i < 4; i++, p += 4) assert_int_equal(le(p, 4), t.ticks[i]);
    assert_int_equal(le(p, 4), 2), p += 4; /* sets */
    assert_int_equal(le(p, 4), 0), p += 4; /* training */
    assert_int_equal(le(p, 4), 3), p += 4;
    assert_memory_equal(p, "a b", 3), p += 3;
    assert_int_equal(le(p, 8), 2), p += 8;
    assert_int_equal(le(p, 8), 4), p += 8;
    assert_int_equal(le(p, 4), 3), p += 4;
    assert_int_equal(le(p, 4), 1), p += 4;
    const uint8_t pitch[4] = {60, MN_REST, MN_REST, 72}, dur[4] = {2, 1, 3, 3};
    assert_memory_equal(p, pitch, 4), p += 4;
    assert_memory_equal(p, dur, 4), p += 4;
    const int pos[4] = {0, 24, 37, 0};
    for (int i = 0; i < 4; i++, p += 2) assert_int_equal(le(p, 2), pos[i]);
    assert_int_equal(le(p, 4), 1), p += 4; /* validation */
    assert_int_equal(le(p, 4), 1), p += 4;
    assert_memory_equal(p, "v", 1), p += 1;
    assert_int_equal(le(p, 8), 1), p += 8;
    assert_int_equal(le(p, 8), 1), p += 8;
    assert_int_equal(le(p, 4), 1), p += 4;
    assert_int_equal(p[0], 64), assert_int_equal(p[1], 0), p += 2;
    assert_int_equal(le(p, 2), 90), p += 2;
    assert_int_equal(le(p, 4), mn_tokens_crc32(0, b, n - 4));
    for (int i = 0; i < 3; i++) mn_melody_free(&m[i]);
    mn_melody_free(&v);
}

static void test_failures(void **state)
{
    (void)state;
    mn_melody e;
    mn_melody_init(&e);
    mn_durtable t = {2, {6, 12}};
    mn_tokens_set ts = {NULL, &e, 1};
    char err[MN_ERR_LEN];
    assert_int_equal(mn_tokens_write("/tmp/mn_tokens_none", &t, 2, NULL, &ts, NULL, err),
                     MN_ERR_EMPTY);
    assert_non_null(strstr(err, "no training events"));
    assert_int_equal(access("/tmp/mn_tokens_none", F_OK), -1);
    push(&e, 60, 6, 0);
    mn_durtable bad = {2, {12, 6}};
    assert_int_equal(mn_tokens_write("/tmp/mn_tokens_none", &bad, 2, NULL, &ts, NULL, err),
                     MN_ERR_FORMAT);
    assert_int_equal(mn_tokens_write("/nonexistent-dir/x.bin", &t, 2, NULL, &ts, NULL, err),
                     MN_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent-dir/x.bin"));
    mn_melody_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
