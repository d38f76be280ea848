/* fuzz_model.c - libFuzzer harness for the model loader (mn_model_load_memory) and, when a
 * hostile file loads, for the session over it (see fuzz_model.h for what is checked). */
#include "fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mn_model *m = (mn_model *)1;
    char err[MN_ERR_LEN] = "";
    mn_status st = mn_model_load_memory(data, size, "fuzz.mnet", &m, err);
    if (st != MN_OK) {
        FUZZ_CHECK(m == NULL, "failure left a model");
        FUZZ_CHECK(err[0] != '\0', "failure %s without a message", mn_status_name(st));
        return 0;
    }
    FUZZ_CHECK(m != NULL, "ok without a model");
    check_config(m);
    run_session(m, fuzz_hash(data, size));
    mn_model_free(m);
    return 0;
}
