/*
** loop_build.c — constructing the loop IR: index arithmetic with the
** constant part folded, expressions, and statements appended to the
** innermost open loop, block or condition.
*/
#include "loops.h"

#include <stdarg.h>
#include <string.h>

const char *const lk_kind_names[5] = {"predict", "forward_backward", "eval_loss", "regularize", "update"};

const char *const lop_names[LOP_COUNT] = {
    "neg", "exp", "log", "sqrt", "abs", "tanh", "erf", "square", "step", "relu", "selu", "sigmoid",
    "softplus", "softsign", "swish", "gelu", "sign", "leaky_relu", "elu", "add", "sub", "mul", "div",
    "pow", "gt", "ge", "eq", "divnz", "minimum", "maximum", "select",
};

int lop_arity(LOp op) {
    return op == LOP_SELECT ? 3 : op >= LOP_ADD ? 2 : 1;
}

/* ---- indices ---- */

const char *lv_name(int v) {
    static const char *const fixed[] = {"k", "jb", "e"};
    static char names[2 * LV_AXES][4];
    if (v == LV_R) return "r";
    if (v >= LV_K) return fixed[v - LV_K];
    char *s = names[v - LV_I0];
    snprintf(s, sizeof names[0], "%c%d", v < LV_J0 ? 'i' : 'j', (v - LV_I0) % LV_AXES);
    return s;
}

LIdx lidx_const(long c) {
    LIdx x;
    memset(&x, 0, sizeof x);
    x.c = c;
    return x;
}

LIdx lidx_var(int v) {
    LIdx x = lidx_const(0);
    x.k[v] = 1;
    return x;
}

LIdx lidx_add(LIdx a, LIdx b) {
    a.c += b.c;
    for (int v = 0; v < LV_COUNT; v++) a.k[v] += b.k[v];
    return a;
}

LIdx lidx_scale(LIdx a, long m) {
    a.c *= m;
    for (int v = 0; v < LV_COUNT; v++) a.k[v] *= m;
    return a;
}

bool lidx_is_const(LIdx a) {
    for (int v = 0; v < LV_COUNT; v++)
        if (a.k[v]) return false;
    return true;
}

const char *lidx_text(Arena *a, LIdx x) {
    char buf[512];
    int o = 0;
    for (int v = 0; v < LV_COUNT; v++) {
        if (!x.k[v] || o > (int)sizeof buf - 64) continue;
        const char *sep = o ? " + " : "";
        if (x.k[v] == 1) o += snprintf(buf + o, sizeof buf - (size_t)o, "%s%s", sep, lv_name(v));
        else o += snprintf(buf + o, sizeof buf - (size_t)o, "%s%s * %ld", sep, lv_name(v), x.k[v]);
    }
    if (x.c || !o) snprintf(buf + o, sizeof buf - (size_t)o, "%s%ld", o ? " + " : "", x.c);
    return arena_strdup(a, buf);
}

/* ---- expressions ---- */

static LExpr *expr(Arena *a, LxKind kind) {
    LExpr *e = ARENA_NEW(a, LExpr);
    e->kind = kind;
    return e;
}

LExpr *lx_const(Arena *a, double v) {
    LExpr *e = expr(a, LX_CONST);
    e->value = v;
    return e;
}

LExpr *lx_load(Arena *a, int buf, LIdx idx) {
    LExpr *e = expr(a, LX_LOAD);
    e->buf = buf;
    e->idx = idx;
    return e;
}

LExpr *lx_local(Arena *a, int local, LIdx idx) {
    LExpr *e = expr(a, LX_LOCAL);
    e->local = local;
    e->idx = idx;
    return e;
}

LExpr *lx_arg(Arena *a, LArg arg) {
    LExpr *e = expr(a, LX_ARG);
    e->arg = arg;
    return e;
}

LExpr *lx_op(Arena *a, LOp op, double value, LExpr *x, LExpr *y, LExpr *z) {
    LExpr *e = expr(a, LX_OP);
    e->op = op;
    e->value = value;
    e->in[0] = x;
    e->in[1] = y;
    e->in[2] = z;
    return e;
}

/* ---- statements ---- */

void lb_init(LBuilder *b, Arena *a, LoopKernel *k) {
    memset(b, 0, sizeof *b);
    b->arena = a;
    b->k = k;
    k->body = ARENA_NEW(a, LStmt);
    k->body->kind = LS_BLOCK;
    b->open[0] = k->body;
    b->tail[0] = &k->body->body;
}

int lb_buf(LBuilder *b, LBuf buf) {
    ARENA_PUSH(b->arena, b->k->bufs, buf);
    return b->k->bufs.len - 1;
}

int lb_local(LBuilder *b, const char *name, int size, bool is_const) {
    ARENA_PUSH(b->arena, b->k->locals, ((LLocal){name, size, is_const}));
    return b->k->locals.len - 1;
}

static LStmt *append(LBuilder *b, LsKind kind) {
    LStmt *s = ARENA_NEW(b->arena, LStmt);
    s->kind = kind;
    *b->tail[b->depth] = s;
    b->tail[b->depth] = &s->next;
    return s;
}

static void push(LBuilder *b, LStmt *s) {
    if (b->depth + 1 >= (int)(sizeof b->open / sizeof b->open[0])) die("loop IR nested too deep");
    b->depth++;
    b->open[b->depth] = s;
    b->tail[b->depth] = &s->body;
}

LBound lbound(long c) {
    return (LBound){.c = c};
}

LBound lbound_rows(long rows, long c) {
    return (LBound){.c = c, .rows = rows};
}

LBound lbound_range(LRange end, long offset, long c) {
    return (LBound){.c = c, .range = end, .offset = offset};
}

void lb_loop(LBuilder *b, int var, LBound from, LBound to, int step, LHint hint) {
    LStmt *s = append(b, LS_LOOP);
    s->var = var;
    s->from = from;
    s->to = to;
    s->step = step;
    s->hint = hint;
    push(b, s);
}

void lb_block(LBuilder *b) {
    push(b, append(b, LS_BLOCK));
}

void lb_if(LBuilder *b, LCond cond) {
    LStmt *s = append(b, LS_IF);
    s->cond = cond;
    push(b, s);
}

void lb_if_in_range(LBuilder *b, long at) {
    lb_if(b, LC_IN_RANGE);
    b->open[b->depth]->idx = lidx_const(at);
}

void lb_if_rows(LBuilder *b, long rows) {
    lb_if(b, LC_ROWS);
    b->open[b->depth]->idx = lidx_const(rows);
}

void lb_else(LBuilder *b) {
    LStmt *s = b->open[b->depth];
    if (s->kind != LS_IF) die("loop IR: else without if");
    b->tail[b->depth] = &s->orelse;
}

void lb_close(LBuilder *b) {
    if (b->depth == 0) die("loop IR: close without open");
    b->depth--;
}

void lb_decl(LBuilder *b, int local, LExpr *value) {
    LStmt *s = append(b, LS_DECL);
    s->local = local;
    s->value = value;
}

void lb_set(LBuilder *b, int local, LIdx idx, LExpr *value) {
    LStmt *s = append(b, LS_SET);
    s->local = local;
    s->idx = idx;
    s->value = value;
}

LStmt *lb_store(LBuilder *b, int buf, LIdx idx, LExpr *value, bool add) {
    LStmt *s = append(b, LS_STORE);
    s->buf = buf;
    s->idx = idx;
    s->value = value;
    s->add = add;
    b->k->bufs.items[buf].written = true;
    return s;
}

void lb_transpose(LBuilder *b, int buf, LIdx idx, long stride, LExpr *src, long src_stride, int size) {
    if (src->kind != LX_LOAD) die("loop IR: a transposed tile reads a buffer");
    LStmt *s = lb_store(b, buf, idx, src, false); /* the tile's first element, and then the rest */
    s->kind = LS_TRANSPOSE;
    s->stride = stride;
    s->src_stride = src_stride;
    s->step = size;
}

int loops_transpose_lane(int step, int d, bool high, int j) {
    if (high) return j & d ? step + j : j + d;
    return j & d ? step + j - d : j;
}

void lb_loss(LBuilder *b, LExpr *value, bool times_rows) {
    LStmt *s = append(b, LS_LOSS);
    s->value = value;
    s->times_rows = times_rows;
    b->k->has_loss = true;
}

void lb_comment(LBuilder *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *text = arena_alloc(b->arena, (size_t)len + 1);
    va_start(ap, fmt);
    vsnprintf(text, (size_t)len + 1, fmt, ap);
    va_end(ap);
    append(b, LS_COMMENT)->text = text;
}

/* ---- reading a kernel ---- */

static bool lane_index(LIdx idx) {
    return idx.k[LV_J0] == 0 || idx.k[LV_J0] == 1;
}

static bool vector_expr(const LExpr *e) {
    switch (e->kind) {
    case LX_CONST: case LX_ARG: return true;
    case LX_LOAD: case LX_LOCAL: return lane_index(e->idx);
    case LX_OP:
        if (e->op == LOP_SQRT || e->op == LOP_SQUARE || e->op == LOP_NEG || e->op == LOP_EXP || e->op == LOP_SIGMOID)
            return vector_expr(e->in[0]);
        return (e->op == LOP_ADD || e->op == LOP_SUB || e->op == LOP_MUL || e->op == LOP_DIV) &&
               vector_expr(e->in[0]) && vector_expr(e->in[1]);
    default: return false;
    }
}

static bool vector_body(const LoopKernel *k, const LStmt *s) {
    for (; s; s = s->next) {
        bool ok = false;
        switch (s->kind) {
        case LS_BLOCK: ok = vector_body(k, s->body); break;
        case LS_DECL: ok = !k->locals.items[s->local].size && vector_expr(s->value); break;
        case LS_SET: ok = k->locals.items[s->local].size && s->idx.k[LV_J0] == 1 && vector_expr(s->value); break;
        case LS_STORE: ok = s->idx.k[LV_J0] == 1 && vector_expr(s->value); break;
        case LS_COMMENT: ok = true; break;
        default: break;
        }
        if (!ok) return false;
    }
    return true;
}

bool loops_vector_chunk(const LoopKernel *k, const LStmt *s) {
    return s->kind == LS_LOOP && s->hint == LH_LANES && !s->from.rows && !s->to.rows && s->var == LV_J0 &&
           s->from.c == 0 && s->step == 1 && vector_body(k, s->body);
}
