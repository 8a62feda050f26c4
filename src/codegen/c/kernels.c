/*
** kernels.c — the row-wise kernels of the ABI (predict, forward_backward,
** eval_loss): the function around the planned nodes.
**
** A kernel is phases; each runs its uniform nodes once, then one loop over
** the rows computing the per-row nodes, row r's activations at
** scratch[fixed + r·per_row ...], so one row's whole forward and backward
** pass stays in L1. Batch sums read every row after the loop. Pointers to
** every buffer are declared first, each with its tensor's name and shape.
*/
#include "cgen.h"

#include <string.h>

#include "nnc_abi.h"

static const char *const kernel_names[] = {"predict", "forward_backward", "eval_loss",
                                           "regularize", "update"};

/* ---- outputs ---- */

static const char *grad_at(CgKernel *k, int param, Shape s, const CgAff *c) {
    Arena *a = k->file->arena;
    return arena_printf(a, "g%d[%s]", param, cg_aff_text(a, cg_c_linear_aff(s, c)));
}

static void write_output(CgKernel *k, const IrOutput *o) {
    Arena *a = k->file->arena;
    const IrNode *v = o->value;
    long width = shape_numel(v->shape);
    bool guard = o->kind == OUT_PRED && k->plan->kind != CG_PREDICT;
    if (guard) cg_c_open(k->body, "if (y != NULL)");
    CgNest ns;
    cg_c_nest_vector(&ns, k, v->shape, CG_V_I0, width <= k->plan->unroll);
    do {
        const char *e = cg_c_elem(k, v, ns.c);
        CgAff lin = cg_c_linear_aff(v->shape, ns.c);
        switch (o->kind) {
        case OUT_PRED:
            lin = cg_aff_add(lin, cg_aff_scale(cg_aff_var(CG_V_R), width));
            cg_c_line(k->body, "y[%s] = %s;", cg_aff_text(a, lin), e);
            break;
        case OUT_LOSS:
            cg_c_line(k->body, v->varying ? "loss += %s;" : "loss += (double)n * %s;", e);
            break;
        case OUT_GRAD:
            cg_c_line(k->body, "%s += sc * %s;", grad_at(k, o->param, v->shape, ns.c), e);
            break;
        default: die("output kind %d in a row-wise kernel", (int)o->kind);
        }
    } while (cg_c_nest_next(&ns));
    if (guard) cg_c_close(k->body);
}

/* Outputs of per-row values in the row loop of their phase; predictions
** of uniform values get a row loop of their own. */
static void write_outputs(CgKernel *k, int phase, bool varying) {
    for (int i = 0; i < k->f->outputs.len || (i == 0 && k->f->result); i++) {
        IrOutput o;
        if (!k->f->outputs.len) o = (IrOutput){.kind = OUT_PRED, .value = k->f->result};
        else o = k->f->outputs.items[i];
        const CgNodePlan *np = &k->plan->node[o.value->id];
        if (o.value->varying != varying || (varying && np->phase != phase)) continue;
        if (o.kind == OUT_GRAD && np->grad_out == i) continue; /* the batch sum added it */
        bool rows = !varying && o.kind == OUT_PRED;
        if (rows) cg_c_open(k->body, "for (int r = 0; r < n; r++)");
        write_output(k, &o);
        if (rows) cg_c_close(k->body);
        if (!k->f->outputs.len) break;
    }
}

/* ---- the body ---- */

static bool computed_here(const CgKernel *k, const IrNode *n) {
    const CgNodePlan *np = &k->plan->node[n->id];
    return np->live && np->place == CG_BUFFER && np->fused < 0 &&
           (np->at.store == CG_ST_ROWS || np->at.store == CG_ST_FIXED);
}

static bool has_varying_outputs(const CgKernel *k, int ph) {
    for (int i = 0; i < k->f->outputs.len; i++) {
        const IrNode *v = k->f->outputs.items[i].value;
        if (v->varying && k->plan->node[v->id].phase == ph) return true;
    }
    return k->f->result && !k->f->outputs.len && k->f->result->varying &&
           k->plan->node[k->f->result->id].phase == ph;
}

/* The row loop, opened when a per-row node needs it and closed around
** tiled matmuls, which loop over the rows themselves. */
static void rows(CgKernel *k, bool *open, bool want) {
    if (want && !*open) cg_c_open(k->body, "for (int r = 0; r < n; r++)");
    if (!want && *open) cg_c_close(k->body);
    *open = want;
}

static void row_nodes(CgKernel *k, int ph) {
    const IrFunc *f = k->f;
    bool open = false;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        if (!n->varying || k->plan->node[id].phase != ph || !computed_here(k, n)) continue;
        const IrNode *mm = n->op == OP_MATMUL ? n : cg_c_fused_matmul(k, n);
        if (mm && k->plan->node[mm->id].tile) { /* with its epilogue, if fused into n */
            rows(k, &open, false);
            cg_c_matmul_tiled(k, mm);
            continue;
        }
        rows(k, &open, true);
        cg_c_node(k, n);
    }
    if (has_varying_outputs(k, ph)) {
        rows(k, &open, true);
        write_outputs(k, ph, true);
    }
    rows(k, &open, false);
}

static void body(CgKernel *k) {
    const IrFunc *f = k->f;
    for (int ph = 0; ph < k->plan->phases; ph++) {
        for (int id = 0; id < f->nodes.len; id++) {
            const IrNode *n = f->nodes.items[id];
            if (!n->varying && k->plan->node[id].phase == ph && computed_here(k, n)) cg_c_node(k, n);
        }
        for (int id = 0; id < f->nodes.len && ph == 0; id++)
            if (k->plan->node[id].live && k->plan->node[id].tpos >= 0) cg_c_transpose_copy(k, f->nodes.items[id]);
        row_nodes(k, ph);
    }
    write_outputs(k, 0, false);
}

/* ---- the buffers: restrict parameters of the body ---- */

/* The body of a kernel is a function of its own taking every buffer as a
** restrict parameter: compilers trust restrict on parameters (not on local
** pointers into one scratch block), so the loops vectorize at -O2 without
** run-time alias checks. The ABI's function computes the pointers. */
typedef struct Buf {
    const char *decl; /* "const nnc_real *restrict p2" */
    const char *init; /* "params + 64" */
    const char *note; /* "dense_1.kernel [30, 30]" */
} Buf;

typedef struct Bufs {
    Buf *items;
    int len, cap;
} Bufs;

static const char *param_note(CgKernel *k, int param) {
    const IrParam *p = &k->f->module->params.items[param];
    Arena *a = k->file->arena;
    return arena_printf(a, "%s %s", cg_comment(a, p->name), cg_c_shape(a, p->shape));
}

static void const_array(CgKernel *k, CgText *out, const IrNode *n) {
    Arena *a = k->file->arena;
    const double *v = k->file->baked && k->file->baked[n->id] ? NULL : n->data;
    long count = shape_numel(n->shape);
    if (!v) v = k->file->baked_values[n->id];
    cg_c_printf(out, "    static const nnc_real c%d[%ld] = {", n->id, count);
    /* Folded values are computed in double: as nnc_real they read shorter. */
    bool f64 = k->file->o->f64, round = v != n->data && !f64;
    for (long i = 0; i < count; i++)
        cg_c_printf(out, "%s%s", i ? (i % 8 ? ", " : ",\n        ") : "",
                    cg_c_scalar_text(a, round ? (double)(float)v[i] : v[i], f64));
    cg_c_printf(out, "}; /* %%%d %s */\n", cg_c_number(k, n), cg_c_shape(a, n->shape));
}

static void add_buf(CgKernel *k, Bufs *bufs, const char *decl, const char *init, const char *note) {
    ARENA_PUSH(k->file->arena, *bufs, ((Buf){decl, init, note}));
}

static void node_buf(CgKernel *k, Bufs *bufs, const IrNode *n) {
    Arena *a = k->file->arena;
    const CgNodePlan *np = &k->plan->node[n->id];
    const char *name = cg_c_ptr_name(k, np->at.store, n->id), *what = ir_ops[n->op].name, *shape = cg_c_shape(a, n->shape);
    int number = cg_c_number(k, n);
    switch (k->ptr_used[n->id] ? np->at.store : CG_ST_NONE) {
    case CG_ST_PARAMS:
        if (k->file->infer) { /* the baked array itself */
            k->file->params_used[n->param] = true;
            break;
        }
        add_buf(k, bufs, arena_printf(a, "const nnc_real *restrict %s", name),
                arena_printf(a, "params + %ld", k->file->layout.param_off[n->param]), param_note(k, n->param));
        break;
    case CG_ST_ROWS:
        add_buf(k, bufs, arena_printf(a, "nnc_real *restrict %s", name),
                arena_printf(a, "scratch + %ld", k->plan->fixed + np->pos),
                arena_printf(a, "%%%d %s %s, row r at + r * %ld", number, what, shape, k->plan->per_row));
        break;
    case CG_ST_FIXED:
        add_buf(k, bufs, arena_printf(a, "nnc_real *restrict %s", name), arena_printf(a, "scratch + %ld", np->pos),
                arena_printf(a, "%%%d %s %s", number, what, shape));
        break;
    default: /* x and t are arguments; constant arrays are the body's */
        break;
    }
    if (np->tpos >= 0)
        add_buf(k, bufs, arena_printf(a, "nnc_real *restrict t%d", n->id), arena_printf(a, "scratch + %ld", np->tpos),
                arena_printf(a, "%%%d's left operand transposed, [%d, %d]", number, n->in[0]->shape.dim[1],
                             n->in[0]->shape.dim[0]));
}

static void grad_bufs(CgKernel *k, Bufs *bufs) {
    const IrModule *m = k->f->module;
    Arena *a = k->file->arena;
    bool *done = ARENA_ARRAY(a, bool, m->params.len + 1);
    for (int i = 0; i < k->f->outputs.len; i++) {
        const IrOutput *o = &k->f->outputs.items[i];
        if (o->kind != OUT_GRAD || done[o->param]) continue;
        done[o->param] = true;
        add_buf(k, bufs, arena_printf(a, "nnc_real *restrict g%d", o->param),
                arena_printf(a, "grads + %ld", k->file->layout.param_off[o->param]),
                arena_printf(a, "gradient of %s", param_note(k, o->param)));
    }
}

static bool has_output(const IrFunc *f, IrOutputKind kind) {
    for (int i = 0; i < f->outputs.len; i++)
        if (f->outputs.items[i].kind == kind) return true;
    return kind == OUT_PRED && !f->outputs.len && f->result;
}

static bool uses_store(const CgKernel *k, CgStore store) {
    for (int id = 0; id < k->f->nodes.len; id++)
        if (k->ptr_used[id] && k->plan->node[id].at.store == store) return true;
    return false;
}

static bool bufs_from(const Bufs *bufs, const char *base) {
    for (int i = 0; i < bufs->len; i++)
        if (!strncmp(bufs->items[i].init, base, strlen(base))) return true;
    return false;
}

/* ---- the two functions ---- */

static const char *outer_signature(CgKernel *k, const char *name) {
    Arena *a = k->file->arena;
    switch (k->plan->kind) {
    case CG_PREDICT:
        if (k->file->infer)
            return arena_printf(a, "static void %s(nnc_real *restrict scratch, const nnc_real *restrict x,\n"
                                   "    nnc_real *restrict y, int n)", name);
        return arena_printf(a, "static void %s(const nnc_real *params, nnc_real *scratch, const nnc_real *x,\n"
                               "    nnc_real *y, int n)", name);
    case CG_TRAIN:
        return arena_printf(a, "static double %s(const nnc_real *params, nnc_real *grads,\n"
                               "    nnc_real *scratch, const nnc_real *x, const nnc_real *t, int n, double scale,\n"
                               "    uint64_t seed, uint64_t first_row, nnc_real *y)", name);
    default:
        return arena_printf(a, "static double %s(const nnc_real *params, nnc_real *scratch,\n"
                               "    const nnc_real *x, const nnc_real *t, int n, nnc_real *y)", name);
    }
}

/* The body's scalar and row arguments, as declared and as passed. */
static const char *body_args(CgFuncKind kind, bool decl) {
    switch (kind) {
    case CG_PREDICT:
        return decl ? "int n, const nnc_real *restrict x, nnc_real *restrict y" : "n, x, y";
    case CG_TRAIN:
        return decl ? "int n, double scale, uint64_t seed, uint64_t first_row,\n"
                      "    const nnc_real *restrict x, const nnc_real *restrict t, nnc_real *restrict y"
                    : "n, scale, seed, first_row, x, t, y";
    default:
        return decl ? "int n, const nnc_real *restrict x, const nnc_real *restrict t, nnc_real *restrict y"
                    : "n, x, t, y";
    }
}

static void body_unused(CgKernel *k, CgText *out) {
    CgFuncKind kind = k->plan->kind;
    if (!uses_store(k, CG_ST_INPUT)) cg_c_put(out, "    (void)x;\n");
    if (kind != CG_PREDICT && !uses_store(k, CG_ST_TARGET)) cg_c_put(out, "    (void)t;\n");
    if (kind != CG_PREDICT && !has_output(k->f, OUT_PRED)) cg_c_put(out, "    (void)y;\n");
    if (kind == CG_TRAIN && !has_output(k->f, OUT_GRAD)) cg_c_put(out, "    (void)scale;\n");
    if (kind == CG_TRAIN && !k->uses_seed) cg_c_put(out, "    (void)seed;\n    (void)first_row;\n");
}

static void body_function(CgKernel *k, CgText *out, const char *name, const Bufs *bufs) {
    const char *ret = k->plan->kind == CG_PREDICT ? "void" : "double";
    cg_c_printf(out, "static %s %s_body(%s", ret, name, body_args(k->plan->kind, true));
    for (int i = 0; i < bufs->len; i++)
        cg_c_printf(out, ",\n    %s /* %s */", bufs->items[i].decl, bufs->items[i].note);
    cg_c_put(out, ") {\n");
    for (int id = 0; id < k->f->nodes.len; id++)
        if (k->ptr_used[id] && k->plan->node[id].at.store == CG_ST_CONST) const_array(k, out, k->f->nodes.items[id]);
    if (has_output(k->f, OUT_GRAD)) cg_c_put(out, "    const nnc_real sc = (nnc_real)scale;\n");
    if (k->plan->kind != CG_PREDICT) cg_c_put(out, "    double loss = 0;\n");
    body_unused(k, out);
    cg_c_put(out, cg_c_text(k->body));
    if (k->plan->kind != CG_PREDICT) cg_c_put(out, "    return loss;\n");
    cg_c_put(out, "}\n\n");
}

static void outer_function(CgKernel *k, CgText *out, const char *name, const Bufs *bufs) {
    static const char *const what[] = {
        "rows of x to predictions y, dropout off",
        "the loss of rows of x against targets t, and scale times its gradient added into grads",
        "the loss of rows of x against targets t, dropout off",
    };
    cg_c_printf(out, "/* %s: %s (kernel ABI).\n** Needs scratch[%ld + n * %ld]. */\n", name, what[k->plan->kind],
                k->plan->fixed, k->plan->per_row);
    cg_c_printf(out, "%s {\n", outer_signature(k, name));
    if (!k->file->infer && !bufs_from(bufs, "params")) cg_c_put(out, "    (void)params;\n");
    if (!bufs_from(bufs, "scratch")) cg_c_put(out, "    (void)scratch;\n");
    if (k->plan->kind == CG_TRAIN && !bufs_from(bufs, "grads")) cg_c_put(out, "    (void)grads;\n");
    cg_c_printf(out, "    %s%s_body(%s", k->plan->kind == CG_PREDICT ? "" : "return ", name,
                body_args(k->plan->kind, false));
    for (int i = 0; i < bufs->len; i++) cg_c_printf(out, ",\n        %s", bufs->items[i].init);
    cg_c_put(out, ");\n}\n");
}

static void assemble(CgKernel *k, CgText *out, const char *name) {
    Bufs bufs = {0};
    for (int id = 0; id < k->f->nodes.len; id++)
        if (k->ptr_used[id] || (k->plan->node[id].live && k->plan->node[id].tpos >= 0))
            node_buf(k, &bufs, k->f->nodes.items[id]);
    if (k->plan->kind == CG_TRAIN) grad_bufs(k, &bufs);
    cg_c_put(out, "\n");
    body_function(k, out, name, &bufs);
    outer_function(k, out, name, &bufs);
}

CgKernel cg_c_kernel(CgFile *cf, const IrFunc *f, const CgPlan *plan) {
    CgKernel k = {.file = cf, .f = f, .plan = plan};
    k.body = ARENA_NEW(cf->arena, CgText);
    k.body->arena = cf->arena;
    k.body->indent = 1;
    k.ptr_used = ARENA_ARRAY(cf->arena, bool, f->nodes.len + 1);
    k.temp = ARENA_ARRAY(cf->arena, const char *, f->nodes.len + 1);
    return k;
}

static bool row_kernel(CgFile *cf, CgText *out, const IrFunc *f, CgFuncKind kind, const char *name) {
    if (!f) {
        fprintf(stderr, "nnc: internal error: no %s function to compile\n", kernel_names[kind]);
        return false;
    }
    CgPlan *plan = cg_plan(cf->arena, f, kind, &cf->layout, cf->o->unroll, cf->baked);
    CgKernel k = cg_c_kernel(cf, f, plan);
    body(&k);
    assemble(&k, out, name);
    if (plan->fixed > cf->scratch_fixed) cf->scratch_fixed = plan->fixed;
    if (plan->per_row > cf->scratch_per_row) cf->scratch_per_row = plan->per_row;
    return true;
}

bool cg_c_predict_kernel(CgFile *cf, CgText *out, const IrFunc *f, const char *name) {
    return row_kernel(cf, out, f, CG_PREDICT, name);
}

bool cg_c_kernels(CgFile *cf, CgText *out) {
    const IrModule *m = cf->m;
    Arena *a = cf->arena;
    const char *p = cf->prefix;
    return row_kernel(cf, out, m->predict, CG_PREDICT, arena_printf(a, "%s_predict_kernel", p)) &&
           row_kernel(cf, out, m->train, CG_TRAIN, arena_printf(a, "%s_forward_backward", p)) &&
           row_kernel(cf, out, m->eval, CG_EVAL, arena_printf(a, "%s_eval_loss", p)) &&
           cg_c_pointwise(cf, out, m->regularize, CG_REGULARIZE, arena_printf(a, "%s_regularize", p)) &&
           cg_c_pointwise(cf, out, m->update, CG_UPDATE, arena_printf(a, "%s_update", p));
}
