/*
** plan.c — loop-nest planning, shared by the C and LLVM backends.
**
** For every node of a kernel function it decides where the value lives
** (recomputed inline, a buffer of its own, or a free view of another's
** storage), which loop nests are small enough to write out, and in which
** phase it runs. The rules, in the order they are applied:
**
**   1. Only nodes reachable from an output are computed.
**   2. An element-wise node read once by a consumer that reads each of its
**      elements once per row (an element-wise node of its shape, a sum, the
**      left operand of a matmul, a batch sum, an output) is inlined into
**      that consumer's loop: chains of element-wise ops become one loop.
**   3. reshape, transpose, broadcast and slice of stored values are views:
**      no code, an offset and strides.
**   4. A matmul whose only reader is an element-wise chain of its shape
**      ending in a buffer writes into that buffer, the chain applied to
**      each sum as it is stored (bias and activation in the epilogue).
**   5. A batch sum read only by a gradient output adds straight into the
**      gradient, row of the result by row.
**   6. Uniform nodes run once per call, before the row loop of their phase;
**      per-row (varying) nodes inside it. A uniform node that reads rows
**      (a batch sum) ends a phase, so nodes reading it run after the loop.
**   7. W[i][k]·x[k] per row (the backward pass of a dense layer) reads a
**      copy of Wᵀ made once per call, so it vectorizes like the forward.
**   8. A row times weights of more than a few vectors runs a tile of rows
**      at a time, in a loop of its own outside the row loop (the lowering
**      sizes the tile for the target's registers, lower.h's LwTile), so
**      each weight loaded serves every row of the tile, and large weights
**      stream from memory once per tile.
**   9. A logsumexp over the axis of a softmax of the same operand, both
**      stored and in the same phase, is computed by the softmax from its
**      max and sum (the loss of a softmax output with cross-entropy): the
**      same additions in the same order, and half the exps.
**  10. A tiled matmul over a million weights or more copies each block of
**      weight columns to a contiguous panel before its tiles read it
**      (packs), except in inference code.
** Rules 4, 5, 7, 8, 9 and 10 are optimizations a backend may ignore: the
** values are the same either way.
*/
#include "codegen.h"

#include <string.h>

static bool is_ew(const IrNode *n) {
    return ir_ops[n->op].flags & OPF_EW;
}

/* Element (c) is a formula of operand elements: can be inlined. */
static bool is_pointwise(const IrNode *n) {
    return is_ew(n) || n->op == OP_OUTER || n->op == OP_ONE_HOT || n->op == OP_DROPOUT_MASK;
}

static bool is_view_op(Op op) {
    return op == OP_TRANSPOSE || op == OP_SLICE || op == OP_BROADCAST || op == OP_DROPOUT;
}

int cg_outputs(const IrFunc *f, IrOutput *out, int max) {
    if (f->outputs.len == 0 && f->result) {
        if (max > 0) out[0] = (IrOutput){.kind = OUT_PRED, .param = -1, .value = f->result};
        return 1;
    }
    for (int i = 0; i < f->outputs.len && i < max; i++) out[i] = f->outputs.items[i];
    return f->outputs.len;
}

int cg_bcast_axis(Shape operand, Shape result, int axis) {
    int d = axis - (result.rank - operand.rank);
    if (d < 0 || operand.dim[d] != result.dim[axis]) return -1;
    return d;
}

static void row_major(Shape s, long *stride) {
    long k = 1;
    for (int d = s.rank - 1; d >= 0; d--) {
        stride[d] = k;
        k *= s.dim[d];
    }
}

int cg_squeeze_axis(Shape from, Shape to, int axis) {
    if (from.dim[axis] == 1) return -1;
    int k = 0; /* axis is the k-th axis of size > 1 of from */
    for (int d = 0; d < axis; d++) k += from.dim[d] > 1;
    for (int d = 0; d < to.rank; d++)
        if (to.dim[d] > 1 && k-- == 0) return to.dim[d] == from.dim[axis] ? d : -2;
    return -2;
}

bool cg_squeeze(Shape from, Shape to) {
    int big_from = 0, big_to = 0;
    for (int d = 0; d < from.rank; d++) {
        big_from += from.dim[d] > 1;
        if (from.dim[d] > 1 && cg_squeeze_axis(from, to, d) < 0) return false;
    }
    for (int d = 0; d < to.rank; d++) big_to += to.dim[d] > 1;
    return big_from == big_to;
}

bool cg_contiguous(const CgAccess *at, Shape s) {
    long want[IR_MAX_RANK];
    row_major(s, want);
    for (int d = 0; d < s.rank; d++)
        if (s.dim[d] > 1 && at->stride[d] != want[d]) return false;
    return true;
}

/* ---- 1. liveness and uses ---- */

typedef struct Needs {
    bool *storage; /* a consumer cannot take it inline */
    bool *unit;    /* a consumer wants its last axis contiguous (matmul B) */
    bool *contig;  /* a consumer wants it row-major (reshape) */
} Needs;

static void count_uses(CgPlan *p, IrOutput *outs, int nouts, const bool *frozen) {
    const IrFunc *f = p->f;
    for (int i = 0; i < nouts; i++) {
        CgNodePlan *np = &p->node[outs[i].value->id];
        np->live = true;
        np->uses++;
        np->user = -1;
        if (outs[i].kind == OUT_GRAD) np->grad_out = np->uses == 1 ? i : -1;
    }
    for (int id = f->nodes.len - 1; id >= 0; id--) {
        const IrNode *n = f->nodes.items[id];
        if (!p->node[id].live || (frozen && frozen[id])) continue;
        for (int s = 0; s < n->nin; s++) {
            CgNodePlan *op = &p->node[n->in[s]->id];
            op->live = true;
            op->user = ++op->uses == 1 ? id : -1;
        }
    }
}

/* ---- 2. what consumers require of their operands ---- */

/* Reads each element of operand `slot` at most once per row, inside a loop
** where an inlined formula can be evaluated. */
static bool takes_inline(const IrNode *u, int slot) {
    const IrNode *x = u->in[slot];
    if (is_ew(u)) return shape_eq(u->shape, x->shape) && u->varying == x->varying;
    switch (u->op) {
    case OP_TRANSPOSE: case OP_SLICE: case OP_DROPOUT: case OP_PAD:
    case OP_SUM: case OP_MEAN: case OP_MAX: case OP_BATCH_SUM:
        return true;
    case OP_RESHAPE:
        return cg_squeeze(x->shape, u->shape);
    case OP_MATMUL:
        /* Its left operand is read once per block of sums (block.c): inline
        ** only when one block holds the row and no tile rereads it. */
        return slot == 0 && (u->in[1]->shape.rank < 2 ||
                             (u->shape.dim[u->shape.rank - 1] <= 32 && shape_numel(u->in[1]->shape) < CG_TILE_MIN));
    default:
        return false;
    }
}

static void find_needs(const CgPlan *p, Needs *nd, const bool *frozen) {
    const IrFunc *f = p->f;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *u = f->nodes.items[id];
        if (!p->node[id].live || (frozen && frozen[id])) continue;
        for (int s = 0; s < u->nin; s++) {
            int x = u->in[s]->id;
            if (!takes_inline(u, s)) nd->storage[x] = true;
            if (u->op == OP_MATMUL && s == 1 && u->in[1]->shape.rank == 2) nd->unit[x] = true;
            if (u->op == OP_RESHAPE && !cg_squeeze(u->in[0]->shape, u->shape)) nd->contig[x] = true;
        }
    }
}

/* ---- 3. places ---- */

static CgAccess own_access(const IrNode *n, CgStore store) {
    CgAccess at = {.store = store, .base = n->id};
    row_major(n->shape, at.stride);
    return at;
}

/* The view op's access from its operand's: NumPy's rules as strides. */
static CgAccess view_access(const IrNode *n, CgAccess x) {
    CgAccess at = x;
    Shape xs = n->in[0]->shape;
    switch (n->op) {
    case OP_TRANSPOSE:
        for (int d = 0; d < n->shape.rank; d++) at.stride[d] = x.stride[xs.rank - 1 - d];
        break;
    case OP_BROADCAST:
        for (int d = 0; d < n->shape.rank; d++) {
            int a = cg_bcast_axis(xs, n->shape, d);
            at.stride[d] = a < 0 ? 0 : x.stride[a];
        }
        break;
    case OP_SLICE: {
        int o = 0;
        for (int d = 0; d < xs.rank; d++) {
            bool sliced = d < n->slice.rank;
            if (sliced) at.offset += n->slice.start[d] * x.stride[d];
            if (!(sliced && (n->slice.drop >> d & 1u))) at.stride[o++] = x.stride[d];
        }
        break;
    }
    case OP_RESHAPE:
        /* Adding or removing axes of size 1 keeps any strides; otherwise
        ** the operand is row-major (place_view checks). */
        row_major(n->shape, at.stride);
        if (cg_squeeze(xs, n->shape))
            for (int d = 0; d < xs.rank; d++) {
                int a = cg_squeeze_axis(xs, n->shape, d);
                if (a >= 0) at.stride[a] = x.stride[d];
            }
        break;
    default: /* DROPOUT off: the identity */
        break;
    }
    return at;
}

static CgStore leaf_store(Op op) {
    switch (op) {
    case OP_INPUT: return CG_ST_INPUT;
    case OP_TARGET: return CG_ST_TARGET;
    case OP_PARAM: return CG_ST_PARAMS;
    case OP_GRAD: return CG_ST_GRADS;
    case OP_STATE: return CG_ST_STATE;
    default: return CG_ST_NONE;
    }
}

static bool has_access(const CgNodePlan *np) {
    return np->place != CG_INLINE;
}

static void place_view(CgPlan *p, const Needs *nd, const IrNode *n) {
    CgNodePlan *np = &p->node[n->id];
    const CgNodePlan *x = &p->node[n->in[0]->id];
    if (has_access(x)) {
        CgAccess at = view_access(n, x->at);
        bool unit_ok = !nd->unit[n->id] || n->shape.rank < 2 ||
                       at.stride[n->shape.rank - 1] == 1 || n->shape.dim[n->shape.rank - 1] == 1;
        bool contig_ok = !nd->contig[n->id] || cg_contiguous(&at, n->shape);
        bool fits = n->op != OP_RESHAPE || cg_squeeze(n->in[0]->shape, n->shape) ||
                    cg_contiguous(&x->at, n->in[0]->shape);
        if (unit_ok && contig_ok && fits) {
            np->place = CG_VIEW;
            np->at = at;
            return;
        }
    } else if ((n->op != OP_RESHAPE || cg_squeeze(n->in[0]->shape, n->shape)) && np->uses == 1 &&
               !nd->storage[n->id] && !nd->unit[n->id] && !nd->contig[n->id]) {
        np->place = CG_INLINE;
        return;
    }
    np->place = CG_BUFFER;
}

/* A literal or a scalar argument, seen through any view: the same text at
** every element, so never worth storing. */
bool cg_is_free(const IrNode *n) {
    while (is_view_op(n->op) || n->op == OP_RESHAPE) n = n->in[0];
    return (n->op == OP_CONST && !n->data) || n->op == OP_HYPER;
}

/* An inlined node becomes part of its reader's expression; a chain of them
** (h = tanh(h) * x, ten thousand times) would make one expression as deep,
** and every walk over it recursion as deep. Past CG_INLINE_DEPTH links the
** value is stored, which starts a new expression: the values are the same. */
static void limit_depth(CgPlan *p, const IrNode *n) {
    CgNodePlan *np = &p->node[n->id];
    int depth = 0;
    for (int s = 0; s < n->nin; s++) {
        const CgNodePlan *op = &p->node[n->in[s]->id];
        if (op->place == CG_INLINE && op->depth > depth) depth = op->depth;
    }
    np->depth = depth + 1;
    if (np->depth > CG_INLINE_DEPTH) {
        np->place = CG_BUFFER;
        np->depth = 0;
    }
}

static void place_node(CgPlan *p, const Needs *nd, const IrNode *n, bool frozen) {
    CgNodePlan *np = &p->node[n->id];
    CgStore store = leaf_store(n->op);
    if (store != CG_ST_NONE) {
        np->place = CG_BUFFER;
        np->at = own_access(n, store);
        return;
    }
    if ((n->op == OP_CONST && n->data) || frozen) {
        np->place = CG_BUFFER;
        np->at = own_access(n, CG_ST_CONST);
        return;
    }
    if (cg_is_free(n))
        np->place = CG_INLINE;
    else if (is_view_op(n->op) || n->op == OP_RESHAPE)
        place_view(p, nd, n);
    else if (is_pointwise(n) && np->uses == 1 && !nd->storage[n->id])
        np->place = CG_INLINE;
    else
        np->place = CG_BUFFER;
    if (np->place == CG_INLINE && !cg_is_free(n)) limit_depth(p, n);
    if (np->place == CG_BUFFER) np->at = own_access(n, n->varying ? CG_ST_ROWS : CG_ST_FIXED);
}

/* ---- 4, 5. fusion ---- */

/* The buffer at the end of m's single-reader element-wise chain, if every
** link has m's shape and varying; -1 otherwise. */
static int epilogue_root(const CgPlan *p, const IrNode *m) {
    const IrFunc *f = p->f;
    const IrNode *n = m;
    while (p->node[n->id].uses == 1 && p->node[n->id].user >= 0) {
        const IrNode *u = f->nodes.items[p->node[n->id].user];
        if (!is_ew(u) || !shape_eq(u->shape, m->shape) || u->varying != m->varying) return -1;
        if (p->node[u->id].place == CG_BUFFER) return u->id;
        if (p->node[u->id].place != CG_INLINE) return -1;
        n = u;
    }
    return -1;
}

static void fuse(CgPlan *p) {
    const IrFunc *f = p->f;
    bool *claimed = ARENA_ARRAY(p->arena, bool, f->nodes.len + 1); /* a buffer some matmul fills */
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        CgNodePlan *np = &p->node[id];
        if (n->op != OP_BATCH_SUM || np->uses != 1 || np->place != CG_BUFFER) np->grad_out = -1;
        if (!np->live || np->place != CG_BUFFER) continue;
        if (n->op == OP_MATMUL) np->fused = epilogue_root(p, n);
        /* One matmul per buffer: add(x @ W, y @ V) fuses only the first. */
        if (np->fused >= 0 && claimed[np->fused]) np->fused = -1;
        if (np->fused >= 0) claimed[np->fused] = true;
    }
}

/* ---- 9. a softmax's logsumexp ---- */

static bool stored(const CgPlan *p, const IrNode *n) {
    return p->node[n->id].live && p->node[n->id].place == CG_BUFFER;
}

static void softmax_lse(CgPlan *p) {
    const IrFunc *f = p->f;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *sm = f->nodes.items[id];
        if (sm->op != OP_SOFTMAX || !stored(p, sm)) continue;
        for (int j = id + 1; j < f->nodes.len; j++) {
            const IrNode *l = f->nodes.items[j];
            if (l->op == OP_LOGSUMEXP && l->in[0] == sm->in[0] && l->axis == sm->axis && stored(p, l) &&
                p->node[j].softmax < 0 && l->varying == sm->varying && p->node[j].phase == p->node[id].phase) {
                p->node[id].lse = j;
                p->node[j].softmax = id;
                break;
            }
        }
    }
}

/* ---- 7, 8. transposed copies, tiles ---- */

/* W[i][k]·x[k] per row is a dot product per output: a serial chain that
** does not vectorize. With Wᵀ copied once per call it becomes the column
** form, y[:] += x[k]·Wᵀ[k][:], like the forward pass. */
static void transposes(CgPlan *p) {
    const IrFunc *f = p->f;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        CgNodePlan *np = &p->node[id];
        if (!np->live || np->place != CG_BUFFER || n->op != OP_MATMUL || !n->varying) continue;
        const IrNode *w = n->in[0];
        if (w->shape.rank != 2 || n->in[1]->shape.rank != 1 || w->varying || w->shape.dim[0] < CG_TRANSPOSE_MIN ||
            w->shape.dim[1] == 1 ||
            p->node[w->id].place == CG_INLINE || p->node[w->id].phase != 0)
            continue;
        np->tpos = p->fixed;
        p->fixed += (shape_numel(w->shape) + 7) / 8 * 8;
    }
}

/* A row times weights of more than a few vectors goes a tile of rows at a
** time: each weight loaded serves all the tile's rows, and weights too
** large for L1 stream from memory once per tile rather than once per row.
** Even a 30 x 15 layer gains (model A: about 11 %). */
static void tiles(CgPlan *p) {
    const IrFunc *f = p->f;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        CgNodePlan *np = &p->node[id];
        if (!np->live || np->place != CG_BUFFER || n->op != OP_MATMUL || !n->varying) continue;
        const IrNode *a = n->in[0], *b = n->in[1];
        bool columns = np->tpos >= 0 || (a->shape.rank == 1 && b->shape.rank == 2 && !b->varying);
        if (columns && shape_numel(np->tpos >= 0 ? a->shape : b->shape) >= CG_TILE_MIN) np->tile = CG_ROW_TILE;
    }
}

/* A tiled matmul reads its block of weight columns once per tile of rows.
** Those columns lie one row of W apart: over a million weights, the
** block's rows stand on more 4 KB pages than the TLB maps and in few
** cache sets (W's rows being a power of two long, often), so every tile
** read it again from memory. Such a matmul first copies the block into a
** contiguous panel (K x CG_PACK_COLS at most, one region shared by all:
** they run one after the other), as GotoBLAS packs B: a 3072-1024 layer's
** forward_backward took 15 % less time. Below that size the panel stays
** in the caches as it is, and the copy only costs (784-512: 5 % slower). */
static void packs(CgPlan *p) {
    const IrFunc *f = p->f;
    long need = 0;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        CgNodePlan *np = &p->node[id];
        if (!np->live || n->op != OP_MATMUL || !np->tile) continue;
        const IrNode *w = np->tpos >= 0 ? n->in[0] : n->in[1];
        long k = w->shape.dim[np->tpos >= 0 ? 1 : 0];
        if (shape_numel(w->shape) < CG_PACK_MIN) continue;
        np->ppos = p->fixed;
        if (k * CG_PACK_COLS > need) need = k * CG_PACK_COLS;
    }
    p->fixed += need;
}

/* ---- 6. phases, storage, unrolling ---- */

static void phases(CgPlan *p) {
    const IrFunc *f = p->f;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        int ph = 0;
        for (int s = 0; s < n->nin; s++) {
            const IrNode *x = n->in[s];
            int q = p->node[x->id].phase + (x->varying && !n->varying);
            if (q > ph) ph = q;
        }
        p->node[id].phase = ph;
        if (ph + 1 > p->phases) p->phases = ph + 1;
    }
}

static bool needs_own_storage(const CgPlan *p, const IrNode *n) {
    const CgNodePlan *np = &p->node[n->id];
    return np->live && np->place == CG_BUFFER && np->fused < 0 &&
           (np->at.store == CG_ST_ROWS || np->at.store == CG_ST_FIXED);
}

/* Per-row buffers and once-per-call buffers, larger ones first so that
** every buffer of 8 or more reals starts on an 8-real boundary. */
static void allocate(CgPlan *p) {
    const IrFunc *f = p->f;
    for (int pass = 0; pass < 2; pass++)
        for (int id = 0; id < f->nodes.len; id++) {
            const IrNode *n = f->nodes.items[id];
            long size = shape_numel(n->shape);
            if (!needs_own_storage(p, n) || (pass == 0) != (size >= 8)) continue;
            CgNodePlan *np = &p->node[id];
            long *top = n->varying ? &p->per_row : &p->fixed;
            np->pos = *top;
            *top += size >= 8 ? (size + 7) / 8 * 8 : size;
        }
    p->per_row = (p->per_row + 7) / 8 * 8;
    p->fixed = (p->fixed + 7) / 8 * 8;
}

static void finish_accesses(CgPlan *p, const CgLayout *layout) {
    const IrFunc *f = p->f;
    const IrModule *m = f->module;
    for (int id = 0; id < f->nodes.len; id++) {
        CgNodePlan *np = &p->node[id];
        if (np->fused >= 0) np->at = p->node[np->fused].at;
        switch (np->at.store) {
        case CG_ST_ROWS: np->at.row_stride = p->per_row; break;
        case CG_ST_INPUT: np->at.row_stride = shape_numel(m->input_shape); break;
        case CG_ST_TARGET: np->at.row_stride = layout->target_width; break;
        default: np->at.row_stride = 0; break;
        }
    }
}

static long trip_count(const IrNode *n) {
    long numel = shape_numel(n->shape);
    switch (n->op) {
    case OP_MATMUL: return numel * n->in[0]->shape.dim[n->in[0]->shape.rank - 1];
    case OP_SUM: case OP_MEAN: case OP_MAX: return shape_numel(n->in[0]->shape);
    case OP_LOGSUMEXP: case OP_SOFTMAX: return 3 * shape_numel(n->in[0]->shape);
    default: return numel;
    }
}

/* --emit=grad-ir numbers only the nodes it prints on lines of their own
** (leaves but constant arrays and masks are written inline); comments in
** generated code cite those numbers. */
static void number_nodes(CgPlan *p) {
    const IrFunc *f = p->f;
    p->number = ARENA_ARRAY(p->arena, int, f->nodes.len + 1);
    p->fused_from = ARENA_ARRAY(p->arena, int, f->nodes.len + 1);
    int number = 0;
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *x = f->nodes.items[id];
        number += x->nin > 0 || (x->op == OP_CONST && x->data) || x->op == OP_DROPOUT_MASK;
        p->number[id] = number;
        p->fused_from[id] = -1;
    }
    for (int id = 0; id < f->nodes.len; id++)
        if (p->node[id].live && p->node[id].fused >= 0 && p->fused_from[p->node[id].fused] < 0)
            p->fused_from[p->node[id].fused] = id;
}

CgPlan *cg_plan(Arena *a, const IrFunc *f, CgFuncKind kind, const CgLayout *layout, int unroll,
                const bool *frozen) {
    CgPlan *p = ARENA_NEW(a, CgPlan);
    int len = f->nodes.len;
    p->f = f;
    p->arena = a;
    p->kind = kind;
    p->unroll = unroll >= 0 ? unroll : CG_UNROLL_DEFAULT;
    p->node = ARENA_ARRAY(a, CgNodePlan, len + 1);
    for (int i = 0; i < len; i++)
        p->node[i] = (CgNodePlan){.user = -1, .fused = -1, .grad_out = -1, .pos = -1, .tpos = -1, .ppos = -1,
                                  .lse = -1, .softmax = -1};
    IrOutput *outs = ARENA_ARRAY(a, IrOutput, f->outputs.len + 1);
    int nouts = cg_outputs(f, outs, f->outputs.len + 1);
    count_uses(p, outs, nouts, frozen);
    Needs nd = {ARENA_ARRAY(a, bool, len + 1), ARENA_ARRAY(a, bool, len + 1),
                ARENA_ARRAY(a, bool, len + 1)};
    find_needs(p, &nd, frozen);
    for (int id = 0; id < len; id++)
        if (p->node[id].live) place_node(p, &nd, f->nodes.items[id], frozen && frozen[id]);
    fuse(p);
    phases(p);
    softmax_lse(p);
    allocate(p);
    transposes(p);
    tiles(p);
    /* Not in inference code (frozen weights): it runs 8 rows at a time
    ** (c/infer.c), one tile per block of columns, which a copy would not
    ** repay, from a scratch on the stack, which should not hold a panel. */
    if (!frozen) packs(p);
    p->fixed = (p->fixed + 15) / 16 * 16;
    finish_accesses(p, layout);
    for (int id = 0; id < len; id++) p->node[id].unroll = trip_count(f->nodes.items[id]) <= p->unroll;
    number_nodes(p);
    return p;
}
