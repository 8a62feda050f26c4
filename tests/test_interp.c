/*
** test_interp.c — the reference interpreter (ir_interp) against values
** worked out by hand, op by op; its outputs (loss, predictions, gradient
** accumulation, parameter and state updates written after every read);
** dropout masks; its refusals; NumPy's repr (ir_print_value); and `nnc eval`
** end to end through the functions main.c calls, text compared exactly.
*/
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "ir/ir.h"
#include "nnc_abi.h"

static const Loc NOLOC = {0};

static Arena *arena;
static IrModule *mod;
static IrFunc *fn;

static void setup(void) {
    arena = arena_new();
    mod = ir_module_new(arena, "t.nn", "t");
    fn = ir_func_new(mod, "t");
}

static void teardown(void) {
    arena_free(arena);
}

TestSuite(interp, .init = setup, .fini = teardown);

/* ---- building ---- */

static IrNode *tensor(Shape s, const double *v) {
    return ir_const_data(fn, v, s, NOLOC);
}

#define COUNT(...) ((int)(sizeof((double[]){__VA_ARGS__}) / sizeof(double)))
#define VEC(...) tensor(shape_vector(COUNT(__VA_ARGS__)), (double[]){__VA_ARGS__})
#define MAT(r, c, ...) tensor(shape_matrix((r), (c)), (double[]){__VA_ARGS__})
#define SCALAR(x) ir_const(fn, (x), shape_scalar(), NOLOC)

static IrNode *unary(Op op, IrNode *x) {
    return ir_unary(fn, op, x, NOLOC);
}

static IrNode *binary(Op op, IrNode *a, IrNode *b) {
    return ir_binary(fn, op, a, b, NOLOC);
}

static IrNode *emit(IrNode proto) {
    proto.loc = NOLOC;
    return ir_emit(fn, &proto);
}

static int add_param(const char *name, Shape shape) {
    return ir_add_param(mod, (IrParam){.name = name, .shape = shape, .trainable = true});
}

/* ---- running ---- */

static double got[1 << 14];

/* Runs fn for its result n with env (rows, buffers); asserts success. */
static void run_env(IrNode *n, IrEnv *env) {
    char err[256];
    fn->result = n;
    env->result = got;
    cr_assert(ir_interp(fn, env, err, sizeof err), "ir_interp failed: %s", err);
}

static void run(IrNode *n) {
    IrEnv env = {.rows = 1};
    run_env(n, &env);
}

/* Equal within a relative 1e-12 (absolute near 0); NaN only equals NaN. */
static bool close_to(double a, double b) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    if (isinf(a) || isinf(b)) return a == b;
    return fabs(a - b) <= 1e-12 * fmax(1, fmax(fabs(a), fabs(b)));
}

static void expect_values(const double *have, const double *want, int n) {
    for (int i = 0; i < n; i++)
        cr_expect(close_to(have[i], want[i]), "element %d: got %.17g, want %.17g", i, have[i], want[i]);
}

#define EXPECT(n, ...)                                                                           \
    do {                                                                                         \
        IrNode *node_ = (n);                                                                     \
        run(node_);                                                                              \
        cr_assert_eq(shape_numel(node_->shape), COUNT(__VA_ARGS__), "wrong element count");      \
        expect_values(got, (double[]){__VA_ARGS__}, COUNT(__VA_ARGS__));                         \
    } while (0)

/* ---- element-wise unary (ops.def, SPEC 1.7) ---- */

#define XS -2.0, -0.5, 0.0, 0.5, 2.0

Test(interp, unary_basic) {
    IrNode *x = VEC(XS);
    EXPECT(unary(OP_NEG, x), 2, 0.5, -0.0, -0.5, -2);
    EXPECT(unary(OP_ABS, x), 2, 0.5, 0, 0.5, 2);
    EXPECT(unary(OP_SQUARE, x), 4, 0.25, 0, 0.25, 4);
    EXPECT(unary(OP_EXP, x), exp(-2), exp(-0.5), 1, exp(0.5), exp(2));
    EXPECT(unary(OP_STEP, x), 0, 0, 1, 1, 1);
    EXPECT(unary(OP_RELU, x), 0, 0, 0, 0.5, 2);
    EXPECT(unary(OP_SIGN, x), -1, -1, 0, 1, 1);
    EXPECT(unary(OP_TANH, x), tanh(-2), tanh(-0.5), 0, tanh(0.5), tanh(2));
    EXPECT(unary(OP_ERF, x), erf(-2), erf(-0.5), 0, erf(0.5), erf(2));
    EXPECT(unary(OP_SOFTSIGN, x), -2.0 / 3, -0.5 / 1.5, 0, 0.5 / 1.5, 2.0 / 3);
    IrNode *pos = VEC(0.25, 1, 4);
    EXPECT(unary(OP_LOG, pos), log(0.25), 0, log(4));
    EXPECT(unary(OP_SQRT, pos), 0.5, 1, 2);
}

Test(interp, unary_activations) {
    IrNode *x = VEC(XS);
    double s[] = {1 / (1 + exp(2)), 1 / (1 + exp(0.5)), 0.5, 1 / (1 + exp(-0.5)), 1 / (1 + exp(-2))};
    EXPECT(unary(OP_SIGMOID, x), s[0], s[1], s[2], s[3], s[4]);
    EXPECT(unary(OP_SWISH, x), -2 * s[0], -0.5 * s[1], 0, 0.5 * s[3], 2 * s[4]);
    EXPECT(unary(OP_SOFTPLUS, x), log(1 + exp(-2)), log(1 + exp(-0.5)), log(2), log(1 + exp(0.5)),
           log(1 + exp(2)));
    EXPECT(unary(OP_GELU, x), -1 * (1 + erf(-2 / sqrt(2))), -0.25 * (1 + erf(-0.5 / sqrt(2))), 0,
           0.25 * (1 + erf(0.5 / sqrt(2))), 1 * (1 + erf(2 / sqrt(2))));
    EXPECT(ir_unary_attr(fn, OP_LEAKY_RELU, x, 0.1, NOLOC), -0.2, -0.05, 0, 0.5, 2);
    EXPECT(ir_unary_attr(fn, OP_ELU, x, 2.0, NOLOC), 2 * (exp(-2) - 1), 2 * (exp(-0.5) - 1), 0, 0.5, 2);
    const double a = 1.67326324235437728481, k = 1.05070098735548049342; /* Keras */
    EXPECT(unary(OP_SELU, x), k * a * (exp(-2) - 1), k * a * (exp(-0.5) - 1), 0, k * 0.5, k * 2);
}

/* SPEC 1.7's stable forms: no overflow, no NaN, at ±800. */
Test(interp, unary_extremes_stay_finite) {
    IrNode *x = VEC(-800, 800);
    EXPECT(unary(OP_SIGMOID, x), 0, 1);
    EXPECT(unary(OP_SOFTPLUS, x), 0, 800);
    EXPECT(unary(OP_SWISH, x), -0.0, 800);
    EXPECT(unary(OP_TANH, x), -1, 1);
    EXPECT(unary(OP_SOFTSIGN, x), -800.0 / 801, 800.0 / 801);
    EXPECT(unary(OP_SIGMOID, VEC(-40)), exp(-40) / (1 + exp(-40)));
}

/* ---- element-wise binary and select, NumPy broadcasting ---- */

Test(interp, binary_same_shape) {
    IrNode *a = VEC(1, -2, 3, 0), *b = VEC(2, 4, -1, 0);
    EXPECT(binary(OP_ADD, a, b), 3, 2, 2, 0);
    EXPECT(binary(OP_SUB, a, b), -1, -6, 4, 0);
    EXPECT(binary(OP_MUL, a, b), 2, -8, -3, 0);
    EXPECT(binary(OP_DIV, a, b), 0.5, -0.5, -3, NAN);
    EXPECT(binary(OP_DIVNZ, a, b), 0.5, -0.5, -3, 0);
    EXPECT(binary(OP_MINIMUM, a, b), 1, -2, -1, 0);
    EXPECT(binary(OP_MAXIMUM, a, b), 2, 4, 3, 0);
    EXPECT(binary(OP_GT, a, b), 0, 0, 1, 0);
    EXPECT(binary(OP_GE, a, b), 0, 0, 1, 1);
    EXPECT(binary(OP_EQ, a, b), 0, 0, 0, 1);
    EXPECT(binary(OP_POW, VEC(2, 9, 4), VEC(3, 0.5, -1)), 8, 3, 0.25);
}

Test(interp, divnz_by_zero) {
    EXPECT(binary(OP_DIVNZ, VEC(5, -5, 0, 6), SCALAR(0)), 0, 0, 0, 0);
    EXPECT(binary(OP_DIVNZ, SCALAR(6), VEC(0, 3, -0.0)), 0, 2, 0);
}

Test(interp, broadcasting) {
    IrNode *m = MAT(2, 3, 1, 2, 3, 4, 5, 6);
    EXPECT(binary(OP_ADD, m, VEC(10, 20, 30)), 11, 22, 33, 14, 25, 36);              /* [2,3] + [3] */
    EXPECT(binary(OP_MUL, MAT(2, 1, 1, 2), VEC(1, 10, 100)), 1, 10, 100, 2, 20, 200); /* [2,1] * [3] */
    EXPECT(binary(OP_SUB, SCALAR(1), m), 0, -1, -2, -3, -4, -5);                     /* [] - [2,3] */
    EXPECT(binary(OP_MUL, MAT(2, 2, 1, 2, 3, 4), VEC(10, 100)), 10, 200, 30, 400);
    IrNode *r = binary(OP_ADD, MAT(3, 1, 0, 1, 2), MAT(1, 2, 10, 20)); /* [3,1] + [1,2] */
    cr_expect(shape_eq(r->shape, shape_matrix(3, 2)));
    EXPECT(r, 10, 20, 11, 21, 12, 22);
}

Test(interp, select_broadcasts_three_operands) {
    IrNode *c = MAT(2, 1, 1, 0);    /* [2,1] */
    IrNode *a = VEC(1, 2, 3);       /* [3] */
    IrNode *b = SCALAR(-1);         /* [] */
    IrNode *s = emit((IrNode){.op = OP_SELECT, .nin = 3, .in = {c, a, b}});
    cr_expect(shape_eq(s->shape, shape_matrix(2, 3)));
    EXPECT(s, 1, 2, 3, -1, -1, -1);
    EXPECT(emit((IrNode){.op = OP_SELECT, .nin = 3, .in = {VEC(0, 2, -0.5), VEC(7, 8, 9), VEC(4, 5, 6)}}), 4, 8, 9);
}

/* ---- reductions ---- */

Test(interp, reductions_over_an_axis) {
    IrNode *m = MAT(2, 3, 1, 5, 3, 4, 2, 6);
    EXPECT(ir_reduce(fn, OP_SUM, m, 0, NOLOC), 5, 7, 9);
    EXPECT(ir_reduce(fn, OP_SUM, m, 1, NOLOC), 9, 12);
    EXPECT(ir_reduce(fn, OP_MEAN, m, 1, NOLOC), 3, 4);
    EXPECT(ir_reduce(fn, OP_MAX, m, 0, NOLOC), 4, 5, 6);
    EXPECT(ir_reduce(fn, OP_MAX, m, 1, NOLOC), 5, 6);
    EXPECT(ir_reduce(fn, OP_LOGSUMEXP, m, 1, NOLOC), log(exp(1) + exp(5) + exp(3)),
           log(exp(4) + exp(2) + exp(6)));
}

Test(interp, reductions_over_all_axes) {
    IrNode *m = MAT(2, 2, 1, 2, 3, 4);
    EXPECT(ir_reduce(fn, OP_SUM, m, IR_AXIS_ALL, NOLOC), 10);
    EXPECT(ir_reduce(fn, OP_MEAN, m, IR_AXIS_ALL, NOLOC), 2.5);
    EXPECT(ir_reduce(fn, OP_MAX, m, IR_AXIS_ALL, NOLOC), 4);
    EXPECT(ir_reduce(fn, OP_LOGSUMEXP, m, IR_AXIS_ALL, NOLOC), log(exp(1) + exp(2) + exp(3) + exp(4)));
}

/* The builder normalizes -1 to the last axis; the interpreter follows it. */
Test(interp, reduction_negative_axis) {
    double v[24];
    for (int i = 0; i < 24; i++) v[i] = i;
    IrNode *t = tensor(shape_of(3, (int[]){2, 3, 4}), v);
    IrNode *last = ir_reduce(fn, OP_SUM, t, -1, NOLOC);
    cr_expect_eq(last->axis, 2);
    EXPECT(last, 6, 22, 38, 54, 70, 86);
    IrNode *mid = ir_reduce(fn, OP_MAX, t, -2, NOLOC);
    cr_expect_eq(mid->axis, 1);
    EXPECT(mid, 8, 9, 10, 11, 20, 21, 22, 23);
}

Test(interp, logsumexp_stays_finite) {
    EXPECT(ir_reduce(fn, OP_LOGSUMEXP, VEC(1000, 1000), IR_AXIS_ALL, NOLOC), 1000 + log(2));
    EXPECT(ir_reduce(fn, OP_LOGSUMEXP, VEC(-1000, -1000), IR_AXIS_ALL, NOLOC), -1000 + log(2));
    EXPECT(ir_reduce(fn, OP_LOGSUMEXP, VEC(1000, -1000), IR_AXIS_ALL, NOLOC), 1000);
}

/* ---- structure ---- */

Test(interp, softmax_along_axis) {
    double z = exp(1) + exp(2) + exp(3);
    EXPECT(ir_softmax(fn, VEC(1, 2, 3), -1, NOLOC), exp(1) / z, exp(2) / z, exp(3) / z);
    IrNode *m = MAT(2, 2, 0, 1, 0, 3);
    double e = 1 / (1 + exp(-3.0)); /* softmax([0, 3])[1] */
    EXPECT(ir_softmax(fn, m, 0, NOLOC), 0.5, 1 / (1 + exp(2.0)), 0.5, 1 / (1 + exp(-2.0)));
    EXPECT(ir_softmax(fn, m, 1, NOLOC), 1 / (1 + exp(1.0)), 1 / (1 + exp(-1.0)), 1 - e, e);
}

Test(interp, softmax_stays_finite) {
    EXPECT(ir_softmax(fn, VEC(1000, 1000), -1, NOLOC), 0.5, 0.5);
    EXPECT(ir_softmax(fn, VEC(-1000, -1000, -1000, -1000), -1, NOLOC), 0.25, 0.25, 0.25, 0.25);
    EXPECT(ir_softmax(fn, VEC(1000, 0), -1, NOLOC), 1, 0);
}

/* numpy.matmul for every pairing of rank 1 and 2 (SPEC 1.4). */
Test(interp, matmul_ranks) {
    IrNode *a = MAT(2, 3, 1, 2, 3, 4, 5, 6);
    IrNode *b = MAT(3, 2, 7, 8, 9, 10, 11, 12);
    EXPECT(ir_matmul(fn, a, b, NOLOC), 58, 64, 139, 154);
    EXPECT(ir_matmul(fn, VEC(1, 2), a, NOLOC), 9, 12, 15);          /* [2] @ [2,3] -> [3] */
    EXPECT(ir_matmul(fn, a, VEC(1, 0, -1), NOLOC), -2, -2);        /* [2,3] @ [3] -> [2] */
    IrNode *dot = ir_matmul(fn, VEC(1, 2, 3), VEC(4, 5, 6), NOLOC); /* [3] @ [3] -> [] */
    cr_expect_eq(dot->shape.rank, 0);
    EXPECT(dot, 32);
    EXPECT(ir_matmul(fn, MAT(2, 2, 1, 2, 3, 4), MAT(2, 1, 5, 6), NOLOC), 17, 39);
}

Test(interp, reshape_and_transpose) {
    IrNode *v = VEC(1, 2, 3, 4, 5, 6);
    IrNode *m = ir_reshape(fn, v, shape_matrix(2, 3), NOLOC);
    EXPECT(m, 1, 2, 3, 4, 5, 6);
    EXPECT(ir_transpose(fn, m, NOLOC), 1, 4, 2, 5, 3, 6);
    EXPECT(ir_transpose(fn, v, NOLOC), 1, 2, 3, 4, 5, 6);
    IrNode *t = ir_reshape(fn, VEC(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), shape_of(3, (int[]){2, 3, 2}), NOLOC);
    IrNode *tt = ir_transpose(fn, t, NOLOC); /* [2,3,2] -> [2,3,2], out[k][j][i] = in[i][j][k] */
    EXPECT(tt, 0, 6, 2, 8, 4, 10, 1, 7, 3, 9, 5, 11);
}

Test(interp, slice_ranges_and_dropped_axes) {
    IrNode *m = MAT(3, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
    IrSlice row1 = {.rank = 1, .start = {1}, .drop = 1};                   /* m[1] */
    EXPECT(ir_slice(fn, m, &row1, NOLOC), 4, 5, 6, 7);
    IrSlice col2 = {.rank = 2, .start = {0, 2}, .stop = {3, 0}, .drop = 2}; /* m[:, 2] */
    EXPECT(ir_slice(fn, m, &col2, NOLOC), 2, 6, 10);
    IrSlice box = {.rank = 2, .start = {1, 1}, .stop = {3, 3}};             /* m[1:3, 1:3] */
    EXPECT(ir_slice(fn, m, &box, NOLOC), 5, 6, 9, 10);
    IrSlice elem = {.rank = 2, .start = {2, 3}, .drop = 3};                 /* m[2, 3] */
    EXPECT(ir_slice(fn, m, &elem, NOLOC), 11);
}

/* PAD is SLICE's adjoint: pad(slice(x)) keeps the box and zeroes the rest. */
Test(interp, pad_of_slice) {
    IrNode *m = MAT(3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    IrSlice box = {.rank = 2, .start = {1, 0}, .stop = {3, 2}};
    IrNode *s = ir_slice(fn, m, &box, NOLOC);
    EXPECT(emit((IrNode){.op = OP_PAD, .nin = 1, .in = {s}, .shape = m->shape, .slice = box}), 0, 0, 0, 4, 5,
           0, 7, 8, 0);
    IrSlice col = {.rank = 2, .start = {0, 1}, .stop = {3, 0}, .drop = 2}; /* m[:, 1] */
    IrNode *c = ir_slice(fn, m, &col, NOLOC);
    EXPECT(emit((IrNode){.op = OP_PAD, .nin = 1, .in = {c}, .shape = m->shape, .slice = col}), 0, 2, 0, 0, 5,
           0, 0, 8, 0);
}

Test(interp, broadcast_op) {
    EXPECT(ir_broadcast(fn, VEC(1, 2, 3), shape_matrix(2, 3), NOLOC), 1, 2, 3, 1, 2, 3);
    EXPECT(ir_broadcast(fn, MAT(2, 1, 1, 2), shape_matrix(2, 3), NOLOC), 1, 1, 1, 2, 2, 2);
    EXPECT(ir_broadcast(fn, SCALAR(7), shape_vector(3), NOLOC), 7, 7, 7);
}

Test(interp, outer) {
    EXPECT(binary(OP_OUTER, VEC(1, 2), VEC(3, 4, 5)), 3, 4, 5, 6, 8, 10);
}

static IrNode *one_hot(double index, int classes) {
    return emit((IrNode){.op = OP_ONE_HOT, .nin = 1, .in = {SCALAR(index)}, .axis = classes});
}

Test(interp, one_hot) {
    EXPECT(one_hot(0, 3), 1, 0, 0);
    EXPECT(one_hot(2, 3), 0, 0, 1);
    EXPECT(one_hot(3, 3), 0, 0, 0);   /* outside 0..classes-1 */
    EXPECT(one_hot(-1, 3), 0, 0, 0);
    EXPECT(one_hot(1.5, 3), 0, 0, 0); /* not a class index */
}

/* ---- leaves and rows ---- */

Test(interp, input_rows_and_batch_sum) {
    IrNode *x = ir_input(fn, shape_vector(2), NOLOC);
    IrNode *y = binary(OP_MUL, x, SCALAR(2));
    cr_expect(y->varying);
    IrNode *s = emit((IrNode){.op = OP_BATCH_SUM, .nin = 1, .in = {y}});
    cr_expect(!s->varying);
    double in[] = {1, 2, 3, 4, 5, 6};
    IrEnv env = {.rows = 3, .input = in};
    run_env(s, &env);
    expect_values(got, (double[]){18, 24}, 2);
    run_env(y, &env); /* a varying result: rows x numel */
    expect_values(got, (double[]){2, 4, 6, 8, 10, 12}, 6);
}

/* A uniform operand is the same tensor in every row: the sum is rows x it. */
Test(interp, batch_sum_of_uniform) {
    IrNode *x = ir_input(fn, shape_scalar(), NOLOC);
    IrNode *s = emit((IrNode){.op = OP_BATCH_SUM, .nin = 1, .in = {VEC(1, 2)}});
    IrNode *r = binary(OP_ADD, s, emit((IrNode){.op = OP_BATCH_SUM, .nin = 1, .in = {x}}));
    IrEnv env = {.rows = 4, .input = (double[]){1, 1, 1, 1}};
    run_env(r, &env);
    expect_values(got, (double[]){8, 12}, 2);
}

Test(interp, leaves) {
    int w = add_param("w", shape_vector(2));
    IrNode *p = ir_param(fn, w, NOLOC);
    IrNode *g = emit((IrNode){.op = OP_GRAD, .param = w, .shape = shape_vector(2)});
    IrNode *st = emit((IrNode){.op = OP_STATE, .param = w, .axis = 1, .shape = shape_vector(2)});
    IrNode *lr = emit((IrNode){.op = OP_HYPER, .axis = HYPER_LEARNING_RATE, .shape = shape_scalar()});
    IrNode *t = ir_leaf(fn, OP_TARGET, shape_vector(2), NOLOC);
    IrNode *pr = ir_leaf(fn, OP_PRED, shape_vector(2), NOLOC);
    /* p + 10 g + 100 state1 + 1000 lr + target - pred + fill 0.5 */
    IrNode *sum = binary(OP_ADD, p, binary(OP_MUL, SCALAR(10), g));
    sum = binary(OP_ADD, sum, binary(OP_MUL, SCALAR(100), st));
    sum = binary(OP_ADD, sum, binary(OP_MUL, SCALAR(1000), lr));
    sum = binary(OP_ADD, sum, binary(OP_SUB, t, pr));
    sum = binary(OP_ADD, sum, ir_const(fn, 0.5, shape_vector(2), NOLOC));
    double wv[] = {1, 2}, gv[] = {3, 4}, s0[] = {0, 0}, s1[] = {5, 6};
    double *states[] = {s0, s1};
    double *params[] = {wv}, *grads[] = {gv}, **state[] = {states};
    IrEnv env = {.rows = 2, .params = params, .grads = grads, .state = state, .hyper = {0.25, 7},
                 .target = (double[]){1, 1, 2, 2}, .pred = (double[]){0, 1, 0, 1}};
    run_env(sum, &env);
    double base0 = 1 + 30 + 500 + 250 + 0.5, base1 = 2 + 40 + 600 + 250 + 0.5;
    expect_values(got, (double[]){base0 + 1, base1 + 0, base0 + 2, base1 + 1}, 4);
    IrNode *step = emit((IrNode){.op = OP_HYPER, .axis = HYPER_STEP, .shape = shape_scalar()});
    run_env(step, &env);
    cr_expect_eq(got[0], 7);
}

/* ---- dropout ---- */

static IrNode *mask(Shape s, double rate, int number) {
    return emit((IrNode){.op = OP_DROPOUT_MASK, .shape = s, .value = rate, .axis = number});
}

enum { MASK_ROWS = 4, MASK_N = 2500 };

Test(interp, dropout_mask_values_and_statistics) {
    IrNode *m = mask(shape_vector(MASK_N), 0.3, 2);
    IrEnv env = {.rows = MASK_ROWS, .seed = 42, .first_row = 10};
    run_env(m, &env);
    double scale = 1 / 0.7, sum = 0;
    int zeros = 0;
    for (int i = 0; i < MASK_ROWS * MASK_N; i++) {
        cr_assert(got[i] == 0 || got[i] == scale, "element %d is %g", i, got[i]);
        zeros += got[i] == 0;
        sum += got[i];
    }
    cr_expect(fabs(sum / (MASK_ROWS * MASK_N) - 1) < 0.03, "mean %g", sum / (MASK_ROWS * MASK_N));
    cr_expect(fabs(zeros / (double)(MASK_ROWS * MASK_N) - 0.3) < 0.02, "dropped %d", zeros);
    /* ops.def's rule, element by element: u = nnc_uniform(seed, first_row + r, number << 32 | e). */
    for (int r = 0; r < MASK_ROWS; r++)
        for (int e = 0; e < 50; e++) {
            double u = nnc_uniform(42, 10 + (uint64_t)r, (uint64_t)2 << 32 | (uint64_t)e);
            cr_expect_eq(got[r * MASK_N + e], u >= 0.3 ? scale : 0, "row %d element %d", r, e);
        }
}

Test(interp, dropout_mask_is_deterministic_and_chunkable) {
    IrNode *m = mask(shape_vector(64), 0.5, 0);
    static double first[4 * 64];
    IrEnv env = {.rows = 4, .seed = 7};
    run_env(m, &env);
    memcpy(first, got, sizeof first);
    run_env(m, &env);
    cr_expect(memcmp(first, got, sizeof first) == 0, "same seed, same mask");
    /* rows 2 and 3 as a chunk of their own starting at row 2 */
    IrEnv chunk = {.rows = 2, .seed = 7, .first_row = 2};
    run_env(m, &chunk);
    cr_expect(memcmp(first + 2 * 64, got, 2 * 64 * sizeof(double)) == 0, "chunks agree");
    IrEnv other = {.rows = 4, .seed = 8};
    run_env(m, &other);
    cr_expect(memcmp(first, got, sizeof first) != 0, "another seed, another mask");
    run_env(mask(shape_vector(64), 0.5, 1), &env);
    cr_expect(memcmp(first, got, sizeof first) != 0, "another number, another mask");
}

/* DROPOUT is x times the mask of its number: the k-th DROPOUT node has k. */
Test(interp, dropout_op_uses_the_mask_rule) {
    IrNode *x = ir_input(fn, shape_vector(100), NOLOC);
    IrNode *d0 = ir_dropout(fn, x, 0.4, NOLOC);
    IrNode *d1 = ir_dropout(fn, x, 0.4, NOLOC);
    cr_expect_neq(d0, d1, "DROPOUT is never merged");
    IrNode *want0 = binary(OP_MUL, x, mask(shape_vector(100), 0.4, 0));
    IrNode *want1 = binary(OP_MUL, x, mask(shape_vector(100), 0.4, 1));
    static double in[3 * 100], a[300], b[300];
    for (int i = 0; i < 300; i++) in[i] = i + 1;
    IrEnv env = {.rows = 3, .input = in, .seed = 99, .first_row = 5};
    IrNode *pairs[2][2] = {{d0, want0}, {d1, want1}};
    for (int k = 0; k < 2; k++) {
        run_env(pairs[k][0], &env);
        memcpy(a, got, sizeof a);
        run_env(pairs[k][1], &env);
        memcpy(b, got, sizeof b);
        expect_values(a, b, 300);
    }
}

/* ---- outputs ---- */

Test(interp, loss_and_pred_outputs) {
    IrNode *x = ir_input(fn, shape_vector(2), NOLOC);
    IrNode *y = unary(OP_SQUARE, x);
    ir_add_output(fn, OUT_LOSS, 0, 0, ir_reduce(fn, OP_SUM, y, IR_AXIS_ALL, NOLOC));
    ir_add_output(fn, OUT_PRED, 0, 0, y);
    double loss[2], pred[4];
    IrEnv env = {.rows = 2, .input = (double[]){1, 2, 3, 4}, .loss = loss, .pred_out = pred};
    char err[256];
    cr_assert(ir_interp(fn, &env, err, sizeof err), "%s", err);
    expect_values(loss, (double[]){5, 25}, 2);
    expect_values(pred, (double[]){1, 4, 9, 16}, 4);
}

/* OUT_GRAD adds grad_scale x value; a varying value is summed over rows. */
Test(interp, grad_accumulates_with_scale) {
    int w = add_param("w", shape_vector(2));
    int b = add_param("b", shape_scalar());
    IrNode *x = ir_input(fn, shape_vector(2), NOLOC);
    ir_add_output(fn, OUT_GRAD, w, 0, binary(OP_MUL, x, ir_param(fn, w, NOLOC)));
    ir_add_output(fn, OUT_GRAD, b, 0, SCALAR(3));
    double wv[] = {1, 10}, bv[] = {0}, gw[] = {100, 200}, gb[] = {1};
    double *params[] = {wv, bv}, *grads[] = {gw, gb};
    IrEnv env = {.rows = 2, .input = (double[]){1, 2, 3, 4}, .params = params, .grads = grads,
                 .grad_scale = 0.5};
    char err[256];
    cr_assert(ir_interp(fn, &env, err, sizeof err), "%s", err);
    expect_values(gw, (double[]){100 + 0.5 * (1 + 3), 200 + 0.5 * (20 + 40)}, 2);
    expect_values(gb, (double[]){1 + 0.5 * 3}, 1);
    cr_assert(ir_interp(fn, &env, err, sizeof err), "%s", err); /* accumulates again */
    expect_values(gw, (double[]){104, 260}, 2);
}

/* w_new = w - 0.1 grad(w): every reader of w sees the old w, even outputs
** listed after the update. */
Test(interp, params_written_after_reads) {
    int w = add_param("w", shape_vector(2));
    IrNode *p = ir_param(fn, w, NOLOC);
    IrNode *g = emit((IrNode){.op = OP_GRAD, .param = w, .shape = shape_vector(2)});
    IrNode *lr = emit((IrNode){.op = OP_HYPER, .axis = HYPER_LEARNING_RATE, .shape = shape_scalar()});
    ir_add_output(fn, OUT_PARAM, w, 0, binary(OP_SUB, p, binary(OP_MUL, lr, g)));
    ir_add_output(fn, OUT_STATE, w, 0, binary(OP_MUL, p, SCALAR(2)));
    ir_add_output(fn, OUT_LOSS, 0, 0, ir_reduce(fn, OP_SUM, p, IR_AXIS_ALL, NOLOC));
    fn->result = p;
    double wv[] = {1, 2}, gv[] = {10, -20}, sv[] = {0, 0}, loss, res[2];
    double *params[] = {wv}, *grads[] = {gv}, *slots[] = {sv}, **state[] = {slots};
    IrEnv env = {.rows = 1, .params = params, .grads = grads, .state = state, .hyper = {0.1, 1},
                 .loss = &loss, .result = res};
    char err[256];
    cr_assert(ir_interp(fn, &env, err, sizeof err), "%s", err);
    expect_values(wv, (double[]){0, 4}, 2);
    expect_values(sv, (double[]){2, 4}, 2); /* 2 x the old w */
    cr_expect_eq(loss, 3);
    expect_values(res, (double[]){1, 2}, 2);
    expect_values(gv, (double[]){10, -20}, 2); /* grads are read, not written */
}

/* ---- refusals: false with a message, never a crash ---- */

static const char *refusal(IrEnv *env) {
    static char err[256];
    cr_expect(!ir_interp(fn, env, err, sizeof err), "ir_interp should refuse");
    cr_expect(err[0] != '\0', "without a message");
    return err;
}

Test(interp, refuses_missing_buffers) {
    IrNode *x = ir_input(fn, shape_vector(2), NOLOC);
    fn->result = unary(OP_EXP, x);
    double out[2];
    cr_expect(strstr(refusal(&(IrEnv){.rows = 1, .result = out}), "input"));
    cr_expect(strstr(refusal(&(IrEnv){.rows = 1, .input = (double[]){1, 2}}), "result"));
    cr_expect(strstr(refusal(&(IrEnv){.rows = 0, .input = (double[]){1, 2}, .result = out}), "rows"));
    int w = add_param("w", shape_vector(2));
    ir_add_output(fn, OUT_PARAM, w, 0, ir_param(fn, w, NOLOC));
    cr_expect(strstr(refusal(&(IrEnv){.rows = 1, .input = (double[]){1, 2}, .result = out}), "params"));
    cr_expect(!ir_interp(NULL, &(IrEnv){0}, NULL, 0));
}

Test(interp, refuses_bad_outputs) {
    int w = add_param("w", shape_vector(2));
    IrNode *x = ir_input(fn, shape_vector(2), NOLOC);
    ir_add_output(fn, OUT_PARAM, w, 0, x); /* a new parameter that varies per row */
    double wv[2] = {0}, *params[] = {wv};
    IrEnv env = {.rows = 1, .input = (double[]){1, 2}, .params = params};
    cr_expect(strstr(refusal(&env), "uniform"));
    cr_expect_eq(wv[0], 0, "nothing written on refusal");
}

Test(interp, refuses_non_scalar_loss) {
    ir_add_output(fn, OUT_LOSS, 0, 0, VEC(1, 2));
    double loss[2];
    cr_expect(strstr(refusal(&(IrEnv){.rows = 1, .loss = loss}), "scalar"));
}

/* Dead nodes need no buffers: only what the result uses is computed. */
Test(interp, dead_leaves_need_no_buffers) {
    ir_input(fn, shape_vector(2), NOLOC);
    EXPECT(VEC(1, 2), 1, 2);
}

/* ======================================================================
** ir_print_value: NumPy's repr, byte for byte
** ====================================================================== */

static const char *printed(const double *v, Shape s) {
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    cr_assert(out);
    ir_print_value(out, v, s);
    fclose(out);
    const char *text = arena_strdup(arena, buf);
    free(buf);
    return text;
}

#define PRINTS(shape, want, ...) cr_expect_str_eq(printed((double[]){__VA_ARGS__}, (shape)), (want))

Test(interp, print_numbers_like_numpy) {
    PRINTS(shape_scalar(), "array(6.)", 6);
    PRINTS(shape_scalar(), "array(0.5)", 0.5);
    PRINTS(shape_scalar(), "array(-1.25)", -1.25);
    PRINTS(shape_scalar(), "array(1.e-07)", 1e-7);
    PRINTS(shape_scalar(), "array(1000.69314718)", 1000.6931471805599);
    PRINTS(shape_scalar(), "array(-0.)", -0.0);
    PRINTS(shape_scalar(), "array(1.e+20)", 1e20);
    PRINTS(shape_vector(2), "array([1. , 0.5])", 1, 0.5);
    PRINTS(shape_vector(2), "array([5.e-01, 1.e-07])", 0.5, 1e-7);
    PRINTS(shape_vector(3), "array([0.1, 0.2, 0.3])", 0.1, 0.2, 0.30000000000000004);
    PRINTS(shape_vector(2), "array([1.e-100, 1.e+000])", 1e-100, 1);
    PRINTS(shape_vector(3), "array([  1., -inf,  nan])", 1, -INFINITY, NAN);
    PRINTS(shape_vector(2), "array([nan, inf])", NAN, INFINITY);
    PRINTS(shape_vector(2), "array([ 1.e+08, -1.e+00])", 1e8, -1);
}

Test(interp, print_layout_like_numpy) {
    PRINTS(shape_matrix(2, 2), "array([[6., 6.],\n       [6., 6.]])", 6, 6, 6, 6);
    PRINTS(shape_matrix(2, 2), "array([[ 10., 200.],\n       [ 30., 400.]])", 10, 200, 30, 400);
    PRINTS(shape_of(3, (int[]){2, 2, 1}), "array([[[1.],\n        [2.]],\n\n       [[3.],\n        [4.]]])", 1,
           2, 3, 4);
}

/* Long rows wrap at 75 columns under the first '['. */
Test(interp, print_wraps_long_rows) {
    double v[30];
    for (int i = 0; i < 30; i++) v[i] = i;
    cr_expect_str_eq(printed(v, shape_vector(30)),
                     "array([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12.,\n"
                     "       13., 14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25.,\n"
                     "       26., 27., 28., 29.])");
}

/* Over 1000 elements NumPy shows 3 at each end of every axis; only those
** decide the format (0..1999 spans more than 1e3, so scientific). */
Test(interp, print_summarizes_large_arrays) {
    static double v[2000];
    for (int i = 0; i < 2000; i++) v[i] = 1000 + i;
    cr_expect_str_eq(printed(v, shape_vector(2000)), "array([1000., 1001., 1002., ..., 2997., 2998., 2999.])");
    cr_expect_str_eq(printed(v, shape_matrix(40, 50)),
                     "array([[1000., 1001., 1002., ..., 1047., 1048., 1049.],\n"
                     "       [1050., 1051., 1052., ..., 1097., 1098., 1099.],\n"
                     "       [1100., 1101., 1102., ..., 1147., 1148., 1149.],\n"
                     "       ...,\n"
                     "       [2850., 2851., 2852., ..., 2897., 2898., 2899.],\n"
                     "       [2900., 2901., 2902., ..., 2947., 2948., 2949.],\n"
                     "       [2950., 2951., 2952., ..., 2997., 2998., 2999.]])");
    for (int i = 0; i < 2000; i++) v[i] = i;
    cr_expect_str_eq(printed(v, shape_vector(2000)),
                     "array([0.000e+00, 1.000e+00, 2.000e+00, ..., 1.997e+03, 1.998e+03,\n"
                     "       1.999e+03])");
}

/* ======================================================================
** nnc eval 'EXPR': what main.c's eval_command does, into strings
** ====================================================================== */

typedef struct EvalRun {
    int status;
    const char *out, *err;
} EvalRun;

static const char *slurp(char *buf) {
    const char *text = arena_strdup(arena, buf ? buf : "");
    free(buf);
    return text;
}

static EvalRun eval(const char *src) {
    char *out_buf = NULL, *err_buf = NULL;
    size_t out_len = 0, err_len = 0;
    FILE *out = open_memstream(&out_buf, &out_len), *err = open_memstream(&err_buf, &err_len);
    cr_assert(out && err);
    Arena *a = arena_new();
    Diag diag;
    diag_init(&diag, "<eval>", src, strlen(src), err);
    Node *expr = parse_expression(a, &diag);
    IrFunc *f = expr && !diag_failed(&diag) ? sema_check_expression(a, &diag, expr) : NULL;
    EvalRun r = {.status = 1};
    if (f) {
        double *value = malloc(sizeof(double) * (size_t)shape_numel(f->result->shape));
        char why[256], shape[160];
        IrEnv env = {.rows = 1, .grad_scale = 1, .result = value};
        cr_assert(ir_interp(f, &env, why, sizeof why), "%s", why);
        ir_print_value(out, value, f->result->shape);
        fprintf(out, "\nshape: %s\n", shape_format(f->result->shape, shape, sizeof shape));
        r.status = 0;
        free(value);
    }
    arena_free(a);
    fclose(out);
    fclose(err);
    r.out = slurp(out_buf);
    r.err = slurp(err_buf);
    return r;
}

static void expect_eval(const char *src, const char *want) {
    EvalRun r = eval(src);
    cr_expect_eq(r.status, 0, "nnc eval '%s' failed:\n%s", src, r.err);
    cr_expect_str_eq(r.out, want, "nnc eval '%s'", src);
    cr_expect_str_eq(r.err, "");
}

Test(interp, eval_examples) {
    expect_eval("zeros(2, 3)", "array([[0., 0., 0.],\n       [0., 0., 0.]])\nshape: [2, 3]\n");
    expect_eval("ones(2,2)", "array([[1., 1.],\n       [1., 1.]])\nshape: [2, 2]\n");
    expect_eval("ones(2,2) * 5 + 1", "array([[6., 6.],\n       [6., 6.]])\nshape: [2, 2]\n");
    expect_eval("sum(ones(2, 2) * 5 + 1, axis = 1)", "array([12., 12.])\nshape: [2]\n");
    expect_eval("reshape([1,2,3,4,5,6], [2,3])", "array([[1., 2., 3.],\n       [4., 5., 6.]])\nshape: [2, 3]\n");
    expect_eval("[[1,2],[3,4]] @ [[5],[6]]", "array([[17.],\n       [39.]])\nshape: [2, 1]\n");
    expect_eval("[[1,2],[3,4]][0, :]", "array([1., 2.])\nshape: [2]\n");
    expect_eval("[1,2,3][-1]", "array(3.)\nshape: []\n");
    expect_eval("mean([1,2,3,4])", "array(2.5)\nshape: []\n");
    expect_eval("softmax([1,2,3])", "array([0.09003057, 0.24472847, 0.66524096])\nshape: [3]\n");
    expect_eval("logsumexp([1000, 1000])", "array(1000.69314718)\nshape: []\n");
    expect_eval("[[1,2],[3,4]] * [10, 100]", "array([[ 10., 200.],\n       [ 30., 400.]])\nshape: [2, 2]\n");
    expect_eval("transpose([[1,2,3]])", "array([[1.],\n       [2.],\n       [3.]])\nshape: [3, 1]\n");
    expect_eval("max([[1,5],[7,2]], axis = 0)", "array([7., 5.])\nshape: [2]\n");
    expect_eval("sigmoid([-800, 0, 800])", "array([0. , 0.5, 1. ])\nshape: [3]\n");
}

Test(interp, eval_reports_located_errors) {
    EvalRun r = eval("[1,2] + [1,2,3]");
    cr_expect_eq(r.status, 1);
    cr_expect_str_eq(r.out, "");
    cr_expect_str_eq(r.err,
                     "<eval>:1:7: error: cannot add shapes [2] and [3]: they do not broadcast (axis -1 has 2 "
                     "and 3)\n"
                     "[1,2] + [1,2,3]\n"
                     "      ^\n");
    r = eval("relu(");
    cr_expect_eq(r.status, 1);
    cr_expect(strncmp(r.err, "<eval>:1:6: error: ", 19) == 0, "%s", r.err);
}
