/*
** loop_count.c — the floating-point operations a kernel executes, counted
** on its loop IR: every scalar op, every accumulating store and loss
** addition, times the trip counts of the loops around it. A loop over the
** rows runs n / step times; a count is fixed + per_row · n, exact when n
** is a multiple of the kernel's row tiles (--profile's GFLOP/s).
*/
#include "loops.h"

typedef struct Count {
    double fixed, per_row;
} Count;

static double expr_ops(const LExpr *e) {
    if (!e) return 0;
    double ops = e->kind == LX_OP || e->kind == LX_MASK || e->kind == LX_ONE_HOT;
    for (int i = 0; i < 3; i++) ops += expr_ops(e->in[i]);
    return ops;
}

static Count stmts(const LStmt *s);

/* Trip count of a loop: (to - from) / step, the row count n a variable;
** an update's loop over its range as over the whole range [0, c). */
static Count trips(const LStmt *s) {
    long from = s->from.range ? 0 : s->from.c;
    double rows = (s->to.rows > 0) - (s->from.rows > 0), c = (double)(s->to.c - from);
    return (Count){rows ? 0 : c / s->step, rows / s->step};
}

static Count stmt(const LStmt *s) {
    Count c = {0, 0}, body, t;
    switch (s->kind) {
    case LS_LOOP:
        body = stmts(s->body);
        t = trips(s);
        /* One loop over the rows at most: per row, or fixed times trips. */
        return (Count){body.fixed * t.fixed, body.fixed * t.per_row + body.per_row * (t.fixed ? t.fixed : 1)};
    case LS_BLOCK: case LS_IF: {
        Count a = stmts(s->body), b = stmts(s->orelse);
        return a.fixed + a.per_row >= b.fixed + b.per_row ? a : b; /* one branch runs */
    }
    case LS_STORE: c.fixed = expr_ops(s->value) + s->add; return c;
    case LS_LOSS: c.fixed = expr_ops(s->value) + 1 + s->times_rows; return c;
    case LS_DECL: case LS_SET: c.fixed = expr_ops(s->value); return c;
    default: return c;
    }
}

static Count stmts(const LStmt *s) {
    Count sum = {0, 0};
    for (; s; s = s->next) {
        Count c = stmt(s);
        sum.fixed += c.fixed;
        sum.per_row += c.per_row;
    }
    return sum;
}

void loops_flops(const LoopKernel *k, double *fixed, double *per_row) {
    Count c = stmts(k->body);
    *fixed = c.fixed;
    *per_row = c.per_row;
}
