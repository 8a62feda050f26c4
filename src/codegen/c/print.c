/*
** print.c — a LoopKernel as C text: nothing is decided here. Each kernel is
** two functions, as in llm.c: the body takes every buffer as a restrict
** parameter (compilers trust restrict on parameters, not on local pointers
** into one scratch block, so the loops vectorize at -O2 without run-time
** alias checks), and the ABI's function computes the pointers and calls it.
*/
#include "cgen.h"

#include <string.h>

#include "../loops.h"
#include "nnc_abi.h"

typedef struct Pr {
    CgFile *cf;
    const LoopKernel *k;
    CgText *body;
    bool seed_used, step_used, range_used;
    int lanes;          /* printing a chunk of lanes as vectors of this many, or 0 */
    unsigned vsqrt;     /* the widths (4, 8, 16) of the vector square roots printed */
    unsigned vexp;      /* and of the vector exps and sigmoids */
    int loop_depth;     /* loops around the statement printed */
    bool *vector_local; /* per local: declared in a chunk as a vector */
} Pr;

/* ---- expressions ---- */

static const char *expr(Pr *p, const LExpr *e);

static const char *helper(Pr *p, CgHelper h, const char *fn, const char *a) {
    p->cf->helpers |= 1u << h;
    return arena_printf(p->cf->arena, "%s(%s)", fn, a);
}

static const char *unary(Pr *p, const LExpr *e, const char *a) {
    Arena *ar = p->cf->arena;
    switch (e->op) {
    case LOP_NEG: return arena_printf(ar, "(-%s)", a);
    case LOP_EXP: return helper(p, H_EXP, "nnc_exp", a);
    case LOP_LOG: return arena_printf(ar, "NNC_LOG(%s)", a);
    case LOP_SQRT: /* libm's outside loops, where nothing is to vectorize and errno costs nothing */
        return p->loop_depth ? helper(p, H_SQRT, "nnc_sqrt", a) : arena_printf(ar, "NNC_SQRT(%s)", a);
    case LOP_ABS: return arena_printf(ar, "NNC_FABS(%s)", a);
    case LOP_TANH: return arena_printf(ar, "NNC_TANH(%s)", a);
    case LOP_ERF: return arena_printf(ar, "NNC_ERF(%s)", a);
    case LOP_SQUARE: return helper(p, H_SQ, "nnc_sq", a);
    case LOP_STEP: return helper(p, H_STEP, "nnc_step", a);
    case LOP_RELU: return helper(p, H_RELU, "nnc_relu", a);
    case LOP_SELU: return helper(p, H_SELU, "nnc_selu", a);
    case LOP_SIGMOID: return helper(p, H_SIGMOID, "nnc_sigmoid", a);
    case LOP_SOFTPLUS: return helper(p, H_SOFTPLUS, "nnc_softplus", a);
    case LOP_SOFTSIGN: return helper(p, H_SOFTSIGN, "nnc_softsign", a);
    case LOP_SWISH: return helper(p, H_SWISH, "nnc_swish", a);
    case LOP_GELU: return helper(p, H_GELU, "nnc_gelu", a);
    case LOP_SIGN: return helper(p, H_SIGN, "nnc_sign", a);
    case LOP_LEAKY_RELU:
        return helper(p, H_LEAKY, "nnc_leaky_relu", arena_printf(ar, "%s, %s", a, cg_c_real(ar, e->value)));
    default: /* LOP_ELU */
        return helper(p, H_ELU, "nnc_elu", arena_printf(ar, "%s, %s", a, cg_c_real(ar, e->value)));
    }
}

/* How tightly an expression's text binds: additions and multiplications
** print without the parentheses C's precedence makes redundant, and keep
** those that fix the order of a floating-point sum. */
enum { BIND_ATOM, BIND_MUL, BIND_ADD };

static int binding(const LExpr *e) {
    if (e->kind != LX_OP) return BIND_ATOM;
    if (e->op == LOP_MUL || e->op == LOP_DIV) return BIND_MUL;
    if (e->op == LOP_ADD || e->op == LOP_SUB) return BIND_ADD;
    return BIND_ATOM;
}

static const char *operand(Pr *p, const LExpr *e, int max) {
    const char *text = expr(p, e);
    return binding(e) > max ? arena_printf(p->cf->arena, "(%s)", text) : text;
}

static const char *arithmetic(Pr *p, const LExpr *e) {
    static const char ops[] = {[LOP_ADD] = '+', [LOP_SUB] = '-', [LOP_MUL] = '*', [LOP_DIV] = '/'};
    int level = binding(e);
    return arena_printf(p->cf->arena, "%s %c %s", operand(p, e->in[0], level), ops[e->op],
                        operand(p, e->in[1], level - 1));
}

static const char *binary(Pr *p, const LExpr *e, const char *a, const char *b) {
    Arena *ar = p->cf->arena;
    const char *both = arena_printf(ar, "%s, %s", a, b);
    switch (e->op) {
    case LOP_POW: return arena_printf(ar, "NNC_POW(%s)", both);
    case LOP_GT: return arena_printf(ar, "(%s > %s ? (nnc_real)1 : (nnc_real)0)", a, b);
    case LOP_GE: return arena_printf(ar, "(%s >= %s ? (nnc_real)1 : (nnc_real)0)", a, b);
    case LOP_EQ: return arena_printf(ar, "(%s == %s ? (nnc_real)1 : (nnc_real)0)", a, b);
    case LOP_DIVNZ: return helper(p, H_DIVNZ, "nnc_divnz", both);
    case LOP_MINIMUM: return helper(p, H_MIN, "nnc_min", both);
    default: return helper(p, H_MAX, "nnc_max", both); /* LOP_MAXIMUM */
    }
}

/* nnc_mask(seed, first_row + r, stream << 32 | element, rate, 1 / (1 - rate)) */
static const char *mask(Pr *p, const LExpr *e) {
    Arena *a = p->cf->arena;
    p->cf->helpers |= 1u << H_MASK;
    p->seed_used = true;
    const char *row = e->row ? arena_printf(a, "(uint64_t)(r + %ld)", e->row) : "(uint64_t)r";
    return arena_printf(a, "nnc_mask(seed, first_row + %s, ((uint64_t)%ld << 32) | (uint64_t)(%s), %s, %s)", row,
                        e->stream, lidx_text(a, e->idx), cg_c_double(a, e->value),
                        cg_c_real(a, 1.0 / (1.0 - e->value)));
}

/* ---- a chunk of lanes as GNU C vectors ----
** In a chunk (p->lanes), an operand that varies with j0 is the vector of
** its lanes, NNC_LOAD(N, address of lane 0), and one that does not is a
** scalar, which C's vector operators apply to every lane. */

static const char *lane0_address(Pr *p, const char *name, LIdx idx) {
    idx.k[LV_J0] = 0;
    return lidx_is_const(idx) && !idx.c ? name : arena_printf(p->cf->arena, "%s + %s", name, lidx_text(p->cf->arena, idx));
}

static const char *vector_load(Pr *p, const char *name, LIdx idx) {
    return arena_printf(p->cf->arena, "NNC_LOAD(%d, %s)", p->lanes, lane0_address(p, name, idx));
}

static const char *local_text(Pr *p, int local, LIdx idx) {
    const LLocal *l = &p->k->locals.items[local];
    if (p->lanes && idx.k[LV_J0]) return vector_load(p, l->name, idx);
    if (!l->size) return l->name;
    return arena_printf(p->cf->arena, "%s[%s]", l->name, lidx_text(p->cf->arena, idx));
}

static bool lane_varying(const Pr *p, const LExpr *e);

/* A lane-wise negation, square, square root, exp or sigmoid
** (loops_vector_chunk) of the vector x: the square root is
** NNC_VSQRT<lanes>, the target's vector instruction, exp and sigmoid
** nnc_vexp<lanes> and nnc_vsigmoid<lanes>; the chunk's #if requires them. */
static const char *vector_unary(Pr *p, const LExpr *e, const char *x) {
    Arena *a = p->cf->arena;
    switch (e->op) {
    case LOP_SQRT:
        p->cf->helpers |= 1u << H_VSQRT;
        p->vsqrt |= (unsigned)p->lanes;
        return arena_printf(a, "NNC_VSQRT%d(%s)", p->lanes, x);
    case LOP_EXP:
    case LOP_SIGMOID:
        p->cf->helpers |= 1u << H_VEXP;
        p->vexp |= (unsigned)p->lanes;
        return arena_printf(a, "nnc_v%s%d(%s)", e->op == LOP_EXP ? "exp" : "sigmoid", p->lanes, x);
    case LOP_SQUARE: return arena_printf(a, "((%s) * (%s))", x, x);
    default: return arena_printf(a, "(-%s)", x); /* LOP_NEG */
    }
}

static const char *expr(Pr *p, const LExpr *e) {
    Arena *a = p->cf->arena;
    static const char *const args[] = {"lr", "step_r", "sc"};
    switch (e->kind) {
    case LX_CONST: return cg_c_real(a, e->value);
    case LX_LOAD:
        if (p->lanes && e->idx.k[LV_J0]) return vector_load(p, p->k->bufs.items[e->buf].name, e->idx);
        return arena_printf(a, "%s[%s]", p->k->bufs.items[e->buf].name, lidx_text(a, e->idx));
    case LX_LOCAL: return local_text(p, e->local, e->idx);
    case LX_ARG: return args[e->arg];
    case LX_ONE_HOT:
        return arena_printf(a, "((long)%s == %s ? (nnc_real)1 : (nnc_real)0)", expr(p, e->in[0]), lidx_text(a, e->idx));
    case LX_MASK: return mask(p, e);
    default: break;
    }
    if (binding(e) != BIND_ATOM) return arithmetic(p, e);
    int arity = lop_arity(e->op);
    const char *x = expr(p, e->in[0]);
    if (arity == 1 && p->lanes && lane_varying(p, e)) return vector_unary(p, e, x);
    if (arity == 1) return unary(p, e, x);
    const char *y = expr(p, e->in[1]);
    if (arity == 2) return binary(p, e, x, y);
    return arena_printf(a, "(%s != 0 ? %s : %s)", x, y, expr(p, e->in[2]));
}

/* ---- statements ---- */

/* A range bound is a multiple of unit (loops.h): counted in units, the
** compiler knows that a loop between two has a trip count it can vectorize
** with no scalar epilogue (which GCC's -O2 cost model refuses). */
static const char *range_bound(Pr *p, LBound b) {
    long unit = 1;
    while (unit < NNC_RANGE_ALIGN && b.c % (2 * unit) == 0) unit *= 2;
    p->range_used = true;
    return helper(p, H_RANGE, "nnc_range",
                  arena_printf(p->cf->arena, "%s, %ld, %ld, %ld", b.range == LR_LO ? "lo" : "hi", b.offset, b.c, unit));
}

static const char *bound(Pr *p, LBound b) {
    Arena *a = p->cf->arena;
    if (b.range) return range_bound(p, b);
    if (!b.rows) return arena_printf(a, "%ld", b.c);
    const char *n = b.rows == 1 ? "n" : arena_printf(a, "n / %ld * %ld", b.rows, b.rows);
    return b.c ? arena_printf(a, "%s + %ld", n, b.c) : n;
}

/* a = a + x, printed as a += x. */
static bool accumulates(const LStmt *s) {
    const LExpr *v = s->value;
    if (v->kind != LX_OP || v->op != LOP_ADD || v->in[0]->kind != LX_LOCAL || v->in[0]->local != s->local) return false;
    return !memcmp(&v->in[0]->idx, &s->idx, sizeof s->idx);
}

static void stmts(Pr *p, const LStmt *s);

/* A tile's rows as vectors r0.., the shuffles of loops_transpose_lane, its
** columns stored as vectors. */
static void transpose_tile(Pr *p, const LStmt *s) {
    Arena *a = p->cf->arena;
    CgText *t = p->body;
    const char *src = p->k->bufs.items[s->value->buf].name, *dst = p->k->bufs.items[s->buf].name;
    int n = s->step, gen = 0;
    cg_c_block(t);
    for (int i = 0; i < n; i++)
        cg_c_line(t, "const nnc_v%d r%d_%d = NNC_LOAD(%d, %s + %s);", n, gen, i, n, src,
                  lidx_text(a, lidx_add(s->value->idx, lidx_const(i * s->src_stride))));
    for (int d = 1; d < n; d *= 2, gen++)
        for (int i = 0; i < n; i++) {
            int lo = i & ~d;
            CgText lanes = {.arena = a};
            for (int j = 0; j < n; j++) cg_c_printf(&lanes, ", %d", loops_transpose_lane(n, d, i & d, j));
            cg_c_line(t, "const nnc_v%d r%d_%d = __builtin_shufflevector(r%d_%d, r%d_%d%s);", n, gen + 1, i, gen,
                      lo, gen, lo + d, cg_c_text(&lanes));
        }
    for (int i = 0; i < n; i++)
        cg_c_line(t, "NNC_STORE(%d, %s + %s, r%d_%d);", n, dst, lidx_text(a, lidx_add(s->idx, lidx_const(i * s->stride))),
                  gen, i);
    cg_c_close(t);
}

static bool simple(const LStmt *body) {
    return body && !body->next && (body->kind == LS_SET || body->kind == LS_STORE);
}

static void stmt(Pr *p, const LStmt *s) {
    Arena *a = p->cf->arena;
    CgText *t = p->body;
    const LLocal *l = s->kind == LS_DECL || s->kind == LS_SET ? &p->k->locals.items[s->local] : NULL;
    switch (s->kind) {
    case LS_LOOP: {
        /* long: an index of a row of a large tensor, r * per_row, may pass INT_MAX */
        const char *v = lv_name(s->var);
        const char *step = s->step == 1 ? arena_printf(a, "%s++", v) : arena_printf(a, "%s += %d", v, s->step);
        const char *head = arena_printf(a, "for (long %s = %s; %s < %s; %s)", v,
                                        bound(p, s->from), v, bound(p, s->to), step);
        p->loop_depth++;
        if (simple(s->body)) { /* for (...) one statement; */
            CgText line = {.arena = a};
            Pr inner = *p;
            inner.body = &line;
            stmt(&inner, s->body);
            p->seed_used = inner.seed_used;
            p->range_used = inner.range_used;
            cg_c_line(t, "%s %.*s", head, line.len - 1, cg_c_text(&line));
        } else {
            cg_c_open(t, "%s", head);
            stmts(p, s->body);
            cg_c_close(t);
        }
        p->loop_depth--;
        break;
    }
    case LS_BLOCK:
        cg_c_block(t);
        stmts(p, s->body);
        cg_c_close(t);
        break;
    case LS_IF:
        if (s->cond == LC_WIDE || s->cond == LC_SHUFFLE) { /* chosen by the compiler's macros */
            if (s->cond == LC_SHUFFLE) p->cf->helpers |= 1u << H_VECTORS | 1u << H_SHUFFLE;
            cg_c_put(t, s->cond == LC_WIDE ? "#if NNC_WIDE_VECTORS\n" : "#if NNC_SHUFFLE\n");
            stmts(p, s->body);
            cg_c_put(t, "#else\n");
            stmts(p, s->orelse);
            cg_c_put(t, "#endif\n");
            break;
        }
        p->step_used |= s->cond == LC_FIRST_STEP;
        p->range_used |= s->cond == LC_IN_RANGE;
        if (s->cond == LC_IN_RANGE) cg_c_open(t, "if (lo <= %ld && %ld < hi)", s->idx.c, s->idx.c);
        else if (s->cond == LC_ROWS) cg_c_open(t, "if (n >= %ld)", s->idx.c);
        else cg_c_open(t, s->cond == LC_HAS_Y ? "if (y != NULL)" : "if (step == 1)");
        stmts(p, s->body);
        cg_c_close(t);
        break;
    case LS_DECL:
        if (l->size) cg_c_line(t, "nnc_real %s[%d] = {0};", l->name, l->size);
        else cg_c_line(t, "%snnc_real %s = %s;", l->is_const ? "const " : "", l->name, expr(p, s->value));
        break;
    case LS_SET:
        if (accumulates(s)) cg_c_line(t, "%s += %s;", local_text(p, s->local, s->idx), expr(p, s->value->in[1]));
        else cg_c_line(t, "%s = %s;", local_text(p, s->local, s->idx), expr(p, s->value));
        break;
    case LS_STORE:
        cg_c_line(t, "%s[%s] %s= %s;", p->k->bufs.items[s->buf].name, lidx_text(a, s->idx), s->add ? "+" : "",
                  expr(p, s->value));
        break;
    case LS_LOSS:
        cg_c_line(t, s->times_rows ? "loss += (double)n * %s;" : "loss += %s;", expr(p, s->value));
        break;
    case LS_COMMENT:
        cg_c_line(t, "/* %s */", cg_comment(a, s->text));
        break;
    case LS_TRANSPOSE:
        transpose_tile(p, s);
        break;
    }
}

/* A value that differs from lane to lane: a vector in a chunk. */
static bool lane_varying(const Pr *p, const LExpr *e) {
    switch (e->kind) {
    case LX_LOAD: return e->idx.k[LV_J0] != 0;
    case LX_LOCAL: return e->idx.k[LV_J0] != 0 || p->vector_local[e->local];
    case LX_OP: return lane_varying(p, e->in[0]) || (e->in[1] && lane_varying(p, e->in[1]));
    default: return false;
    }
}

/* Whether the statements of a vector chunk print as vectors: each value
** stored is a vector (a store of a scalar would need a broadcast). Marks
** the locals declared as vectors. */
static bool vector_stmts_ok(Pr *p, const LStmt *s) {
    for (; s; s = s->next) {
        if (s->kind == LS_BLOCK && !vector_stmts_ok(p, s->body)) return false;
        if (s->kind == LS_DECL) p->vector_local[s->local] = lane_varying(p, s->value);
        if ((s->kind == LS_SET || s->kind == LS_STORE) && !lane_varying(p, s->value)) return false;
    }
    return true;
}

static bool vector_chunk_ok(Pr *p, const LStmt *s) {
    if (!loops_vector_chunk(p->k, s)) return false;
    long lanes = s->to.c;
    return (lanes == 4 || lanes == 8 || lanes == 16) && vector_stmts_ok(p, s->body);
}

static void vector_stmts(Pr *p, const LStmt *s) {
    CgText *t = p->body;
    for (; s; s = s->next) {
        switch (s->kind) {
        case LS_BLOCK:
            cg_c_block(t);
            vector_stmts(p, s->body);
            cg_c_close(t);
            break;
        case LS_DECL:
            if (p->vector_local[s->local])
                cg_c_line(t, "const nnc_v%d %s = %s;", p->lanes, p->k->locals.items[s->local].name, expr(p, s->value));
            else
                stmt(p, s);
            break;
        case LS_SET:
            cg_c_line(t, "NNC_STORE(%d, %s, %s);", p->lanes,
                      lane0_address(p, p->k->locals.items[s->local].name, s->idx), expr(p, s->value));
            break;
        case LS_STORE: {
            const char *at = lane0_address(p, p->k->bufs.items[s->buf].name, s->idx);
            const char *value = s->add ? arena_printf(p->cf->arena, "NNC_LOAD(%d, %s) + %s", p->lanes, at,
                                                      operand(p, s->value, BIND_MUL))
                                       : expr(p, s->value);
            cg_c_line(t, "NNC_STORE(%d, %s, %s);", p->lanes, at, value);
            break;
        }
        default: stmt(p, s); break; /* LS_COMMENT */
        }
    }
}

/* A run of chunks that print as vectors, under NNC_VECTORS, then as the
** loops they are for other compilers; returns the statement after it. */
static const LStmt *vector_chunks(Pr *p, const LStmt *s) {
    const LStmt *end = s;
    while (end && vector_chunk_ok(p, end)) end = end->next;
    if (end == s) return s;
    p->cf->helpers |= 1u << H_VECTORS;
    CgText vectors = {.arena = p->cf->arena, .indent = p->body->indent}, *body = p->body;
    p->body = &vectors;
    p->vsqrt = p->vexp = 0;
    for (const LStmt *c = s; c != end; c = c->next) {
        p->lanes = (int)c->to.c;
        vector_stmts(p, c->body);
        p->lanes = 0;
    }
    p->body = body;
    cg_c_put(body, "#if NNC_VECTORS");
    for (int lanes = 4; lanes <= 16; lanes *= 2)
        if (p->vsqrt & (unsigned)lanes) cg_c_printf(body, " && defined(NNC_VSQRT%d)", lanes);
    for (int lanes = 4; lanes <= 16; lanes *= 2)
        if (p->vexp & (unsigned)lanes) cg_c_printf(body, " && defined(NNC_VEXP%d)", lanes);
    cg_c_put(body, "\n");
    cg_c_put(body, cg_c_text(&vectors));
    cg_c_put(body, "#else\n");
    for (const LStmt *c = s; c != end; c = c->next) stmt(p, c);
    cg_c_put(p->body, "#endif\n");
    return end;
}

static void stmts(Pr *p, const LStmt *s) {
    while (s) {
        const LStmt *next = vector_chunks(p, s);
        if (next == s) {
            stmt(p, s);
            next = s->next;
        }
        s = next;
    }
}

/* ---- the two functions ---- */

static bool pointer_arg(const LBuf *b) {
    return b->base == LB_PARAMS || b->base == LB_GRADS || b->base == LB_OPT || b->base == LB_SCRATCH;
}

static bool has_base(const LoopKernel *k, LBufBase base) {
    for (int i = 0; i < k->bufs.len; i++)
        if (k->bufs.items[i].base == base) return true;
    return false;
}

static const char *base_name(LBufBase base) {
    static const char *const names[] = {"params", "grads", "opt", "scratch"};
    return names[base];
}

/* The body's scalar and row arguments, as declared and as passed. */
static const char *body_args(LKernelKind kind, bool decl) {
    switch (kind) {
    case LK_PREDICT:
        return decl ? "int n, const nnc_real *restrict x, nnc_real *restrict y" : "n, x, y";
    case LK_TRAIN:
        return decl ? "int n, double scale, uint64_t seed, uint64_t first_row,\n"
                      "    const nnc_real *restrict x, const nnc_real *restrict t, nnc_real *restrict y"
                    : "n, scale, seed, first_row, x, t, y";
    case LK_EVAL:
        return decl ? "int n, const nnc_real *restrict x, const nnc_real *restrict t, nnc_real *restrict y"
                    : "n, x, t, y";
    case LK_REGULARIZE:
        return decl ? "int unused" : "0";
    default:
        return decl ? "long step, double learning_rate, long lo, long hi" : "step, learning_rate, lo, hi";
    }
}

static const char *outer_signature(Pr *p) {
    Arena *a = p->cf->arena;
    const char *name = p->k->name;
    switch (p->k->kind) {
    case LK_PREDICT:
        if (p->cf->model->infer)
            return arena_printf(a, "static void %s(nnc_real *restrict scratch, const nnc_real *restrict x,\n"
                                   "    nnc_real *restrict y, int n)", name);
        return arena_printf(a, "static void %s(const nnc_real *params, nnc_real *scratch, const nnc_real *x,\n"
                               "    nnc_real *y, int n)", name);
    case LK_TRAIN:
        return arena_printf(a, "static double %s(const nnc_real *params, nnc_real *grads,\n"
                               "    nnc_real *scratch, const nnc_real *x, const nnc_real *t, int n, double scale,\n"
                               "    uint64_t seed, uint64_t first_row, nnc_real *y)", name);
    case LK_EVAL:
        return arena_printf(a, "static double %s(const nnc_real *params, nnc_real *scratch,\n"
                               "    const nnc_real *x, const nnc_real *t, int n, nnc_real *y)", name);
    case LK_REGULARIZE:
        return arena_printf(a, "static double %s(const nnc_real *params, nnc_real *grads)", name);
    default:
        return arena_printf(a, "static void %s(nnc_real *params, const nnc_real *grads, nnc_real *opt, long step,\n"
                               "    double learning_rate, long lo, long hi)", name);
    }
}

static bool returns_loss(LKernelKind kind) {
    return kind != LK_PREDICT && kind != LK_UPDATE;
}

static void const_array(Pr *p, CgText *out, const LBuf *b) {
    Arena *a = p->cf->arena;
    bool f64 = p->cf->o->f64;
    cg_c_printf(out, "    static const nnc_real %s[%ld] = {", b->name, b->count);
    for (long i = 0; i < b->count; i++) {
        double v = b->round ? (double)(float)b->data[i] : b->data[i];
        cg_c_printf(out, "%s%s", i ? (i % 8 ? ", " : ",\n        ") : "", cg_c_scalar_text(a, v, f64));
    }
    cg_c_printf(out, "}; /* %s */\n", cg_comment(a, b->note));
}

static void unused_args(Pr *p, CgText *out) {
    const LoopKernel *k = p->k;
    LKernelKind kind = k->kind;
    if (kind <= LK_EVAL && !has_base(k, LB_X)) cg_c_put(out, "    (void)x;\n");
    if ((kind == LK_TRAIN || kind == LK_EVAL) && !has_base(k, LB_T)) cg_c_put(out, "    (void)t;\n");
    if (kind <= LK_EVAL && !has_base(k, LB_Y)) cg_c_put(out, "    (void)y;\n");
    if (kind == LK_TRAIN && !k->uses_scale) cg_c_put(out, "    (void)scale;\n");
    if (kind == LK_TRAIN && !p->seed_used) cg_c_put(out, "    (void)seed;\n    (void)first_row;\n");
    if (kind == LK_REGULARIZE) cg_c_put(out, "    (void)unused;\n");
    if (kind != LK_UPDATE) return;
    cg_c_put(out, k->uses_lr ? "    const nnc_real lr = (nnc_real)learning_rate;\n" : "    (void)learning_rate;\n");
    if (k->uses_step) cg_c_put(out, "    const nnc_real step_r = (nnc_real)step;\n");
    else if (!p->step_used) cg_c_put(out, "    (void)step;\n");
    if (!p->range_used) cg_c_put(out, "    (void)lo;\n    (void)hi;\n");
}

static void body_function(Pr *p, CgText *out) {
    const LoopKernel *k = p->k;
    const char *ret = returns_loss(k->kind) ? "double" : "void";
    cg_c_printf(out, "\nstatic %s %s_body(%s", ret, k->name, body_args(k->kind, true));
    for (int i = 0; i < k->bufs.len; i++) {
        const LBuf *b = &k->bufs.items[i];
        if (pointer_arg(b))
            cg_c_printf(out, ",\n    %snnc_real *restrict %s /* %s */", b->written ? "" : "const ", b->name,
                        cg_comment(p->cf->arena, b->note));
    }
    cg_c_put(out, ") {\n");
    for (int i = 0; i < k->bufs.len; i++)
        if (k->bufs.items[i].base == LB_CONST) const_array(p, out, &k->bufs.items[i]);
    if (k->uses_scale) cg_c_put(out, "    const nnc_real sc = (nnc_real)scale;\n");
    if (returns_loss(k->kind)) cg_c_put(out, "    double loss = 0;\n");
    unused_args(p, out);
    cg_c_put(out, cg_c_text(p->body));
    if (returns_loss(k->kind)) cg_c_put(out, "    return loss;\n");
    cg_c_put(out, "}\n\n");
}

static void outer_function(Pr *p, CgText *out) {
    const LoopKernel *k = p->k;
    if (k->kind <= LK_EVAL)
        cg_c_printf(out, "/* %s: %s (kernel ABI).\n** Needs scratch[%ld + n * %ld]. */\n", k->name, k->doc,
                    k->scratch_fixed, k->scratch_per_row);
    else
        cg_c_printf(out, "/* %s: %s. */\n", k->name, k->doc);
    cg_c_printf(out, "%s {\n", outer_signature(p));
    bool infer_predict = p->cf->model->infer && k->kind == LK_PREDICT;
    for (LBufBase base = LB_PARAMS; base <= LB_SCRATCH; base++) {
        bool in_signature = base == LB_SCRATCH ? k->kind <= LK_EVAL
                            : base == LB_PARAMS ? !infer_predict
                            : base == LB_GRADS  ? k->kind >= LK_TRAIN && k->kind != LK_EVAL
                                                : k->kind == LK_UPDATE;
        if (in_signature && !has_base(k, base)) cg_c_printf(out, "    (void)%s;\n", base_name(base));
    }
    cg_c_printf(out, "    %s%s_body(%s", returns_loss(k->kind) ? "return " : "", k->name, body_args(k->kind, false));
    for (int i = 0; i < k->bufs.len; i++) {
        const LBuf *b = &k->bufs.items[i];
        if (pointer_arg(b)) cg_c_printf(out, ",\n        %s + %ld", base_name(b->base), b->offset);
    }
    cg_c_put(out, ");\n}\n");
}

void cg_c_print_kernel(CgFile *cf, CgText *out, const LoopKernel *k) {
    CgText body = {.arena = cf->arena, .indent = 1};
    Pr p = {.cf = cf, .k = k, .body = &body, .vector_local = ARENA_ARRAY(cf->arena, bool, k->locals.len + 1)};
    stmts(&p, k->body->body);
    body_function(&p, out);
    outer_function(&p, out);
}

void cg_c_kernels(CgFile *cf, CgText *out) {
    for (int kind = 0; kind < 5; kind++)
        if (cf->model->kernel[kind]) cg_c_print_kernel(cf, out, cf->model->kernel[kind]);
}
