/*
** expr.c — the value of a node at one element, as C text: a read of its
** storage, or its formula over its operands' values (inlined chains), with
** NumPy broadcasting and the view ops turned into index arithmetic.
*/
#include "cgen.h"

#include <string.h>

/* ---- storage ---- */

const char *cg_c_ptr_name(CgKernel *k, CgStore store, int base) {
    Arena *a = k->file->arena;
    const IrNode *n = k->f->nodes.items[base];
    switch (store) {
    case CG_ST_PARAMS: return arena_printf(a, k->file->infer ? "w%d" : "p%d", n->param);
    case CG_ST_GRADS: return arena_printf(a, "g%d", n->param);
    case CG_ST_STATE: return arena_printf(a, "s%d_%d", n->param, n->axis);
    case CG_ST_INPUT: return "x";
    case CG_ST_TARGET: return "t";
    case CG_ST_ROWS: return arena_printf(a, "a%d", base);
    case CG_ST_FIXED: return arena_printf(a, "u%d", base);
    case CG_ST_CONST: return arena_printf(a, "c%d", base);
    case CG_ST_TRANSPOSED: return arena_printf(a, "t%d", base);
    default: die("node %d has no storage", base);
    }
}

const char *cg_c_ref(CgKernel *k, const CgAccess *at, Shape s, const CgAff *c) {
    CgAff idx = cg_aff_const(at->offset);
    if (at->row_stride) {
        CgAff row = cg_aff_add(cg_aff_var(CG_V_R), cg_aff_const(k->row_offset));
        idx = cg_aff_add(idx, cg_aff_scale(row, at->row_stride));
    }
    if (k->flat && shape_numel(s) > 1) idx = cg_aff_add(idx, c[0]);
    for (int d = 0; d < s.rank && !k->flat; d++) idx = cg_aff_add(idx, cg_aff_scale(c[d], at->stride[d]));
    if (at->store != CG_ST_TRANSPOSED) k->ptr_used[at->base] = true;
    return arena_printf(k->file->arena, "%s[%s]", cg_c_ptr_name(k, at->store, at->base),
                        cg_aff_text(k->file->arena, idx));
}

const char *cg_c_elem(CgKernel *k, const IrNode *n, const CgAff *c) {
    if (k->temp && k->temp[n->id]) return k->temp[n->id];
    const CgNodePlan *np = &k->plan->node[n->id];
    if (np->place != CG_INLINE) return cg_c_ref(k, &np->at, n->shape, c);
    return cg_c_compute(k, n, c);
}

/* ---- views as index maps ---- */

/* Operand x of n (element-wise or broadcast) at the result's coordinates. */
static const char *bcast_elem(CgKernel *k, const IrNode *x, Shape result, const CgAff *c) {
    if (k->flat) return cg_c_elem(k, x, c); /* same shape, or one element */
    CgAff xc[IR_MAX_RANK];
    for (int d = 0; d < x->shape.rank; d++) xc[d] = cg_aff_const(0);
    for (int d = 0; d < result.rank; d++) {
        int a = cg_bcast_axis(x->shape, result, d);
        if (a >= 0) xc[a] = c[d];
    }
    return cg_c_elem(k, x, xc);
}

static const char *view_elem(CgKernel *k, const IrNode *n, const CgAff *c) {
    const IrNode *x = n->in[0];
    CgAff xc[IR_MAX_RANK];
    switch (n->op) {
    case OP_TRANSPOSE:
        for (int d = 0; d < x->shape.rank; d++) xc[d] = c[x->shape.rank - 1 - d];
        return cg_c_elem(k, x, xc);
    case OP_BROADCAST:
        return bcast_elem(k, x, n->shape, c);
    case OP_SLICE:
        for (int d = 0, o = 0; d < x->shape.rank; d++) {
            bool sliced = d < n->slice.rank, drop = sliced && (n->slice.drop >> d & 1u);
            CgAff start = cg_aff_const(sliced ? n->slice.start[d] : 0);
            xc[d] = drop ? start : cg_aff_add(c[o++], start);
        }
        return cg_c_elem(k, x, xc);
    case OP_RESHAPE:
        /* Inlined through a reshape (plan.c): axes of size 1 added or
        ** removed, or a literal, which is the same at every element. */
        for (int d = 0; d < x->shape.rank; d++) {
            int a = cg_squeeze(x->shape, n->shape) ? cg_squeeze_axis(x->shape, n->shape, d) : -1;
            xc[d] = a >= 0 ? c[a] : cg_aff_const(0);
        }
        return cg_c_elem(k, x, xc);
    default: /* DROPOUT with dropout off */
        return cg_c_elem(k, x, c);
    }
}

/* ---- formulas ---- */

static const char *call1(CgKernel *k, CgHelper h, const char *fn, const char *a) {
    k->file->helpers |= 1u << h;
    return arena_printf(k->file->arena, "%s(%s)", fn, a);
}

static const char *unary(CgKernel *k, const IrNode *n, const char *a) {
    Arena *ar = k->file->arena;
    switch (n->op) {
    case OP_NEG: return arena_printf(ar, "(-%s)", a);
    case OP_EXP: return arena_printf(ar, "NNC_EXP(%s)", a);
    case OP_LOG: return arena_printf(ar, "NNC_LOG(%s)", a);
    case OP_SQRT: return arena_printf(ar, "NNC_SQRT(%s)", a);
    case OP_ABS: return arena_printf(ar, "NNC_FABS(%s)", a);
    case OP_TANH: return arena_printf(ar, "NNC_TANH(%s)", a);
    case OP_ERF: return arena_printf(ar, "NNC_ERF(%s)", a);
    case OP_SQUARE: return call1(k, H_SQ, "nnc_sq", a);
    case OP_STEP: return call1(k, H_STEP, "nnc_step", a);
    case OP_RELU: return call1(k, H_RELU, "nnc_relu", a);
    case OP_SELU: return call1(k, H_SELU, "nnc_selu", a);
    case OP_SIGMOID: return call1(k, H_SIGMOID, "nnc_sigmoid", a);
    case OP_SOFTPLUS: return call1(k, H_SOFTPLUS, "nnc_softplus", a);
    case OP_SOFTSIGN: return call1(k, H_SOFTSIGN, "nnc_softsign", a);
    case OP_SWISH: return call1(k, H_SWISH, "nnc_swish", a);
    case OP_GELU: return call1(k, H_GELU, "nnc_gelu", a);
    case OP_SIGN: return call1(k, H_SIGN, "nnc_sign", a);
    case OP_LEAKY_RELU:
        k->file->helpers |= 1u << H_LEAKY;
        return arena_printf(ar, "nnc_leaky_relu(%s, %s)", a, cg_c_real(ar, n->value));
    case OP_ELU:
        k->file->helpers |= 1u << H_ELU;
        return arena_printf(ar, "nnc_elu(%s, %s)", a, cg_c_real(ar, n->value));
    default: die("no C formula for %s", ir_ops[n->op].name);
    }
}

static const char *binary(CgKernel *k, const IrNode *n, const char *a, const char *b) {
    Arena *ar = k->file->arena;
    switch (n->op) {
    case OP_ADD: return arena_printf(ar, "(%s + %s)", a, b);
    case OP_SUB: return arena_printf(ar, "(%s - %s)", a, b);
    case OP_MUL: return arena_printf(ar, "(%s * %s)", a, b);
    case OP_DIV: return arena_printf(ar, "(%s / %s)", a, b);
    case OP_POW: return arena_printf(ar, "NNC_POW(%s, %s)", a, b);
    case OP_GT: return arena_printf(ar, "(%s > %s ? (nnc_real)1 : (nnc_real)0)", a, b);
    case OP_GE: return arena_printf(ar, "(%s >= %s ? (nnc_real)1 : (nnc_real)0)", a, b);
    case OP_EQ: return arena_printf(ar, "(%s == %s ? (nnc_real)1 : (nnc_real)0)", a, b);
    case OP_DIVNZ: k->file->helpers |= 1u << H_DIVNZ; return arena_printf(ar, "nnc_divnz(%s, %s)", a, b);
    case OP_MINIMUM: k->file->helpers |= 1u << H_MIN; return arena_printf(ar, "nnc_min(%s, %s)", a, b);
    case OP_MAXIMUM: k->file->helpers |= 1u << H_MAX; return arena_printf(ar, "nnc_max(%s, %s)", a, b);
    default: die("no C formula for %s", ir_ops[n->op].name);
    }
}

static const char *elementwise(CgKernel *k, const IrNode *n, const CgAff *c) {
    const char *arg[IR_MAX_IN];
    for (int i = 0; i < n->nin; i++) arg[i] = bcast_elem(k, n->in[i], n->shape, c);
    if (n->nin == 1) return unary(k, n, arg[0]);
    if (n->nin == 2) return binary(k, n, arg[0], arg[1]);
    return arena_printf(k->file->arena, "(%s != 0 ? %s : %s)", arg[0], arg[1], arg[2]);
}

/* u = nnc_uniform(seed, first_row + r, number << 32 | element) (ops.def). */
static const char *mask(CgKernel *k, const IrNode *n, const CgAff *c) {
    Arena *a = k->file->arena;
    k->file->helpers |= 1u << H_MASK;
    k->uses_seed = true;
    CgAff lin = cg_c_linear_aff(n->shape, c);
    const char *row = k->row_offset ? arena_printf(a, "(uint64_t)(r + %d)", k->row_offset) : "(uint64_t)r";
    return arena_printf(a, "nnc_mask(seed, first_row + %s, ((uint64_t)%d << 32) | (uint64_t)(%s), %s, %s)", row,
                        n->axis, cg_aff_text(a, lin), cg_c_double(a, n->value),
                        cg_c_real(a, 1.0 / (1.0 - n->value)));
}

const char *cg_c_compute(CgKernel *k, const IrNode *n, const CgAff *c) {
    Arena *a = k->file->arena;
    switch (n->op) {
    case OP_CONST:
        if (n->data) return cg_c_ref(k, &k->plan->node[n->id].at, n->shape, c);
        return cg_c_real(a, n->value);
    case OP_HYPER:
        return n->axis == HYPER_LEARNING_RATE ? "lr" : "step_r";
    case OP_TRANSPOSE: case OP_BROADCAST: case OP_SLICE: case OP_RESHAPE: case OP_DROPOUT:
        if (n->op == OP_DROPOUT && k->plan->kind == CG_TRAIN)
            die("dropout in a training function: train.c lowers it to a mask");
        return view_elem(k, n, c);
    case OP_OUTER: {
        const char *x = cg_c_elem(k, n->in[0], &c[0]);
        const char *y = cg_c_elem(k, n->in[1], &c[1]);
        return arena_printf(a, "(%s * %s)", x, y);
    }
    case OP_ONE_HOT: {
        const char *cls = cg_c_elem(k, n->in[0], NULL);
        return arena_printf(a, "((long)%s == %s ? (nnc_real)1 : (nnc_real)0)", cls, cg_aff_text(a, c[0]));
    }
    case OP_DROPOUT_MASK:
        return mask(k, n, c);
    default:
        if (ir_ops[n->op].flags & OPF_EW) return elementwise(k, n, c);
        die("%s cannot be computed element by element", ir_ops[n->op].name);
    }
}
