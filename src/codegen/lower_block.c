/*
** lower_block.c — loop nests over shapes, and register blocking for the
** products that dominate training: a matmul row y[j] = Σ_k x[k]·W[k][j]
** and a weight gradient row dW[i][j] = Σ_r x[r][i]·dy[r][j]. The sums
** live in a local array that the loop over t (k or r) updates in chunks of
** LW_VECTOR lanes:
**
**     nnc_real acc[30] = {0};
**     for (int k = 0; k < 30; k++) {
**         const nnc_real av = x[k];
**         for (int j0 = 0; j0 < 8; j0++) acc[j0] += av * W[k * 30 + j0];
**         ...                                   (chunks at 8 and 16)
**         for (int j0 = 0; j0 < 4; j0++) acc[j0 + 24] += av * W[k * 30 + j0 + 24];
**         acc[28] += av * W[k * 30 + 28];       (the rest, written out)
**         acc[29] += av * W[k * 30 + 29];
**     }
**
** Each chunk (LH_LANES) becomes one vector FMA-free multiply-add and,
** every index being constant once unrolled, the whole array stays in
** registers. Wide rows go in blocks of LW_ACC_BLOCK.
**
** A tile computes several such rows at once (acc0, acc1, ...: rows of the
** batch for a matmul, rows of dW for a batch sum) so that each vector of
** W or dy loaded serves every row of the tile.
**
** A long sum into few columns (784 pixels into 16 units) is one chain of
** dependent multiply-adds per vector of columns: in a row (batch-1
** inference) it runs at the multiply-add's latency, not its throughput.
** Such sums are cut into parts of k (split_parts): a row sums its parts
** side by side (acc0 .. acc7, one loop), a tile one part after the other
** into fresh sums (part0 ..) added to its totals; both add the parts in
** order, so the row and the tile compute the same bits.
*/
#include "lower.h"

/* ---- nests ---- */

/* A loop over axis d from `from` to `to`; in a ranged nest, only over the
** elements in the update's range. */
static void nest_loop(LwNest *ns, int d, int from, int to, LHint hint) {
    LBound lo = lbound(from), hi = lbound(to);
    if (ns->ranged) {
        lo = lbound_range(LR_LO, ns->range_offset, to);
        hi = lbound_range(LR_HI, ns->range_offset, to);
    }
    lb_loop(&ns->w->b, ns->var0 + d, lo, hi, 1, hint);
    ns->c[d] = lidx_var(ns->var0 + d);
    ns->loops++;
}

static void nest_open(LwNest *ns, Lw *w, Shape s, int var0, bool unroll, const LwNest *range) {
    *ns = (LwNest){.w = w, .s = s, .unroll = unroll, .var0 = var0, .split = -1};
    if (range) {
        ns->ranged = true;
        ns->range_offset = range->range_offset;
    }
    for (int d = 0; d < s.rank; d++) {
        ns->c[d] = lidx_const(0);
        if (!unroll && s.dim[d] > 1) nest_loop(ns, d, 0, s.dim[d], LH_NONE);
    }
}

void lw_nest_open(LwNest *ns, Lw *w, Shape s, int var0, bool unroll) {
    nest_open(ns, w, s, var0, unroll, NULL);
}

/* Compilers vectorize a loop at -O2 only when its trip count is a multiple
** of the vector length (GCC's very-cheap cost model: no epilogue). So the
** innermost axis runs to the last multiple of LW_VECTOR in a loop and the
** few elements after it are written out. */
static void nest_vector(LwNest *ns, Lw *w, Shape s, int var0, bool unroll, const LwNest *range) {
    int last = s.rank - 1, len = last >= 0 ? s.dim[last] : 1;
    if (unroll || len < LW_VECTOR || len % LW_VECTOR == 0) {
        nest_open(ns, w, s, var0, unroll, range);
        return;
    }
    Shape outer = s;
    outer.rank--;
    nest_open(ns, w, outer, var0, false, range);
    ns->s = s;
    ns->split = len / LW_VECTOR * LW_VECTOR;
    nest_loop(ns, last, 0, ns->split, LH_VECTOR);
}

void lw_nest_vector(LwNest *ns, Lw *w, Shape s, int var0, bool unroll) {
    nest_vector(ns, w, s, var0, unroll, NULL);
}

/* The update's elements go in chunks of `lanes` lanes (i0 + j0), which a
** printer spells as vector instructions: compilers do not vectorize the
** square root of a plain loop where it may set errno (gcc) or where they
** count it too dear. lw_nest_unchunk makes a chunk that cannot be one
** vector operation per statement the plain loop again. */
void lw_nest_ranged(LwNest *ns, Lw *w, long count, long offset, int var0, bool unroll, int lanes) {
    LwNest range = {.range_offset = offset};
    if (unroll || count < lanes) {
        nest_vector(ns, w, shape_vector((int)count), var0, unroll, &range);
        return;
    }
    *ns = (LwNest){.w = w, .s = shape_vector((int)count), .var0 = var0, .ranged = true, .range_offset = offset};
    ns->split = (int)(count / lanes * lanes);
    lb_loop(&w->b, var0, lbound_range(LR_LO, offset, ns->split), lbound_range(LR_HI, offset, ns->split), lanes,
            LH_VECTOR);
    ns->chunk = w->b.open[w->b.depth];
    lb_loop(&w->b, LV_J0, lbound(0), lbound(lanes), 1, LH_LANES);
    ns->c[0] = lidx_add(lidx_var(var0), lidx_var(LV_J0));
    ns->loops = 2;
}

static void lane0_idx(LIdx *idx) {
    idx->k[LV_J0] = 0;
}

static void lane0_expr(LExpr *e) {
    if (!e) return;
    lane0_idx(&e->idx);
    for (int i = 0; i < 3; i++) lane0_expr(e->in[i]);
}

static void lane0_stmts(LStmt *s) {
    for (; s; s = s->next) {
        lane0_idx(&s->idx);
        lane0_expr(s->value);
        lane0_stmts(s->body);
        lane0_stmts(s->orelse);
    }
}

void lw_nest_unchunk(LwNest *ns) {
    LStmt *outer = ns->chunk;
    if (!outer || loops_vector_chunk(ns->w->lk, outer->body)) return;
    outer->body = outer->body->body;
    outer->step = 1;
    lane0_stmts(outer->body);
}

static bool close_all(LwNest *ns) {
    for (int i = 0; i < ns->loops; i++) lb_close(&ns->w->b);
    return false;
}

bool lw_nest_next(LwNest *ns) {
    if (ns->split >= 0) {
        int last = ns->s.rank - 1;
        if (ns->tail == 0) { /* the main loop, and a chunk's */
            int loops = ns->chunk ? 2 : 1;
            for (int i = 0; i < loops; i++) lb_close(&ns->w->b);
            ns->loops -= loops;
        }
        long at = ns->split + ns->tail++;
        if (at < ns->s.dim[last]) {
            ns->c[last] = lidx_const(at);
            return true;
        }
        return close_all(ns);
    }
    if (!ns->unroll) return close_all(ns);
    for (int d = ns->s.rank - 1; d >= 0; d--) {
        if (++ns->at[d] < ns->s.dim[d]) {
            ns->c[d] = lidx_const(ns->at[d]);
            return true;
        }
        ns->at[d] = 0;
        ns->c[d] = lidx_const(0);
    }
    return false;
}

/* ---- register blocking ---- */

typedef struct Step {
    const LwAcc *acc;
    int tile;     /* accumulator rows: acc0.., or one unnamed acc */
    int lanes;    /* sums updated at once */
    int sums[64];      /* the accumulators' locals, per tile row, or per part of a split row */
    int scalars[64]; /* av, per tile row, or per part of a split row */
    int later[64];     /* a tile's sums of a later part (tile_parts) */
    int parts;    /* a split row: its parts' sums, updated in one loop; else 1 */
    int passes;   /* a split tile: its parts, one loop after the other; else 1 */
    long part;    /* t's count per part, 0: not split */
    long shift;   /* the pass's first t: its part times `part` */
} Step;

/* acc's index is j's offset in the block: the chunk start, plus j0 in a loop. */
static LIdx lane(int c, LIdx j) {
    return j.k[LV_J0] ? lidx_add(lidx_const(c), lidx_var(LV_J0)) : lidx_const(c);
}

/* The term t of the sums being updated, in part q of a split row. */
static LIdx term(const Step *st, int q) {
    return lidx_add(lidx_var(st->acc->var), lidx_const(st->shift + q * st->part));
}

typedef void (*Each)(Lw *w, const Step *st, LIdx j, int c);

/* The lanes of an overlapping last chunk, or 0. A block whose width
** would leave two or more lanes after its last chunk of LW_MIN_LANES
** instead ends with a chunk as wide as the others over its last columns:
** 30 columns are 2 chunks of 16, not 16 + 8 + 4 and 2 scalar sums per
** tile row (40 registers for 8 rows, where 32 exist). The last chunk
** recomputes a few of the chunk before's sums, in sums of its own after
** the block's width: the same terms in the same order, the same bits. */
static int tail_lanes(const Step *st, int width) {
    if (width < LW_MIN_LANES || width % LW_MIN_LANES < 2) return 0;
    int lanes = st->lanes;
    while (lanes > width) lanes /= 2;
    return lanes;
}

/* Where the overlapping chunk's own sums start: the first multiple of its
** lanes at or after the width, so that the sums split into whole vectors,
** each of which a compiler can keep in a register. */
static int tail_at(int width, int tail) {
    return (width + tail - 1) / tail * tail;
}

static void lane_loop(Lw *w, const Step *st, LIdx first, int c, int lanes, Each each) {
    lb_loop(&w->b, LV_J0, lbound(0), lbound(lanes), 1, LH_LANES);
    each(w, st, lidx_add(first, lidx_var(LV_J0)), c);
    lb_close(&w->b);
}

/* An overlapping last chunk (tail_lanes), stored whole too: the columns
** it shares with the chunk before get the same bits again (every node has
** storage of its own, so no store reads what another wrote). */
static void tail_chunks(Lw *w, const Step *st, int width, int tail, LIdx base, Each each) {
    for (int c = 0; c + tail <= width; c += tail) lane_loop(w, st, lidx_add(base, lidx_const(c)), c, tail, each);
    lane_loop(w, st, lidx_add(base, lidx_const(width - tail)), tail_at(width, tail), tail, each);
}

/* Chunk loops of st->lanes lanes, then of half as many and so on down to
** LW_MIN_LANES, then the few lanes left, written out (or an overlapping
** last chunk, above). The narrower chunks keep a block's last columns in
** vector registers too: written out, the lanes after the last full chunk
** are one scalar sum per lane and tile row, which no register file holds. */
static void chunks(Lw *w, const Step *st, int width, LIdx base, Each each) {
    int c = 0, tail = tail_lanes(st, width);
    if (tail) {
        tail_chunks(w, st, width, tail, base, each);
        return;
    }
    for (int lanes = st->lanes; lanes >= LW_MIN_LANES; lanes /= 2)
        for (; c + lanes <= width; c += lanes) lane_loop(w, st, lidx_add(base, lidx_const(c)), c, lanes, each);
    for (; c < width; c++) each(w, st, lidx_add(base, lidx_const(c)), c);
}

static LExpr *sum_plus(Lw *w, int sum, LIdx at, LExpr *scalar, LExpr *b) {
    return lx_op(w->arena, LOP_ADD, 0, lx_local(w->arena, sum, at), lx_op(w->arena, LOP_MUL, 0, scalar, b, NULL),
                 NULL);
}

static void update(Lw *w, const Step *st, LIdx j, int c) {
    Arena *a = w->arena;
    LIdx at = lane(c, j);
    if (!st->tile) {
        for (int q = 0; q < st->parts; q++)
            lb_set(&w->b, st->sums[q], at,
                   sum_plus(w, st->sums[q], at, lx_local(a, st->scalars[q], lidx_const(0)),
                            st->acc->row(w, st->acc->ctx, term(st, q), j)));
        return;
    }
    lb_block(&w->b);
    int shared = lb_local(&w->b, "b", 0, true);
    lb_decl(&w->b, shared, st->acc->row(w, st->acc->ctx, term(st, 0), j));
    for (int t = 0; t < st->tile; t++)
        lb_set(&w->b, st->sums[t], at,
               sum_plus(w, st->sums[t], at, lx_local(a, st->scalars[t], lidx_const(0)), lx_local(a, shared, lidx_const(0))));
    lb_close(&w->b);
}

static void store(Lw *w, const Step *st, LIdx j, int c) {
    for (int t = 0; t < (st->tile ? st->tile : 1); t++)
        st->acc->store(w, st->acc->ctx, t, j, lx_local(w->arena, st->sums[t], lane(c, j)));
}

static void add_sum(Lw *w, int sum, int other, LIdx at) {
    Arena *a = w->arena;
    lb_set(&w->b, sum, at, lx_op(a, LOP_ADD, 0, lx_local(a, sum, at), lx_local(a, other, at), NULL));
}

/* A split row's total: part 0's sums plus each later part's, in order. */
static void fold_parts(Lw *w, const Step *st, LIdx j, int c) {
    for (int q = 1; q < st->parts; q++) add_sum(w, st->sums[0], st->sums[q], lane(c, j));
}

/* A tile's totals plus the sums of its later part. */
static void fold_tile(Lw *w, const Step *st, LIdx j, int c) {
    for (int t = 0; t < st->tile; t++) add_sum(w, st->sums[t], st->later[t], lane(c, j));
}

/* Zeroed sums: one per tile row, or one per part of a split row. */
static void declare_sums(Lw *w, Step *st, int width, const char *name) {
    int n = st->tile ? st->tile : st->parts, tail = tail_lanes(st, width);
    for (int i = 0; i < n; i++) {
        st->sums[i] = lb_local(&w->b, n > 1 ? arena_printf(w->arena, "%s%d", name, i) : name,
                               tail ? tail_at(width, tail) + tail : width, false);
        lb_decl(&w->b, st->sums[i], NULL);
    }
}

/* The loop over t for the pass starting at st->shift: every sum of st
** gains its terms. */
static void sum_pass(Lw *w, Step *st, int width, LIdx base) {
    Arena *a = w->arena;
    const LwAcc *acc = st->acc;
    int n = st->tile ? st->tile : st->parts;
    LBound to = st->part ? lbound(acc->from.c + st->part) : acc->to;
    lb_loop(&w->b, acc->var, acc->from, to, 1, LH_NONE);
    for (int i = 0; i < n; i++) {
        st->scalars[i] = lb_local(&w->b, n > 1 ? arena_printf(a, "av%d", i) : "av", 0, true);
        lb_decl(&w->b, st->scalars[i], acc->scalar(w, acc->ctx, st->tile ? i : 0, term(st, st->tile ? 0 : i)));
    }
    chunks(w, st, width, base, update);
    lb_close(&w->b);
}

/* A tile's later parts of a split sum, one after the other: each into
** fresh sums, then added to the tile's totals. */
static void tile_parts(Lw *w, Step *st, int width, LIdx base) {
    for (int q = 1; q < st->passes; q++) {
        Step part = *st;
        part.shift = q * st->part;
        lb_block(&w->b);
        declare_sums(w, &part, width, "part");
        sum_pass(w, &part, width, base);
        for (int t = 0; t < st->tile; t++) st->later[t] = part.sums[t];
        chunks(w, st, width, base, fold_tile);
        lb_close(&w->b);
    }
}

static void block(Lw *w, Step *st, int width, LIdx base) {
    lb_block(&w->b);
    declare_sums(w, st, width, "acc");
    sum_pass(w, st, width, base);
    if (st->passes > 1) tile_parts(w, st, width, base);
    if (st->parts > 1) chunks(w, st, width, base, fold_parts);
    chunks(w, st, width, base, store);
    lb_close(&w->b);
}

/* One block of columns, for every tile of the tile loop when there is one:
** the column block outside, so that its strip of weights (or of dy) stays
** in cache while every tile of rows goes past it. */
static void tiled_block(Lw *w, Step *st, const LwTileLoop *tl, int width, LIdx base) {
    if (tl && st->acc->pack) st->acc->pack(w, st->acc->ctx, base, width, tl->step);
    if (tl) lb_loop(&w->b, tl->var, tl->from, tl->to, tl->step, LH_NONE);
    block(w, st, width, base);
    if (tl) lb_close(&w->b);
    w->pack_width = 0;
}

static void blocks(Lw *w, Step *st, int size, const LwTileLoop *tl) {
    if (tl && tl->outside) {
        lb_loop(&w->b, tl->var, tl->from, tl->to, tl->step, LH_NONE);
        blocks(w, st, size, NULL);
        lb_close(&w->b);
        return;
    }
    int full = st->acc->width / size * size, rest = st->acc->width - full;
    if (full == size) {
        tiled_block(w, st, tl, size, lidx_const(0));
    } else if (full) {
        lb_loop(&w->b, LV_JB, lbound(0), lbound(full), size, LH_NONE);
        tiled_block(w, st, tl, size, lidx_var(LV_JB));
        lb_close(&w->b);
    }
    if (rest) tiled_block(w, st, tl, rest, lidx_const(full));
}

/* Long sums into few columns are cut into parts, summed side by side in a
** row (a chain of dependent multiply-adds per column is as slow as its
** length: batch-1 latency) and one after the other in a tile; then added
** in part order, the same bits either way. 1: no parts. */
static int split_parts(const LwAcc *acc) {
    long count = acc->to.c - acc->from.c;
    int vectors = (acc->width + LW_SPLIT_LANES - 1) / LW_SPLIT_LANES;
    if (acc->var != LV_K || acc->to.rows || acc->to.range || count < LW_SPLIT_MIN) return 1;
    for (int parts = LW_SPLIT_CHAINS; parts > 1; parts /= 2)
        if (parts * vectors <= LW_SPLIT_CHAINS && count % parts == 0) return parts;
    return 1;
}

static Step step_of(const LwAcc *acc, int tile, int lanes) {
    int parts = split_parts(acc);
    Step st = {.acc = acc, .tile = tile, .lanes = lanes, .parts = tile ? 1 : parts, .passes = tile ? parts : 1};
    if (parts > 1) st.part = (acc->to.c - acc->from.c) / parts;
    return st;
}

void lw_acc(Lw *w, const LwAcc *acc) {
    Step st = step_of(acc, 0, LW_VECTOR);
    blocks(w, &st, LW_ACC_BLOCK, NULL);
}

void lw_acc_tile(Lw *w, const LwAcc *acc, LwTile tile, const LwTileLoop *tl) {
    if (tile.rows > 64) die("a tile of %d rows", tile.rows);
    Step st = step_of(acc, tile.rows > 1 ? tile.rows : 0, tile.lanes);
    blocks(w, &st, tile.cols, tl);
}
