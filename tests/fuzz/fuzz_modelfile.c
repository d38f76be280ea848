/* fuzz_modelfile.c - libFuzzer harness for the file-backed model loader (mn_model_load, which
 * maps the file): the input is written to a file and loaded from there, then checked as in
 * fuzz_model.c (see fuzz_model.h). A failed load must leave no model and say why, and the file
 * and the memory loader must agree: the same status, and the same weights when both load. */
#include "fuzz_model.h"
#include "fuzz_tmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[PATH_MAX];
    fuzz_tmp_write(path, "fuzz.mnet", data, size);
    mn_model *m = (mn_model *)1;
    char err[MN_ERR_LEN] = "";
    mn_status st = mn_model_load(path, &m, err);
    /* the weights may be a mapping of the file: it goes away while the model is in use */
    unlink(path);
    mn_model *mm = NULL;
    char err2[MN_ERR_LEN] = "";
    mn_status st2 = mn_model_load_memory(data, size, path, &mm, err2);
    FUZZ_CHECK(st == st2, "from the file %s (%s), from memory %s (%s)", mn_status_name(st), err,
               mn_status_name(st2), err2);
    if (st == MN_OK) {
        FUZZ_CHECK(mn_model_n_params(m) == mn_model_n_params(mm) &&
                   !memcmp(mn_model_params(m), mn_model_params(mm),
                           mn_model_n_params(m) * sizeof(float)),
                   "the file and memory loaders read different weights");
    }
    mn_model_free(mm);
    if (st != MN_OK) {
        FUZZ_CHECK(m == NULL, "failure left a model");
        FUZZ_CHECK(err[0] != '\0', "failure %s without a message", mn_status_name(st));
        FUZZ_CHECK(st != MN_ERR_IO, "a readable file gave an I/O error: %s", err);
        return 0;
    }
    FUZZ_CHECK(m != NULL, "ok without a model");
    check_config(m);
    run_session(m, fuzz_hash(data, size));
    mn_model_free(m);
    return 0;
}
