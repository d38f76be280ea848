/* test_base.c - error formatting, the allocation hook, atomic file writing (a failed write
 * leaves the target as it was and no temporary file behind) and whole-file reading (each fault
 * gives its one message). */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "copyidx.h"
#include "data.h"
#include "midi.h"
#include "model.h"
#include "ngram.h"
#include "sha256.h"
#include "svg.h"
#include "train.h"

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
    mode_t old_mask = umask(022);
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
    umask(old_mask);
}

static void write_text(const char *path, const char *text)
{
    char *tmp, err[MN_ERR_LEN];
    FILE *f = mn_atomic_open(path, &tmp, err);
    if (!f) fail_msg("%s", err);
    fputs(text, f);
    if (mn_atomic_close(f, tmp, path, 1, err) != MN_OK) fail_msg("%s", err);
}

static void rm_rf(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* A new file gets 0666 less the umask; a replaced file keeps its mode. */
static void test_atomic_mode_follows_umask_and_the_old_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/mn_base_XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a.txt", dir);
    mode_t old_mask = umask(077);
    write_text(path, "private");
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    umask(002);
    unlink(path);
    write_text(path, "group");
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0664);
    assert_int_equal(chmod(path, 0640), 0);
    write_text(path, "again");
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);
    umask(old_mask);
    rm_rf(dir);
}

/* Any legal file name can be written (the temporary name does not grow it), and a long path
 * still leaves room for the cause in the message. */
static void test_atomic_long_names(void **state)
{
    (void)state;
    char dir[] = "/tmp/mn_base_XXXXXX", path[600], err[MN_ERR_LEN], buf[64];
    assert_non_null(mkdtemp(dir));
    int n = snprintf(path, sizeof path, "%s/", dir);
    memset(path + n, 'n', 255);
    path[n + 255] = 0;
    write_text(path, "long");
    read_all(path, buf, sizeof buf);
    assert_string_equal(buf, "long");
    assert_int_equal(count_entries(dir), 1);
    rm_rf(dir);

    char deep[600] = "/nonexistent-dir/";
    memset(deep + 17, 'd', 400);
    deep[417] = 0;
    char *tmp;
    assert_null(mn_atomic_open(deep, &tmp, err));
    printf("    %s\n", err);
    assert_non_null(strstr(err, strerror(ENOENT)));
    assert_non_null(strstr(err, "ddd"));
}

/* A target that is a symbolic link is written through: the link stays, the file it names
 * (also when it does not exist yet) gets the new bytes. */
static void test_atomic_writes_through_links(void **state)
{
    (void)state;
    char dir[] = "/tmp/mn_base_XXXXXX", real[64], link_[64], dangling[64], buf[64];
    assert_non_null(mkdtemp(dir));
    char sub[80];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(real, sizeof real, "%s/sub/real.txt", dir);
    snprintf(link_, sizeof link_, "%s/link.txt", dir);
    write_text(real, "old");
    assert_int_equal(symlink("sub/real.txt", link_), 0);
    write_text(link_, "new");
    struct stat sb;
    assert_int_equal(lstat(link_, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    read_all(real, buf, sizeof buf);
    assert_string_equal(buf, "new");
    assert_int_equal(count_entries(dir), 2);
    assert_int_equal(count_entries(sub), 1);
    snprintf(dangling, sizeof dangling, "%s/dangling.txt", dir);
    assert_int_equal(symlink("sub/later.txt", dangling), 0);
    write_text(dangling, "created");
    assert_int_equal(lstat(dangling, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    snprintf(real, sizeof real, "%s/sub/later.txt", dir);
    read_all(real, buf, sizeof buf);
    assert_string_equal(buf, "created");
    rm_rf(dir);
}

/* A folder as the target is refused up front (mn_atomic_check too), leaving nothing behind. */
static void test_atomic_refuses_a_folder(void **state)
{
    (void)state;
    char dir[] = "/tmp/mn_base_XXXXXX", err[MN_ERR_LEN], *tmp;
    assert_non_null(mkdtemp(dir));
    assert_null(mn_atomic_open(dir, &tmp, err));
    assert_non_null(strstr(err, "it is a folder"));
    assert_int_equal(mn_atomic_check(dir, err), MN_ERR_IO);
    assert_non_null(strstr(err, "it is a folder"));
    char path[64];
    snprintf(path, sizeof path, "%s/x.mnet", dir);
    assert_int_equal(mn_atomic_check(path, err), MN_OK);
    assert_int_equal(count_entries(dir), 0);
    assert_int_equal(mn_atomic_check("/nonexistent-dir/x.mnet", err), MN_ERR_IO);
    assert_non_null(strstr(err, strerror(ENOENT)));
    rm_rf(dir);
}

/* A write that fails half way (here: the file size limit, as a full disk would) reports the
 * cause, for the model writer as for a plain file, and keeps the old file. */
static void test_atomic_failed_write_names_the_cause(void **state)
{
    (void)state;
    char dir[] = "/tmp/mn_base_XXXXXX", path[64], err[MN_ERR_LEN], buf[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.mnet", dir);
    write_text(path, "old");
    mn_model_config cfg = {1, 64, 16, 0, {2, {12, 24}}};
    size_t n = mn_model_param_count(&cfg);
    float *p = calloc(n, sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = 0.01f * (float)(i % 7);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 16384; /* the model is about 200 KB */
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    mn_status st = mn_model_save(path, &cfg, p, NULL, 0, err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_handler);
    printf("    %s\n", err);
    assert_int_equal(st, MN_ERR_IO);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, strerror(EFBIG)));
    read_all(path, buf, sizeof buf);
    assert_string_equal(buf, "old");
    assert_int_equal(count_entries(dir), 1);
    free(p);
    rm_rf(dir);
}

/*=== reading files ==========================================================================*/

static void *no_malloc(size_t n, void *ctx) { (void)n; (void)ctx; return NULL; }
static void *no_realloc(void *p, size_t n, void *ctx) { (void)p; (void)n; (void)ctx; return NULL; }
static void libc_free(void *p, void *ctx) { (void)ctx; free(p); }

static void fail_allocs(void)
{
    static const mn_allocator a = {no_malloc, no_realloc, libc_free, NULL};
    mn_set_allocator(&a);
}

static void write_bytes(const char *path, const char *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* A file is read whole, NUL-terminated; the limit is inclusive; an empty file is refused only
 * when asked. */
static void test_read_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/mn_base_XXXXXX", path[64], err[MN_ERR_LEN];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a.bin", dir);
    write_bytes(path, "ab\0cd", 5);
    uint8_t *b;
    size_t n;
    assert_int_equal(mn_read_file(path, 5, 0, &b, &n, err), MN_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(b, "ab\0cd", 6);
    mn_free(b);
    assert_int_equal(mn_read_file(path, 4, 0, &b, &n, err), MN_ERR_LIMIT);
    assert_null(b);
    assert_int_equal(n, 0);
    char want[MN_ERR_LEN];
    snprintf(want, sizeof want, "%s: 5 bytes, larger than the limit of 4", path);
    assert_string_equal(err, want);
    write_bytes(path, "", 0);
    assert_int_equal(mn_read_file(path, 4, 0, &b, &n, err), MN_OK);
    assert_int_equal(n, 0);
    assert_non_null(b);
    assert_int_equal(b[0], 0);
    mn_free(b);
    assert_int_equal(mn_read_file(path, 4, MN_READ_NONEMPTY, &b, &n, err), MN_ERR_FORMAT);
    snprintf(want, sizeof want, "%s: the file is empty", path);
    assert_string_equal(err, want);
    assert_null(b);
    assert_int_equal(mn_read_file(NULL, 4, 0, &b, &n, err), MN_ERR_ARG);
    assert_int_equal(mn_read_file("", 4, 0, &b, &n, err), MN_ERR_ARG);
    assert_string_equal(err, "no file name to read");
    /* out of memory: refused with the size, nothing kept */
    write_bytes(path, "abc", 3);
    fail_allocs();
    mn_status st = mn_read_file(path, 4, 0, &b, &n, err);
    mn_set_allocator(NULL);
    assert_int_equal(st, MN_ERR_NOMEM);
    snprintf(want, sizeof want, "%s: out of memory for 3 bytes", path);
    assert_string_equal(err, want);
    assert_null(b);
    rm_rf(dir);
}

/* A missing file, a folder, a pipe and a device: one message each, errno the cause, and a pipe
 * nobody writes to or an endless device is never read (the alarm fails a read that hangs). */
static void test_read_file_refuses(void **state)
{
    (void)state;
    char dir[] = "/tmp/mn_base_XXXXXX", path[64], err[MN_ERR_LEN], want[MN_ERR_LEN];
    assert_non_null(mkdtemp(dir));
    uint8_t *b = (uint8_t *)1;
    size_t n = 1;
    snprintf(path, sizeof path, "%s/none.mid", dir);
    errno = 0;
    assert_int_equal(mn_read_file(path, 100, 0, &b, &n, err), MN_ERR_IO);
    assert_int_equal(errno, ENOENT);
    assert_null(b);
    assert_int_equal(n, 0);
    snprintf(want, sizeof want, "%s: cannot open: %s", path, strerror(ENOENT));
    assert_string_equal(err, want);

    assert_int_equal(mn_read_file(dir, 100, 0, &b, &n, err), MN_ERR_IO);
    assert_int_equal(errno, EISDIR);
    snprintf(want, sizeof want, "%s: cannot read: it is a folder", dir);
    assert_string_equal(err, want);

    snprintf(path, sizeof path, "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    alarm(10);
    assert_int_equal(mn_read_file(path, 100, 0, &b, &n, err), MN_ERR_IO);
    snprintf(want, sizeof want, "%s: cannot read: not a regular file", path);
    assert_string_equal(err, want);
    assert_int_equal(mn_read_file("/dev/zero", SIZE_MAX, 0, &b, &n, err), MN_ERR_IO);
    assert_string_equal(err, "/dev/zero: cannot read: not a regular file");
    alarm(0);
    assert_null(b);

    /* a long path keeps the fault in the message */
    char lp[400];
    memset(lp, 'x', sizeof lp - 1);
    lp[0] = '/';
    lp[sizeof lp - 1] = 0;
    assert_int_equal(mn_read_file(lp, 100, 0, &b, &n, err), MN_ERR_IO);
    assert_int_equal(strncmp(err, "...", 3), 0);
    assert_non_null(strstr(err, "cannot open: "));
    rm_rf(dir);
}

/* Runs check(arg) in a child process that is not root, since root reads any file, and fails
 * unless it returns 0; skipped with a message where giving up root is not allowed. */
static void as_unprivileged(int (*check)(const void *), const void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(77);
        _exit(check(arg));
    }
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws));
    if (WEXITSTATUS(ws) == 77)
        printf("    skipped: running as root, and cannot give up root to test permissions\n");
    else
        assert_int_equal(WEXITSTATUS(ws), 0);
}

/* The file at path (char *) has no read permission: "Permission denied". */
static int locked_file_refused(const void *arg)
{
    const char *path = arg;
    char err[MN_ERR_LEN], want[MN_ERR_LEN];
    uint8_t *b;
    size_t n;
    mn_status st = mn_read_file(path, 100, 0, &b, &n, err);
    snprintf(want, sizeof want, "%s: cannot open: %s", path, strerror(EACCES));
    if (st != MN_ERR_IO || errno != EACCES || strcmp(err, want) != 0) {
        fprintf(stderr, "    got status %d: %s\n", (int)st, err);
        return 1;
    }
    return 0;
}

/* A file without read permission: "Permission denied". Root reads any file, so as root the
 * check runs in a child that has given up root (skipped where that is not allowed). */
static void test_read_file_permission(void **state)
{
    (void)state;
    char dir[] = "/tmp/mn_base_XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/locked.mid", dir);
    write_bytes(path, "MThd", 4);
    assert_int_equal(chmod(path, 0), 0);
    as_unprivileged(locked_file_refused, path);
    rm_rf(dir);
}

/* A file that changes size between open and read is refused, either way. */
static void test_infile_changed_while_read(void **state)
{
    (void)state;
    char dir[] = "/tmp/mn_base_XXXXXX", path[64], err[MN_ERR_LEN], want[MN_ERR_LEN], buf[16];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.mnet", dir);
    write_bytes(path, "12345678", 8);
    mn_infile f;
    assert_int_equal(mn_infile_open(&f, path, 100, 0, err), MN_OK);
    assert_int_equal(f.size, 8);
    assert_int_equal(mn_infile_pread(&f, buf, 3, 2, err), MN_OK);
    assert_memory_equal(buf, "345", 3);
    write_bytes(path, "123456789", 9); /* same inode, now longer */
    assert_int_equal(mn_infile_read_all(&f, buf, err), MN_ERR_IO);
    snprintf(want, sizeof want, "%s: cannot read: the file grew past 8 bytes while being read",
             path);
    assert_string_equal(err, want);
    assert_int_equal(truncate(path, 5), 0);
    assert_int_equal(mn_infile_read_all(&f, buf, err), MN_ERR_IO);
    snprintf(want, sizeof want, "%s: cannot read: the file shrank from 8 to 5 bytes while being "
             "read", path);
    assert_string_equal(err, want);
    assert_int_equal(mn_infile_pread(&f, buf, 4, 3, err), MN_ERR_IO);
    mn_infile_close(&f);
    assert_int_equal(f.fd, -1);
    mn_infile_close(&f); /* a no-op */
    assert_int_equal(mn_infile_open(&f, dir, 100, 0, err), MN_ERR_IO);
    assert_int_equal(f.fd, -1);
    mn_infile_close(&f);
    rm_rf(dir);
}

/* Every reader of a file, as its callers use it. */
static char svg_out[64];
static mn_status rd_model(const char *p, char *err)
{
    mn_model *m;
    mn_status st = mn_model_load(p, &m, err);
    if (!st) mn_model_free(m);
    return st;
}
static mn_status rd_midi(const char *p, char *err)
{
    mn_melody m;
    mn_status st = mn_midi_read_file(p, NULL, &m, err);
    mn_melody_free(&m);
    return st;
}
static mn_status rd_copyidx(const char *p, char *err)
{
    mn_copyidx *ix;
    mn_status st = mn_copyidx_load(p, &ix, err);
    mn_copyidx_free(ix);
    return st;
}
static mn_status rd_ngram(const char *p, char *err)
{
    mn_ngram *g;
    mn_status st = mn_ngram_load(p, &g, err);
    mn_ngram_free(g);
    return st;
}
static mn_status rd_checkpoint(const char *p, char *err)
{
    mn_train_config cfg;
    return mn_train_checkpoint_config(p, &cfg, err);
}
static mn_status rd_log(const char *p, char *err) { return mn_svg_learning_curve(p, svg_out, err); }
static mn_status rd_list(const char *p, char *err)
{
    char **paths;
    size_t n;
    mn_status st = mn_data_expand(&p, 1, &paths, &n, err);
    for (size_t i = 0; !st && i < n; i++) mn_free(paths[i]);
    if (!st) mn_free(paths);
    return st;
}
static mn_status rd_sha256(const char *p, char *err)
{
    char hex[65];
    return mn_sha256_file(p, hex, err);
}

static const struct reader {
    const char *name, *ext;
    mn_status (*read)(const char *path, char *err);
    int nonempty, has_limit;
} readers[] = {
    {"model", ".mnet", rd_model, 1, 0},       {"MIDI", ".mid", rd_midi, 1, 1},
    {"copy index", ".mncopy", rd_copyidx, 1, 1}, {"n-gram", ".ngram", rd_ngram, 1, 1},
    {"checkpoint", ".ckpt", rd_checkpoint, 1, 1}, {"log", ".csv", rd_log, 1, 1},
    {"list", ".txt", rd_list, 0, 1},          {"sha256", ".bin", rd_sha256, 0, 0},
};
#define N_READERS (sizeof readers / sizeof *readers)

/* One fault, one message, whichever reader meets it: "<path>: <fault>". */
static void expect_fault(const struct reader *r, const char *path, mn_status code,
                         const char *fault)
{
    char err[MN_ERR_LEN] = "", want[MN_ERR_LEN];
    mn_status st = r->read(path, err);
    snprintf(want, sizeof want, "%s: %s", path, fault);
    if (st != code || strcmp(err, want) != 0)
        fail_msg("%s reader: status %d, expected %d:\n  got  '%s'\n  want '%s'", r->name, st,
                 code, err, want);
}

/* Every reader refuses dir/locked<ext> (dir: char *), which has no read permission, with the
 * same words. */
static int locked_files_refused(const void *arg)
{
    const char *dir = arg;
    int bad = 0;
    for (size_t i = 0; i < N_READERS; i++) {
        char p[128], err[MN_ERR_LEN] = "", want[MN_ERR_LEN];
        snprintf(p, sizeof p, "%s/locked%s", dir, readers[i].ext);
        snprintf(want, sizeof want, "%s: cannot open: %s", p, strerror(EACCES));
        if (readers[i].read(p, err) != MN_ERR_IO || strcmp(err, want) != 0) {
            fprintf(stderr, "    %s reader: got '%s', want '%s'\n", readers[i].name, err, want);
            bad = 1;
        }
    }
    return bad;
}

static void test_every_reader_speaks_alike(void **state)
{
    (void)state;
    char dir[] = "/tmp/mn_base_XXXXXX", path[128], sub[128], fault[128];
    assert_non_null(mkdtemp(dir));
    snprintf(svg_out, sizeof svg_out, "%s/curve.svg", dir);
    snprintf(sub, sizeof sub, "%s/folder", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(fault, sizeof fault, "cannot open: %s", strerror(ENOENT));
    alarm(20); /* a reader that waits on the pipe fails instead of hanging */
    for (size_t i = 0; i < N_READERS; i++) {
        const struct reader *r = &readers[i];
        snprintf(path, sizeof path, "%s/none%s", dir, r->ext);
        expect_fault(r, path, MN_ERR_IO, fault);
        if (strcmp(r->ext, ".txt") != 0) /* a folder argument is walked, not read as a list */
            expect_fault(r, sub, MN_ERR_IO, "cannot read: it is a folder");
        snprintf(path, sizeof path, "%s/pipe%s", dir, r->ext);
        assert_int_equal(mkfifo(path, 0600), 0);
        expect_fault(r, path, MN_ERR_IO, "cannot read: not a regular file");
        unlink(path);
        snprintf(path, sizeof path, "%s/empty%s", dir, r->ext);
        write_bytes(path, "", 0);
        if (r->nonempty) expect_fault(r, path, MN_ERR_FORMAT, "the file is empty");
        unlink(path);
        if (r->has_limit) { /* a sparse terabyte: over every reader's limit, never read */
            snprintf(path, sizeof path, "%s/huge%s", dir, r->ext);
            write_bytes(path, "", 0);
            assert_int_equal(truncate(path, (off_t)1 << 40), 0);
            char err[MN_ERR_LEN] = "", want[MN_ERR_LEN];
            assert_int_equal(r->read(path, err), MN_ERR_LIMIT);
            snprintf(want, sizeof want, "%s: 1099511627776 bytes, larger than the limit of ", path);
            if (strncmp(err, want, strlen(want)) != 0)
                fail_msg("%s reader: got '%s', want '%s...'", r->name, err, want);
            unlink(path);
        }
    }
    alarm(0);
    /* no read permission: in a child that is not root (root reads anything) */
    assert_int_equal(chmod(dir, 0755), 0);
    for (size_t i = 0; i < N_READERS; i++) {
        snprintf(path, sizeof path, "%s/locked%s", dir, readers[i].ext);
        write_bytes(path, "x", 1);
        assert_int_equal(chmod(path, 0), 0);
    }
    as_unprivileged(locked_files_refused, dir);
    rm_rf(dir);
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
        cmocka_unit_test(test_atomic_mode_follows_umask_and_the_old_file),
        cmocka_unit_test(test_atomic_long_names),
        cmocka_unit_test(test_atomic_writes_through_links),
        cmocka_unit_test(test_atomic_refuses_a_folder),
        cmocka_unit_test(test_atomic_failed_write_names_the_cause),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_read_file_refuses),
        cmocka_unit_test(test_read_file_permission),
        cmocka_unit_test(test_infile_changed_while_read),
        cmocka_unit_test(test_every_reader_speaks_alike),
        cmocka_unit_test(test_errf_and_alloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
