/*
** module.c — the LLVM module of one model: its context and types, the host
** target (triple, CPU, features, data layout), the libm functions kernels
** call, verification, the O2 pipeline, and emission as text, bitcode or a
** native object.
**
** Kernels call expf, logf, ... as the C kernels do (never LLVM's math
** intrinsics, whose lowering may differ), so both backends compute the same
** bits with the same libm. The one intrinsic is llvm.fmuladd, a*b+c that
** the target may fuse, as C compilers may (--fp-contract).
*/
#include "llgen.h"

#include <llvm-c/Analysis.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <stdlib.h>
#include <string.h>

#include "nnc_abi.h"

/* ---- the host ---- */

static bool targets_ready;

static void init_targets(void) {
    if (targets_ready) return;
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
    targets_ready = true;
}

/* Triple, CPU and features of this machine, made once (LLVM's strings,
** kept for the process). */
static char *host_triple, *host_cpu, *host_features;

static void detect_host(void) {
    init_targets();
    if (host_triple) return;
    host_triple = LLVMGetDefaultTargetTriple();
    host_cpu = LLVMGetHostCPUName();
    host_features = LLVMGetHostCPUFeatures();
}

LLVMTargetMachineRef ll_host_machine(void) {
    detect_host();
    LLVMTargetRef target;
    char *err = NULL;
    if (LLVMGetTargetFromTriple(host_triple, &target, &err)) {
        fprintf(stderr, "nnc: LLVM has no target for %s: %s\n", host_triple, err);
        LLVMDisposeMessage(err);
        return NULL;
    }
    return LLVMCreateTargetMachine(target, host_triple, host_cpu, host_features, LLVMCodeGenLevelDefault,
                                   LLVMRelocPIC, LLVMCodeModelDefault);
}

/* ---- the file ---- */

static void types(LlFile *lf) {
    LLVMContextRef c = lf->ctx;
    lf->dbl = LLVMDoubleTypeInContext(c);
    lf->real = lf->o->f64 ? lf->dbl : LLVMFloatTypeInContext(c);
    lf->i1 = LLVMInt1TypeInContext(c);
    lf->i32 = LLVMInt32TypeInContext(c);
    lf->i64 = LLVMInt64TypeInContext(c);
    lf->voidt = LLVMVoidTypeInContext(c);
    lf->ptr = LLVMPointerType(lf->real, 0);
}

bool ll_file_init(LlFile *lf, const CgModel *cm, LLVMContextRef ctx) {
    const CgOptions *o = cm->o;
    *lf = (LlFile){.arena = cm->arena, .model = cm, .o = o, .prefix = cm->prefix};
    lf->tm = ll_host_machine();
    if (!lf->tm) return false;
    lf->cpu = host_cpu;
    lf->features = host_features;
    lf->ctx = ctx ? ctx : LLVMContextCreate();
    lf->mod = LLVMModuleCreateWithNameInContext(lf->prefix, lf->ctx);
    LLVMSetTarget(lf->mod, host_triple);
    LLVMTargetDataRef td = LLVMCreateTargetDataLayout(lf->tm);
    char *layout = LLVMCopyStringRepOfTargetData(td);
    LLVMSetDataLayout(lf->mod, layout);
    LLVMDisposeMessage(layout);
    LLVMDisposeTargetData(td);
    if (o->source) LLVMSetSourceFileName(lf->mod, o->source, strlen(o->source));
    lf->b = LLVMCreateBuilderInContext(lf->ctx);
    lf->owns_ctx = ctx == NULL;
    types(lf);
    return true;
}

void ll_file_free(LlFile *lf) {
    if (lf->b) LLVMDisposeBuilder(lf->b);
    if (lf->mod) LLVMDisposeModule(lf->mod);
    if (lf->ctx && lf->owns_ctx) LLVMContextDispose(lf->ctx);
    if (lf->tm) LLVMDisposeTargetMachine(lf->tm);
    *lf = (LlFile){0};
}

/* ---- functions ---- */

static void attribute(LlFile *lf, LLVMValueRef fn, const char *kind) {
    unsigned id = LLVMGetEnumAttributeKindForName(kind, strlen(kind));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(lf->ctx, id, 0));
}

static void string_attribute(LlFile *lf, LLVMValueRef fn, const char *key, const char *value) {
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(lf->ctx, key, (unsigned)strlen(key), value,
                                                      (unsigned)strlen(value)));
}

/* What clang puts on a function compiled with -march=native: the passes
** and the code generator then use the host's vector units. */
LLVMValueRef ll_function(LlFile *lf, const char *name, LLVMTypeRef type, bool exported) {
    LLVMValueRef fn = LLVMAddFunction(lf->mod, name, type);
    if (!exported) LLVMSetLinkage(fn, LLVMInternalLinkage);
    attribute(lf, fn, "nounwind");
    string_attribute(lf, fn, "target-cpu", lf->cpu);
    string_attribute(lf, fn, "target-features", lf->features);
    return fn;
}

/* libm at the precision of nnc_real, as helpers.c's NNC_EXP etc. pick it. */
static const char *const fn_names[LL_FN_COUNT][2] = {
    [LL_LIBM_EXP] = {"expf", "exp"}, [LL_EXPM1] = {"expm1f", "expm1"}, [LL_LOG] = {"logf", "log"},
    [LL_LOG1P] = {"log1pf", "log1p"}, [LL_SQRT] = {"llvm.sqrt.f32", "llvm.sqrt.f64"}, [LL_TANH] = {"tanhf", "tanh"},
    [LL_ERF] = {"erff", "erf"},     [LL_POW] = {"powf", "pow"},       [LL_FABS] = {"fabsf", "fabs"},
    [LL_UNIFORM] = {"nnc_uniform", "nnc_uniform"},
};

/* helpers.c's nnc_exp: x < NNC_EXP_ZERO_BELOW ? 0 : exp(x), with a branch,
** so that libm's underflow path is not taken for a result it rounds to 0
** anyway. */
static LLVMValueRef guarded_exp(LlFile *lf) {
    LLVMValueRef fn = ll_function(lf, "nnc_exp", LLVMFunctionType(lf->real, &lf->real, 1, false), false);
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(lf->ctx, fn, "entry");
    LLVMBasicBlockRef zero = LLVMAppendBasicBlockInContext(lf->ctx, fn, "zero");
    LLVMBasicBlockRef libm = LLVMAppendBasicBlockInContext(lf->ctx, fn, "libm");
    LLVMBuilderRef b = LLVMCreateBuilderInContext(lf->ctx);
    LLVMValueRef x = LLVMGetParam(fn, 0), exp = ll_fn(lf, LL_LIBM_EXP);
    attribute(lf, fn, "alwaysinline");
    LLVMPositionBuilderAtEnd(b, entry);
    LLVMBuildCondBr(b, LLVMBuildFCmp(b, LLVMRealOLT, x, ll_real(lf, lf->o->f64 ? LOOPS_EXP_ZERO_BELOW_F64 : LOOPS_EXP_ZERO_BELOW_F32), ""), zero, libm);
    LLVMPositionBuilderAtEnd(b, zero);
    LLVMBuildRet(b, ll_real(lf, 0));
    LLVMPositionBuilderAtEnd(b, libm);
    LLVMBuildRet(b, LLVMBuildCall2(b, LLVMGetElementType(LLVMTypeOf(exp)), exp, &x, 1, ""));
    LLVMDisposeBuilder(b);
    return fn;
}

/* Pure functions: the optimizer may hoist and merge calls, never change
** which function computes a value. */
LLVMValueRef ll_fn(LlFile *lf, LlFn fn) {
    if (lf->fn[fn]) return lf->fn[fn];
    if (fn == LL_EXP) return lf->fn[fn] = guarded_exp(lf);
    LLVMTypeRef type;
    if (fn == LL_UNIFORM) {
        LLVMTypeRef args[3] = {lf->i64, lf->i64, lf->i64};
        type = LLVMFunctionType(lf->dbl, args, 3, false);
    } else {
        LLVMTypeRef args[2] = {lf->real, lf->real};
        type = LLVMFunctionType(lf->real, args, fn == LL_POW ? 2 : 1, false);
    }
    LLVMValueRef f = LLVMAddFunction(lf->mod, fn_names[fn][lf->o->f64], type);
    attribute(lf, f, "nounwind");
    /* exp behind nnc_exp's branch as what it is, a function that may set
    ** errno: the loop vectorizer would otherwise call it on every lane of a
    ** vector and select, the very calls the branch avoids. */
    attribute(lf, f, fn == LL_LIBM_EXP ? "inaccessiblememonly" : "readnone");
    attribute(lf, f, "willreturn");
    lf->fn[fn] = f;
    return f;
}

LLVMValueRef ll_real(LlFile *lf, double v) {
    return LLVMConstReal(lf->real, v); /* rounded to nearest, as (nnc_real)v */
}

LLVMValueRef ll_i64(LlFile *lf, long v) {
    return LLVMConstInt(lf->i64, (unsigned long long)v, true);
}

LLVMValueRef ll_i32(LlFile *lf, int v) {
    return LLVMConstInt(lf->i32, (unsigned long long)(long long)v, true);
}

/* ---- verification, optimization ---- */

bool ll_verify(LlFile *lf) {
    char *why = NULL;
    if (!LLVMVerifyModule(lf->mod, LLVMReturnStatusAction, &why)) {
        LLVMDisposeMessage(why);
        return true;
    }
    fprintf(stderr, "nnc: internal error: the LLVM module of model %s does not verify:\n%s", lf->model->desc.name,
            why ? why : "");
    LLVMDisposeMessage(why);
    return false;
}

/* clang -O2's pipeline, vectorizers and loop unrolling included (clang
** turns them on at -O2; the pass builder's defaults leave the SLP
** vectorizer off). Unrolling made model B's trainer 15 % faster (median of
** 15 alternated runs, 4.35M against 3.78M samples/s; gcc -O2 4.00M) and
** left A and C-E and the compile time as they were. */
bool ll_optimize(LlFile *lf) {
    LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
    LLVMPassBuilderOptionsSetLoopVectorization(opts, true);
    LLVMPassBuilderOptionsSetSLPVectorization(opts, true);
    LLVMPassBuilderOptionsSetLoopInterleaving(opts, true);
    LLVMPassBuilderOptionsSetLoopUnrolling(opts, true);
    LLVMErrorRef err = LLVMRunPasses(lf->mod, "default<O2>", lf->tm, opts);
    LLVMDisposePassBuilderOptions(opts);
    if (!err) return true;
    char *msg = LLVMGetErrorMessage(err);
    fprintf(stderr, "nnc: internal error: LLVM's O2 pipeline: %s\n", msg);
    LLVMDisposeErrorMessage(msg);
    return false;
}

/* ---- the whole module ---- */

/* Kernels, then verification and optimization; globals (obj) or none (JIT). */
bool ll_build(LlFile *lf, CgLlvmKind kind, bool globals) {
    if (!ll_kernels(lf)) return false;
    if (globals) ll_globals(lf, kind == CG_LLVM_EXE);
    return ll_verify(lf) && ll_optimize(lf);
}

static bool copy_buffer(LLVMMemoryBufferRef buf, CgBytes *out) {
    size_t len = LLVMGetBufferSize(buf);
    out->data = malloc(len + 1);
    if (!out->data) return false;
    memcpy(out->data, LLVMGetBufferStart(buf), len);
    out->data[len] = '\0';
    out->len = len;
    LLVMDisposeMemoryBuffer(buf);
    return true;
}

static bool emit_module(LlFile *lf, CgLlvmKind kind, CgBytes *out) {
    if (kind == CG_LLVM_IR) {
        char *text = LLVMPrintModuleToString(lf->mod);
        out->len = strlen(text);
        out->data = malloc(out->len + 1);
        if (out->data) memcpy(out->data, text, out->len + 1);
        LLVMDisposeMessage(text);
        return out->data != NULL;
    }
    if (kind == CG_LLVM_BC) return copy_buffer(LLVMWriteBitcodeToMemoryBuffer(lf->mod), out);
    LLVMMemoryBufferRef buf;
    char *err = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(lf->tm, lf->mod, LLVMObjectFile, &err, &buf)) {
        fprintf(stderr, "nnc: LLVM could not emit an object: %s\n", err ? err : "");
        LLVMDisposeMessage(err);
        return false;
    }
    return copy_buffer(buf, out);
}

bool cg_llvm_available(void) {
    return true;
}

void cg_llvm_unavailable(const char *what) {
    (void)what; /* built with LLVM: nothing needs it and lacks it */
}

bool cg_llvm_emit(const CgModel *cm, CgLlvmKind kind, CgBytes *out) {
    LlFile lf;
    *out = (CgBytes){0};
    bool ok = ll_file_init(&lf, cm, NULL) && ll_build(&lf, kind, true) && emit_module(&lf, kind, out);
    ll_file_free(&lf);
    return ok;
}
