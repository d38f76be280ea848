/* fuzz_tmp.h - a private temporary folder for harnesses that go through files: made on first
 * use under $TMPDIR (else /tmp), removed with everything in it when the process exits or an
 * invariant fails (a sanitizer report leaves it). */
#ifndef MN_FUZZ_TMP_H
#define MN_FUZZ_TMP_H

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_check.h"

static char fuzz_tmp_dir[PATH_MAX];

static inline int fuzz_tmp_rm(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb, (void)type, (void)ftw;
    remove(p);
    return 0;
}

static inline void fuzz_tmp_cleanup(void)
{
    if (fuzz_tmp_dir[0]) nftw(fuzz_tmp_dir, fuzz_tmp_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* The folder, made on the first call. */
static inline const char *fuzz_tmp(void)
{
    if (!fuzz_tmp_dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(fuzz_tmp_dir, sizeof fuzz_tmp_dir, "%s/mnfuzz.XXXXXX", t && *t ? t : "/tmp");
        FUZZ_CHECK(mkdtemp(fuzz_tmp_dir) != NULL, "cannot make %s", fuzz_tmp_dir);
        atexit(fuzz_tmp_cleanup);
        fuzz_check_cleanup = fuzz_tmp_cleanup;
    }
    return fuzz_tmp_dir;
}

/* path = <folder>/name, in buf[PATH_MAX]. */
static inline const char *fuzz_tmp_path(char *buf, const char *name)
{
    snprintf(buf, PATH_MAX, "%s/%s", fuzz_tmp(), name);
    return buf;
}

/* Writes n bytes to <folder>/name; returns the path (in buf[PATH_MAX]). */
static inline const char *fuzz_tmp_write(char *buf, const char *name, const void *p, size_t n)
{
    fuzz_tmp_path(buf, name);
    FILE *f = fopen(buf, "wb");
    FUZZ_CHECK(f != NULL, "cannot write %s", buf);
    FUZZ_CHECK(fwrite(p, 1, n, f) == n && fclose(f) == 0, "cannot write %s", buf);
    return buf;
}

#endif
