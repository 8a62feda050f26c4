/*
** vexp.c — exp and sigmoid of a vector of floats, the C backend's
** nnc_vexp<lanes> and nnc_vsigmoid<lanes> (helpers.c) instruction for
** instruction: glibc's expf (a 32-entry table of 2^(i/32) and a cubic, in
** double precision) with its multiply-adds as llvm.fma, exact whatever
** --fp-contract says, so every lane has libm's bits on x86-64 with FMA.
** Without it LLVM computes such lanes with libm, a call each (print.c).
*/
#include "llgen.h"

#include <math.h>

static const uint64_t exp_table[32] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540};

typedef struct Vx {
    LlFile *lf;
    LLVMBuilderRef b;
    unsigned lanes;
    LLVMTypeRef f32, f64, i64; /* vectors of lanes */
} Vx;

static LLVMValueRef splat(LLVMTypeRef vector, LLVMValueRef scalar) {
    unsigned lanes = LLVMGetVectorSize(vector);
    LLVMValueRef each[16];
    for (unsigned i = 0; i < lanes; i++) each[i] = scalar;
    return LLVMConstVector(each, lanes);
}

static LLVMValueRef f64s(const Vx *v, double x) {
    return splat(v->f64, LLVMConstReal(v->lf->dbl, x));
}

static LLVMValueRef f32s(const Vx *v, double x) {
    return splat(v->f32, LLVMConstReal(v->lf->real, x));
}

static LLVMValueRef fma3(const Vx *v, LLVMValueRef a, LLVMValueRef b, LLVMValueRef c) {
    char name[32];
    snprintf(name, sizeof name, "llvm.fma.v%uf64", v->lanes);
    LLVMTypeRef args[3] = {v->f64, v->f64, v->f64}, type = LLVMFunctionType(v->f64, args, 3, false);
    LLVMValueRef f = LLVMGetNamedFunction(v->lf->mod, name), in[3] = {a, b, c};
    if (!f) f = LLVMAddFunction(v->lf->mod, name, type);
    return LLVMBuildCall2(v->b, type, f, in, 3, "");
}

/* x where not (x pred limit), else value */
static LLVMValueRef unless(const Vx *v, LLVMValueRef y, LLVMValueRef x, LLVMRealPredicate pred, double limit,
                           LLVMValueRef value) {
    return LLVMBuildSelect(v->b, LLVMBuildFCmp(v->b, pred, x, f32s(v, limit), ""), value, y, "");
}

/* 2^(k/32) for k's low 5 bits, from the table: a load per lane. */
static LLVMValueRef table(const Vx *v, LLVMValueRef index) {
    LLVMValueRef g = LLVMGetNamedGlobal(v->lf->mod, "nnc_exp_table");
    LLVMTypeRef type = LLVMArrayType(v->lf->i64, 32);
    if (!g) {
        LLVMValueRef each[32];
        for (int i = 0; i < 32; i++) each[i] = LLVMConstInt(v->lf->i64, exp_table[i], false);
        g = LLVMAddGlobal(v->lf->mod, type, "nnc_exp_table");
        LLVMSetInitializer(g, LLVMConstArray(v->lf->i64, each, 32));
        LLVMSetGlobalConstant(g, true);
        LLVMSetLinkage(g, LLVMInternalLinkage);
    }
    LLVMValueRef out = LLVMGetUndef(v->i64);
    for (unsigned i = 0; i < v->lanes; i++) {
        LLVMValueRef at = ll_i32(v->lf, (int)i), idx[2] = {ll_i64(v->lf, 0), LLVMBuildExtractElement(v->b, index, at, "")};
        LLVMValueRef t = LLVMBuildLoad2(v->b, v->lf->i64, LLVMBuildInBoundsGEP2(v->b, type, g, idx, 2, ""), "");
        out = LLVMBuildInsertElement(v->b, out, t, at, "");
    }
    return out;
}

static LLVMValueRef vexp(const Vx *v, LLVMValueRef x) {
    LLVMBuilderRef b = v->b;
    LLVMValueRef c = unless(v, x, x, LLVMRealOLT, -104.0, f32s(v, -104.0));
    c = unless(v, c, c, LLVMRealOGT, 89.0, f32s(v, 89.0));
    LLVMValueRef xd = LLVMBuildFPExt(b, c, v->f64, ""), shift = f64s(v, 0x1.8p+52), inv = f64s(v, 0x1.71547652b82fep+5);
    LLVMValueRef kd = fma3(v, inv, xd, shift), ki = LLVMBuildBitCast(b, kd, v->i64, "");
    kd = LLVMBuildFSub(b, kd, shift, "");
    LLVMValueRef r = fma3(v, inv, xd, LLVMBuildFNeg(b, kd, ""));
    LLVMValueRef t = table(v, LLVMBuildAnd(b, ki, splat(v->i64, ll_i64(v->lf, 31)), ""));
    t = LLVMBuildAdd(b, t, LLVMBuildShl(b, ki, splat(v->i64, ll_i64(v->lf, 47)), ""), "");
    LLVMValueRef z = fma3(v, f64s(v, 0x1.c6af84b912394p-20), r, f64s(v, 0x1.ebfce50fac4f3p-13));
    LLVMValueRef r2 = LLVMBuildFMul(b, r, r, "");
    LLVMValueRef y = fma3(v, f64s(v, 0x1.62e42ff0c52d6p-6), r, f64s(v, 1.0));
    y = LLVMBuildFMul(b, fma3(v, z, r2, y), LLVMBuildBitCast(b, t, v->f64, ""), "");
    LLVMValueRef e = LLVMBuildFPTrunc(b, y, v->f32, "");
    /* glibc's special cases: its underflow and overflow results, NaN */
    e = unless(v, e, x, LLVMRealOLT, -0x1.9d1d9ep6f, f32s(v, 0x1p-149));
    e = unless(v, e, x, LLVMRealOLT, -0x1.9fe368p6f, f32s(v, 0));
    e = unless(v, e, x, LLVMRealOGT, 0x1.62e42ep6f, f32s(v, HUGE_VAL));
    return LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealUNO, x, x, ""), LLVMBuildFAdd(b, x, x, ""), e, "");
}

/* (x >= 0 ? 1 : e) / (1 + e), e = exp(-|x|) */
static LLVMValueRef vsigmoid(const Vx *v, LLVMValueRef x) {
    char name[32];
    snprintf(name, sizeof name, "llvm.fabs.v%uf32", v->lanes);
    LLVMTypeRef type = LLVMFunctionType(v->f32, (LLVMTypeRef[]){v->f32}, 1, false);
    LLVMValueRef f = LLVMGetNamedFunction(v->lf->mod, name);
    if (!f) f = LLVMAddFunction(v->lf->mod, name, type);
    LLVMValueRef e = vexp(v, LLVMBuildFNeg(v->b, LLVMBuildCall2(v->b, type, f, &x, 1, ""), "")), one = f32s(v, 1);
    LLVMValueRef nonnegative = LLVMBuildFCmp(v->b, LLVMRealOGE, x, f32s(v, 0), "");
    return LLVMBuildFDiv(v->b, LLVMBuildSelect(v->b, nonnegative, one, e, ""), LLVMBuildFAdd(v->b, one, e, ""), "");
}

LLVMValueRef ll_vector_exp(LlFile *lf, LLVMBuilderRef b, LOp op, LLVMValueRef x) {
    Vx v = {.lf = lf, .b = b, .lanes = LLVMGetVectorSize(LLVMTypeOf(x))};
    v.f32 = LLVMVectorType(lf->real, v.lanes);
    v.f64 = LLVMVectorType(lf->dbl, v.lanes);
    v.i64 = LLVMVectorType(lf->i64, v.lanes);
    return op == LOP_EXP ? vexp(&v, x) : vsigmoid(&v, x);
}
