/* data.c - expands corpus arguments (files, folders, list files) into MIDI paths and reads them
 * into melodies, recording every file that could not be used and why. */
#include "data.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    char **v;
    size_t n, cap;
} strvec;

static mn_status strvec_push(strvec *s, const char *str, char *err)
{
    if (s->n >= MN_DATA_MAX_FILES)
        return mn_errf(err, MN_ERR_LIMIT, "more than %d files", MN_DATA_MAX_FILES);
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char **v = mn_realloc(s->v, cap * sizeof *v);
        if (!v) return mn_errf(err, MN_ERR_NOMEM, "out of memory listing files");
        s->v = v;
        s->cap = cap;
    }
    if (!(s->v[s->n] = mn_strdup(str))) return mn_errf(err, MN_ERR_NOMEM, "out of memory");
    s->n++;
    return MN_OK;
}

static void strvec_free(strvec *s)
{
    for (size_t i = 0; i < s->n; i++) mn_free(s->v[i]);
    mn_free(s->v);
    memset(s, 0, sizeof *s);
}

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcasecmp(s + n - m, suf) == 0;
}

static int is_midi_name(const char *s) { return has_suffix(s, ".mid") || has_suffix(s, ".midi"); }

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files and folders already seen in one walk, by device and inode: open addressing over a
 * power-of-two table, grown at half full. */
typedef struct {
    struct inode_key { dev_t dev; ino_t ino; } *v;
    size_t n, cap;
} inode_set;

/* Adds (dev, ino): 1 when it was new, 0 when already there, -1 when out of memory. */
static int inode_set_add(inode_set *s, dev_t dev, ino_t ino)
{
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256;
        struct inode_key *v = mn_calloc(cap, sizeof *v);
        if (!v) return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->v[i].dev && !s->v[i].ino) continue;
            size_t h = (size_t)(((uint64_t)s->v[i].ino * 0x9E3779B97F4A7C15ull) ^ s->v[i].dev);
            while (v[h & (cap - 1)].dev || v[h & (cap - 1)].ino) h++;
            v[h & (cap - 1)] = s->v[i];
        }
        mn_free(s->v);
        s->v = v;
        s->cap = cap;
    }
    /* (0, 0) marks an empty slot; no file system hands out inode 0 on device 0 */
    size_t h = (size_t)(((uint64_t)ino * 0x9E3779B97F4A7C15ull) ^ dev);
    for (;; h++) {
        struct inode_key *k = &s->v[h & (s->cap - 1)];
        if (k->dev == dev && k->ino == ino) return 0;
        if (!k->dev && !k->ino) {
            k->dev = dev;
            k->ino = ino;
            s->n++;
            return 1;
        }
    }
}

typedef struct {
    inode_set dirs, files;
} walk;

#define MAX_DEPTH 64 /* folder nesting (bounds the recursion, not the work) */

/* Appends the MIDI files under dir, recursively, in name order. Symbolic links are followed,
 * but each folder is entered once and each file listed once (by device and inode, the first
 * name in walk order wins), so link loops and aliases cost nothing and count nothing twice. */
static mn_status expand_dir(const char *dir, strvec *out, walk *w, int depth, char *err)
{
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return mn_errf(err, MN_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    int fresh = inode_set_add(&w->dirs, sb.st_dev, sb.st_ino);
    if (fresh < 0) return mn_errf(err, MN_ERR_NOMEM, "out of memory");
    if (!fresh) return MN_OK;
    if (depth > MAX_DEPTH)
        return mn_errf(err, MN_ERR_LIMIT, "%s: folders nested more than %d deep", dir, MAX_DEPTH);
    DIR *d = opendir(dir);
    if (!d) return mn_errf(err, MN_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    strvec names = {0};
    mn_status st = MN_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if ((st = strvec_push(&names, e->d_name, err))) break;
    }
    closedir(d);
    if (st) {
        strvec_free(&names);
        return st;
    }
    if (names.n > 1) qsort(names.v, names.n, sizeof *names.v, cmp_str); /* v NULL if empty */
    for (size_t i = 0; i < names.n && !st; i++) {
        size_t len = strlen(dir) + strlen(names.v[i]) + 2;
        char *p = mn_malloc(len);
        if (!p) {
            st = mn_errf(err, MN_ERR_NOMEM, "out of memory");
            break;
        }
        snprintf(p, len, "%s/%s", dir, names.v[i]);
        int ok = stat(p, &sb) == 0;
        if (ok && S_ISDIR(sb.st_mode)) {
            st = expand_dir(p, out, w, depth + 1, err);
        } else if (is_midi_name(names.v[i])) {
            /* a name that cannot be stat'ed (a dangling link) is listed, to be reported */
            int add = ok ? inode_set_add(&w->files, sb.st_dev, sb.st_ino) : 1;
            if (add < 0) st = mn_errf(err, MN_ERR_NOMEM, "out of memory");
            else if (add) st = strvec_push(out, p, err);
        }
        mn_free(p);
    }
    strvec_free(&names);
    return st;
}

static mn_status expand_walk(const char *dir, strvec *out, char *err)
{
    walk w = {{0}, {0}};
    mn_status st = expand_dir(dir, out, &w, 0, err);
    mn_free(w.dirs.v);
    mn_free(w.files.v);
    return st;
}

/* Appends the paths of a list file: one per line, relative to the list's folder; blank lines and
 * lines starting with '#' are ignored. */
static mn_status expand_list(const char *list, strvec *out, char *err)
{
    uint8_t *text;
    size_t len;
    mn_status st = mn_read_file(list, MN_DATA_MAX_LIST_BYTES, 0, &text, &len, err);
    if (st) return st;
    const char *slash = strrchr(list, '/');
    size_t dlen = slash ? (size_t)(slash - list) : 0;
    for (char *line = (char *)text, *end; !st && line < (char *)text + len; line = end + 1) {
        end = memchr(line, '\n', (size_t)((char *)text + len - line));
        if (!end) end = (char *)text + len;
        *end = 0; /* the list's own NUL when this is the last line */
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\r' || line[n - 1] == ' ')) line[--n] = 0;
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        if (!*s || *s == '#') continue;
        if (*s == '/' || !slash) {
            st = strvec_push(out, s, err);
        } else {
            size_t plen = dlen + 1 + strlen(s) + 1;
            char *p = mn_malloc(plen);
            if (!p) {
                st = mn_errf(err, MN_ERR_NOMEM, "out of memory");
                break;
            }
            snprintf(p, plen, "%.*s/%s", (int)dlen, list, s);
            st = strvec_push(out, p, err);
            mn_free(p);
        }
    }
    mn_free(text);
    return st;
}

mn_status mn_data_expand(const char *const *args, size_t n_args, char ***paths, size_t *n_paths,
                         char *err)
{
    strvec out = {0};
    mn_status st = MN_OK;
    for (size_t i = 0; i < n_args && !st; i++) {
        struct stat sb;
        if (stat(args[i], &sb) == 0 && S_ISDIR(sb.st_mode)) st = expand_walk(args[i], &out, err);
        else if (has_suffix(args[i], ".txt") || has_suffix(args[i], ".list"))
            st = expand_list(args[i], &out, err);
        else st = strvec_push(&out, args[i], err);
    }
    if (st) {
        strvec_free(&out);
        *paths = NULL;
        *n_paths = 0;
        return st;
    }
    *paths = out.v;
    *n_paths = out.n;
    return MN_OK;
}

static mn_status add_skip(mn_corpus *c, size_t *cap, const char *path, const char *reason,
                          char *err)
{
    if (c->n_skipped == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        mn_skip *s = mn_realloc(c->skipped, nc * sizeof *s);
        if (!s) return mn_errf(err, MN_ERR_NOMEM, "out of memory");
        c->skipped = s;
        *cap = nc;
    }
    mn_skip *s = &c->skipped[c->n_skipped];
    s->path = mn_strdup(path);
    s->reason = mn_strdup(reason);
    if (!s->path || !s->reason) {
        mn_free(s->path);
        mn_free(s->reason);
        return mn_errf(err, MN_ERR_NOMEM, "out of memory");
    }
    c->n_skipped++;
    return MN_OK;
}

/* Records a file used after its reduction to the top voice dropped notes. */
static mn_status add_reduced(mn_corpus *c, size_t *cap, const char *path, const mn_midi_stats *ms,
                             char *err)
{
    if (c->n_reduced == *cap) {
        size_t nc = *cap ? 2 * *cap : 16;
        mn_reduced *r = mn_realloc(c->reduced, nc * sizeof *r);
        if (!r) return mn_errf(err, MN_ERR_NOMEM, "out of memory");
        c->reduced = r;
        *cap = nc;
    }
    mn_reduced *r = &c->reduced[c->n_reduced];
    if (!(r->path = mn_strdup(path))) return mn_errf(err, MN_ERR_NOMEM, "out of memory");
    r->notes_in = ms->notes_in;
    r->notes_kept = ms->notes_kept;
    c->n_reduced++;
    return MN_OK;
}

mn_status mn_corpus_load(mn_corpus *c, const char *const *args, size_t n_args,
                         const mn_midi_options *opt, void (*progress)(size_t, size_t, void *),
                         void *ctx, char *err)
{
    memset(c, 0, sizeof *c);
    char **paths;
    size_t n_paths;
    mn_status st = mn_data_expand(args, n_args, &paths, &n_paths, err);
    if (st) return st;
    mn_midi_options dflt;
    if (!opt) {
        mn_midi_options_default(&dflt);
        opt = &dflt;
    }
    c->mels = mn_calloc(n_paths ? n_paths : 1, sizeof *c->mels);
    c->paths = mn_calloc(n_paths ? n_paths : 1, sizeof *c->paths);
    if (!c->mels || !c->paths) st = mn_errf(err, MN_ERR_NOMEM, "out of memory");
    size_t skip_cap = 0, red_cap = 0;
    for (size_t i = 0; i < n_paths && !st; i++) {
        char why[MN_ERR_LEN];
        mn_melody m;
        mn_midi_stats ms;
        mn_status rs = mn_midi_read_file_stats(paths[i], opt, &m, &ms, why);
        if (rs == MN_ERR_NOMEM) {
            st = mn_errf(err, rs, "%s", why);
        } else if (rs) {
            /* the reader's message starts with the path; keep only the fault. A long path
             * leaves no room for the fault in the message: then name the kind of error. */
            const char *r = why;
            size_t pl = strlen(paths[i]), wl = strlen(why);
            size_t tl = pl < MN_SHOWN_PATH ? pl : MN_SHOWN_PATH; /* or "...tail: fault" */
            if (!strncmp(r, paths[i], pl) && r[pl] == ':') r += pl + 1;
            else if (!strncmp(r, "...", 3) && wl > 3 + tl &&
                     !strncmp(r + 3, paths[i] + pl - tl, tl) && r[3 + tl] == ':')
                r += 3 + tl + 1;
            else if (wl < pl && !strncmp(r, paths[i], wl)) r += wl;
            while (*r == ' ') r++;
            if (!*r) r = mn_status_name(rs);
            st = add_skip(c, &skip_cap, paths[i], r, err);
        } else if (m.n == 0) {
            mn_melody_free(&m);
            st = add_skip(c, &skip_cap, paths[i], "no notes", err);
        } else if ((double)ms.notes_kept < MN_DATA_MIN_KEPT * (double)ms.notes_in) {
            mn_melody_free(&m);
            snprintf(why, sizeof why, "polyphonic: its top voice keeps %zu of %zu notes (%.0f%%), "
                     "less than the %.0f%% a melody needs", ms.notes_kept, ms.notes_in,
                     100.0 * (double)ms.notes_kept / (double)ms.notes_in, 100 * MN_DATA_MIN_KEPT);
            st = add_skip(c, &skip_cap, paths[i], why, err);
        } else {
            if (ms.notes_kept < ms.notes_in) st = add_reduced(c, &red_cap, paths[i], &ms, err);
            c->mels[c->n] = m;
            c->paths[c->n] = paths[i];
            paths[i] = NULL;
            c->n_events += m.n;
            c->n++;
        }
        if (progress) progress(i + 1, n_paths, ctx);
    }
    for (size_t i = 0; i < n_paths; i++) mn_free(paths[i]);
    mn_free(paths);
    if (!st && c->n == 0)
        st = mn_errf(err, MN_ERR_EMPTY, "no usable MIDI file among %zu (%zu skipped)", n_paths,
                     c->n_skipped);
    if (st && st != MN_ERR_EMPTY) mn_corpus_free(c);
    return st;
}

void mn_corpus_free(mn_corpus *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        mn_melody_free(&c->mels[i]);
        mn_free(c->paths[i]);
    }
    mn_free(c->mels);
    mn_free(c->paths);
    for (size_t i = 0; i < c->n_skipped; i++) {
        mn_free(c->skipped[i].path);
        mn_free(c->skipped[i].reason);
    }
    mn_free(c->skipped);
    for (size_t i = 0; i < c->n_reduced; i++) mn_free(c->reduced[i].path);
    mn_free(c->reduced);
    memset(c, 0, sizeof *c);
}
