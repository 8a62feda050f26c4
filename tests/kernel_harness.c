/*
** kernel_harness.c — the checks of tests/kernel_harness.h, the same for
** every backend: a driver (tests/e2e_harness.c, tests/llvm_harness.c)
** hands kh_main the model's f64 kernels.
*/
#include "kernel_harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

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

double *kh_zeros(long n) {
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
    double *t = kh_zeros(d->target_width);
    for (long r = 0; r < rows; r++) {
        for (long i = 0; i < d->n_inputs; i++) printf("%s%.6g", i ? "," : "", uniform(-2, 2) + (double)(i % 5));
        target_row(d, t);
        for (long i = 0; i < d->target_width; i++) printf(",%.9g", t[i]);
        printf("\n");
    }
    free(t);
}

/* ---- comparing ---- */

void kh_report(bool ok, const char *what, int rows, const char *detail) {
    failures += !ok;
    printf("%s %-32s %2d rows: %s\n", ok ? "OK    " : "NOT OK", what, rows, detail);
}

static void compare(const char *what, int rows, const double *want, const double *got, long n) {
    double worst = 0;
    for (long i = 0; i < n; i++) {
        double scale = fmax(fabs(want[i]), fabs(got[i]));
        double err = fabs(want[i] - got[i]) / (scale > 1 ? scale : 1);
        if (!(err <= worst)) worst = err; /* NaN is the worst */
    }
    char detail[64];
    snprintf(detail, sizeof detail, "max rel diff %.3e", worst);
    kh_report(worst <= TOLERANCE, what, rows, detail);
}

static double **per_param(const KhSetup *s, double *flat) {
    double **v = calloc((size_t)s->m->params.len + 1, sizeof *v);
    for (int i = 0; i < s->m->params.len; i++) v[i] = flat + s->layout.param_off[i];
    return v;
}

/* Scratch with a guard zone after what the descriptor asks for. */
double *kh_scratch(const NncModel *d, int rows, long *size) {
    *size = d->scratch_fixed + rows * d->scratch_per_row;
    double *s = malloc(sizeof *s * (size_t)(*size + 64));
    for (long i = 0; i < *size + 64; i++) s[i] = 12345.0;
    return s;
}

void kh_check_guard(const char *what, double *s, long size) {
    for (long i = size; i < size + 64; i++)
        if (s[i] != 12345.0) {
            printf("NOT OK %s wrote past its scratch\n", what);
            failures++;
            break;
        }
    free(s);
}

static void interp(const IrFunc *f, IrEnv *env) {
    char err[256];
    if (!ir_interp(f, env, err, sizeof err)) printf("interp: %s\n", err);
}

static void init_params(KhSetup *s) {
    s->params = kh_zeros(s->layout.param_floats);
    s->pview = per_param(s, s->params);
    for (int i = 0; i < s->m->params.len; i++) {
        const IrParam *p = &s->m->params.items[i];
        double lo = p->role == ROLE_NORM_VARIANCE ? 0.5 : p->role == ROLE_NORM_MAX ? 2 : -0.5;
        double hi = p->role == ROLE_NORM_VARIANCE ? 2 : p->role == ROLE_NORM_MAX ? 6 : 0.5;
        for (long e = 0; e < shape_numel(p->shape); e++) s->pview[i][e] = uniform(lo, hi);
    }
}

/* ---- the kernels ---- */

static void check_predict(KhSetup *s) {
    const NncModel *d = s->d;
    long size, n_out = d->n_outputs;
    double *want = kh_zeros(s->rows * n_out), *got = kh_zeros(s->rows * n_out);
    double *scratch = kh_scratch(d, s->rows, &size);
    IrEnv env = {.rows = s->rows, .input = s->x, .params = s->pview, .grad_scale = 1, .pred_out = want};
    interp(s->m->predict, &env);
    d->predict(s->params, scratch, s->x, got, s->rows);
    compare("predict: predictions", s->rows, want, got, s->rows * n_out);
    kh_check_guard("predict", scratch, size);
    free(want);
    free(got);
}

/* What an earlier step left in the gradients: forward_backward writes every
** trainable parameter's gradient (kernel ABI 4), it does not add to them. */
static void stale_gradients(const KhSetup *s, double *g) {
    for (int i = 0; i < s->m->params.len; i++) {
        const IrParam *p = &s->m->params.items[i];
        if (!p->trainable) continue;
        for (long e = 0; e < shape_numel(p->shape); e++) g[s->layout.param_off[i] + e] = 777.0;
    }
}

static void check_rows_loss(KhSetup *s, bool train) {
    const NncModel *d = s->d;
    long size, n_out = d->n_outputs;
    double *want_y = kh_zeros(s->rows * n_out), *got_y = kh_zeros(s->rows * n_out), *loss = kh_zeros(s->rows);
    double *want_g = kh_zeros(s->layout.param_floats), *got_g = kh_zeros(s->layout.param_floats);
    double *scratch = kh_scratch(d, s->rows, &size), scale = 1.0 / s->rows, got_loss;
    double **gview = per_param(s, want_g);
    uint64_t seed = 42, first = 3;
    IrEnv env = {.rows = s->rows, .input = s->x, .target = s->t, .params = s->pview, .grads = gview,
                 .grad_scale = scale, .seed = seed, .first_row = first, .loss = loss, .pred_out = want_y};
    interp(train ? s->m->train : s->m->eval, &env);
    if (train) {
        stale_gradients(s, got_g);
        got_loss = d->forward_backward(s->params, got_g, scratch, s->x, s->t, s->rows, scale, seed, first, got_y);
    } else
        got_loss = d->eval_loss(s->params, scratch, s->x, s->t, s->rows, got_y);
    double want_loss = 0;
    for (int r = 0; r < s->rows; r++) want_loss += loss[r];
    compare(train ? "forward_backward: loss" : "eval_loss: loss", s->rows, &want_loss, &got_loss, 1);
    compare(train ? "forward_backward: predictions" : "eval_loss: predictions", s->rows, want_y, got_y,
            s->rows * n_out);
    if (train) compare("forward_backward: gradients", s->rows, want_g, got_g, s->layout.param_floats);
    kh_check_guard(train ? "forward_backward" : "eval_loss", scratch, size);
    free(want_y);
    free(got_y);
    free(loss);
    free(want_g);
    free(got_g);
    free(gview);
}

static void check_regularize(KhSetup *s) {
    const NncModel *d = s->d;
    if (!s->m->regularize || !s->m->regularize->outputs.len) {
        kh_report(!d->regularize, "regularize", 1, "no regularizer");
        return;
    }
    double *want_g = kh_zeros(s->layout.param_floats), *got_g = kh_zeros(s->layout.param_floats), loss = 0;
    double **gview = per_param(s, want_g);
    IrEnv env = {.rows = 1, .params = s->pview, .grads = gview, .grad_scale = 1, .loss = &loss};
    interp(s->m->regularize, &env);
    double got = d->regularize(s->params, got_g);
    compare("regularize: loss", 1, &loss, &got, 1);
    compare("regularize: gradients", 1, want_g, got_g, s->layout.param_floats);
    free(want_g);
    free(got_g);
    free(gview);
}

/* The update in three ranges of whole NNC_RANGE_ALIGN blocks, the last
** first, as threads or ranks may run them: the same step as one call (kernel
** ABI), unless the model says it must take it whole. */
static void update_in_pieces(const NncModel *d, double *params, const double *grads, double *opt, long step) {
    long blocks = d->param_floats / NNC_RANGE_ALIGN;
    long cut[4] = {0, blocks / 3 * NNC_RANGE_ALIGN, blocks * 2 / 3 * NNC_RANGE_ALIGN, d->param_floats};
    if (d->update_whole_range) {
        d->update(params, grads, opt, step, 0.01, 0, d->param_floats);
        return;
    }
    for (int piece = 2; piece >= 0; piece--) d->update(params, grads, opt, step, 0.01, cut[piece], cut[piece + 1]);
}

/* Step 1 (the state's initial values) and step 3. */
static void check_update(KhSetup *s, long step) {
    const NncModel *d = s->d;
    const IrModule *m = s->m;
    int np = m->params.len;
    double *grads = kh_zeros(s->layout.param_floats), *opt = kh_zeros(s->layout.opt_floats);
    double *want_p = kh_zeros(s->layout.param_floats), *want_o = kh_zeros(s->layout.opt_floats);
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
    if (m->update && m->update->outputs.len) interp(m->update, &env);
    update_in_pieces(d, s->params, grads, opt, step);
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

static void rows_check(KhSetup *s, int rows, const KhDriver *driver) {
    s->rows = rows;
    s->x = kh_zeros(rows * s->d->n_inputs);
    s->t = kh_zeros(rows * s->d->target_width);
    for (long i = 0; i < rows * s->d->n_inputs; i++) s->x[i] = uniform(-3, 3);
    for (int r = 0; r < rows; r++) target_row(s->d, s->t + r * s->d->target_width);
    check_predict(s);
    check_rows_loss(s, true);
    check_rows_loss(s, false);
    if (driver->extra) driver->extra(s);
    free(s->x);
    free(s->t);
}

int kh_main(int argc, char **argv, const KhDriver *driver) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.nn [-ON] [--csv ROWS]\n", driver->name);
        return 2;
    }
    int level = 2;
    long csv = -1;
    for (int i = 2; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] == 'O') level = argv[i][2] - '0';
        if (!strcmp(argv[i], "--csv") && i + 1 < argc) csv = atol(argv[++i]);
    }
    Arena *arena = arena_new();
    KhSetup s = {.m = load(arena, argv[1], level)};
    s.d = driver->kernels(s.m, argv[1], level);
    if (!s.d) {
        failures++;
    } else if (csv >= 0) {
        write_csv(s.d, csv);
        failures += fflush(stdout) != 0;
    } else {
        s.layout = cg_layout(arena, s.m);
        if (s.d->real_bytes != 8 || s.d->param_floats != s.layout.param_floats) {
            printf("NOT OK the kernels are not this model's, or not f64\n");
            failures++;
        } else {
            init_params(&s);
            rows_check(&s, 1, driver);
            rows_check(&s, 37, driver);
            check_regularize(&s);
            check_update(&s, 1);
            check_update(&s, 3);
            free(s.params);
            free(s.pview);
        }
    }
    if (driver->done) driver->done();
    arena_free(arena);
    return failures ? 1 : 0;
}
