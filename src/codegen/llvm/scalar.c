/*
** scalar.c — the loop IR's scalar formulas (LOp) as LLVM instructions: the
** C backend's helpers operation for operation — the same comparisons
** (ordered, as C's), the same libm calls, the same order of every addition
** and multiplication, no fast-math flag anywhere — so both backends agree
** bit for bit where they run the same libm.
*/
#include "llgen.h"

typedef struct Sc {
    LlFile *lf;
    LLVMBuilderRef b;
} Sc;

static LLVMValueRef call(Sc *s, LlFn fn, LLVMValueRef a, LLVMValueRef b) {
    LLVMValueRef f = ll_fn(s->lf, fn), args[2] = {a, b};
    return LLVMBuildCall2(s->b, LLVMGetElementType(LLVMTypeOf(f)), f, args, b ? 2 : 1, "");
}

static LLVMValueRef real(Sc *s, double v) {
    return ll_real(s->lf, v);
}

static LLVMValueRef cmp(Sc *s, LLVMRealPredicate p, LLVMValueRef a, LLVMValueRef b) {
    return LLVMBuildFCmp(s->b, p, a, b, "");
}

static LLVMValueRef sel(Sc *s, LLVMValueRef c, LLVMValueRef a, LLVMValueRef b) {
    return LLVMBuildSelect(s->b, c, a, b, "");
}

#define FADD(x, y) LLVMBuildFAdd(s->b, (x), (y), "")
#define FMUL(x, y) LLVMBuildFMul(s->b, (x), (y), "")
#define FDIV(x, y) LLVMBuildFDiv(s->b, (x), (y), "")

/* e^-|x|: the stable sigmoid's one exponential. */
static LLVMValueRef exp_neg_abs(Sc *s, LLVMValueRef x) {
    return call(s, LL_EXP, LLVMBuildFNeg(s->b, call(s, LL_FABS, x, NULL), ""), NULL);
}

/* (x >= 0 ? 1 : e) / (1 + e) */
static LLVMValueRef sigmoid(Sc *s, LLVMValueRef x) {
    LLVMValueRef e = exp_neg_abs(s, x), one = real(s, 1);
    return FDIV(sel(s, cmp(s, LLVMRealOGE, x, real(s, 0)), one, e), FADD(one, e));
}

/* x > 0 ? x : alpha * expm1(x) */
static LLVMValueRef elu(Sc *s, LLVMValueRef x, LLVMValueRef alpha) {
    return sel(s, cmp(s, LLVMRealOGT, x, real(s, 0)), x, FMUL(alpha, call(s, LL_EXPM1, x, NULL)));
}

static LLVMValueRef sign(Sc *s, LLVMValueRef x) {
    LLVMTypeRef i32 = s->lf->i32;
    LLVMValueRef pos = LLVMBuildZExt(s->b, cmp(s, LLVMRealOGT, x, real(s, 0)), i32, "");
    LLVMValueRef neg = LLVMBuildZExt(s->b, cmp(s, LLVMRealOLT, x, real(s, 0)), i32, "");
    return LLVMBuildSIToFP(s->b, LLVMBuildSub(s->b, pos, neg, ""), s->lf->real, "");
}

/* NumPy's minimum and maximum: a NaN a wins (a != a || a < b ? a : b). */
static LLVMValueRef min_max(Sc *s, LLVMValueRef a, LLVMValueRef b, bool max) {
    LLVMValueRef nan = cmp(s, LLVMRealUNE, a, a), lt = cmp(s, max ? LLVMRealOGT : LLVMRealOLT, a, b);
    return sel(s, LLVMBuildOr(s->b, nan, lt, ""), a, b);
}

static LLVMValueRef unary_more(Sc *s, LOp op, double value, LLVMValueRef a) {
    LLVMValueRef zero = real(s, 0), one = real(s, 1);
    switch (op) {
    case LOP_SOFTPLUS: /* (x > 0 ? x : 0) + log1p(e^-|x|) */
        return FADD(sel(s, cmp(s, LLVMRealOGT, a, zero), a, zero), call(s, LL_LOG1P, exp_neg_abs(s, a), NULL));
    case LOP_SOFTSIGN:
        return FDIV(a, FADD(one, call(s, LL_FABS, a, NULL)));
    case LOP_SWISH:
        return FMUL(a, sigmoid(s, a));
    case LOP_GELU: /* 0.5 * x * (1 + erf(x * 0.70710678118654752)) */
        return FMUL(FMUL(real(s, 0.5), a), FADD(one, call(s, LL_ERF, FMUL(a, real(s, 0.70710678118654752)), NULL)));
    case LOP_SIGN:
        return sign(s, a);
    case LOP_LEAKY_RELU:
        return sel(s, cmp(s, LLVMRealOGE, a, zero), a, FMUL(real(s, value), a));
    case LOP_ELU:
        return elu(s, a, real(s, value));
    default: /* LOP_SELU */
        return FMUL(real(s, 1.0507009873554805), elu(s, a, real(s, 1.6732632423543772)));
    }
}

static LLVMValueRef unary(Sc *s, LOp op, double value, LLVMValueRef a) {
    LLVMValueRef zero = real(s, 0), one = real(s, 1);
    switch (op) {
    case LOP_NEG: return LLVMBuildFNeg(s->b, a, "");
    case LOP_EXP: return call(s, LL_EXP, a, NULL);
    case LOP_LOG: return call(s, LL_LOG, a, NULL);
    case LOP_SQRT: return call(s, LL_SQRT, a, NULL);
    case LOP_ABS: return call(s, LL_FABS, a, NULL);
    case LOP_TANH: return call(s, LL_TANH, a, NULL);
    case LOP_ERF: return call(s, LL_ERF, a, NULL);
    case LOP_SQUARE: return FMUL(a, a);
    case LOP_STEP: return sel(s, cmp(s, LLVMRealOGE, a, zero), one, zero);
    case LOP_RELU: return sel(s, cmp(s, LLVMRealOGT, a, zero), a, zero);
    case LOP_SIGMOID: return sigmoid(s, a);
    default: return unary_more(s, op, value, a);
    }
}

static LLVMValueRef boolean(Sc *s, LLVMValueRef c) {
    return sel(s, c, real(s, 1), real(s, 0));
}

static LLVMValueRef binary(Sc *s, LOp op, LLVMValueRef a, LLVMValueRef b) {
    switch (op) {
    case LOP_ADD: return FADD(a, b);
    case LOP_SUB: return LLVMBuildFSub(s->b, a, b, "");
    case LOP_MUL: return FMUL(a, b);
    case LOP_DIV: return FDIV(a, b);
    case LOP_POW: return call(s, LL_POW, a, b);
    case LOP_GT: return boolean(s, cmp(s, LLVMRealOGT, a, b));
    case LOP_GE: return boolean(s, cmp(s, LLVMRealOGE, a, b));
    case LOP_EQ: return boolean(s, cmp(s, LLVMRealOEQ, a, b));
    case LOP_DIVNZ: return sel(s, cmp(s, LLVMRealOEQ, b, real(s, 0)), real(s, 0), FDIV(a, b));
    case LOP_MINIMUM: return min_max(s, a, b, false);
    default: return min_max(s, a, b, true); /* LOP_MAXIMUM */
    }
}

LLVMValueRef ll_scalar(LlFile *lf, LLVMBuilderRef b, LOp op, double value, LLVMValueRef *arg) {
    Sc s = {lf, b};
    switch (lop_arity(op)) {
    case 1: return unary(&s, op, value, arg[0]);
    case 2: return binary(&s, op, arg[0], arg[1]);
    default: return sel(&s, cmp(&s, LLVMRealUNE, arg[0], real(&s, 0)), arg[1], arg[2]);
    }
}

/* (long)class == c ? 1 : 0 */
LLVMValueRef ll_one_hot(LlFile *lf, LLVMBuilderRef b, LLVMValueRef cls, LLVMValueRef c) {
    Sc s = {lf, b};
    return boolean(&s, LLVMBuildICmp(b, LLVMIntEQ, LLVMBuildFPToSI(b, cls, lf->i64, ""), c, ""));
}

/* u = nnc_uniform(seed, row, counter); u >= rate ? 1 / (1 - rate) : 0, the
** comparison in double as in C. */
LLVMValueRef ll_mask(LlFile *lf, LLVMBuilderRef b, LLVMValueRef seed, LLVMValueRef row, LLVMValueRef counter,
                     double rate) {
    Sc s = {lf, b};
    LLVMValueRef f = ll_fn(lf, LL_UNIFORM), args[3] = {seed, row, counter};
    LLVMValueRef u = LLVMBuildCall2(b, LLVMGetElementType(LLVMTypeOf(f)), f, args, 3, "u");
    LLVMValueRef keep = LLVMBuildFCmp(b, LLVMRealOGE, u, LLVMConstReal(lf->dbl, rate), "");
    return sel(&s, keep, real(&s, 1.0 / (1.0 - rate)), real(&s, 0));
}

LLVMValueRef ll_mul_add(LlFile *lf, LLVMBuilderRef b, LLVMValueRef x, LLVMValueRef y, LLVMValueRef c) {
    static const char name[] = "llvm.fmuladd";
    unsigned id = LLVMLookupIntrinsicID(name, sizeof name - 1);
    LLVMTypeRef type = LLVMTypeOf(x);
    LLVMValueRef args[3] = {x, y, c};
    return LLVMBuildCall2(b, LLVMIntrinsicGetType(lf->ctx, id, &type, 1), LLVMGetIntrinsicDeclaration(lf->mod, id, &type, 1),
                          args, 3, "");
}
