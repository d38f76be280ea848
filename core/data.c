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

/* Appends the MIDI files under dir, recursively, in name order. depth bounds symlink loops. */
static mn_status expand_dir(const char *dir, strvec *out, int depth, char *err)
{
    if (depth > 32) return MN_OK;
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
        struct stat sb;
        if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) st = expand_dir(p, out, depth + 1, err);
        else if (is_midi_name(names.v[i])) st = strvec_push(out, p, err);
        mn_free(p);
    }
    strvec_free(&names);
    return st;
}

/* Appends the paths of a list file: one per line, relative to the list's folder; blank lines and
 * lines starting with '#' are ignored. */
static mn_status expand_list(const char *list, strvec *out, char *err)
{
    FILE *f = fopen(list, "r");
    if (!f) return mn_errf(err, MN_ERR_IO, "%s: cannot open list: %s", list, strerror(errno));
    const char *slash = strrchr(list, '/');
    size_t dlen = slash ? (size_t)(slash - list) : 0;
    char line[4096];
    mn_status st = MN_OK;
    while (!st && fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ')) line[--n] = 0;
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        if (!*s || *s == '#') continue;
        if (*s == '/' || !slash) {
            st = strvec_push(out, s, err);
        } else {
            size_t len = dlen + 1 + strlen(s) + 1;
            char *p = mn_malloc(len);
            if (!p) {
                st = mn_errf(err, MN_ERR_NOMEM, "out of memory");
                break;
            }
            snprintf(p, len, "%.*s/%s", (int)dlen, list, s);
            st = strvec_push(out, p, err);
            mn_free(p);
        }
    }
    if (!st && ferror(f)) st = mn_errf(err, MN_ERR_IO, "%s: read error", list);
    fclose(f);
    return st;
}

mn_status mn_data_expand(const char *const *args, size_t n_args, char ***paths, size_t *n_paths,
                         char *err)
{
    strvec out = {0};
    mn_status st = MN_OK;
    for (size_t i = 0; i < n_args && !st; i++) {
        struct stat sb;
        if (stat(args[i], &sb) == 0 && S_ISDIR(sb.st_mode)) st = expand_dir(args[i], &out, 0, err);
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
    size_t skip_cap = 0;
    for (size_t i = 0; i < n_paths && !st; i++) {
        char why[MN_ERR_LEN];
        mn_melody m;
        mn_status rs = mn_midi_read_file(paths[i], opt, &m, why);
        if (rs == MN_ERR_NOMEM) {
            st = mn_errf(err, rs, "%s", why);
        } else if (rs) {
            /* the reader's message starts with the path; keep only the fault. A long path
             * leaves no room for the fault in the message: then name the kind of error. */
            const char *r = why;
            size_t pl = strlen(paths[i]), wl = strlen(why);
            if (!strncmp(r, paths[i], pl) && r[pl] == ':') r += pl + 1;
            else if (wl < pl && !strncmp(r, paths[i], wl)) r += wl;
            while (*r == ' ') r++;
            if (!*r) r = mn_status_name(rs);
            st = add_skip(c, &skip_cap, paths[i], r, err);
        } else if (m.n == 0) {
            mn_melody_free(&m);
            st = add_skip(c, &skip_cap, paths[i], "no notes", err);
        } else {
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
    memset(c, 0, sizeof *c);
}
