/*
** pass_dce.c — dead code: only nodes the result or an output needs are
** rebuilt. Other passes leave their replaced nodes behind and count on this.
*/
#include "ir.h"

IrFunc *pass_dce(const IrFunc *f) {
    bool *live = pass_live(f);
    IrNode **map;
    IrFunc *g = pass_begin(f, &map);
    for (int i = 0; i < f->nodes.len; i++) {
        if (!live[i]) continue;
        const IrNode *n = f->nodes.items[i];
        IrNode *in[IR_MAX_IN];
        for (int k = 0; k < n->nin; k++) in[k] = map[n->in[k]->id];
        map[i] = ir_clone(g, n, in);
    }
    pass_end(g, f, map);
    return g;
}
