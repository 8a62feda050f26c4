/*
** eval.c — nnc eval 'EXPR' (SPEC 2): parse, check and interpret a constant
** tensor expression, then print NumPy's repr of it and its shape.
** Diagnostics name the file "<eval>" and quote the expression. Shared by
** main.c and the fuzz target tests/fuzz/fuzz_eval.c.
*/
#include "frontend/frontend.h"
#include "ir/ir.h"

#include <stdlib.h>
#include <string.h>

/* The interpreter holds every value of the expression at once and visits
** each element: a bound on all of them together keeps `nnc eval
** 'ones(100000, 100000)'` a message, not 80 GB, and any expression a
** matter of a second (a fuzzer found abs(ones(12011047) * 2e37) taking
** 13 s under the sanitizers with a bound per value). */
enum { EVAL_MAX_ELEMENTS = 1 << 22 };

static bool eval_fits(const IrFunc *f, FILE *err) {
    int64_t total = 0;
    for (int i = 0; i < f->nodes.len; i++) {
        const IrNode *n = f->nodes.items[i];
        total += shape_numel(n->shape);
        if (shape_numel(n->shape) <= EVAL_MAX_ELEMENTS && total <= EVAL_MAX_ELEMENTS) continue;
        char shape[160];
        fprintf(err, "nnc: eval: the expression's values have %lld elements or more (one of shape %s); "
                     "eval computes at most %d in all\n",
                (long long)(total > shape_numel(n->shape) ? total : shape_numel(n->shape)),
                shape_format(n->shape, shape, sizeof shape), EVAL_MAX_ELEMENTS);
        return false;
    }
    return true;
}

int nnc_eval(const char *src, FILE *out, FILE *err) {
    Arena *arena = arena_new();
    Diag diag;
    diag_init(&diag, "<eval>", src, strlen(src), err);
    Node *expr = parse_expression(arena, &diag);
    IrFunc *f = expr && !diag_failed(&diag) ? sema_check_expression(arena, &diag, expr) : NULL;
    int status = 1;
    bool fits = f && f->result && eval_fits(f, err);
    double *value = fits ? malloc(sizeof(double) * (size_t)shape_numel(f->result->shape)) : NULL;
    char why[256] = "out of memory";
    IrEnv env = {.rows = 1, .grad_scale = 1, .result = value};
    if (value && ir_interp(f, &env, why, sizeof why)) { /* env asks nothing else: no inputs */
        char shape[160];
        ir_print_value(out, value, f->result->shape);
        fprintf(out, "\nshape: %s\n", shape_format(f->result->shape, shape, sizeof shape));
        status = 0;
    } else if (fits) {
        fprintf(err, "nnc: eval: %s\n", why);
    }
    free(value);
    arena_free(arena);
    return status;
}
