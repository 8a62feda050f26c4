/*
** llvm_harness.c — a model's LLVM kernels, compiled in f64 by nnc's JIT
** (cg_llvm_jit), against nnc's reference interpreter (ir_interp): the same
** parameters and rows through both, OK / NOT OK and the largest relative
** difference per output, for every kernel of the ABI, at 1 row and at 37
** (row tiles and their remainders). Linked with nnc's libnncc.a and
** libnncrt.a (tests/llvm.sh builds it).
**
**   llvm_harness MODEL.nn [-ON]          compare every kernel (1e-6 relative)
**   llvm_harness MODEL.nn [-ON] --csv N  print N rows of synthetic data for it
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "frontend/frontend.h"
#include "ir/ir.h"
#define NNC_F64 1
#include "nnc_abi.h"

#define TOLERANCE 1e-6

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static int failures;

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

static double *zeros(long n) {
    return calloc((size_t)n + 1, sizeof(double));
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
    double *t = zeros(d->target_width);
    for (long r = 0; r < rows; r++) {
        for (long i = 0; i < d->n_inputs; i++) printf("%s%.6g", i ? "," : "", uniform(-2, 2) + (double)(i % 5));
        target_row(d, t);
        for (long i = 0; i < d->target_width; i++) printf(",%.9g", t[i]);
        printf("\n");
    }
    free(t);
}

/* ---- comparing ---- */

static void compare(const char *what, int rows, const double *want, const double *got, long n) {
    double worst = 0;
    for (long i = 0; i < n; i++) {
        double scale = fmax(fabs(want[i]), fabs(got[i]));
        double err = fabs(want[i] - got[i]) / (scale > 1 ? scale : 1);
        if (!(err <= worst)) worst = err; /* NaN is the worst */
    }
    bool ok = worst <= TOLERANCE;
    failures += !ok;
    printf("%s %-32s %2d rows: max rel diff %.3e\n", ok ? "OK    " : "NOT OK", what, rows, worst);
}

typedef struct Setup {
    const IrModule *m;
    const NncModel *d;
    CgLayout layout;
    int rows;
    double *params, **pview;
    double *x, *t;
} Setup;

static double **per_param(const Setup *s, double *flat) {
    double **v = calloc((size_t)s->m->params.len + 1, sizeof *v);
    for (int i = 0; i < s->m->params.len; i++) v[i] = flat + s->layout.param_off[i];
    return v;
}

/* Scratch with a guard zone after what the descriptor asks for. */
static double *scratch_for(const NncModel *d, int rows, long *size) {
    *size = d->scratch_fixed + rows * d->scratch_per_row;
    double *s = malloc(sizeof *s * (size_t)(*size + 64));
    for (long i = 0; i < *size + 64; i++) s[i] = 12345.0;
    return s;
}

static void check_guard(const char *what, double *s, long size) {
    for (long i = size; i < size + 64; i++)
        if (s[i] != 12345.0) {
            printf("NOT OK %s wrote past its scratch\n", what);
            failures++;
            break;
        }
    free(s);
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
    compare("predict: predictions", s->rows, want, got, s->rows * n_out);
    check_guard("predict", scratch, size);
    free(want);
    free(got);
}

static void check_rows_loss(Setup *s, bool train) {
    const NncModel *d = s->d;
    const IrModule *m = s->m;
    long size, n_out = d->n_outputs;
    double *want_y = zeros(s->rows * n_out), *got_y = zeros(s->rows * n_out), *loss = zeros(s->rows);
    double *want_g = zeros(s->layout.param_floats), *got_g = zeros(s->layout.param_floats);
    double *scratch = scratch_for(d, s->rows, &size), scale = 1.0 / s->rows, got_loss;
    double **gview = per_param(s, want_g);
    uint64_t seed = 42, first = 3;
    IrEnv env = {.rows = s->rows, .input = s->x, .target = s->t, .params = s->pview, .grads = gview,
                 .grad_scale = scale, .seed = seed, .first_row = first, .loss = loss, .pred_out = want_y};
    char err[256];
    if (!ir_interp(train ? m->train : m->eval, &env, err, sizeof err)) printf("interp: %s\n", err);
    if (train)
        got_loss = d->forward_backward(s->params, got_g, scratch, s->x, s->t, s->rows, scale, seed, first, got_y);
    else
        got_loss = d->eval_loss(s->params, scratch, s->x, s->t, s->rows, got_y);
    double want_loss = 0;
    for (int r = 0; r < s->rows; r++) want_loss += loss[r];
    compare(train ? "forward_backward: loss" : "eval_loss: loss", s->rows, &want_loss, &got_loss, 1);
    compare(train ? "forward_backward: predictions" : "eval_loss: predictions", s->rows, want_y, got_y,
            s->rows * n_out);
    if (train) compare("forward_backward: gradients", s->rows, want_g, got_g, s->layout.param_floats);
    check_guard(train ? "forward_backward" : "eval_loss", scratch, size);
    free(want_y);
    free(got_y);
    free(loss);
    free(want_g);
    free(got_g);
    free(gview);
}

static void check_regularize(Setup *s) {
    const NncModel *d = s->d;
    if (!s->m->regularize || !s->m->regularize->outputs.len) {
        printf("%s regularize: no regularizer\n", d->regularize ? "NOT OK" : "OK    ");
        failures += d->regularize != NULL;
        return;
    }
    double *want_g = zeros(s->layout.param_floats), *got_g = zeros(s->layout.param_floats), loss = 0;
    double **gview = per_param(s, want_g);
    IrEnv env = {.rows = 1, .params = s->pview, .grads = gview, .grad_scale = 1, .loss = &loss};
    char err[256];
    if (!ir_interp(s->m->regularize, &env, err, sizeof err)) printf("interp: %s\n", err);
    double got = d->regularize(s->params, got_g);
    compare("regularize: loss", 1, &loss, &got, 1);
    compare("regularize: gradients", 1, want_g, got_g, s->layout.param_floats);
    free(want_g);
    free(got_g);
    free(gview);
}

/* Step 1 (the state's initial values) and step 3. */
static void check_update(Setup *s, long step) {
    const NncModel *d = s->d;
    const IrModule *m = s->m;
    int np = m->params.len;
    double *grads = zeros(s->layout.param_floats), *opt = zeros(s->layout.opt_floats);
    double *want_p = zeros(s->layout.param_floats), *want_o = zeros(s->layout.opt_floats);
    for (long i = 0; i < s->layout.param_floats; i++) grads[i] = uniform(-1, 1);
    for (long i = 0; i < s->layout.opt_floats; i++) opt[i] = step == 1 ? 0 : uniform(0.01, 1);
    for (int i = 0; step == 1 && i < np; i++) /* the runtime zeroes, the kernel initializes */
        for (int k = 0; k < m->opt_slots; k++)
            if (s->layout.opt_off[4 * i + k] >= 0)
                for (long e = 0; e < shape_numel(m->params.items[i].shape); e++)
                    want_o[s->layout.opt_off[4 * i + k] + e] = m->opt_state_init[k];
    if (step != 1) memcpy(want_o, opt, sizeof(double) * (size_t)s->layout.opt_floats);
    memcpy(want_p, s->params, sizeof(double) * (size_t)s->layout.param_floats);
    double ***state = calloc((size_t)np + 1, sizeof *state);
    for (int i = 0; i < np; i++) {
        state[i] = calloc(4, sizeof **state);
        for (int k = 0; k < 4; k++)
            if (s->layout.opt_off[4 * i + k] >= 0) state[i][k] = want_o + s->layout.opt_off[4 * i + k];
    }
    double **pv = per_param(s, want_p), **gv = per_param(s, grads);
    IrEnv env = {.rows = 1, .params = pv, .grads = gv, .grad_scale = 1, .state = state,
                 .hyper = {0.01, (double)step}};
    char err[256];
    if (m->update && m->update->outputs.len && !ir_interp(m->update, &env, err, sizeof err))
        printf("interp: %s\n", err);
    d->update(s->params, grads, opt, step, 0.01);
    compare(step == 1 ? "update (step 1): parameters" : "update: parameters", 1, want_p, s->params,
            s->layout.param_floats);
    compare(step == 1 ? "update (step 1): state" : "update: optimizer state", 1, want_o, opt, s->layout.opt_floats);
    for (int i = 0; i < np; i++) free(state[i]);
    free(state);
    free(pv);
    free(gv);
    free(grads);
    free(opt);
    free(want_p);
    free(want_o);
}

static void rows_check(Setup *s, int rows) {
    s->rows = rows;
    s->x = zeros(rows * s->d->n_inputs);
    s->t = zeros(rows * s->d->target_width);
    for (long i = 0; i < rows * s->d->n_inputs; i++) s->x[i] = uniform(-3, 3);
    for (int r = 0; r < rows; r++) target_row(s->d, s->t + r * s->d->target_width);
    check_predict(s);
    check_rows_loss(s, true);
    check_rows_loss(s, false);
    free(s->x);
    free(s->t);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: llvm_harness MODEL.nn [-ON | --csv ROWS]\n");
        return 2;
    }
    Arena *arena = arena_new();
    int level = 2;
    long csv = -1;
    for (int i = 2; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] == 'O') level = argv[i][2] - '0';
        if (!strcmp(argv[i], "--csv") && i + 1 < argc) csv = atol(argv[++i]);
    }
    IrModule *m = load(arena, argv[1], level);
    CgOptions o = {.source = argv[1], .f64 = true, .unroll = -1};
    CgJit *jit = cg_llvm_jit(m, &o);
    if (!jit) {
        printf("NOT OK the JIT failed\n");
        return 1;
    }
    Setup s = {.m = m, .d = (const NncModel *)cg_llvm_jit_model(jit)};
    if (csv >= 0) {
        write_csv(s.d, csv);
    } else {
        s.layout = cg_layout(arena, m);
        init_params(&s);
        rows_check(&s, 1);
        rows_check(&s, 37);
        check_regularize(&s);
        check_update(&s, 1);
        check_update(&s, 3);
        free(s.params);
        free(s.pview);
    }
    cg_llvm_jit_free(jit);
    arena_free(arena);
    return failures ? 1 : 0;
}
