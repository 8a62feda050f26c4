/*
** llvm_absent.c — the LLVM backend's entry points in an nnc built without
** LLVM 14 (the Makefile builds this file instead of src/codegen/llvm/ when
** llvm-config-14 is missing). nnc still emits C; everything that needs
** LLVM (--emit=llvm|bc|obj|exe, nnc run) says so and fails. main.c asks
** cg_llvm_available first; the rest only answer callers that did not.
*/
#include "codegen.h"

#include <stdio.h>

bool cg_llvm_available(void) {
    return false;
}

void cg_llvm_unavailable(const char *what) {
    fprintf(stderr,
            "nnc: %s needs an nnc built with LLVM 14, and this one was built without it;\n"
            "nnc: install llvm-14-dev (scripts/deps.sh) and rebuild, or use --emit=c\n",
            what);
}

bool cg_llvm_emit(const CgModel *cm, CgLlvmKind kind, CgBytes *out) {
    (void)cm, (void)kind;
    *out = (CgBytes){0};
    cg_llvm_unavailable("the LLVM backend");
    return false;
}

const char *cg_llvm_header(const CgModel *cm) {
    (void)cm;
    cg_llvm_unavailable("the LLVM backend");
    return NULL;
}

bool cg_llvm_link(const char *object, const char *exe, bool f64) {
    (void)object, (void)exe, (void)f64;
    cg_llvm_unavailable("--emit=exe");
    return false;
}

const char *cg_llvm_runtime_lib(Arena *a, bool f64) {
    (void)a, (void)f64;
    cg_llvm_unavailable("--emit=exe");
    return NULL;
}

CgJit *cg_llvm_jit(const CgModel *cm) {
    (void)cm;
    cg_llvm_unavailable("the LLVM JIT");
    return NULL;
}

const struct NncModel *cg_llvm_jit_model(const CgJit *j) {
    (void)j;
    return NULL;
}

void cg_llvm_jit_free(CgJit *j) {
    (void)j;
}

int cg_llvm_run(const CgModel *cm, CgTrainer trainer, int argc, char **argv) {
    (void)cm, (void)trainer, (void)argc, (void)argv;
    cg_llvm_unavailable("nnc run");
    return 1;
}
