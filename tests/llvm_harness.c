/*
** llvm_harness.c — the LLVM backend's driver of tests/kernel_harness.c:
** the kernels are compiled in f64 by nnc's JIT (cg_llvm_jit). tests/llvm.sh
** builds it, linked with nnc's libnncc.a, libnncrt.a and LLVM:
**   llvm_harness MODEL.nn [-ON] [--csv N]
*/
#include <stdio.h>

#include "kernel_harness.h"

static CgJit *jit;

static const NncModel *kernels(const IrModule *m, const char *path, int level) {
    (void)level; /* m is built at it */
    CgOptions o = {.source = path, .f64 = true, .unroll = -1, .fp_contract = true};
    CgModel *cm = cg_model(m->arena, m, &o);
    jit = cm ? cg_llvm_jit(cm) : NULL;
    if (!jit) printf("NOT OK the JIT failed\n");
    return jit ? (const NncModel *)cg_llvm_jit_model(jit) : NULL;
}

static void done(void) {
    if (jit) cg_llvm_jit_free(jit);
}

int main(int argc, char **argv) {
    KhDriver driver = {.name = "llvm_harness", .kernels = kernels, .done = done};
    return kh_main(argc, argv, &driver);
}
