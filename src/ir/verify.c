/*
** verify.c — ir_verify: is a function well formed? Run after every pass in
** debug builds (ARCHITECTURE "The IR"), so a pass that breaks the graph is
** caught where it did it, not in generated code.
**
** Checks, per node in order: its id is its position; its op exists and its
** operand count is the op's arity; each operand is a node of this function
** that comes earlier; attributes are in range (normalized axes, parameter
** index, dropout rate, constant data); the input, target and prediction are
** unique; and the shape the rules derive equals the stored one. Then that the
** result is one of the function's nodes. The first problem is reported.
*/
#include "ir.h"

#include <stdio.h>

typedef struct Verifier {
    const IrFunc *f;
    char *why;
    size_t size;
} Verifier;

static bool fail(Verifier *v, const IrNode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "%7 = add: " and the problem; or the message alone when it is not about a node. */
static bool fail(Verifier *v, const IrNode *n, const char *fmt, ...) {
    if (!v->why || v->size == 0) return false;
    int len = 0;
    if (n) len = snprintf(v->why, v->size, "%%%d = %s: ", n->id, ir_ops[n->op].name);
    if (len < 0 || (size_t)len >= v->size) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->why + len, v->size - (size_t)len, fmt, ap);
    va_end(ap);
    return false;
}

static bool in_func(const IrFunc *f, const IrNode *n) {
    return n && n->id >= 0 && n->id < f->nodes.len && f->nodes.items[n->id] == n;
}

static bool check_operands(Verifier *v, const IrNode *n, int pos) {
    int arity = ir_ops[n->op].arity;
    if (n->nin != arity) return fail(v, n, "%d operands, the op takes %d", n->nin, arity);
    for (int k = 0; k < n->nin; k++) {
        const IrNode *in = n->in[k];
        if (!in) return fail(v, n, "operand %d is missing", k);
        if (!in_func(v->f, in)) return fail(v, n, "operand %d is not a node of %s", k, v->f->name);
        if (in->id >= pos) return fail(v, n, "operand %d (%%%d) does not precede its use", k, in->id);
    }
    for (int k = n->nin; k < IR_MAX_IN; k++)
        if (n->in[k]) return fail(v, n, "operand slot %d is set beyond the arity", k);
    return true;
}

static bool check_attrs(Verifier *v, const IrNode *n) {
    const IrModule *m = v->f->module;
    unsigned flags = ir_ops[n->op].flags;
    if (!shape_valid(n->shape)) return fail(v, n, "invalid shape of rank %d", n->shape.rank);
    if (n->op == OP_PARAM && (!m || n->param < 0 || n->param >= m->params.len))
        return fail(v, n, "no parameter %d", n->param);
    if (n->op == OP_DROPOUT && !(n->value >= 0 && n->value < 1))
        return fail(v, n, "rate %g outside [0, 1)", n->value);
    if (n->data && (n->op != OP_CONST || shape_numel(n->shape) < 1))
        return fail(v, n, "data on a node that cannot hold it");
    if ((flags & OPF_REDUCE) && n->axis != IR_AXIS_ALL &&
        (n->axis < 0 || n->axis >= n->in[0]->shape.rank))
        return fail(v, n, "axis %d out of range for rank %d", n->axis, n->in[0]->shape.rank);
    if (n->op == OP_SOFTMAX && (n->axis < 0 || n->axis >= n->in[0]->shape.rank))
        return fail(v, n, "axis %d out of range for rank %d", n->axis, n->in[0]->shape.rank);
    if (n->op == OP_SLICE && !shape_slice_valid(n->in[0]->shape, &n->slice))
        return fail(v, n, "slice does not fit its operand");
    return true;
}

static bool check_shape(Verifier *v, const IrNode *n) {
    char want[128], have[128];
    Shape rule;
    if (!ir_rule_shape(v->f->module, n, &rule)) {
        if (n->nin == 0)
            return fail(v, n, "shape %s does not match its parameter",
                        shape_format(n->shape, have, sizeof have));
        char a[128] = "", b[128] = "";
        shape_format(n->in[0]->shape, a, sizeof a);
        if (n->nin > 1) snprintf(b, sizeof b, " and %s", shape_format(n->in[1]->shape, want, sizeof want));
        return fail(v, n, "operand shapes %s%s do not fit (shape %s)", a, b,
                    shape_format(n->shape, have, sizeof have));
    }
    if (!shape_eq(rule, n->shape))
        return fail(v, n, "shape %s does not match rule result %s",
                    shape_format(n->shape, have, sizeof have), shape_format(rule, want, sizeof want));
    return true;
}

static bool check_unique(Verifier *v, const IrNode *n, const IrNode **seen) {
    int slot = n->op == OP_INPUT ? 0 : n->op == OP_TARGET ? 1 : n->op == OP_PRED ? 2 : -1;
    if (slot < 0) return true;
    if (seen[slot]) return fail(v, n, "a second %s (first %%%d)", ir_ops[n->op].name, seen[slot]->id);
    seen[slot] = n;
    return true;
}

bool ir_verify(const IrFunc *f, char *why, size_t size) {
    Verifier v = {f, why, size};
    if (why && size) why[0] = '\0';
    if (!f) return fail(&v, NULL, "no function");
    const IrNode *seen[3] = {0};
    for (int i = 0; i < f->nodes.len; i++) {
        const IrNode *n = f->nodes.items[i];
        if (!n) return fail(&v, NULL, "%s: node %d is missing", f->name, i);
        if ((unsigned)n->op >= OP_COUNT) return fail(&v, NULL, "%s: node %d has op %d", f->name, i, (int)n->op);
        if (n->id != i) return fail(&v, n, "id %d at position %d", n->id, i);
        if (!check_operands(&v, n, i) || !check_attrs(&v, n) || !check_unique(&v, n, seen) ||
            !check_shape(&v, n))
            return false;
    }
    if (!f->result) return fail(&v, NULL, "%s: no result", f->name);
    if (!in_func(f, f->result)) return fail(&v, NULL, "%s: the result is not a node of it", f->name);
    return true;
}
