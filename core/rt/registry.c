/* registry.c - models shared by file (see registry.h): a list, as a patch holds a few. */
#include "registry.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct entry {
    char *key;
    mn_model *model;    /* the registry's reference */
    int users;
    struct entry *next;
} entry;

static entry *registry;

mn_status mn_registry_key(const char *path, char *key, char *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return mn_errf(err, MN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    int n = snprintf(key, MN_REGISTRY_KEY_LEN, "%s|%lld|%lld|%lld", path, (long long)st.st_size,
                     (long long)st.st_mtim.tv_sec, (long long)st.st_mtim.tv_nsec);
    if (n < 0 || n >= MN_REGISTRY_KEY_LEN)
        return mn_errf(err, MN_ERR_LIMIT, "%.200s...: the path is too long", path);
    return MN_OK;
}

mn_model *mn_registry_acquire(const char *key)
{
    for (entry *e = registry; e; e = e->next)
        if (!strcmp(e->key, key)) {
            e->users++;
            return e->model;
        }
    return NULL;
}

mn_status mn_registry_adopt(const char *key, mn_model *loaded, mn_model **out, char *err)
{
    *out = mn_registry_acquire(key);
    if (*out) {
        mn_model_free(loaded);
        return MN_OK;
    }
    entry *e = mn_malloc(sizeof *e);
    char *k = mn_strdup(key);
    if (!e || !k) {
        mn_free(e);
        mn_free(k);
        mn_model_free(loaded);
        return mn_errf(err, MN_ERR_NOMEM, "out of memory for the model registry");
    }
    e->key = k;
    e->model = loaded;
    e->users = 1;
    e->next = registry;
    registry = e;
    *out = loaded;
    return MN_OK;
}

void mn_registry_release(mn_model *m)
{
    if (!m) return;
    for (entry **pe = &registry; *pe; pe = &(*pe)->next) {
        entry *e = *pe;
        if (e->model != m) continue;
        if (--e->users > 0) return;
        *pe = e->next;
        mn_model_free(e->model);
        mn_free(e->key);
        mn_free(e);
        return;
    }
}

int mn_registry_users(const mn_model *m)
{
    for (entry *e = registry; e; e = e->next)
        if (e->model == m) return e->users;
    return 0;
}
