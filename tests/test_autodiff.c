/*
** test_autodiff.c — autodiff.c, loss.c and train.c against finite
** differences, in double precision through the reference interpreter.
**
** Three layers, each proving the one above it:
**   op_*      every derivative rule: a function with trainable parameters
**             (and, where it matters, a per-sample input) computes
**             loss = Σ op(...)·R for a random constant R; the gradients
**             grad_backward emits are compared with central differences.
**   loss_*    every loss of SPEC 1.8 after every kind of output, through
**             ir_build_training (-O0 and -O2), from .nn source.
**   model_*   every model in examples/ and the SPEC's models: the train
**             function's OUT_GRAD against differences of Σ_rows loss_row
**             (dropout masks fixed by the seed), and regularize's.
** Tests named stable_* and fused_* check what the algebra pass must
** deliver (SPEC 1.8's stable forms at z = ±30 and the shape of the fused
** gradient); they depend on passes.c. The rest hold at -O0 as at -O2.
**
** The differences use the 4-point stencil (−f(θ+2h) + 8f(θ+h) − 8f(θ−h) +
** f(θ−2h))/12h, h = 1e-5·max(1, |θ|): truncation O(h⁴), rounding about
** 1e-16·|f|/h, so agreement to 1e-8 is expected where the function is smooth.
** Set NNC_FD_VERBOSE=1 to print each check's maximum relative error.
*/
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "frontend/frontend.h"
#include "ir/ir.h"

static Arena *arena;

static void setup(void) {
    arena = arena_new();
}

static void teardown(void) {
    arena_free(arena);
}

TestSuite(autodiff, .init = setup, .fini = teardown);

static const Loc NOLOC = {0};

/* ---- deterministic random numbers ---- */

static uint64_t rng = 0x9E3779B97F4A7C15u;

static double urand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static double uniform(double lo, double hi) {
    return lo + (hi - lo) * urand();
}

/* ---- finite differences of a whole function ---- */

#define FD_TOL 1e-7

/* What one interpreter run needs: per-parameter buffers and the batch. */
typedef struct Run {
    const IrFunc *f;
    int rows;
    double *input, *target;
    double **params, **grads;
    uint64_t seed;
} Run;

static double **param_buffers(const IrModule *m) {
    double **b = ARENA_ARRAY(arena, double *, m->params.len + 1);
    for (int p = 0; p < m->params.len; p++)
        b[p] = ARENA_ARRAY(arena, double, shape_numel(m->params.items[p].shape));
    return b;
}

static const IrOutput *find_output(const IrFunc *f, IrOutputKind kind, int param) {
    for (int i = 0; i < f->outputs.len; i++)
        if (f->outputs.items[i].kind == kind && (kind != OUT_GRAD || f->outputs.items[i].param == param))
            return &f->outputs.items[i];
    return NULL;
}

/* Σ_rows loss_row (a uniform loss counts once per row, as the ABI sums it);
** adds the gradient outputs into r->grads. */
static double run_loss(Run *r) {
    const IrModule *m = r->f->module;
    double *loss = ARENA_ARRAY(arena, double, r->rows);
    double *pred = ARENA_ARRAY(arena, double, r->rows * shape_numel(m->output_shape) + 1);
    IrEnv env = {.rows = r->rows, .input = r->input, .target = r->target, .params = r->params,
                 .grads = r->grads, .grad_scale = 1, .seed = r->seed, .loss = loss, .pred_out = pred};
    char err[256];
    cr_assert(ir_interp(r->f, &env, err, sizeof err), "%s", err);
    const IrOutput *out = find_output(r->f, OUT_LOSS, 0);
    cr_assert(out, "%s has no loss", r->f->name);
    if (!out->value->varying) return r->rows * loss[0];
    double sum = 0;
    for (int i = 0; i < r->rows; i++) sum += loss[i];
    return sum;
}

static double loss_at(Run *r, double *v, double at) {
    double keep = *v;
    *v = at;
    double l = run_loss(r);
    *v = keep;
    return l;
}

/* Compares each OUT_GRAD of r->f (and 0 for a trainable parameter without
** one) with differences, on at most `sample` elements per parameter.
** Returns the largest relative error, |g − d| / max(|g|, |d|, floor). The
** floor is 1e-3·max(1, |loss|): the differences' rounding is about
** 1e-11·|loss|, so a component that is zero (a dead relu, step) or tiny is
** measured against the loss's scale rather than against its own noise. */
static double fd_check(Run *r, const char *what, int sample, double tol) {
    const IrModule *m = r->f->module;
    double **scratch = param_buffers(m);
    double **analytic = param_buffers(m);
    Run a = *r;
    a.grads = analytic;
    double base = run_loss(&a);
    cr_assert(isfinite(base), "%s: the loss is %g", what, base);
    a.grads = scratch;

    int total = 0;
    for (int p = 0; p < m->params.len; p++) total += (int)shape_numel(m->params.items[p].shape);
    double *g = ARENA_ARRAY(arena, double, total + 1), *d = ARENA_ARRAY(arena, double, total + 1);
    const char **names = ARENA_ARRAY(arena, const char *, total + 1);
    int *elems = ARENA_ARRAY(arena, int, total + 1);
    int count = 0;
    for (int p = 0; p < m->params.len; p++) {
        const IrParam *prm = &m->params.items[p];
        if (!prm->trainable) continue;
        int64_t n = shape_numel(prm->shape);
        for (int64_t k = 0; k < n && k < sample; k++) {
            int64_t e = n <= sample ? k : (int64_t)(urand() * (double)n);
            double *v = &r->params[p][e];
            double h = 1e-5 * fmax(1, fabs(*v));
            double fd = (-loss_at(&a, v, *v + 2 * h) + 8 * loss_at(&a, v, *v + h) -
                         8 * loss_at(&a, v, *v - h) + loss_at(&a, v, *v - 2 * h)) / (12 * h);
            g[count] = analytic[p][e];
            d[count] = fd;
            names[count] = prm->name;
            elems[count] = (int)e;
            count++;
        }
    }
    double worst = 0, floor = 1e-3 * fmax(1, fabs(base));
    int at = -1;
    for (int i = 0; i < count; i++) {
        cr_assert(isfinite(g[i]), "%s: gradient of %s[%d] is %g", what, names[i], elems[i], g[i]);
        double err = fabs(g[i] - d[i]) / fmax(fmax(fabs(g[i]), fabs(d[i])), floor);
        if (err > worst) {
            worst = err;
            at = i;
        }
    }
    if (getenv("NNC_FD_VERBOSE"))
        fprintf(stderr, "fd %-44s %4d elements  max rel err %.3g\n", what, count, worst);
    cr_assert(worst <= tol, "%s: %s[%d]: autodiff %.17g, differences %.17g (rel err %.3g)", what,
              names[at], elems[at], g[at], d[at], worst);
    return worst;
}

/* ---- op tests: hand-built functions ---- */

typedef struct OpTest {
    IrModule *m;
    IrFunc *f;
    IrNode *x;       /* the per-sample input, or NULL */
    IrNode *p[4];    /* the parameters */
    int rows;
} OpTest;

/* Parameters of the given shapes (values in [lo, hi]); an input when
** input.rank >= 0 (values in [lo, hi] too). */
static OpTest op_test(int nparams, const Shape *shapes, Shape input, bool has_input) {
    OpTest t = {.m = ir_module_new(arena, "op.nn", "op"), .rows = has_input ? 3 : 2};
    t.m->output_shape = shape_scalar();
    t.f = ir_func_new(t.m, "t");
    if (has_input) {
        t.m->input_name = "x";
        t.m->input_shape = input;
        t.x = ir_input(t.f, input, NOLOC);
    }
    for (int i = 0; i < nparams; i++) {
        char *name = arena_printf(arena, "p%d", i);
        int id = ir_add_param(t.m, (IrParam){.name = name, .shape = shapes[i], .role = ROLE_WEIGHT,
                                             .trainable = true});
        t.p[i] = ir_param(t.f, id, NOLOC);
    }
    return t;
}

static IrNode *un(OpTest *t, Op op, IrNode *a) {
    return ir_unary(t->f, op, a, NOLOC);
}

static IrNode *bin(OpTest *t, Op op, IrNode *a, IrNode *b) {
    return ir_binary(t->f, op, a, b, NOLOC);
}

static IrNode *scalar(OpTest *t, double v) {
    return ir_const(t->f, v, shape_scalar(), NOLOC);
}

static IrNode *random_const(OpTest *t, Shape s) {
    int64_t n = shape_numel(s);
    double *data = ARENA_ARRAY(arena, double, n);
    for (int64_t i = 0; i < n; i++) data[i] = uniform(-1, 1);
    return ir_const_data(t->f, data, s, NOLOC);
}

/* loss = Σ y·R; differentiates, runs, compares. Values in [lo, hi]. */
static double op_check(OpTest *t, IrNode *y, const char *what, double lo, double hi) {
    IrNode *loss = ir_reduce(t->f, OP_SUM, bin(t, OP_MUL, y, random_const(t, y->shape)), IR_AXIS_ALL, NOLOC);
    IrNode **grads = ARENA_ARRAY(arena, IrNode *, t->m->params.len);
    grad_backward(t->f, loss, true, grads);
    ir_add_output(t->f, OUT_LOSS, 0, 0, loss);
    for (int p = 0; p < t->m->params.len; p++)
        if (grads[p]) ir_add_output(t->f, OUT_GRAD, p, 0, grads[p]);
    char why[256];
    cr_assert(ir_verify(t->f, why, sizeof why), "%s: %s", what, why);
    Run r = {.f = t->f, .rows = t->rows, .params = param_buffers(t->m), .seed = 7};
    for (int p = 0; p < t->m->params.len; p++)
        for (int64_t i = 0; i < shape_numel(t->m->params.items[p].shape); i++) r.params[p][i] = uniform(lo, hi);
    if (t->x) {
        int64_t n = t->rows * shape_numel(t->x->shape);
        r.input = ARENA_ARRAY(arena, double, n);
        for (int64_t i = 0; i < n; i++) r.input[i] = uniform(lo, hi);
    }
    return fd_check(&r, what, 1 << 30, FD_TOL);
}

static Shape S(int rank, ...) {
    Shape s = {.rank = rank};
    va_list ap;
    va_start(ap, rank);
    for (int i = 0; i < rank; i++) s.dim[i] = va_arg(ap, int);
    va_end(ap);
    return s;
}

static const Shape NOSHAPE = {0};

/* ---- element-wise unary ---- */

typedef struct UnaryCase {
    Op op;
    double alpha; /* OPF_ATTR ops */
    double lo, hi;
} UnaryCase;

static const UnaryCase unary_cases[] = {
    {OP_NEG, 0, -2, 2},      {OP_EXP, 0, -2, 2},      {OP_LOG, 0, 0.3, 3},
    {OP_SQRT, 0, 0.3, 3},    {OP_ABS, 0, -2, 2},      {OP_SQUARE, 0, -2, 2},
    {OP_STEP, 0, -2, 2},     {OP_RELU, 0, -2, 2},     {OP_LEAKY_RELU, 0.3, -2, 2},
    {OP_LEAKY_RELU, 0.1, -2, 2}, {OP_ELU, 1, -2, 2},  {OP_ELU, 0.7, -2, 2},
    {OP_SELU, 0, -2, 2},     {OP_SIGMOID, 0, -4, 4},  {OP_TANH, 0, -2, 2},
    {OP_SOFTPLUS, 0, -4, 4}, {OP_SOFTSIGN, 0, -3, 3}, {OP_SWISH, 0, -4, 4},
    {OP_GELU, 0, -3, 3},     {OP_SIGN, 0, -2, 2},     {OP_ERF, 0, -2, 2},
};

static IrNode *apply_unary(OpTest *t, const UnaryCase *c, IrNode *a) {
    if (ir_ops[c->op].flags & OPF_ATTR) return ir_unary_attr(t->f, c->op, a, c->alpha, NOLOC);
    return un(t, c->op, a);
}

Test(autodiff, op_unary) {
    for (size_t i = 0; i < sizeof unary_cases / sizeof *unary_cases; i++) {
        const UnaryCase *c = &unary_cases[i];
        OpTest t = op_test(1, (Shape[]){S(2, 2, 3)}, NOSHAPE, false);
        op_check(&t, apply_unary(&t, c, t.p[0]), ir_ops[c->op].name, c->lo, c->hi);
    }
}

/* The same on a per-sample value: op(x · W), so the parameter's gradient
** is a batch sum of per-row contributions. */
Test(autodiff, op_unary_per_sample) {
    for (size_t i = 0; i < sizeof unary_cases / sizeof *unary_cases; i++) {
        const UnaryCase *c = &unary_cases[i];
        if (c->op == OP_LOG || c->op == OP_SQRT) continue; /* x · W may be negative */
        OpTest t = op_test(1, (Shape[]){S(2, 2, 3)}, S(1, 3), true);
        op_check(&t, apply_unary(&t, c, bin(&t, OP_MUL, t.x, t.p[0])),
                 arena_printf(arena, "%s(x*W)", ir_ops[c->op].name), c->lo, c->hi);
    }
}

/* ---- element-wise binary, with every kind of broadcast ---- */

Test(autodiff, op_binary_broadcast) {
    static const Op ops[] = {OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_DIVNZ, OP_POW, OP_MINIMUM, OP_MAXIMUM};
    const Shape pairs[][2] = {
        {S(2, 2, 3), S(2, 2, 3)}, {S(2, 2, 3), S(1, 3)}, {S(1, 3), S(2, 2, 3)}, {S(2, 2, 1), S(2, 2, 3)},
        {S(2, 2, 3), S(2, 1, 3)}, {S(0), S(2, 2, 3)},    {S(2, 2, 3), S(0)},    {S(1, 3), S(2, 2, 1)},
        {S(3, 2, 1, 3), S(2, 4, 1)},
    };
    for (size_t o = 0; o < sizeof ops / sizeof *ops; o++)
        for (size_t k = 0; k < sizeof pairs / sizeof *pairs; k++) {
            OpTest t = op_test(2, pairs[k], NOSHAPE, false);
            /* positive operands: division, pow's base and log */
            bool positive = ops[o] == OP_DIV || ops[o] == OP_DIVNZ || ops[o] == OP_POW;
            char a[32], b[32];
            op_check(&t, bin(&t, ops[o], t.p[0], t.p[1]),
                     arena_printf(arena, "%s %s %s", ir_ops[ops[o]].name, shape_format(pairs[k][0], a, sizeof a),
                                  shape_format(pairs[k][1], b, sizeof b)),
                     positive ? 0.4 : -2, 2);
        }
}

Test(autodiff, op_binary_per_sample) {
    static const Op ops[] = {OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_DIVNZ, OP_POW, OP_MINIMUM, OP_MAXIMUM};
    for (size_t o = 0; o < sizeof ops / sizeof *ops; o++) {
        bool positive = ops[o] == OP_DIV || ops[o] == OP_DIVNZ || ops[o] == OP_POW;
        /* x [3] against W [2, 3], both ways round */
        OpTest t = op_test(1, (Shape[]){S(2, 2, 3)}, S(1, 3), true);
        op_check(&t, bin(&t, ops[o], t.x, t.p[0]), arena_printf(arena, "%s(x, W)", ir_ops[ops[o]].name),
                 positive ? 0.4 : -2, 2);
        t = op_test(1, (Shape[]){S(2, 2, 3)}, S(1, 3), true);
        op_check(&t, bin(&t, ops[o], t.p[0], t.x), arena_printf(arena, "%s(W, x)", ir_ops[ops[o]].name),
                 positive ? 0.4 : -2, 2);
    }
}

/* Ties go to the first operand: at a == b exactly, d/da = 1, d/db = 0. */
Test(autodiff, op_minmax_ties) {
    for (int k = 0; k < 2; k++) {
        Op op = k ? OP_MAXIMUM : OP_MINIMUM;
        OpTest t = op_test(2, (Shape[]){S(0), S(0)}, NOSHAPE, false);
        IrNode *loss = bin(&t, op, t.p[0], t.p[1]);
        IrNode *grads[2];
        grad_backward(t.f, loss, false, grads);
        ir_add_output(t.f, OUT_GRAD, 0, 0, grads[0]);
        ir_add_output(t.f, OUT_GRAD, 1, 0, grads[1]);
        double a = 0.5, b = 0.5, ga = 0, gb = 0;
        IrEnv env = {.rows = 1, .params = (double *[]){&a, &b}, .grads = (double *[]){&ga, &gb}, .grad_scale = 1};
        char err[256];
        cr_assert(ir_interp(t.f, &env, err, sizeof err), "%s", err);
        cr_assert(ga == 1 && gb == 0, "%s tie: %g %g", ir_ops[op].name, ga, gb);
    }
}

/* relu'(0) = 0, |x|'(0) = 0 (SPEC 1.7; ops.def's SIGN). */
Test(autodiff, op_kinks_at_zero) {
    static const Op ops[] = {OP_RELU, OP_ABS};
    for (int k = 0; k < 2; k++) {
        OpTest t = op_test(1, (Shape[]){S(0)}, NOSHAPE, false);
        IrNode *grads[1];
        grad_backward(t.f, un(&t, ops[k], t.p[0]), false, grads);
        ir_add_output(t.f, OUT_GRAD, 0, 0, grads[0]);
        double w = 0, g = 0;
        IrEnv env = {.rows = 1, .params = (double *[]){&w}, .grads = (double *[]){&g}, .grad_scale = 1};
        char err[256];
        cr_assert(ir_interp(t.f, &env, err, sizeof err), "%s", err);
        cr_assert(g == 0, "%s'(0) = %g", ir_ops[ops[k]].name, g);
    }
}

Test(autodiff, op_select_and_comparisons) {
    OpTest t = op_test(3, (Shape[]){S(2, 2, 3), S(1, 3), S(2, 2, 3)}, NOSHAPE, false);
    IrNode *c = bin(&t, OP_GT, t.p[0], scalar(&t, 0));
    IrNode *sel = ir_emit(t.f, &(IrNode){.op = OP_SELECT, .nin = 3, .in = {c, t.p[1], t.p[2]}});
    op_check(&t, sel, "select", -1, 1);
    static const Op cmp[] = {OP_GT, OP_GE, OP_EQ};
    for (int k = 0; k < 3; k++) {
        t = op_test(3, (Shape[]){S(1, 3), S(1, 3), S(1, 3)}, NOSHAPE, false);
        op_check(&t, bin(&t, OP_MUL, bin(&t, cmp[k], t.p[0], t.p[1]), t.p[2]), ir_ops[cmp[k]].name, -1, 1);
    }
}

/* ---- reductions and softmax ---- */

Test(autodiff, op_reductions) {
    static const Op ops[] = {OP_SUM, OP_MEAN, OP_MAX, OP_LOGSUMEXP};
    const struct { Shape s; int axis; } cases[] = {
        {S(1, 5), IR_AXIS_ALL}, {S(1, 5), 0},          {S(2, 2, 3), IR_AXIS_ALL}, {S(2, 2, 3), 0},
        {S(2, 2, 3), 1},        {S(3, 2, 3, 4), 0},    {S(3, 2, 3, 4), 1},        {S(3, 2, 3, 4), 2},
        {S(3, 2, 3, 4), IR_AXIS_ALL}, {S(0), IR_AXIS_ALL},
    };
    for (size_t o = 0; o < sizeof ops / sizeof *ops; o++)
        for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
            OpTest t = op_test(1, &cases[k].s, NOSHAPE, false);
            char buf[32];
            /* random values are distinct, so max has one argmax */
            op_check(&t, ir_reduce(t.f, ops[o], t.p[0], cases[k].axis, NOLOC),
                     arena_printf(arena, "%s %s axis %d", ir_ops[ops[o]].name,
                                  shape_format(cases[k].s, buf, sizeof buf),
                                  cases[k].axis == IR_AXIS_ALL ? -99 : cases[k].axis),
                     -2, 2);
        }
    /* per sample: a reduction of x · W over an axis of W */
    for (size_t o = 0; o < sizeof ops / sizeof *ops; o++) {
        OpTest t = op_test(1, (Shape[]){S(2, 2, 3)}, S(1, 3), true);
        op_check(&t, ir_reduce(t.f, ops[o], bin(&t, OP_MUL, t.x, t.p[0]), 1, NOLOC),
                 arena_printf(arena, "%s(x*W, axis 1)", ir_ops[ops[o]].name), -2, 2);
    }
}

Test(autodiff, op_softmax) {
    const struct { Shape s; int axis; } cases[] = {
        {S(1, 5), 0}, {S(2, 2, 3), 0}, {S(2, 2, 3), 1}, {S(3, 2, 3, 4), 1}, {S(3, 2, 3, 4), 2},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        OpTest t = op_test(1, &cases[k].s, NOSHAPE, false);
        op_check(&t, ir_softmax(t.f, t.p[0], cases[k].axis, NOLOC),
                 arena_printf(arena, "softmax case %zu", k), -3, 3);
    }
    OpTest t = op_test(1, (Shape[]){S(2, 3, 4)}, S(1, 3), true);
    op_check(&t, ir_softmax(t.f, ir_matmul(t.f, t.x, t.p[0], NOLOC), 0, NOLOC), "softmax(x @ W)", -2, 2);
}

/* ---- linear algebra ---- */

Test(autodiff, op_matmul) {
    const Shape pairs[][2] = {
        {S(1, 3), S(1, 3)}, {S(1, 3), S(2, 3, 4)}, {S(2, 2, 3), S(1, 3)}, {S(2, 2, 3), S(2, 3, 4)},
        {S(2, 1, 3), S(2, 3, 1)},
    };
    for (size_t k = 0; k < sizeof pairs / sizeof *pairs; k++) {
        OpTest t = op_test(2, pairs[k], NOSHAPE, false);
        op_check(&t, ir_matmul(t.f, t.p[0], t.p[1], NOLOC), arena_printf(arena, "matmul case %zu", k), -2, 2);
    }
    /* per-sample operands: the dense layer x @ W, W @ x, x·w, and a matrix input */
    OpTest t = op_test(1, (Shape[]){S(2, 3, 4)}, S(1, 3), true);
    op_check(&t, ir_matmul(t.f, t.x, t.p[0], NOLOC), "x[3] @ W[3,4]", -2, 2);
    t = op_test(1, (Shape[]){S(2, 4, 3)}, S(1, 3), true);
    op_check(&t, ir_matmul(t.f, t.p[0], t.x, NOLOC), "W[4,3] @ x[3]", -2, 2);
    t = op_test(1, (Shape[]){S(1, 3)}, S(1, 3), true);
    op_check(&t, ir_matmul(t.f, t.x, t.p[0], NOLOC), "x[3] @ w[3]", -2, 2);
    t = op_test(1, (Shape[]){S(2, 3, 4)}, S(2, 2, 3), true);
    op_check(&t, ir_matmul(t.f, t.x, t.p[0], NOLOC), "X[2,3] @ W[3,4]", -2, 2);
    t = op_test(1, (Shape[]){S(2, 4, 2)}, S(2, 2, 3), true);
    op_check(&t, ir_matmul(t.f, t.p[0], t.x, NOLOC), "W[4,2] @ X[2,3]", -2, 2);
    /* a uniform value computed from W on the way: x @ (W·2) */
    t = op_test(1, (Shape[]){S(2, 3, 4)}, S(1, 3), true);
    op_check(&t, ir_matmul(t.f, t.x, bin(&t, OP_MUL, t.p[0], scalar(&t, 2)), NOLOC), "x @ (W*2)", -2, 2);
}

Test(autodiff, op_outer) {
    OpTest t = op_test(2, (Shape[]){S(1, 3), S(1, 4)}, NOSHAPE, false);
    op_check(&t, bin(&t, OP_OUTER, t.p[0], t.p[1]), "outer", -2, 2);
    t = op_test(1, (Shape[]){S(1, 4)}, S(1, 3), true);
    op_check(&t, bin(&t, OP_OUTER, t.x, t.p[0]), "outer(x, w)", -2, 2);
}

/* ---- structure ---- */

static IrNode *pad(OpTest *t, IrNode *x, Shape into, IrSlice slice) {
    return ir_emit(t->f, &(IrNode){.op = OP_PAD, .nin = 1, .in = {x}, .slice = slice, .shape = into});
}

Test(autodiff, op_structure) {
    OpTest t = op_test(1, (Shape[]){S(2, 2, 3)}, NOSHAPE, false);
    op_check(&t, ir_reshape(t.f, t.p[0], S(2, 3, 2), NOLOC), "reshape [2,3] -> [3,2]", -2, 2);
    t = op_test(1, (Shape[]){S(1, 6)}, NOSHAPE, false);
    op_check(&t, ir_reshape(t.f, t.p[0], S(3, 1, 2, 3), NOLOC), "reshape [6] -> [1,2,3]", -2, 2);
    t = op_test(1, (Shape[]){S(2, 2, 3)}, NOSHAPE, false);
    op_check(&t, ir_transpose(t.f, t.p[0], NOLOC), "transpose [2,3]", -2, 2);
    t = op_test(1, (Shape[]){S(3, 2, 3, 4)}, NOSHAPE, false);
    op_check(&t, ir_transpose(t.f, t.p[0], NOLOC), "transpose [2,3,4]", -2, 2);

    t = op_test(1, (Shape[]){S(1, 5)}, NOSHAPE, false);
    op_check(&t, ir_slice(t.f, t.p[0], &(IrSlice){.rank = 1, .start = {1}, .stop = {4}}, NOLOC), "slice [1:4]", -2, 2);
    t = op_test(1, (Shape[]){S(2, 2, 3)}, NOSHAPE, false);
    op_check(&t, ir_slice(t.f, t.p[0], &(IrSlice){.rank = 2, .start = {1, 0}, .stop = {2, 2}, .drop = 1}, NOLOC),
             "slice [1, 0:2]", -2, 2);
    t = op_test(1, (Shape[]){S(3, 2, 3, 4)}, NOSHAPE, false);
    op_check(&t, ir_slice(t.f, t.p[0], &(IrSlice){.rank = 3, .start = {0, 1, 1}, .stop = {2, 2, 3}, .drop = 2}, NOLOC),
             "slice [:, 1, 1:3]", -2, 2);
    t = op_test(1, (Shape[]){S(2, 2, 3)}, NOSHAPE, false);
    op_check(&t, ir_slice(t.f, t.p[0], &(IrSlice){.rank = 2, .start = {1, 2}, .stop = {2, 3}, .drop = 3}, NOLOC),
             "slice [1, 2]", -2, 2);

    t = op_test(1, (Shape[]){S(1, 2)}, NOSHAPE, false);
    op_check(&t, pad(&t, t.p[0], S(1, 5), (IrSlice){.rank = 1, .start = {1}, .stop = {3}}), "pad [2] into [5]", -2, 2);
    t = op_test(1, (Shape[]){S(1, 3)}, NOSHAPE, false);
    op_check(&t, pad(&t, t.p[0], S(2, 2, 3), (IrSlice){.rank = 2, .start = {1, 0}, .stop = {2, 3}, .drop = 1}),
             "pad [3] into [2,3] at [1, 0:3]", -2, 2);

    t = op_test(1, (Shape[]){S(1, 3)}, NOSHAPE, false);
    op_check(&t, ir_broadcast(t.f, t.p[0], S(2, 2, 3), NOLOC), "broadcast [3] -> [2,3]", -2, 2);
    t = op_test(1, (Shape[]){S(2, 2, 1)}, NOSHAPE, false);
    op_check(&t, ir_broadcast(t.f, t.p[0], S(2, 2, 3), NOLOC), "broadcast [2,1] -> [2,3]", -2, 2);
    t = op_test(1, (Shape[]){S(0)}, NOSHAPE, false);
    op_check(&t, ir_broadcast(t.f, t.p[0], S(3, 2, 1, 2), NOLOC), "broadcast [] -> [2,1,2]", -2, 2);
}

/* Several consumers of one node sum their contributions; a value used by
** both a per-sample and a uniform consumer gets a batch sum and a total. */
Test(autodiff, op_several_consumers) {
    OpTest t = op_test(1, (Shape[]){S(2, 2, 3)}, NOSHAPE, false);
    IrNode *w = t.p[0];
    op_check(&t, bin(&t, OP_ADD, bin(&t, OP_MUL, w, w), bin(&t, OP_MUL, un(&t, OP_EXP, w), w)), "w*w + exp(w)*w", -1, 1);
    t = op_test(2, (Shape[]){S(2, 2, 3), S(1, 3)}, S(1, 3), true);
    IrNode *u = bin(&t, OP_MUL, t.p[0], t.p[1]); /* uniform */
    IrNode *v = bin(&t, OP_ADD, bin(&t, OP_MUL, u, t.x), un(&t, OP_TANH, u));
    op_check(&t, v, "(W*b)*x + tanh(W*b)", -1, 1);
}

/* batch_sum in the graph: Σ_rows x_r·W, then a uniform loss (counted once
** per row by the ABI's sum, which BATCH_SUM of a uniform value gives). */
Test(autodiff, op_batch_sum) {
    OpTest t = op_test(2, (Shape[]){S(1, 3), S(1, 3)}, S(1, 3), true);
    IrNode *s = ir_emit(t.f, &(IrNode){.op = OP_BATCH_SUM, .nin = 1, .in = {bin(&t, OP_MUL, t.x, t.p[0])}});
    op_check(&t, bin(&t, OP_MUL, un(&t, OP_TANH, s), t.p[1]), "tanh(batch_sum(x*w)) * v", -1, 1);
}

/* dropout as train.c lowers it: the gradient passes through the same mask. */
Test(autodiff, op_dropout_mask) {
    OpTest t = op_test(1, (Shape[]){S(2, 3, 4)}, S(1, 3), true);
    IrNode *h = ir_matmul(t.f, t.x, t.p[0], NOLOC);
    IrNode *mask = ir_emit(t.f, &(IrNode){.op = OP_DROPOUT_MASK, .shape = h->shape, .value = 0.5, .axis = 0});
    op_check(&t, un(&t, OP_SIGMOID, bin(&t, OP_MUL, h, mask)), "sigmoid((x @ W) * mask)", -1, 1);
}

/* A parameter that does not reach the loss gets no gradient at all, and a
** non-trainable one none either. */
Test(autodiff, unreached_and_frozen) {
    OpTest t = op_test(3, (Shape[]){S(1, 3), S(1, 3), S(1, 3)}, NOSHAPE, false);
    t.m->params.items[2].trainable = false;
    IrNode *loss = ir_reduce(t.f, OP_SUM, bin(&t, OP_MUL, t.p[0], t.p[2]), IR_AXIS_ALL, NOLOC);
    IrNode *grads[3];
    grad_backward(t.f, loss, false, grads);
    cr_assert(grads[0] && !grads[1] && !grads[2]);
    cr_assert(!grads[0]->varying);
}

/* ---- from source ---- */

static IrModule *compile_source(const char *src) {
    Diag d;
    FILE *out = fopen("/dev/null", "w");
    diag_init(&d, "t.nn", src, strlen(src), out);
    d.no_warnings = true;
    Program *p = parse_program(arena, &d);
    IrModule *m = p && !diag_failed(&d) ? sema_check(arena, &d, p) : NULL;
    fclose(out);
    cr_assert(m, "the model does not compile:\n%s", src);
    return m;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = ARENA_ARRAY(arena, char, n + 1);
    cr_assert(fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    return buf;
}

/* Random values for every parameter, statistics that keep normalize sane. */
static void init_params(const IrModule *m, double **params) {
    for (int p = 0; p < m->params.len; p++) {
        const IrParam *prm = &m->params.items[p];
        int64_t n = shape_numel(prm->shape);
        for (int64_t i = 0; i < n; i++) {
            double v = uniform(-0.6, 0.6);
            switch (prm->role) {
            case ROLE_NORM_MIN: v = uniform(-1.2, -0.8); break;
            case ROLE_NORM_MAX: v = uniform(0.8, 1.2); break;
            case ROLE_NORM_MEAN: v = uniform(-0.2, 0.2); break;
            case ROLE_NORM_VARIANCE: v = uniform(0.5, 2); break;
            default: break;
            }
            params[p][i] = v;
        }
    }
}

/* Targets that the loss accepts (SPEC 3 "Data domain checks"). */
static void init_targets(const IrModule *m, double *t, int rows) {
    Shape ts = grad_target_shape(m);
    int64_t n = shape_numel(ts);
    int classes = m->output_shape.rank ? m->output_shape.dim[m->output_shape.rank - 1] : 1;
    for (int r = 0; r < rows; r++) {
        double *row = t + r * n, sum = 0;
        for (int64_t i = 0; i < n; i++) {
            switch (m->loss) {
            case LOSS_BINARY_CE: row[i] = uniform(0, 1); break;
            case LOSS_HINGE: case LOSS_SQUARED_HINGE: row[i] = urand() < 0.5 ? -1 : 1; break;
            case LOSS_SPARSE_CATEGORICAL_CE: row[i] = (int)(urand() * classes); break;
            case LOSS_CATEGORICAL_CE: case LOSS_KLD: sum += row[i] = uniform(0.05, 1); break;
            case LOSS_MSLE: row[i] = uniform(0, 2); break;
            default: row[i] = uniform(-1, 1); break;
            }
        }
        if (m->loss == LOSS_CATEGORICAL_CE || m->loss == LOSS_KLD)
            for (int64_t i = 0; i < n; i++) row[i] /= sum;
    }
}

/* Builds the training functions at `level` and checks train's gradients
** (and regularize's) against differences. */
static double model_check(IrModule *m, int level, const char *what, int sample) {
    ir_build_training(m, level);
    int rows = 3;
    Run r = {.f = m->train, .rows = rows, .params = param_buffers(m), .seed = 1234};
    init_params(m, r.params);
    int64_t nin = rows * shape_numel(m->input_shape);
    r.input = ARENA_ARRAY(arena, double, nin);
    for (int64_t i = 0; i < nin; i++) r.input[i] = uniform(-1, 1);
    r.target = ARENA_ARRAY(arena, double, rows * shape_numel(grad_target_shape(m)));
    init_targets(m, r.target, rows);
    double worst = fd_check(&r, arena_printf(arena, "%s -O%d train", what, level), sample, FD_TOL);
    if (m->regularize->outputs.len) {
        Run reg = {.f = m->regularize, .rows = 1, .params = r.params};
        worst = fmax(worst, fd_check(&reg, arena_printf(arena, "%s -O%d regularize", what, level), sample, FD_TOL));
    }
    return worst;
}

static void model_check_source(const char *src, const char *what, int sample) {
    for (int level = 0; level <= 2; level += 2) model_check(compile_source(src), level, what, sample);
}

/* ---- every loss after its usual output, and after others ---- */

static const char *const loss_models[][2] = {
    {"mse", "dense(3)"},
    {"mae", "dense(3, tanh)"},
    {"msle", "dense(3, softplus)"},
    {"msle", "dense(3)"}, /* negative predictions: max(p, ε) clips */
    {"binary_crossentropy", "dense(1, sigmoid)"},
    {"binary_crossentropy", "dense(3, sigmoid)"},
    {"binary_crossentropy", "dense(3, softmax)"},
    {"hinge", "dense(2, tanh)"},
    {"squared_hinge", "dense(2)"},
    {"categorical_crossentropy", "dense(4, softmax)"},
    {"categorical_crossentropy", "dense(4, sigmoid)"},
    {"sparse_categorical_crossentropy", "dense(4, softmax)"},
    {"kl_divergence", "dense(4, softmax)"},
    {"kl_divergence", "dense(4, sigmoid)"},
    {"mean(square(y_true - y_pred)) + 0.1 * sum(abs(y_pred))", "dense(3, tanh)"},
};

Test(autodiff, loss_every_kind) {
    for (size_t i = 0; i < sizeof loss_models / sizeof *loss_models; i++) {
        const char *src = arena_printf(arena,
                                       "model m {\n  input x[5]\n  dense(6, tanh)\n  %s\n}\n"
                                       "compile { loss = %s\n optimizer = sgd }\n",
                                       loss_models[i][1], loss_models[i][0]);
        model_check_source(src, arena_printf(arena, "%s after %s", loss_models[i][0], loss_models[i][1]), 1 << 30);
    }
}

/* Every activation as a hidden layer, trained through. */
Test(autodiff, loss_through_every_activation) {
    static const char *const acts[] = {"relu", "leaky_relu(alpha = 0.2)", "elu", "elu(alpha = 0.5)", "selu",
                                       "sigmoid", "tanh", "softplus", "softsign", "swish", "gelu", "linear",
                                       "softmax"};
    for (size_t i = 0; i < sizeof acts / sizeof *acts; i++) {
        const char *src = arena_printf(arena,
                                       "model m {\n  input x[4]\n  dense(5, %s)\n  dense(2)\n}\n"
                                       "compile { loss = mse\n optimizer = sgd }\n", acts[i]);
        model_check_source(src, arena_printf(arena, "through %s", acts[i]), 1 << 30);
    }
}

/* ---- whole models ---- */

Test(autodiff, model_examples) {
    DIR *dir = opendir("examples");
    cr_assert(dir, "run the tests from the repository root");
    const char *names[64];
    int count = 0;
    for (struct dirent *e; (e = readdir(dir)) && count < 64;) {
        size_t len = strlen(e->d_name);
        if (len > 3 && !strcmp(e->d_name + len - 3, ".nn")) names[count++] = arena_strdup(arena, e->d_name);
    }
    closedir(dir);
    cr_assert(count >= 1);
    for (int i = 0; i < count; i++) {
        const char *path = arena_printf(arena, "examples/%s", names[i]);
        model_check_source(slurp(path), path, 12);
    }
}

/* SPEC 1.1's models, and what the SPEC says nnc must accept. */
Test(autodiff, model_spec) {
    static const char *const models[] = {
        "model cancer {\n input x[30]\n normalize(minmax)\n dense(30, relu)\n dropout(0.5)\n"
        " dense(15, relu)\n dropout(0.5)\n dense(1, sigmoid)\n}\n"
        "compile { loss = binary_crossentropy\n optimizer = adam(learning_rate = 0.001) }\n",
        "model cancer2 {\n input x[30]\n param W1[30, 30] = glorot_uniform\n param b1[30] = zeros\n"
        " h = relu(x @ W1 + b1)\n y = dense(1, sigmoid)(h)\n output y\n}\n"
        "compile { loss = binary_crossentropy }\n",
        "model m { input x[3]; dense(1) }\n",
        /* explicit tensors: scalar params, matrix input, slices, reductions, transpose */
        "model t {\n input x[3, 4]\n param s = 0.5\n param W[4, 2]\n param v[3]\n"
        " h = tanh(x @ W * s)\n a = sum(h, axis = 1) + v\n b = transpose(h)[0, :]\n"
        " c = logsumexp(x[1:3, :] @ W, axis = 0)\n"
        " output dense(2, softmax)(a * max(b) + mean(c) + reshape(h, [6])[0:3])\n}\n"
        "compile { loss = categorical_crossentropy\n optimizer = rmsprop }\n",
        /* regularizers (l1 has a kink at 0; random weights avoid it) */
        "model r {\n input x[4]\n normalize(standard)\n"
        " dense(3, relu, kernel_regularizer = l1_l2(l1 = 0.01, l2 = 0.02), bias_regularizer = l2(0.5))\n"
        " dense(1, kernel_regularizer = l1(0.1))\n}\n"
        "compile { loss = mae }\n",
        /* powers, minimum/maximum, division on the path to the parameters */
        "model p {\n input x[3]\n param a[3] = 1.5\n param k = 2\n"
        " y = pow(abs(x) + square(a) + 0.1, k) / (1 + square(a))\n output sum(minimum(y, 2) + maximum(y, 0.5) + sqrt(a * a + 1) + exp(-a) + log(a * a + 1))\n}\n"
        "compile { loss = mse }\n",
    };
    for (size_t i = 0; i < sizeof models / sizeof *models; i++)
        model_check_source(models[i], arena_printf(arena, "spec model %zu", i), 24);
}

/* Every regularizer on every parameter shape, scalar to rank 3 and one
** element in every rank, at every -O level: regularize's loss is
** l1·Σ|w| + l2·Σw², its gradient agrees with differences, and both
** backends accept the kernels (a one-element sum once became a reshape
** that the C backend rejected at -O2: "regularize: %2 reshape is not
** element-wise"). The `param` is given its factors directly, as a layer's
** kernel_regularizer and bias_regularizer give them to theirs. */
Test(autodiff, regularizer_every_shape_every_level) {
    static const char *const shapes[] = {"", "[1]", "[1, 1]", "[1, 1, 1]", "[3]", "[2, 3]", "[2, 1, 3]"};
    static const double factors[][2] = {{0.01, 0}, {0, 0.02}, {0.03, 0.5}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        for (size_t r = 0; r < sizeof factors / sizeof *factors; r++)
            for (int level = 0; level <= 2; level++) {
                const char *src = arena_printf(arena,
                                               "model m {\n input x[2]\n param w%s\n output x * sum(w)\n}\n"
                                               "compile { loss = mse\n optimizer = adam }\n", shapes[i]);
                const char *what = arena_printf(arena, "w%s l1 %g l2 %g", shapes[i], factors[r][0], factors[r][1]);
                IrModule *m = compile_source(src);
                m->params.items[0].l1 = factors[r][0];
                m->params.items[0].l2 = factors[r][1];
                model_check(m, level, what, 1 << 30);
                cr_assert(m->regularize->outputs.len, "%s -O%d: no regularize", what, level);
                /* the penalty's value, by hand */
                double **params = param_buffers(m), loss = 0, want = 0;
                int64_t n = shape_numel(m->params.items[0].shape);
                for (int64_t e = 0; e < n; e++) {
                    params[0][e] = uniform(-1, 1);
                    want += factors[r][0] * fabs(params[0][e]) + factors[r][1] * params[0][e] * params[0][e];
                }
                IrEnv env = {.rows = 1, .params = params, .grads = param_buffers(m), .grad_scale = 1, .loss = &loss};
                char err[256];
                cr_assert(ir_interp(m->regularize, &env, err, sizeof err), "%s", err);
                cr_expect(fabs(loss - want) <= 1e-12 * fmax(1, want), "%s -O%d: penalty %.17g, want %.17g", what,
                          level, loss, want);
                CgOptions o = {.source = "t.nn", .source_sha256 = "00", .unroll = -1};
                CgModel *cm = cg_model(m->arena, m, &o);
                cr_assert(cm && cg_c_trainer(cm), "%s -O%d: the C backend rejects it", what, level);
                CgBytes b;
                cr_assert(cg_llvm_emit(cm, CG_LLVM_IR, &b), "%s -O%d: the LLVM backend rejects it", what, level);
                free(b.data);
            }
}

/* The same through dense layers: a one-unit logistic regression with
** weight decay on its bias, and on a kernel of one element. */
Test(autodiff, regularizer_one_unit_dense) {
    static const char *const models[] = {
        "model r { input x[4]; dense(1, sigmoid, bias_regularizer = l2(0.01)) }\n"
        "compile { loss = binary_crossentropy }\n",
        "model r { input x[4]; dense(1, sigmoid, bias_regularizer = l1(0.01)) }\n"
        "compile { loss = binary_crossentropy }\n",
        "model r { input x[1]; dense(1, sigmoid, kernel_regularizer = l1_l2(l1 = 0.01, l2 = 0.1)) }\n"
        "compile { loss = binary_crossentropy }\n",
    };
    for (size_t i = 0; i < sizeof models / sizeof *models; i++)
        for (int level = 0; level <= 2; level++) {
            IrModule *m = compile_source(models[i]);
            model_check(m, level, arena_printf(arena, "one-unit model %zu", i), 1 << 30);
            CgOptions o = {.source = "t.nn", .source_sha256 = "00", .unroll = -1};
            CgModel *cm = cg_model(m->arena, m, &o);
            cr_assert(cm && cg_c_trainer(cm), "one-unit model %zu -O%d: the C backend rejects it", i, level);
            CgBytes b;
            cr_assert(cg_llvm_emit(cm, CG_LLVM_IR, &b), "one-unit model %zu -O%d: LLVM rejects it", i, level);
            free(b.data);
        }
}

/* train's prediction is forward's in train mode: the same dropout masks
** (mask numbers 0, 1, ... in source order, as interp.c numbers DROPOUT). */
Test(autodiff, train_masks_match_forward) {
    IrModule *m = compile_source(slurp("examples/cancer.nn"));
    ir_build_training(m, 0);
    int rows = 4;
    double **params = param_buffers(m);
    init_params(m, params);
    double *x = ARENA_ARRAY(arena, double, rows * 30), *t = ARENA_ARRAY(arena, double, rows);
    for (int i = 0; i < rows * 30; i++) x[i] = uniform(-1, 1);
    double loss[4], pred[4], fwd[4];
    IrEnv env = {.rows = rows, .input = x, .target = t, .params = params, .grads = param_buffers(m),
                 .seed = 99, .first_row = 5, .loss = loss, .pred_out = pred};
    char err[256];
    cr_assert(ir_interp(m->train, &env, err, sizeof err), "%s", err);
    IrEnv fenv = {.rows = rows, .input = x, .params = params, .seed = 99, .first_row = 5, .result = fwd};
    cr_assert(ir_interp(m->forward, &fenv, err, sizeof err), "%s", err);
    for (int r = 0; r < rows; r++) cr_assert(pred[r] == fwd[r], "row %d: %g vs %g", r, pred[r], fwd[r]);
}

/* Each function ir_build_training makes verifies, at every level. */
Test(autodiff, built_functions_verify) {
    IrModule *m = compile_source(slurp("examples/diabetes.nn"));
    for (int level = 0; level <= 2; level++) {
        ir_build_training(m, level);
        const IrFunc *funcs[] = {m->predict, m->train, m->regularize, m->update, m->eval};
        for (int i = 0; i < 5; i++) {
            char why[256];
            cr_assert(ir_verify(funcs[i], why, sizeof why), "-O%d %s: %s", level, funcs[i]->name, why);
        }
        cr_assert(m->regularize->outputs.len == 2, "loss and one gradient");
        cr_assert(m->opt_slots == 2);
    }
}

/* ---- the verifier's checks on training functions ---- */

Test(autodiff, verify_rejects_bad_outputs) {
    OpTest t = op_test(1, (Shape[]){S(1, 3)}, S(1, 3), true);
    IrNode *xw = bin(&t, OP_MUL, t.x, t.p[0]);
    char why[256];
    ir_add_output(t.f, OUT_GRAD, 0, 0, xw); /* per sample */
    cr_assert(!ir_verify(t.f, why, sizeof why));
    cr_assert(strstr(why, "per sample"), "%s", why);
    t.f->outputs.len = 0;
    ir_add_output(t.f, OUT_LOSS, 0, 0, xw); /* not a scalar */
    cr_assert(!ir_verify(t.f, why, sizeof why));
    cr_assert(strstr(why, "not a scalar"), "%s", why);
    t.f->outputs.len = 0;
    ir_add_output(t.f, OUT_STATE, 0, 5, t.p[0]); /* no such slot */
    cr_assert(!ir_verify(t.f, why, sizeof why));
    t.f->outputs.len = 0;
    ir_add_output(t.f, OUT_PARAM, 0, 0, t.p[0]);
    ir_add_output(t.f, OUT_PARAM, 0, 0, t.p[0]);
    cr_assert(!ir_verify(t.f, why, sizeof why));
    cr_assert(strstr(why, "twice"), "%s", why);
    t.f->outputs.len = 1;
    cr_assert(ir_verify(t.f, why, sizeof why), "%s", why);
    xw->varying = false; /* the builder's flag, tampered with */
    cr_assert(!ir_verify(t.f, why, sizeof why));
    cr_assert(strstr(why, "operands make it per sample"), "%s", why);
}

/* ---- what the algebra must deliver (depends on passes.c) ---- */

/* Σ_rows loss and the gradient of dense(1, act)'s kernel w for x = 1,
** bias 0: z = w. */
static void one_unit(IrModule *m, double w, double y, double *loss, double *grad) {
    ir_build_training(m, 2);
    double wk = w, b = 0, x = 1, gk = 0, gb = 0, l, pred;
    double *params[2] = {&wk, &b}, *grads[2] = {&gk, &gb};
    IrEnv env = {.rows = 1, .input = &x, .target = &y, .params = params, .grads = grads,
                 .loss = &l, .pred_out = &pred};
    char err[256];
    cr_assert(ir_interp(m->train, &env, err, sizeof err), "%s", err);
    *loss = l;
    *grad = gk;
}

static double softplus(double z) {
    return fmax(z, 0) + log1p(exp(-fabs(z)));
}

static double sigmoid(double z) {
    return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
}

/* Relative to 1e-12, or absolute where `absolute` (a loss near 0 computed
** as softplus(z) − z·y loses its relative digits, not its absolute ones). */
static void close_to(double got, double want, bool absolute, const char *what) {
    double scale = absolute ? fmax(fabs(want), 1) : fabs(want);
    cr_assert(isfinite(got) && fabs(got - want) <= 1e-12 * scale, "%s: %.17g, want %.17g", what, got, want);
}

/* SPEC 1.8: sigmoid + binary CE from the logits, without the clip: at
** z = ±30 the loss is softplus(±z)-exact and the gradient (σ(z) − y)/n,
** where the clipped formula would give −log(1e-7) and 0. */
Test(autodiff, stable_sigmoid_binary_crossentropy) {
    const char *src = "model s { input x[1]; dense(1, sigmoid) }\ncompile { loss = binary_crossentropy }\n";
    const double zs[] = {30, -30, 3};
    const double ys[] = {0, 1, 0.25};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double z = zs[i], y = ys[j], loss, grad;
            one_unit(compile_source(src), z, y, &loss, &grad);
            /* −[y log σ(z) + (1−y) log(1−σ(z))] = y·softplus(−z) + (1−y)·softplus(z) */
            close_to(loss, y * softplus(-z) + (1 - y) * softplus(z), true, arena_printf(arena, "loss z=%g y=%g", z, y));
            close_to(grad, sigmoid(z) - y, false, arena_printf(arena, "gradient z=%g y=%g", z, y));
        }
}

/* SPEC 1.8: softmax + categorical CE from the logits: logsumexp(z) − Σ y·z,
** gradient softmax(z) − y (times Σ y), finite at logits ±30. */
Test(autodiff, stable_softmax_categorical_crossentropy) {
    const char *src = "model s {\n input x[3]\n param W[3, 3] = zeros\n output softmax(x @ W)\n}\n"
                      "compile { loss = categorical_crossentropy }\n";
    IrModule *m = compile_source(src);
    ir_build_training(m, 2);
    /* x = (1, 0, 0): the logits are W's first row */
    double W[9] = {30, -30, 0, 0, 0, 0, 0, 0, 0}, gW[9] = {0}, x[3] = {1, 0, 0}, y[3] = {0.25, 0.75, 0};
    double l, pred[3], *params[1] = {W}, *grads[1] = {gW};
    IrEnv env = {.rows = 1, .input = x, .target = y, .params = params, .grads = grads, .loss = &l, .pred_out = pred};
    char err[256];
    cr_assert(ir_interp(m->train, &env, err, sizeof err), "%s", err);
    double z[3] = {30, -30, 0}, mx = 30, s = 0;
    for (int i = 0; i < 3; i++) s += exp(z[i] - mx);
    double lse = mx + log(s);
    close_to(l, lse - (y[0] * z[0] + y[1] * z[1]), true, "loss");
    for (int i = 0; i < 3; i++) close_to(gW[i], exp(z[i] - lse) - y[i], false, arena_printf(arena, "gradient %d", i));
}

/* The same with a class index: −log softmax(z)_k = logsumexp(z) − z_k. */
Test(autodiff, stable_softmax_sparse_categorical_crossentropy) {
    const char *src = "model s {\n input x[3]\n param W[3, 3] = zeros\n output softmax(x @ W)\n}\n"
                      "compile { loss = sparse_categorical_crossentropy }\n";
    for (int k = 0; k < 3; k++) {
        IrModule *m = compile_source(src);
        ir_build_training(m, 2);
        double W[9] = {30, -30, 0, 0, 0, 0, 0, 0, 0}, gW[9] = {0}, x[3] = {1, 0, 0}, y = k;
        double l, pred[3], *params[1] = {W}, *grads[1] = {gW};
        IrEnv env = {.rows = 1, .input = x, .target = &y, .params = params, .grads = grads, .loss = &l, .pred_out = pred};
        char err[256];
        cr_assert(ir_interp(m->train, &env, err, sizeof err), "%s", err);
        double z[3] = {30, -30, 0}, lse = 30 + log(1 + exp(-60) + exp(-30));
        close_to(l, lse - z[k], true, arena_printf(arena, "loss, class %d", k));
        for (int i = 0; i < 3; i++)
            /* s_k − 1 cancels when s_k ≈ 1: absolute there, relative elsewhere */
            close_to(gW[i], exp(z[i] - lse) - (i == k), i == k, arena_printf(arena, "class %d: gradient %d", k, i));
    }
}

/* Without the passes (-O0) the clipped formulas hold: at z = ±30 the loss
** and the gradients are finite (the clip's gradient is 0), never NaN. */
Test(autodiff, saturation_finite_without_passes) {
    static const char *const srcs[] = {
        "model s { input x[1]; dense(1, sigmoid) }\ncompile { loss = binary_crossentropy }\n",
        "model s { input x[1]; dense(2, softmax) }\ncompile { loss = categorical_crossentropy }\n",
        "model s { input x[1]; dense(2, softmax) }\ncompile { loss = kl_divergence }\n",
    };
    for (int i = 0; i < 3; i++)
        for (int sign = -1; sign <= 1; sign += 2) {
            IrModule *m = compile_source(srcs[i]);
            ir_build_training(m, 0);
            int units = i ? 2 : 1;
            double kernel[2] = {30.0 * sign, -30.0 * sign}, bias[2] = {0}, gk[2] = {0}, gb[2] = {0};
            double x = 1, y[2] = {1, 0}, l, pred[2];
            double *params[2] = {kernel, bias}, *grads[2] = {gk, gb};
            IrEnv env = {.rows = 1, .input = &x, .target = y, .params = params, .grads = grads, .loss = &l,
                         .pred_out = pred};
            char err[256];
            cr_assert(ir_interp(m->train, &env, err, sizeof err), "%s", err);
            cr_assert(isfinite(l), "model %d at %+d·30: loss %g", i, sign, l);
            for (int u = 0; u < units; u++)
                cr_assert(isfinite(gk[u]) && isfinite(gb[u]), "model %d at %+d·30: gradient %g", i, sign, gk[u]);
        }
}

static bool reaches(const IrNode *n, Op op, int depth) {
    if (n->op == op) return true;
    if (depth == 0) return false;
    for (int k = 0; k < n->nin; k++)
        if (reaches(n->in[k], op, depth - 1)) return true;
    return false;
}

/* The grad-IR target (SPEC 1.8): the backward pass of sigmoid + binary CE
** and of softmax + CE holds no log, no clip, no division by p; the output's
** gradient is σ(z) − y and softmax(z) − y. */
Test(autodiff, fused_gradient_forms) {
    static const char *const srcs[] = {
        "model s { input x[4]; dense(3, relu); dense(1, sigmoid) }\ncompile { loss = binary_crossentropy }\n",
        "model s { input x[4]; dense(3, relu); dense(3, softmax) }\ncompile { loss = categorical_crossentropy }\n",
        "model s { input x[4]; dense(3, relu); dense(3, softmax) }\ncompile { loss = sparse_categorical_crossentropy }\n",
    };
    for (int i = 0; i < 3; i++) {
        IrModule *m = compile_source(srcs[i]);
        ir_build_training(m, 2);
        /* the last bias's gradient: batch_sum of the logits' gradient */
        const IrNode *g = NULL;
        for (int k = 0; k < m->train->outputs.len; k++)
            if (m->train->outputs.items[k].kind == OUT_GRAD &&
                !strcmp(m->params.items[m->train->outputs.items[k].param].name, "dense_2.bias"))
                g = m->train->outputs.items[k].value;
        cr_assert(g && g->op == OP_BATCH_SUM, "model %d: the bias gradient is not a batch sum", i);
        const IrNode *dz = g->in[0];
        cr_assert(!reaches(dz, OP_LOG, 8), "model %d: log in the output gradient", i);
        cr_assert(!reaches(dz, OP_MINIMUM, 8) && !reaches(dz, OP_MAXIMUM, 8), "model %d: a clip in it", i);
        Op act = i == 0 ? OP_SIGMOID : OP_SOFTMAX;
        /* (act(z) − y)/n: a sub of act(z) and the target, perhaps scaled;
        ** soft targets: softmax(z)·Σy − y */
        while (dz->op == OP_MUL || dz->op == OP_DIV) dz = dz->in[0]->op == OP_CONST ? dz->in[1] : dz->in[0];
        cr_assert(dz->op == OP_SUB, "model %d: the output gradient is %s", i, ir_ops[dz->op].name);
        const IrNode *p = dz->in[0];
        if (p->op == OP_MUL && i == 1) p = p->in[0]->op == act ? p->in[0] : p->in[1];
        cr_assert(p->op == act, "model %d: the output gradient is sub(%s, ...)", i, ir_ops[p->op].name);
        for (int k = 0; k < m->train->nodes.len; k++) {
            const IrNode *n = m->train->nodes.items[k];
            cr_assert(!(n->op == OP_DIV && reaches(n->in[1], act, 3)), "model %d: a division by p", i);
        }
    }
}
