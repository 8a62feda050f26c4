/*
** nodes.c — the loop nest that computes one stored node, as the C
** backend's nodes.c writes it: element-wise chains, matmuls (k outside j,
** the row of sums in registers), reductions, softmax, pad, copies for
** reshape, and batch sums (dW[i][j] += Σ_r x[r][i]·dy[r][j]). Every sum
** runs in the same order as there, so the results are the same bits.
*/
#include "llgen.h"

#include <math.h>

static const CgNodePlan *np_of(const LlKernel *k, const IrNode *n) {
    return &k->plan->node[n->id];
}

static LLVMValueRef dst(LlKernel *k, const IrNode *n, LLVMValueRef *c) {
    return ll_ref(k, &np_of(k, n)->at, n->shape, c);
}

static LLVMValueRef c64(LlKernel *k, long v) {
    return ll_i64(k->file, v);
}

static Shape drop_axis(Shape s, int axis) {
    Shape r = {.rank = s.rank - 1};
    for (int d = 0, o = 0; d < s.rank; d++)
        if (d != axis) r.dim[o++] = s.dim[d];
    return r;
}

static void insert_axis(LLVMValueRef *xc, LLVMValueRef *c, int rank, int axis, LLVMValueRef j) {
    for (int d = 0, o = 0; d < rank; d++) xc[d] = d == axis ? j : c[o++];
}

#define FADD(x, y) LLVMBuildFAdd(k->b, (x), (y), "")
#define FMUL(x, y) LLVMBuildFMul(k->b, (x), (y), "")

/* ---- element-wise, copies ---- */

static void pointwise(LlKernel *k, const IrNode *n) {
    LlNest ns;
    ll_nest_open(&ns, k, n->shape, np_of(k, n)->unroll);
    do ll_store(k, ll_compute(k, n, ns.c), dst(k, n, ns.c));
    while (ll_nest_next(&ns));
}

/* reshape of a value without row-major storage: copied in its own order. */
static void reshape_copy(LlKernel *k, const IrNode *n) {
    const IrNode *x = n->in[0];
    CgAccess flat = np_of(k, n)->at;
    flat.stride[0] = 1;
    Shape line = shape_vector((int)shape_numel(n->shape));
    LlNest ns;
    ll_nest_open(&ns, k, x->shape, np_of(k, n)->unroll);
    do {
        LLVMValueRef lin = ll_linear(k, x->shape, ns.c);
        ll_store(k, ll_elem(k, x, ns.c), ll_ref(k, &flat, line, &lin));
    } while (ll_nest_next(&ns));
}

/* ---- matmul ---- */

typedef struct Mm {
    const IrNode *n, *a, *b;
    bool rows, cols; /* a has rows (rank 2), b has columns (rank 2) */
    int K, J;
    CgAccess bt;     /* b read from a transposed copy (plan.c's tpos) */
    bool copied;
} Mm;

static LLVMValueRef mm_a(LlKernel *k, const Mm *mm, LLVMValueRef i, LLVMValueRef kk) {
    LLVMValueRef c[2] = {i, kk};
    return ll_elem(k, mm->a, mm->rows ? c : c + 1);
}

static LLVMValueRef mm_b(LlKernel *k, const Mm *mm, LLVMValueRef kk, LLVMValueRef j) {
    LLVMValueRef c[2] = {kk, j};
    if (mm->copied) return ll_load(k, ll_ref(k, &mm->bt, shape_matrix(mm->K, mm->J), c));
    return ll_elem(k, mm->b, c);
}

/* The copy of W (rows x K) as Wᵀ: K x rows, row-major. */
static CgAccess transposed(const IrNode *mm, int rows) {
    CgAccess at = {.store = CG_ST_TRANSPOSED, .base = mm->id, .stride = {rows, 1}};
    return at;
}

void ll_transpose_copy(LlKernel *k, const IrNode *mm) {
    const IrNode *w = mm->in[0];
    int rows = w->shape.dim[0], K = w->shape.dim[1];
    CgAccess at = transposed(mm, rows);
    LlNest ns;
    ll_nest_open(&ns, k, shape_matrix(K, rows), K * rows <= k->plan->unroll);
    do {
        LLVMValueRef wc[2] = {ns.c[1], ns.c[0]};
        ll_store(k, ll_elem(k, w, wc), ll_ref(k, &at, shape_matrix(K, rows), ns.c));
    } while (ll_nest_next(&ns));
}

static LLVMValueRef mm_d(LlKernel *k, const Mm *mm, LLVMValueRef i, LLVMValueRef j) {
    LLVMValueRef c[2] = {i, j};
    if (!mm->rows) c[0] = j;
    return dst(k, mm->n, c);
}

/* Small products written out: d = a0·b0 + a1·b1 + ... */
static void mm_unrolled(LlKernel *k, const Mm *mm, LLVMValueRef i) {
    for (int j = 0; j < mm->J; j++) {
        LLVMValueRef sum = NULL;
        for (int kk = 0; kk < mm->K; kk++) {
            LLVMValueRef t = FMUL(mm_a(k, mm, i, c64(k, kk)), mm_b(k, mm, c64(k, kk), c64(k, j)));
            sum = sum ? FADD(sum, t) : t;
        }
        ll_store(k, sum, mm_d(k, mm, i, c64(k, j)));
    }
}

/* d[i][:] = Σ_k A[i][k]·B[k][:], the row of sums in registers. */
typedef struct MmRow {
    const Mm *mm;
    LLVMValueRef i;
} MmRow;

static LLVMValueRef mmr_scalar(LlKernel *k, const void *ctx, LLVMValueRef t, int row) {
    const MmRow *m = ctx;
    k->row_offset = row;
    LLVMValueRef a = mm_a(k, m->mm, m->i, t);
    k->row_offset = 0;
    return a;
}

static LLVMValueRef mmr_row(LlKernel *k, const void *ctx, LLVMValueRef t, LLVMValueRef j) {
    const MmRow *m = ctx;
    return mm_b(k, m->mm, t, j);
}

/* The address of a stored operand's element when its axis `axis` is
** contiguous there, else NULL. */
static LLVMValueRef unit_addr(LlKernel *k, const IrNode *n, int axis, LLVMValueRef *c) {
    const CgNodePlan *np = np_of(k, n);
    if (np->place == CG_INLINE || (n->shape.dim[axis] > 1 && np->at.stride[axis] != 1)) return NULL;
    return ll_ref(k, &np->at, n->shape, c);
}

static LLVMValueRef mmr_row_addr(LlKernel *k, const void *ctx, LLVMValueRef t, LLVMValueRef j) {
    const Mm *mm = ((const MmRow *)ctx)->mm;
    LLVMValueRef c[2] = {t, j};
    if (mm->copied) return ll_ref(k, &mm->bt, shape_matrix(mm->K, mm->J), c);
    return mm->cols ? unit_addr(k, mm->b, 1, c) : NULL;
}

static void mmr_store(LlKernel *k, const void *ctx, int row, LLVMValueRef j, LLVMValueRef sum) {
    const MmRow *m = ctx;
    k->row_offset = row;
    ll_store(k, sum, mm_d(k, m->mm, m->i, j));
    k->row_offset = 0;
}

/* Sums into a destination contiguous along j: one vector store. */
static bool mmr_store_vec(LlKernel *k, const void *ctx, int row, LLVMValueRef j, LLVMValueRef sums) {
    const MmRow *m = ctx;
    const CgAccess *at = &np_of(k, m->mm->n)->at;
    if (at->stride[m->mm->rows ? 1 : 0] != 1) return false;
    k->row_offset = row;
    ll_vector_at(k, mm_d(k, m->mm, m->i, j), sums);
    k->row_offset = 0;
    return true;
}

static LlAcc mm_acc(const Mm *mm, const MmRow *row) {
    return (LlAcc){.width = mm->J, .count = mm->K, .scalar = mmr_scalar, .row = mmr_row, .row_addr = mmr_row_addr,
                   .store = mmr_store, .store_vec = mmr_store_vec, .ctx = row};
}

/* d[i] = Σ_k A[i][k]·b[k], from 0 as in C. */
static void mm_dot(LlKernel *k, const Mm *mm, LLVMValueRef i) {
    LLVMValueRef acc = ll_local(k, k->file->real, "acc");
    ll_store(k, ll_real(k->file, 0), acc);
    LlLoop loop;
    LLVMValueRef kk = ll_loop_open(k, &loop, c64(k, 0), c64(k, mm->K));
    LLVMValueRef t = FMUL(mm_a(k, mm, i, kk), ll_elem(k, mm->b, &kk));
    ll_store(k, FADD(ll_load(k, acc), t), acc);
    ll_loop_close(k, &loop, 1);
    ll_store(k, ll_load(k, acc), mm_d(k, mm, i, c64(k, 0)));
}

static Mm mm_setup(LlKernel *k, const IrNode *n) {
    Mm mm = {.n = n, .a = n->in[0], .b = n->in[1]};
    mm.rows = mm.a->shape.rank == 2;
    mm.cols = mm.b->shape.rank == 2;
    mm.K = mm.b->shape.dim[0];
    mm.J = mm.cols ? mm.b->shape.dim[1] : 1;
    if (np_of(k, n)->tpos >= 0) { /* W·x as x·Wᵀ */
        mm = (Mm){.n = n, .a = n->in[1], .b = n->in[0], .cols = true, .copied = true};
        mm.K = n->in[0]->shape.dim[1];
        mm.J = n->in[0]->shape.dim[0];
        mm.bt = transposed(n, mm.J);
    }
    return mm;
}

/* Rows of the batch `tile` at a time (plan.c's tile: large weights), then
** the rest one by one; outside the row loop, which the caller closed. */
void ll_matmul_tiled(LlKernel *k, const IrNode *n) {
    Mm mm = mm_setup(k, n);
    MmRow row = {&mm, c64(k, 0)};
    LlAcc acc = mm_acc(&mm, &row);
    long tile = np_of(k, n)->tile;
    /* full = n / tile · tile rows in tiles, then the rest */
    LLVMValueRef full = LLVMBuildNSWMul(k->b, LLVMBuildSDiv(k->b, k->n, c64(k, tile), ""), c64(k, tile), "");
    LlLoop tiles, rest;
    k->r = ll_loop_open(k, &tiles, c64(k, 0), full);
    ll_acc(k, &acc, (int)tile);
    ll_loop_close(k, &tiles, tile);
    k->r = ll_loop_open(k, &rest, full, k->n);
    ll_acc(k, &acc, 0);
    ll_loop_close(k, &rest, 1);
    k->r = NULL;
}

static void matmul(LlKernel *k, const IrNode *n) {
    Mm mm = mm_setup(k, n);
    /* Written out unless that would evaluate an inlined left operand twice. */
    bool unroll = np_of(k, n)->unroll && (mm.J == 1 || np_of(k, mm.a)->place != CG_INLINE);
    Shape is = mm.rows ? shape_vector(mm.a->shape.dim[0]) : shape_scalar();
    LlNest ns;
    ll_nest_open(&ns, k, is, unroll);
    do {
        LLVMValueRef i = mm.rows ? ns.c[0] : c64(k, 0);
        if (unroll) {
            mm_unrolled(k, &mm, i);
        } else if (mm.cols) {
            MmRow row = {&mm, i};
            LlAcc acc = mm_acc(&mm, &row);
            ll_acc(k, &acc, 0);
        } else {
            mm_dot(k, &mm, i);
        }
    } while (ll_nest_next(&ns));
}

/* ---- reductions, softmax ---- */

typedef struct Red {
    LLVMValueRef m, s; /* locals: the running max and sum */
} Red;

static void reduce_pass(LlKernel *k, const IrNode *n, LLVMValueRef *out, Red *rd, int pass) {
    const IrNode *x = n->in[0];
    bool all = n->axis == IR_AXIS_ALL;
    Shape red = all ? x->shape : shape_vector(x->shape.dim[n->axis]);
    LlNest in;
    ll_nest_open(&in, k, red, np_of(k, n)->unroll);
    do {
        LLVMValueRef xc[IR_MAX_RANK];
        if (all) for (int d = 0; d < x->shape.rank; d++) xc[d] = in.c[d];
        else insert_axis(xc, out, x->shape.rank, n->axis, in.c[0]);
        LLVMValueRef v = ll_elem(k, x, xc);
        if (pass == 0) {
            ll_store(k, ll_max(k, ll_load(k, rd->m), v), rd->m);
        } else {
            if (n->op == OP_LOGSUMEXP) v = ll_call1(k, LL_EXP, LLVMBuildFSub(k->b, v, ll_load(k, rd->m), ""));
            ll_store(k, FADD(ll_load(k, rd->s), v), rd->s);
        }
    } while (ll_nest_next(&in));
}

static void reduce(LlKernel *k, const IrNode *n) {
    const IrNode *x = n->in[0];
    long count = n->axis == IR_AXIS_ALL ? shape_numel(x->shape) : x->shape.dim[n->axis];
    bool max = n->op == OP_MAX || n->op == OP_LOGSUMEXP;
    LlNest out;
    ll_nest_open(&out, k, n->shape, np_of(k, n)->unroll);
    do {
        Red rd = {ll_local(k, k->file->real, "m"), ll_local(k, k->file->real, "s")};
        ll_store(k, ll_real(k->file, -HUGE_VAL), rd.m);
        ll_store(k, ll_real(k->file, 0), rd.s);
        if (max) reduce_pass(k, n, out.c, &rd, 0);
        if (n->op != OP_MAX) reduce_pass(k, n, out.c, &rd, 1);
        LLVMValueRef v, s = ll_load(k, rd.s);
        switch (n->op) {
        case OP_SUM: v = s; break;
        case OP_MEAN: v = LLVMBuildFDiv(k->b, s, ll_real(k->file, (double)count), ""); break;
        case OP_MAX: v = ll_load(k, rd.m); break;
        default: v = FADD(ll_load(k, rd.m), ll_call1(k, LL_LOG, s)); break;
        }
        ll_store(k, v, dst(k, n, out.c));
    } while (ll_nest_next(&out));
}

static void softmax(LlKernel *k, const IrNode *n) {
    const IrNode *x = n->in[0];
    int axis = n->axis, len = n->shape.dim[axis];
    bool unroll = np_of(k, n)->unroll;
    LlNest out, in;
    ll_nest_open(&out, k, drop_axis(n->shape, axis), unroll);
    do {
        LLVMValueRef m = ll_local(k, k->file->real, "m"), s = ll_local(k, k->file->real, "s");
        ll_store(k, ll_real(k->file, -HUGE_VAL), m);
        ll_store(k, ll_real(k->file, 0), s);
        for (int pass = 0; pass < 3; pass++) {
            ll_nest_open(&in, k, shape_vector(len), unroll);
            do {
                LLVMValueRef c[IR_MAX_RANK];
                insert_axis(c, out.c, n->shape.rank, axis, in.c[0]);
                LLVMValueRef d = dst(k, n, c);
                if (pass == 0) ll_store(k, ll_max(k, ll_load(k, m), ll_elem(k, x, c)), m);
                if (pass == 1) {
                    LLVMValueRef e = ll_call1(k, LL_EXP, LLVMBuildFSub(k->b, ll_elem(k, x, c), ll_load(k, m), ""));
                    ll_store(k, e, d);
                    ll_store(k, FADD(ll_load(k, s), ll_load(k, d)), s);
                }
                if (pass == 2) ll_store(k, LLVMBuildFDiv(k->b, ll_load(k, d), ll_load(k, s), ""), d);
            } while (ll_nest_next(&in));
        }
    } while (ll_nest_next(&out));
}

/* ---- pad, batch sum ---- */

static void pad(LlKernel *k, const IrNode *n) {
    const IrNode *x = n->in[0];
    bool unroll = np_of(k, n)->unroll;
    LlNest ns;
    ll_nest_open(&ns, k, n->shape, unroll);
    do ll_store(k, ll_real(k->file, 0), dst(k, n, ns.c));
    while (ll_nest_next(&ns));
    ll_nest_open(&ns, k, x->shape, unroll);
    do {
        LLVMValueRef c[IR_MAX_RANK];
        for (int d = 0, o = 0; d < n->shape.rank; d++) {
            bool sliced = d < n->slice.rank, drop = sliced && (n->slice.drop >> d & 1u);
            LLVMValueRef start = c64(k, sliced ? n->slice.start[d] : 0);
            c[d] = drop ? start : ll_add(k, ns.c[o++], start);
        }
        ll_store(k, ll_elem(k, x, ns.c), dst(k, n, c));
    } while (ll_nest_next(&ns));
}

/* The gradient element a batch sum adds into. */
static LLVMValueRef grad_ref(LlKernel *k, const IrNode *n, LLVMValueRef *c) {
    const IrOutput *o = &k->f->outputs.items[np_of(k, n)->grad_out];
    LLVMValueRef lin = ll_linear(k, n->shape, c), g = k->grad[o->param];
    return LLVMBuildInBoundsGEP2(k->b, k->file->real, g, &lin, 1, "");
}

/* g += sc · sum */
static void grad_add(LlKernel *k, LLVMValueRef addr, LLVMValueRef sum) {
    ll_store(k, FADD(ll_load(k, addr), FMUL(k->sc, sum)), addr);
}

static Shape squeezed(Shape s) {
    Shape r = {0};
    for (int d = 0; d < s.rank; d++)
        if (s.dim[d] > 1) r.dim[r.rank++] = s.dim[d];
    return r;
}

static void unsqueeze(Shape s, LlKernel *k, LLVMValueRef *sc, LLVMValueRef *c) {
    for (int d = 0, o = 0; d < s.rank; d++) c[d] = s.dim[d] > 1 ? sc[o++] : c64(k, 0);
}

/* Σ over rows, for each element of all but the last (non-unit) axis: the
** stretch along the last axis summed in registers over the rows; for
** outer(a, b) that is a[r][i]·b[r][:]. */
typedef struct BsRow {
    const IrNode *n, *x;
    Shape sq;
    LLVMValueRef outer[IR_MAX_RANK];
    bool grad;
} BsRow;

/* Row `row` of a tile is `row` further along the last outer axis. */
static void bs_coords(LlKernel *k, const BsRow *b, int row, LLVMValueRef j, LLVMValueRef *c) {
    LLVMValueRef sc[IR_MAX_RANK];
    for (int d = 0; d < b->sq.rank - 1; d++) sc[d] = b->outer[d];
    if (row) sc[b->sq.rank - 2] = ll_add(k, sc[b->sq.rank - 2], c64(k, row));
    sc[b->sq.rank - 1] = j;
    unsqueeze(b->n->shape, k, sc, c);
}

/* outer(a, b) summed along b's axis: a[r][i] is the same for the stretch. */
static bool outer_split(const LlKernel *k, const BsRow *b) {
    return b->x->op == OP_OUTER && np_of(k, b->x)->place == CG_INLINE && b->n->shape.dim[1] > 1;
}

static LLVMValueRef bs_scalar(LlKernel *k, const void *ctx, LLVMValueRef t, int row) {
    const BsRow *b = ctx;
    (void)t;
    if (!outer_split(k, b)) return ll_real(k->file, 1);
    LLVMValueRef c[IR_MAX_RANK];
    bs_coords(k, b, row, c64(k, 0), c);
    return ll_elem(k, b->x->in[0], &c[0]);
}

static LLVMValueRef bs_row(LlKernel *k, const void *ctx, LLVMValueRef t, LLVMValueRef j) {
    const BsRow *b = ctx;
    LLVMValueRef c[IR_MAX_RANK];
    (void)t;
    bs_coords(k, b, 0, j, c);
    if (!outer_split(k, b)) return ll_elem(k, b->x, c);
    return ll_elem(k, b->x->in[1], &c[1]);
}

static LLVMValueRef bs_row_addr(LlKernel *k, const void *ctx, LLVMValueRef t, LLVMValueRef j) {
    const BsRow *b = ctx;
    LLVMValueRef c[IR_MAX_RANK];
    (void)t;
    bs_coords(k, b, 0, j, c);
    if (outer_split(k, b)) return b->x->in[1]->shape.rank == 1 ? unit_addr(k, b->x->in[1], 0, &c[1]) : NULL;
    int last = b->n->shape.rank - 1;
    while (last > 0 && b->n->shape.dim[last] == 1) last--;
    return shape_eq(b->x->shape, b->n->shape) ? unit_addr(k, b->x, last, c) : NULL;
}

static void bs_store(LlKernel *k, const void *ctx, int row, LLVMValueRef j, LLVMValueRef sum) {
    const BsRow *b = ctx;
    LLVMValueRef c[IR_MAX_RANK];
    bs_coords(k, b, row, j, c);
    if (b->grad) grad_add(k, grad_ref(k, b->n, c), sum);
    else ll_store(k, sum, dst(k, b->n, c));
}

/* The gradient (g += sc · sums) or the batch sum's own row-major buffer:
** contiguous along the summed axis either way. */
static bool bs_store_vec(LlKernel *k, const void *ctx, int row, LLVMValueRef j, LLVMValueRef sums) {
    const BsRow *b = ctx;
    LLVMValueRef c[IR_MAX_RANK];
    bs_coords(k, b, row, j, c);
    if (!b->grad) {
        const CgAccess *at = &np_of(k, b->n)->at;
        if (!cg_contiguous(at, b->n->shape)) return false;
        ll_vector_at(k, dst(k, b->n, c), sums);
        return true;
    }
    LLVMValueRef addr = grad_ref(k, b->n, c), g = ll_vector_at(k, addr, NULL);
    LLVMValueRef add = LLVMBuildFMul(k->b, ll_splat(k, k->sc, LL_VECTOR), sums, "");
    ll_vector_at(k, addr, LLVMBuildFAdd(k->b, g, add, ""));
    return true;
}

/* dW[i][j] for CG_ROW_TILE values of i at once: each dy[r][j] loaded once
** serves all of them. Only for outer products, where b_t[j] is the same
** for every i. */
static void batch_sum_tiled(LlKernel *k, BsRow *b, const LlAcc *acc) {
    int rows = b->sq.dim[0], tiled = rows / CG_ROW_TILE * CG_ROW_TILE;
    LlLoop loop;
    b->outer[0] = ll_loop_open(k, &loop, c64(k, 0), c64(k, tiled));
    ll_acc(k, acc, CG_ROW_TILE);
    ll_loop_close(k, &loop, CG_ROW_TILE);
    if (tiled == rows) return;
    b->outer[0] = ll_loop_open(k, &loop, c64(k, tiled), c64(k, rows));
    ll_acc(k, acc, 0);
    ll_loop_close(k, &loop, 1);
}

/* One number: s = 0; s += x[r] for every row. */
static void batch_sum_scalar(LlKernel *k, const BsRow *b) {
    LLVMValueRef c[IR_MAX_RANK], s = ll_local(k, k->file->real, "s");
    unsqueeze(b->n->shape, k, NULL, c);
    ll_store(k, ll_real(k->file, 0), s);
    LlLoop loop;
    k->r = ll_loop_open(k, &loop, c64(k, 0), k->n);
    ll_store(k, FADD(ll_load(k, s), ll_elem(k, b->x, c)), s);
    ll_loop_close(k, &loop, 1);
    k->r = NULL;
    if (b->grad) grad_add(k, grad_ref(k, b->n, c), ll_load(k, s));
    else ll_store(k, ll_load(k, s), dst(k, b->n, c));
}

static void batch_sum(LlKernel *k, const IrNode *n) {
    BsRow b = {.n = n, .x = n->in[0], .sq = squeezed(n->shape), .grad = np_of(k, n)->grad_out >= 0};
    if (b.sq.rank == 0) {
        batch_sum_scalar(k, &b);
        return;
    }
    LlAcc acc = {.width = b.sq.dim[b.sq.rank - 1], .over_rows = true, .scalar = bs_scalar, .row = bs_row,
                 .row_addr = bs_row_addr, .store = bs_store, .store_vec = bs_store_vec, .ctx = &b};
    if (b.sq.rank == 2 && b.sq.dim[0] >= CG_ROW_TILE && acc.width >= 8 && outer_split(k, &b)) {
        batch_sum_tiled(k, &b, &acc);
        return;
    }
    LlNest ns;
    ll_nest_open(&ns, k, drop_axis(b.sq, b.sq.rank - 1), shape_numel(n->shape) <= k->plan->unroll);
    do {
        for (int d = 0; d < b.sq.rank - 1; d++) b.outer[d] = ns.c[d];
        ll_acc(k, &acc, 0);
    } while (ll_nest_next(&ns));
}

/* ---- one stored node ---- */

const IrNode *ll_fused_matmul(const LlKernel *k, const IrNode *root) {
    for (int id = 0; id < root->id; id++)
        if (k->plan->node[id].live && k->plan->node[id].fused == root->id) return k->f->nodes.items[id];
    return NULL;
}

void ll_node(LlKernel *k, const IrNode *n) {
    const IrNode *mm = ll_fused_matmul(k, n);
    if (mm && np_of(k, mm)->tile == 0) matmul(k, mm);
    switch (n->op) {
    case OP_MATMUL: matmul(k, n); break;
    case OP_SUM: case OP_MEAN: case OP_MAX: case OP_LOGSUMEXP: reduce(k, n); break;
    case OP_SOFTMAX: softmax(k, n); break;
    case OP_PAD: pad(k, n); break;
    case OP_BATCH_SUM: batch_sum(k, n); break;
    case OP_RESHAPE: reshape_copy(k, n); break; /* stored views are free (plan.c) */
    default: pointwise(k, n); break;
    }
}
