/*
** fuzz_checkpoint.c — the checkpoint reader: `M train data.csv --resume
** FILE --epochs 1` with the model of tests/fuzz/model.nn, so that every
** field of a checkpoint is read as a resumed run reads it. --epochs bounds
** the work a valid checkpoint can ask for.
*/
#include "runtime.h"
#include "fuzz.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char data_csv[] =
    "a,b,c,y0,y1\n1,2,3,0,1\n2,3,1,1,0\n3,1,2,0,1\n0.5,2,1,1,0\n1,1,1,0,1\n2,2,2,1,0\n"
    "3,3,3,0,1\n1,3,2,1,0\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char *argv[] = {"fuzzm", "train", "data.csv", "--resume", "c.ckpt", "--epochs", "1",
                           "--verbose", "0", "--save", "out.safetensors", NULL};
    fuzz_enter_tmpdir();
    fuzz_write("data.csv", (const uint8_t *)data_csv, sizeof data_csv - 1);
    fuzz_write("c.ckpt", data, size);
    nnc_main(&fuzzm_model, 11, argv);
    return 0;
}
