/*
** pointwise.c — regularize and update: the kernels that run over the
** parameters rather than the rows, with no scratch (kernel ABI). Every
** node is either a scalar (the learning-rate schedule, a regularization
** sum) or an element of one parameter's tensor. So each parameter gets one
** loop computing its whole optimizer step (or its penalty's gradient and
** sum) in local variables, every new value computed before any is stored;
** scalars run before the loops, or after them when they read a sum.
*/
#include "cgen.h"

#include <string.h>

typedef struct Pw {
    CgKernel k;
    int *owner;   /* per node: the parameter whose loop computes it, -1: a scalar */
    bool *post;   /* scalar that reads a sum over a parameter: after the loops */
    bool *temp_needed;
    bool *output_value;
} Pw;

static bool is_reduction(const IrNode *n) {
    return n->op == OP_SUM || n->op == OP_MEAN || n->op == OP_MAX;
}

static bool is_leaf_of_param(const IrNode *n) {
    return n->op == OP_PARAM || n->op == OP_GRAD || n->op == OP_STATE;
}

static bool unsupported(const IrFunc *f, const IrNode *n, const char *why) {
    fprintf(stderr, "nnc: internal error: %s: %%%d %s %s\n", f->name, n->id, ir_ops[n->op].name, why);
    return false;
}

/* Which loop computes each node; false on a node no loop can compute. */
static bool classify(Pw *pw) {
    const IrFunc *f = pw->k.f;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        pw->owner[id] = is_leaf_of_param(n) ? n->param : -1;
        if (!pw->k.plan->node[id].live || is_leaf_of_param(n) || n->nin == 0) continue;
        for (int s = 0; s < n->nin; s++) {
            int x = n->in[s]->id, o = pw->owner[x];
            pw->post[id] |= pw->post[x];
            if (o < 0) continue;
            if (is_reduction(n) && shape_numel(n->shape) == 1) pw->post[id] = true;
            else if (pw->owner[id] >= 0 && pw->owner[id] != o)
                return unsupported(f, n, "mixes two parameters");
            else pw->owner[id] = o;
        }
        if (pw->owner[id] >= 0 && pw->post[id]) return unsupported(f, n, "reads a sum inside its loop");
        if (pw->owner[id] >= 0 && !(ir_ops[n->op].flags & OPF_EW) && !is_reduction(n))
            return unsupported(f, n, "is not element-wise");
        if (pw->owner[id] >= 0 && is_reduction(n)) return unsupported(f, n, "reduces only some axes");
    }
    return true;
}

/* A node gets a local when read twice, read by an output, or (a scalar)
** read inside a loop, where an inlined formula would run per element. */
static void find_temps(Pw *pw, const IrOutput *outs, int nouts) {
    const IrFunc *f = pw->k.f;
    for (int i = 0; i < nouts; i++) pw->output_value[outs[i].value->id] = true;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        const CgNodePlan *np = &pw->k.plan->node[id];
        bool inlined = np->place == CG_INLINE && np->uses == 1 && pw->owner[id] >= 0;
        if (!np->live || (n->nin == 0 && !pw->output_value[id]) || cg_is_free(n)) continue;
        pw->temp_needed[id] = pw->output_value[id] || !inlined;
    }
    /* A scalar inlined into another scalar is computed once anyway. */
    for (int id = 0; id < f->nodes.len; id++) {
        const CgNodePlan *np = &pw->k.plan->node[id];
        if (pw->owner[id] < 0 && np->uses == 1 && np->user >= 0 && pw->owner[np->user] < 0 &&
            !pw->output_value[id] && np->place == CG_INLINE)
            pw->temp_needed[id] = false;
    }
}

static void scalar_temp(Pw *pw, const IrNode *n) {
    Arena *a = pw->k.file->arena;
    const char *e = cg_c_compute(&pw->k, n, NULL);
    cg_c_line(pw->k.body, "const nnc_real v%d = %s; /* %s */", n->id, e, ir_ops[n->op].name);
    pw->k.temp[n->id] = arena_printf(a, "v%d", n->id);
}

static void scalars(Pw *pw, bool post) {
    const IrFunc *f = pw->k.f;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        if (pw->temp_needed[id] && pw->owner[id] < 0 && pw->post[id] == post && !is_reduction(n))
            scalar_temp(pw, n);
    }
}

/* ---- one parameter's loop ---- */

static const char *store_name(Pw *pw, const IrOutput *o) {
    Arena *a = pw->k.file->arena;
    switch (o->kind) {
    case OUT_GRAD: return arena_printf(a, "g%d", o->param);
    case OUT_PARAM: return arena_printf(a, "p%d", o->param);
    case OUT_STATE: return arena_printf(a, "s%d_%d", o->param, o->slot);
    default: return NULL;
    }
}

static void reductions_open(Pw *pw, int param) {
    const IrFunc *f = pw->k.f;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        if (!pw->k.plan->node[id].live || !is_reduction(n) || pw->owner[n->in[0]->id] != param) continue;
        cg_c_line(pw->k.body, "nnc_real v%d = %s; /* %s */", id,
                  n->op == OP_MAX ? "-(nnc_real)HUGE_VAL" : "0", ir_ops[n->op].name);
        if (n->op == OP_MAX) pw->k.file->helpers |= 1u << H_MAX;
    }
}

static void element(Pw *pw, int param, const CgAff *c, const IrOutput *outs, int nouts) {
    CgKernel *k = &pw->k;
    const IrFunc *f = k->f;
    Arena *a = k->file->arena;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        if (!k->plan->node[id].live) continue;
        if (is_reduction(n) && pw->owner[n->in[0]->id] == param) {
            const char *x = cg_c_elem(k, n->in[0], c);
            if (n->op == OP_MAX) cg_c_line(k->body, "v%d = nnc_max(v%d, %s);", id, id, x);
            else cg_c_line(k->body, "v%d += %s;", id, x);
        } else if (pw->owner[id] == param && pw->temp_needed[id]) {
            const char *e = is_leaf_of_param(n) ? cg_c_elem(k, n, c) : cg_c_compute(k, n, c);
            cg_c_line(k->body, "const nnc_real v%d = %s; /* %s */", id, e, ir_ops[n->op].name);
            k->temp[id] = arena_printf(a, "v%d", id);
        }
    }
    const char *idx = cg_aff_text(a, c[0]);
    for (int i = 0; i < nouts; i++) {
        if (outs[i].kind == OUT_LOSS || outs[i].param != param) continue;
        const char *v = cg_c_elem(k, outs[i].value, c);
        cg_c_line(k->body, outs[i].kind == OUT_GRAD ? "%s[%s] += %s;" : "%s[%s] = %s;",
                  store_name(pw, &outs[i]), idx, v);
    }
    for (int id = 0; id < f->nodes.len; id++)
        if (pw->owner[id] == param) k->temp[id] = NULL;
}

static void reductions_close(Pw *pw, int param) {
    const IrFunc *f = pw->k.f;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        if (!pw->k.plan->node[id].live || !is_reduction(n) || pw->owner[n->in[0]->id] != param) continue;
        if (n->op == OP_MEAN) cg_c_line(pw->k.body, "v%d /= %ld;", id, (long)shape_numel(n->in[0]->shape));
        pw->k.temp[id] = arena_printf(pw->k.file->arena, "v%d", id);
    }
}

static bool param_has_work(Pw *pw, int param, const IrOutput *outs, int nouts) {
    for (int i = 0; i < nouts; i++)
        if (outs[i].kind != OUT_LOSS && outs[i].param == param) return true;
    for (int id = 0; id < pw->k.f->nodes.len; id++) {
        const IrNode *n = pw->k.f->nodes.items[id];
        if (pw->k.plan->node[id].live && is_reduction(n) && pw->owner[n->in[0]->id] == param) return true;
    }
    return false;
}

static void param_loop(Pw *pw, int param, const IrOutput *outs, int nouts) {
    CgKernel *k = &pw->k;
    const IrParam *p = &k->f->module->params.items[param];
    Arena *a = k->file->arena;
    cg_c_line(k->body, "/* %s %s */", cg_comment(a, p->name), cg_c_shape(a, p->shape));
    reductions_open(pw, param);
    /* One flat loop over the elements; written out, each element gets a
    ** block of its own for its locals. */
    bool unroll = shape_numel(p->shape) <= k->plan->unroll;
    CgNest ns;
    cg_c_nest_vector(&ns, k, shape_vector((int)shape_numel(p->shape)), CG_V_I0, unroll);
    do {
        cg_c_block(k->body);
        element(pw, param, ns.c, outs, nouts);
        cg_c_close(k->body);
    } while (cg_c_nest_next(&ns));
    reductions_close(pw, param);
}

/* ---- the function ---- */

/* SPEC 1.9's initial optimizer state (adagrad's accumulator starts at 0.1):
** the runtime zeroes the buffer, so the first step sets it. */
static void init_state(Pw *pw) {
    const IrModule *m = pw->k.f->module;
    if (m->opt_slots == 0) return;
    cg_c_open(pw->k.body, "if (step == 1)");
    for (int i = 0; i < m->params.len; i++)
        for (int s = 0; s < m->opt_slots; s++) {
            if (pw->k.file->layout.opt_off[4 * i + s] < 0) continue;
            cg_c_line(pw->k.body, "for (long e = 0; e < %ld; e++) s%d_%d[e] = %s;",
                      (long)shape_numel(m->params.items[i].shape), i, s,
                      cg_c_real(pw->k.file->arena, m->opt_state_init[s]));
        }
    cg_c_close(pw->k.body);
}

/* The parameter, gradient and state tensors read or written, each a
** restrict parameter of the body (see kernels.c): "p3" and its address. */
typedef struct Ptr {
    const char *decl, *init, *note;
} Ptr;

static int pointers(Pw *pw, Ptr *ptr, const IrOutput *outs, int nouts) {
    CgKernel *k = &pw->k;
    const IrModule *m = k->f->module;
    const CgLayout *l = &k->file->layout;
    Arena *a = k->file->arena;
    int np = m->params.len, count = 0;
    bool *pu = ARENA_ARRAY(a, bool, np + 1), *gu = ARENA_ARRAY(a, bool, np + 1);
    bool update = k->plan->kind == CG_UPDATE;
    for (int id = 0; id < k->f->nodes.len; id++) {
        const IrNode *n = k->f->nodes.items[id];
        if (!k->ptr_used[id]) continue;
        if (n->op == OP_PARAM) pu[n->param] = true;
        if (n->op == OP_GRAD) gu[n->param] = true;
    }
    for (int i = 0; i < nouts; i++) {
        if (outs[i].kind == OUT_PARAM) pu[outs[i].param] = true;
        if (outs[i].kind == OUT_GRAD) gu[outs[i].param] = true;
    }
    for (int i = 0; i < np; i++) {
        const char *note = arena_printf(a, "%s %s", cg_comment(a, m->params.items[i].name),
                                        cg_c_shape(a, m->params.items[i].shape));
        if (pu[i])
            ptr[count++] = (Ptr){arena_printf(a, "%snnc_real *restrict p%d", update ? "" : "const ", i),
                                 arena_printf(a, "params + %ld", l->param_off[i]), note};
        if (gu[i])
            ptr[count++] = (Ptr){arena_printf(a, "%snnc_real *restrict g%d", update ? "const " : "", i),
                                 arena_printf(a, "grads + %ld", l->param_off[i]),
                                 arena_printf(a, "gradient of %s", note)};
        for (int s = 0; update && s < m->opt_slots; s++)
            if (l->opt_off[4 * i + s] >= 0)
                ptr[count++] = (Ptr){arena_printf(a, "nnc_real *restrict s%d_%d", i, s),
                                     arena_printf(a, "opt + %ld", l->opt_off[4 * i + s]),
                                     arena_printf(a, "state %d of %s", s, note)};
    }
    return count;
}

static void hypers(Pw *pw, CgText *out) {
    bool lr = false, step = false;
    for (int id = 0; id < pw->k.f->nodes.len; id++) {
        const IrNode *n = pw->k.f->nodes.items[id];
        if (n->op != OP_HYPER || !pw->k.plan->node[id].live) continue;
        if (n->axis == HYPER_LEARNING_RATE) lr = true;
        else step = true;
    }
    cg_c_put(out, lr ? "    const nnc_real lr = (nnc_real)learning_rate;\n" : "    (void)learning_rate;\n");
    if (step) cg_c_put(out, "    const nnc_real step_r = (nnc_real)step;\n");
    if (!step && !pw->k.f->module->opt_slots) cg_c_put(out, "    (void)step;\n");
}

static bool from(const Ptr *ptr, int count, const char *base) {
    for (int i = 0; i < count; i++)
        if (!strncmp(ptr[i].init, base, strlen(base))) return true;
    return false;
}

static void assemble(Pw *pw, CgText *out, const char *name, const IrOutput *outs, int nouts) {
    CgKernel *k = &pw->k;
    bool update = k->plan->kind == CG_UPDATE;
    Ptr *ptr = ARENA_ARRAY(k->file->arena, Ptr, 3 * k->f->module->params.len * 2 + 8);
    int count = pointers(pw, ptr, outs, nouts);
    cg_c_printf(out, "\nstatic %s %s_body(%s", update ? "void" : "double", name,
                update ? "long step, double learning_rate" : "int unused");
    for (int i = 0; i < count; i++) cg_c_printf(out, ",\n    %s /* %s */", ptr[i].decl, ptr[i].note);
    cg_c_put(out, ") {\n");
    if (update) hypers(pw, out);
    else cg_c_put(out, "    double loss = 0;\n    (void)unused;\n");
    cg_c_put(out, cg_c_text(k->body));
    cg_c_put(out, update ? "}\n\n" : "    return loss;\n}\n\n");
    if (update)
        cg_c_printf(out, "/* %s: one optimizer step (SPEC 1.9), each parameter in one pass. */\n"
                         "static void %s(nnc_real *params, const nnc_real *grads, nnc_real *opt, long step,\n"
                         "    double learning_rate) {\n", name, name);
    else
        cg_c_printf(out, "/* %s: the penalties' loss, their gradient added into grads. */\n"
                         "static double %s(const nnc_real *params, nnc_real *grads) {\n", name, name);
    if (!from(ptr, count, "params")) cg_c_put(out, "    (void)params;\n");
    if (!from(ptr, count, "grads")) cg_c_put(out, "    (void)grads;\n");
    if (update && !from(ptr, count, "opt")) cg_c_put(out, "    (void)opt;\n");
    cg_c_printf(out, update ? "    %s_body(step, learning_rate" : "    return %s_body(0", name);
    for (int i = 0; i < count; i++) cg_c_printf(out, ",\n        %s", ptr[i].init);
    cg_c_put(out, ");\n}\n");
}

/* A model with nothing to train still has the ABI's update. */
static void empty_update(CgText *out, const char *name) {
    cg_c_printf(out, "\n/* update: nothing is trainable. */\n"
                     "static void %s(nnc_real *params, const nnc_real *grads, nnc_real *opt, long step,\n"
                     "    double learning_rate) {\n"
                     "    (void)params;\n    (void)grads;\n    (void)opt;\n    (void)step;\n"
                     "    (void)learning_rate;\n}\n", name);
}

bool cg_c_pointwise(CgFile *cf, CgText *out, const IrFunc *f, CgFuncKind kind, const char *name) {
    if (kind == CG_UPDATE && (!f || f->outputs.len == 0)) {
        empty_update(out, name);
        return true;
    }
    if (!f || f->outputs.len == 0) return true; /* no regularizer: the descriptor says NULL */
    Arena *a = cf->arena;
    int len = f->nodes.len, nouts = f->outputs.len;
    CgPlan *plan = cg_plan(a, f, kind, &cf->layout, cf->o->unroll, NULL);
    Pw pw = {.k = cg_c_kernel(cf, f, plan)};
    pw.k.flat = true;
    pw.owner = ARENA_ARRAY(a, int, len + 1);
    pw.post = ARENA_ARRAY(a, bool, len + 1);
    pw.temp_needed = ARENA_ARRAY(a, bool, len + 1);
    pw.output_value = ARENA_ARRAY(a, bool, len + 1);
    pw.k.temp = ARENA_ARRAY(a, const char *, len + 1);
    const IrOutput *outs = f->outputs.items;
    if (!classify(&pw)) return false;
    find_temps(&pw, outs, nouts);
    scalars(&pw, false);
    if (kind == CG_UPDATE) init_state(&pw);
    for (int i = 0; i < f->module->params.len; i++)
        if (param_has_work(&pw, i, outs, nouts)) param_loop(&pw, i, outs, nouts);
    scalars(&pw, true);
    for (int i = 0; i < nouts; i++)
        if (outs[i].kind == OUT_LOSS) cg_c_line(pw.k.body, "loss += %s;", cg_c_elem(&pw.k, outs[i].value, NULL));
    assemble(&pw, out, name, outs, nouts);
    return true;
}
