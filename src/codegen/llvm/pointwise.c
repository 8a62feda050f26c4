/*
** pointwise.c — regularize and update, the kernels that run over the
** parameters rather than the rows, as the C backend's pointwise.c builds
** them: each parameter gets one loop computing its whole optimizer step
** (or its penalty's gradient and sum) in registers, every new value
** computed before any is stored; scalars run before the loops, or after
** them when they read a sum over a parameter.
*/
#include "llgen.h"

#include <math.h>
#include <string.h>

typedef struct Pw {
    LlKernel k;
    int *owner;   /* per node: the parameter whose loop computes it, -1: a scalar */
    bool *post;   /* scalar that reads a sum over a parameter: after the loops */
    bool *temp_needed;
    bool *output_value;
    LLVMValueRef *sum; /* per reduction node: its local */
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

/* A node gets a register of its own when read twice, read by an output,
** or (a scalar) read inside a loop. */
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
    for (int id = 0; id < f->nodes.len; id++) {
        const CgNodePlan *np = &pw->k.plan->node[id];
        if (pw->owner[id] < 0 && np->uses == 1 && np->user >= 0 && pw->owner[np->user] < 0 &&
            !pw->output_value[id] && np->place == CG_INLINE)
            pw->temp_needed[id] = false;
    }
}

static void scalars(Pw *pw, bool post) {
    const IrFunc *f = pw->k.f;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        if (pw->temp_needed[id] && pw->owner[id] < 0 && pw->post[id] == post && !is_reduction(n))
            pw->k.temp[id] = ll_compute(&pw->k, n, NULL);
    }
}

/* ---- one parameter's loop ---- */

static LLVMValueRef out_ptr(Pw *pw, const IrOutput *o) {
    switch (o->kind) {
    case OUT_GRAD: return pw->k.grad[o->param];
    case OUT_PARAM: return pw->k.param[o->param];
    case OUT_STATE: return pw->k.state[4 * o->param + o->slot];
    default: return NULL;
    }
}

static bool reduces(const Pw *pw, const IrNode *n, int param) {
    return pw->k.plan->node[n->id].live && is_reduction(n) && pw->owner[n->in[0]->id] == param;
}

static void reductions_open(Pw *pw, int param) {
    const IrFunc *f = pw->k.f;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        if (!reduces(pw, n, param)) continue;
        pw->sum[id] = ll_local(&pw->k, pw->k.file->real, "v");
        ll_store(&pw->k, ll_real(pw->k.file, n->op == OP_MAX ? -HUGE_VAL : 0), pw->sum[id]);
    }
}

static void element(Pw *pw, int param, LLVMValueRef *c, const IrOutput *outs, int nouts) {
    LlKernel *k = &pw->k;
    const IrFunc *f = k->f;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        if (!k->plan->node[id].live) continue;
        if (reduces(pw, n, param)) {
            LLVMValueRef x = ll_elem(k, n->in[0], c), v = ll_load(k, pw->sum[id]);
            ll_store(k, n->op == OP_MAX ? ll_max(k, v, x) : LLVMBuildFAdd(k->b, v, x, ""), pw->sum[id]);
        } else if (pw->owner[id] == param && pw->temp_needed[id]) {
            k->temp[id] = is_leaf_of_param(n) ? ll_elem(k, n, c) : ll_compute(k, n, c);
        }
    }
    for (int i = 0; i < nouts; i++) {
        if (outs[i].kind == OUT_LOSS || outs[i].param != param) continue;
        LLVMValueRef v = ll_elem(k, outs[i].value, c);
        LLVMValueRef addr = LLVMBuildInBoundsGEP2(k->b, k->file->real, out_ptr(pw, &outs[i]), c, 1, "");
        if (outs[i].kind == OUT_GRAD) v = LLVMBuildFAdd(k->b, ll_load(k, addr), v, "");
        ll_store(k, v, addr);
    }
    for (int id = 0; id < f->nodes.len; id++)
        if (pw->owner[id] == param) k->temp[id] = NULL;
}

static void reductions_close(Pw *pw, int param) {
    LlKernel *k = &pw->k;
    for (int id = 0; id < k->f->nodes.len; id++) {
        const IrNode *n = k->f->nodes.items[id];
        if (!reduces(pw, n, param)) continue;
        LLVMValueRef v = ll_load(k, pw->sum[id]);
        if (n->op == OP_MEAN) v = LLVMBuildFDiv(k->b, v, ll_real(k->file, (double)shape_numel(n->in[0]->shape)), "");
        k->temp[id] = v;
    }
}

static bool param_has_work(Pw *pw, int param, const IrOutput *outs, int nouts) {
    for (int i = 0; i < nouts; i++)
        if (outs[i].kind != OUT_LOSS && outs[i].param == param) return true;
    for (int id = 0; id < pw->k.f->nodes.len; id++)
        if (reduces(pw, pw->k.f->nodes.items[id], param)) return true;
    return false;
}

static void param_loop(Pw *pw, int param, const IrOutput *outs, int nouts) {
    LlKernel *k = &pw->k;
    const IrParam *p = &k->f->module->params.items[param];
    reductions_open(pw, param);
    LlNest ns;
    ll_nest_open(&ns, k, shape_vector((int)shape_numel(p->shape)), shape_numel(p->shape) <= k->plan->unroll);
    do element(pw, param, ns.c, outs, nouts);
    while (ll_nest_next(&ns));
    reductions_close(pw, param);
}

/* SPEC 1.9's initial optimizer state (adagrad's accumulator starts at
** 0.1): the runtime zeroes the buffer, so the first step sets it. */
static void init_state(Pw *pw, LLVMValueRef step) {
    LlKernel *k = &pw->k;
    const IrModule *m = k->f->module;
    if (m->opt_slots == 0) return;
    LLVMBasicBlockRef done = ll_if_open(k, LLVMBuildICmp(k->b, LLVMIntEQ, step, ll_i64(k->file, 1), ""));
    for (int i = 0; i < m->params.len; i++)
        for (int s = 0; s < m->opt_slots; s++) {
            if (k->file->layout.opt_off[4 * i + s] < 0) continue;
            LlLoop loop;
            LLVMValueRef e = ll_loop_open(k, &loop, ll_i64(k->file, 0),
                                          ll_i64(k->file, (long)shape_numel(m->params.items[i].shape)));
            LLVMValueRef addr = LLVMBuildInBoundsGEP2(k->b, k->file->real, k->state[4 * i + s], &e, 1, "");
            ll_store(k, ll_real(k->file, m->opt_state_init[s]), addr);
            ll_loop_close(k, &loop, 1);
        }
    ll_if_close(k, done);
}

/* ---- the functions ---- */

typedef struct Ptr {
    LLVMValueRef *slot; /* where the body's argument goes in the kernel */
    int base;           /* 0 params, 1 grads, 2 opt */
    long off;
    const char *name;
} Ptr;

/* The parameter, gradient and state tensors read or written. */
static int pointers(Pw *pw, Ptr *ptr, const IrOutput *outs, int nouts) {
    LlKernel *k = &pw->k;
    const IrModule *m = k->f->module;
    const CgLayout *l = &k->file->layout;
    Arena *a = k->file->arena;
    int np = m->params.len, count = 0;
    bool *pu = ARENA_ARRAY(a, bool, np + 1), *gu = ARENA_ARRAY(a, bool, np + 1);
    bool update = k->plan->kind == CG_UPDATE;
    for (int id = 0; id < k->f->nodes.len; id++) {
        const IrNode *n = k->f->nodes.items[id];
        if (!k->plan->node[id].live) continue;
        if (n->op == OP_PARAM) pu[n->param] = true;
        if (n->op == OP_GRAD) gu[n->param] = true;
    }
    for (int i = 0; i < nouts; i++) {
        if (outs[i].kind == OUT_PARAM) pu[outs[i].param] = true;
        if (outs[i].kind == OUT_GRAD) gu[outs[i].param] = true;
    }
    for (int i = 0; i < np; i++) {
        if (pu[i]) ptr[count++] = (Ptr){&k->param[i], 0, l->param_off[i], arena_printf(a, "p%d", i)};
        if (gu[i]) ptr[count++] = (Ptr){&k->grad[i], 1, l->param_off[i], arena_printf(a, "g%d", i)};
        for (int s = 0; update && s < m->opt_slots; s++)
            if (l->opt_off[4 * i + s] >= 0)
                ptr[count++] = (Ptr){&k->state[4 * i + s], 2, l->opt_off[4 * i + s], arena_printf(a, "s%d_%d", i, s)};
    }
    return count;
}

/* update(params, grads, opt, step, learning_rate) or regularize(params, grads). */
static LLVMTypeRef abi_type(LlFile *lf, bool update) {
    LLVMTypeRef args[5] = {lf->ptr, lf->ptr, lf->ptr, lf->i64, lf->dbl};
    return update ? LLVMFunctionType(lf->voidt, args, 5, false) : LLVMFunctionType(lf->dbl, args, 2, false);
}

/* The body: (step, learning_rate, pointers...) or (pointers...). */
static LLVMValueRef make_body(Pw *pw, const char *name, const Ptr *ptr, int count) {
    LlFile *lf = pw->k.file;
    bool update = pw->k.plan->kind == CG_UPDATE;
    int first = update ? 2 : 0;
    LLVMTypeRef *types = ARENA_ARRAY(lf->arena, LLVMTypeRef, count + 3);
    types[0] = lf->i64;
    types[1] = lf->dbl;
    for (int i = 0; i < count; i++) types[first + i] = lf->ptr;
    LLVMTypeRef type = LLVMFunctionType(update ? lf->voidt : lf->dbl, types, (unsigned)(first + count), false);
    LLVMValueRef fn = ll_function(lf, arena_printf(lf->arena, "%s.body", name), type, false);
    for (int i = 0; i < count; i++) {
        LLVMValueRef p = LLVMGetParam(fn, (unsigned)(first + i));
        LLVMSetValueName2(p, ptr[i].name, strlen(ptr[i].name));
        ll_noalias(lf, fn, (unsigned)(first + i));
        *ptr[i].slot = p;
    }
    return fn;
}

static void make_outer(Pw *pw, LLVMValueRef outer, LLVMValueRef body_fn, const Ptr *ptr, int count) {
    LlFile *lf = pw->k.file;
    bool update = pw->k.plan->kind == CG_UPDATE;
    int first = update ? 2 : 0;
    LLVMPositionBuilderAtEnd(lf->b, LLVMAppendBasicBlockInContext(lf->ctx, outer, "entry"));
    LLVMValueRef *args = ARENA_ARRAY(lf->arena, LLVMValueRef, count + 3);
    if (update) {
        args[0] = LLVMGetParam(outer, 3);
        args[1] = LLVMGetParam(outer, 4);
    }
    for (int i = 0; i < count; i++) {
        LLVMValueRef off = ll_i64(lf, ptr[i].off);
        args[first + i] = LLVMBuildInBoundsGEP2(lf->b, lf->real, LLVMGetParam(outer, (unsigned)ptr[i].base), &off, 1,
                                                ptr[i].name);
    }
    LLVMValueRef r = LLVMBuildCall2(lf->b, LLVMGetElementType(LLVMTypeOf(body_fn)), body_fn, args,
                                    (unsigned)(first + count), "");
    if (update) LLVMBuildRetVoid(lf->b);
    else LLVMBuildRet(lf->b, r);
}

/* The body's entry: lr = (nnc_real)learning_rate, step_r = (nnc_real)step. */
static void body_entry(Pw *pw) {
    LlKernel *k = &pw->k;
    LlFile *lf = k->file;
    k->entry = LLVMAppendBasicBlockInContext(lf->ctx, k->fn, "entry");
    LLVMPositionBuilderAtEnd(k->b, k->entry);
    if (k->plan->kind == CG_UPDATE) {
        LLVMValueRef step = LLVMGetParam(k->fn, 0), lr = LLVMGetParam(k->fn, 1);
        k->lr = lf->o->f64 ? lr : LLVMBuildFPTrunc(k->b, lr, lf->real, "lr");
        k->step_r = LLVMBuildSIToFP(k->b, step, lf->real, "step_r");
    } else {
        k->loss = ll_local(k, lf->dbl, "loss");
        ll_store(k, LLVMConstReal(lf->dbl, 0), k->loss);
    }
}

/* A model with nothing to train still has the ABI's update. */
static void empty_update(LlFile *lf, const char *name) {
    LLVMValueRef fn = ll_function(lf, name, abi_type(lf, true), true);
    LLVMPositionBuilderAtEnd(lf->b, LLVMAppendBasicBlockInContext(lf->ctx, fn, "entry"));
    LLVMBuildRetVoid(lf->b);
    lf->kernel[CG_UPDATE] = fn;
}

static void compute(Pw *pw, CgFuncKind kind, const IrOutput *outs, int nouts) {
    LlKernel *k = &pw->k;
    scalars(pw, false);
    if (kind == CG_UPDATE) init_state(pw, LLVMGetParam(k->fn, 0));
    for (int i = 0; i < k->f->module->params.len; i++)
        if (param_has_work(pw, i, outs, nouts)) param_loop(pw, i, outs, nouts);
    scalars(pw, true);
    for (int i = 0; i < nouts; i++)
        if (outs[i].kind == OUT_LOSS) ll_add_loss(k, ll_elem(k, outs[i].value, NULL));
    if (kind == CG_UPDATE) LLVMBuildRetVoid(k->b);
    else LLVMBuildRet(k->b, ll_load(k, k->loss));
}

bool ll_pointwise(LlFile *lf, const IrFunc *f, CgFuncKind kind, const char *name) {
    if (kind == CG_UPDATE && (!f || f->outputs.len == 0)) {
        empty_update(lf, name);
        return true;
    }
    if (!f || f->outputs.len == 0) return true; /* no regularizer: the descriptor says NULL */
    Arena *a = lf->arena;
    int len = f->nodes.len + 1, nouts = f->outputs.len;
    CgPlan *plan = cg_plan(a, f, kind, &lf->layout, lf->o->unroll, NULL);
    Pw pw = {.k = ll_kernel(lf, f, plan)};
    pw.k.flat = true;
    pw.owner = ARENA_ARRAY(a, int, len);
    pw.post = ARENA_ARRAY(a, bool, len);
    pw.temp_needed = ARENA_ARRAY(a, bool, len);
    pw.output_value = ARENA_ARRAY(a, bool, len);
    pw.sum = ARENA_ARRAY(a, LLVMValueRef, len);
    pw.k.temp = ARENA_ARRAY(a, LLVMValueRef, len);
    const IrOutput *outs = f->outputs.items;
    if (!classify(&pw)) return false;
    find_temps(&pw, outs, nouts);
    Ptr *ptr = ARENA_ARRAY(a, Ptr, 6 * f->module->params.len + 8);
    int count = pointers(&pw, ptr, outs, nouts);
    LLVMValueRef outer = ll_function(lf, name, abi_type(lf, kind == CG_UPDATE), true);
    pw.k.fn = make_body(&pw, name, ptr, count);
    make_outer(&pw, outer, pw.k.fn, ptr, count);
    body_entry(&pw);
    ll_const_arrays(&pw.k);
    compute(&pw, kind, outs, nouts);
    lf->kernel[kind] = outer;
    return true;
}
