/* fuzz_data.c - libFuzzer harness for corpus arguments (mn_data_expand, mn_corpus_load): list
 * files and folder expansion. A private folder holds a small generated tree: MIDI files that
 * read (some named .MIDI, some hidden), one that does not, one with no notes, a text file,
 * nested and empty folders, a symlink to a folder and a list file. The input is written as a
 * list file in that folder and expanded; its first lines that stay inside the folder (no
 * "..", not absolute) are also passed as arguments of their own, so folders and other lists
 * are expanded as arguments too. When every path found stays inside the folder the corpus is
 * loaded as well. Checks: expansion is repeatable and yields strings; what a folder gives are
 * MIDI names; loading accounts for every path (read or skipped with a one-line reason) and
 * counts its events; a failure says why. */
#include "data.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "fuzz_check.h"
#include "fuzz_tmp.h"

#define MAX_ARGS 8

static size_t tmp_len;

static void put(const char *rel, const void *p, size_t n)
{
    char path[PATH_MAX];
    fuzz_tmp_write(path, rel, p, n);
}

static void dir(const char *rel)
{
    char path[PATH_MAX];
    FUZZ_CHECK(mkdir(fuzz_tmp_path(path, rel), 0755) == 0, "cannot make %s", path);
}

/* A format-0 MIDI file of n notes (n == 0: a track with no notes). */
static void put_midi(const char *rel, int n, int first)
{
    uint8_t b[256];
    static const uint8_t head[] = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0, 96,
                                   'M', 'T', 'r', 'k', 0, 0, 0, 0};
    size_t k = sizeof head;
    memcpy(b, head, k);
    for (int i = 0; i < n; i++) {
        const uint8_t ev[] = {0x00, 0x90, (uint8_t)(first + 2 * i), 100,
                              0x60, 0x80, (uint8_t)(first + 2 * i), 0};
        memcpy(b + k, ev, sizeof ev);
        k += sizeof ev;
    }
    const uint8_t end[] = {0x00, 0xFF, 0x2F, 0x00};
    memcpy(b + k, end, sizeof end);
    k += sizeof end;
    size_t tl = k - sizeof head;
    b[18] = (uint8_t)(tl >> 24), b[19] = (uint8_t)(tl >> 16);
    b[20] = (uint8_t)(tl >> 8), b[21] = (uint8_t)tl;
    put(rel, b, k);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    tmp_len = strlen(fuzz_tmp());
    dir("tunes");
    dir("tunes/sub");
    dir("tunes/sub/deeper");
    dir("empty");
    dir("lists");
    put_midi("x.mid", 3, 60);
    put_midi("tunes/a.mid", 4, 62);
    put_midi("tunes/B.MIDI", 2, 50);
    put_midi("tunes/.hidden.mid", 2, 70);
    put_midi("tunes/silent.mid", 0, 0);
    put("tunes/bad.mid", "MThd\0\0\0\6garbage", 15);
    put("tunes/readme.txt", "a.mid\n", strlen("a.mid\n"));
    put_midi("tunes/sub/c.mid", 5, 40);
    put_midi("tunes/sub/deeper/d.midi", 1, 80);
    static const char inner[] = "# a list in a folder\n../x.mid\nmissing.mid\n\n"
                                "  ../tunes/a.mid  \n";
    put("lists/inner.txt", inner, strlen(inner));
    char target[PATH_MAX], link[PATH_MAX];
    FUZZ_CHECK(symlink(fuzz_tmp_path(target, "tunes/sub"), fuzz_tmp_path(link, "link")) == 0,
               "cannot link %s", link);
    return 0;
}

/* Inside the private folder: under it, with no ".." component. */
static int inside(const char *p)
{
    return !strncmp(p, fuzz_tmp(), tmp_len) && p[tmp_len] == '/' && !strstr(p, "/../") &&
           strcmp(p + strlen(p) - (strlen(p) >= 3 ? 3 : 0), "/..") != 0;
}

static int is_midi_name(const char *p)
{
    size_t n = strlen(p);
    return (n >= 4 && !strcasecmp(p + n - 4, ".mid")) ||
           (n >= 5 && !strcasecmp(p + n - 5, ".midi"));
}

/* MIDI files below each folder of the tree, by path relative to the private folder */
static const struct {
    const char *rel;
    size_t n;
} folders[] = {
    {"tunes", 6}, {"tunes/sub", 2}, {"tunes/sub/deeper", 1}, {"empty", 0}, {"lists", 0},
};

/* An argument that names a folder expands to its MIDI files: below it, not hidden, with a
 * MIDI name, as many as the tree holds. */
static void check_folder(const char *arg)
{
    struct stat sb;
    if (stat(arg, &sb) != 0 || !S_ISDIR(sb.st_mode)) return;
    char **paths = NULL, err[MN_ERR_LEN] = "";
    size_t n = 0;
    FUZZ_CHECK(mn_data_expand(&arg, 1, &paths, &n, err) == MN_OK, "folder %s: %s", arg, err);
    size_t al = strlen(arg);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(!strncmp(paths[i], arg, al) && paths[i][al] == '/', "%s is not below %s",
                   paths[i], arg);
        FUZZ_CHECK(is_midi_name(paths[i]), "folder %s gave %s", arg, paths[i]);
        FUZZ_CHECK(!strstr(paths[i] + al, "/."), "folder %s gave the hidden %s", arg, paths[i]);
        mn_free(paths[i]);
    }
    mn_free(paths);
    char real[PATH_MAX], want[PATH_MAX];
    if (!realpath(arg, real)) return;
    for (size_t k = 0; k < sizeof folders / sizeof *folders; k++) {
        char known[PATH_MAX];
        if (realpath(fuzz_tmp_path(want, folders[k].rel), known) && !strcmp(real, known))
            FUZZ_CHECK(n == folders[k].n, "folder %s gave %zu files, holds %zu", arg, n,
                       folders[k].n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char list[PATH_MAX];
    fuzz_tmp_write(list, "in.txt", data, size);

    /* the arguments: the list, then its first lines that stay inside the folder */
    char *args[MAX_ARGS + 1];
    size_t n_args = 0;
    args[n_args++] = list;
    const uint8_t *p = data, *end = data + size;
    while (p < end && n_args <= MAX_ARGS) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 0 && len < 200 && p[0] != '/' && !memchr(p, '\0', len)) {
            char *a = mn_malloc(tmp_len + len + 2);
            FUZZ_CHECK(a != NULL, "out of memory");
            snprintf(a, tmp_len + len + 2, "%s/%.*s", fuzz_tmp(), (int)len, (const char *)p);
            if (!strstr(a, "..")) args[n_args++] = a;
            else mn_free(a);
        }
        p = nl ? nl + 1 : end;
    }

    char err[MN_ERR_LEN] = "";
    char **paths = NULL;
    size_t n_paths = 0;
    mn_status st = mn_data_expand((const char *const *)args, n_args, &paths, &n_paths, err);
    if (st != MN_OK) {
        FUZZ_CHECK(err[0] != '\0', "failure %s without a message", mn_status_name(st));
        FUZZ_CHECK(paths == NULL && n_paths == 0, "a failure left paths");
    } else {
        FUZZ_CHECK(n_paths == 0 || paths != NULL, "no paths");
        FUZZ_CHECK(n_paths <= MN_DATA_MAX_FILES, "%zu paths", n_paths);
        /* the same arguments expand to the same paths */
        char **again = NULL;
        size_t n_again = 0;
        FUZZ_CHECK(mn_data_expand((const char *const *)args, n_args, &again, &n_again, err) ==
                   MN_OK && n_again == n_paths, "a second expansion differs: %s", err);
        int all_inside = n_paths <= 64;
        for (size_t i = 0; i < n_paths; i++) {
            FUZZ_CHECK(paths[i] && !strcmp(paths[i], again[i]), "path %zu differs", i);
            all_inside &= inside(paths[i]);
            mn_free(again[i]);
        }
        mn_free(again);
        for (size_t i = 0; i < n_paths; i++) mn_free(paths[i]);
        mn_free(paths);
        for (size_t a = 1; a < n_args; a++) check_folder(args[a]);

        if (all_inside) {
            mn_corpus c;
            st = mn_corpus_load(&c, (const char *const *)args, n_args, NULL, NULL, NULL, err);
            if (st == MN_OK || st == MN_ERR_EMPTY) {
                FUZZ_CHECK(c.n + c.n_skipped == n_paths, "%zu read + %zu skipped of %zu paths",
                           c.n, c.n_skipped, n_paths);
                FUZZ_CHECK(st == MN_OK ? c.n > 0 : c.n == 0, "%s with %zu melodies",
                           mn_status_name(st), c.n);
                size_t events = 0;
                for (size_t i = 0; i < c.n; i++) {
                    FUZZ_CHECK(c.mels[i].n > 0 && c.paths[i], "melody %zu", i);
                    events += c.mels[i].n;
                }
                FUZZ_CHECK(events == c.n_events, "%zu events counted, %zu held", c.n_events,
                           events);
                for (size_t i = 0; i < c.n_skipped; i++)
                    FUZZ_CHECK(c.skipped[i].path && c.skipped[i].reason &&
                               c.skipped[i].reason[0] && !strchr(c.skipped[i].reason, '\n'),
                               "skipped file %zu has no one-line reason", i);
                mn_corpus_free(&c);
            } else {
                FUZZ_CHECK(err[0] != '\0', "failure %s without a message", mn_status_name(st));
            }
        }
    }
    for (size_t a = 1; a < n_args; a++) mn_free(args[a]);
    return 0;
}
