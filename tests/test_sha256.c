/* test_sha256.c - SHA-256 against the FIPS 180-4 / NIST example digests, split updates at
 * every offset, the padding boundaries (55, 56, 63, 64 bytes) against one-shot digests, and
 * a file digest against the digest of its bytes. */
#include "testutil.h"

#include "sha256.h"

static void test_vectors(void **state)
{
    (void)state;
    char hex[65];
    mn_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    mn_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 56 bytes */
    mn_sha256_hex(two, strlen(two), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* one million 'a', fed in uneven pieces */
    mn_sha256 s;
    mn_sha256_init(&s);
    char a[997];
    memset(a, 'a', sizeof a);
    size_t left = 1000000;
    while (left) {
        size_t k = left < sizeof a ? left : sizeof a;
        mn_sha256_update(&s, a, k);
        left -= k;
    }
    uint8_t d[32];
    mn_sha256_final(&s, d);
    static const uint8_t want[32] = {0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92,
                                     0x81, 0xa1, 0xc7, 0xe2, 0x84, 0xd7, 0x3e, 0x67,
                                     0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e,
                                     0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0};
    assert_memory_equal(d, want, 32);
}

static void test_split_updates(void **state)
{
    (void)state;
    uint8_t msg[200];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 37 + 11);
    static const size_t lens[] = {55, 56, 63, 64, 65, 119, 120, 128, 200};
    for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
        size_t n = lens[k];
        char one[65];
        mn_sha256_hex(msg, n, one);
        for (size_t cut = 0; cut <= n; cut++) {
            mn_sha256 s;
            uint8_t d[32];
            mn_sha256_init(&s);
            mn_sha256_update(&s, msg, cut);
            mn_sha256_update(&s, msg + cut, n - cut);
            mn_sha256_final(&s, d);
            char hex[65];
            for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
            assert_string_equal(hex, one);
        }
    }
}

static void test_file(void **state)
{
    (void)state;
    char path[64];
    mn_test_tmpfile(path, sizeof path, ".bin");
    uint8_t bytes[150000];
    for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (uint8_t)(i ^ (i >> 7));
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, sizeof bytes, f), sizeof bytes);
    fclose(f);
    char a[65], b[65], err[MN_ERR_LEN];
    assert_int_equal(mn_sha256_file(path, a, err), MN_OK);
    mn_sha256_hex(bytes, sizeof bytes, b);
    assert_string_equal(a, b);
    unlink(path);
    assert_int_equal(mn_sha256_file(path, a, err), MN_ERR_IO);
    assert_non_null(strstr(err, path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_split_updates),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
