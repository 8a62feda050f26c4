/*
** lower_expr.c — the value of a node at one element, as a loop-IR
** expression: a load of its storage, or its formula over its operands'
** values (inlined chains), with NumPy broadcasting and the view ops turned
** into index arithmetic. Storage becomes a buffer of the kernel the first
** time it is read or written.
*/
#include "lower.h"

#include <string.h>

/* ---- buffers ---- */

static const char *shape_text(Arena *a, Shape s) {
    char buf[160];
    return arena_strdup(a, shape_format(s, buf, sizeof buf));
}

static const char *param_note(Lw *w, int param) {
    const IrParam *p = &w->f->module->params.items[param];
    return arena_printf(w->arena, "%s %s", p->name, shape_text(w->arena, p->shape));
}

static int new_param_buf(Lw *w, int param);

int lw_param_buf(Lw *w, int param) {
    if (w->param_buf[param] < 0) w->param_buf[param] = new_param_buf(w, param);
    return w->param_buf[param];
}

static int new_param_buf(Lw *w, int param) {
    Arena *a = w->arena;
    if (w->opt->infer) {
        w->opt->params_used[param] = true;
        return lb_buf(&w->b, (LBuf){.base = LB_BAKED, .key = param, .name = arena_printf(a, "w%d", param),
                                    .note = param_note(w, param)});
    }
    return lb_buf(&w->b, (LBuf){.base = LB_PARAMS, .offset = w->layout->param_off[param],
                                .name = arena_printf(a, "p%d", param), .note = param_note(w, param)});
}

int lw_grad_buf(Lw *w, int param) {
    if (w->grad_buf[param] < 0)
        w->grad_buf[param] = lb_buf(&w->b, (LBuf){.base = LB_GRADS, .offset = w->layout->param_off[param],
                                                  .name = arena_printf(w->arena, "g%d", param),
                                                  .note = arena_printf(w->arena, "gradient of %s",
                                                                       param_note(w, param))});
    return w->grad_buf[param];
}

int lw_state_buf(Lw *w, int param, int slot) {
    int *b = &w->state_buf[4 * param + slot];
    if (*b < 0)
        *b = lb_buf(&w->b, (LBuf){.base = LB_OPT, .offset = w->layout->opt_off[4 * param + slot],
                                  .name = arena_printf(w->arena, "s%d_%d", param, slot),
                                  .note = arena_printf(w->arena, "state %d of %s", slot, param_note(w, param))});
    return *b;
}

int lw_arg_buf(Lw *w, LBufBase base) {
    static const char *const names[] = {"x", "t", "y"};
    int i = base - LB_X;
    if (w->arg_buf[i] < 0) w->arg_buf[i] = lb_buf(&w->b, (LBuf){.base = base, .name = names[i], .note = names[i]});
    return w->arg_buf[i];
}

static int const_buf(Lw *w, const IrNode *n) {
    const double *v = w->opt->baked && w->opt->baked[n->id] ? w->opt->baked_values[n->id] : n->data;
    return lb_buf(&w->b, (LBuf){.base = LB_CONST, .name = arena_printf(w->arena, "c%d", n->id),
                                .note = arena_printf(w->arena, "%%%d %s", lw_number(w, n),
                                                     shape_text(w->arena, n->shape)),
                                .data = v, .count = (long)shape_numel(n->shape),
                                .round = v != n->data && !w->opt->f64});
}

static int scratch_buf(Lw *w, const IrNode *n, CgStore store) {
    const CgNodePlan *np = &w->plan->node[n->id];
    Arena *a = w->arena;
    const char *what = ir_ops[n->op].name, *shape = shape_text(a, n->shape);
    if (store == CG_ST_ROWS)
        return lb_buf(&w->b, (LBuf){.base = LB_SCRATCH, .offset = w->plan->fixed + np->pos,
                                    .name = arena_printf(a, "a%d", n->id),
                                    .note = arena_printf(a, "%%%d %s %s, row r at + r * %ld", lw_number(w, n), what,
                                                         shape, w->plan->per_row)});
    return lb_buf(&w->b, (LBuf){.base = LB_SCRATCH, .offset = np->pos, .name = arena_printf(a, "u%d", n->id),
                                .note = arena_printf(a, "%%%d %s %s", lw_number(w, n), what, shape)});
}

static int transposed_buf(Lw *w, const IrNode *mm) {
    if (w->tbuf_of[mm->id] < 0) {
        const Shape s = mm->in[0]->shape;
        w->tbuf_of[mm->id] = lb_buf(&w->b, (LBuf){.base = LB_SCRATCH, .offset = w->plan->node[mm->id].tpos,
                                                  .name = arena_printf(w->arena, "t%d", mm->id),
                                                  .note = arena_printf(w->arena, "%%%d's left operand transposed, [%d, %d]",
                                                                       lw_number(w, mm), s.dim[1], s.dim[0])});
    }
    return w->tbuf_of[mm->id];
}

static int storage(Lw *w, CgStore store, int base) {
    const IrNode *n = w->f->nodes.items[base];
    switch (store) {
    case CG_ST_GRADS: return lw_grad_buf(w, n->param);
    case CG_ST_STATE: return lw_state_buf(w, n->param, n->axis);
    case CG_ST_PARAMS: return lw_param_buf(w, n->param);
    case CG_ST_INPUT: return lw_arg_buf(w, LB_X);
    case CG_ST_TARGET: return lw_arg_buf(w, LB_T);
    case CG_ST_TRANSPOSED: return transposed_buf(w, n);
    default: break;
    }
    if (w->buf_of[base] >= 0) return w->buf_of[base];
    int b;
    switch (store) {
    case CG_ST_CONST: b = const_buf(w, n); break;
    case CG_ST_ROWS: case CG_ST_FIXED: b = scratch_buf(w, n, store); break;
    default: die("node %d has no storage", base);
    }
    return w->buf_of[base] = b;
}

int lw_ref(Lw *w, const CgAccess *at, Shape s, const LIdx *c, LIdx *out) {
    LIdx idx = lidx_const(at->offset);
    if (at->row_stride) {
        LIdx row = lidx_add(lidx_var(LV_R), lidx_const(w->row_offset));
        idx = lidx_add(idx, lidx_scale(row, at->row_stride));
    }
    if (w->flat && shape_numel(s) > 1) idx = lidx_add(idx, c[0]);
    for (int d = 0; d < s.rank && !w->flat; d++) idx = lidx_add(idx, lidx_scale(c[d], at->stride[d]));
    *out = idx;
    return storage(w, at->store, at->base);
}

LExpr *lw_load(Lw *w, const CgAccess *at, Shape s, const LIdx *c) {
    LIdx idx;
    int b = lw_ref(w, at, s, c, &idx);
    return lx_load(w->arena, b, idx);
}

void lw_store(Lw *w, const CgAccess *at, Shape s, const LIdx *c, LExpr *value) {
    LIdx idx;
    int b = lw_ref(w, at, s, c, &idx);
    lb_store(&w->b, b, idx, value, false);
}

LIdx lw_linear(Shape s, const LIdx *c) {
    LIdx lin = lidx_const(0);
    long stride = 1;
    for (int d = s.rank - 1; d >= 0; d--) {
        lin = lidx_add(lin, lidx_scale(c[d], stride));
        stride *= s.dim[d];
    }
    return lin;
}

LExpr *lw_elem(Lw *w, const IrNode *n, const LIdx *c) {
    if (w->temp[n->id]) return w->temp[n->id];
    const CgNodePlan *np = &w->plan->node[n->id];
    if (np->place != CG_INLINE) return lw_load(w, &np->at, n->shape, c);
    return lw_compute(w, n, c);
}

/* ---- views as index maps ---- */

/* Operand x of n (element-wise or broadcast) at the result's coordinates. */
static LExpr *bcast_elem(Lw *w, const IrNode *x, Shape result, const LIdx *c) {
    if (w->flat) return lw_elem(w, x, c); /* same shape, or one element */
    LIdx xc[IR_MAX_RANK];
    for (int d = 0; d < x->shape.rank; d++) xc[d] = lidx_const(0);
    for (int d = 0; d < result.rank; d++) {
        int a = cg_bcast_axis(x->shape, result, d);
        if (a >= 0) xc[a] = c[d];
    }
    return lw_elem(w, x, xc);
}

static LExpr *view_elem(Lw *w, const IrNode *n, const LIdx *c) {
    const IrNode *x = n->in[0];
    LIdx xc[IR_MAX_RANK];
    switch (n->op) {
    case OP_TRANSPOSE:
        for (int d = 0; d < x->shape.rank; d++) xc[d] = c[x->shape.rank - 1 - d];
        return lw_elem(w, x, xc);
    case OP_BROADCAST:
        return bcast_elem(w, x, n->shape, c);
    case OP_SLICE:
        for (int d = 0, o = 0; d < x->shape.rank; d++) {
            bool sliced = d < n->slice.rank, drop = sliced && (n->slice.drop >> d & 1u);
            LIdx start = lidx_const(sliced ? n->slice.start[d] : 0);
            xc[d] = drop ? start : lidx_add(c[o++], start);
        }
        return lw_elem(w, x, xc);
    case OP_RESHAPE:
        /* Inlined through a reshape (plan.c): axes of size 1 added or
        ** removed, or a literal, which is the same at every element. */
        for (int d = 0; d < x->shape.rank; d++) {
            int a = cg_squeeze(x->shape, n->shape) ? cg_squeeze_axis(x->shape, n->shape, d) : -1;
            xc[d] = a >= 0 ? c[a] : lidx_const(0);
        }
        return lw_elem(w, x, xc);
    default: /* DROPOUT with dropout off */
        return lw_elem(w, x, c);
    }
}

/* ---- formulas ---- */

static LOp scalar_op(const IrNode *n) {
    switch (n->op) {
    case OP_NEG: return LOP_NEG;
    case OP_EXP: return LOP_EXP;
    case OP_LOG: return LOP_LOG;
    case OP_SQRT: return LOP_SQRT;
    case OP_ABS: return LOP_ABS;
    case OP_TANH: return LOP_TANH;
    case OP_ERF: return LOP_ERF;
    case OP_SQUARE: return LOP_SQUARE;
    case OP_STEP: return LOP_STEP;
    case OP_RELU: return LOP_RELU;
    case OP_SELU: return LOP_SELU;
    case OP_SIGMOID: return LOP_SIGMOID;
    case OP_SOFTPLUS: return LOP_SOFTPLUS;
    case OP_SOFTSIGN: return LOP_SOFTSIGN;
    case OP_SWISH: return LOP_SWISH;
    case OP_GELU: return LOP_GELU;
    case OP_SIGN: return LOP_SIGN;
    case OP_LEAKY_RELU: return LOP_LEAKY_RELU;
    case OP_ELU: return LOP_ELU;
    case OP_ADD: return LOP_ADD;
    case OP_SUB: return LOP_SUB;
    case OP_MUL: return LOP_MUL;
    case OP_DIV: return LOP_DIV;
    case OP_POW: return LOP_POW;
    case OP_GT: return LOP_GT;
    case OP_GE: return LOP_GE;
    case OP_EQ: return LOP_EQ;
    case OP_DIVNZ: return LOP_DIVNZ;
    case OP_MINIMUM: return LOP_MINIMUM;
    case OP_MAXIMUM: return LOP_MAXIMUM;
    case OP_SELECT: return LOP_SELECT;
    default: die("no scalar formula for %s", ir_ops[n->op].name);
    }
}

static LExpr *elementwise(Lw *w, const IrNode *n, const LIdx *c) {
    LExpr *arg[3] = {NULL, NULL, NULL};
    for (int i = 0; i < n->nin; i++) arg[i] = bcast_elem(w, n->in[i], n->shape, c);
    return lx_op(w->arena, scalar_op(n), n->value, arg[0], arg[1], arg[2]);
}

/* u = nnc_uniform(seed, first_row + r, number << 32 | element) (ops.def). */
static LExpr *mask(Lw *w, const IrNode *n, const LIdx *c) {
    LExpr *e = lx_const(w->arena, n->value);
    e->kind = LX_MASK;
    e->row = w->row_offset;
    e->stream = n->axis;
    e->idx = lw_linear(n->shape, c);
    w->lk->uses_seed = true;
    return e;
}

LExpr *lw_compute(Lw *w, const IrNode *n, const LIdx *c) {
    Arena *a = w->arena;
    switch (n->op) {
    case OP_CONST:
        if (n->data) return lw_load(w, &w->plan->node[n->id].at, n->shape, c);
        return lx_const(a, n->value);
    case OP_HYPER:
        if (n->axis == HYPER_LEARNING_RATE) w->lk->uses_lr = true;
        else w->lk->uses_step = true;
        return lx_arg(a, n->axis == HYPER_LEARNING_RATE ? LA_LR : LA_STEP);
    case OP_TRANSPOSE: case OP_BROADCAST: case OP_SLICE: case OP_RESHAPE: case OP_DROPOUT:
        if (n->op == OP_DROPOUT && w->plan->kind == CG_TRAIN)
            die("dropout in a training function: train.c lowers it to a mask");
        return view_elem(w, n, c);
    case OP_OUTER:
        return lx_op(a, LOP_MUL, 0, lw_elem(w, n->in[0], &c[0]), lw_elem(w, n->in[1], &c[1]), NULL);
    case OP_ONE_HOT: {
        LExpr *e = lx_op(a, LOP_EQ, 0, lw_elem(w, n->in[0], NULL), NULL, NULL);
        e->kind = LX_ONE_HOT;
        e->idx = c[0];
        return e;
    }
    case OP_DROPOUT_MASK:
        return mask(w, n, c);
    default:
        if (ir_ops[n->op].flags & OPF_EW) return elementwise(w, n, c);
        die("%s cannot be computed element by element", ir_ops[n->op].name);
    }
}
