/*
** loss.c — SPEC 1.8's losses as IR: one sample's loss from the model output
** p and the target y, and the regularizers' penalty (SPEC 1.5).
**
** Each loss is its formula as the SPEC writes it, clipping included, and
** nothing else: the batch mean is the runtime's (it divides the summed
** per-sample losses by the rows), and the numerically stable forms for a
** sigmoid or softmax output (log-sigmoid, log-softmax, no clip) are the
** algebra pass's to find, for every model alike (ARCHITECTURE "Autodiff").
** So there is no "sigmoid + binary_crossentropy" case here.
**
** Clipping is minimum(maximum(p, lo), hi), the order of tf.clip_by_value,
** always built by clip() below so the algebra sees one shape of it.
**
** Outputs of rank ≥ 2 (SPEC is written for vectors): the element-wise
** losses average over every element, the cross-entropies and KL sum over
** the last axis (the distribution) and average over the others — Keras'
** reduction, and the SPEC's formulas for a vector.
*/
#include "ir.h"

#define LOSS_EPSILON 1e-7 /* SPEC 1.8's ε */

typedef struct LossBuilder {
    IrFunc *f;
    Loc loc;
} LossBuilder;

static IrNode *num(LossBuilder *b, double v) {
    return ir_const(b->f, v, shape_scalar(), b->loc);
}

static IrNode *un(LossBuilder *b, Op op, IrNode *x) {
    return ir_unary(b->f, op, x, b->loc);
}

static IrNode *bin(LossBuilder *b, Op op, IrNode *x, IrNode *y) {
    return ir_binary(b->f, op, x, y, b->loc);
}

static IrNode *clip(LossBuilder *b, IrNode *x, double lo, double hi) {
    return bin(b, OP_MINIMUM, bin(b, OP_MAXIMUM, x, num(b, lo)), num(b, hi));
}

/* (1/n) Σ over every element. */
static IrNode *mean_all(LossBuilder *b, IrNode *x) {
    return ir_reduce(b->f, OP_MEAN, x, IR_AXIS_ALL, b->loc);
}

/* Σ over the distribution's axis (the last), mean over the others. */
static IrNode *sum_last(LossBuilder *b, IrNode *x) {
    if (x->shape.rank <= 1) return ir_reduce(b->f, OP_SUM, x, IR_AXIS_ALL, b->loc);
    return mean_all(b, ir_reduce(b->f, OP_SUM, x, x->shape.rank - 1, b->loc));
}

/* A class index (any shape) as one-hot vectors of `classes` along a new last
** axis: one_hot for one index per sample; eq against 0..classes-1 for more. */
static IrNode *one_hot(LossBuilder *b, IrNode *index, int classes) {
    if (index->shape.rank == 0)
        return ir_emit(b->f, &(IrNode){.op = OP_ONE_HOT, .nin = 1, .in = {index}, .axis = classes,
                                       .loc = b->loc});
    Arena *arena = b->f->module->arena;
    double *iota = ARENA_ARRAY(arena, double, classes);
    for (int c = 0; c < classes; c++) iota[c] = c;
    Shape column = index->shape;
    column.dim[column.rank++] = 1;
    return bin(b, OP_EQ, ir_reshape(b->f, index, column, b->loc),
               ir_const_data(b->f, iota, shape_vector(classes), b->loc));
}

Shape grad_target_shape(const IrModule *m) {
    Shape out = m->output_shape;
    if (m->loss == LOSS_SPARSE_CATEGORICAL_CE && out.rank >= 1) out.rank--; /* the class index */
    return out;
}

/* −Σ y log p, p clipped to [ε, 1−ε] (SPEC 1.8). */
static IrNode *categorical(LossBuilder *b, IrNode *p, IrNode *y) {
    IrNode *logp = un(b, OP_LOG, clip(b, p, LOSS_EPSILON, 1 - LOSS_EPSILON));
    return un(b, OP_NEG, sum_last(b, bin(b, OP_MUL, y, logp)));
}

/* The custom loss's function copied into f with y_pred := p, y_true := y. */
static IrNode *custom(IrFunc *f, IrNode *p, IrNode *y) {
    const IrFunc *src = f->module->custom_loss;
    if (!src || !src->result) die("a custom loss without a function");
    IrNode **map = ARENA_ARRAY(f->module->arena, IrNode *, src->nodes.len);
    for (int i = 0; i < src->nodes.len; i++) {
        Op op = src->nodes.items[i]->op;
        if (op == OP_PRED) map[i] = p;
        else if (op == OP_TARGET) map[i] = y;
    }
    return ir_copy_func(f, src, map);
}

IrNode *grad_loss(IrFunc *f, IrNode *p, IrNode *y) {
    const IrModule *m = f->module;
    LossBuilder lb = {f, m->loss_loc}, *b = &lb;
    IrNode *one = num(b, 1), *t;
    switch (m->loss) {
    case LOSS_MSE: /* (1/n) Σ (y − p)² */
        return mean_all(b, un(b, OP_SQUARE, bin(b, OP_SUB, y, p)));
    case LOSS_MAE: /* (1/n) Σ |y − p| */
        return mean_all(b, un(b, OP_ABS, bin(b, OP_SUB, y, p)));
    case LOSS_MSLE: { /* (1/n) Σ (log(max(p,ε) + 1) − log(max(y,ε) + 1))² */
        IrNode *eps = num(b, LOSS_EPSILON);
        IrNode *lp = un(b, OP_LOG, bin(b, OP_ADD, bin(b, OP_MAXIMUM, p, eps), one));
        IrNode *ly = un(b, OP_LOG, bin(b, OP_ADD, bin(b, OP_MAXIMUM, y, eps), one));
        return mean_all(b, un(b, OP_SQUARE, bin(b, OP_SUB, lp, ly)));
    }
    case LOSS_BINARY_CE: { /* −(1/n) Σ [y log p + (1−y) log(1−p)], p clipped to [ε, 1−ε] */
        IrNode *pc = clip(b, p, LOSS_EPSILON, 1 - LOSS_EPSILON);
        IrNode *pos = bin(b, OP_MUL, y, un(b, OP_LOG, pc));
        IrNode *neg = bin(b, OP_MUL, bin(b, OP_SUB, one, y), un(b, OP_LOG, bin(b, OP_SUB, one, pc)));
        return un(b, OP_NEG, mean_all(b, bin(b, OP_ADD, pos, neg)));
    }
    case LOSS_HINGE: /* (1/n) Σ max(1 − y·p, 0); targets are ±1 (the runtime maps 0/1) */
        t = bin(b, OP_MAXIMUM, bin(b, OP_SUB, one, bin(b, OP_MUL, y, p)), num(b, 0));
        return mean_all(b, t);
    case LOSS_SQUARED_HINGE: /* (1/n) Σ max(1 − y·p, 0)² */
        t = bin(b, OP_MAXIMUM, bin(b, OP_SUB, one, bin(b, OP_MUL, y, p)), num(b, 0));
        return mean_all(b, un(b, OP_SQUARE, t));
    case LOSS_CATEGORICAL_CE:
        return categorical(b, p, y);
    case LOSS_SPARSE_CATEGORICAL_CE: /* −log p_k = categorical CE against one_hot(k) */
        return categorical(b, p, one_hot(b, y, p->shape.dim[p->shape.rank - 1]));
    case LOSS_KLD: { /* Σ y log(y / p), y and p clipped to [ε, 1] */
        IrNode *yc = clip(b, y, LOSS_EPSILON, 1), *pc = clip(b, p, LOSS_EPSILON, 1);
        return sum_last(b, bin(b, OP_MUL, yc, un(b, OP_LOG, bin(b, OP_DIV, yc, pc))));
    }
    case LOSS_CUSTOM:
        return custom(f, p, y);
    }
    die("unknown loss %d", (int)m->loss);
}

IrNode *grad_regularization(IrFunc *f) {
    const IrModule *m = f->module;
    IrNode *total = NULL;
    for (int i = 0; i < m->params.len; i++) {
        const IrParam *prm = &m->params.items[i];
        if (!prm->trainable || (prm->l1 == 0 && prm->l2 == 0)) continue;
        LossBuilder lb = {f, prm->loc}, *b = &lb;
        IrNode *w = ir_param(f, i, prm->loc), *term = NULL;
        if (prm->l1 != 0) /* l1·Σ|w| */
            term = bin(b, OP_MUL, num(b, prm->l1), ir_reduce(f, OP_SUM, un(b, OP_ABS, w), IR_AXIS_ALL, b->loc));
        if (prm->l2 != 0) { /* l2·Σw² */
            IrNode *l2 = bin(b, OP_MUL, num(b, prm->l2),
                             ir_reduce(f, OP_SUM, un(b, OP_SQUARE, w), IR_AXIS_ALL, b->loc));
            term = term ? bin(b, OP_ADD, term, l2) : l2;
        }
        total = total ? bin(b, OP_ADD, total, term) : term;
    }
    return total;
}
