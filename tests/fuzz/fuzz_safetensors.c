/*
** fuzz_safetensors.c — the safetensors reader (runtime/safetensors.c,
** weights.c): open, load into the model of tests/fuzz/model.nn.
*/
#include "runtime.h"
#include "fuzz.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static nnc_real params[FUZZM_PARAM_FLOATS];
    RtStFile f;
    fuzz_enter_tmpdir();
    fuzz_write("w.safetensors", data, size);
    if (rt_st_open(&f, "w.safetensors") != 0)
        return 0;
    rt_st_load_params(&f, &fuzzm_model, params);
    rt_st_meta(&f, "nnc_signature");
    rt_st_close(&f);
    return 0;
}
