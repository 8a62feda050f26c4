/*
** test_passes.c — the optimization passes (passes.c, pass_*.c): each pass
** on small hand-built functions, asserting the structure it leaves (node
** counts, the ops of the result) and, through the reference interpreter at
** random inputs, that the values did not change. Then the stable forms of
** SPEC 1.8 (finite at z = ±800), term cancellation, the sigmoid + binary CE
** and softmax + CE gradients built as autodiff emits them, and
** idempotence (optimizing twice changes nothing).
*/
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "ir/ir.h"

static Arena *arena;
static IrModule *mod;
static IrFunc *fn;
static const Loc NOLOC = {0};

static void setup(void) {
    arena = arena_new();
    mod = ir_module_new(arena, "t.nn", "t");
    fn = ir_func_new(mod, "f");
}

static void teardown(void) {
    arena_free(arena);
}

TestSuite(passes, .init = setup, .fini = teardown);

/* ---- building ---- */

static Shape V(int n) { return shape_vector(n); }
static Shape S(void) { return shape_scalar(); }

static IrNode *input(Shape s) { return ir_input(fn, s, NOLOC); }
static IrNode *target(Shape s) { return ir_leaf(fn, OP_TARGET, s, NOLOC); }
static IrNode *num(double v) { return ir_const(fn, v, S(), NOLOC); }
static IrNode *fill_of(double v, Shape s) { return ir_const(fn, v, s, NOLOC); }
static IrNode *un(Op op, IrNode *x) { return ir_unary(fn, op, x, NOLOC); }
static IrNode *bin(Op op, IrNode *a, IrNode *b) { return ir_binary(fn, op, a, b, NOLOC); }
static IrNode *add(IrNode *a, IrNode *b) { return bin(OP_ADD, a, b); }
static IrNode *sub(IrNode *a, IrNode *b) { return bin(OP_SUB, a, b); }
static IrNode *mul(IrNode *a, IrNode *b) { return bin(OP_MUL, a, b); }
static IrNode *dvd(IrNode *a, IrNode *b) { return bin(OP_DIV, a, b); }
static IrNode *red(Op op, IrNode *x, int axis) { return ir_reduce(fn, op, x, axis, NOLOC); }
static IrNode *sum(IrNode *x) { return red(OP_SUM, x, IR_AXIS_ALL); }
static IrNode *emit(IrNode proto) { return ir_emit(fn, &proto); }

static IrNode *data(const double *d, Shape s) { return ir_const_data(fn, d, s, NOLOC); }

static int param(const char *name, Shape s) {
    return ir_add_param(mod, (IrParam){.name = name, .shape = s, .trainable = true});
}

static IrNode *one_hot(IrNode *k, int classes) {
    return emit((IrNode){.op = OP_ONE_HOT, .nin = 1, .in = {k}, .axis = classes});
}

/* min(max(p, ε), 1 − ε), as loss.c builds every clip */
static IrNode *clip(IrNode *p) {
    return bin(OP_MINIMUM, bin(OP_MAXIMUM, p, num(1e-7)), num(1 - 1e-7));
}

/* ---- looking ---- */

static IrFunc *opt(IrFunc *f, int level) {
    IrPassStats st;
    IrFunc *g = ir_optimize(f, level, &st);
    char why[256];
    cr_assert(ir_verify(g, why, sizeof why), "%s", why);
    cr_assert_eq(st.nodes_after, pass_live_count(g));
    return g;
}

static IrFunc *O2(IrNode *result) {
    fn->result = result;
    return opt(fn, 2);
}

static int count_op(const IrFunc *f, Op op) {
    bool *live = pass_live(f);
    int n = 0;
    for (int i = 0; i < f->nodes.len; i++) n += live[i] && f->nodes.items[i]->op == op;
    return n;
}

/* Live nodes that compute (not leaves): what a kernel would do. */
static int count_ops(const IrFunc *f) {
    bool *live = pass_live(f);
    int n = 0;
    for (int i = 0; i < f->nodes.len; i++)
        n += live[i] && !(ir_ops[f->nodes.items[i]->op].flags & OPF_LEAF);
    return n;
}

static bool reaches(const IrNode *n, Op op) {
    if (n->op == op) return true;
    for (int k = 0; k < n->nin; k++)
        if (reaches(n->in[k], op)) return true;
    return false;
}

static bool is_fill(const IrNode *n, double v) {
    return n->op == OP_CONST && !n->data && n->value == v;
}

/* n is op(a, b) in either order (commutative ops are canonically ordered). */
static bool is_bin(const IrNode *n, Op op, const IrNode *a, const IrNode *b) {
    return n->op == op && ((n->in[0] == a && n->in[1] == b) || (n->in[0] == b && n->in[1] == a));
}

/* The copy of an old leaf in an optimized function (leaves are unique by
** op, param and shape). */
static IrNode *leaf_in(const IrFunc *g, const IrNode *old) {
    for (int i = 0; i < g->nodes.len; i++) {
        IrNode *n = g->nodes.items[i];
        if (n->op == old->op && n->param == old->param && shape_eq(n->shape, old->shape)) return n;
    }
    return NULL;
}

/* ---- values through the interpreter ---- */

static uint64_t rng = 0x2545F4914F6CDD1Du;

static double urand(double lo, double hi) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return lo + (hi - lo) * (double)(rng >> 11) / 9007199254740992.0;
}

enum { ROWS = 3 };

typedef struct Run {
    double *input, *target, *loss, *pred, *result;
    double **params, **grads, ***state;
} Run;

static double *randoms(int64_t n, double lo, double hi, bool integer) {
    double *d = arena_alloc(arena, sizeof(double) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) d[i] = integer ? floor(urand(lo, hi)) : urand(lo, hi);
    return d;
}

static const IrNode *find_leaf(const IrFunc *f, Op op) {
    for (int i = 0; i < f->nodes.len; i++)
        if (f->nodes.items[i]->op == op) return f->nodes.items[i];
    return NULL;
}

/* Random inputs for f: inputs in [-2, 2], targets in [0, 1] (class indices
** below `classes` for a scalar target when classes > 0), parameters,
** gradients and state in [-1, 1] (state in [0, 1]: square roots). */
static Run run_inputs(const IrFunc *f, int classes) {
    Run r = {0};
    const IrNode *x = find_leaf(f, OP_INPUT), *y = find_leaf(f, OP_TARGET);
    if (x) r.input = randoms(ROWS * shape_numel(x->shape), -2, 2, false);
    if (y) r.target = classes ? randoms(ROWS, 0, classes, true) : randoms(ROWS * shape_numel(y->shape), 0, 1, false);
    int np = mod->params.len ? mod->params.len : 1;
    r.params = arena_alloc(arena, sizeof(double *) * (size_t)np);
    r.grads = arena_alloc(arena, sizeof(double *) * (size_t)np);
    r.state = arena_alloc(arena, sizeof(double **) * (size_t)np);
    for (int p = 0; p < mod->params.len; p++) {
        int64_t n = shape_numel(mod->params.items[p].shape);
        r.params[p] = randoms(n, -1, 1, false);
        r.grads[p] = randoms(n, -1, 1, false);
        r.state[p] = arena_alloc(arena, sizeof(double *) * 4);
        for (int k = 0; k < 4; k++) r.state[p][k] = randoms(n, 0, 1, false);
    }
    return r;
}

static double *copy_of(const double *d, int64_t n) {
    if (!d) return NULL;
    double *c = arena_alloc(arena, sizeof(double) * (size_t)n);
    memcpy(c, d, sizeof(double) * (size_t)n);
    return c;
}

/* Room for rows x the largest output. */
static int64_t out_size(const IrFunc *f) {
    int64_t n = f->result ? shape_numel(f->result->shape) : 1;
    for (int i = 0; i < f->outputs.len; i++)
        if (shape_numel(f->outputs.items[i].value->shape) > n) n = shape_numel(f->outputs.items[i].value->shape);
    return ROWS * n;
}

/* An independent copy: the interpreter writes parameters and state. */
static Run clone_run(const Run *a, int64_t big) {
    Run r = *a;
    int np = mod->params.len ? mod->params.len : 1;
    r.params = arena_alloc(arena, sizeof(double *) * (size_t)np);
    r.grads = arena_alloc(arena, sizeof(double *) * (size_t)np);
    r.state = arena_alloc(arena, sizeof(double **) * (size_t)np);
    for (int p = 0; p < mod->params.len; p++) {
        int64_t n = shape_numel(mod->params.items[p].shape);
        r.params[p] = copy_of(a->params[p], n);
        r.grads[p] = copy_of(a->grads[p], n);
        r.state[p] = arena_alloc(arena, sizeof(double *) * 4);
        for (int k = 0; k < 4; k++) r.state[p][k] = copy_of(a->state[p][k], n);
    }
    r.loss = arena_alloc(arena, sizeof(double) * ROWS);
    r.pred = arena_alloc(arena, sizeof(double) * (size_t)big);
    r.result = arena_alloc(arena, sizeof(double) * (size_t)big);
    return r;
}

static void interp(const IrFunc *f, Run *r) {
    IrEnv env = {.rows = ROWS, .input = r->input, .target = r->target, .params = r->params,
                 .grads = r->grads, .state = r->state, .hyper = {0.01, 3}, .seed = 7,
                 .loss = r->loss, .pred_out = r->pred, .result = r->result};
    char err[256];
    cr_assert(ir_interp(f, &env, err, sizeof err), "%s", err);
}

static bool close(double a, double b, double tol) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    if (isinf(a) || isinf(b)) return a == b;
    return fabs(a - b) <= tol * fmax(1, fmax(fabs(a), fabs(b)));
}

static void expect_close(const double *a, const double *b, int64_t n, const char *what) {
    for (int64_t i = 0; i < n; i++)
        cr_assert(close(a[i], b[i], 1e-9), "%s[%lld]: %.17g before, %.17g after", what, (long long)i, a[i], b[i]);
}

/* f and g compute the same values at several random inputs. */
static void same_values(const IrFunc *f, const IrFunc *g, int classes) {
    for (int trial = 0; trial < 4; trial++) {
        Run base = run_inputs(f, classes), a = clone_run(&base, out_size(f)), b = clone_run(&base, out_size(f));
        interp(f, &a);
        interp(g, &b);
        if (f->result) {
            int64_t n = shape_numel(f->result->shape) * (f->result->varying ? ROWS : 1);
            expect_close(a.result, b.result, n, "result");
        }
        for (int i = 0; i < f->outputs.len; i++) {
            const IrOutput *o = &f->outputs.items[i];
            int64_t n = shape_numel(o->value->shape);
            switch (o->kind) {
            case OUT_LOSS: expect_close(a.loss, b.loss, o->value->varying ? ROWS : 1, "loss"); break;
            case OUT_PRED: expect_close(a.pred, b.pred, ROWS * n, "pred"); break;
            case OUT_GRAD: expect_close(a.grads[o->param], b.grads[o->param], n, "grad"); break;
            case OUT_PARAM: expect_close(a.params[o->param], b.params[o->param], n, "param"); break;
            case OUT_STATE: expect_close(a.state[o->param][o->slot], b.state[o->param][o->slot], n, "state"); break;
            }
        }
    }
}

/* The value of f's (uniform or one-row) result at input x. */
static double value_at(const IrFunc *f, const double *x, const double *y) {
    double out[64];
    IrEnv env = {.rows = 1, .input = x, .target = y, .result = out};
    char err[256];
    cr_assert(ir_interp(f, &env, err, sizeof err), "%s", err);
    return out[0];
}

/* ======================================================================
** The pipeline
** ====================================================================== */

Test(passes, o0_is_a_copy) {
    IrNode *x = input(V(3));
    IrNode *dead = un(OP_EXP, x);
    IrNode *r = mul(x, num(1));
    fn->result = r;
    IrFunc *g = opt(fn, 0);
    cr_assert_neq(g, fn);
    cr_assert_eq(g->nodes.len, fn->nodes.len);
    cr_assert_eq(g->result->op, OP_MUL);
    (void)dead;
}

/* -O1: fold, cse, dce, but no algebra: x·1 stays, 2·3 folds, dead code goes. */
Test(passes, o1_folds_and_cleans) {
    IrNode *x = input(V(3));
    un(OP_EXP, x);
    IrNode *r = mul(mul(x, num(1)), mul(num(2), num(3)));
    IrFunc *g = (fn->result = r, opt(fn, 1));
    cr_assert_eq(count_op(g, OP_EXP), 0);
    cr_assert_eq(count_op(g, OP_MUL), 2);
    cr_assert(is_fill(g->result->in[1], 6) || is_fill(g->result->in[0], 6));
    cr_assert_eq(g->nodes.len, pass_live_count(g));
    same_values(fn, g, 0);
}

Test(passes, stats_count_live_nodes) {
    IrNode *x = input(V(3));
    un(OP_EXP, x); /* dead */
    fn->result = add(mul(x, num(1)), num(0));
    IrPassStats st;
    IrFunc *g = ir_optimize(fn, 2, &st);
    cr_assert_eq(st.nodes_before, 5); /* x, 1, mul, 0, add; not the dead exp */
    cr_assert_eq(st.nodes_after, 1);  /* x itself */
    cr_assert_eq(g->result->op, OP_INPUT);
}

/* ======================================================================
** fold
** ====================================================================== */

Test(passes, fold_fills_and_data) {
    IrNode *x = input(V(2));
    IrNode *c = un(OP_EXP, bin(OP_MUL, fill_of(2, V(2)), num(0.5))); /* e¹ everywhere */
    IrNode *d = data((double[]){1, 4}, V(2));
    IrNode *e = un(OP_SQRT, d); /* [1, 2] */
    IrNode *f2 = bin(OP_MAXIMUM, d, fill_of(5, V(2))); /* [5, 5]: a fill again */
    IrFunc *g = pass_fold((fn->result = add(add(x, mul(c, e)), f2), fn));
    cr_assert_eq(count_op(g, OP_EXP) + count_op(g, OP_SQRT) + count_op(g, OP_MUL) + count_op(g, OP_MAXIMUM), 0);
    const IrNode *ce = g->result->in[0]->in[1], *five = g->result->in[1];
    cr_assert(ce->op == OP_CONST && ce->data && ce->data[0] == exp(1.0) && ce->data[1] == 2 * exp(1.0));
    cr_assert(is_fill(five, 5) && shape_eq(five->shape, V(2)));
    same_values(fn, g, 0);
}

/* Reductions, softmax, matmul, outer and the element movers fold too; a
** result whose elements are equal is a fill. */
Test(passes, fold_structure) {
    IrNode *m = data((double[]){1, 2, 3, 4, 5, 6}, shape_matrix(2, 3));
    IrNode *v = data((double[]){1, -1, 2}, V(3));
    IrNode *t = ir_transpose(fn, m, NOLOC);                      /* [3, 2] */
    IrNode *mv = ir_matmul(fn, m, v, NOLOC);                     /* [5, 11] */
    IrNode *s0 = red(OP_SUM, m, 0);                              /* [5, 7, 9] */
    IrNode *lse = red(OP_LOGSUMEXP, fill_of(0, V(4)), IR_AXIS_ALL); /* log 4 */
    IrSlice sl = {.rank = 2, .start = {1, 0}, .stop = {2, 2}, .drop = 1};
    IrNode *row = ir_slice(fn, t, &sl, NOLOC);                   /* t[1, :] = [2, 5] */
    IrNode *oh = one_hot(num(2), 3);                             /* [0, 0, 1] */
    IrNode *sm = ir_softmax(fn, fill_of(3, V(4)), 0, NOLOC);     /* 0.25 each */
    IrNode *o = bin(OP_OUTER, v, oh);                            /* [3, 3] */
    IrNode *r = add(add(add(mv, row), red(OP_SUM, o, IR_AXIS_ALL)),
                    add(mul(lse, red(OP_MAX, s0, IR_AXIS_ALL)), sum(sm)));
    IrFunc *g = pass_dce(pass_fold((fn->result = r, fn)));
    cr_assert_eq(g->nodes.len, 1, "everything is constant: %d nodes left", g->nodes.len);
    cr_assert(g->result->op == OP_CONST && g->result->data);
    /* [5, 11] + [2, 5] + (1 − 1 + 2) + log 4 · 9 + 1 */
    double k = 2 + log(4.0) * 9 + 1;
    cr_assert(close(g->result->data[0], 7 + k, 1e-15) && close(g->result->data[1], 16 + k, 1e-15));
    same_values(fn, g, 0);
}

/* What may not fold: a batch sum depends on the batch, a mask on the seed. */
Test(passes, fold_leaves_batch_sum_and_masks) {
    IrNode *bs = emit((IrNode){.op = OP_BATCH_SUM, .nin = 1, .in = {num(2)}});
    IrNode *mask = emit((IrNode){.op = OP_DROPOUT_MASK, .shape = V(2), .value = 0.5, .axis = 1});
    IrFunc *g = pass_fold((fn->result = add(mul(bs, num(1)), mask), fn));
    cr_assert_eq(count_op(g, OP_BATCH_SUM), 1);
    cr_assert_eq(count_op(g, OP_DROPOUT_MASK), 1);
}

/* ======================================================================
** cse and dce
** ====================================================================== */

Test(passes, cse_merges_commutative_operands) {
    IrNode *a = input(V(3)), *b = target(V(3));
    IrNode *ab = add(a, b), *ba = add(b, a), *m1 = mul(ab, ba), *m2 = mul(ba, ab);
    IrNode *mx = bin(OP_MAXIMUM, a, b), *xm = bin(OP_MAXIMUM, b, a);
    IrNode *r = sub(add(m1, m2), sub(mx, xm));
    IrFunc *g = pass_dce(pass_cse((fn->result = r, fn)));
    cr_assert_eq(count_op(g, OP_ADD), 2); /* a + b, and m + m */
    cr_assert_eq(count_op(g, OP_MUL), 1);
    cr_assert_eq(count_op(g, OP_MAXIMUM), 1);
    IrNode *sub2 = g->result->in[1];
    cr_assert_eq(sub2->in[0], sub2->in[1]);
    same_values(fn, g, 0);
}

Test(passes, dce_keeps_what_outputs_need) {
    int w = param("w", V(2));
    IrNode *x = input(V(2)), *p = ir_param(fn, w, NOLOC);
    un(OP_EXP, x);
    un(OP_LOG, p);
    IrNode *pred = mul(x, p);
    IrNode *loss = sum(pred);
    ir_add_output(fn, OUT_LOSS, 0, 0, loss);
    ir_add_output(fn, OUT_PRED, 0, 0, pred);
    ir_add_output(fn, OUT_GRAD, w, 0, emit((IrNode){.op = OP_BATCH_SUM, .nin = 1, .in = {x}}));
    IrFunc *g = pass_dce(fn);
    cr_assert_eq(g->nodes.len, 5); /* x, w, mul, sum, batch_sum: no exp, no log */
    cr_assert_eq(count_op(g, OP_EXP) + count_op(g, OP_LOG), 0);
    cr_assert_eq(g->outputs.len, 3);
    cr_assert_eq(g->outputs.items[1].value->op, OP_MUL);
    same_values(fn, g, 0);
}

/* ======================================================================
** algebra: identities
** ====================================================================== */

Test(passes, algebra_identities) {
    IrNode *x = input(V(3)), *y = target(V(3));
    /* ((x + 0)·1)/1 − −(−y) + (y − y) = x − y */
    IrNode *r = add(sub(dvd(mul(add(x, num(0)), num(1)), num(1)), un(OP_NEG, un(OP_NEG, y))), sub(y, y));
    IrFunc *g = O2(r);
    cr_assert(is_bin(g->result, OP_SUB, leaf_in(g, x), leaf_in(g, y)), "x − y, got %s", ir_ops[g->result->op].name);
    cr_assert_eq(count_ops(g), 1);
    same_values(fn, g, 0);
}

/* w·0 is a zero of w's shape, not a scalar; s + x − x keeps x's shape. */
Test(passes, algebra_zero_keeps_shape) {
    IrNode *w = ir_param(fn, param("w", V(3)), NOLOC);
    IrFunc *g = O2(mul(w, num(0)));
    cr_assert(is_fill(g->result, 0) && shape_eq(g->result->shape, V(3)));
    fn = ir_func_new(mod, "g");
    IrNode *x = input(V(3));
    IrNode *s = un(OP_EXP, ir_reshape(fn, target(V(1)), S(), NOLOC));
    IrFunc *h = O2(sub(add(s, x), x));
    cr_assert_eq(h->result->op, OP_BROADCAST);
    cr_assert(shape_eq(h->result->shape, V(3)));
    cr_assert_eq(h->result->in[0]->op, OP_EXP);
    same_values(fn, h, 0);
}

Test(passes, algebra_coefficients_merge) {
    IrNode *x = input(V(3));
    /* x·2·3 + x/4 + x − 0.25x = 7x */
    IrNode *r = sub(add(add(mul(mul(x, num(2)), num(3)), dvd(x, num(4))), x), mul(num(0.25), x));
    IrFunc *g = O2(r);
    const IrNode *c = g->result->in[0]->op == OP_CONST ? g->result->in[0] : g->result->in[1];
    cr_assert(is_fill(c, 7) && is_bin(g->result, OP_MUL, leaf_in(g, x), c));
    same_values(fn, g, 0);
}

Test(passes, algebra_shapes_and_structure) {
    IrNode *x = input(shape_matrix(2, 3));
    IrNode *t = ir_transpose(fn, ir_transpose(fn, x, NOLOC), NOLOC);            /* x */
    IrNode *r1 = ir_reshape(fn, ir_reshape(fn, t, V(6), NOLOC), shape_matrix(3, 2), NOLOC);
    IrSlice sl = {.rank = 1, .start = {1}, .stop = {4}};
    IrNode *pad = emit((IrNode){.op = OP_PAD, .nin = 1, .in = {r1}, .slice = sl, .shape = shape_matrix(5, 2)});
    IrNode *back = ir_slice(fn, pad, &sl, NOLOC);                             /* r1 */
    IrNode *b = ir_broadcast(fn, ir_broadcast(fn, un(OP_EXP, back), shape_of(3, (int[]){1, 3, 2}), NOLOC),
                             shape_of(3, (int[]){2, 3, 2}), NOLOC);
    IrFunc *g = O2(b);
    cr_assert_eq(count_op(g, OP_TRANSPOSE) + count_op(g, OP_PAD) + count_op(g, OP_SLICE), 0);
    cr_assert_eq(count_op(g, OP_RESHAPE), 1);
    cr_assert_eq(count_op(g, OP_BROADCAST), 1);
    same_values(fn, g, 0);
}

Test(passes, algebra_reductions) {
    IrNode *x = input(V(4)), *k = ir_reshape(fn, target(V(1)), S(), NOLOC);
    /* mean(x) = Σx·¼; Σ one_hot(k) = 1; Σ broadcast(s) = 4s; a reduction of one element is a reshape */
    IrNode *s = un(OP_EXP, red(OP_MAX, ir_reshape(fn, x, shape_matrix(4, 1), NOLOC), 1));
    IrNode *r = add(add(red(OP_MEAN, x, IR_AXIS_ALL), sum(one_hot(k, 5))), sum(ir_broadcast(fn, num(3), V(4), NOLOC)));
    IrFunc *g = O2(add(r, sum(s)));
    cr_assert_eq(count_op(g, OP_MEAN) + count_op(g, OP_ONE_HOT) + count_op(g, OP_MAX), 0);
    cr_assert_eq(count_op(g, OP_SUM), 2); /* Σx and Σ exp(x) */
    same_values(fn, g, 3);
}

Test(passes, algebra_select_pow_abs) {
    IrNode *x = input(V(3)), *y = target(V(3));
    IrNode *r = add(emit((IrNode){.op = OP_SELECT, .nin = 3, .in = {num(1), x, y}}),
                    emit((IrNode){.op = OP_SELECT, .nin = 3, .in = {y, x, x}}));
    r = add(r, bin(OP_POW, x, num(2)));
    r = add(r, un(OP_ABS, un(OP_NEG, un(OP_ABS, y))));
    r = add(r, un(OP_SQRT, un(OP_SQUARE, x)));
    r = add(r, bin(OP_DIVNZ, y, num(4)));
    r = add(r, mul(bin(OP_MAXIMUM, y, y), bin(OP_GE, x, x)));
    IrFunc *g = O2(r);
    cr_assert_eq(count_op(g, OP_SELECT) + count_op(g, OP_POW) + count_op(g, OP_DIVNZ) + count_op(g, OP_GE) +
                     count_op(g, OP_MAXIMUM) + count_op(g, OP_SQRT), 0);
    cr_assert_eq(count_op(g, OP_ABS), 2); /* |y| and |x| */
    same_values(fn, g, 0);
}

/* ======================================================================
** algebra: terms
** ====================================================================== */

/* y·a − y·a cancels whatever a is. */
Test(passes, algebra_terms_cancel) {
    IrNode *y = ir_param(fn, param("y", V(3)), NOLOC), *a = un(OP_TANH, ir_param(fn, param("a", V(3)), NOLOC));
    IrFunc *g = O2(add(sub(mul(y, a), mul(a, y)), un(OP_NEG, mul(y, num(0)))));
    cr_assert(is_fill(g->result, 0) && shape_eq(g->result->shape, V(3)));
}

/* A per-sample value stays per sample: a loss that cancels to a constant
** would otherwise be one value for the batch instead of one per row. */
Test(passes, varying_outputs_stay_varying) {
    IrNode *x = input(V(3)), *y = target(V(3));
    IrNode *loss = sum(sub(add(x, y), add(y, x)));
    ir_add_output(fn, OUT_LOSS, 0, 0, loss);
    ir_add_output(fn, OUT_PRED, 0, 0, add(x, mul(y, num(0))));
    mod->input_shape = mod->output_shape = V(3);
    IrFunc *g = opt(fn, 2);
    cr_assert(g->outputs.items[0].value->varying);
    cr_assert_eq(g->outputs.items[1].value->op, OP_INPUT); /* the rest simplifies as usual */
    same_values(fn, g, 0);
}

/* The example: −(y·(z − sp(z)) + (1 − y)·(−sp(z))) = sp(z) − y·z. */
Test(passes, algebra_collects_terms) {
    IrNode *z = input(V(3)), *y = target(V(3)), *sp = un(OP_SOFTPLUS, z);
    IrNode *r = un(OP_NEG, add(mul(y, sub(z, sp)), mul(sub(num(1), y), un(OP_NEG, sp))));
    IrFunc *g = O2(r);
    IrNode *gz = leaf_in(g, z), *gy = leaf_in(g, y);
    cr_assert_eq(g->result->op, OP_SUB);
    cr_assert(g->result->in[0]->op == OP_SOFTPLUS && g->result->in[0]->in[0] == gz);
    cr_assert(is_bin(g->result->in[1], OP_MUL, gy, gz));
    cr_assert_eq(count_ops(g), 3);
    same_values(fn, g, 0);
}

/* A shared sum is not expanded into its users (that would compute it twice). */
Test(passes, algebra_does_not_expand_shared_sums) {
    IrNode *a = input(V(3)), *b = target(V(3));
    IrNode *s = add(a, b), *c = un(OP_EXP, a), *d = un(OP_TANH, b);
    IrFunc *g = O2(add(mul(s, c), mul(s, d)));
    cr_assert_eq(count_op(g, OP_MUL), 1, "s·(c + d): %d products", count_op(g, OP_MUL));
    cr_assert_eq(count_op(g, OP_ADD), 2);
    same_values(fn, g, 0);
}

/* Scalar factors are multiplied before they meet a tensor: α·m/(√v + ε)
** keeps α a scalar computed once (the optimizer update). */
Test(passes, algebra_scalars_first) {
    int w = param("w", V(8));
    IrNode *lr = emit((IrNode){.op = OP_HYPER, .axis = HYPER_LEARNING_RATE, .shape = S()});
    IrNode *t = emit((IrNode){.op = OP_HYPER, .axis = HYPER_STEP, .shape = S()});
    IrNode *m = emit((IrNode){.op = OP_STATE, .param = w, .axis = 0, .shape = V(8)});
    IrNode *v = emit((IrNode){.op = OP_STATE, .param = w, .axis = 1, .shape = V(8)});
    IrNode *alpha = dvd(mul(lr, un(OP_SQRT, sub(num(1), bin(OP_POW, num(0.999), t)))), sub(num(1), bin(OP_POW, num(0.9), t)));
    IrNode *step = mul(alpha, dvd(m, add(un(OP_SQRT, v), num(1e-7))));
    ir_add_output(fn, OUT_PARAM, w, 0, sub(ir_param(fn, w, NOLOC), step));
    IrFunc *g = opt(fn, 2);
    int per_element = 0;
    for (int i = 0; i < g->nodes.len; i++) {
        const IrNode *n = g->nodes.items[i];
        per_element += !(ir_ops[n->op].flags & OPF_LEAF) && shape_numel(n->shape) == 8;
    }
    cr_assert_eq(per_element, 5, "√v, +ε, ·m, ÷, w − : %d per-element ops", per_element);
    same_values(fn, g, 0);
}

/* Random expressions over shared subterms: the optimized function computes
** the same values and is a fixed point. Arguments of exp, log and division
** are kept in safe ranges, so every value is finite and differences mean a
** wrong rewrite. */
static IrNode *random_expr(IrNode **pool, int *n, int depth) {
    if (depth == 0 || urand(0, 1) < 0.2) return pool[(int)urand(0, *n)];
    IrNode *a = random_expr(pool, n, depth - 1), *b = random_expr(pool, n, depth - 1), *r;
    switch ((int)urand(0, 13)) {
    case 0: r = add(a, b); break;
    case 1: r = sub(a, b); break;
    case 2: r = mul(a, b); break;
    case 3: r = dvd(a, add(un(OP_EXP, un(OP_TANH, b)), num(0.5))); break;
    case 4: r = un(OP_NEG, a); break;
    case 5: r = un(OP_SQUARE, un(OP_TANH, a)); break;
    /* |z| <= 4: where log(1 − σ(z)) as written still has its digits */
    case 6: r = un(OP_LOG, un(OP_SIGMOID, mul(un(OP_TANH, a), num(4)))); break;
    case 7: r = un(OP_LOG, sub(num(1), un(OP_SIGMOID, mul(un(OP_TANH, a), num(4))))); break;
    case 8: r = un(OP_SOFTPLUS, un(OP_NEG, a)); break;
    case 9: r = mul(a, num(urand(-2, 2))); break;
    case 10: r = add(a, ir_broadcast(fn, sum(b), V(3), NOLOC)); break;
    case 11: r = un(OP_EXP, un(OP_TANH, a)); break;
    default: r = red(OP_MEAN, mul(a, b), IR_AXIS_ALL); break;
    }
    if (!shape_eq(r->shape, V(3))) r = ir_broadcast(fn, r, V(3), NOLOC);
    if (*n < 32) pool[(*n)++] = r; /* later expressions share it */
    return r;
}

Test(passes, random_expressions) {
    int w = param("w", V(3));
    mod->input_shape = mod->output_shape = V(3);
    for (int trial = 0; trial < 300; trial++) {
        fn = ir_func_new(mod, "r");
        IrNode *pool[32] = {input(V(3)), target(V(3)), ir_param(fn, w, NOLOC), fill_of(0.5, V(3))};
        int n = 4;
        IrNode *loss = sum(random_expr(pool, &n, 5));
        ir_add_output(fn, OUT_LOSS, 0, 0, loss);
        ir_add_output(fn, OUT_PRED, 0, 0, random_expr(pool, &n, 3));
        IrFunc *g = opt(fn, 2);
        same_values(fn, g, 0);
        cr_assert(pass_same(g, ir_optimize(g, 2, NULL)), "trial %d: not a fixed point", trial);
    }
}

/* ======================================================================
** algebra: the stable forms (SPEC 1.8)
** ====================================================================== */

Test(passes, log_sigmoid_is_finite) {
    IrNode *z = input(V(1));
    IrFunc *g = O2(un(OP_LOG, un(OP_SIGMOID, z)));
    cr_assert_eq(count_op(g, OP_LOG) + count_op(g, OP_SIGMOID), 0);
    cr_assert(isinf(value_at(fn, (double[]){-800}, NULL)), "the unstable form underflows");
    cr_assert(close(value_at(g, (double[]){-800}, NULL), -800, 1e-15));
    cr_assert(close(value_at(g, (double[]){800}, NULL), 0, 1e-15));
    cr_assert(close(value_at(g, (double[]){0}, NULL), -log(2.0), 1e-15));
}

Test(passes, log_one_minus_sigmoid_is_softplus) {
    IrNode *z = input(V(1));
    IrFunc *g = O2(un(OP_LOG, sub(num(1), un(OP_SIGMOID, z))));
    cr_assert_eq(g->result->op, OP_NEG);
    cr_assert_eq(g->result->in[0]->op, OP_SOFTPLUS);
    cr_assert(close(value_at(g, (double[]){800}, NULL), -800, 1e-15));
    cr_assert(close(value_at(g, (double[]){-3}, NULL), log1p(-1 / (1 + exp(3.0))), 1e-14));
}

/* The clip keeps the log finite; the stable form already is, so it goes:
** at z = −800 the value is −800, not log(1e-7). */
Test(passes, clip_of_sigmoid_goes) {
    IrNode *z = input(V(1));
    IrNode *p = clip(un(OP_SIGMOID, z));
    IrFunc *g = O2(add(un(OP_LOG, p), un(OP_LOG, sub(num(1), p))));
    cr_assert_eq(count_op(g, OP_MINIMUM) + count_op(g, OP_MAXIMUM) + count_op(g, OP_LOG), 0);
    cr_assert(close(value_at(fn, (double[]){-800}, NULL), log(1e-7) + log1p(-1e-7), 1e-12));
    cr_assert(close(value_at(g, (double[]){-800}, NULL), -800, 1e-15));
    cr_assert(close(value_at(g, (double[]){1.5}, NULL), value_at(fn, (double[]){1.5}, NULL), 1e-14));
}

/* A clip that changes more than the log's range is the user's: kept. */
Test(passes, loose_clip_stays) {
    IrNode *z = input(V(1));
    IrNode *p = bin(OP_MAXIMUM, un(OP_SIGMOID, z), num(0.1));
    IrFunc *g = O2(un(OP_LOG, p));
    cr_assert_eq(count_op(g, OP_MAXIMUM), 1);
    cr_assert_eq(count_op(g, OP_LOG), 1);
}

Test(passes, log_softmax_is_z_minus_logsumexp) {
    IrNode *z = input(V(4));
    IrFunc *g = O2(un(OP_LOG, clip(ir_softmax(fn, z, 0, NOLOC))));
    cr_assert_eq(count_op(g, OP_LOG) + count_op(g, OP_SOFTMAX) + count_op(g, OP_MINIMUM), 0);
    cr_assert_eq(g->result->op, OP_SUB);
    cr_assert_eq(g->result->in[1]->op, OP_LOGSUMEXP);
    double x[4] = {1000, -1000, 0, 999};
    double out[4];
    IrEnv env = {.rows = 1, .input = x, .result = out};
    char err[256];
    cr_assert(ir_interp(g, &env, err, sizeof err), "%s", err);
    double lse = 1000 + log1p(exp(-1.0));
    for (int i = 0; i < 4; i++) cr_assert(close(out[i], x[i] - lse, 1e-15), "%d: %g", i, out[i]);
}

/* Along the last axis of a matrix, logsumexp must keep its axis to line up. */
Test(passes, log_softmax_of_a_matrix) {
    IrNode *z = input(shape_matrix(2, 3));
    IrFunc *g = O2(un(OP_LOG, ir_softmax(fn, z, 1, NOLOC)));
    cr_assert_eq(count_op(g, OP_LOG), 0);
    cr_assert_eq(count_op(g, OP_RESHAPE), 1);
    same_values(fn, g, 0);
    fn = ir_func_new(mod, "axis0");
    z = input(shape_matrix(2, 3));
    IrFunc *h = O2(un(OP_LOG, ir_softmax(fn, z, 0, NOLOC)));
    cr_assert_eq(count_op(h, OP_RESHAPE), 0); /* [3] already lines up with [2, 3] */
    same_values(fn, h, 0);
}

/* d logsumexp as exp(z − lse) (autodiff's form over a matrix) is softmax;
** exp(z − softplus(z)) is σ(z); log∘exp and exp∘log of a positive cancel. */
Test(passes, exp_forms) {
    IrNode *z = input(shape_matrix(2, 3));
    IrNode *l = red(OP_LOGSUMEXP, z, 1);
    IrNode *e = un(OP_EXP, sub(z, ir_broadcast(fn, ir_reshape(fn, l, shape_matrix(2, 1), NOLOC), z->shape, NOLOC)));
    IrNode *q = un(OP_EXP, sub(z, un(OP_SOFTPLUS, z)));
    IrNode *w = un(OP_EXP, un(OP_LOG, un(OP_SIGMOID, z)));
    IrFunc *g = O2(add(add(e, q), mul(w, un(OP_LOG, un(OP_EXP, z)))));
    cr_assert_eq(count_op(g, OP_EXP) + count_op(g, OP_LOG) + count_op(g, OP_LOGSUMEXP), 0);
    cr_assert_eq(count_op(g, OP_SOFTMAX), 1);
    cr_assert_eq(count_op(g, OP_SIGMOID), 1);
    same_values(fn, g, 0);
}

/* kl_divergence after softmax: log(y/p) splits, so no log of p is left. */
Test(passes, kl_divergence_log_splits) {
    IrNode *z = input(V(3)), *y = target(V(3));
    IrNode *yc = bin(OP_MINIMUM, bin(OP_MAXIMUM, y, num(1e-7)), num(1));
    IrNode *pc = bin(OP_MINIMUM, bin(OP_MAXIMUM, ir_softmax(fn, z, 0, NOLOC), num(1e-7)), num(1));
    IrFunc *g = O2(sum(mul(yc, un(OP_LOG, dvd(yc, pc)))));
    cr_assert_eq(count_op(g, OP_SOFTMAX), 0);
    cr_assert_eq(count_op(g, OP_LOG), 1); /* log of the clipped target */
    same_values(fn, g, 0);
}

/* ======================================================================
** algebra: the cross-entropy gradients (SPEC 1.8), as autodiff emits them
** ====================================================================== */

static const IrNode *strip_scale(const IrNode *n) {
    while ((n->op == OP_MUL || n->op == OP_DIV) && (n->in[0]->op == OP_CONST || n->in[1]->op == OP_CONST))
        n = n->in[0]->op == OP_CONST ? n->in[1] : n->in[0];
    return n;
}

/* The loss as loss.c builds it for n = 3 outputs, optimized: Σ(sp(z) − y·z)/n. */
Test(passes, binary_crossentropy_loss_from_logits) {
    IrNode *z = input(V(3)), *y = target(V(3)), *p = clip(un(OP_SIGMOID, z));
    IrNode *loss = un(OP_NEG, red(OP_MEAN, add(mul(y, un(OP_LOG, p)), mul(sub(num(1), y), un(OP_LOG, sub(num(1), p)))),
                                  IR_AXIS_ALL));
    IrFunc *g = O2(loss);
    cr_assert_eq(count_op(g, OP_LOG) + count_op(g, OP_MINIMUM) + count_op(g, OP_SIGMOID), 0);
    const IrNode *s = strip_scale(g->result);
    cr_assert_eq(s->op, OP_SUM);
    cr_assert_eq(s->in[0]->op, OP_SUB);
    cr_assert_eq(s->in[0]->in[0]->op, OP_SOFTPLUS);
    cr_assert_eq(count_ops(g), 5); /* softplus, mul, sub, sum, ·(1/3) */
    same_values(fn, g, 0);
}

/* The gradient of Σ(sp(z) − y·z)·(1/n) with respect to z, as autodiff
** writes it: dy = 1/n broadcast; softplus' = σ; the product rule. It is
** (σ(z) − y)·(1/n): one subtraction and one product. */
Test(passes, binary_crossentropy_gradient) {
    IrNode *z = input(V(3)), *y = target(V(3));
    IrNode *dy = ir_broadcast(fn, mul(num(1), num(1.0 / 3)), V(3), NOLOC);
    IrNode *d_sp = mul(dy, un(OP_SIGMOID, z));
    IrNode *d_yz = mul(un(OP_NEG, dy), y);
    IrFunc *g = O2(add(d_sp, d_yz));
    const IrNode *r = g->result;
    cr_assert_eq(r->op, OP_MUL);
    const IrNode *c = r->in[0]->op == OP_CONST ? r->in[0] : r->in[1], *d = r->in[0]->op == OP_CONST ? r->in[1] : r->in[0];
    cr_assert(is_fill(c, 1.0 / 3));
    cr_assert(d->op == OP_SUB && d->in[0]->op == OP_SIGMOID && d->in[1] == leaf_in(g, y));
    cr_assert_eq(count_ops(g), 3);
    cr_assert(!reaches(g->result, OP_LOG) && !reaches(g->result, OP_DIV));
    same_values(fn, g, 0);
}

/* The one-unit BCE gradient with the unsimplified loss, differentiated as
** autodiff would if nothing ran before it (dividing by p): the algebra
** still finds σ(z) − y. */
Test(passes, binary_crossentropy_gradient_through_p) {
    IrNode *z = input(V(1)), *y = target(V(1));
    IrNode *p = un(OP_SIGMOID, z), *one = num(1);
    IrNode *dp = sub(un(OP_NEG, dvd(y, p)), un(OP_NEG, dvd(sub(one, y), sub(one, p)))); /* −y/p + (1−y)/(1−p) */
    IrNode *dz = mul(dp, mul(p, sub(one, p)));                                         /* σ' = p(1 − p) */
    IrFunc *g = O2(dz);
    cr_assert_eq(count_op(g, OP_DIV), 0, "a division by p is left");
    cr_assert(is_bin(g->result, OP_SUB, leaf_in(g, p), leaf_in(g, y)) || (g->result->op == OP_SUB &&
              g->result->in[0]->op == OP_SIGMOID && g->result->in[1]->op == OP_TARGET), "σ(z) − y");
    same_values(fn, g, 0);
}

/* sparse CE: loss = lse(z) − Σ(one_hot(k)·z); gradient softmax(z) − one_hot. */
Test(passes, sparse_categorical_crossentropy) {
    IrNode *z = input(V(4)), *k = ir_reshape(fn, target(V(1)), S(), NOLOC);
    IrNode *y = one_hot(k, 4);
    IrNode *loss = un(OP_NEG, sum(mul(y, un(OP_LOG, clip(ir_softmax(fn, z, 0, NOLOC))))));
    IrFunc *g = O2(loss);
    cr_assert_eq(count_op(g, OP_LOG) + count_op(g, OP_SOFTMAX) + count_op(g, OP_MINIMUM), 0);
    cr_assert_eq(g->result->op, OP_SUB);
    cr_assert_eq(g->result->in[0]->op, OP_LOGSUMEXP);
    cr_assert_eq(g->result->in[1]->op, OP_SUM);
    same_values(fn, g, 4);
    /* its gradient as autodiff emits it: d lse = softmax(z)·expand(dy), d Σ(y·z) = −dy·y */
    fn = ir_func_new(mod, "grad");
    z = input(V(4));
    y = one_hot(ir_reshape(fn, target(V(1)), S(), NOLOC), 4);
    IrNode *dy = num(1);
    IrNode *d = add(mul(ir_softmax(fn, z, 0, NOLOC), ir_broadcast(fn, dy, V(4), NOLOC)),
                    mul(ir_broadcast(fn, un(OP_NEG, dy), V(4), NOLOC), y));
    IrFunc *h = O2(d);
    cr_assert(h->result->op == OP_SUB && h->result->in[0]->op == OP_SOFTMAX && h->result->in[1]->op == OP_ONE_HOT);
    same_values(fn, h, 4);
}

/* soft targets: loss = lse(z)·Σy − Σ(y·z); gradient softmax(z)·Σy − y. */
Test(passes, categorical_crossentropy_soft_targets) {
    IrNode *z = input(V(4)), *y = target(V(4));
    IrFunc *g = O2(un(OP_NEG, sum(mul(y, un(OP_LOG, clip(ir_softmax(fn, z, 0, NOLOC)))))));
    cr_assert_eq(count_op(g, OP_LOG) + count_op(g, OP_SOFTMAX), 0);
    cr_assert_eq(count_op(g, OP_SUM), 2); /* Σy and Σ(y·z) */
    same_values(fn, g, 0);
    fn = ir_func_new(mod, "grad");
    z = input(V(4));
    y = target(V(4));
    IrNode *sy = sum(y);
    IrNode *d = add(mul(ir_softmax(fn, z, 0, NOLOC), ir_broadcast(fn, mul(num(1), sy), V(4), NOLOC)),
                    mul(ir_broadcast(fn, un(OP_NEG, num(1)), V(4), NOLOC), y));
    IrFunc *h = O2(d);
    const IrNode *sm = h->result->in[0];
    cr_assert_eq(h->result->op, OP_SUB);
    cr_assert(sm->op == OP_MUL && ((sm->in[0]->op == OP_SOFTMAX && sm->in[1]->op == OP_SUM) ||
                                   (sm->in[1]->op == OP_SOFTMAX && sm->in[0]->op == OP_SUM)));
    cr_assert_eq(h->result->in[1]->op, OP_TARGET);
    cr_assert_eq(count_ops(h), 4); /* softmax, Σy, ·, − */
    same_values(fn, h, 0);
}

/* ======================================================================
** Whole models: values kept, idempotence
** ====================================================================== */

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

static const char *const models[][2] = {
    {"dense(4, relu); dense(1, sigmoid)", "binary_crossentropy\n optimizer = adam"},
    {"dense(4, tanh); dense(3, sigmoid)", "binary_crossentropy\n optimizer = sgd(momentum = 0.9, nesterov = true)"},
    {"dense(4, relu); dropout(0.5); dense(3, softmax)", "categorical_crossentropy\n optimizer = rmsprop"},
    {"dense(4, elu); dense(3, softmax)", "sparse_categorical_crossentropy\n optimizer = adamax"},
    {"dense(4, swish); dense(3, softmax)", "kl_divergence\n optimizer = adadelta"},
    {"dense(4, gelu, kernel_regularizer = l1_l2(l1 = 0.01, l2 = 0.01)); dense(2)", "mse\n optimizer = adagrad"},
    {"dense(4, softplus); dense(2, softsign)", "msle\n optimizer = adamw"},
    {"dense(4, leaky_relu); dense(2, tanh)", "squared_hinge"},
};

static IrModule *model(int i) {
    const char *src = arena_printf(arena, "model m { input x[3]; %s }\ncompile { loss = %s }\n", models[i][0],
                                   models[i][1]);
    return compile_source(src);
}

/* Every training function of every model computes at -O2 what it does at
** -O0 (at random points, where no clip is active), and is a fixed point:
** optimizing it again changes nothing. */
Test(passes, models_keep_values_and_are_idempotent) {
    for (int i = 0; i < (int)(sizeof models / sizeof models[0]); i++) {
        IrModule *m0 = model(i), *m2 = model(i);
        ir_build_training(m0, 0);
        ir_build_training(m2, 2);
        IrFunc *f0[] = {m0->predict, m0->train, m0->regularize, m0->update, m0->eval};
        IrFunc *f2[] = {m2->predict, m2->train, m2->regularize, m2->update, m2->eval};
        mod = m0;
        int classes = strstr(models[i][1], "sparse") ? 3 : 0;
        for (int k = 0; k < 5; k++) {
            if (!f2[k]->outputs.len) continue;
            same_values(f0[k], f2[k], classes);
            IrFunc *again = ir_optimize(f2[k], 2, NULL);
            cr_assert(pass_same(f2[k], again), "model %d, %s: not a fixed point", i, f2[k]->name);
            /* the stable forms may cost a node in eval; training only gains */
            if (k == 1) cr_assert_lt(count_ops(f2[k]), count_ops(f0[k]), "model %d: train did not shrink", i);
            if (k == 3) cr_assert_leq(count_ops(f2[k]), count_ops(f0[k]), "model %d: update grew", i);
        }
    }
}

/* The training function of sigmoid + BCE has no log, clip or division by
** p anywhere, and a softmax + CE one none either. */
Test(passes, models_have_no_log_in_training) {
    for (int i = 0; i < 4; i++) {
        IrModule *m = model(i);
        ir_build_training(m, 2);
        cr_assert_eq(count_op(m->train, OP_LOG) + count_op(m->train, OP_MINIMUM) + count_op(m->train, OP_MAXIMUM) +
                         count_op(m->train, OP_DIV),
                     0, "model %d", i);
    }
}
