/*
** pass_cse.c — common subexpressions. The builder hash-conses, so
** re-emitting every node into a new function merges equal ones; what it
** cannot see is that a + b and b + a are equal. Commutative operands are
** therefore put in node-id order first (in the new function's ids, so the
** order is canonical whatever the old function's was).
*/
#include "ir.h"

static bool commutative(Op op) {
    return op == OP_ADD || op == OP_MUL || op == OP_MINIMUM || op == OP_MAXIMUM || op == OP_EQ;
}

IrFunc *pass_cse(const IrFunc *f) {
    IrNode **map;
    IrFunc *g = pass_begin(f, &map);
    for (int i = 0; i < f->nodes.len; i++) {
        const IrNode *n = f->nodes.items[i];
        IrNode *in[IR_MAX_IN];
        for (int k = 0; k < n->nin; k++) in[k] = map[n->in[k]->id];
        if (commutative(n->op) && in[0]->id > in[1]->id) {
            IrNode *t = in[0];
            in[0] = in[1];
            in[1] = t;
        }
        map[i] = ir_clone(g, n, in);
    }
    pass_end(g, f, map);
    return g;
}
