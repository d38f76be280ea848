/* test_data.c - corpus arguments: folders searched recursively in name order, list files with
 * paths relative to the list, missing and unreadable files recorded with the reason. */
#include "testutil.h"

#include <sys/stat.h>

#include "data.h"

static char dir[64];

static void copy_file(const char *from_rel, const char *to)
{
    char src[512];
    mn_test_path(src, sizeof src, from_rel);
    FILE *f = fopen(src, "rb");
    assert_non_null(f);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_int_equal(mn_test_write(to, buf, n), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mn_data_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    char p[256];
    snprintf(p, sizeof p, "%s/sub", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/sub/deeper", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/b_reel.mid", dir);
    copy_file("tests/fixtures/midi/reel_pickup.mid", p);
    snprintf(p, sizeof p, "%s/sub/a_jig.MID", dir);
    copy_file("tests/fixtures/midi/jig_68.mid", p);
    snprintf(p, sizeof p, "%s/sub/deeper/waltz.midi", dir);
    copy_file("tests/fixtures/midi/waltz_change.mid", p);
    snprintf(p, sizeof p, "%s/sub/broken.mid", dir);
    copy_file("tests/fixtures/midi/hostile_bad_magic.mid", p);
    snprintf(p, sizeof p, "%s/notes.txt.bak", dir); /* neither MIDI nor a list: ignored */
    assert_int_equal(mn_test_write(p, "x", 1), 0);
    snprintf(p, sizeof p, "%s/sub/list.txt", dir);
    const char *list = "# a comment\n\na_jig.MID\r\n  deeper/waltz.midi\nmissing.mid\n";
    assert_int_equal(mn_test_write(p, list, strlen(list)), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void free_paths(char **p, size_t n)
{
    for (size_t i = 0; i < n; i++) mn_free(p[i]);
    mn_free(p);
}

static void test_folder_is_recursive_and_sorted(void **state)
{
    (void)state;
    char err[MN_ERR_LEN], **p;
    size_t n;
    const char *args[] = {dir};
    assert_int_equal(mn_data_expand(args, 1, &p, &n, err), MN_OK);
    assert_int_equal(n, 4); /* b_reel, sub/a_jig, sub/broken, sub/deeper/waltz; no .txt, .bak */
    assert_non_null(strstr(p[0], "/b_reel.mid"));
    assert_non_null(strstr(p[1], "/sub/a_jig.MID"));
    assert_non_null(strstr(p[2], "/sub/broken.mid"));
    assert_non_null(strstr(p[3], "/sub/deeper/waltz.midi"));
    free_paths(p, n);
}

static void test_list_paths_are_relative_to_the_list(void **state)
{
    (void)state;
    char err[MN_ERR_LEN], **p, list[256];
    size_t n;
    snprintf(list, sizeof list, "%s/sub/list.txt", dir);
    const char *args[] = {list};
    assert_int_equal(mn_data_expand(args, 1, &p, &n, err), MN_OK);
    assert_int_equal(n, 3);
    char want[256];
    snprintf(want, sizeof want, "%s/sub/a_jig.MID", dir);
    assert_string_equal(p[0], want);
    snprintf(want, sizeof want, "%s/sub/deeper/waltz.midi", dir);
    assert_string_equal(p[1], want);
    free_paths(p, n);
    const char *missing[] = {"/nonexistent/list.txt"};
    assert_int_equal(mn_data_expand(missing, 1, &p, &n, err), MN_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/list.txt"));
    assert_null(p);
}

static void test_corpus_records_skipped_files(void **state)
{
    (void)state;
    char err[MN_ERR_LEN], list[256], empty[256];
    snprintf(list, sizeof list, "%s/sub/list.txt", dir);
    mn_test_path(empty, sizeof empty, "tests/fixtures/midi/hostile_empty.mid");
    const char *args[] = {dir, list, empty};
    mn_corpus c;
    assert_int_equal(mn_corpus_load(&c, args, 3, NULL, NULL, NULL, err), MN_OK);
    /* folder: 3 good + broken; list: 2 good + missing; then the empty file */
    assert_int_equal(c.n, 5);
    assert_int_equal(c.n_skipped, 3);
    size_t events = 0;
    for (size_t i = 0; i < c.n; i++) {
        assert_true(c.mels[i].n > 0);
        events += c.mels[i].n;
    }
    assert_int_equal(events, c.n_events);
    assert_non_null(strstr(c.skipped[0].path, "broken.mid"));
    assert_true(strlen(c.skipped[0].reason) > 0);
    assert_null(strstr(c.skipped[0].reason, "broken.mid")); /* the reason, not the path again */
    assert_non_null(strstr(c.skipped[1].path, "missing.mid"));
    assert_non_null(strstr(c.skipped[2].path, "hostile_empty.mid"));
    mn_corpus_free(&c);
    assert_int_equal(c.n, 0);
    mn_corpus_free(&c);
    mn_corpus_free(NULL);
}

/* A folder with symbolic links back to itself and its parent, a link to a file and a hard
 * link: each folder is entered once and each file listed once, under its first name. */
static void make_loops(char *loops, size_t n, int two_self_links)
{
    snprintf(loops, n, "%s/loops", dir);
    char p[512], q[512];
    mkdir(loops, 0755);
    snprintf(p, sizeof p, "%s/a.mid", loops);
    copy_file("tests/fixtures/midi/reel_pickup.mid", p);
    snprintf(p, sizeof p, "%s/b.mid", loops);
    copy_file("tests/fixtures/midi/jig_68.mid", p);
    snprintf(p, sizeof p, "%s/self1", loops);
    assert_int_equal(symlink(".", p), 0);
    if (two_self_links) {
        snprintf(p, sizeof p, "%s/self2", loops);
        assert_int_equal(symlink(".", p), 0);
        snprintf(p, sizeof p, "%s/alias.mid", loops);
        assert_int_equal(symlink("a.mid", p), 0);
        snprintf(p, sizeof p, "%s/b.mid", loops);
        snprintf(q, sizeof q, "%s/hard.mid", loops);
        assert_int_equal(link(p, q), 0);
        snprintf(p, sizeof p, "%s/sub", loops);
        mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/sub/up", loops);
        assert_int_equal(symlink("..", p), 0);
        snprintf(p, sizeof p, "%s/sub/c.mid", loops);
        copy_file("tests/fixtures/midi/waltz_change.mid", p);
    }
}

static void remove_loops(const char *loops)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", loops);
    assert_int_equal(system(cmd), 0);
}

static void test_self_link_counts_each_file_once(void **state)
{
    (void)state;
    char loops[256], err[MN_ERR_LEN], **p;
    size_t n;
    make_loops(loops, sizeof loops, 0);
    const char *args[] = {loops};
    assert_int_equal(mn_data_expand(args, 1, &p, &n, err), MN_OK);
    if (n != 2) print_error("%zu paths, the first %s\n", n, n ? p[0] : "");
    assert_int_equal(n, 2);
    assert_non_null(strstr(p[0], "/loops/a.mid"));
    assert_non_null(strstr(p[1], "/loops/b.mid"));
    free_paths(p, n);
    remove_loops(loops);
}

static void test_link_loops_visit_each_folder_once(void **state)
{
    (void)state;
    char loops[256], err[MN_ERR_LEN], **p;
    size_t n;
    make_loops(loops, sizeof loops, 1);
    const char *args[] = {loops};
    assert_int_equal(mn_data_expand(args, 1, &p, &n, err), MN_OK);
    assert_int_equal(n, 3); /* a, b, sub/c: not alias.mid, hard.mid, self1/..., sub/up/... */
    assert_non_null(strstr(p[0], "/loops/a.mid"));
    assert_non_null(strstr(p[1], "/loops/b.mid"));
    assert_non_null(strstr(p[2], "/loops/sub/c.mid"));
    free_paths(p, n);
    mn_corpus c;
    assert_int_equal(mn_corpus_load(&c, args, 1, NULL, NULL, NULL, err), MN_OK);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.n_skipped, 0);
    mn_corpus_free(&c);
    /* the walk that starts in sub reaches the parent through up, once */
    char sub[300];
    snprintf(sub, sizeof sub, "%s/sub", loops);
    const char *args2[] = {sub};
    assert_int_equal(mn_data_expand(args2, 1, &p, &n, err), MN_OK);
    assert_int_equal(n, 3);
    assert_non_null(strstr(p[0], "/sub/c.mid"));
    assert_non_null(strstr(p[1], "/sub/up/a.mid"));
    assert_non_null(strstr(p[2], "/sub/up/b.mid"));
    free_paths(p, n);
    remove_loops(loops);
}

static void progress(size_t done, size_t total, void *ctx)
{
    size_t *last = ctx;
    assert_true(done == *last + 1 && done <= total);
    *last = done;
}

static void test_nothing_usable_is_empty(void **state)
{
    (void)state;
    char err[MN_ERR_LEN], broken[256];
    snprintf(broken, sizeof broken, "%s/sub/broken.mid", dir);
    const char *args[] = {broken, "/nonexistent.mid"};
    mn_corpus c;
    size_t last = 0;
    assert_int_equal(mn_corpus_load(&c, args, 2, NULL, progress, &last, err), MN_ERR_EMPTY);
    assert_int_equal(last, 2);
    assert_int_equal(c.n, 0);
    assert_int_equal(c.n_skipped, 2); /* still listed, so callers can say why */
    assert_non_null(strstr(err, "no usable MIDI file"));
    mn_corpus_free(&c);
}

/* Writes a format-0 MIDI file of n_steps quarter notes, each a chord of the pitches
 * top - 4 * v for v < voices (one note per voice). */
static void write_chords(const char *path, int n_steps, int voices, int top)
{
    uint8_t b[4096];
    size_t n = 0;
    static const uint8_t hdr[] = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0, 96,
                                  'M', 'T', 'r', 'k', 0, 0, 0, 0};
    memcpy(b, hdr, sizeof hdr);
    n = sizeof hdr;
    for (int i = 0; i < n_steps; i++) {
        int p = top + (i % 4) * 2;
        for (int v = 0; v < voices; v++) {
            b[n++] = 0;
            b[n++] = 0x90;
            b[n++] = (uint8_t)(p - 4 * v);
            b[n++] = 80;
        }
        for (int v = 0; v < voices; v++) {
            b[n++] = v ? 0 : 96; /* a quarter note later */
            b[n++] = 0x80;
            b[n++] = (uint8_t)(p - 4 * v);
            b[n++] = 0;
        }
    }
    static const uint8_t eot[] = {0, 0xFF, 0x2F, 0};
    memcpy(b + n, eot, sizeof eot);
    n += sizeof eot;
    uint32_t tl = (uint32_t)(n - sizeof hdr);
    b[18] = (uint8_t)(tl >> 24);
    b[19] = (uint8_t)(tl >> 16);
    b[20] = (uint8_t)(tl >> 8);
    b[21] = (uint8_t)tl;
    assert_int_equal(mn_test_write(path, b, n), 0);
}

/* Polyphonic files: reduced to the top voice and listed with what they lost, or skipped when
 * the top voice keeps less than MN_DATA_MIN_KEPT of the notes; a melody is not listed. */
static void test_polyphonic_files_are_reported(void **state)
{
    (void)state;
    char d[64], mono[128], duo[128], chords[128], err[MN_ERR_LEN];
    snprintf(d, sizeof d, "/tmp/mn_poly_XXXXXX");
    assert_non_null(mkdtemp(d));
    snprintf(mono, sizeof mono, "%s/mono.mid", d);
    snprintf(duo, sizeof duo, "%s/duo.mid", d);
    snprintf(chords, sizeof chords, "%s/piano.mid", d);
    write_chords(mono, 8, 1, 72);
    write_chords(duo, 8, 2, 72);    /* melody and a second voice: half the notes kept */
    write_chords(chords, 8, 3, 72); /* three-note chords: a third kept */
    const char *args[] = {d};
    mn_corpus c;
    assert_int_equal(mn_corpus_load(&c, args, 1, NULL, NULL, NULL, err), MN_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.n_reduced, 1);
    assert_string_equal(c.reduced[0].path, duo);
    assert_int_equal(c.reduced[0].notes_in, 16);
    assert_int_equal(c.reduced[0].notes_kept, 8);
    assert_int_equal(c.n_skipped, 1);
    assert_string_equal(c.skipped[0].path, chords);
    assert_non_null(strstr(c.skipped[0].reason, "polyphonic: its top voice keeps 8 of 24 notes"));
    for (size_t i = 0; i < c.n; i++) {
        assert_int_equal(c.mels[i].n, 8);
        for (size_t k = 0; k < 8; k++) assert_int_equal(c.mels[i].ev[k].pitch, 72 + (int)(k % 4) * 2);
    }
    mn_corpus_free(&c);
    unlink(mono);
    unlink(duo);
    unlink(chords);
    rmdir(d);
}

/* An empty folder expands to no paths (and sorts no list of names). */
static void test_empty_folder(void **state)
{
    (void)state;
    char empty[64], err[MN_ERR_LEN], **p;
    snprintf(empty, sizeof empty, "/tmp/mn_empty_XXXXXX");
    assert_non_null(mkdtemp(empty));
    size_t n = 99;
    const char *args[] = {empty};
    assert_int_equal(mn_data_expand(args, 1, &p, &n, err), MN_OK);
    assert_int_equal(n, 0);
    free_paths(p, n);
    assert_int_equal(rmdir(empty), 0);
}

/* A path too long for the reader's message to hold the fault is still skipped with a reason:
 * the kind of error, not an empty or cut-off path. */
static void test_long_path_skip_reason(void **state)
{
    (void)state;
    char top[64], list[128], err[MN_ERR_LEN];
    snprintf(top, sizeof top, "/tmp/mn_long_XXXXXX");
    assert_non_null(mkdtemp(top));
    snprintf(list, sizeof list, "%s/list.txt", top);
    /* entries whose full paths are 254 (the message is cut right after "path:") and 300 bytes */
    char text[700];
    size_t k = 0;
    const size_t want[2] = {254, 300};
    for (int e = 0; e < 2; e++) {
        size_t n = want[e] - strlen(top) - 1 - 4;
        for (size_t i = 0; i < n; i++) text[k++] = i % 100 == 99 ? '/' : 'a' + e;
        memcpy(text + k, ".mid\n", 5);
        k += 5;
    }
    assert_int_equal(mn_test_write(list, text, k), 0);
    const char *args[] = {list};
    mn_corpus c;
    assert_int_equal(mn_corpus_load(&c, args, 1, NULL, NULL, NULL, err), MN_ERR_EMPTY);
    assert_int_equal(c.n_skipped, 2);
    for (int e = 0; e < 2; e++) {
        assert_int_equal(strlen(c.skipped[e].path), want[e]);
        if (!c.skipped[e].reason[0] || strstr(c.skipped[e].reason, "aaaa") ||
            strstr(c.skipped[e].reason, "bbbb"))
            fail_msg("path of %zu bytes skipped for '%s'", want[e], c.skipped[e].reason);
    }
    mn_corpus_free(&c);
    assert_int_equal(unlink(list), 0);
    assert_int_equal(rmdir(top), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folder_is_recursive_and_sorted),
        cmocka_unit_test(test_list_paths_are_relative_to_the_list),
        cmocka_unit_test(test_corpus_records_skipped_files),
        cmocka_unit_test(test_nothing_usable_is_empty),
        cmocka_unit_test(test_self_link_counts_each_file_once),
        cmocka_unit_test(test_link_loops_visit_each_folder_once),
        cmocka_unit_test(test_polyphonic_files_are_reported),
        cmocka_unit_test(test_empty_folder),
        cmocka_unit_test(test_long_path_skip_reason),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
