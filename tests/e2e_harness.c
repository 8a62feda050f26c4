/*
** e2e_harness.c — a model's generated C kernels against nnc's reference
** interpreter (ir_interp), in the manner of llm.c's test file: the same
** parameters and rows through both, OK / NOT OK and the largest relative
** difference per output. Linked with nnc's libnncc.a and the model's
** --emit=lib source compiled with -DNNC_F64, whose header is included
** with -DNNC_LIB_GENERIC (tests/e2e.sh builds it).
**
**   e2e_harness MODEL.nn [-ON]          compare every kernel (1e-6 relative)
**   e2e_harness MODEL.nn --csv N        print N rows of synthetic data for it
** -ON is the IR optimization level the library was generated at (-O2).
*/
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "frontend/frontend.h"
#include "ir/ir.h"
#define NNC_F64 1
#include "nnc_abi.h"

#define TOLERANCE 1e-6

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static double uniform(double lo, double hi) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return lo + (hi - lo) * (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

static IrModule *load(Arena *arena, const char *path, int level) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    static char src[1 << 20];
    size_t len = fread(src, 1, sizeof src - 1, f);
    fclose(f);
    Diag diag;
    diag_init(&diag, path, src, len, stderr);
    diag.no_warnings = true;
    Program *p = parse_program(arena, &diag);
    IrModule *m = p && !diag_failed(&diag) ? sema_check(arena, &diag, p) : NULL;
    if (!m) exit(2);
    ir_build_training(m, level);
    return m;
}

/* ---- data that fits the loss (SPEC 3 Data) ---- */

static long classes_of(const NncModel *d) {
    return d->output_rank ? d->output_dims[d->output_rank - 1] : 1;
}

static void target_row(const NncModel *d, double *t) {
    long w = d->target_width, classes = classes_of(d);
    if (d->target_kind == NNC_TARGET_CLASS_INDEX) {
        for (long i = 0; i < w; i++) t[i] = (double)(long)uniform(0, (double)classes - 1e-9);
    } else if (d->target_kind == NNC_TARGET_ONE_HOT) {
        for (long i = 0; i < w; i++) t[i] = 0;
        for (long g = 0; g + classes <= w; g += classes) t[g + (long)uniform(0, (double)classes - 1e-9)] = 1;
    } else if (d->loss == NNC_LOSS_BINARY_CE || d->loss == NNC_LOSS_HINGE || d->loss == NNC_LOSS_SQUARED_HINGE) {
        for (long i = 0; i < w; i++) t[i] = uniform(0, 1) < 0.5 ? 0 : 1;
    } else if (d->loss == NNC_LOSS_KLD || d->loss == NNC_LOSS_MSLE) {
        for (long i = 0; i < w; i++) t[i] = uniform(0.05, 0.95);
    } else {
        for (long i = 0; i < w; i++) t[i] = uniform(-1, 1);
    }
}

static void write_csv(const NncModel *d, long rows) {
    double t[4096];
    for (long r = 0; r < rows; r++) {
        for (long i = 0; i < d->n_inputs; i++) printf("%s%.6g", i ? "," : "", uniform(-2, 2) + (double)(i % 5));
        target_row(d, t);
        for (long i = 0; i < d->target_width; i++) printf(",%.9g", t[i]);
        printf("\n");
    }
}

/* ---- comparing ---- */

static int failures;

static void compare(const char *what, const double *want, const double *got, long n) {
    double worst = 0;
    for (long i = 0; i < n; i++) {
        double scale = fmax(fabs(want[i]), fabs(got[i]));
        double err = fabs(want[i] - got[i]) / (scale > 1 ? scale : 1);
        if (!(err <= worst)) worst = err; /* NaN is the worst */
    }
    bool ok = worst <= TOLERANCE;
    failures += !ok;
    printf("%s %-34s max rel diff %.3e\n", ok ? "OK    " : "NOT OK", what, worst);
}

typedef struct Setup {
    const IrModule *m;
    const NncModel *d;
    CgLayout layout;
    int rows;
    double *params, **pview; /* the flat buffer, and per parameter */
    double *x, *t;
} Setup;

static double **per_param(const Setup *s, double *flat) {
    double **v = calloc((size_t)s->m->params.len + 1, sizeof *v);
    for (int i = 0; i < s->m->params.len; i++) v[i] = flat + s->layout.param_off[i];
    return v;
}

static double *zeros(long n) {
    return calloc((size_t)n + 1, sizeof(double));
}

/* Scratch with a guard zone after what the descriptor asks for. */
static double *scratch_for(const NncModel *d, int rows, long *size) {
    *size = d->scratch_fixed + rows * d->scratch_per_row;
    double *s = malloc(sizeof *s * (size_t)(*size + 64));
    for (long i = 0; i < *size + 64; i++) s[i] = 12345.0;
    return s;
}

static void check_guard(const char *what, const double *s, long size) {
    for (long i = size; i < size + 64; i++)
        if (s[i] != 12345.0) {
            printf("NOT OK %s wrote past its scratch\n", what);
            failures++;
            return;
        }
}

static void init_params(Setup *s) {
    s->params = zeros(s->layout.param_floats);
    s->pview = per_param(s, s->params);
    for (int i = 0; i < s->m->params.len; i++) {
        const IrParam *p = &s->m->params.items[i];
        double lo = p->role == ROLE_NORM_VARIANCE ? 0.5 : p->role == ROLE_NORM_MAX ? 2 : -0.5;
        double hi = p->role == ROLE_NORM_VARIANCE ? 2 : p->role == ROLE_NORM_MAX ? 6 : 0.5;
        for (long e = 0; e < shape_numel(p->shape); e++) s->pview[i][e] = uniform(lo, hi);
    }
}

static void check_predict(Setup *s) {
    const NncModel *d = s->d;
    long size, n_out = d->n_outputs;
    double *want = zeros(s->rows * n_out), *got = zeros(s->rows * n_out), *scratch = scratch_for(d, s->rows, &size);
    IrEnv env = {.rows = s->rows, .input = s->x, .params = s->pview, .grad_scale = 1, .pred_out = want};
    char err[256];
    if (!ir_interp(s->m->predict, &env, err, sizeof err)) printf("interp: %s\n", err);
    d->predict(s->params, scratch, s->x, got, s->rows);
    compare("predict: predictions", want, got, s->rows * n_out);
    check_guard("predict", scratch, size);
}

static void check_rows_loss(Setup *s, bool train) {
    const NncModel *d = s->d;
    const IrModule *m = s->m;
    long size, n_out = d->n_outputs;
    double *want_y = zeros(s->rows * n_out), *got_y = zeros(s->rows * n_out), *loss = zeros(s->rows);
    double *want_g = zeros(s->layout.param_floats), *got_g = zeros(s->layout.param_floats);
    double *scratch = scratch_for(d, s->rows, &size), scale = 1.0 / s->rows, got_loss;
    uint64_t seed = 42, first = 3;
    IrEnv env = {.rows = s->rows, .input = s->x, .target = s->t, .params = s->pview,
                 .grads = per_param(s, want_g), .grad_scale = scale, .seed = seed, .first_row = first,
                 .loss = loss, .pred_out = want_y};
    char err[256];
    if (!ir_interp(train ? m->train : m->eval, &env, err, sizeof err)) printf("interp: %s\n", err);
    if (train)
        got_loss = d->forward_backward(s->params, got_g, scratch, s->x, s->t, s->rows, scale, seed, first, got_y);
    else
        got_loss = d->eval_loss(s->params, scratch, s->x, s->t, s->rows, got_y);
    double want_loss = 0;
    for (int r = 0; r < s->rows; r++) want_loss += loss[r];
    compare(train ? "forward_backward: loss" : "eval_loss: loss", &want_loss, &got_loss, 1);
    compare(train ? "forward_backward: predictions" : "eval_loss: predictions", want_y, got_y, s->rows * n_out);
    if (train) compare("forward_backward: gradients", want_g, got_g, s->layout.param_floats);
    check_guard(train ? "forward_backward" : "eval_loss", scratch, size);
}

static void check_regularize(Setup *s) {
    const NncModel *d = s->d;
    if (!s->m->regularize || !s->m->regularize->outputs.len) {
        printf("%s regularize: %s\n", d->regularize ? "NOT OK" : "OK    ", "no regularizer");
        failures += d->regularize != NULL;
        return;
    }
    double *want_g = zeros(s->layout.param_floats), *got_g = zeros(s->layout.param_floats), loss = 0;
    IrEnv env = {.rows = 1, .params = s->pview, .grads = per_param(s, want_g), .grad_scale = 1, .loss = &loss};
    char err[256];
    if (!ir_interp(s->m->regularize, &env, err, sizeof err)) printf("interp: %s\n", err);
    double got = d->regularize(s->params, got_g);
    compare("regularize: loss", &loss, &got, 1);
    compare("regularize: gradients", want_g, got_g, s->layout.param_floats);
}

static void check_update(Setup *s) {
    const NncModel *d = s->d;
    const IrModule *m = s->m;
    int np = m->params.len;
    double *grads = zeros(s->layout.param_floats), *opt = zeros(s->layout.opt_floats);
    double *want_p = zeros(s->layout.param_floats), *want_o = zeros(s->layout.opt_floats);
    for (long i = 0; i < s->layout.param_floats; i++) grads[i] = uniform(-1, 1);
    for (long i = 0; i < s->layout.opt_floats; i++) opt[i] = uniform(0.01, 1);
    memcpy(want_p, s->params, sizeof(double) * (size_t)s->layout.param_floats);
    memcpy(want_o, opt, sizeof(double) * (size_t)s->layout.opt_floats);
    double ***state = calloc((size_t)np + 1, sizeof *state);
    for (int i = 0; i < np; i++) {
        state[i] = calloc(4, sizeof **state);
        for (int k = 0; k < 4; k++)
            if (s->layout.opt_off[4 * i + k] >= 0) state[i][k] = want_o + s->layout.opt_off[4 * i + k];
    }
    IrEnv env = {.rows = 1, .params = per_param(s, want_p), .grads = per_param(s, grads), .grad_scale = 1,
                 .state = state, .hyper = {0.01, 3}};
    char err[256];
    if (m->update && m->update->outputs.len && !ir_interp(m->update, &env, err, sizeof err))
        printf("interp: %s\n", err);
    d->update(s->params, grads, opt, 3, 0.01);
    compare("update: parameters", want_p, s->params, s->layout.param_floats);
    compare("update: optimizer state", want_o, opt, s->layout.opt_floats);
}

/* The library's API (lib.c) over the same kernels: fit runs, predict is
** the predict kernel on the fitted parameters, save and load round-trip. */
static void check_api(Setup *s) {
    const NncModel *d = s->d;
    long size, n_out = d->n_outputs;
    double *y1 = zeros(s->rows * n_out), *y2 = zeros(s->rows * n_out), *scratch = scratch_for(d, s->rows, &size);
    nnc_lib_model *c = nnc_lib_create(7);
    double fit = nnc_lib_fit(c, s->x, s->t, s->rows, 3, 2), batch = nnc_lib_train_batch(c, s->x, s->t, s->rows);
    double eval = nnc_lib_evaluate(c, s->x, s->t, s->rows);
    bool ok = isfinite(fit) && isfinite(batch) && isfinite(eval);
    nnc_lib_predict(c, s->x, y1, s->rows);
    d->predict(nnc_lib_parameters(c), scratch, s->x, y2, s->rows);
    ok = ok && !memcmp(y1, y2, sizeof(double) * (size_t)(s->rows * n_out));
    char path[] = "/tmp/e2e-harness-XXXXXX";
    int fd = mkstemp(path);
    nnc_lib_model *c2 = nnc_lib_create(99);
    ok = ok && fd >= 0 && nnc_lib_save(c, path) == 0 && nnc_lib_load(c2, path) == 0;
    if (fd >= 0) remove(path);
    nnc_lib_predict(c2, s->x, y2, s->rows);
    ok = ok && !memcmp(y1, y2, sizeof(double) * (size_t)(s->rows * n_out));
    printf("%s lib API: fit %.4g, predict, save, load\n", ok ? "OK    " : "NOT OK", fit);
    failures += !ok;
    nnc_lib_free(c);
    nnc_lib_free(c2);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: e2e_harness MODEL.nn [--csv ROWS]\n");
        return 2;
    }
    Arena *arena = arena_new();
    int level = argc == 3 && argv[2][0] == '-' && argv[2][1] == 'O' ? argv[2][2] - '0' : 2;
    Setup s = {.m = load(arena, argv[1], level), .d = nnc_lib_descriptor(), .rows = 5};
    if (argc == 4 && !strcmp(argv[2], "--csv")) {
        write_csv(s.d, atol(argv[3]));
        arena_free(arena);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    s.layout = cg_layout(arena, s.m);
    if (s.d->real_bytes != 8 || s.d->param_floats != s.layout.param_floats) {
        printf("NOT OK the library is not this model's, or not f64\n");
        return 1;
    }
    init_params(&s);
    s.x = zeros(s.rows * s.d->n_inputs);
    s.t = zeros(s.rows * s.d->target_width);
    for (long i = 0; i < s.rows * s.d->n_inputs; i++) s.x[i] = uniform(-3, 3);
    for (int r = 0; r < s.rows; r++) target_row(s.d, s.t + r * s.d->target_width);
    check_predict(&s);
    check_rows_loss(&s, true);
    check_rows_loss(&s, false);
    check_regularize(&s);
    check_update(&s);
    check_api(&s);
    arena_free(arena);
    return failures ? 1 : 0;
}
