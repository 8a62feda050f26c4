/*
** expr.c — the value of a node at one element, as LLVM instructions: a
** load from its storage, or its formula over its operands' values (inlined
** chains), with NumPy broadcasting and the view ops as index arithmetic.
** The C backend's expr.c and helpers.c, operation for operation: the same
** comparisons (ordered, as C's), the same libm calls, the same order of
** every addition and multiplication, no fast-math flag anywhere.
*/
#include "llgen.h"

/* ---- index arithmetic (constants fold as the builder goes) ---- */

LLVMValueRef ll_add(LlKernel *k, LLVMValueRef a, LLVMValueRef b) {
    return LLVMBuildNSWAdd(k->b, a, b, "");
}

LLVMValueRef ll_mul(LlKernel *k, LLVMValueRef a, long m) {
    if (m == 1) return a;
    return LLVMBuildNSWMul(k->b, a, ll_i64(k->file, m), "");
}

LLVMValueRef ll_linear(LlKernel *k, Shape s, LLVMValueRef *c) {
    LLVMValueRef lin = ll_i64(k->file, 0);
    long stride = 1;
    for (int d = s.rank - 1; d >= 0; d--) {
        if (s.dim[d] > 1) lin = ll_add(k, lin, ll_mul(k, c[d], stride));
        stride *= s.dim[d];
    }
    return lin;
}

LLVMValueRef ll_load(LlKernel *k, LLVMValueRef addr) {
    return LLVMBuildLoad2(k->b, LLVMGetElementType(LLVMTypeOf(addr)), addr, "");
}

void ll_store(LlKernel *k, LLVMValueRef value, LLVMValueRef addr) {
    LLVMBuildStore(k->b, value, addr);
}

/* ---- storage ---- */

static LLVMValueRef base_pointer(LlKernel *k, CgStore store, int base) {
    const IrNode *n = k->f->nodes.items[base];
    LLVMValueRef p = NULL;
    switch (store) {
    case CG_ST_PARAMS: p = k->param[n->param]; break;
    case CG_ST_GRADS: p = k->grad[n->param]; break;
    case CG_ST_STATE: p = k->state[4 * n->param + n->axis]; break;
    case CG_ST_INPUT: p = k->x; break;
    case CG_ST_TARGET: p = k->t; break;
    case CG_ST_ROWS: case CG_ST_FIXED: case CG_ST_CONST: p = k->store[base]; break;
    case CG_ST_TRANSPOSED: p = k->tstore[base]; break;
    default: break;
    }
    if (!p) die("node %d has no storage (store %d) in %s", base, (int)store, k->f->name);
    return p;
}

static LLVMValueRef row_index(LlKernel *k) {
    if (!k->r) die("a per-row value read outside the row loop in %s", k->f->name);
    return k->row_offset ? ll_add(k, k->r, ll_i64(k->file, k->row_offset)) : k->r;
}

LLVMValueRef ll_ref(LlKernel *k, const CgAccess *at, Shape s, LLVMValueRef *c) {
    LLVMValueRef idx = ll_i64(k->file, at->offset);
    if (at->row_stride) idx = ll_add(k, idx, ll_mul(k, row_index(k), at->row_stride));
    if (k->flat && shape_numel(s) > 1) idx = ll_add(k, idx, c[0]);
    for (int d = 0; d < s.rank && !k->flat; d++)
        if (at->stride[d] && s.dim[d] > 1) idx = ll_add(k, idx, ll_mul(k, c[d], at->stride[d]));
    LLVMValueRef p = base_pointer(k, at->store, at->base);
    return LLVMBuildInBoundsGEP2(k->b, LLVMGetElementType(LLVMTypeOf(p)), p, &idx, 1, "");
}

LLVMValueRef ll_elem(LlKernel *k, const IrNode *n, LLVMValueRef *c) {
    if (k->temp && k->temp[n->id]) return k->temp[n->id];
    const CgNodePlan *np = &k->plan->node[n->id];
    if (np->place != CG_INLINE) return ll_load(k, ll_ref(k, &np->at, n->shape, c));
    return ll_compute(k, n, c);
}

/* ---- views as index maps ---- */

static LLVMValueRef zero(LlKernel *k) {
    return ll_i64(k->file, 0);
}

static LLVMValueRef bcast_elem(LlKernel *k, const IrNode *x, Shape result, LLVMValueRef *c) {
    if (k->flat) return ll_elem(k, x, c);
    LLVMValueRef xc[IR_MAX_RANK];
    for (int d = 0; d < x->shape.rank; d++) xc[d] = zero(k);
    for (int d = 0; d < result.rank; d++) {
        int a = cg_bcast_axis(x->shape, result, d);
        if (a >= 0) xc[a] = c[d];
    }
    return ll_elem(k, x, xc);
}

static LLVMValueRef view_elem(LlKernel *k, const IrNode *n, LLVMValueRef *c) {
    const IrNode *x = n->in[0];
    LLVMValueRef xc[IR_MAX_RANK];
    switch (n->op) {
    case OP_TRANSPOSE:
        for (int d = 0; d < x->shape.rank; d++) xc[d] = c[x->shape.rank - 1 - d];
        return ll_elem(k, x, xc);
    case OP_BROADCAST:
        return bcast_elem(k, x, n->shape, c);
    case OP_SLICE:
        for (int d = 0, o = 0; d < x->shape.rank; d++) {
            bool sliced = d < n->slice.rank, drop = sliced && (n->slice.drop >> d & 1u);
            LLVMValueRef start = ll_i64(k->file, sliced ? n->slice.start[d] : 0);
            xc[d] = drop ? start : ll_add(k, c[o++], start);
        }
        return ll_elem(k, x, xc);
    case OP_RESHAPE:
        /* Axes of size 1 added or removed, or a literal (plan.c). */
        for (int d = 0; d < x->shape.rank; d++) {
            int a = cg_squeeze(x->shape, n->shape) ? cg_squeeze_axis(x->shape, n->shape, d) : -1;
            xc[d] = a >= 0 ? c[a] : zero(k);
        }
        return ll_elem(k, x, xc);
    default: /* DROPOUT with dropout off */
        return ll_elem(k, x, c);
    }
}

/* ---- helpers.c's scalar functions ---- */

static LLVMValueRef call(LlKernel *k, LlFn fn, LLVMValueRef a, LLVMValueRef b) {
    LLVMValueRef f = ll_fn(k->file, fn), args[2] = {a, b};
    return LLVMBuildCall2(k->b, LLVMGetElementType(LLVMTypeOf(f)), f, args, b ? 2 : 1, "");
}

LLVMValueRef ll_call1(LlKernel *k, LlFn fn, LLVMValueRef a) {
    return call(k, fn, a, NULL);
}

static LLVMValueRef real(LlKernel *k, double v) {
    return ll_real(k->file, v);
}

static LLVMValueRef cmp(LlKernel *k, LLVMRealPredicate p, LLVMValueRef a, LLVMValueRef b) {
    return LLVMBuildFCmp(k->b, p, a, b, "");
}

static LLVMValueRef sel(LlKernel *k, LLVMValueRef c, LLVMValueRef a, LLVMValueRef b) {
    return LLVMBuildSelect(k->b, c, a, b, "");
}

#define FADD(x, y) LLVMBuildFAdd(k->b, (x), (y), "")
#define FSUB(x, y) LLVMBuildFSub(k->b, (x), (y), "")
#define FMUL(x, y) LLVMBuildFMul(k->b, (x), (y), "")
#define FDIV(x, y) LLVMBuildFDiv(k->b, (x), (y), "")

/* e^-|x|: the stable sigmoid's one exponential. */
static LLVMValueRef exp_neg_abs(LlKernel *k, LLVMValueRef x) {
    return call(k, LL_EXP, LLVMBuildFNeg(k->b, call(k, LL_FABS, x, NULL), ""), NULL);
}

/* x >= 0 ? 1 / (1 + e) : e / (1 + e) */
static LLVMValueRef sigmoid(LlKernel *k, LLVMValueRef x) {
    LLVMValueRef e = exp_neg_abs(k, x), one = real(k, 1), den = FADD(one, e);
    return sel(k, cmp(k, LLVMRealOGE, x, real(k, 0)), FDIV(one, den), FDIV(e, den));
}

/* x > 0 ? x : alpha * expm1(x) */
static LLVMValueRef elu(LlKernel *k, LLVMValueRef x, LLVMValueRef alpha) {
    return sel(k, cmp(k, LLVMRealOGT, x, real(k, 0)), x, FMUL(alpha, call(k, LL_EXPM1, x, NULL)));
}

static LLVMValueRef sign(LlKernel *k, LLVMValueRef x) {
    LLVMTypeRef i32 = k->file->i32;
    LLVMValueRef pos = LLVMBuildZExt(k->b, cmp(k, LLVMRealOGT, x, real(k, 0)), i32, "");
    LLVMValueRef neg = LLVMBuildZExt(k->b, cmp(k, LLVMRealOLT, x, real(k, 0)), i32, "");
    return LLVMBuildSIToFP(k->b, LLVMBuildSub(k->b, pos, neg, ""), k->file->real, "");
}

/* NumPy's minimum and maximum: a NaN a wins (a != a || a < b ? a : b). */
static LLVMValueRef min_max(LlKernel *k, LLVMValueRef a, LLVMValueRef b, bool max) {
    LLVMValueRef nan = cmp(k, LLVMRealUNE, a, a), lt = cmp(k, max ? LLVMRealOGT : LLVMRealOLT, a, b);
    return sel(k, LLVMBuildOr(k->b, nan, lt, ""), a, b);
}

LLVMValueRef ll_max(LlKernel *k, LLVMValueRef a, LLVMValueRef b) {
    return min_max(k, a, b, true);
}

static LLVMValueRef unary_more(LlKernel *k, const IrNode *n, LLVMValueRef a) {
    LLVMValueRef zero_r = real(k, 0), one = real(k, 1);
    switch (n->op) {
    case OP_SOFTPLUS: /* (x > 0 ? x : 0) + log1p(e^-|x|) */
        return FADD(sel(k, cmp(k, LLVMRealOGT, a, zero_r), a, zero_r), call(k, LL_LOG1P, exp_neg_abs(k, a), NULL));
    case OP_SOFTSIGN:
        return FDIV(a, FADD(one, call(k, LL_FABS, a, NULL)));
    case OP_SWISH: {
        LLVMValueRef e = exp_neg_abs(k, a), den = FADD(one, e);
        return FMUL(a, sel(k, cmp(k, LLVMRealOGE, a, zero_r), FDIV(one, den), FDIV(e, den)));
    }
    case OP_GELU: /* 0.5 * x * (1 + erf(x * 0.70710678118654752)) */
        return FMUL(FMUL(real(k, 0.5), a), FADD(one, call(k, LL_ERF, FMUL(a, real(k, 0.70710678118654752)), NULL)));
    case OP_SIGN:
        return sign(k, a);
    case OP_LEAKY_RELU:
        return sel(k, cmp(k, LLVMRealOGE, a, zero_r), a, FMUL(real(k, n->value), a));
    case OP_ELU:
        return elu(k, a, real(k, n->value));
    case OP_SELU:
        return FMUL(real(k, 1.0507009873554805), elu(k, a, real(k, 1.6732632423543772)));
    default: die("no LLVM formula for %s", ir_ops[n->op].name);
    }
}

static LLVMValueRef unary(LlKernel *k, const IrNode *n, LLVMValueRef a) {
    LLVMValueRef zero_r = real(k, 0), one = real(k, 1);
    switch (n->op) {
    case OP_NEG: return LLVMBuildFNeg(k->b, a, "");
    case OP_EXP: return call(k, LL_EXP, a, NULL);
    case OP_LOG: return call(k, LL_LOG, a, NULL);
    case OP_SQRT: return call(k, LL_SQRT, a, NULL);
    case OP_ABS: return call(k, LL_FABS, a, NULL);
    case OP_TANH: return call(k, LL_TANH, a, NULL);
    case OP_ERF: return call(k, LL_ERF, a, NULL);
    case OP_SQUARE: return FMUL(a, a);
    case OP_STEP: return sel(k, cmp(k, LLVMRealOGE, a, zero_r), one, zero_r);
    case OP_RELU: return sel(k, cmp(k, LLVMRealOGT, a, zero_r), a, zero_r);
    case OP_SIGMOID: return sigmoid(k, a);
    default: return unary_more(k, n, a);
    }
}

static LLVMValueRef boolean(LlKernel *k, LLVMValueRef c) {
    return sel(k, c, real(k, 1), real(k, 0));
}

static LLVMValueRef binary(LlKernel *k, const IrNode *n, LLVMValueRef a, LLVMValueRef b) {
    switch (n->op) {
    case OP_ADD: return FADD(a, b);
    case OP_SUB: return FSUB(a, b);
    case OP_MUL: return FMUL(a, b);
    case OP_DIV: return FDIV(a, b);
    case OP_POW: return call(k, LL_POW, a, b);
    case OP_GT: return boolean(k, cmp(k, LLVMRealOGT, a, b));
    case OP_GE: return boolean(k, cmp(k, LLVMRealOGE, a, b));
    case OP_EQ: return boolean(k, cmp(k, LLVMRealOEQ, a, b));
    case OP_DIVNZ: return sel(k, cmp(k, LLVMRealOEQ, b, real(k, 0)), real(k, 0), FDIV(a, b));
    case OP_MINIMUM: return min_max(k, a, b, false);
    case OP_MAXIMUM: return min_max(k, a, b, true);
    default: die("no LLVM formula for %s", ir_ops[n->op].name);
    }
}

static LLVMValueRef elementwise(LlKernel *k, const IrNode *n, LLVMValueRef *c) {
    LLVMValueRef arg[IR_MAX_IN];
    for (int i = 0; i < n->nin; i++) arg[i] = bcast_elem(k, n->in[i], n->shape, c);
    if (n->nin == 1) return unary(k, n, arg[0]);
    if (n->nin == 2) return binary(k, n, arg[0], arg[1]);
    return sel(k, cmp(k, LLVMRealUNE, arg[0], real(k, 0)), arg[1], arg[2]);
}

/* u = nnc_uniform(seed, first_row + r, number << 32 | element) (ops.def);
** u >= rate ? 1 / (1 - rate) : 0, the comparison in double as in C. */
static LLVMValueRef mask(LlKernel *k, const IrNode *n, LLVMValueRef *c) {
    LlFile *lf = k->file;
    LLVMValueRef row = ll_add(k, k->first_row, row_index(k));
    LLVMValueRef counter = LLVMBuildOr(k->b, ll_i64(lf, (long)((unsigned long)n->axis << 32)),
                                       ll_linear(k, n->shape, c), "");
    LLVMValueRef f = ll_fn(lf, LL_UNIFORM), args[3] = {k->seed, row, counter};
    LLVMValueRef u = LLVMBuildCall2(k->b, LLVMGetElementType(LLVMTypeOf(f)), f, args, 3, "u");
    LLVMValueRef keep = LLVMBuildFCmp(k->b, LLVMRealOGE, u, LLVMConstReal(lf->dbl, n->value), "");
    return sel(k, keep, real(k, 1.0 / (1.0 - n->value)), real(k, 0));
}

/* (long)class == c ? 1 : 0 */
static LLVMValueRef one_hot(LlKernel *k, const IrNode *n, LLVMValueRef *c) {
    LLVMValueRef cls = LLVMBuildFPToSI(k->b, ll_elem(k, n->in[0], NULL), k->file->i64, "");
    return boolean(k, LLVMBuildICmp(k->b, LLVMIntEQ, cls, c[0], ""));
}

LLVMValueRef ll_compute(LlKernel *k, const IrNode *n, LLVMValueRef *c) {
    switch (n->op) {
    case OP_CONST:
        if (n->data) return ll_load(k, ll_ref(k, &k->plan->node[n->id].at, n->shape, c));
        return real(k, n->value);
    case OP_HYPER:
        return n->axis == HYPER_LEARNING_RATE ? k->lr : k->step_r;
    case OP_TRANSPOSE: case OP_BROADCAST: case OP_SLICE: case OP_RESHAPE: case OP_DROPOUT:
        if (n->op == OP_DROPOUT && k->plan->kind == CG_TRAIN)
            die("dropout in a training function: train.c lowers it to a mask");
        return view_elem(k, n, c);
    case OP_OUTER:
        return FMUL(ll_elem(k, n->in[0], &c[0]), ll_elem(k, n->in[1], &c[1]));
    case OP_ONE_HOT:
        return one_hot(k, n, c);
    case OP_DROPOUT_MASK:
        return mask(k, n, c);
    default:
        if (ir_ops[n->op].flags & OPF_EW) return elementwise(k, n, c);
        die("%s cannot be computed element by element", ir_ops[n->op].name);
    }
}
