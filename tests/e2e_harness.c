/*
** e2e_harness.c — the C backend's driver of tests/kernel_harness.c: the
** kernels are a model's --emit=lib source, generated with --dtype=f64 and
** compiled to an object, whose header is included with -DNNC_LIB_GENERIC;
** besides the kernels it checks the library's API. tests/e2e.sh builds it:
**   cc -I src -I runtime -DNNC_LIB_GENERIC -include lib64.h \
**      tests/e2e_harness.c kernel_harness.o lib64.o libnncc.a -lm -lpthread
**   e2e_harness MODEL.nn [-ON] [--csv N]
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel_harness.h"

static const NncModel *kernels(const IrModule *m, const char *path, int level) {
    (void)m, (void)path, (void)level; /* the library was generated from them */
    return nnc_lib_descriptor();
}

/* The library's API (lib.c) over the same kernels: fit runs, predict is
** the predict kernel on the fitted parameters, save and load round-trip. */
static void check_api(const KhSetup *s) {
    const NncModel *d = s->d;
    long size, n = s->rows * d->n_outputs;
    double *y1 = kh_zeros(n), *y2 = kh_zeros(n), *scratch = kh_scratch(d, s->rows, &size);
    nnc_lib_model *c = nnc_lib_create(7), *c2 = nnc_lib_create(99);
    double fit = nnc_lib_fit(c, s->x, s->t, s->rows, 3, 2), batch = nnc_lib_train_batch(c, s->x, s->t, s->rows);
    double eval = nnc_lib_evaluate(c, s->x, s->t, s->rows);
    bool ok = isfinite(fit) && isfinite(batch) && isfinite(eval);
    nnc_lib_predict(c, s->x, y1, s->rows);
    d->predict(nnc_lib_parameters(c), scratch, s->x, y2, s->rows);
    ok = ok && !memcmp(y1, y2, sizeof(double) * (size_t)n);
    char path[] = "/tmp/e2e-harness-XXXXXX", detail[64];
    int fd = mkstemp(path);
    ok = ok && fd >= 0 && nnc_lib_save(c, path) == 0 && nnc_lib_load(c2, path) == 0;
    if (fd >= 0) {
        close(fd);
        remove(path);
    }
    nnc_lib_predict(c2, s->x, y2, s->rows);
    ok = ok && !memcmp(y1, y2, sizeof(double) * (size_t)n);
    snprintf(detail, sizeof detail, "fit %.4g, predict, save, load", fit);
    kh_report(ok, "lib API", s->rows, detail);
    kh_check_guard("lib API: predict", scratch, size);
    nnc_lib_free(c);
    nnc_lib_free(c2);
    free(y1);
    free(y2);
}

int main(int argc, char **argv) {
    KhDriver driver = {.name = "e2e_harness", .kernels = kernels, .extra = check_api};
    return kh_main(argc, argv, &driver);
}
