/*
** fuzz_csv.c — the trainer's CSV reader (runtime/csv.c) on the model of
** tests/fuzz/model.nn. The first byte picks targets or not and a --label
** (none, by name, by index); the rest is the file.
*/
#include "runtime.h"
#include "fuzz.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const labels[] = {NULL, "y", "3", "a", "-1", "99"};
    RtData d;
    unsigned mode;
    if (size < 1)
        return 0;
    fuzz_enter_tmpdir();
    mode = data[0];
    fuzz_write("data.csv", data + 1, size - 1);
    if (rt_data_load(&d, "data.csv", &fuzzm_model, labels[(mode >> 1) % 6], (int)(mode & 1)) == 0)
        rt_data_free(&d);
    return 0;
}
