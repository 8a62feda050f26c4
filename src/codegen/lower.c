/*
** lower.c — a planned kernel function to the loop IR: the row-wise kernels
** of the ABI (predict, forward_backward, eval_loss) here, regularize and
** update in lower_pointwise.c.
**
** A row kernel is phases; each runs its uniform nodes once, then one loop
** over the rows computing the per-row nodes, row r's activations at
** scratch[fixed + r·per_row ...], so one row's whole forward and backward
** pass stays in L1. Tiled matmuls loop over the rows themselves, outside
** that loop. Batch sums read every row after the loop.
*/
#include "lower.h"

#include <string.h>

/* ---- outputs ---- */

static void write_output(Lw *w, const IrOutput *o) {
    const IrNode *v = o->value;
    long width = shape_numel(v->shape);
    bool guard = o->kind == OUT_PRED && w->plan->kind != CG_PREDICT;
    if (guard) lb_if(&w->b, LC_HAS_Y);
    LwNest ns;
    lw_nest_vector(&ns, w, v->shape, LV_I0, width <= w->plan->unroll);
    do {
        LExpr *e = lw_elem(w, v, ns.c);
        LIdx lin = lw_linear(v->shape, ns.c);
        switch (o->kind) {
        case OUT_PRED:
            lin = lidx_add(lin, lidx_scale(lidx_var(LV_R), width));
            lb_store(&w->b, lw_arg_buf(w, LB_Y), lin, e, false);
            break;
        case OUT_LOSS:
            lb_loss(&w->b, e, !v->varying);
            break;
        case OUT_GRAD:
            w->lk->uses_scale = true;
            lb_store(&w->b, lw_grad_buf(w, o->param), lin,
                     lx_op(w->arena, LOP_MUL, 0, lx_arg(w->arena, LA_SCALE), e, NULL), true);
            break;
        default: die("output kind %d in a row-wise kernel", (int)o->kind);
        }
    } while (lw_nest_next(&ns));
    if (guard) lb_close(&w->b);
}

static void row_loop(Lw *w) {
    lb_loop(&w->b, LV_R, lbound(0), lbound_rows(1, 0), 1, LH_NONE);
}

/* Outputs of per-row values in the row loop of their phase; predictions
** of uniform values get a row loop of their own. */
static void write_outputs(Lw *w, int phase, bool varying) {
    for (int i = 0; i < w->f->outputs.len || (i == 0 && w->f->result); i++) {
        IrOutput o;
        if (!w->f->outputs.len) o = (IrOutput){.kind = OUT_PRED, .value = w->f->result};
        else o = w->f->outputs.items[i];
        const CgNodePlan *np = &w->plan->node[o.value->id];
        if (o.value->varying != varying || (varying && np->phase != phase)) continue;
        if (o.kind == OUT_GRAD && np->grad_out == i) continue; /* the batch sum added it */
        bool rows = !varying && o.kind == OUT_PRED;
        if (rows) row_loop(w);
        write_output(w, &o);
        if (rows) lb_close(&w->b);
        if (!w->f->outputs.len) break;
    }
}

/* ---- the body ---- */

static bool computed_here(const Lw *w, const IrNode *n) {
    const CgNodePlan *np = &w->plan->node[n->id];
    return np->live && np->place == CG_BUFFER && np->fused < 0 &&
           (np->at.store == CG_ST_ROWS || np->at.store == CG_ST_FIXED);
}

static bool has_varying_outputs(const Lw *w, int ph) {
    for (int i = 0; i < w->f->outputs.len; i++) {
        const IrNode *v = w->f->outputs.items[i].value;
        if (v->varying && w->plan->node[v->id].phase == ph) return true;
    }
    return w->f->result && !w->f->outputs.len && w->f->result->varying &&
           w->plan->node[w->f->result->id].phase == ph;
}

/* The row loop, opened when a per-row node needs it and closed around
** tiled matmuls, which loop over the rows themselves. */
static void rows(Lw *w, bool *open, bool want) {
    if (want && !*open) row_loop(w);
    if (!want && *open) lb_close(&w->b);
    *open = want;
}

static void row_nodes(Lw *w, int ph) {
    const IrFunc *f = w->f;
    bool open = false;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        if (!n->varying || w->plan->node[id].phase != ph || !computed_here(w, n)) continue;
        const IrNode *mm = n->op == OP_MATMUL ? n : lw_fused_matmul(w, n);
        if (mm && w->plan->node[mm->id].tile) { /* with its epilogue, if fused into n */
            rows(w, &open, false);
            lw_matmul_tiled(w, mm);
            continue;
        }
        rows(w, &open, true);
        lw_node(w, n);
    }
    if (has_varying_outputs(w, ph)) {
        rows(w, &open, true);
        write_outputs(w, ph, true);
    }
    rows(w, &open, false);
}

/* Whether the batch sum of a gradient output stores the whole gradient of
** param (lower_nodes.c store_grad). */
static bool stored_by_batch_sum(const Lw *w, int param) {
    for (int i = 0; i < w->f->outputs.len; i++) {
        const IrOutput *o = &w->f->outputs.items[i];
        if (o->kind == OUT_GRAD && o->param == param) return w->plan->node[o->value->id].grad_out == i;
    }
    return false;
}

/* forward_backward writes every trainable parameter's gradient (kernel ABI
** 4), so the caller never zeroes them: the gradients a batch sum stores
** whole need nothing here; the others (added row by row, or independent
** of the loss) start from zero. */
static void zero_gradients(Lw *w) {
    const IrModule *m = w->f->module;
    for (int p = 0; p < m->params.len; p++) {
        const IrParam *param = &m->params.items[p];
        if (!param->trainable || stored_by_batch_sum(w, p)) continue;
        LwNest ns;
        lw_nest_vector(&ns, w, param->shape, LV_I0, false);
        do lb_store(&w->b, lw_grad_buf(w, p), lw_linear(param->shape, ns.c), lx_const(w->arena, 0), false);
        while (lw_nest_next(&ns));
    }
}

static void row_body(Lw *w) {
    const IrFunc *f = w->f;
    if (w->lk->kind == LK_TRAIN) zero_gradients(w);
    for (int ph = 0; ph < w->plan->phases; ph++) {
        for (int id = 0; id < f->nodes.len; id++) {
            const IrNode *n = f->nodes.items[id];
            if (!n->varying && w->plan->node[id].phase == ph && computed_here(w, n)) lw_node(w, n);
        }
        for (int id = 0; id < f->nodes.len && ph == 0; id++)
            if (w->plan->node[id].live && w->plan->node[id].tpos >= 0) lw_transpose_copy(w, f->nodes.items[id]);
        row_nodes(w, ph);
    }
    write_outputs(w, 0, false);
}

/* ---- kernels ---- */

Lw lw_new(Arena *a, const IrFunc *f, const CgPlan *plan, const CgLayout *layout, const CgLowerOptions *opt,
          LoopKernel *lk) {
    int len = f->nodes.len + 1, np = f->module->params.len + 1;
    Lw w = {.arena = a, .lk = lk, .f = f, .plan = plan, .layout = layout, .opt = opt, .pack_buf = -1};
    lb_init(&w.b, a, lk);
    w.buf_of = ARENA_ARRAY(a, int, len);
    w.tbuf_of = ARENA_ARRAY(a, int, len);
    w.grad_buf = ARENA_ARRAY(a, int, np);
    w.param_buf = ARENA_ARRAY(a, int, np);
    w.state_buf = ARENA_ARRAY(a, int, 4 * np);
    w.temp = ARENA_ARRAY(a, LExpr *, len);
    for (int i = 0; i < len; i++) w.buf_of[i] = w.tbuf_of[i] = -1;
    for (int i = 0; i < np; i++) w.grad_buf[i] = w.param_buf[i] = -1;
    for (int i = 0; i < 4 * np; i++) w.state_buf[i] = -1;
    for (int i = 0; i < 3; i++) w.arg_buf[i] = -1;
    return w;
}

static const char *const docs[] = {
    "rows of x to predictions y, dropout off",
    "the loss of rows of x against targets t, and scale times its gradient written to grads",
    "the loss of rows of x against targets t, dropout off",
    "the penalties' loss, their gradient added into grads",
    "one optimizer step (SPEC 1.9), each parameter in one pass",
};

LoopKernel *cg_lower(Arena *a, const IrFunc *f, CgFuncKind kind, const CgLayout *layout, const char *name,
                     const CgLowerOptions *o) {
    LoopKernel *lk = ARENA_NEW(a, LoopKernel);
    lk->name = name;
    lk->kind = (LKernelKind)kind;
    lk->doc = docs[kind];
    lk->opt_slots = f->module->opt_slots;
    const bool *frozen = kind == CG_PREDICT ? o->baked : NULL;
    CgPlan *plan = cg_plan(a, f, kind, layout, o->unroll, frozen);
    Lw w = lw_new(a, f, plan, layout, o, lk);
    if (kind == CG_REGULARIZE || kind == CG_UPDATE) {
        if (!lw_pointwise(&w)) return NULL;
    } else {
        row_body(&w);
        lk->scratch_fixed = plan->fixed;
        lk->scratch_per_row = plan->per_row;
    }
    return lk;
}

/* A model with nothing to train still has the ABI's update: an empty one. */
static LoopKernel *empty_update(Arena *a, const IrModule *m, const char *name) {
    LoopKernel *lk = ARENA_NEW(a, LoopKernel);
    LBuilder b;
    *lk = (LoopKernel){.name = name, .kind = LK_UPDATE, .doc = "nothing is trainable", .opt_slots = m->opt_slots};
    lb_init(&b, a, lk);
    return lk;
}

bool cg_lower_model(Arena *a, const IrModule *m, const CgLayout *layout, const char *prefix,
                    const CgLowerOptions *o, LoopKernel *k[5]) {
    static const char *const suffix[] = {"predict_kernel", "forward_backward", "eval_loss", "regularize", "update"};
    const IrFunc *fn[] = {m->predict, m->train, m->eval, m->regularize, m->update};
    for (int kind = 0; kind < 5; kind++) {
        const char *name = arena_printf(a, "%s_%s", prefix, suffix[kind]);
        k[kind] = NULL;
        bool outputs = fn[kind] && fn[kind]->outputs.len > 0;
        if (kind == CG_UPDATE && !outputs) {
            k[kind] = empty_update(a, m, name);
            continue;
        }
        if (kind == CG_REGULARIZE && !outputs) continue; /* the descriptor says NULL */
        if (!fn[kind]) {
            fprintf(stderr, "nnc: internal error: no %s function to compile\n", lk_kind_names[kind]);
            return false;
        }
        k[kind] = cg_lower(a, fn[kind], (CgFuncKind)kind, layout, name, o);
        if (!k[kind]) return false;
    }
    return true;
}
