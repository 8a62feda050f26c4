/*
** lower_nodes.c — the loop nest that computes one stored node: element-wise
** chains, matmuls (k outside j, so the j loop runs over contiguous rows of
** both the weights and the result and vectorizes), reductions, softmax,
** pad, copies for reshape, and batch sums (dW[i][j] += Σ_r x[r][i]·dy[r][j],
** the row loop outside the contiguous j loop).
*/
#include "lower.h"

#include <math.h>
#include <string.h>

static const CgNodePlan *np_of(const Lw *w, const IrNode *n) {
    return &w->plan->node[n->id];
}

static void dst(Lw *w, const IrNode *n, const LIdx *c, LExpr *value) {
    lw_store(w, &np_of(w, n)->at, n->shape, c, value);
}

static LExpr *op2(Lw *w, LOp op, LExpr *x, LExpr *y) {
    return lx_op(w->arena, op, 0, x, y, NULL);
}

static LExpr *local(Lw *w, int l) {
    return lx_local(w->arena, l, lidx_const(0));
}

static Shape drop_axis(Shape s, int axis) {
    Shape r = {.rank = s.rank - 1};
    for (int d = 0, o = 0; d < s.rank; d++)
        if (d != axis) r.dim[o++] = s.dim[d];
    return r;
}

/* Coordinates of x from the result's c with `axis` of x running over j. */
static void insert_axis(LIdx *xc, const LIdx *c, int rank, int axis, LIdx j) {
    for (int d = 0, o = 0; d < rank; d++) xc[d] = d == axis ? j : c[o++];
}

int lw_number(const Lw *w, const IrNode *n) {
    return w->plan->number[n->id];
}

static const char *shape_text(Lw *w, Shape s) {
    char buf[160];
    return arena_strdup(w->arena, shape_format(s, buf, sizeof buf));
}

static void comment(Lw *w, const IrNode *n, const char *what) {
    const IrModule *m = w->f->module;
    const char *where = "";
    if (n->loc.first_line > 0)
        where = arena_printf(w->arena, ", %s:%d:%d", m->file ? m->file : "model", n->loc.first_line,
                             n->loc.first_column);
    lb_comment(&w->b, "%%%d = %s %s%s%s", lw_number(w, n), what, shape_text(w, n->shape),
               n->varying ? " per row" : "", where);
}

/* ---- element-wise, copies ---- */

static void pointwise(Lw *w, const IrNode *n) {
    LwNest ns;
    lw_nest_vector(&ns, w, n->shape, LV_I0, np_of(w, n)->unroll);
    do dst(w, n, ns.c, lw_compute(w, n, ns.c));
    while (lw_nest_next(&ns));
}

/* reshape of a value without row-major storage: copied in its own order. */
static void reshape_copy(Lw *w, const IrNode *n) {
    const IrNode *x = n->in[0];
    CgAccess flat = np_of(w, n)->at;
    flat.stride[0] = 1;
    Shape line = shape_vector((int)shape_numel(n->shape));
    LwNest ns;
    lw_nest_vector(&ns, w, x->shape, LV_J0, np_of(w, n)->unroll);
    do {
        LIdx lin = lw_linear(x->shape, ns.c);
        lw_store(w, &flat, line, &lin, lw_elem(w, x, ns.c));
    } while (lw_nest_next(&ns));
}

/* ---- matmul ---- */

typedef struct Mm {
    const IrNode *n, *a, *b;
    const IrNode *root; /* the buffer the matmul writes into, its epilogue (plan.c's fused) */
    bool rows, cols;    /* a has rows (rank 2), b has columns (rank 2) */
    int K, J;
    CgAccess bt;        /* b read from a transposed copy (plan.c's tpos) */
    bool copied;
} Mm;

static LExpr *mm_a(Lw *w, const Mm *mm, LIdx i, LIdx kk) {
    LIdx c[2] = {i, kk};
    return lw_elem(w, mm->a, mm->rows ? c : c + 1);
}

static LExpr *mm_b(Lw *w, const Mm *mm, LIdx kk, LIdx j) {
    LIdx c[2] = {kk, j};
    if (mm->copied) return lw_load(w, &mm->bt, shape_matrix(mm->K, mm->J), c);
    return lw_elem(w, mm->b, c);
}

/* The access to the copy of W (rows x K) as Wᵀ: K x rows, row-major. */
static CgAccess transposed(const IrNode *mm, int rows) {
    CgAccess at = {.store = CG_ST_TRANSPOSED, .base = mm->id, .stride = {rows, 1}};
    return at;
}

/* Wᵀ[k][i] = W[i][k] for k in [from, from + count) and every row i: each
** row's elements are read as one cache line, and the count rows of Wᵀ being
** written stay in the cache meanwhile. Reading count rows of W a column at
** a time instead made the copy of a 512 x 512 W cost as much as a product
** of 64 rows with it (the rows read 2 KB apart share a few cache sets). */
static void transpose_block(Lw *w, const IrNode *mm, const CgAccess *at, LIdx from, int count) {
    const IrNode *wt = mm->in[0];
    int rows = wt->shape.dim[0], K = wt->shape.dim[1];
    lb_loop(&w->b, LV_I0, lbound(0), lbound(rows), 1, LH_NONE);
    lb_loop(&w->b, LV_J0, lbound(0), lbound(count), 1, LH_NONE);
    LIdx i = lidx_var(LV_I0), k = lidx_add(from, lidx_var(LV_J0));
    LIdx wc[2] = {i, k}, tc[2] = {k, i};
    lw_store(w, at, shape_matrix(K, rows), tc, lw_elem(w, wt, wc));
    lb_close(&w->b);
    lb_close(&w->b);
}

/* The step along coordinate d of index `at` of W (or of the copy), if the
** indices are affine with a constant step; 0 otherwise. */
static long index_step(const LIdx *at, const LIdx *next) {
    LIdx d = lidx_add(*next, lidx_scale(*at, -1));
    return lidx_is_const(d) ? d.c : 0;
}

/* The copy as tiles of LW_TRANSPOSE_TILE x LW_TRANSPOSE_TILE, for columns
** [0, full) of W, each tile's rows loaded as vectors and transposed in
** registers: a tenth of the scalar copy's loads and stores. A block of
** columns still reads each row of W a cache line at a time. False (nothing
** built) where W is not a buffer read with unit steps along its rows. */
static bool transpose_tiles(Lw *w, const IrNode *mm, const CgAccess *at, int full) {
    const IrNode *wt = mm->in[0];
    int rows = wt->shape.dim[0], K = wt->shape.dim[1], T = LW_TRANSPOSE_TILE;
    LIdx i = lidx_var(LV_I0), jb = lidx_var(LV_JB);
    LIdx wc[2] = {i, jb}, wdown[2] = {lidx_add(i, lidx_const(1)), jb}, wright[2] = {i, lidx_add(jb, lidx_const(1))};
    LExpr *src = lw_elem(w, wt, wc), *down = lw_elem(w, wt, wdown), *right = lw_elem(w, wt, wright);
    if (rows % T || src->kind != LX_LOAD || down->kind != LX_LOAD || right->kind != LX_LOAD) return false;
    long src_stride = index_step(&src->idx, &down->idx);
    LIdx tc[2] = {jb, i}, tdown[2] = {lidx_add(jb, lidx_const(1)), i}, tright[2] = {jb, lidx_add(i, lidx_const(1))};
    LIdx dst, dst_down, dst_right;
    int buf = lw_ref(w, at, shape_matrix(K, rows), tc, &dst);
    lw_ref(w, at, shape_matrix(K, rows), tdown, &dst_down);
    lw_ref(w, at, shape_matrix(K, rows), tright, &dst_right);
    long stride = index_step(&dst, &dst_down);
    if (!src_stride || index_step(&src->idx, &right->idx) != 1 || !stride || index_step(&dst, &dst_right) != 1)
        return false;
    lb_if(&w->b, LC_SHUFFLE);
    lb_loop(&w->b, LV_JB, lbound(0), lbound(full), LW_TRANSPOSE_BLOCK, LH_NONE);
    lb_loop(&w->b, LV_I0, lbound(0), lbound(rows), T, LH_NONE);
    for (int col = 0; col < LW_TRANSPOSE_BLOCK; col += T)
        lb_transpose(&w->b, buf, lidx_add(dst, lidx_scale(lidx_const(col), stride)), stride,
                     lx_load(w->arena, src->buf, lidx_add(src->idx, lidx_const(col))), src_stride, T);
    lb_close(&w->b);
    lb_close(&w->b);
    lb_else(&w->b);
    return true;
}

void lw_transpose_copy(Lw *w, const IrNode *mm) {
    const IrNode *wt = mm->in[0];
    int rows = wt->shape.dim[0], K = wt->shape.dim[1];
    CgAccess at = transposed(mm, rows);
    lb_comment(&w->b, "%%%d's left operand %s, transposed once for all rows", lw_number(w, mm),
               shape_text(w, wt->shape));
    if ((long)K * rows > w->plan->unroll && K >= 2 * LW_TRANSPOSE_BLOCK) {
        int full = K / LW_TRANSPOSE_BLOCK * LW_TRANSPOSE_BLOCK;
        bool tiles = transpose_tiles(w, mm, &at, full);
        lb_loop(&w->b, LV_JB, lbound(0), lbound(full), LW_TRANSPOSE_BLOCK, LH_NONE);
        transpose_block(w, mm, &at, lidx_var(LV_JB), LW_TRANSPOSE_BLOCK);
        lb_close(&w->b);
        if (tiles) lb_close(&w->b);
        if (full < K) transpose_block(w, mm, &at, lidx_const(full), K - full);
        return;
    }
    LwNest ns;
    lw_nest_vector(&ns, w, shape_matrix(K, rows), LV_I0, (long)K * rows <= w->plan->unroll);
    do {
        LIdx wc[2] = {ns.c[1], ns.c[0]};
        lw_store(w, &at, shape_matrix(K, rows), ns.c, lw_elem(w, wt, wc));
    } while (lw_nest_next(&ns));
}

/* d[i][j] = sum, or, fused, the epilogue's value at that element: the
** element-wise chain from the matmul to its buffer (bias, activation) with
** the matmul's element being sum. */
static void mm_store(Lw *w, const Mm *mm, LIdx i, LIdx j, LExpr *sum) {
    LIdx c[2] = {i, j};
    if (!mm->rows) c[0] = j;
    if (!mm->root) {
        dst(w, mm->n, c, sum);
        return;
    }
    w->temp[mm->n->id] = sum;
    LExpr *value = lw_compute(w, mm->root, c);
    w->temp[mm->n->id] = NULL;
    dst(w, mm->root, c, value);
}

/* Small products written out: d = a0·b0 + a1·b1 + ... */
static void mm_unrolled(Lw *w, const Mm *mm, LIdx i) {
    for (int j = 0; j < mm->J; j++) {
        LExpr *sum = NULL;
        for (int kk = 0; kk < mm->K; kk++) {
            LExpr *t = op2(w, LOP_MUL, mm_a(w, mm, i, lidx_const(kk)), mm_b(w, mm, lidx_const(kk), lidx_const(j)));
            sum = sum ? op2(w, LOP_ADD, sum, t) : t;
        }
        mm_store(w, mm, i, lidx_const(j), sum);
    }
}

/* d[i][:] = Σ_k A[i][k]·B[k][:], the row of sums in registers (lower_block.c). */
typedef struct MmRow {
    const Mm *mm;
    LIdx i;
} MmRow;

static LExpr *mmr_scalar(Lw *w, const void *ctx, int row, LIdx k) {
    const MmRow *m = ctx;
    w->row_offset = row;
    LExpr *a = mm_a(w, m->mm, m->i, k);
    w->row_offset = 0;
    return a;
}

static LExpr *mmr_row(Lw *w, const void *ctx, LIdx k, LIdx j) {
    const MmRow *m = ctx;
    if (w->pack_width) {
        LIdx in_block = lidx_add(j, lidx_scale(w->pack_base, -1));
        return lx_load(w->arena, w->pack_buf, lidx_add(lidx_scale(k, w->pack_width), in_block));
    }
    return mm_b(w, m->mm, k, j);
}

static int pack_buf(Lw *w, const IrNode *n) {
    if (w->pack_buf < 0)
        w->pack_buf = lb_buf(&w->b, (LBuf){.base = LB_SCRATCH, .offset = np_of(w, n)->ppos, .name = "pk",
                                           .note = "packed weight columns, a block at a time"});
    return w->pack_buf;
}

/* pk[k][j] = B[k][base + j], j < width: the block of columns the tiles
** read, contiguous (plan.c packs); not where no tile runs (batch-1
** inference), which reads B as it is. */
static void mm_pack(Lw *w, const void *ctx, LIdx base, int width, int rows) {
    const MmRow *m = ctx;
    if (width > CG_PACK_COLS) die("a packed block of %d columns", width);
    int buf = pack_buf(w, m->mm->n);
    lb_if_rows(&w->b, rows);
    lb_comment(&w->b, "columns %s .. + %d of %%%d's weights, packed", lidx_text(w->arena, base), width,
               lw_number(w, m->mm->n));
    lb_loop(&w->b, LV_K, lbound(0), lbound(m->mm->K), 1, LH_NONE);
    lb_loop(&w->b, LV_J0, lbound(0), lbound(width), 1, LH_NONE);
    LIdx k = lidx_var(LV_K), j = lidx_var(LV_J0);
    lb_store(&w->b, buf, lidx_add(lidx_scale(k, width), j), mm_b(w, m->mm, k, lidx_add(base, j)), false);
    lb_close(&w->b);
    lb_close(&w->b);
    lb_close(&w->b);
    w->pack_base = base;
    w->pack_width = width;
}

static void mmr_store(Lw *w, const void *ctx, int row, LIdx j, LExpr *sum) {
    const MmRow *m = ctx;
    w->row_offset = row;
    mm_store(w, m->mm, m->i, j, sum);
    w->row_offset = 0;
}

static LwAcc mm_acc(const Mm *mm, const MmRow *row) {
    return (LwAcc){.width = mm->J, .var = LV_K, .from = lbound(0), .to = lbound(mm->K),
                   .scalar = mmr_scalar, .row = mmr_row, .store = mmr_store, .ctx = row};
}

static void mm_columns(Lw *w, const Mm *mm, LIdx i) {
    MmRow row = {mm, i};
    LwAcc acc = mm_acc(mm, &row);
    lw_acc(w, &acc);
}

/* d[i] = Σ_k A[i][k]·b[k] */
static void mm_dot(Lw *w, const Mm *mm, LIdx i) {
    LIdx kk = lidx_var(LV_K);
    lb_block(&w->b);
    int acc = lb_local(&w->b, "acc", 0, false);
    lb_decl(&w->b, acc, lx_const(w->arena, 0));
    lb_loop(&w->b, LV_K, lbound(0), lbound(mm->K), 1, LH_NONE);
    lb_set(&w->b, acc, lidx_const(0),
           op2(w, LOP_ADD, local(w, acc), op2(w, LOP_MUL, mm_a(w, mm, i, kk), lw_elem(w, mm->b, &kk))));
    lb_close(&w->b);
    mm_store(w, mm, i, lidx_const(0), local(w, acc));
    lb_close(&w->b);
}

static Mm mm_setup(Lw *w, const IrNode *n) {
    Mm mm = {.n = n, .a = n->in[0], .b = n->in[1]};
    const IrNode *root = np_of(w, n)->fused >= 0 ? w->f->nodes.items[np_of(w, n)->fused] : NULL;
    mm.rows = mm.a->shape.rank == 2;
    mm.cols = mm.b->shape.rank == 2;
    mm.K = mm.b->shape.dim[0];
    mm.J = mm.cols ? mm.b->shape.dim[1] : 1;
    if (np_of(w, n)->tpos >= 0) { /* W·x as x·Wᵀ */
        mm = (Mm){.n = n, .a = n->in[1], .b = n->in[0], .cols = true, .copied = true};
        mm.K = n->in[0]->shape.dim[1];
        mm.J = n->in[0]->shape.dim[0];
        mm.bt = transposed(n, mm.J);
    }
    mm.root = root;
    return mm;
}

/* Rows of the batch a register tile at a time, then the rest one by one;
** outside the row loop. */
static void matmul_tiles(Lw *w, const LwAcc *acc, LwTile tile, LwTile row) {
    LwTileLoop tl = {LV_R, lbound(0), lbound_rows(tile.rows, 0), tile.rows, .outside = false};
    lw_acc_tile(w, acc, tile, &tl);
    lb_loop(&w->b, LV_R, lbound_rows(tile.rows, 0), lbound_rows(1, 0), 1, LH_NONE);
    lw_acc_tile(w, acc, row, NULL);
    lb_close(&w->b);
}

/* A matmul of rows by large weights (plan.c's tile): tiles for the
** target's registers. Every sum runs over k in the same order whatever the
** tile, so both branches compute the same bits. */
void lw_matmul_tiled(Lw *w, const IrNode *n) {
    Mm mm = mm_setup(w, n);
    MmRow row = {&mm, lidx_const(0)};
    LwAcc acc = mm_acc(&mm, &row);
    if (np_of(w, n)->ppos >= 0) acc.pack = mm_pack;
    comment(w, n, arena_printf(w->arena, "matmul, a tile of rows at a time%s%s,", mm.root ? ", with its epilogue" : "",
                               acc.pack ? ", its weights packed" : ""));
    lb_if(&w->b, LC_WIDE);
    matmul_tiles(w, &acc, LW_TILE_WIDE, LW_ROW_WIDE);
    lb_else(&w->b);
    matmul_tiles(w, &acc, LW_TILE_NARROW, LW_ROW_NARROW);
    lb_close(&w->b);
}

static void matmul(Lw *w, const IrNode *n) {
    Mm mm = mm_setup(w, n);
    /* Written out unless that would evaluate an inlined left operand twice. */
    bool unroll = np_of(w, n)->unroll && (mm.J == 1 || np_of(w, mm.a)->place != CG_INLINE);
    Shape is = mm.rows ? shape_vector(mm.a->shape.dim[0]) : shape_scalar();
    LwNest ns;
    lw_nest_open(&ns, w, is, LV_I0, unroll);
    do {
        LIdx i = mm.rows ? ns.c[0] : lidx_const(0);
        if (unroll)
            mm_unrolled(w, &mm, i);
        else if (mm.cols)
            mm_columns(w, &mm, i);
        else
            mm_dot(w, &mm, i);
    } while (lw_nest_next(&ns));
}

/* ---- reductions, softmax ---- */

static LExpr *reduced(Lw *w, const IrNode *n, int m, int s, long count) {
    switch (n->op) {
    case OP_SUM: return local(w, s);
    case OP_MEAN: return op2(w, LOP_DIV, local(w, s), lx_const(w->arena, (double)count));
    case OP_MAX: return local(w, m);
    default: return op2(w, LOP_ADD, local(w, m), lx_op(w->arena, LOP_LOG, 0, local(w, s), NULL, NULL));
    }
}

static void reduce(Lw *w, const IrNode *n) {
    const IrNode *x = n->in[0];
    bool all = n->axis == IR_AXIS_ALL, unroll = np_of(w, n)->unroll;
    Shape red = all ? x->shape : shape_vector(x->shape.dim[n->axis]);
    long count = shape_numel(red);
    bool max = n->op == OP_MAX || n->op == OP_LOGSUMEXP;
    LwNest out, in;
    lw_nest_open(&out, w, n->shape, LV_I0, unroll);
    do {
        lb_block(&w->b);
        int m = -1, s = -1;
        if (max) {
            m = lb_local(&w->b, "m", 0, false);
            lb_decl(&w->b, m, lx_const(w->arena, -HUGE_VAL));
        }
        if (n->op != OP_MAX) {
            s = lb_local(&w->b, "s", 0, false);
            lb_decl(&w->b, s, lx_const(w->arena, 0));
        }
        for (int pass = max ? 0 : 1; pass < 2; pass++) {
            if (pass == 1 && n->op == OP_MAX) break;
            lw_nest_open(&in, w, red, LV_J0, unroll);
            do {
                LIdx xc[IR_MAX_RANK];
                if (all) for (int d = 0; d < x->shape.rank; d++) xc[d] = in.c[d];
                else insert_axis(xc, out.c, x->shape.rank, n->axis, in.c[0]);
                LExpr *v = lw_elem(w, x, xc);
                if (pass == 0) lb_set(&w->b, m, lidx_const(0), op2(w, LOP_MAXIMUM, local(w, m), v));
                else if (n->op == OP_LOGSUMEXP)
                    lb_set(&w->b, s, lidx_const(0),
                           op2(w, LOP_ADD, local(w, s), lx_op(w->arena, LOP_EXP, 0, op2(w, LOP_SUB, v, local(w, m)), NULL, NULL)));
                else lb_set(&w->b, s, lidx_const(0), op2(w, LOP_ADD, local(w, s), v));
            } while (lw_nest_next(&in));
        }
        dst(w, n, out.c, reduced(w, n, m, s, count));
        lb_close(&w->b);
    } while (lw_nest_next(&out));
}

/* The loop just opened over a softmax's 8 or 16 elements (10 classes: 8 in
** the loop, 2 written out) as one chunk of lanes: its exps, in a pass of
** their own, print as vector exps (loops_vector_chunk). */
static void exps_as_lanes(Lw *w) {
    LStmt *l = w->b.open[w->b.depth];
    if (l->kind == LS_LOOP && l->var == LV_J0 && l->step == 1 && !l->from.rows && !l->to.rows && l->from.c == 0 &&
        (l->to.c == 8 || l->to.c == 16))
        l->hint = LH_LANES;
}

static void softmax(Lw *w, const IrNode *n) {
    const IrNode *x = n->in[0];
    int axis = n->axis, len = n->shape.dim[axis];
    bool unroll = np_of(w, n)->unroll;
    LwNest out, in;
    lw_nest_open(&out, w, drop_axis(n->shape, axis), LV_I0, unroll);
    do {
        lb_block(&w->b);
        int m = lb_local(&w->b, "m", 0, false), s = lb_local(&w->b, "s", 0, false);
        lb_decl(&w->b, m, lx_const(w->arena, -HUGE_VAL));
        lb_decl(&w->b, s, lx_const(w->arena, 0));
        for (int pass = 0; pass < 4; pass++) { /* max, exps, their sum in order, quotients */
            lw_nest_vector(&in, w, shape_vector(len), LV_J0, unroll);
            if (pass == 1) exps_as_lanes(w);
            do {
                LIdx c[IR_MAX_RANK];
                insert_axis(c, out.c, n->shape.rank, axis, in.c[0]);
                const CgAccess *at = &np_of(w, n)->at;
                if (pass == 0) lb_set(&w->b, m, lidx_const(0), op2(w, LOP_MAXIMUM, local(w, m), lw_elem(w, x, c)));
                if (pass == 1)
                    dst(w, n, c, lx_op(w->arena, LOP_EXP, 0, op2(w, LOP_SUB, lw_elem(w, x, c), local(w, m)), NULL, NULL));
                if (pass == 2) lb_set(&w->b, s, lidx_const(0), op2(w, LOP_ADD, local(w, s), lw_load(w, at, n->shape, c)));
                if (pass == 3) dst(w, n, c, op2(w, LOP_DIV, lw_load(w, at, n->shape, c), local(w, s)));
            } while (lw_nest_next(&in));
        }
        if (np_of(w, n)->lse >= 0) { /* plan.c rule 9 */
            const IrNode *l = w->f->nodes.items[np_of(w, n)->lse];
            dst(w, l, out.c, reduced(w, l, m, s, len));
        }
        lb_close(&w->b);
    } while (lw_nest_next(&out));
}

/* ---- pad, batch sum ---- */

static void pad(Lw *w, const IrNode *n) {
    const IrNode *x = n->in[0];
    bool unroll = np_of(w, n)->unroll;
    LwNest ns;
    lw_nest_vector(&ns, w, n->shape, LV_I0, unroll);
    do dst(w, n, ns.c, lx_const(w->arena, 0));
    while (lw_nest_next(&ns));
    lw_nest_vector(&ns, w, x->shape, LV_J0, unroll);
    do {
        LIdx c[IR_MAX_RANK];
        for (int d = 0, o = 0; d < n->shape.rank; d++) {
            bool sliced = d < n->slice.rank, drop = sliced && (n->slice.drop >> d & 1u);
            LIdx start = lidx_const(sliced ? n->slice.start[d] : 0);
            c[d] = drop ? start : lidx_add(ns.c[o++], start);
        }
        dst(w, n, c, lw_elem(w, x, ns.c));
    } while (lw_nest_next(&ns));
}

/* grads[p][c] = scale · value, for the gradient output a batch sum is:
** the sum over every row is the whole gradient (lower.c zero_gradients). */
static void store_grad(Lw *w, const IrNode *n, const LIdx *c, LExpr *value) {
    const IrOutput *o = &w->f->outputs.items[np_of(w, n)->grad_out];
    w->lk->uses_scale = true;
    lb_store(&w->b, lw_grad_buf(w, o->param), lw_linear(n->shape, c),
             op2(w, LOP_MUL, lx_arg(w->arena, LA_SCALE), value), false);
}

/* The shape without its axes of size 1, and coordinates back. */
static Shape squeezed(Shape s) {
    Shape r = {0};
    for (int d = 0; d < s.rank; d++)
        if (s.dim[d] > 1) r.dim[r.rank++] = s.dim[d];
    return r;
}

static void unsqueeze(Shape s, const LIdx *sc, LIdx *c) {
    for (int d = 0, o = 0; d < s.rank; d++) c[d] = s.dim[d] > 1 ? sc[o++] : lidx_const(0);
}

/* Σ over rows, for each element of all but the last (non-unit) axis: the
** stretch along the last axis summed in registers over the rows
** (lower_block.c); for outer(a, b) that is a[r][i]·b[r][:]. A gradient
** output stores it straight into the gradient. */
typedef struct BsRow {
    const IrNode *n, *x;
    Shape sq;
    LIdx outer[IR_MAX_RANK];
    bool grad;
} BsRow;

/* Row `row` of a tile is `row` further along the last outer axis. */
static void bs_coords(const BsRow *b, int row, LIdx j, LIdx *c) {
    LIdx sc[IR_MAX_RANK];
    for (int d = 0; d < b->sq.rank - 1; d++) sc[d] = b->outer[d];
    if (row) sc[b->sq.rank - 2] = lidx_add(sc[b->sq.rank - 2], lidx_const(row));
    sc[b->sq.rank - 1] = j;
    unsqueeze(b->n->shape, sc, c);
}

/* outer(a, b) summed along b's axis: a[r][i] is the same for the stretch. */
static bool outer_split(const Lw *w, const BsRow *b) {
    return b->x->op == OP_OUTER && np_of(w, b->x)->place == CG_INLINE && b->n->shape.dim[1] > 1;
}

/* The term is the row r (batch sums are never split). */
static LExpr *bs_scalar(Lw *w, const void *ctx, int row, LIdx r) {
    const BsRow *b = ctx;
    (void)r;
    if (!outer_split(w, b)) return lx_const(w->arena, 1);
    LIdx c[IR_MAX_RANK];
    bs_coords(b, row, lidx_const(0), c);
    return lw_elem(w, b->x->in[0], &c[0]);
}

static LExpr *bs_row(Lw *w, const void *ctx, LIdx r, LIdx j) {
    const BsRow *b = ctx;
    (void)r;
    LIdx c[IR_MAX_RANK];
    bs_coords(b, 0, j, c);
    if (!outer_split(w, b)) return lw_elem(w, b->x, c);
    return lw_elem(w, b->x->in[1], &c[1]);
}

static void bs_store(Lw *w, const void *ctx, int row, LIdx j, LExpr *sum) {
    const BsRow *b = ctx;
    LIdx c[IR_MAX_RANK];
    bs_coords(b, row, j, c);
    if (b->grad) store_grad(w, b->n, c, sum);
    else dst(w, b->n, c, sum);
}

/* dW[i][j] for a tile of rows i at once: each dy[r][j] loaded once serves
** all of them. The rows after the last tile make one shorter tile: one
** row at a time has too few chains of multiply-adds over the batch to
** hide their latency (6-8 % of 30-30-15-1's training step).
** A block of dy's columns stays in cache while the tiles go past it,
** reading all of x. Over a million weights (plan.c packs) the tiles go
** outside instead, each tile's x staying in L1 while all of dy (a chunk's
** rows, up to 1 MB: LW_SWEEP_COLUMNS) goes past it from L2, and the
** gradient is written a whole row at a time: a 3072-1024 layer's step
** took 7-15 % less time, 784-2048's 7-9 % (784-512 and 784-128 about the
** same, so they keep the block outside). */
static void batch_sum_tiles(Lw *w, BsRow *b, const LwAcc *acc, LwTile tile) {
    int rows = b->sq.dim[0], tiled = rows / tile.rows * tile.rows;
    b->outer[0] = lidx_var(LV_I0);
    bool tiles_outside = (long)rows * acc->width >= CG_PACK_MIN && acc->width <= LW_SWEEP_COLUMNS;
    LwTileLoop tl = {LV_I0, lbound(0), lbound(tiled), tile.rows, .outside = tiles_outside};
    if (tiled) lw_acc_tile(w, acc, tile, &tl);
    if (tiled == rows) return;
    b->outer[0] = lidx_const(tiled);
    lw_acc_tile(w, acc, (LwTile){rows - tiled, tile.cols, tile.lanes}, NULL);
}

static void batch_sum_tiled(Lw *w, BsRow *b, const LwAcc *acc) {
    lb_if(&w->b, LC_WIDE);
    batch_sum_tiles(w, b, acc, LW_TILE_WIDE);
    lb_else(&w->b);
    batch_sum_tiles(w, b, acc, LW_TILE_NARROW);
    lb_close(&w->b);
}

static void batch_sum(Lw *w, const IrNode *n) {
    BsRow b = {.n = n, .x = n->in[0], .sq = squeezed(n->shape), .grad = np_of(w, n)->grad_out >= 0};
    if (b.sq.rank == 0) { /* one number: Σ_r x[r] */
        LIdx c[IR_MAX_RANK];
        unsqueeze(n->shape, NULL, c);
        lb_block(&w->b);
        int s = lb_local(&w->b, "s", 0, false);
        lb_decl(&w->b, s, lx_const(w->arena, 0));
        lb_loop(&w->b, LV_R, lbound(0), lbound_rows(1, 0), 1, LH_NONE);
        lb_set(&w->b, s, lidx_const(0), op2(w, LOP_ADD, local(w, s), lw_elem(w, b.x, c)));
        lb_close(&w->b);
        if (b.grad) store_grad(w, n, c, local(w, s));
        else dst(w, n, c, local(w, s));
        lb_close(&w->b);
        return;
    }
    LwAcc acc = {.width = b.sq.dim[b.sq.rank - 1], .var = LV_R, .from = lbound(0), .to = lbound_rows(1, 0),
                 .scalar = bs_scalar, .row = bs_row, .store = bs_store, .ctx = &b};
    /* Tiles reuse one row of an outer product's left factor per tile row;
    ** any other summand has no such split and takes the plain loop. */
    if (b.sq.rank == 2 && b.sq.dim[0] >= CG_ROW_TILE && acc.width >= LW_VECTOR && outer_split(w, &b)) {
        batch_sum_tiled(w, &b, &acc);
        return;
    }
    LwNest ns;
    lw_nest_open(&ns, w, drop_axis(b.sq, b.sq.rank - 1), LV_I0, shape_numel(n->shape) <= w->plan->unroll);
    do {
        for (int d = 0; d < b.sq.rank - 1; d++) b.outer[d] = ns.c[d];
        lw_acc(w, &acc);
    } while (lw_nest_next(&ns));
}

/* ---- one stored node ---- */

const IrNode *lw_fused_matmul(const Lw *w, const IrNode *root) {
    int id = w->plan->fused_from[root->id];
    return id >= 0 ? w->f->nodes.items[id] : NULL;
}

void lw_node(Lw *w, const IrNode *n) {
    const IrNode *mm = lw_fused_matmul(w, n);
    if (mm) { /* the matmul computes n in its epilogue */
        if (np_of(w, mm)->tile == 0) {
            comment(w, mm, arena_printf(w->arena, "matmul with %%%d's %s in its epilogue,", lw_number(w, n),
                                        ir_ops[n->op].name));
            matmul(w, mm);
        }
        return;
    }
    if (np_of(w, n)->softmax >= 0) { /* plan.c rule 9 */
        comment(w, n, arena_printf(w->arena, "logsumexp, computed by softmax %%%d,",
                                   lw_number(w, w->f->nodes.items[np_of(w, n)->softmax])));
        return;
    }
    comment(w, n, ir_ops[n->op].name);
    switch (n->op) {
    case OP_MATMUL: matmul(w, n); break;
    case OP_SUM: case OP_MEAN: case OP_MAX: case OP_LOGSUMEXP: reduce(w, n); break;
    case OP_SOFTMAX: softmax(w, n); break;
    case OP_PAD: pad(w, n); break;
    case OP_BATCH_SUM: batch_sum(w, n); break;
    case OP_RESHAPE: reshape_copy(w, n); break; /* stored views are free (plan.c) */
    default: pointwise(w, n); break;
    }
}
