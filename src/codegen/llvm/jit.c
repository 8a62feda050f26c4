/*
** jit.c — `nnc run` (SPEC 2, 5): the kernels compiled in memory by LLJIT
** and handed, with the descriptor cg_descriptor_data fills, to the runtime
** linked into nnc, which trains, evaluates and predicts as a generated
** trainer would. No C compiler is involved. nnc holds two runtimes, f32
** and f64 (the latter's names prefixed nnc64_ by the build), so that
** --dtype=f64 runs too; the caller picks the one that fits.
**
** The kernels' external calls resolve to nnc's own functions: the
** runtime's nnc_uniform and the libm nnc links, defined in the JIT by
** address, so that the JIT's kernels call exactly what the C trainer
** calls; anything else LLVM may call (memset, memcpy) comes from the
** process's libraries.
*/
#include "llgen.h"

#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nnc_abi.h"

struct CgJit {
    LLVMOrcLLJITRef jit;
    NncModel model;
};

static bool failed(LLVMErrorRef err, const char *what) {
    if (!err) return false;
    char *msg = LLVMGetErrorMessage(err);
    fprintf(stderr, "nnc: LLVM's JIT: %s: %s\n", what, msg);
    LLVMDisposeErrorMessage(msg);
    return true;
}

/* ---- symbols the kernels call ---- */

typedef struct Symbol {
    const char *name;
    void (*address)(void);
} Symbol;

#define SYM(f) {#f, (void (*)(void))f}
static const Symbol symbols[] = {
    SYM(nnc_uniform), SYM(expf), SYM(expm1f), SYM(logf), SYM(log1pf), SYM(sqrtf), SYM(tanhf), SYM(erff),
    SYM(powf), SYM(fabsf), SYM(exp), SYM(expm1), SYM(log), SYM(log1p), SYM(sqrt), SYM(tanh), SYM(erf),
    SYM(pow), SYM(fabs),
};
#undef SYM

static bool define_symbols(LLVMOrcLLJITRef jit, LLVMOrcJITDylibRef jd) {
    enum { N = sizeof symbols / sizeof *symbols };
    LLVMJITCSymbolMapPair pairs[N];
    for (int i = 0; i < N; i++) {
        pairs[i].Name = LLVMOrcLLJITMangleAndIntern(jit, symbols[i].name);
        pairs[i].Sym.Address = (LLVMOrcExecutorAddress)(uintptr_t)symbols[i].address;
        pairs[i].Sym.Flags = (LLVMJITSymbolFlags){LLVMJITSymbolGenericFlagsExported |
                                                  LLVMJITSymbolGenericFlagsCallable, 0};
    }
    if (failed(LLVMOrcJITDylibDefine(jd, LLVMOrcAbsoluteSymbols(pairs, N)), "defining nnc's functions"))
        return false;
    LLVMOrcDefinitionGeneratorRef gen;
    if (failed(LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&gen, LLVMOrcLLJITGetGlobalPrefix(jit), NULL,
                                                                     NULL),
               "searching the process"))
        return false;
    LLVMOrcJITDylibAddGenerator(jd, gen);
    return true;
}

/* ---- the JIT ---- */

static LLVMOrcLLJITRef make_jit(void) {
    LLVMTargetMachineRef tm = ll_host_machine();
    if (!tm) return NULL;
    LLVMOrcLLJITBuilderRef builder = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(builder, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(tm));
    LLVMOrcLLJITRef jit;
    if (failed(LLVMOrcCreateLLJIT(&jit, builder), "creating it")) return NULL;
    if (!define_symbols(jit, LLVMOrcLLJITGetMainJITDylib(jit))) {
        LLVMOrcDisposeLLJIT(jit);
        return NULL;
    }
    return jit;
}

/* The optimized module, built in the thread-safe context it moves into. */
static bool add_module(LLVMOrcLLJITRef jit, const IrModule *m, const CgOptions *o, LlFile *lf) {
    LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
    bool ok = ll_file_init(lf, m->arena, m, o, LLVMOrcThreadSafeContextGetContext(tsc)) &&
              ll_build(lf, CG_LLVM_OBJ, false);
    if (ok) {
        LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(lf->mod, tsc);
        lf->mod = NULL; /* the JIT's now */
        if (failed(LLVMOrcLLJITAddLLVMIRModule(jit, LLVMOrcLLJITGetMainJITDylib(jit), tsm), "adding the kernels")) {
            LLVMOrcDisposeThreadSafeModule(tsm);
            ok = false;
        }
    }
    LLVMDisposeBuilder(lf->b);
    lf->b = NULL;
    /* A module that failed to build lives in tsc's context: it goes first
    ** (ll_file_free disposing it after the context crashed nnc run). */
    if (lf->mod) LLVMDisposeModule(lf->mod);
    lf->mod = NULL;
    LLVMOrcDisposeThreadSafeContext(tsc);
    return ok;
}

static void *lookup(LLVMOrcLLJITRef jit, const char *name) {
    LLVMOrcExecutorAddress addr = 0;
    if (failed(LLVMOrcLLJITLookup(jit, &addr, name), name)) return NULL;
    return (void *)(uintptr_t)addr;
}

/* The descriptor's kernels: the JIT compiles the module on the first look-up. */
static bool bind_kernels(CgJit *j, const LlFile *lf, Arena *a) {
    const char *p = lf->prefix;
    NncModel *d = &j->model;
    void *k[5];
    static const char *const suffix[5] = {"predict_kernel", "forward_backward", "eval_loss", "regularize", "update"};
    for (int i = 0; i < 5; i++) {
        k[i] = NULL;
        if (!lf->kernel[i]) continue;
        k[i] = lookup(j->jit, arena_printf(a, "%s_%s", p, suffix[i]));
        if (!k[i]) return false;
    }
    /* Object pointers to function pointers: POSIX guarantees the round trip. */
    memcpy(&d->predict, &k[CG_PREDICT], sizeof(void *));
    memcpy(&d->forward_backward, &k[CG_TRAIN], sizeof(void *));
    memcpy(&d->eval_loss, &k[CG_EVAL], sizeof(void *));
    memcpy(&d->regularize, &k[CG_REGULARIZE], sizeof(void *));
    memcpy(&d->update, &k[CG_UPDATE], sizeof(void *));
    return true;
}

CgJit *cg_llvm_jit(const IrModule *m, const CgOptions *o) {
    CgJit *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->jit = make_jit();
    LlFile lf = {0};
    bool ok = j->jit && add_module(j->jit, m, o, &lf);
    if (ok) {
        cg_descriptor_data(m->arena, m, &lf.layout, o, lf.scratch_fixed, lf.scratch_per_row, &j->model);
        memcpy(j->model.flops, lf.flops, sizeof j->model.flops);
        j->model.update_whole_range = lf.update_whole_range;
        ok = bind_kernels(j, &lf, m->arena);
    }
    ll_file_free(&lf);
    if (!ok) {
        cg_llvm_jit_free(j);
        return NULL;
    }
    return j;
}

const NncModel *cg_llvm_jit_model(const CgJit *j) {
    return &j->model;
}

void cg_llvm_jit_free(CgJit *j) {
    if (!j) return;
    if (j->jit) failed(LLVMOrcDisposeLLJIT(j->jit), "shutting down");
    free(j);
}

int cg_llvm_run(const IrModule *m, const CgOptions *o, CgTrainer trainer, int argc, char **argv) {
    CgJit *j = cg_llvm_jit(m, o);
    if (!j) return 1;
    int status = trainer(&j->model, argc, argv);
    cg_llvm_jit_free(j);
    return status;
}
