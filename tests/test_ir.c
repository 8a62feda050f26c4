/*
** test_ir.c — the IR builder (hash-consing, shapes, normalization), the
** printer, the Graphviz output, the verifier and the memory summary, on a
** small hand-built model:
**
**   model tiny {
**       input x[4]
**       normalize(minmax)
**       dense(8, relu, kernel_regularizer = l2(0.01))
**       dropout(0.5)
**       dense(1, sigmoid)
**   }
*/
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"

static Loc L(int line, int col) {
    return (Loc){line, col, line, col + 1};
}

static const Loc NOLOC = {0};

static Arena *arena;

static void setup(void) {
    arena = arena_new();
}

static void teardown(void) {
    arena_free(arena);
}

TestSuite(ir, .init = setup, .fini = teardown);

static int add_param(IrModule *m, const char *name, Shape shape, InitKind init, ParamRole role,
                     Loc loc) {
    return ir_add_param(m, (IrParam){.name = name, .shape = shape, .init = {init, 0, 0}, .role = role,
                                     .trainable = role == ROLE_WEIGHT, .loc = loc});
}

static void add_layer(IrModule *m, const char *name, const char *kind, Shape out, int64_t nparams, Loc loc) {
    ARENA_PUSH(m->arena, m->layers, ((IrLayer){name, kind, out, nparams, loc}));
}

/* The layer dense(units, act) applied to h, as the front end lowers it. */
static IrNode *dense(IrFunc *f, IrNode *h, int kernel, int bias, Op act, Loc loc) {
    IrNode *z = ir_matmul(f, h, ir_param(f, kernel, loc), loc);
    z = ir_binary(f, OP_ADD, z, ir_param(f, bias, loc), loc);
    return ir_unary(f, act, z, loc);
}

static IrModule *tiny(void) {
    IrModule *m = ir_module_new(arena, "tiny.nn", "tiny");
    m->input_name = "x";
    m->input_shape = shape_vector(4);
    m->output_shape = shape_vector(1);
    int min = add_param(m, "normalize_1.min", shape_vector(4), INIT_ZEROS, ROLE_NORM_MIN, L(3, 5));
    int max = add_param(m, "normalize_1.max", shape_vector(4), INIT_ONES, ROLE_NORM_MAX, L(3, 5));
    int k1 = add_param(m, "dense_1.kernel", shape_matrix(4, 8), INIT_GLOROT_UNIFORM, ROLE_WEIGHT, L(4, 5));
    int b1 = add_param(m, "dense_1.bias", shape_vector(8), INIT_ZEROS, ROLE_WEIGHT, L(4, 5));
    int k2 = add_param(m, "dense_2.kernel", shape_matrix(8, 1), INIT_GLOROT_UNIFORM, ROLE_WEIGHT, L(6, 5));
    int b2 = add_param(m, "dense_2.bias", shape_vector(1), INIT_ZEROS, ROLE_WEIGHT, L(6, 5));
    m->params.items[k1].l2 = 0.01;
    add_layer(m, "normalize_1", "normalize", shape_vector(4), 8, L(3, 5));
    add_layer(m, "dense_1", "dense", shape_vector(8), 40, L(4, 5));
    add_layer(m, "dropout_1", "dropout", shape_vector(8), 0, L(5, 5));
    add_layer(m, "dense_2", "dense", shape_vector(1), 9, L(6, 5));

    IrFunc *f = m->forward = ir_func_new(m, "forward");
    IrNode *x = ir_input(f, shape_vector(4), L(2, 5));
    IrNode *lo = ir_param(f, min, L(3, 5));
    IrNode *hi = ir_param(f, max, L(3, 5));
    IrNode *shifted = ir_binary(f, OP_SUB, x, lo, L(3, 5));
    IrNode *range = ir_binary(f, OP_SUB, hi, lo, L(3, 5));
    IrNode *h = ir_binary(f, OP_DIVNZ, shifted, range, L(3, 5));
    h = dense(f, h, k1, b1, OP_RELU, L(4, 5));
    h = ir_dropout(f, h, 0.5, L(5, 5));
    f->result = dense(f, h, k2, b2, OP_SIGMOID, L(6, 5));

    m->loss = LOSS_BINARY_CE;
    m->optimizer = (OptSpec){.kind = OPT_ADAM, .learning_rate = 0.001, .beta_1 = 0.9, .beta_2 = 0.999,
                             .epsilon = 1e-7};
    ARENA_PUSH(arena, m->metrics, MET_ACCURACY);
    m->fit.epochs = 10;
    m->fit.validation_split = 0.25;
    IrCallback stop = {.kind = CB_EARLY_STOPPING, .monitor = "val_loss", .mode = MODE_MIN, .patience = 3};
    ARENA_PUSH(arena, m->fit.callbacks, stop);
    return m;
}

/* What fn prints, in the arena. */
#define CAPTURE(text, call)                             \
    do {                                                \
        char *buf_ = NULL;                              \
        size_t len_ = 0;                                \
        FILE *out = open_memstream(&buf_, &len_);       \
        cr_assert(out);                                 \
        call;                                           \
        fclose(out);                                    \
        (text) = arena_strdup(arena, buf_);             \
        free(buf_);                                     \
    } while (0)

static const char *why_not(const IrFunc *f) {
    char *why = arena_alloc(arena, 256);
    return ir_verify(f, why, 256) ? NULL : why;
}

/* ---- the op table ---- */

Test(ir, op_table) {
    cr_expect_str_eq(ir_ops[OP_ADD].name, "add");
    cr_expect_eq(ir_ops[OP_ADD].arity, 2);
    cr_expect(ir_ops[OP_ADD].flags & OPF_EW);
    cr_expect(ir_ops[OP_DROPOUT].flags & OPF_NOCSE);
    cr_expect_str_eq(ir_ops[OP_TARGET].name, "y_true");
    for (int op = 0; op < OP_COUNT; op++) cr_expect(ir_ops[op].name != NULL, "op %d has no name", op);
}

/* ---- the builder ---- */

Test(ir, module_and_params) {
    IrModule *m = tiny();
    cr_expect_eq(m->params.len, 6);
    cr_expect_eq(ir_param_count(m, false), 57);
    cr_expect_eq(ir_param_count(m, true), 49);
    cr_expect_eq(m->forward->nodes.len, 17);
    cr_expect_eq(m->forward->module, m);
    cr_expect_null(why_not(m->forward));
    cr_expect(shape_eq(m->forward->result->shape, shape_vector(1)));
}

Test(ir, ids_are_positions) {
    IrModule *m = tiny();
    for (int i = 0; i < m->forward->nodes.len; i++) cr_expect_eq(m->forward->nodes.items[i]->id, i);
}

Test(ir, same_node_twice_is_one_node) {
    IrModule *m = tiny();
    IrFunc *f = m->forward;
    int len = f->nodes.len;
    IrNode *x = ir_input(f, shape_vector(4), L(9, 9));
    cr_expect_eq(x, f->nodes.items[0]);
    IrNode *lo = ir_param(f, 0, L(9, 9));
    IrNode *a = ir_binary(f, OP_SUB, x, lo, L(9, 9));
    cr_expect_eq(a, f->nodes.items[3]);
    cr_expect_eq(a->loc.first_line, 3, "the first location is kept");
    cr_expect_eq(ir_binary(f, OP_SUB, lo, x, NOLOC) == a, false, "operand order matters");
    cr_expect_eq(f->nodes.len, len + 1);
}

Test(ir, dropout_is_never_merged) {
    IrFunc *f = tiny()->forward;
    IrNode *x = f->nodes.items[0];
    IrNode *a = ir_dropout(f, x, 0.5, NOLOC), *b = ir_dropout(f, x, 0.5, NOLOC);
    cr_expect_neq(a, b);
    cr_expect_eq(b->id, a->id + 1);
}

Test(ir, attributes_are_part_of_the_key) {
    IrFunc *f = tiny()->forward;
    IrNode *x = f->nodes.items[0];
    IrNode *a = ir_unary_attr(f, OP_LEAKY_RELU, x, 0.1, NOLOC);
    cr_expect_eq(ir_unary_attr(f, OP_LEAKY_RELU, x, 0.1, NOLOC), a);
    cr_expect_neq(ir_unary_attr(f, OP_LEAKY_RELU, x, 0.2, NOLOC), a);
    cr_expect_neq(ir_unary_attr(f, OP_ELU, x, 0.1, NOLOC), a);
    cr_expect_neq(ir_const(f, 0.0, shape_scalar(), NOLOC), ir_const(f, -0.0, shape_scalar(), NOLOC));
    IrNode *c = ir_const(f, 0.5, shape_matrix(2, 2), NOLOC);
    cr_expect_eq(ir_const(f, 0.5, shape_matrix(2, 2), NOLOC), c);
    cr_expect_neq(ir_const(f, 0.5, shape_vector(4), NOLOC), c);
    IrNode *r = ir_reshape(f, x, shape_matrix(2, 2), NOLOC);
    cr_expect_neq(ir_reshape(f, x, shape_matrix(4, 1), NOLOC), r);
    cr_expect_eq(ir_reshape(f, x, shape_matrix(2, 2), NOLOC), r);
}

Test(ir, unread_attributes_are_ignored) {
    IrFunc *f = tiny()->forward;
    IrNode *x = f->nodes.items[0];
    IrNode *a = ir_unary(f, OP_EXP, x, NOLOC);
    IrNode proto = {.op = OP_EXP, .nin = 1, .in = {x}, .value = 7, .axis = 3, .param = 2};
    cr_expect_eq(ir_emit(f, &proto), a);
    cr_expect_eq(a->value, 0);
}

Test(ir, axes_are_normalized) {
    IrFunc *f = tiny()->forward;
    IrNode *c = ir_const(f, 1, shape_matrix(2, 3), NOLOC);
    IrNode *s = ir_reduce(f, OP_SUM, c, -1, NOLOC);
    cr_expect_eq(s->axis, 1);
    cr_expect(shape_eq(s->shape, shape_vector(2)));
    cr_expect_eq(ir_reduce(f, OP_SUM, c, 1, NOLOC), s);
    cr_expect_neq(ir_reduce(f, OP_SUM, c, 0, NOLOC), s);
    cr_expect_neq(ir_reduce(f, OP_MEAN, c, 1, NOLOC), s);
    IrNode *all = ir_reduce(f, OP_SUM, c, IR_AXIS_ALL, NOLOC);
    cr_expect_eq(all->axis, IR_AXIS_ALL);
    cr_expect_eq(all->shape.rank, 0);
    IrNode *sm = ir_softmax(f, c, -1, NOLOC);
    cr_expect_eq(sm->axis, 1);
    cr_expect_eq(ir_softmax(f, c, 1, NOLOC), sm);
}

Test(ir, slices_compare_by_meaning) {
    IrFunc *f = tiny()->forward;
    IrNode *c = ir_const(f, 1, shape_matrix(4, 5), NOLOC);
    IrSlice a = {.rank = 2, .start = {1, 1}, .stop = {99, 3}, .drop = 1}; /* c[1, 1:3] */
    IrSlice b = {.rank = 2, .start = {1, 1}, .stop = {2, 3}, .drop = 1};
    IrNode *s = ir_slice(f, c, &a, NOLOC);
    cr_expect(shape_eq(s->shape, shape_vector(2)));
    cr_expect_eq(ir_slice(f, c, &b, NOLOC), s);
    b.stop[1] = 4;
    cr_expect_neq(ir_slice(f, c, &b, NOLOC), s);
}

Test(ir, const_data_is_copied_and_compared_by_contents) {
    IrFunc *f = tiny()->forward;
    double one[4] = {1, 2, 3, 4}, two[4] = {1, 2, 3, 4};
    IrNode *a = ir_const_data(f, one, shape_matrix(2, 2), NOLOC);
    cr_expect_neq(a->data, one);
    cr_expect_eq(ir_const_data(f, two, shape_matrix(2, 2), NOLOC), a);
    cr_expect_neq(ir_const_data(f, two, shape_vector(4), NOLOC), a);
    one[0] = 9;
    cr_expect_eq(a->data[0], 1);
    cr_expect_neq(ir_const_data(f, one, shape_matrix(2, 2), NOLOC), a);
}

Test(ir, leaves_are_unique_per_function) {
    IrModule *m = ir_module_new(arena, "l.nn", "l");
    IrFunc *f = ir_func_new(m, "loss");
    IrNode *t = ir_leaf(f, OP_TARGET, shape_vector(3), NOLOC);
    IrNode *p = ir_leaf(f, OP_PRED, shape_vector(3), NOLOC);
    cr_expect_neq(t, p);
    cr_expect_eq(ir_leaf(f, OP_TARGET, shape_vector(3), NOLOC), t);
    cr_expect_eq(ir_leaf(f, OP_PRED, shape_vector(3), NOLOC), p);
    IrFunc *g = ir_func_new(m, "other");
    cr_expect_neq(ir_leaf(g, OP_TARGET, shape_vector(3), NOLOC), t);
}

Test(ir, table_grows) {
    IrFunc *f = tiny()->forward;
    IrNode *nodes[1000];
    for (int i = 0; i < 1000; i++) nodes[i] = ir_const(f, i, shape_scalar(), NOLOC);
    for (int i = 0; i < 1000; i++) cr_assert_eq(ir_const(f, i, shape_scalar(), NOLOC), nodes[i]);
    cr_expect_eq(f->nodes.len, 17 + 1000);
    cr_expect_gt(f->table_cap, 1017);
    cr_expect_null(why_not(f));
}

Test(ir, shapes_follow_the_rules) {
    IrFunc *f = tiny()->forward;
    IrNode *col = ir_const(f, 1, shape_matrix(3, 1), NOLOC), *row = ir_const(f, 2, shape_vector(4), NOLOC);
    cr_expect(shape_eq(ir_binary(f, OP_MUL, col, row, NOLOC)->shape, shape_matrix(3, 4)));
    IrNode *v = ir_const(f, 1, shape_vector(3), NOLOC);
    cr_expect_eq(ir_matmul(f, v, v, NOLOC)->shape.rank, 0);
    cr_expect(shape_eq(ir_transpose(f, col, NOLOC)->shape, shape_matrix(1, 3)));
    cr_expect(shape_eq(ir_broadcast(f, row, shape_matrix(2, 4), NOLOC)->shape, shape_matrix(2, 4)));
}

Test(ir, bad_broadcast_dies, .signal = SIGABRT) {
    IrFunc *f = tiny()->forward;
    ir_binary(f, OP_ADD, ir_const(f, 1, shape_vector(16), NOLOC), ir_const(f, 1, shape_vector(10), NOLOC), NOLOC);
}

Test(ir, bad_reshape_dies, .signal = SIGABRT) {
    IrFunc *f = tiny()->forward;
    ir_reshape(f, f->nodes.items[0], shape_vector(5), NOLOC);
}

Test(ir, softmax_of_a_scalar_dies, .signal = SIGABRT) {
    IrFunc *f = tiny()->forward;
    ir_softmax(f, ir_const(f, 1, shape_scalar(), NOLOC), -1, NOLOC);
}

Test(ir, operand_of_another_function_dies, .signal = SIGABRT) {
    IrModule *m = tiny();
    IrFunc *g = ir_func_new(m, "g");
    ir_unary(g, OP_EXP, m->forward->nodes.items[0], NOLOC);
}

Test(ir, dropout_rate_one_dies, .signal = SIGABRT) {
    IrFunc *f = tiny()->forward;
    ir_dropout(f, f->nodes.items[0], 1.0, NOLOC);
}

Test(ir, input_with_another_shape_dies, .signal = SIGABRT) {
    IrFunc *f = tiny()->forward;
    ir_input(f, shape_vector(5), NOLOC);
}

/* ---- the printer ---- */

static const char tiny_ir[] =
    "# nnc IR — model tiny (tiny.nn)\n"
    "input %x : f32[4]\n"
    "\n"
    "param @normalize_1.min : f32[4]    = zeros, statistic=min     # tiny.nn:3:5\n"
    "param @normalize_1.max : f32[4]    = ones, statistic=max      # tiny.nn:3:5\n"
    "param @dense_1.kernel  : f32[4, 8] = glorot_uniform, l2=0.01  # tiny.nn:4:5\n"
    "param @dense_1.bias    : f32[8]    = zeros                    # tiny.nn:4:5\n"
    "param @dense_2.kernel  : f32[8, 1] = glorot_uniform           # tiny.nn:6:5\n"
    "param @dense_2.bias    : f32[1]    = zeros                    # tiny.nn:6:5\n"
    "\n"
    "func forward(%x) {\n"
    "  %1 = sub %x, @normalize_1.min                : f32[4]  # tiny.nn:3:5\n"
    "  %2 = sub @normalize_1.max, @normalize_1.min  : f32[4]  # tiny.nn:3:5\n"
    "  %3 = divnz %1, %2                            : f32[4]  # tiny.nn:3:5\n"
    "  %4 = matmul %3, @dense_1.kernel              : f32[8]  # tiny.nn:4:5\n"
    "  %5 = add %4, @dense_1.bias                   : f32[8]  # tiny.nn:4:5\n"
    "  %6 = relu %5                                 : f32[8]  # tiny.nn:4:5\n"
    "  %7 = dropout %6, rate=0.5                    : f32[8]  # tiny.nn:5:5\n"
    "  %8 = matmul %7, @dense_2.kernel              : f32[1]  # tiny.nn:6:5\n"
    "  %9 = add %8, @dense_2.bias                   : f32[1]  # tiny.nn:6:5\n"
    "  %10 = sigmoid %9                             : f32[1]  # tiny.nn:6:5\n"
    "  ret %10\n"
    "}\n"
    "\n"
    "loss binary_crossentropy\n"
    "optimizer adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, amsgrad=false)\n"
    "metrics [accuracy]\n"
    "fit epochs=10 batch_size=32 validation_split=0.25 shuffle=true seed=0 verbose=1\n"
    "callback early_stopping(monitor=val_loss, min_delta=0, patience=3, mode=min, restore_best_weights=false)\n";

Test(ir, print_module) {
    const char *text;
    CAPTURE(text, ir_print_module(out, tiny()));
    cr_expect_str_eq(text, tiny_ir);
}

/* A custom loss with every attribute the printer writes; nodes without a
** location get no comment, inline constants no line. */
static IrFunc *misc(IrModule *m) {
    IrFunc *f = ir_func_new(m, "loss");
    IrNode *t = ir_leaf(f, OP_TARGET, shape_matrix(2, 3), L(12, 12));
    IrNode *p = ir_leaf(f, OP_PRED, shape_matrix(2, 3), L(12, 23));
    static const double data[6] = {1, 2.5, -3, 0.1, 1e-7, 6};
    IrNode *c = ir_const_data(f, data, shape_matrix(2, 3), NOLOC);
    IrNode *a = ir_binary(f, OP_MUL, p, ir_const(f, 0.5, shape_matrix(2, 3), NOLOC), L(12, 30));
    IrNode *b = ir_binary(f, OP_ADD, a, ir_const(f, 1, shape_scalar(), NOLOC), NOLOC);
    IrSlice sl = {.rank = 2, .start = {0, 1}, .stop = {0, 3}, .drop = 1};
    IrNode *s = ir_slice(f, b, &sl, NOLOC);
    IrNode *lr = ir_unary_attr(f, OP_LEAKY_RELU, s, 0.1, NOLOC);
    IrNode *sm = ir_softmax(f, ir_binary(f, OP_SUB, c, t, NOLOC), -1, NOLOC);
    IrNode *r = ir_reduce(f, OP_SUM, sm, 0, NOLOC);
    IrNode *rs = ir_reshape(f, ir_transpose(f, t, NOLOC), shape_vector(6), NOLOC);
    IrNode *mean = ir_reduce(f, OP_MEAN, lr, IR_AXIS_ALL, NOLOC);
    IrNode *max = ir_reduce(f, OP_MAX, r, IR_AXIS_ALL, NOLOC);
    (void)rs; /* dead, and printed all the same */
    f->result = ir_binary(f, OP_ADD, mean, max, NOLOC);
    return f;
}

static const char misc_ir[] =
    "func loss(%y_true, %y_pred) {\n"
    "  %1 = const [1, 2.5, -3, 0.1, 1e-07, 6]  : f32[2, 3]\n"
    "  %2 = mul %y_pred, fill(0.5):f32[2, 3]   : f32[2, 3]  # m.nn:12:30\n"
    "  %3 = add %2, 1                          : f32[2, 3]\n"
    "  %4 = slice %3, [0, 1:3]                 : f32[2]\n"
    "  %5 = leaky_relu %4, alpha=0.1           : f32[2]\n"
    "  %6 = sub %1, %y_true                    : f32[2, 3]\n"
    "  %7 = softmax %6, axis=1                 : f32[2, 3]\n"
    "  %8 = sum %7, axis=0                     : f32[3]\n"
    "  %9 = transpose %y_true                  : f32[3, 2]\n"
    "  %10 = reshape %9                        : f32[6]\n"
    "  %11 = mean %5                           : f32[]\n"
    "  %12 = max %8                            : f32[]\n"
    "  %13 = add %11, %12                      : f32[]\n"
    "  ret %13\n"
    "}\n";

Test(ir, print_func) {
    IrModule *m = ir_module_new(arena, "m.nn", "m");
    IrFunc *f = misc(m);
    cr_assert_null(why_not(f));
    const char *text;
    CAPTURE(text, ir_print_func(out, m, f));
    cr_expect_str_eq(text, misc_ir);
}

Test(ir, print_custom_loss_and_settings) {
    IrModule *m = tiny();
    m->loss = LOSS_CUSTOM;
    m->custom_loss = misc(m);
    m->optimizer = (OptSpec){.kind = OPT_SGD, .learning_rate = 0.01, .momentum = 0.9, .nesterov = true};
    m->metrics.len = 0;
    m->fit.batch_size = 0;
    m->fit.callbacks.len = 0;
    IrCallback save = {.kind = CB_MODEL_CHECKPOINT, .monitor = "val_loss", .path = "out/\"best\".ckpt"};
    IrCallback plateau = {.kind = CB_REDUCE_LR_ON_PLATEAU, .monitor = "loss", .factor = 0.5, .patience = 10};
    ARENA_PUSH(arena, m->fit.callbacks, save);
    ARENA_PUSH(arena, m->fit.callbacks, plateau);
    const char *text;
    CAPTURE(text, ir_print_module(out, m));
    cr_expect(strstr(text, "  ret %10\n}\n\nfunc loss(%y_true, %y_pred) {\n"));
    cr_expect(strstr(text, "  ret %13\n}\n\nloss custom\n"
                           "optimizer sgd(learning_rate=0.01, momentum=0.9, nesterov=true)\n"
                           "metrics []\n"
                           "fit epochs=10 batch_size=all validation_split=0.25 shuffle=true seed=0 verbose=1\n"
                           "callback model_checkpoint(\"out/\\\"best\\\".ckpt\", monitor=val_loss, save_best_only=false)\n"
                           "callback reduce_lr_on_plateau(monitor=loss, factor=0.5, patience=10, min_lr=0)\n"),
              "%s", text);
}

Test(ir, print_initializers_and_optimizers) {
    IrModule *m = ir_module_new(arena, "i.nn", "i");
    InitSpec inits[] = {{INIT_CONSTANT, 0.5, 0}, {INIT_RANDOM_NORMAL, 0, 0.05},
                        {INIT_RANDOM_UNIFORM, -0.05, 0.05}, {INIT_TRUNCATED_NORMAL, 1, 2}, {INIT_HE_NORMAL, 0, 0}};
    for (int i = 0; i < 5; i++)
        ir_add_param(m, (IrParam){.name = arena_printf(arena, "p%d", i), .shape = shape_vector(2), .init = inits[i],
                                  .trainable = i != 4, .l1 = i == 3 ? 0.001 : 0});
    m->optimizer = (OptSpec){.kind = OPT_ADAMW, .learning_rate = 0.001, .weight_decay = 0.004, .beta_1 = 0.9,
                             .beta_2 = 0.999, .epsilon = 1e-7, .amsgrad = true};
    const char *text;
    CAPTURE(text, ir_print_module(out, m));
    cr_expect(strstr(text, "\nparam @p0 : f32[2] = constant(value=0.5)\n"
                           "param @p1 : f32[2] = random_normal(mean=0, stddev=0.05)\n"
                           "param @p2 : f32[2] = random_uniform(minval=-0.05, maxval=0.05)\n"
                           "param @p3 : f32[2] = truncated_normal(mean=1, stddev=2), l1=0.001\n"
                           "param @p4 : f32[2] = he_normal, frozen\n"),
              "%s", text);
    cr_expect(strstr(text, "optimizer adamw(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, "
                           "beta_2=0.999, epsilon=1e-07, amsgrad=true)\n"),
              "%s", text);
}

/* ---- Graphviz ---- */

Test(ir, dot) {
    IrModule *m = tiny();
    const char *text;
    CAPTURE(text, ir_print_dot(out, m, m->forward));
    cr_expect(strncmp(text, "digraph \"tiny\" {\n", 17) == 0, "%s", text);
    cr_expect(strstr(text, "  n0 [label=\"x\\nf32[4]\", shape=ellipse];\n"), "%s", text);
    cr_expect(strstr(text, "  n6 [label=\"@dense_1.kernel\\nf32[4, 8]\", shape=box];\n"), "%s", text);
    cr_expect(strstr(text, "  n11 [label=\"dropout rate=0.5\\nf32[8]\"];\n"), "%s", text);
    cr_expect(strstr(text, "  n16 [label=\"sigmoid\\nf32[1]\", peripheries=2];\n"), "%s", text);
    cr_expect(strstr(text, "  n5 -> n7;\n  n6 -> n7;\n"), "%s", text);
    cr_expect(strstr(text, "  n15 -> n16;\n}\n"), "%s", text);
}

Test(ir, dot_escapes_names) {
    IrModule *m = ir_module_new(arena, "q.nn", "a\"b\\c");
    m->input_name = "in\"put";
    IrFunc *f = m->forward = ir_func_new(m, "forward");
    f->result = ir_unary(f, OP_EXP, ir_input(f, shape_scalar(), NOLOC), NOLOC);
    const char *text;
    CAPTURE(text, ir_print_dot(out, m, f));
    cr_expect(strstr(text, "digraph \"a\\\"b\\\\c\" {\n"), "%s", text);
    cr_expect(strstr(text, "n0 [label=\"in\\\"put\\nf32[]\", shape=ellipse];\n"), "%s", text);
}

/* ---- the verifier ---- */

Test(ir, verify_accepts_what_the_builder_makes) {
    IrModule *m = tiny();
    cr_expect_null(why_not(m->forward));
    cr_expect_null(why_not(misc(m)));
}

Test(ir, verify_catches_a_wrong_shape) {
    IrFunc *f = tiny()->forward;
    f->nodes.items[9]->shape = shape_vector(3);
    cr_expect_str_eq(why_not(f), "%9 = add: shape [3] does not match rule result [8]");
}

Test(ir, verify_catches_operands_that_do_not_fit) {
    IrFunc *f = tiny()->forward;
    f->nodes.items[7]->in[1] = f->nodes.items[8];
    cr_expect_str_eq(why_not(f), "%7 = matmul: operand 1 (%8) does not precede its use");
    f->nodes.items[7]->in[1] = f->nodes.items[6];
    f->nodes.items[9]->in[1] = f->nodes.items[5];
    cr_expect_str_eq(why_not(f), "%9 = add: operand shapes [8] and [4] do not fit (shape [8])");
}

Test(ir, verify_catches_bad_structure) {
    IrModule *m = tiny();
    IrFunc *f = m->forward;
    IrNode saved = *f->nodes.items[10];

    f->nodes.items[10]->id = 11;
    cr_expect_str_eq(why_not(f), "%11 = relu: id 11 at position 10");
    *f->nodes.items[10] = saved;

    f->nodes.items[10]->nin = 2;
    f->nodes.items[10]->in[1] = f->nodes.items[0];
    cr_expect_str_eq(why_not(f), "%10 = relu: 2 operands, the op takes 1");
    *f->nodes.items[10] = saved;

    IrFunc *g = ir_func_new(m, "g");
    f->nodes.items[10]->in[0] = ir_input(g, shape_vector(8), NOLOC);
    cr_expect_str_eq(why_not(f), "%10 = relu: operand 0 is not a node of forward");
    *f->nodes.items[10] = saved;

    f->nodes.items[11]->value = 1;
    cr_expect_str_eq(why_not(f), "%11 = dropout: rate 1 outside [0, 1)");
    f->nodes.items[11]->value = 0.5;

    f->nodes.items[1]->param = 6;
    cr_expect_str_eq(why_not(f), "%1 = param: no parameter 6");
    f->nodes.items[1]->param = 2;
    cr_expect_str_eq(why_not(f), "%1 = param: shape [4] does not match its parameter");
    f->nodes.items[1]->param = 0;

    IrNode *result = f->result;
    f->result = NULL;
    cr_expect_str_eq(why_not(f), "forward: no result");
    f->result = ir_input(g, shape_vector(8), NOLOC);
    cr_expect_str_eq(why_not(f), "forward: the result is not a node of it");
    f->result = result;
    cr_expect_null(why_not(f));
}

Test(ir, verify_catches_bad_axes_and_leaves) {
    IrModule *m = ir_module_new(arena, "m.nn", "m");
    IrFunc *f = misc(m);
    IrNode *sm = f->nodes.items[10], *sum = f->nodes.items[11];
    cr_assert_eq(sm->op, OP_SOFTMAX);
    cr_assert_eq(sum->op, OP_SUM);
    sm->axis = -1;
    cr_expect_str_eq(why_not(f), "%10 = softmax: axis -1 out of range for rank 2");
    sm->axis = 1;
    sum->axis = 2;
    cr_expect_str_eq(why_not(f), "%11 = sum: axis 2 out of range for rank 2");
    sum->axis = 0;
    f->nodes.items[1]->op = OP_TARGET;
    cr_expect_str_eq(why_not(f), "%1 = y_true: a second y_true (first %0)");
    f->nodes.items[1]->op = OP_PRED;
    cr_expect_null(why_not(f));
}

/* ---- optimizer state ---- */

Test(ir, optimizer_state_slots) {
    struct { OptSpec opt; int slots; } cases[] = {
        {{.kind = OPT_SGD}, 0}, {{.kind = OPT_SGD, .momentum = 0.9}, 1},
        {{.kind = OPT_RMSPROP}, 1}, {{.kind = OPT_ADAGRAD}, 1}, {{.kind = OPT_ADADELTA}, 2},
        {{.kind = OPT_ADAM}, 2}, {{.kind = OPT_ADAM, .amsgrad = true}, 3}, {{.kind = OPT_ADAMAX}, 2},
        {{.kind = OPT_ADAMW}, 2}, {{.kind = OPT_ADAMW, .amsgrad = true}, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        cr_expect_eq(ir_opt_slots(&cases[i].opt), cases[i].slots, "case %zu", i);
}
