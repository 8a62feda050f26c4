/*
** text.c — growing text with indentation, exact literals, and index
** expressions with their constant parts folded, so that a written-out
** nest reads `a7[r * 40 + 3]` and a loop `a7[r * 40 + i0]`.
*/
#include "cgen.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void vappend(CgText *t, const char *fmt, va_list ap) {
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    t->items = arena_grow(t->arena, t->items, &t->cap, t->len + n + 1, 1);
    vsnprintf(t->items + t->len, (size_t)n + 1, fmt, ap);
    t->len += n;
}

void cg_c_put(CgText *t, const char *s) {
    cg_c_printf(t, "%s", s);
}

void cg_c_printf(CgText *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vappend(t, fmt, ap);
    va_end(ap);
}

static void indent(CgText *t) {
    for (int i = 0; i < t->indent; i++) cg_c_put(t, "    ");
}

void cg_c_line(CgText *t, const char *fmt, ...) {
    va_list ap;
    indent(t);
    va_start(ap, fmt);
    vappend(t, fmt, ap);
    va_end(ap);
    cg_c_put(t, "\n");
}

void cg_c_open(CgText *t, const char *fmt, ...) {
    va_list ap;
    indent(t);
    va_start(ap, fmt);
    vappend(t, fmt, ap);
    va_end(ap);
    cg_c_put(t, " {\n");
    t->indent++;
}

void cg_c_block(CgText *t) {
    cg_c_line(t, "{");
    t->indent++;
}

void cg_c_close(CgText *t) {
    t->indent--;
    cg_c_line(t, "}");
}

const char *cg_c_text(const CgText *t) {
    return t->items ? t->items : "";
}

const char *cg_c_double(Arena *a, double v) {
    char buf[64];
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    return arena_strdup(a, buf);
}

const char *cg_c_scalar_text(Arena *a, double v, bool f64) {
    if (f64 || isnan(v) || isinf(v) || (double)(float)v != v) return cg_c_double(a, v);
    char buf[64];
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtof(buf, NULL) == (float)v) break;
    }
    return arena_strdup(a, buf);
}

const char *cg_c_real(Arena *a, double v) {
    if (isnan(v)) return "((nnc_real)NAN)";
    if (isinf(v)) return v > 0 ? "((nnc_real)HUGE_VAL)" : "(-(nnc_real)HUGE_VAL)";
    const char *text = cg_c_double(a, v);
    /* Integers stay integers: "(nnc_real)2", not "(nnc_real)2.0". */
    return arena_printf(a, v < 0 ? "((nnc_real)%s)" : "(nnc_real)%s", text);
}

const char *cg_c_dims(Arena *a, int rank, const int *dims) {
    const char *t = "[";
    for (int i = 0; i < rank; i++) t = arena_printf(a, "%s%s%d", t, i ? ", " : "", dims[i]);
    return arena_printf(a, "%s]", t);
}
