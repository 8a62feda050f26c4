/*
** kernels.c — the row-wise kernels of the ABI (predict, forward_backward,
** eval_loss), as the C backend's kernels.c builds them: phases, each its
** uniform nodes once and then one loop over the rows computing the per-row
** nodes (tiled matmuls loop over the rows themselves), outputs in the row
** loop of their phase.
**
** Each kernel is two functions. The body takes every buffer as a noalias
** parameter (the C backend's restrict parameters: alias analysis then
** knows that activations, weights and gradients never overlap, and the
** loops vectorize without run-time checks); the ABI's function computes
** the pointers into params, grads and scratch and calls it.
*/
#include "llgen.h"

#include <string.h>

#include "nnc_abi.h"

/* ---- buffers ---- */

typedef struct Buf {
    CgStore store;
    int key;      /* parameter index, or node id */
    long off;     /* into params, grads or scratch, in reals */
    const char *name;
} Buf;

typedef struct Bufs {
    Buf *items;
    int len, cap;
} Bufs;

static void add_buf(LlKernel *k, Bufs *bufs, CgStore store, int key, long off, const char *name) {
    for (int i = 0; i < bufs->len; i++)
        if (bufs->items[i].store == store && bufs->items[i].key == key) return;
    ARENA_PUSH(k->file->arena, *bufs, ((Buf){store, key, off, name}));
}

/* Every buffer the body may read or write: parameters, gradients, its
** own activations and transposed copies. A pointer the body turns out not
** to use costs nothing once the body is inlined. */
static Bufs collect_bufs(LlKernel *k) {
    Bufs bufs = {0};
    Arena *a = k->file->arena;
    const CgLayout *l = &k->file->layout;
    for (int id = 0; id < k->f->nodes.len; id++) {
        const IrNode *n = k->f->nodes.items[id];
        const CgNodePlan *np = &k->plan->node[id];
        if (!np->live || np->place == CG_INLINE) continue;
        if (np->at.store == CG_ST_PARAMS)
            add_buf(k, &bufs, CG_ST_PARAMS, n->param, l->param_off[n->param], arena_printf(a, "p%d", n->param));
        if (np->place == CG_BUFFER && np->fused < 0 && np->at.store == CG_ST_ROWS)
            add_buf(k, &bufs, CG_ST_ROWS, id, k->plan->fixed + np->pos, arena_printf(a, "a%d", id));
        if (np->place == CG_BUFFER && np->fused < 0 && np->at.store == CG_ST_FIXED)
            add_buf(k, &bufs, CG_ST_FIXED, id, np->pos, arena_printf(a, "u%d", id));
        if (np->tpos >= 0) add_buf(k, &bufs, CG_ST_TRANSPOSED, id, np->tpos, arena_printf(a, "t%d", id));
    }
    for (int i = 0; i < k->f->outputs.len; i++) {
        const IrOutput *o = &k->f->outputs.items[i];
        if (o->kind == OUT_GRAD)
            add_buf(k, &bufs, CG_ST_GRADS, o->param, l->param_off[o->param], arena_printf(a, "g%d", o->param));
    }
    return bufs;
}

static void bind_buf(LlKernel *k, const Buf *buf, LLVMValueRef v) {
    switch (buf->store) {
    case CG_ST_PARAMS: k->param[buf->key] = v; break;
    case CG_ST_GRADS: k->grad[buf->key] = v; break;
    case CG_ST_TRANSPOSED: k->tstore[buf->key] = v; break;
    default: k->store[buf->key] = v; break;
    }
}

/* CONST arrays: private constant globals, as the C backend's static const. */
void ll_const_arrays(LlKernel *k) {
    LlFile *lf = k->file;
    for (int id = 0; id < k->f->nodes.len; id++) {
        const IrNode *n = k->f->nodes.items[id];
        const CgNodePlan *np = &k->plan->node[id];
        if (!np->live || np->at.store != CG_ST_CONST || np->place != CG_BUFFER) continue;
        long count = shape_numel(n->shape);
        LLVMValueRef *v = ARENA_ARRAY(lf->arena, LLVMValueRef, count + 1);
        for (long i = 0; i < count; i++) v[i] = ll_real(lf, n->data[i]);
        LLVMTypeRef type = LLVMArrayType(lf->real, (unsigned)count);
        LLVMValueRef g = LLVMAddGlobal(lf->mod, type, arena_printf(lf->arena, "%s.c%d", k->f->name, id));
        LLVMSetInitializer(g, LLVMConstArray(lf->real, v, (unsigned)count));
        LLVMSetGlobalConstant(g, true);
        LLVMSetLinkage(g, LLVMPrivateLinkage);
        LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
        LLVMValueRef zero[2] = {ll_i64(lf, 0), ll_i64(lf, 0)};
        k->store[id] = LLVMConstInBoundsGEP2(type, g, zero, 2);
    }
}

/* ---- outputs ---- */

/* loss += (double)v */
void ll_add_loss(LlKernel *k, LLVMValueRef v) {
    LLVMValueRef d = k->file->o->f64 ? v : LLVMBuildFPExt(k->b, v, k->file->dbl, "");
    ll_store(k, LLVMBuildFAdd(k->b, ll_load(k, k->loss), d, ""), k->loss);
}

static void write_element(LlKernel *k, const IrOutput *o, LLVMValueRef *c) {
    LlFile *lf = k->file;
    const IrNode *v = o->value;
    LLVMValueRef e = ll_elem(k, v, c), lin = ll_linear(k, v->shape, c), addr;
    switch (o->kind) {
    case OUT_PRED:
        lin = ll_add(k, lin, ll_mul(k, k->r, (long)shape_numel(v->shape)));
        ll_store(k, e, LLVMBuildInBoundsGEP2(k->b, lf->real, k->y, &lin, 1, ""));
        break;
    case OUT_LOSS:
        if (v->varying) {
            ll_add_loss(k, e);
        } else { /* loss += (double)n * e */
            LLVMValueRef rows = LLVMBuildSIToFP(k->b, k->n, lf->dbl, "");
            LLVMValueRef ed = lf->o->f64 ? e : LLVMBuildFPExt(k->b, e, lf->dbl, "");
            ll_store(k, LLVMBuildFAdd(k->b, ll_load(k, k->loss), LLVMBuildFMul(k->b, rows, ed, ""), ""), k->loss);
        }
        break;
    case OUT_GRAD:
        addr = LLVMBuildInBoundsGEP2(k->b, lf->real, k->grad[o->param], &lin, 1, "");
        ll_store(k, LLVMBuildFAdd(k->b, ll_load(k, addr), LLVMBuildFMul(k->b, k->sc, e, ""), ""), addr);
        break;
    default: die("output kind %d in a row-wise kernel", (int)o->kind);
    }
}

static void write_output(LlKernel *k, const IrOutput *o) {
    bool guard = o->kind == OUT_PRED && k->plan->kind != CG_PREDICT;
    LLVMBasicBlockRef done = NULL;
    if (guard) done = ll_if_open(k, LLVMBuildIsNotNull(k->b, k->y, ""));
    LlNest ns;
    ll_nest_open(&ns, k, o->value->shape, shape_numel(o->value->shape) <= k->plan->unroll);
    do write_element(k, o, ns.c);
    while (ll_nest_next(&ns));
    if (guard) ll_if_close(k, done);
}

static void rows_open(LlKernel *k, LlLoop *loop) {
    k->r = ll_loop_open(k, loop, ll_i64(k->file, 0), k->n);
}

static void rows_close(LlKernel *k, LlLoop *loop) {
    ll_loop_close(k, loop, 1);
    k->r = NULL;
}

/* Outputs of per-row values in the row loop of their phase; predictions
** of uniform values get a row loop of their own. */
static void write_outputs(LlKernel *k, int phase, bool varying) {
    for (int i = 0; i < k->f->outputs.len || (i == 0 && k->f->result); i++) {
        IrOutput o;
        if (!k->f->outputs.len) o = (IrOutput){.kind = OUT_PRED, .value = k->f->result};
        else o = k->f->outputs.items[i];
        const CgNodePlan *np = &k->plan->node[o.value->id];
        if (o.value->varying != varying || (varying && np->phase != phase)) continue;
        if (o.kind == OUT_GRAD && np->grad_out == i) continue; /* the batch sum added it */
        bool rows = !varying && o.kind == OUT_PRED;
        LlLoop loop;
        if (rows) rows_open(k, &loop);
        write_output(k, &o);
        if (rows) rows_close(k, &loop);
        if (!k->f->outputs.len) break;
    }
}

/* ---- the body ---- */

static bool computed_here(const LlKernel *k, const IrNode *n) {
    const CgNodePlan *np = &k->plan->node[n->id];
    return np->live && np->place == CG_BUFFER && np->fused < 0 &&
           (np->at.store == CG_ST_ROWS || np->at.store == CG_ST_FIXED);
}

static bool has_varying_outputs(const LlKernel *k, int ph) {
    for (int i = 0; i < k->f->outputs.len; i++) {
        const IrNode *v = k->f->outputs.items[i].value;
        if (v->varying && k->plan->node[v->id].phase == ph) return true;
    }
    return k->f->result && !k->f->outputs.len && k->f->result->varying &&
           k->plan->node[k->f->result->id].phase == ph;
}

/* The row loop, opened when a per-row node needs it and closed around
** tiled matmuls, which loop over the rows themselves. */
typedef struct Rows {
    LlLoop loop;
    bool open;
} Rows;

static void rows(LlKernel *k, Rows *rw, bool want) {
    if (want && !rw->open) rows_open(k, &rw->loop);
    if (!want && rw->open) rows_close(k, &rw->loop);
    rw->open = want;
}

static void row_nodes(LlKernel *k, int ph) {
    const IrFunc *f = k->f;
    Rows rw = {.open = false};
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        if (!n->varying || k->plan->node[id].phase != ph || !computed_here(k, n)) continue;
        const IrNode *mm = n->op == OP_MATMUL ? n : ll_fused_matmul(k, n);
        if (mm && k->plan->node[mm->id].tile) {
            rows(k, &rw, false);
            ll_matmul_tiled(k, mm);
            if (mm == n) continue;
        }
        rows(k, &rw, true);
        ll_node(k, n);
    }
    if (has_varying_outputs(k, ph)) {
        rows(k, &rw, true);
        write_outputs(k, ph, true);
    }
    rows(k, &rw, false);
}

static void body(LlKernel *k) {
    const IrFunc *f = k->f;
    for (int ph = 0; ph < k->plan->phases; ph++) {
        for (int id = 0; id < f->nodes.len; id++) {
            const IrNode *n = f->nodes.items[id];
            if (!n->varying && k->plan->node[id].phase == ph && computed_here(k, n)) ll_node(k, n);
        }
        for (int id = 0; id < f->nodes.len && ph == 0; id++)
            if (k->plan->node[id].live && k->plan->node[id].tpos >= 0) ll_transpose_copy(k, f->nodes.items[id]);
        row_nodes(k, ph);
    }
    write_outputs(k, 0, false);
}

/* ---- the two functions ---- */

enum { A_PARAMS, A_GRADS, A_SCRATCH, A_X, A_T, A_N, A_SCALE, A_SEED, A_FIRST, A_Y, A_COUNT };

/* The ABI's argument order (nnc_abi.h), as indices into the A_ slots. */
static int abi_args(CgFuncKind kind, int *slot) {
    static const int predict[] = {A_PARAMS, A_SCRATCH, A_X, A_Y, A_N};
    static const int train[] = {A_PARAMS, A_GRADS, A_SCRATCH, A_X, A_T, A_N, A_SCALE, A_SEED, A_FIRST, A_Y};
    static const int eval[] = {A_PARAMS, A_SCRATCH, A_X, A_T, A_N, A_Y};
    const int *s = kind == CG_PREDICT ? predict : kind == CG_TRAIN ? train : eval;
    int n = kind == CG_PREDICT ? 5 : kind == CG_TRAIN ? 10 : 6;
    for (int i = 0; i < n; i++) slot[i] = s[i];
    return n;
}

/* The body's scalars and rows: n, [scale, seed, first_row,] x, [t,] y. */
static int body_args(CgFuncKind kind, int *slot) {
    static const int predict[] = {A_N, A_X, A_Y};
    static const int train[] = {A_N, A_SCALE, A_SEED, A_FIRST, A_X, A_T, A_Y};
    static const int eval[] = {A_N, A_X, A_T, A_Y};
    const int *s = kind == CG_PREDICT ? predict : kind == CG_TRAIN ? train : eval;
    int n = kind == CG_PREDICT ? 3 : kind == CG_TRAIN ? 7 : 4;
    for (int i = 0; i < n; i++) slot[i] = s[i];
    return n;
}

static LLVMTypeRef slot_type(LlFile *lf, int slot) {
    switch (slot) {
    case A_N: return lf->i32;
    case A_SCALE: return lf->dbl;
    case A_SEED: case A_FIRST: return lf->i64;
    default: return lf->ptr;
    }
}

static const char *const slot_names[A_COUNT] = {"params", "grads", "scratch", "x", "t", "n",
                                                "scale", "seed", "first_row", "y"};

void ll_noalias(LlFile *lf, LLVMValueRef fn, unsigned index) {
    unsigned id = LLVMGetEnumAttributeKindForName("noalias", 7);
    LLVMAddAttributeAtIndex(fn, index + 1, LLVMCreateEnumAttribute(lf->ctx, id, 0));
}

static LLVMValueRef make_body(LlKernel *k, const char *name, const Bufs *bufs, const int *slot, int nslots) {
    LlFile *lf = k->file;
    int count = nslots + bufs->len;
    LLVMTypeRef *types = ARENA_ARRAY(lf->arena, LLVMTypeRef, count + 1);
    for (int i = 0; i < nslots; i++) types[i] = slot_type(lf, slot[i]);
    for (int i = 0; i < bufs->len; i++) types[nslots + i] = lf->ptr;
    LLVMTypeRef ret = k->plan->kind == CG_PREDICT ? lf->voidt : lf->dbl;
    LLVMValueRef fn = ll_function(lf, arena_printf(lf->arena, "%s.body", name),
                                  LLVMFunctionType(ret, types, (unsigned)count, false), false);
    for (int i = 0; i < count; i++) {
        LLVMValueRef p = LLVMGetParam(fn, (unsigned)i);
        const char *pname = i < nslots ? slot_names[slot[i]] : bufs->items[i - nslots].name;
        LLVMSetValueName2(p, pname, strlen(pname));
        if (LLVMTypeOf(p) == lf->ptr) ll_noalias(lf, fn, (unsigned)i);
    }
    return fn;
}

/* The ABI function: pointers into the buffers, then the body. */
static void make_outer(LlKernel *k, LLVMValueRef outer, LLVMValueRef body_fn, const Bufs *bufs, const int *slot,
                       int nslots) {
    LlFile *lf = k->file;
    LLVMBuilderRef b = lf->b;
    int abi[A_COUNT], nabi = abi_args(k->plan->kind, abi);
    LLVMValueRef arg[A_COUNT] = {0};
    for (int i = 0; i < nabi; i++) {
        arg[abi[i]] = LLVMGetParam(outer, (unsigned)i);
        LLVMSetValueName2(arg[abi[i]], slot_names[abi[i]], strlen(slot_names[abi[i]]));
    }
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(lf->ctx, outer, "entry"));
    int count = nslots + bufs->len;
    LLVMValueRef *args = ARENA_ARRAY(lf->arena, LLVMValueRef, count + 1);
    for (int i = 0; i < nslots; i++) args[i] = arg[slot[i]];
    for (int i = 0; i < bufs->len; i++) {
        const Buf *buf = &bufs->items[i];
        LLVMValueRef base = buf->store == CG_ST_PARAMS  ? arg[A_PARAMS]
                            : buf->store == CG_ST_GRADS ? arg[A_GRADS]
                                                        : arg[A_SCRATCH];
        LLVMValueRef off = ll_i64(lf, buf->off);
        args[nslots + i] = LLVMBuildInBoundsGEP2(b, lf->real, base, &off, 1, buf->name);
    }
    LLVMValueRef r = LLVMBuildCall2(b, LLVMGetElementType(LLVMTypeOf(body_fn)), body_fn, args, (unsigned)count, "");
    if (k->plan->kind == CG_PREDICT) LLVMBuildRetVoid(b);
    else LLVMBuildRet(b, r);
}

static LLVMTypeRef abi_type(LlFile *lf, CgFuncKind kind) {
    int slot[A_COUNT], n = abi_args(kind, slot);
    LLVMTypeRef types[A_COUNT];
    for (int i = 0; i < n; i++) types[i] = slot_type(lf, slot[i]);
    return LLVMFunctionType(kind == CG_PREDICT ? lf->voidt : lf->dbl, types, (unsigned)n, false);
}

/* The body's entry: its arguments bound, sc, the loss. */
static void body_entry(LlKernel *k, const Bufs *bufs, const int *slot, int nslots) {
    LlFile *lf = k->file;
    k->entry = LLVMAppendBasicBlockInContext(lf->ctx, k->fn, "entry");
    LLVMPositionBuilderAtEnd(k->b, k->entry);
    for (int i = 0; i < nslots; i++) {
        LLVMValueRef p = LLVMGetParam(k->fn, (unsigned)i);
        switch (slot[i]) {
        case A_N: k->n = LLVMBuildSExt(k->b, p, lf->i64, "rows"); break;
        case A_SCALE: k->scale = p; break;
        case A_SEED: k->seed = p; break;
        case A_FIRST: k->first_row = p; break;
        case A_X: k->x = p; break;
        case A_T: k->t = p; break;
        default: k->y = p; break;
        }
    }
    for (int i = 0; i < bufs->len; i++) bind_buf(k, &bufs->items[i], LLVMGetParam(k->fn, (unsigned)(nslots + i)));
    if (k->scale) k->sc = lf->o->f64 ? k->scale : LLVMBuildFPTrunc(k->b, k->scale, lf->real, "sc");
    if (k->plan->kind != CG_PREDICT) {
        k->loss = ll_local(k, lf->dbl, "loss");
        ll_store(k, LLVMConstReal(lf->dbl, 0), k->loss);
    }
}

LlKernel ll_kernel(LlFile *lf, const IrFunc *f, const CgPlan *plan) {
    LlKernel k = {.file = lf, .b = lf->b, .f = f, .plan = plan};
    int len = f->nodes.len + 1, np = f->module->params.len + 1;
    k.store = ARENA_ARRAY(lf->arena, LLVMValueRef, len);
    k.tstore = ARENA_ARRAY(lf->arena, LLVMValueRef, len);
    k.param = ARENA_ARRAY(lf->arena, LLVMValueRef, np);
    k.grad = ARENA_ARRAY(lf->arena, LLVMValueRef, np);
    k.state = ARENA_ARRAY(lf->arena, LLVMValueRef, 4 * np);
    return k;
}

static const char *const kernel_names[] = {"predict", "forward_backward", "eval_loss", "regularize", "update"};

static bool row_kernel(LlFile *lf, const IrFunc *f, CgFuncKind kind, const char *name) {
    if (!f) {
        fprintf(stderr, "nnc: internal error: no %s function to compile\n", kernel_names[kind]);
        return false;
    }
    CgPlan *plan = cg_plan(lf->arena, f, kind, &lf->layout, lf->o->unroll, NULL);
    LlKernel k = ll_kernel(lf, f, plan);
    Bufs bufs = collect_bufs(&k);
    int slot[A_COUNT], nslots = body_args(kind, slot);
    LLVMValueRef outer = ll_function(lf, name, abi_type(lf, kind), true);
    k.fn = make_body(&k, name, &bufs, slot, nslots);
    make_outer(&k, outer, k.fn, &bufs, slot, nslots);
    body_entry(&k, &bufs, slot, nslots);
    ll_const_arrays(&k);
    body(&k);
    if (kind == CG_PREDICT) LLVMBuildRetVoid(k.b);
    else LLVMBuildRet(k.b, ll_load(&k, k.loss));
    lf->kernel[kind] = outer;
    return true;
}

bool ll_kernels(LlFile *lf) {
    const IrModule *m = lf->m;
    Arena *a = lf->arena;
    const char *p = lf->prefix;
    return row_kernel(lf, m->predict, CG_PREDICT, arena_printf(a, "%s_predict_kernel", p)) &&
           row_kernel(lf, m->train, CG_TRAIN, arena_printf(a, "%s_forward_backward", p)) &&
           row_kernel(lf, m->eval, CG_EVAL, arena_printf(a, "%s_eval_loss", p)) &&
           ll_pointwise(lf, m->regularize, CG_REGULARIZE, arena_printf(a, "%s_regularize", p)) &&
           ll_pointwise(lf, m->update, CG_UPDATE, arena_printf(a, "%s_update", p));
}
