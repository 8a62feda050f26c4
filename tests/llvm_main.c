/*
** llvm_main.c — a C program using a model's --emit=obj object through the
** header nnc writes with it (-H): trains and predicts through
** <model>_main, then calls the kernels through the descriptor
** <model>_model directly. tests/llvm.sh compiles it once per model:
**
**   cc -I runtime -include model.h -DOBJ_MODEL=iris_model -DOBJ_MAIN=iris_main \
**      tests/llvm_main.c model.o libnncrt.a -lm -lpthread
**   ./a.out DATA.csv W.safetensors PRED.csv
**
** Prints OK / NOT OK per step; exits 1 on any failure.
*/
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "OK    " : "NOT OK", what);
    failures += !ok;
}

/* The trainer's command line, as a user's program would run it. */
static int run(char *arg0, ...) {
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, arg0);
    for (char *a = arg0; a && argc < 31; a = va_arg(ap, char *)) argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    return OBJ_MAIN(argc, argv);
}

/* The kernels by hand: predict and eval_loss agree on the same parameters,
** and a forward_backward step gives a finite loss and gradients. */
static void kernels(const NncModel *m) {
    int n = 3;
    size_t reals = (size_t)(2 * m->param_floats + m->scratch_fixed + n * (m->scratch_per_row + m->n_inputs +
                                                                           m->target_width + 2 * m->n_outputs));
    nnc_real *buf = calloc(reals, sizeof *buf);
    nnc_real *params = buf, *grads = params + m->param_floats, *scratch = grads + m->param_floats;
    nnc_real *x = scratch + m->scratch_fixed + n * m->scratch_per_row, *t = x + n * m->n_inputs;
    nnc_real *y1 = t + n * m->target_width, *y2 = y1 + n * m->n_outputs;
    for (long i = 0; i < m->param_floats; i++) params[i] = (nnc_real)(0.5 + 0.01 * (double)(i % 13));
    for (long i = 0; i < n * m->n_inputs; i++) x[i] = (nnc_real)(0.1 * (double)(i % 7));
    for (long i = 0; i < n * m->target_width; i++) t[i] = 0;
    m->predict(params, scratch, x, y1, n);
    double loss = m->eval_loss(params, scratch, x, t, n, y2);
    check(!memcmp(y1, y2, sizeof *y1 * (size_t)(n * m->n_outputs)), "predict = eval_loss's predictions");
    double fb = m->forward_backward(params, grads, scratch, x, t, n, 1.0 / n, 1, 0, NULL);
    int finite = isfinite(loss) && isfinite(fb);
    for (long i = 0; i < m->param_floats; i++) finite = finite && isfinite((double)grads[i]);
    check(finite, "forward_backward: finite loss and gradients");
    free(buf);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: llvm_main DATA.csv W.safetensors PRED.csv\n");
        return 2;
    }
    const NncModel *m = &OBJ_MODEL;
    check(m->abi_version == NNC_ABI_VERSION && m->real_bytes == (int)sizeof(nnc_real), "the descriptor's ABI");
    check(run("llvm_main", "train", argv[1], "--epochs", "2", "--batch-size", "16", "--seed", "7", "--verbose", "0",
              "--save", argv[2], (char *)NULL) == 0,
          "train through <model>_main");
    check(run("llvm_main", "predict", argv[1], "--weights", argv[2], "-o", argv[3], (char *)NULL) == 0,
          "predict through <model>_main");
    kernels(m);
    return failures ? 1 : 0;
}
