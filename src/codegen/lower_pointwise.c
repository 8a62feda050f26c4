/*
** lower_pointwise.c — regularize and update: the kernels that run over the
** parameters rather than the rows, with no scratch (kernel ABI). Every
** node is either a scalar (the learning-rate schedule, a regularization
** sum) or an element of one parameter's tensor. So each parameter gets one
** loop computing its whole optimizer step (or its penalty's gradient and
** sum) in locals, every new value computed before any is stored; scalars
** run before the loops, or after them when they read a sum.
*/
#include "lower.h"

#include <math.h>

#include "nnc_abi.h"

/* Lists of ids by parameter, in the order added: items[start[p] .. start[p + 1]). */
typedef struct Lists {
    int *start, *items;
} Lists;

/* Buckets ids 0..count-1 by key(id) (-1: none), keeping their order. */
static Lists bucket(Arena *a, int keys, int count, const int *key) {
    Lists l = {ARENA_ARRAY(a, int, keys + 2), ARENA_ARRAY(a, int, count + 1)};
    for (int i = 0; i < count; i++)
        if (key[i] >= 0) l.start[key[i] + 1]++;
    for (int k = 0; k < keys; k++) l.start[k + 1] += l.start[k];
    int *fill = ARENA_ARRAY(a, int, keys + 1);
    for (int i = 0; i < count; i++)
        if (key[i] >= 0) l.items[l.start[key[i]] + fill[key[i]]++] = i;
    return l;
}

typedef struct Pw {
    Lw *w;
    const IrOutput *outs;
    int nouts;
    int *owner;   /* per node: the parameter whose loop computes it, -1: a scalar */
    bool *post;   /* scalar that reads a sum over a parameter: after the loops */
    bool *temp_needed;
    bool *output_value;
    int *sum;     /* per reduction node: its accumulator local */
    /* Per parameter, in node order (so nnc's cost grows with the nodes, not
    ** with parameters times nodes): the nodes its loop computes or sums,
    ** and the outputs it writes. */
    Lists nodes, outputs;
} Pw;

static bool is_reduction(const IrNode *n) {
    return n->op == OP_SUM || n->op == OP_MEAN || n->op == OP_MAX;
}

static bool is_leaf_of_param(const IrNode *n) {
    return n->op == OP_PARAM || n->op == OP_GRAD || n->op == OP_STATE;
}

static bool live(const Pw *pw, int id) {
    return pw->w->plan->node[id].live;
}

static bool unsupported(const IrFunc *f, const IrNode *n, const char *why) {
    fprintf(stderr, "nnc: internal error: %s: %%%d %s %s\n", f->name, n->id, ir_ops[n->op].name, why);
    return false;
}

/* Which loop computes each node; false on a node no loop can compute. */
static bool classify(Pw *pw) {
    const IrFunc *f = pw->w->f;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        pw->owner[id] = is_leaf_of_param(n) ? n->param : -1;
        if (!live(pw, id) || is_leaf_of_param(n) || n->nin == 0) continue;
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
static void find_temps(Pw *pw) {
    const IrFunc *f = pw->w->f;
    for (int i = 0; i < pw->nouts; i++) pw->output_value[pw->outs[i].value->id] = true;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        const CgNodePlan *np = &pw->w->plan->node[id];
        bool inlined = np->place == CG_INLINE && np->uses == 1 && pw->owner[id] >= 0;
        if (!np->live || (n->nin == 0 && !pw->output_value[id]) || cg_is_free(n)) continue;
        pw->temp_needed[id] = pw->output_value[id] || !inlined;
    }
    /* A scalar inlined into another scalar is computed once anyway. */
    for (int id = 0; id < f->nodes.len; id++) {
        const CgNodePlan *np = &pw->w->plan->node[id];
        if (pw->owner[id] < 0 && np->uses == 1 && np->user >= 0 && pw->owner[np->user] < 0 &&
            !pw->output_value[id] && np->place == CG_INLINE)
            pw->temp_needed[id] = false;
    }
}

/* const nnc_real v<id> = value; read from then on instead of the formula. */
static void temp(Pw *pw, const IrNode *n, LExpr *value) {
    Lw *w = pw->w;
    int l = lb_local(&w->b, arena_printf(w->arena, "v%d", n->id), 0, true);
    lb_decl(&w->b, l, value);
    w->temp[n->id] = lx_local(w->arena, l, lidx_const(0));
}

static void scalars(Pw *pw, bool post) {
    const IrFunc *f = pw->w->f;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        if (pw->temp_needed[id] && pw->owner[id] < 0 && pw->post[id] == post && !is_reduction(n))
            temp(pw, n, lw_compute(pw->w, n, NULL));
    }
}

/* ---- one parameter's loop ---- */

static bool reduces(const Pw *pw, const IrNode *n, int param) {
    return live(pw, n->id) && is_reduction(n) && pw->owner[n->in[0]->id] == param;
}

/* The parameter whose loop a node belongs in (computes it, or sums it). */
static void build_lists(Pw *pw) {
    const IrFunc *f = pw->w->f;
    Arena *a = pw->w->arena;
    int np = f->module->params.len, *key = ARENA_ARRAY(a, int, f->nodes.len + pw->nouts + 1);
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        key[id] = !live(pw, id) ? -1 : is_reduction(n) ? pw->owner[n->in[0]->id] : pw->owner[id];
    }
    pw->nodes = bucket(a, np, f->nodes.len, key);
    for (int i = 0; i < pw->nouts; i++) key[i] = pw->outs[i].kind == OUT_LOSS ? -1 : pw->outs[i].param;
    pw->outputs = bucket(a, np, pw->nouts, key);
}

static void reductions_open(Pw *pw, int param) {
    Lw *w = pw->w;
    for (int i = pw->nodes.start[param]; i < pw->nodes.start[param + 1]; i++) {
        int id = pw->nodes.items[i];
        const IrNode *n = w->f->nodes.items[id];
        if (!reduces(pw, n, param)) continue;
        pw->sum[id] = lb_local(&w->b, arena_printf(w->arena, "v%d", id), 0, false);
        lb_decl(&w->b, pw->sum[id], lx_const(w->arena, n->op == OP_MAX ? -HUGE_VAL : 0));
    }
}

static int output_buf(Pw *pw, const IrOutput *o) {
    switch (o->kind) {
    case OUT_GRAD: return lw_grad_buf(pw->w, o->param);
    case OUT_PARAM: return lw_param_buf(pw->w, o->param);
    default: return lw_state_buf(pw->w, o->param, o->slot);
    }
}

static void element(Pw *pw, int param, const LIdx *c) {
    Lw *w = pw->w;
    const IrFunc *f = w->f;
    Arena *a = w->arena;
    for (int i = pw->nodes.start[param]; i < pw->nodes.start[param + 1]; i++) {
        int id = pw->nodes.items[i];
        const IrNode *n = f->nodes.items[id];
        if (reduces(pw, n, param)) {
            LExpr *sum = lx_local(a, pw->sum[id], lidx_const(0)), *x = lw_elem(w, n->in[0], c);
            lb_set(&w->b, pw->sum[id], lidx_const(0), lx_op(a, n->op == OP_MAX ? LOP_MAXIMUM : LOP_ADD, 0, sum, x, NULL));
        } else if (pw->owner[id] == param && pw->temp_needed[id]) {
            temp(pw, n, is_leaf_of_param(n) ? lw_elem(w, n, c) : lw_compute(w, n, c));
        }
    }
    for (int i = pw->outputs.start[param]; i < pw->outputs.start[param + 1]; i++) {
        const IrOutput *o = &pw->outs[pw->outputs.items[i]];
        lb_store(&w->b, output_buf(pw, o), c[0], lw_elem(w, o->value, c), o->kind == OUT_GRAD);
    }
    for (int i = pw->nodes.start[param]; i < pw->nodes.start[param + 1]; i++)
        if (pw->owner[pw->nodes.items[i]] == param) w->temp[pw->nodes.items[i]] = NULL;
}

static void reductions_close(Pw *pw, int param) {
    Lw *w = pw->w;
    for (int i = pw->nodes.start[param]; i < pw->nodes.start[param + 1]; i++) {
        int id = pw->nodes.items[i];
        const IrNode *n = w->f->nodes.items[id];
        if (!reduces(pw, n, param)) continue;
        LExpr *sum = lx_local(w->arena, pw->sum[id], lidx_const(0));
        if (n->op == OP_MEAN)
            lb_set(&w->b, pw->sum[id], lidx_const(0),
                   lx_op(w->arena, LOP_DIV, 0, sum, lx_const(w->arena, (double)shape_numel(n->in[0]->shape)), NULL));
        w->temp[id] = sum;
    }
}

static bool param_has_work(const Pw *pw, int param) {
    if (pw->outputs.start[param + 1] > pw->outputs.start[param]) return true;
    for (int i = pw->nodes.start[param]; i < pw->nodes.start[param + 1]; i++)
        if (reduces(pw, pw->w->f->nodes.items[pw->nodes.items[i]], param)) return true;
    return false;
}

/* Opens the guard of the written-out element at index `at` of the
** parameter's nest when it starts another block of NNC_RANGE_ALIGN
** elements (the range holds whole blocks); `open` is the block guarded so
** far, -1 for none. */
static long guard_block(Lw *w, long offset, long at, long open) {
    long block = (offset + at) / NNC_RANGE_ALIGN * NNC_RANGE_ALIGN;
    if (block == open) return open;
    if (open >= 0) lb_close(&w->b);
    lb_if_in_range(&w->b, block);
    return block;
}

static void param_loop(Pw *pw, int param, int lanes) {
    Lw *w = pw->w;
    const IrParam *p = &w->f->module->params.items[param];
    long count = (long)shape_numel(p->shape), offset = w->layout->param_off[param], open = -1;
    bool ranged = w->plan->kind == CG_UPDATE;
    char shape[160];
    lb_comment(&w->b, "%s %s", p->name, shape_format(p->shape, shape, sizeof shape));
    reductions_open(pw, param);
    /* One flat loop over the elements; written out, each element gets a
    ** block of its own for its locals. The update's loop runs over the
    ** elements in its range, its written-out elements under guards. */
    bool unroll = count <= w->plan->unroll;
    LwNest ns;
    if (ranged) lw_nest_ranged(&ns, w, count, offset, LV_I0, unroll, lanes);
    else lw_nest_vector(&ns, w, shape_vector((int)count), LV_I0, unroll);
    do {
        if (ranged && lidx_is_const(ns.c[0])) open = guard_block(w, offset, ns.c[0].c, open);
        lb_block(&w->b);
        element(pw, param, ns.c);
        lb_close(&w->b);
    } while (lw_nest_next(&ns));
    if (open >= 0) lb_close(&w->b);
    if (ranged) lw_nest_unchunk(&ns);
    reductions_close(pw, param);
}

/* Whether a parameter of the update runs in chunks of the wide vectors'
** lanes (one written out, or shorter than them, does not). */
static bool has_wide_chunks(const Pw *pw) {
    const IrModule *m = pw->w->f->module;
    for (int i = 0; i < m->params.len; i++) {
        long count = (long)shape_numel(m->params.items[i].shape);
        if (param_has_work(pw, i) && count >= LW_VECTOR_WIDE && count > pw->w->plan->unroll) return true;
    }
    return false;
}

static bool has_lanes(const LStmt *s) {
    for (; s; s = s->next)
        if ((s->kind == LS_LOOP && s->hint == LH_LANES) || has_lanes(s->body) || has_lanes(s->orelse)) return true;
    return false;
}

/* Where no chunk is vector operations at the wide width (adamax's max),
** both widths are the same plain loops: the narrow one alone remains. */
static void keep_narrow_unless_lanes(LStmt *choice) {
    if (has_lanes(choice->body)) return;
    choice->kind = LS_BLOCK;
    choice->body = choice->orelse;
    choice->orelse = NULL;
}

static void param_loops(Pw *pw, int lanes) {
    for (int i = 0; i < pw->w->f->module->params.len; i++)
        if (param_has_work(pw, i)) param_loop(pw, i, lanes);
}

/* SPEC 1.9's initial optimizer state (adagrad's accumulator starts at 0.1):
** the runtime zeroes the buffer, so the first step sets it, in the range. */
static void init_state(Pw *pw) {
    Lw *w = pw->w;
    const IrModule *m = w->f->module;
    if (m->opt_slots == 0) return;
    lb_if(&w->b, LC_FIRST_STEP);
    for (int i = 0; i < m->params.len; i++)
        for (int s = 0; s < m->opt_slots; s++) {
            long count = (long)shape_numel(m->params.items[i].shape), offset = w->layout->param_off[i];
            if (w->layout->opt_off[4 * i + s] < 0) continue;
            lb_loop(&w->b, LV_E, lbound_range(LR_LO, offset, count), lbound_range(LR_HI, offset, count), 1,
                    LH_VECTOR);
            lb_store(&w->b, lw_state_buf(w, i, s), lidx_var(LV_E), lx_const(w->arena, m->opt_state_init[s]), false);
            lb_close(&w->b);
        }
    lb_close(&w->b);
}

bool lw_pointwise(Lw *w) {
    Arena *a = w->arena;
    const IrFunc *f = w->f;
    int len = f->nodes.len + 1;
    Pw pw = {.w = w, .outs = f->outputs.items, .nouts = f->outputs.len};
    w->flat = true;
    pw.owner = ARENA_ARRAY(a, int, len);
    pw.post = ARENA_ARRAY(a, bool, len);
    pw.temp_needed = ARENA_ARRAY(a, bool, len);
    pw.output_value = ARENA_ARRAY(a, bool, len);
    pw.sum = ARENA_ARRAY(a, int, len);
    if (!classify(&pw)) return false;
    for (int id = 0; id < f->nodes.len; id++)
        w->lk->whole_range |= live(&pw, id) && is_reduction(f->nodes.items[id]);
    find_temps(&pw);
    build_lists(&pw);
    scalars(&pw, false);
    if (w->plan->kind == CG_UPDATE) init_state(&pw);
    /* The update's chunks as wide as the target's vectors; both widths do
    ** the same operations on every element. A sum over a parameter is
    ** read after the loops, so that update keeps one width. */
    if (w->plan->kind == CG_UPDATE && !w->lk->whole_range && has_wide_chunks(&pw)) {
        lb_if(&w->b, LC_WIDE);
        LStmt *choice = w->b.open[w->b.depth];
        param_loops(&pw, LW_VECTOR_WIDE);
        lb_else(&w->b);
        param_loops(&pw, LW_VECTOR);
        lb_close(&w->b);
        keep_narrow_unless_lanes(choice);
    } else {
        param_loops(&pw, LW_VECTOR);
    }
    scalars(&pw, true);
    for (int i = 0; i < pw.nouts; i++)
        if (pw.outs[i].kind == OUT_LOSS) lb_loss(&w->b, lw_elem(w, pw.outs[i].value, NULL), false);
    return true;
}
