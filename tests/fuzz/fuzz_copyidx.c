/* fuzz_copyidx.c - libFuzzer harness for the copy guard's index loader (mn_copyidx_load_memory).
 * An index that loads must answer consistently: every run of up to 8 intervals read from the
 * input's own tunes is found, mn_copyidx_next agrees with mn_copyidx_contains, similar's runs
 * lie inside their tune, and a save and load gives the same answers. */
#include "base.h"
#include "copyidx.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[MN_ERR_LEN];
    mn_copyidx *ix;
    if (mn_copyidx_load_memory(data, size, "fuzz.mncopy", &ix, err) != MN_OK) {
        FUZZ_CHECK(ix == NULL, "failed load left an index");
        FUZZ_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL, "bad message '%s'", err);
        return 0;
    }
    /* the tunes' intervals as stored: after the 20-byte header, -128 ends each tune */
    const int8_t *text = (const int8_t *)(data + 20);
    size_t n_text = (size_t)data[12] | (size_t)data[13] << 8 | (size_t)data[14] << 16 |
                    (size_t)data[15] << 24;
    int w[9];
    for (size_t i = 0; i < n_text && i < 256; i++) {
        int len = 0;
        while (len < 9 && i + (size_t)len < n_text && text[i + len] != -128) {
            w[len] = text[i + len];
            len++;
        }
        if (!len) continue;
        FUZZ_CHECK(mn_copyidx_contains(ix, w, len), "run at %zu of length %d not found", i, len);
        unsigned char next[255];
        int k = len - 1, c = mn_copyidx_next(ix, w, k, next);
        FUZZ_CHECK(c >= 1 && next[w[k] + 127], "next after %d intervals misses %d", k, w[k]);
        int x[9];
        memcpy(x, w, sizeof x);
        for (int d = -127; d <= 127; d += 37) {
            x[k] = d;
            FUZZ_CHECK(next[d + 127] == mn_copyidx_contains(ix, x, k + 1), "next/contains differ");
        }
    }
    int q[64];
    for (int i = 0; i < 64; i++) q[i] = i < (int)size ? (int8_t)data[size - 1 - i] : 0;
    for (int i = 0; i < 64; i++)
        if (q[i] == -128) q[i] = 0;
    mn_copy_run runs[4];
    size_t k = mn_copyidx_similar(ix, q, 64, runs, 4);
    for (size_t j = 0; j < k; j++) {
        FUZZ_CHECK(runs[j].tune < mn_copyidx_n_tunes(ix) && runs[j].len >= 1 &&
                       runs[j].query_start + runs[j].len <= 64,
                   "similar run %zu out of range", j);
        FUZZ_CHECK(mn_copyidx_contains(ix, q + runs[j].query_start,
                                       (int)(runs[j].len < 64 ? runs[j].len : 64)),
                   "similar run %zu not in the index", j);
    }
    char path[] = "/tmp/fuzz_copyidx_XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) {
        close(fd);
        mn_copyidx *back;
        FUZZ_CHECK(mn_copyidx_save(ix, path, err) == MN_OK, "save: %s", err);
        FUZZ_CHECK(mn_copyidx_load(path, &back, err) == MN_OK, "reload: %s", err);
        FUZZ_CHECK(mn_copyidx_file_bytes(back) == size, "size changed");
        mn_copyidx_free(back);
        unlink(path);
    }
    mn_copyidx_free(ix);
    return 0;
}
