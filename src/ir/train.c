/*
** train.c — ir_build_training: the functions the code generators receive,
** one per kernel of the ABI (runtime/nnc_abi.h), built from the forward
** model, the loss (loss.c), autodiff (autodiff.c) and the optimizer
** (optim.c):
**
**   predict     x -> pred                      dropout off (SPEC 1.5)
**   train       x, y -> loss, pred, grad(@w)…  dropout on: x · dropout_mask
**   regularize  -> loss, grad(@w)…             no outputs without l1/l2
**   update      w, grad, state, lr, t -> w, state  (SPEC 1.9)
**   eval        x, y -> loss, pred             dropout off
**
** The loss is optimized before it is differentiated, so that the algebra
** has already turned log∘sigmoid and log∘softmax into their stable forms
** (SPEC 1.8) and autodiff differentiates those; then the whole function is
** optimized again. Every function is verified; a failure is a compiler bug.
*/
#include "ir.h"

static void verify(const IrFunc *f) {
    char why[256];
    if (!ir_verify(f, why, sizeof why)) die("%s does not verify: %s", f->name, why);
}

static IrFunc *optimize(IrFunc *f, int level) {
    verify(f);
    if (level > 0) {
        f = ir_optimize(f, level, NULL);
        verify(f);
    }
    return f;
}

/* The forward model copied into f; its dropout layers are the identity
** (inference) or, in training, the input times a mask leaf numbered 0, 1, ...
** in source order: the number keys its random stream (ops.def), and it is
** the one the interpreter gives forward's DROPOUT nodes, so train-mode
** forward and train draw the same masks. */
static IrNode *copy_forward(IrFunc *f, bool training) {
    const IrModule *m = f->module;
    const IrFunc *src = m->forward;
    IrNode **map = ARENA_ARRAY(m->arena, IrNode *, src->nodes.len);
    int masks = 0;
    for (int i = 0; i < src->nodes.len; i++) {
        const IrNode *n = src->nodes.items[i];
        IrNode *in[IR_MAX_IN];
        for (int k = 0; k < n->nin; k++) in[k] = map[n->in[k]->id];
        if (n->op != OP_DROPOUT) {
            map[i] = ir_clone(f, n, in);
        } else if (!training) {
            map[i] = in[0];
        } else {
            IrNode proto = {.op = OP_DROPOUT_MASK, .shape = n->shape, .value = n->value,
                            .axis = masks++, .loc = n->loc};
            map[i] = ir_binary(f, OP_MUL, in[0], ir_emit(f, &proto), n->loc);
        }
    }
    return map[src->result->id];
}

static IrFunc *build_predict(IrModule *m, int level) {
    IrFunc *f = ir_func_new(m, "predict");
    ir_add_output(f, OUT_PRED, 0, 0, copy_forward(f, false));
    return optimize(f, level);
}

/* x, y -> loss per sample and pred; train adds the gradients. */
static IrFunc *with_loss(IrModule *m, const char *name, bool training) {
    IrFunc *f = ir_func_new(m, name);
    IrNode *pred = copy_forward(f, training);
    IrNode *target = ir_leaf(f, OP_TARGET, grad_target_shape(m), m->loss_loc);
    ir_add_output(f, OUT_LOSS, 0, 0, grad_loss(f, pred, target));
    ir_add_output(f, OUT_PRED, 0, 0, pred);
    return f;
}

static const IrNode *output_of(const IrFunc *f, IrOutputKind kind) {
    for (int i = 0; i < f->outputs.len; i++)
        if (f->outputs.items[i].kind == kind) return f->outputs.items[i].value;
    die("%s has no output of kind %d", f->name, (int)kind);
}

/* Differentiates f's loss output (per sample or not) and adds OUT_GRAD for
** every trainable parameter the loss depends on, in parameter order. */
static void add_gradients(IrFunc *f, bool per_sample) {
    IrModule *m = f->module;
    IrNode **grads = ARENA_ARRAY(m->arena, IrNode *, m->params.len + 1);
    grad_backward(f, (IrNode *)output_of(f, OUT_LOSS), per_sample, grads);
    for (int p = 0; p < m->params.len; p++)
        if (grads[p]) ir_add_output(f, OUT_GRAD, p, 0, grads[p]);
}

static IrFunc *build_train(IrModule *m, int level) {
    IrFunc *f = optimize(with_loss(m, "train", true), level);
    add_gradients(f, true);
    return optimize(f, level);
}

static IrFunc *build_regularize(IrModule *m, int level) {
    IrFunc *f = ir_func_new(m, "regularize");
    IrNode *penalty = grad_regularization(f);
    if (!penalty) return f; /* no regularizer: a function with no outputs */
    ir_add_output(f, OUT_LOSS, 0, 0, penalty);
    f = optimize(f, level);
    add_gradients(f, false);
    return optimize(f, level);
}

static IrFunc *build_update(IrModule *m, int level) {
    return optimize(grad_build_update(m), level);
}

static IrFunc *build_eval(IrModule *m, int level) {
    return optimize(with_loss(m, "eval", false), level);
}

/* Builds a function at `level`; with m->count_ops, also records how many
** ops the passes saved: the same function built without them is the
** "before" (-v prints both). Only then is anything built twice. */
static IrFunc *build_counted(IrModule *m, IrFunc *(*build)(IrModule *, int), int level) {
    IrFunc *plain = m->count_ops && level > 0 ? build(m, 0) : NULL;
    IrFunc *f = build(m, level);
    if (!m->count_ops) return f;
    if (!plain) plain = f;
    IrOptStat stat = {f->name, pass_live_count(plain), pass_live_count(f)};
    ARENA_PUSH(m->arena, m->opt_stats, stat);
    return f;
}

void ir_build_training(IrModule *m, int level) {
    if (!m->forward || !m->forward->result) die("ir_build_training: no forward function");
    m->opt_stats.len = 0;
    m->predict = build_counted(m, build_predict, level);
    m->train = build_counted(m, build_train, level);
    m->regularize = build_counted(m, build_regularize, level);
    m->update = build_counted(m, build_update, level);
    m->eval = build_counted(m, build_eval, level);
}
