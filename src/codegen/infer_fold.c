/*
** infer_fold.c — for inference code (--emit=infer, SPEC 4): the values of
** the predict function that depend on the trained weights alone through
** element-wise ops and views (normalize's range, sqrt(variance + 1e-7))
** are computed here, by the interpreter, and baked into the code as
** constants: normalization is folded in. They are computed op by op and
** rounded to the generated code's precision after each op, so the
** predictions are the trainer's.
*/
#include "codegen.h"

/* Computable from the weights alone, one element-wise op or view at a
** time: exactly as the trainer computes it (below). */
static bool foldable(const IrNode *n, const bool *memo) {
    if (n->varying) return false;
    if (n->op == OP_PARAM || n->op == OP_CONST) return true;
    bool view = n->op == OP_TRANSPOSE || n->op == OP_BROADCAST || n->op == OP_SLICE || n->op == OP_RESHAPE;
    if (!view && !(ir_ops[n->op].flags & OPF_EW)) return false;
    for (int s = 0; s < n->nin; s++)
        if (!memo[n->in[s]->id]) return false;
    return true;
}

/* Uniform values read by per-row nodes or the output, known once the
** weights are: baked as constants. */
static bool *frozen_nodes(Arena *a, const IrFunc *f, const CgLayout *layout, bool *able) {
    CgPlan *p = cg_plan(a, f, CG_PREDICT, layout, -1, NULL);
    bool *frozen = ARENA_ARRAY(a, bool, f->nodes.len + 1);
    for (int id = 0; id < f->nodes.len; id++) able[id] = foldable(f->nodes.items[id], able);
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        if (!p->node[id].live || !n->varying) continue;
        for (int s = 0; s < n->nin; s++) frozen[n->in[s]->id] |= n->in[s]->nin > 0 && able[n->in[s]->id];
    }
    for (int i = 0; i < f->outputs.len; i++) {
        const IrNode *v = f->outputs.items[i].value;
        frozen[v->id] |= v->nin > 0 && able[v->id];
    }
    return frozen;
}

static void round_to(double *v, long count, bool f64) {
    for (long i = 0; !f64 && i < count; i++) v[i] = (double)(float)v[i];
}

/* One node by the interpreter from its operands' values, rounded to the
** scalar type after the op: for the ops folded here (+ - * / sqrt, views)
** that is the result the generated code's own arithmetic gives. */
static bool fold_node(Arena *a, IrModule *m, const IrNode *n, double **values, bool f64) {
    long count = (long)shape_numel(n->shape);
    values[n->id] = ARENA_ARRAY(a, double, count + 1);
    IrFunc *g = ir_func_new(m, "fold");
    IrNode *ops[IR_MAX_IN];
    for (int s = 0; s < n->nin; s++) ops[s] = ir_const_data(g, values[n->in[s]->id], n->in[s]->shape, n->loc);
    g->result = ir_clone(g, n, ops);
    IrEnv env = {.rows = 1, .grad_scale = 1, .result = values[n->id]};
    char err[256];
    if (!ir_interp(g, &env, err, sizeof err)) {
        fprintf(stderr, "nnc: internal error: folding the weights: %s\n", err);
        return false;
    }
    round_to(values[n->id], count, f64);
    return true;
}

static bool evaluate(Arena *a, const IrModule *m, const IrFunc *f, const bool *able, const CgWeights *w,
                     bool f64, double **values) {
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        long count = (long)shape_numel(n->shape);
        if (!able[id]) continue;
        if (n->op == OP_PARAM || n->op == OP_CONST) {
            values[id] = ARENA_ARRAY(a, double, count + 1);
            for (long e = 0; e < count; e++)
                values[id][e] = n->op == OP_PARAM ? w->values[n->param][e] : n->data ? n->data[e] : n->value;
            round_to(values[id], count, f64);
        } else if (!fold_node(a, (IrModule *)m, n, values, f64)) {
            return false;
        }
    }
    return true;
}

bool cg_fold_weights(Arena *a, const IrModule *m, const CgLayout *layout, const CgOptions *o, bool **baked,
                     double ***values) {
    const IrFunc *f = m->predict;
    bool *able = ARENA_ARRAY(a, bool, f->nodes.len + 1);
    *baked = frozen_nodes(a, f, layout, able);
    *values = ARENA_ARRAY(a, double *, f->nodes.len + 1);
    return evaluate(a, m, f, able, o->weights, o->f64, *values);
}
