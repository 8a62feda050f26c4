/*
** llgen.h — the LLVM backend's own interface, shared by the files of
** src/codegen/llvm/ only (and its unit tests). Everything here is
** prefixed ll_ or Ll.
**
** The backend prints, through the LLVM C API, the kernels the lowering
** (src/codegen/lower.c) made once for both backends: every loop, every
** order of summation and every libm call is the loop IR's, so the two
** agree bit for bit where both run the same libm (tests/llvm.sh).
*/
#ifndef NNC_LLGEN_H
#define NNC_LLGEN_H

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "../model.h"

/* ---- module.c: the module, its types, the host target, passes, emission ---- */

/* libm and runtime functions kernels call, declared on first use. LL_EXP
** is the C backend's nnc_exp, defined in the module: 0 below the least x
** whose e^x rounds to more than 0, else LL_LIBM_EXP. */
typedef enum LlFn {
    LL_EXP, LL_EXPM1, LL_LOG, LL_LOG1P, LL_SQRT, LL_TANH, LL_ERF, LL_POW, LL_FABS,
    LL_UNIFORM, LL_LIBM_EXP, LL_FN_COUNT
} LlFn;

/* The module being built. */
typedef struct LlFile {
    Arena *arena;
    const CgModel *model;
    const CgOptions *o;
    const char *prefix;          /* the model's name as an identifier */
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    LLVMTargetMachineRef tm;     /* the host, with its CPU and features */
    const char *cpu, *features;  /* as attributes on every function */
    LLVMTypeRef real, dbl, i1, i32, i64, voidt, ptr; /* ptr: nnc_real * */
    LLVMValueRef fn[LL_FN_COUNT];
    LLVMValueRef kernel[5];      /* by LKernelKind; regularize may be NULL */
    bool owns_ctx;
} LlFile;

/* ctx may be NULL (a context of the file's own, disposed by ll_file_free). */
bool ll_file_init(LlFile *lf, const CgModel *cm, LLVMContextRef ctx);
void ll_file_free(LlFile *lf);
/* The host's target machine (PIC, so that objects link into executables). */
LLVMTargetMachineRef ll_host_machine(void);
LLVMValueRef ll_fn(LlFile *lf, LlFn fn);
/* A function of the module with the target's attributes; internal unless
** exported. */
LLVMValueRef ll_function(LlFile *lf, const char *name, LLVMTypeRef type, bool exported);
/* LLVMVerifyModule, then the O2 pipeline; false with a message. */
bool ll_verify(LlFile *lf);
bool ll_optimize(LlFile *lf);
/* The kernels, with the descriptor's globals when `globals` (CG_LLVM_EXE:
** and main), verified and optimized. */
bool ll_build(LlFile *lf, CgLlvmKind kind, bool globals);
LLVMValueRef ll_real(LlFile *lf, double v);
/* ---- vexp.c: exp or sigmoid (op) of a vector of floats, libm's bits ---- */
LLVMValueRef ll_vector_exp(LlFile *lf, LLVMBuilderRef b, LOp op, LLVMValueRef x);
LLVMValueRef ll_i64(LlFile *lf, long v);
LLVMValueRef ll_i32(LlFile *lf, int v);

/* ---- print.c: the loop IR's kernels (loops.h) as LLVM functions ---- */

/* Defines k's body and ABI functions; sets lf->kernel[k->kind]. */
bool ll_print_kernel(LlFile *lf, const LoopKernel *k);
/* The model's kernels (model.h), printed. False after a message. */
bool ll_kernels(LlFile *lf);
/* noalias on argument `index` of fn. */
void ll_noalias(LlFile *lf, LLVMValueRef fn, unsigned index);

/* ---- scalar.c: the scalar formulas, as the C backend's helpers ---- */
/* x * y + c, one FMA instruction where the target has one (what C
** compilers make of a*b+c by default); a multiply and an add with
** --fp-contract=off. x, y, c: reals or vectors of reals. */
LLVMValueRef ll_mul_add(LlFile *lf, LLVMBuilderRef b, LLVMValueRef x, LLVMValueRef y, LLVMValueRef c);
LLVMValueRef ll_scalar(LlFile *lf, LLVMBuilderRef b, LOp op, double value, LLVMValueRef *arg);
LLVMValueRef ll_one_hot(LlFile *lf, LLVMBuilderRef b, LLVMValueRef cls, LLVMValueRef c);
LLVMValueRef ll_mask(LlFile *lf, LLVMBuilderRef b, LLVMValueRef seed, LLVMValueRef row, LLVMValueRef counter,
                     double rate);

/* ---- globals.c: the descriptor as LLVM globals, <model>_main and main ---- */
/* The LLVM type of NncModel (and of its tables), laid out as the C
** compiler lays out runtime/nnc_abi.h's structs on the target. */
LLVMTypeRef ll_model_type(LlFile *lf);
/* Defines <prefix>_model from the model's descriptor and lf->kernel, and
** int <prefix>_main(int, char **); with_main: also int main(int, char **). */
void ll_globals(LlFile *lf, bool with_main);

#endif
