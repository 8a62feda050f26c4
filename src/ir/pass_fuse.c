/*
** pass_fuse.c — fusion grouping: which nodes one loop nest computes. It
** only sets node->group; nothing is rewritten. The C code generator
** implements exactly this rule (ARCHITECTURE "Code generation"):
**
**   Leaves (inputs, targets, parameters, gradients, state, hyperparameters,
**   constants, dropout masks) have group 0: they are buffers, not loops.
**   Every other live node is in exactly one group, numbered 1, 2, ... in the
**   order of each group's first node. A group's *root* is its last node in
**   node order; the group is one kernel, run where its root is, and kernels
**   run in the order of their roots (a valid schedule: see below).
**
**   Nodes are visited from the last to the first. Node p (not a leaf) joins
**   the group of its *first consumer* c (the consumer with the lowest id)
**   when all of these hold:
**     1. c is element-wise (OPF_EW), so c's loop runs over c's elements;
**     2. p has c's shape and c's `varying` (the same iteration space: per
**        sample, or once per batch);
**     3. p is element-wise, or p is a MATMUL or OUTER and c's group holds no
**        MATMUL or OUTER yet (at most one contraction per kernel: its
**        epilogue is the rest of the group);
**     4. every other consumer of p comes after the root of c's group.
**   Otherwise p is the root of a new group. An output value, or a member
**   with a consumer outside its group, is stored by the kernel; other
**   members live in registers.
**
** What that gives: the bias add and the activation of a dense layer join
** its matmul (its epilogue); in the backward pass the activation's
** derivative joins the matmul that computes the incoming adjoint (dh·f'(z)
** in that matmul's epilogue); the optimizer update of one parameter (the
** new state slots, stored as outputs, and the new value) is one group, one
** pass over the parameter; element-wise chains on one shape are one loop.
**
** Why a group can run as one kernel at its root: when p joins, its only
** consumers are c (inside) and nodes after the group's root (rule 4), so no
** path leaves the group and comes back, and nothing outside needs a member
** before the root has run. Visiting from the last node down means a
** group's root is fixed before anything joins it, so rule 4 stays true.
*/
#include "ir.h"

typedef struct Fuse {
    const IrFunc *f;
    int *first, *second; /* per node: its two lowest consumer ids, or -1 */
    int *parent;         /* union-find over node ids */
    int *root;           /* per representative: the group's last node */
    bool *anchored;      /* per representative: holds a MATMUL or OUTER */
} Fuse;

static int find(Fuse *u, int i) {
    while (u->parent[i] != i) i = u->parent[i] = u->parent[u->parent[i]];
    return i;
}

static bool anchor(Op op) {
    return op == OP_MATMUL || op == OP_OUTER;
}

static bool computes(Op op) {
    return !(ir_ops[op].flags & OPF_LEAF);
}

static bool may_join(Fuse *u, const IrNode *p) {
    if (u->first[p->id] < 0) return false;
    const IrNode *c = u->f->nodes.items[u->first[p->id]];
    int g = find(u, c->id);
    if (!(ir_ops[c->op].flags & OPF_EW)) return false;                             /* rule 1 */
    if (!shape_eq(p->shape, c->shape) || p->varying != c->varying) return false;   /* rule 2 */
    if (anchor(p->op) ? u->anchored[g] : !(ir_ops[p->op].flags & OPF_EW)) return false; /* 3 */
    return u->second[p->id] < 0 || u->second[p->id] > u->root[g];                  /* rule 4 */
}

/* Consumers are visited in increasing id, so the first two seen are the
** two lowest; a node using p twice counts once. */
static void consumers(Fuse *u, const bool *live) {
    const IrFunc *f = u->f;
    for (int i = 0; i < f->nodes.len; i++) u->first[i] = u->second[i] = -1;
    for (int i = 0; i < f->nodes.len; i++) {
        if (!live[i]) continue;
        const IrNode *n = f->nodes.items[i];
        for (int k = 0; k < n->nin; k++) {
            int p = n->in[k]->id;
            if (u->first[p] < 0) u->first[p] = i;
            else if (u->first[p] != i && u->second[p] < 0) u->second[p] = i;
        }
    }
}

void pass_fuse(IrFunc *f) {
    Arena *arena = f->module->arena;
    int len = f->nodes.len ? f->nodes.len : 1;
    bool *live = pass_live(f);
    Fuse u = {.f = f, .first = ARENA_ARRAY(arena, int, len), .second = ARENA_ARRAY(arena, int, len),
              .parent = ARENA_ARRAY(arena, int, len), .root = ARENA_ARRAY(arena, int, len),
              .anchored = ARENA_ARRAY(arena, bool, len)};
    consumers(&u, live);
    for (int i = 0; i < f->nodes.len; i++) {
        u.parent[i] = u.root[i] = i;
        u.anchored[i] = anchor(f->nodes.items[i]->op);
    }
    for (int i = f->nodes.len - 1; i >= 0; i--) {
        const IrNode *p = f->nodes.items[i];
        if (!live[i] || !computes(p->op) || !may_join(&u, p)) continue;
        int g = find(&u, u.first[i]);
        u.parent[i] = g; /* p is still alone: nothing below it has joined yet */
        u.anchored[g] |= anchor(p->op);
    }
    int *number = ARENA_ARRAY(arena, int, len), next = 0;
    for (int i = 0; i < f->nodes.len; i++) {
        IrNode *n = f->nodes.items[i];
        n->group = 0;
        if (!live[i] || !computes(n->op)) continue;
        int g = find(&u, i);
        if (!number[g]) number[g] = ++next;
        n->group = number[g];
    }
}
