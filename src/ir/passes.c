/*
** passes.c — the optimization pipeline, all of it in ir_optimize, and what
** every pass shares.
**
**   -O0  a copy
**   -O1  fold, cse, dce
**   -O2  fold, algebra, cse, dce, repeated until nothing changes (at most
**        MAX_ROUNDS times)
** Which nodes one loop nest computes is the code generator's plan's
** (src/codegen/plan.c), not a pass's.
**
** Passes rebuild rather than mutate: nodes are hash-consed and immutable, so
** each pass re-emits the old function's nodes into a new one (pass_begin),
** maps old to new, and remaps the result and the outputs (pass_end). In debug builds every
** pass is followed by ir_verify, so a pass that breaks the graph dies where
** it did it (ARCHITECTURE "The IR").
*/
#include "ir.h"

#include <string.h>

enum { MAX_ROUNDS = 8 };

/* ---- rebuilding ---- */

IrFunc *pass_begin(const IrFunc *f, IrNode ***map) {
    IrFunc *g = ir_func_new(f->module, f->name);
    *map = ARENA_ARRAY(f->module->arena, IrNode *, f->nodes.len ? f->nodes.len : 1);
    return g;
}

static IrNode *mapped(IrNode *const *map, const IrNode *n, const char *what) {
    if (!n) return NULL;
    if (!map[n->id]) die("pass: the %s (%%%d) was not rebuilt", what, n->id);
    return map[n->id];
}

void pass_end(IrFunc *dst, const IrFunc *src, IrNode *const *map) {
    dst->result = mapped(map, src->result, "result");
    for (int i = 0; i < src->outputs.len; i++) {
        IrOutput out = src->outputs.items[i];
        out.value = mapped(map, out.value, "output");
        ARENA_PUSH(dst->module->arena, dst->outputs, out);
    }
}

/* ---- liveness and uses ---- */

bool *pass_outputs(const IrFunc *f) {
    bool *out = ARENA_ARRAY(f->module->arena, bool, f->nodes.len ? f->nodes.len : 1);
    if (f->result) out[f->result->id] = true;
    for (int i = 0; i < f->outputs.len; i++) out[f->outputs.items[i].value->id] = true;
    return out;
}

/* Operands precede their users, so one backward sweep marks everything. */
bool *pass_live(const IrFunc *f) {
    bool *live = pass_outputs(f);
    for (int i = f->nodes.len - 1; i >= 0; i--) {
        if (!live[i]) continue;
        const IrNode *n = f->nodes.items[i];
        for (int k = 0; k < n->nin; k++) live[n->in[k]->id] = true;
    }
    return live;
}

int pass_live_count(const IrFunc *f) {
    bool *live = pass_live(f);
    int count = 0;
    for (int i = 0; i < f->nodes.len; i++) count += live[i];
    return count;
}

int *pass_consumers(const IrFunc *f, const bool *live) {
    int *uses = ARENA_ARRAY(f->module->arena, int, f->nodes.len ? f->nodes.len : 1);
    for (int i = 0; i < f->nodes.len; i++) {
        if (!live[i]) continue;
        const IrNode *n = f->nodes.items[i];
        for (int k = 0; k < n->nin; k++) {
            bool repeat = false; /* mul %a, %a is one consumer */
            for (int j = 0; j < k; j++) repeat |= n->in[j] == n->in[k];
            if (!repeat) uses[n->in[k]->id]++;
        }
    }
    return uses;
}

/* ---- comparing functions (the fixed point, idempotence) ---- */

static bool same_node(const IrNode *a, const IrNode *b) {
    if (a->op != b->op || a->nin != b->nin || !shape_eq(a->shape, b->shape)) return false;
    for (int k = 0; k < a->nin; k++)
        if (a->in[k]->id != b->in[k]->id) return false;
    if (memcmp(&a->value, &b->value, sizeof a->value) != 0 || a->axis != b->axis ||
        a->param != b->param || memcmp(&a->slice, &b->slice, sizeof a->slice) != 0 ||
        (a->data == NULL) != (b->data == NULL))
        return false;
    return !a->data ||
           memcmp(a->data, b->data, sizeof(double) * (size_t)shape_numel(a->shape)) == 0;
}

static int id_or_none(const IrNode *n) {
    return n ? n->id : -1;
}

bool pass_same(const IrFunc *a, const IrFunc *b) {
    if (a->nodes.len != b->nodes.len || a->outputs.len != b->outputs.len ||
        id_or_none(a->result) != id_or_none(b->result))
        return false;
    for (int i = 0; i < a->nodes.len; i++)
        if (!same_node(a->nodes.items[i], b->nodes.items[i])) return false;
    for (int i = 0; i < a->outputs.len; i++) {
        IrOutput x = a->outputs.items[i], y = b->outputs.items[i];
        if (x.kind != y.kind || x.param != y.param || x.slot != y.slot || x.value->id != y.value->id)
            return false;
    }
    return true;
}

bool pass_fill_value(const IrNode *n, double *value) {
    if (n->op != OP_CONST) return false;
    if (!n->data) {
        *value = n->value;
        return true;
    }
    int64_t count = shape_numel(n->shape);
    for (int64_t i = 1; i < count; i++)
        if (memcmp(&n->data[i], &n->data[0], sizeof(double)) != 0) return false;
    *value = n->data[0];
    return true;
}

/* ---- the pipeline ---- */

/* A pass that breaks the graph is a compiler bug: stop where it happened. */
static void check(const IrFunc *f, const char *pass) {
#ifndef NDEBUG
    char why[256];
    if (!ir_verify(f, why, sizeof why)) die("%s after %s: %s", f->name, pass, why);
#else
    (void)f;
    (void)pass;
#endif
}

static IrFunc *copy(const IrFunc *f) {
    IrNode **map;
    IrFunc *g = pass_begin(f, &map);
    ir_copy_func(g, f, map);
    pass_end(g, f, map);
    return g;
}

static IrFunc *run(IrFunc *(*pass)(const IrFunc *), const char *name, IrFunc *f) {
    IrFunc *g = pass(f);
    check(g, name);
    return g;
}

IrFunc *ir_optimize(IrFunc *f, int level, IrPassStats *stats) {
    check(f, "its builder");
    int before = pass_live_count(f);
    IrFunc *g = copy(f);
    if (level == 1) {
        g = run(pass_fold, "fold", g);
        g = run(pass_cse, "cse", g);
        g = run(pass_dce, "dce", g);
    } else if (level >= 2) {
        for (int round = 0; round < MAX_ROUNDS; round++) {
            IrFunc *next = run(pass_fold, "fold", g);
            next = run(pass_algebra, "algebra", next);
            next = run(pass_cse, "cse", next);
            next = run(pass_dce, "dce", next);
            bool settled = pass_same(g, next);
            g = next;
            if (settled) break;
        }
    }
    if (stats) *stats = (IrPassStats){.nodes_before = before, .nodes_after = pass_live_count(g)};
    return g;
}
