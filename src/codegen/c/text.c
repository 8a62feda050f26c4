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

const char *cg_c_shape(Arena *a, Shape s) {
    char buf[160];
    return arena_strdup(a, shape_format(s, buf, sizeof buf));
}

/* ---- index expressions ---- */

static const char *const var_names[CG_NVARS] = {
    "r", "i0", "i1", "i2", "i3", "i4", "i5", "i6", "i7",
    "j0", "j1", "j2", "j3", "j4", "j5", "j6", "j7", "k", "jb",
};

const char *cg_var_name(int v) {
    return var_names[v];
}

CgAff cg_aff_const(long c) {
    CgAff x = {.c = c};
    return x;
}

CgAff cg_aff_var(int v) {
    CgAff x = {0};
    x.k[v] = 1;
    return x;
}

CgAff cg_aff_add(CgAff a, CgAff b) {
    a.c += b.c;
    for (int v = 0; v < CG_NVARS; v++) a.k[v] += b.k[v];
    return a;
}

CgAff cg_aff_scale(CgAff a, long m) {
    a.c *= m;
    for (int v = 0; v < CG_NVARS; v++) a.k[v] *= m;
    return a;
}

const char *cg_aff_text(Arena *a, CgAff x) {
    char buf[512];
    int o = 0;
    for (int v = 0; v < CG_NVARS; v++) {
        if (!x.k[v]) continue;
        const char *sep = o ? " + " : "";
        if (x.k[v] == 1)
            o += snprintf(buf + o, sizeof buf - (size_t)o, "%s%s", sep, var_names[v]);
        else
            o += snprintf(buf + o, sizeof buf - (size_t)o, "%s%s * %ld", sep, var_names[v], x.k[v]);
    }
    if (x.c || !o) snprintf(buf + o, sizeof buf - (size_t)o, "%s%ld", o ? " + " : "", x.c);
    return arena_strdup(a, buf);
}

/* ---- nests ---- */

static void nest_loop(CgNest *ns, int d, int from, int to) {
    const char *v = cg_var_name(ns->var0 + d);
    if (from)
        cg_c_open(ns->k->body, "for (int %s = %d; %s < %d; %s++)", v, from, v, to, v);
    else
        cg_c_open(ns->k->body, "for (int %s = 0; %s < %d; %s++)", v, v, to, v);
    ns->c[d] = cg_aff_var(ns->var0 + d);
    ns->loops++;
}

void cg_c_nest_open(CgNest *ns, CgKernel *k, Shape s, int var0, bool unroll) {
    *ns = (CgNest){.k = k, .s = s, .unroll = unroll, .var0 = var0, .split = -1};
    for (int d = 0; d < s.rank; d++) {
        ns->c[d] = cg_aff_const(0);
        if (!unroll && s.dim[d] > 1) nest_loop(ns, d, 0, s.dim[d]);
    }
}

/* Compilers vectorize a loop at -O2 only when its trip count is a multiple
** of the vector length (GCC's very-cheap cost model: no epilogue). So the
** innermost axis runs to the last multiple of CG_VECTOR in a loop and the
** few elements after it are written out. */
void cg_c_nest_vector(CgNest *ns, CgKernel *k, Shape s, int var0, bool unroll) {
    int last = s.rank - 1, len = last >= 0 ? s.dim[last] : 1;
    if (unroll || len < CG_VECTOR || len % CG_VECTOR == 0) {
        cg_c_nest_open(ns, k, s, var0, unroll);
        return;
    }
    Shape outer = s;
    outer.rank--;
    cg_c_nest_open(ns, k, outer, var0, false);
    ns->s = s;
    ns->split = len / CG_VECTOR * CG_VECTOR;
    nest_loop(ns, last, 0, ns->split);
}

bool cg_c_nest_next(CgNest *ns) {
    if (ns->split >= 0) {
        int last = ns->s.rank - 1;
        if (ns->tail == 0) cg_c_close(ns->k->body); /* the main loop */
        if (ns->tail == 0) ns->loops--;
        long at = ns->split + ns->tail++;
        if (at < ns->s.dim[last]) {
            ns->c[last] = cg_aff_const(at);
            return true;
        }
        for (int i = 0; i < ns->loops; i++) cg_c_close(ns->k->body);
        return false;
    }
    if (!ns->unroll) {
        for (int i = 0; i < ns->loops; i++) cg_c_close(ns->k->body);
        return false;
    }
    for (int d = ns->s.rank - 1; d >= 0; d--) {
        if (++ns->at[d] < ns->s.dim[d]) {
            ns->c[d] = cg_aff_const(ns->at[d]);
            return true;
        }
        ns->at[d] = 0;
        ns->c[d] = cg_aff_const(0);
    }
    return false;
}

CgAff cg_c_linear_aff(Shape s, const CgAff *c) {
    CgAff lin = cg_aff_const(0);
    long stride = 1;
    for (int d = s.rank - 1; d >= 0; d--) {
        lin = cg_aff_add(lin, cg_aff_scale(c[d], stride));
        stride *= s.dim[d];
    }
    return lin;
}
