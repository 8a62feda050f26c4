/*
** fuzz_eval.c — `nnc eval 'EXPR'`: parse, check and interpret a constant
** tensor expression and print it (src/eval.c).
*/
#include "frontend/frontend.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *sink;
    if (!sink) sink = fopen("/dev/null", "w");
    /* argv strings end at a NUL: so does the expression. */
    char *src = malloc(size + 1);
    memcpy(src, data, size);
    src[size] = '\0';
    nnc_eval(src, sink, sink);
    free(src);
    return 0;
}
