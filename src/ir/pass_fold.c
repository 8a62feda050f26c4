/*
** pass_fold.c — constant folding: a node whose operands are all constants
** becomes a constant. The result is a fill when every element is equal
** (cheap in any size), element data otherwise (only up to FOLD_MAX_DATA
** elements, so that folding never bloats the generated code).
**
** The values are the reference interpreter's (interp.c): a folded node is
** computed by ir_eval_node, the interpreter's own code for one node, because
** a fold that differed from the oracle would change what a model computes.
** Ops it folds: element-wise, reductions, softmax, matmul, outer, reshape,
** transpose, slice, pad, broadcast, one_hot. Never: leaves, dropout (random),
** batch_sum (its value depends on the batch's size).
*/
#include "ir.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { FOLD_MAX_DATA = 1 << 16 };

/* Folding computes exactly what the interpreter would: ir_scalar_unary
** and ir_scalar_binary are its scalar functions (interp.c). */

double pass_eval_ew(Op op, double value, const double *x) {
    switch (ir_ops[op].arity) {
    case 1: return ir_scalar_unary(op, value, x[0]);
    case 2: return ir_scalar_binary(op, x[0], x[1]);
    default: return x[0] != 0 ? x[1] : x[2]; /* SELECT */
    }
}

static bool foldable(const IrNode *n, IrNode *const *in) {
    unsigned flags = ir_ops[n->op].flags;
    if ((flags & (OPF_LEAF | OPF_NOCSE)) || n->op == OP_BATCH_SUM) return false;
    for (int k = 0; k < n->nin; k++)
        if (in[k]->op != OP_CONST) return false;
    return true;
}

/* The node computed by the interpreter (ir_eval_node) on its operands'
** values: a fill operand is spread into a buffer first. */
static void compute(const IrNode *n, IrNode *const *in, double *out) {
    const double *x[IR_MAX_IN];
    double *spread[IR_MAX_IN] = {0};
    for (int k = 0; k < n->nin; k++) {
        if (in[k]->data) {
            x[k] = in[k]->data;
            continue;
        }
        int64_t count = shape_numel(in[k]->shape);
        spread[k] = malloc(sizeof(double) * (size_t)(count > 0 ? count : 1));
        if (!spread[k]) die("out of memory");
        for (int64_t i = 0; i < count; i++) spread[k][i] = in[k]->value;
        x[k] = spread[k];
    }
    ir_eval_node(n, x, out);
    for (int k = 0; k < n->nin; k++) free(spread[k]);
}

/* Fills in, a fill out, one scalar computed: element-wise ops and the ops
** that only move elements (PAD brings zeros in, so it is not one of them). */
static bool fill_in_fill_out(const IrNode *n, IrNode *const *in, double *value) {
    bool moves = n->op == OP_RESHAPE || n->op == OP_BROADCAST || n->op == OP_TRANSPOSE ||
                 n->op == OP_SLICE;
    if (!(ir_ops[n->op].flags & OPF_EW) && !moves) return false;
    double v[IR_MAX_IN];
    for (int k = 0; k < n->nin; k++) {
        if (in[k]->data) return false;
        v[k] = in[k]->value;
    }
    *value = moves ? v[0] : pass_eval_ew(n->op, n->value, v);
    return true;
}

static int64_t operand_elements(const IrNode *n, IrNode *const *in) {
    int64_t total = shape_numel(n->shape);
    for (int k = 0; k < n->nin; k++) total += shape_numel(in[k]->shape);
    return total;
}

/* The folded constant, or NULL when n is left as it is. */
static IrNode *fold(IrFunc *g, const IrNode *n, IrNode *const *in) {
    if (!foldable(n, in)) return NULL;
    double value;
    if (fill_in_fill_out(n, in, &value)) return ir_const(g, value, n->shape, n->loc);
    if (operand_elements(n, in) > FOLD_MAX_DATA) return NULL;
    int64_t count = shape_numel(n->shape);
    double *out = calloc((size_t)count, sizeof *out);
    if (!out) die("out of memory");
    compute(n, in, out);
    bool same = true;
    for (int64_t i = 1; i < count && same; i++) same = memcmp(&out[i], &out[0], sizeof *out) == 0;
    IrNode *c = same ? ir_const(g, out[0], n->shape, n->loc) : ir_const_data(g, out, n->shape, n->loc);
    free(out);
    return c;
}

IrFunc *pass_fold(const IrFunc *f) {
    IrNode **map;
    IrFunc *g = pass_begin(f, &map);
    for (int i = 0; i < f->nodes.len; i++) {
        const IrNode *n = f->nodes.items[i];
        IrNode *in[IR_MAX_IN];
        for (int k = 0; k < n->nin; k++) in[k] = map[n->in[k]->id];
        IrNode *c = fold(g, n, in);
        map[i] = c ? c : ir_clone(g, n, in);
    }
    pass_end(g, f, map);
    return g;
}
