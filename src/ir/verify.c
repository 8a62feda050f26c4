/*
** verify.c — ir_verify: is a function well formed? Run after every pass in
** debug builds (ARCHITECTURE "The IR"), so a pass that breaks the graph is
** caught where it did it, not in generated code.
**
** Checks, per node in order: its id is its position; its op exists and its
** operand count is the op's arity; each operand is a node of this function
** that comes earlier; attributes are in range (normalized axes, parameter
** index, dropout rate, constant data, state slot, hyperparameter kind, mask
** number); the input, target and prediction are unique; the shape the rules
** derive equals the stored one; and the varying flag is what the operands
** make it. Then the function's results: a forward function's result is one
** of its nodes; a training function's outputs (ir.h IrOutput) are its nodes,
** of the right shape, uniform where they are per batch (gradients, new
** parameters and state), each at most once. A function with neither, and no
** nodes, is the empty regularize of a model without regularizers. The
** first problem is reported.
*/
#include "ir.h"

#include <stdio.h>
#include <stdlib.h>

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
    if ((n->op == OP_GRAD || n->op == OP_STATE) && (!m || n->param < 0 || n->param >= m->params.len))
        return fail(v, n, "no parameter %d", n->param);
    if (n->op == OP_STATE && (n->axis < 0 || n->axis >= 4))
        return fail(v, n, "state slot %d outside 0..3", n->axis);
    if (n->op == OP_HYPER && n->axis != HYPER_LEARNING_RATE && n->axis != HYPER_STEP)
        return fail(v, n, "unknown hyperparameter %d", n->axis);
    if (n->op == OP_DROPOUT_MASK && (!(n->value >= 0 && n->value < 1) || n->axis < 0))
        return fail(v, n, "mask #%d with rate %g", n->axis, n->value);
    return true;
}

/* Per-sample data enters through the input, the target, the prediction and
** dropout masks, and leaves through BATCH_SUM (ir.c derives it the same way). */
static bool check_varying(Verifier *v, const IrNode *n) {
    bool want;
    switch (n->op) {
    case OP_INPUT: case OP_TARGET: case OP_PRED: case OP_DROPOUT_MASK: want = true; break;
    case OP_BATCH_SUM: want = false; break;
    default:
        want = false;
        for (int k = 0; k < n->nin; k++) want |= n->in[k]->varying;
    }
    if (n->varying != want)
        return fail(v, n, "marked %s, but its operands make it %s", n->varying ? "per sample" : "uniform",
                    want ? "per sample" : "uniform");
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

static const char *const output_names[] = {"loss", "pred", "grad", "param", "state"};

static bool check_output(Verifier *v, const IrOutput *o) {
    const IrModule *m = v->f->module;
    const char *what = (unsigned)o->kind < 5 ? output_names[o->kind] : "?";
    char have[128], want[128];
    if ((unsigned)o->kind >= 5) return fail(v, NULL, "%s: output of kind %d", v->f->name, (int)o->kind);
    if (!in_func(v->f, o->value)) return fail(v, NULL, "%s: output %s is not a node of it", v->f->name, what);
    Shape shape = o->value->shape;
    if (o->kind == OUT_LOSS && shape.rank != 0)
        return fail(v, NULL, "%s: the loss has shape %s, not a scalar", v->f->name,
                    shape_format(shape, have, sizeof have));
    if (o->kind == OUT_PRED && m && !shape_eq(shape, m->output_shape))
        return fail(v, NULL, "%s: pred has shape %s, the model's output %s", v->f->name,
                    shape_format(shape, have, sizeof have), shape_format(m->output_shape, want, sizeof want));
    if (o->kind == OUT_LOSS || o->kind == OUT_PRED) return true;
    if (!m || o->param < 0 || o->param >= m->params.len)
        return fail(v, NULL, "%s: output %s of no parameter %d", v->f->name, what, o->param);
    const IrParam *p = &m->params.items[o->param];
    if (!p->trainable) return fail(v, NULL, "%s: output %s of @%s, which is not trainable", v->f->name, what, p->name);
    if (!shape_eq(shape, p->shape))
        return fail(v, NULL, "%s: output %s of @%s has shape %s, the parameter %s", v->f->name, what, p->name,
                    shape_format(shape, have, sizeof have), shape_format(p->shape, want, sizeof want));
    if (o->value->varying)
        return fail(v, NULL, "%s: output %s of @%s is per sample; it must be one per batch", v->f->name,
                    what, p->name);
    if (o->kind == OUT_STATE && (o->slot < 0 || o->slot >= m->opt_slots))
        return fail(v, NULL, "%s: state slot %d of @%s, the optimizer keeps %d", v->f->name, o->slot,
                    p->name, m->opt_slots);
    return true;
}

/* Each output at most once: a bit per (kind, slot) for each parameter, so
** that the check is linear in the outputs (thousands of layers). */
static bool check_outputs(Verifier *v) {
    const IrFunc *f = v->f;
    const IrModule *m = f->module;
    unsigned char *seen = calloc(m && m->params.len > 0 ? (size_t)m->params.len : 1, 1);
    unsigned once = 0; /* OUT_LOSS, OUT_PRED */
    if (!seen) die("out of memory");
    bool ok = true;
    for (int i = 0; ok && i < f->outputs.len; i++) {
        const IrOutput *o = &f->outputs.items[i];
        if (!check_output(v, o)) {
            ok = false;
            break;
        }
        bool per_param = o->kind >= OUT_GRAD;
        unsigned bit = !per_param ? 1u << o->kind
                     : o->kind == OUT_STATE ? 1u << (2 + o->slot) : 1u << (o->kind - OUT_GRAD);
        unsigned char *have = per_param ? &seen[o->param] : NULL;
        bool twice = per_param ? (*have & bit) != 0 : (once & bit) != 0;
        if (twice) ok = fail(v, NULL, "%s: output %s given twice", f->name, output_names[o->kind]);
        if (per_param) *have |= (unsigned char)bit;
        else once |= bit;
    }
    free(seen);
    return ok;
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
            !check_shape(&v, n) || !check_varying(&v, n))
            return false;
    }
    if (f->outputs.len > 0 || (!f->result && f->nodes.len == 0)) return check_outputs(&v);
    if (!f->result) return fail(&v, NULL, "%s: no result", f->name);
    if (!in_func(f, f->result)) return fail(&v, NULL, "%s: the result is not a node of it", f->name);
    return true;
}
