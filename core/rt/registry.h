/* registry.h - models shared by file: one loaded mn_model per file however many users play it,
 * found by a key of the file's path, size and modification time, so that a file changed on
 * disk is loaded anew while the users of the old copy keep theirs. The registry holds one
 * reference per key and counts its users. Not thread-safe: one thread (Pd's scheduler) makes
 * every call. */
#ifndef MN_REGISTRY_H
#define MN_REGISTRY_H

#include <stddef.h>

#include "base.h"
#include "model.h"

#define MN_REGISTRY_KEY_LEN 1088 /* bytes of a key: a path of up to 1023 bytes and its stamp */

/* Fills key (MN_REGISTRY_KEY_LEN bytes) for the file at path (already resolved: the registry
 * compares keys, not files). MN_ERR_IO when the file cannot be stat'ed ("PATH: cannot open:
 * REASON", as base.h words it), MN_ERR_LIMIT when the path is too long for a key. */
mn_status mn_registry_key(const char *path, char *key, char *err);

/* The registered model of key with one more user, or NULL. The caller owns no reference by
 * this (a session retains its own) and pairs the call with mn_registry_release. */
mn_model *mn_registry_acquire(const char *key);

/* Registers a freshly loaded model (its reference passes to the registry) and sets *out to the
 * model to use, with one more user: loaded, or the model registered meanwhile under the same
 * key (loaded is then freed). MN_ERR_NOMEM leaves nothing registered, loaded freed and *out
 * NULL. */
mn_status mn_registry_adopt(const char *key, mn_model *loaded, mn_model **out, char *err);

/* Drops one user of m; the last one frees the registry's reference. NULL, or a model the
 * registry does not hold, is a no-op. */
void mn_registry_release(mn_model *m);

/* Users of m (0 when the registry does not hold it). */
int mn_registry_users(const mn_model *m);

#endif
