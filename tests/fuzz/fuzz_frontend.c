/*
** fuzz_frontend.c — a .nn source through the whole pipeline: parse, check,
** lower, differentiate, optimize and emit the C trainer (what
** `nnc FILE.nn -o -` does). Diagnostics go to /dev/null; any crash,
** sanitizer report or leak is a bug.
*/
#include "codegen/codegen.h"
#include "frontend/frontend.h"
#include "ir/ir.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *sink;
    if (!sink) sink = fopen("/dev/null", "w");
    char *src = malloc(size + 1);
    memcpy(src, data, size);
    src[size] = '\0';
    Arena *arena = arena_new();
    Diag diag;
    diag_init(&diag, "fuzz.nn", src, size, sink);
    Program *p = parse_program(arena, &diag);
    IrModule *m = p && !diag_failed(&diag) ? sema_check(arena, &diag, p) : NULL;
    if (m) {
        ir_build_training(m, 2);
        CgOptions o = {.source = "fuzz.nn", .source_sha256 = "0", .command = "nnc fuzz.nn", .unroll = -1};
        CgModel *cm = cg_model(arena, m, &o);
        const char *text = cm ? cg_c_trainer(cm) : NULL;
        if (text) fputs(text, sink);
    }
    arena_free(arena);
    free(src);
    return 0;
}
