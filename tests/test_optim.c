/*
** test_optim.c — optim.c's update function against SPEC 1.9 computed by
** hand: every optimizer (and its variants: momentum, nesterov, amsgrad,
** adagrad's initial accumulator, adamw's decay) takes three steps with
** changing gradients, run through the reference interpreter, raw and at
** -O2; each step's weights and state must match the formulas written out
** below in plain C, element by element, to 1e-13 relative.
*/
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "ir/ir.h"

static Arena *arena;

static void setup(void) {
    arena = arena_new();
}

static void teardown(void) {
    arena_free(arena);
}

TestSuite(optim, .init = setup, .fini = teardown);

enum { N = 4, STEPS = 3 };

/* Initial weights and the gradient of each step, per element: signs and
** sizes vary, and gradients shrink so that amsgrad's max matters. */
static const double w0[N] = {0.5, -1.25, 2.0, 0.0};
static const double grads[STEPS][N] = {
    {0.3, -2.0, 0.01, 1.0},
    {-0.1, -1.0, 0.02, 0.001},
    {0.05, 0.5, -0.04, 0.0},
};
static const double lrs[STEPS] = {0.01, 0.01, 0.005}; /* a callback may change it */

/* ---- SPEC 1.9, by hand, one element at a time ---- */

typedef struct Ref {
    double w, s[4];
} Ref;

static void ref_step(const OptSpec *o, Ref *r, double g, double lr, int t) {
    double *s = r->s;
    switch (o->kind) {
    case OPT_SGD:
        if (o->momentum == 0) {
            r->w -= lr * g; /* w −= lr·g */
        } else {
            s[0] = o->momentum * s[0] - lr * g; /* v = m·v − lr·g */
            if (o->nesterov) r->w += o->momentum * s[0] - lr * g; /* w += m·v − lr·g */
            else r->w += s[0];                                    /* w += v */
        }
        break;
    case OPT_RMSPROP:
        s[0] = o->rho * s[0] + (1 - o->rho) * g * g;     /* a = ρa + (1−ρ)g² */
        r->w -= lr * g / (sqrt(s[0]) + o->epsilon);       /* w −= lr·g/(√a + ε) */
        break;
    case OPT_ADAGRAD:
        s[0] += g * g;                                    /* a += g² */
        r->w -= lr * g / (sqrt(s[0]) + o->epsilon);       /* w −= lr·g/(√a + ε) */
        break;
    case OPT_ADADELTA: {
        s[0] = o->rho * s[0] + (1 - o->rho) * g * g;     /* a = ρa + (1−ρ)g² */
        double d = -sqrt(s[1] + o->epsilon) / sqrt(s[0] + o->epsilon) * g; /* d = −√(D+ε)/√(a+ε)·g */
        s[1] = o->rho * s[1] + (1 - o->rho) * d * d;     /* D = ρD + (1−ρ)d² */
        r->w += lr * d;                                   /* w += lr·d */
        break;
    }
    case OPT_ADAMW:
        r->w -= lr * o->weight_decay * r->w; /* w −= lr·wd·w, then adam */
        /* fall through */
    case OPT_ADAM: {
        s[0] = o->beta_1 * s[0] + (1 - o->beta_1) * g;         /* m = β₁m + (1−β₁)g */
        s[1] = o->beta_2 * s[1] + (1 - o->beta_2) * g * g;     /* v = β₂v + (1−β₂)g² */
        double alpha = lr * sqrt(1 - pow(o->beta_2, t)) / (1 - pow(o->beta_1, t));
        double v = s[1];
        if (o->amsgrad) v = s[2] = fmax(s[2], s[1]);          /* v̂ = max(v̂, v) */
        r->w -= alpha * s[0] / (sqrt(v) + o->epsilon);          /* w −= α·m/(√v + ε) */
        break;
    }
    case OPT_ADAMAX:
        s[0] = o->beta_1 * s[0] + (1 - o->beta_1) * g;         /* m = β₁m + (1−β₁)g */
        s[1] = fmax(o->beta_2 * s[1], fabs(g));                 /* u = max(β₂u, |g|) */
        r->w -= lr / (1 - pow(o->beta_1, t)) * s[0] / (s[1] + o->epsilon); /* w −= lr/(1−β₁ᵗ)·m/(u+ε) */
        break;
    }
}

/* ---- the update function through the interpreter ---- */

static OptSpec keras(OptKind kind) {
    return (OptSpec){.kind = kind, .learning_rate = 0.001, .rho = kind == OPT_ADADELTA ? 0.95 : 0.9,
                     .epsilon = 1e-7, .beta_1 = 0.9, .beta_2 = 0.999,
                     .initial_accumulator_value = 0.1, .weight_decay = 0.004};
}

static void check_optimizer(OptSpec o, int expect_slots, const char *what) {
    for (int level = 0; level <= 2; level += 2) {
        IrModule *m = ir_module_new(arena, "o.nn", "o");
        m->optimizer = o;
        /* a frozen statistic first: update must skip it */
        ir_add_param(m, (IrParam){.name = "stat", .shape = shape_vector(N), .role = ROLE_NORM_MEAN});
        ir_add_param(m, (IrParam){.name = "w", .shape = shape_matrix(2, 2), .role = ROLE_WEIGHT, .trainable = true});
        IrFunc *f = grad_build_update(m);
        char why[256];
        cr_assert(ir_verify(f, why, sizeof why), "%s: %s", what, why);
        if (level) f = ir_optimize(f, level, NULL);
        cr_assert_eq(m->opt_slots, expect_slots, "%s: %d slots", what, m->opt_slots);
        cr_assert_eq(ir_opt_slots(&o), expect_slots);
        int outs = 0;
        for (int i = 0; i < f->outputs.len; i++) {
            cr_assert_eq(f->outputs.items[i].param, 1, "%s: an output for the frozen statistic", what);
            outs++;
        }
        cr_assert_eq(outs, 1 + expect_slots, "%s: %d outputs", what, outs);

        double stat[N] = {0}, w[N], g[N], state[4][N];
        Ref ref[N];
        double init = o.kind == OPT_ADAGRAD ? o.initial_accumulator_value : 0;
        cr_assert_eq(m->opt_state_init[0], init);
        for (int i = 0; i < N; i++) {
            w[i] = ref[i].w = w0[i];
            for (int k = 0; k < 4; k++) state[k][i] = ref[i].s[k] = k < expect_slots ? m->opt_state_init[k] : 0;
        }
        double *slots[4] = {state[0], state[1], state[2], state[3]};
        double *params[2] = {stat, w}, *gbuf[2] = {NULL, g}, **st[2] = {NULL, slots};
        for (int t = 1; t <= STEPS; t++) {
            memcpy(g, grads[t - 1], sizeof g);
            IrEnv env = {.rows = 1, .params = params, .grads = gbuf, .state = st,
                         .hyper = {[HYPER_LEARNING_RATE] = lrs[t - 1], [HYPER_STEP] = t}};
            char err[256];
            cr_assert(ir_interp(f, &env, err, sizeof err), "%s: %s", what, err);
            for (int i = 0; i < N; i++) {
                ref_step(&o, &ref[i], grads[t - 1][i], lrs[t - 1], t);
                cr_assert(fabs(w[i] - ref[i].w) <= 1e-13 * fmax(fabs(ref[i].w), 1e-3),
                          "%s -O%d step %d w[%d]: %.17g, by hand %.17g", what, level, t, i, w[i], ref[i].w);
                for (int k = 0; k < expect_slots; k++)
                    cr_assert(fabs(state[k][i] - ref[i].s[k]) <= 1e-13 * fmax(fabs(ref[i].s[k]), 1e-12),
                              "%s -O%d step %d state %d[%d]: %.17g, by hand %.17g", what, level, t, k, i,
                              state[k][i], ref[i].s[k]);
            }
        }
    }
}

Test(optim, sgd) {
    OptSpec o = keras(OPT_SGD);
    check_optimizer(o, 0, "sgd");
    o.momentum = 0.9;
    check_optimizer(o, 1, "sgd momentum");
    o.nesterov = true;
    check_optimizer(o, 1, "sgd nesterov");
}

Test(optim, rmsprop) {
    check_optimizer(keras(OPT_RMSPROP), 1, "rmsprop");
}

Test(optim, adagrad) {
    OptSpec o = keras(OPT_ADAGRAD);
    check_optimizer(o, 1, "adagrad");
    o.initial_accumulator_value = 0.5;
    check_optimizer(o, 1, "adagrad initial 0.5");
}

Test(optim, adadelta) {
    check_optimizer(keras(OPT_ADADELTA), 2, "adadelta");
}

Test(optim, adam) {
    OptSpec o = keras(OPT_ADAM);
    check_optimizer(o, 2, "adam");
    o.amsgrad = true;
    check_optimizer(o, 3, "adam amsgrad");
    o = keras(OPT_ADAM);
    o.beta_1 = 0.5;
    o.beta_2 = 0.75;
    o.epsilon = 0.01;
    check_optimizer(o, 2, "adam beta 0.5 0.75");
}

Test(optim, adamax) {
    check_optimizer(keras(OPT_ADAMAX), 2, "adamax");
}

Test(optim, adamw) {
    OptSpec o = keras(OPT_ADAMW);
    check_optimizer(o, 2, "adamw");
    o.amsgrad = true;
    o.weight_decay = 0.5;
    check_optimizer(o, 3, "adamw amsgrad");
}

/* Concrete numbers, one step: the formulas above are not tested against
** themselves only. w = 1, g = 0.5, lr = 0.1 for sgd; lr = 0.001 for adam:
** m = 0.05, v = 0.00025, α = 0.001·√0.001/0.1, w = 1 − α·0.05/(√0.00025 + 1e-7). */
Test(optim, concrete_first_steps) {
    Ref r = {.w = 1};
    OptSpec sgd = keras(OPT_SGD);
    ref_step(&sgd, &r, 0.5, 0.1, 1);
    cr_assert_float_eq(r.w, 0.95, 1e-15);
    r = (Ref){.w = 1};
    OptSpec adam = keras(OPT_ADAM);
    ref_step(&adam, &r, 0.5, 0.001, 1);
    cr_assert_float_eq(r.s[0], 0.05, 1e-15);
    cr_assert_float_eq(r.s[1], 0.00025, 1e-15);
    double alpha = 0.001 * sqrt(0.001) / 0.1;
    cr_assert_float_eq(r.w, 1 - alpha * 0.05 / (sqrt(0.00025) + 1e-7), 1e-15);
    cr_assert_float_eq(r.w, 0.99900000632452, 1e-13); /* 1 − 0.001·(1 − 6.3e-6): the step is ≈ lr */
}

/* No trainable parameter: an update with no outputs and no nodes. */
Test(optim, nothing_to_train) {
    IrModule *m = ir_module_new(arena, "o.nn", "o");
    m->optimizer = keras(OPT_ADAM);
    ir_add_param(m, (IrParam){.name = "stat", .shape = shape_vector(N), .role = ROLE_NORM_MEAN});
    IrFunc *f = grad_build_update(m);
    char why[256];
    cr_assert(ir_verify(f, why, sizeof why), "%s", why);
    cr_assert_eq(f->outputs.len, 0);
    cr_assert_eq(f->nodes.len, 0);
}
