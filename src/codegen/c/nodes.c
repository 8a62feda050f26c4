/*
** nodes.c — the loop nest that computes one stored node: element-wise
** chains, matmuls (k outside j, so the j loop runs over contiguous rows of
** both the weights and the result and vectorizes), reductions, softmax,
** pad, copies for reshape, and batch sums (dW[i][j] += Σ_r x[r][i]·dy[r][j],
** the row loop outside the contiguous j loop).
*/
#include "cgen.h"

#include <string.h>

static const CgNodePlan *np_of(const CgKernel *k, const IrNode *n) {
    return &k->plan->node[n->id];
}

static const char *dst(CgKernel *k, const IrNode *n, const CgAff *c) {
    return cg_c_ref(k, &np_of(k, n)->at, n->shape, c);
}

static Shape drop_axis(Shape s, int axis) {
    Shape r = {.rank = s.rank - 1};
    for (int d = 0, o = 0; d < s.rank; d++)
        if (d != axis) r.dim[o++] = s.dim[d];
    return r;
}

/* Coordinates of x from the result's c with `axis` of x running over j. */
static void insert_axis(CgAff *xc, const CgAff *c, int rank, int axis, CgAff j) {
    for (int d = 0, o = 0; d < rank; d++) xc[d] = d == axis ? j : c[o++];
}

/* The node's number in --emit=grad-ir, which numbers only the nodes it
** prints on lines of their own (leaves but constant arrays and masks are
** written inline). */
int cg_c_number(const CgKernel *k, const IrNode *n) {
    int number = 0;
    for (int id = 0; id <= n->id; id++) {
        const IrNode *x = k->f->nodes.items[id];
        number += x->nin > 0 || (x->op == OP_CONST && x->data) || x->op == OP_DROPOUT_MASK;
    }
    return number;
}

static void comment(CgKernel *k, const IrNode *n, const char *what) {
    const IrModule *m = k->f->module;
    Arena *a = k->file->arena;
    const char *where = "";
    if (n->loc.first_line > 0)
        where = arena_printf(a, ", %s:%d:%d", cg_comment(a, m->file ? m->file : "model"),
                             n->loc.first_line, n->loc.first_column);
    cg_c_line(k->body, "/* %%%d = %s %s%s%s */", cg_c_number(k, n), what, cg_c_shape(a, n->shape),
              n->varying ? " per row" : "", where);
}

/* ---- element-wise, copies ---- */

static void pointwise(CgKernel *k, const IrNode *n) {
    CgNest ns;
    cg_c_nest_vector(&ns, k, n->shape, CG_V_I0, np_of(k, n)->unroll);
    do cg_c_line(k->body, "%s = %s;", dst(k, n, ns.c), cg_c_compute(k, n, ns.c));
    while (cg_c_nest_next(&ns));
}

/* reshape of a value without row-major storage: copied in its own order. */
static void reshape_copy(CgKernel *k, const IrNode *n) {
    const IrNode *x = n->in[0];
    CgAccess flat = np_of(k, n)->at;
    flat.stride[0] = 1;
    Shape line = shape_vector((int)shape_numel(n->shape));
    CgNest ns;
    cg_c_nest_vector(&ns, k, x->shape, CG_V_J0, np_of(k, n)->unroll);
    do {
        CgAff lin = cg_c_linear_aff(x->shape, ns.c);
        cg_c_line(k->body, "%s = %s;", cg_c_ref(k, &flat, line, &lin), cg_c_elem(k, x, ns.c));
    } while (cg_c_nest_next(&ns));
}

/* ---- matmul ---- */

typedef struct Mm {
    const IrNode *n, *a, *b;
    const IrNode *root; /* the buffer the matmul writes into, its epilogue (plan.c's fused) */
    bool rows, cols; /* a has rows (rank 2), b has columns (rank 2) */
    int K, J;
    CgAccess bt;     /* b read from a transposed copy (plan.c's tpos) */
    bool copied;
} Mm;

static const char *mm_a(CgKernel *k, const Mm *mm, CgAff i, CgAff kk) {
    CgAff c[2] = {i, kk};
    return cg_c_elem(k, mm->a, mm->rows ? c : c + 1);
}

static const char *mm_b(CgKernel *k, const Mm *mm, CgAff kk, CgAff j) {
    CgAff c[2] = {kk, j};
    if (mm->copied) return cg_c_ref(k, &mm->bt, shape_matrix(mm->K, mm->J), c);
    return cg_c_elem(k, mm->b, c);
}

/* The access to the copy of W (rows x K) as Wᵀ: K x rows, row-major. */
static CgAccess transposed(const IrNode *mm, int rows) {
    CgAccess at = {.store = CG_ST_TRANSPOSED, .base = mm->id, .stride = {rows, 1}};
    return at;
}

void cg_c_transpose_copy(CgKernel *k, const IrNode *mm) {
    const IrNode *w = mm->in[0];
    int rows = w->shape.dim[0], K = w->shape.dim[1];
    CgAccess at = transposed(mm, rows);
    cg_c_line(k->body, "/* %%%d's left operand %s, transposed once for all rows */", cg_c_number(k, mm),
              cg_c_shape(k->file->arena, w->shape));
    CgNest ns;
    cg_c_nest_vector(&ns, k, shape_matrix(K, rows), CG_V_I0, K * rows <= k->plan->unroll);
    do {
        CgAff wc[2] = {ns.c[1], ns.c[0]};
        cg_c_line(k->body, "%s = %s;", cg_c_ref(k, &at, shape_matrix(K, rows), ns.c), cg_c_elem(k, w, wc));
    } while (cg_c_nest_next(&ns));
}

static const char *mm_d(CgKernel *k, const Mm *mm, CgAff i, CgAff j) {
    CgAff c[2] = {i, j};
    if (!mm->rows) c[0] = j;
    return dst(k, mm->n, c);
}

/* d[i][j] = sum, or, fused, the epilogue's value at that element: the
** element-wise chain from the matmul to its buffer (bias, activation) with
** the matmul's element being sum. */
static const char *mm_store(CgKernel *k, const Mm *mm, CgAff i, CgAff j, const char *sum) {
    Arena *a = k->file->arena;
    if (!mm->root) return arena_printf(a, "%s = %s;", mm_d(k, mm, i, j), sum);
    CgAff c[2] = {i, j};
    if (!mm->rows) c[0] = j;
    k->temp[mm->n->id] = strchr(sum, ' ') ? arena_printf(a, "(%s)", sum) : sum;
    const char *value = cg_c_compute(k, mm->root, c);
    k->temp[mm->n->id] = NULL;
    return arena_printf(a, "%s = %s;", dst(k, mm->root, c), value);
}

/* Small products written out: d = a0·b0 + a1·b1 + ... */
static void mm_unrolled(CgKernel *k, const Mm *mm, CgAff i) {
    Arena *ar = k->file->arena;
    for (int j = 0; j < mm->J; j++) {
        const char *sum = NULL;
        for (int kk = 0; kk < mm->K; kk++) {
            const char *t = arena_printf(ar, "%s * %s", mm_a(k, mm, i, cg_aff_const(kk)),
                                         mm_b(k, mm, cg_aff_const(kk), cg_aff_const(j)));
            sum = sum ? arena_printf(ar, "%s + %s", sum, t) : t;
        }
        cg_c_line(k->body, "%s", mm_store(k, mm, i, cg_aff_const(j), sum));
    }
}

/* d[i][:] = Σ_k A[i][k]·B[k][:], the row of sums in registers (block.c). */
typedef struct MmRow {
    const Mm *mm;
    CgAff i;
} MmRow;

static const char *mmr_scalar(CgKernel *k, const void *ctx, int row) {
    const MmRow *m = ctx;
    k->row_offset = row;
    const char *a = mm_a(k, m->mm, m->i, cg_aff_var(CG_V_K));
    k->row_offset = 0;
    return a;
}

static const char *mmr_row(CgKernel *k, const void *ctx, CgAff j) {
    const MmRow *m = ctx;
    return mm_b(k, m->mm, cg_aff_var(CG_V_K), j);
}

static const char *mmr_store(CgKernel *k, const void *ctx, int row, CgAff j, const char *sum) {
    const MmRow *m = ctx;
    k->row_offset = row;
    const char *statement = mm_store(k, m->mm, m->i, j, sum);
    k->row_offset = 0;
    return statement;
}

static CgAcc mm_acc(CgKernel *k, const Mm *mm, const MmRow *row) {
    return (CgAcc){.width = mm->J, .loop = arena_printf(k->file->arena, "for (int k = 0; k < %d; k++)", mm->K),
                   .scalar = mmr_scalar, .row = mmr_row, .store = mmr_store, .ctx = row};
}

static void mm_columns(CgKernel *k, const Mm *mm, CgAff i) {
    MmRow row = {mm, i};
    CgAcc acc = mm_acc(k, mm, &row);
    cg_c_acc(k, &acc);
}

/* d[i] = Σ_k A[i][k]·b[k] */
static void mm_dot(CgKernel *k, const Mm *mm, CgAff i) {
    CgAff kk = cg_aff_var(CG_V_K);
    cg_c_block(k->body);
    cg_c_line(k->body, "nnc_real acc = 0;");
    cg_c_open(k->body, "for (int k = 0; k < %d; k++)", mm->K);
    cg_c_line(k->body, "acc += %s * %s;", mm_a(k, mm, i, kk), cg_c_elem(k, mm->b, &kk));
    cg_c_close(k->body);
    cg_c_line(k->body, "%s", mm_store(k, mm, i, cg_aff_const(0), "acc"));
    cg_c_close(k->body);
}

static Mm mm_setup(CgKernel *k, const IrNode *n) {
    Mm mm = {.n = n, .a = n->in[0], .b = n->in[1]};
    const IrNode *root = np_of(k, n)->fused >= 0 ? k->f->nodes.items[np_of(k, n)->fused] : NULL;
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
    mm.root = root;
    return mm;
}

/* Rows of the batch `tile` at a time (plan.c's tile: large weights), then
** the rest one by one; outside the row loop. */
void cg_c_matmul_tiled(CgKernel *k, const IrNode *n) {
    Mm mm = mm_setup(k, n);
    MmRow row = {&mm, cg_aff_const(0)};
    CgAcc acc = mm_acc(k, &mm, &row);
    int tile = np_of(k, n)->tile;
    comment(k, n, arena_printf(k->file->arena, "matmul, %d rows at a time%s,", tile,
                               mm.root ? ", with its epilogue" : ""));
    cg_c_block(k->body);
    cg_c_line(k->body, "int r = 0;");
    cg_c_open(k->body, "for (; r + %d <= n; r += %d)", tile, tile);
    cg_c_acc_tile(k, &acc, tile);
    cg_c_close(k->body);
    cg_c_open(k->body, "for (; r < n; r++)");
    cg_c_acc(k, &acc);
    cg_c_close(k->body);
    cg_c_close(k->body);
}

static void matmul(CgKernel *k, const IrNode *n) {
    Mm mm = mm_setup(k, n);
    /* Written out unless that would evaluate an inlined left operand twice. */
    bool unroll = np_of(k, n)->unroll && (mm.J == 1 || np_of(k, mm.a)->place != CG_INLINE);
    Shape is = mm.rows ? shape_vector(mm.a->shape.dim[0]) : shape_scalar();
    CgNest ns;
    cg_c_nest_open(&ns, k, is, CG_V_I0, unroll);
    do {
        CgAff i = mm.rows ? ns.c[0] : cg_aff_const(0);
        if (unroll)
            mm_unrolled(k, &mm, i);
        else if (mm.cols)
            mm_columns(k, &mm, i);
        else
            mm_dot(k, &mm, i);
    } while (cg_c_nest_next(&ns));
}

/* ---- reductions, softmax ---- */

static void reduce(CgKernel *k, const IrNode *n) {
    const IrNode *x = n->in[0];
    bool all = n->axis == IR_AXIS_ALL, unroll = np_of(k, n)->unroll;
    Shape red = all ? x->shape : shape_vector(x->shape.dim[n->axis]);
    long count = shape_numel(red);
    bool max = n->op == OP_MAX || n->op == OP_LOGSUMEXP;
    if (max) k->file->helpers |= 1u << H_MAX;
    CgNest out, in;
    cg_c_nest_open(&out, k, n->shape, CG_V_I0, unroll);
    do {
        cg_c_block(k->body);
        if (max) cg_c_line(k->body, "nnc_real m = -(nnc_real)HUGE_VAL;");
        if (n->op != OP_MAX) cg_c_line(k->body, "nnc_real s = 0;");
        for (int pass = max ? 0 : 1; pass < 2; pass++) {
            if (pass == 1 && n->op == OP_MAX) break;
            cg_c_nest_open(&in, k, red, CG_V_J0, unroll);
            do {
                CgAff xc[IR_MAX_RANK];
                if (all) for (int d = 0; d < x->shape.rank; d++) xc[d] = in.c[d];
                else insert_axis(xc, out.c, x->shape.rank, n->axis, in.c[0]);
                const char *v = cg_c_elem(k, x, xc);
                if (pass == 0) cg_c_line(k->body, "m = nnc_max(m, %s);", v);
                else if (n->op == OP_LOGSUMEXP) cg_c_line(k->body, "s += NNC_EXP(%s - m);", v);
                else cg_c_line(k->body, "s += %s;", v);
            } while (cg_c_nest_next(&in));
        }
        const char *d = dst(k, n, out.c);
        switch (n->op) {
        case OP_SUM: cg_c_line(k->body, "%s = s;", d); break;
        case OP_MEAN: cg_c_line(k->body, "%s = s / %ld;", d, count); break;
        case OP_MAX: cg_c_line(k->body, "%s = m;", d); break;
        default: cg_c_line(k->body, "%s = m + NNC_LOG(s);", d); break;
        }
        cg_c_close(k->body);
    } while (cg_c_nest_next(&out));
}

static void softmax(CgKernel *k, const IrNode *n) {
    const IrNode *x = n->in[0];
    int axis = n->axis, len = n->shape.dim[axis];
    bool unroll = np_of(k, n)->unroll;
    k->file->helpers |= 1u << H_MAX;
    CgNest out, in;
    cg_c_nest_open(&out, k, drop_axis(n->shape, axis), CG_V_I0, unroll);
    do {
        cg_c_block(k->body);
        cg_c_line(k->body, "nnc_real m = -(nnc_real)HUGE_VAL, s = 0;");
        for (int pass = 0; pass < 3; pass++) {
            cg_c_nest_vector(&in, k, shape_vector(len), CG_V_J0, unroll);
            do {
                CgAff c[IR_MAX_RANK];
                insert_axis(c, out.c, n->shape.rank, axis, in.c[0]);
                const char *d = dst(k, n, c), *v = cg_c_elem(k, x, c);
                if (pass == 0) cg_c_line(k->body, "m = nnc_max(m, %s);", v);
                if (pass == 1) cg_c_line(k->body, "%s = NNC_EXP(%s - m);", d, v);
                if (pass == 1) cg_c_line(k->body, "s += %s;", d);
                if (pass == 2) cg_c_line(k->body, "%s /= s;", d);
            } while (cg_c_nest_next(&in));
        }
        cg_c_close(k->body);
    } while (cg_c_nest_next(&out));
}

/* ---- pad, batch sum ---- */

static void pad(CgKernel *k, const IrNode *n) {
    const IrNode *x = n->in[0];
    bool unroll = np_of(k, n)->unroll;
    CgNest ns;
    cg_c_nest_vector(&ns, k, n->shape, CG_V_I0, unroll);
    do cg_c_line(k->body, "%s = 0;", dst(k, n, ns.c));
    while (cg_c_nest_next(&ns));
    cg_c_nest_vector(&ns, k, x->shape, CG_V_J0, unroll);
    do {
        CgAff c[IR_MAX_RANK];
        for (int d = 0, o = 0; d < n->shape.rank; d++) {
            bool sliced = d < n->slice.rank, drop = sliced && (n->slice.drop >> d & 1u);
            CgAff start = cg_aff_const(sliced ? n->slice.start[d] : 0);
            c[d] = drop ? start : cg_aff_add(ns.c[o++], start);
        }
        cg_c_line(k->body, "%s = %s;", dst(k, n, c), cg_c_elem(k, x, ns.c));
    } while (cg_c_nest_next(&ns));
}

/* The gradient output a batch sum adds into (kernels.c declares g<p>). */
static const char *grad_ref(CgKernel *k, const IrNode *n, const CgAff *c) {
    const IrOutput *o = &k->f->outputs.items[np_of(k, n)->grad_out];
    CgAff lin = cg_c_linear_aff(n->shape, c);
    return arena_printf(k->file->arena, "g%d[%s]", o->param, cg_aff_text(k->file->arena, lin));
}

/* The shape without its axes of size 1, and coordinates back. */
static Shape squeezed(Shape s) {
    Shape r = {0};
    for (int d = 0; d < s.rank; d++)
        if (s.dim[d] > 1) r.dim[r.rank++] = s.dim[d];
    return r;
}

static void unsqueeze(Shape s, const CgAff *sc, CgAff *c) {
    for (int d = 0, o = 0; d < s.rank; d++) c[d] = s.dim[d] > 1 ? sc[o++] : cg_aff_const(0);
}

/* Σ over rows, for each element of all but the last (non-unit) axis: the
** stretch along the last axis summed in registers over the rows (block.c);
** for outer(a, b) that is a[r][i]·b[r][:]. A gradient output adds it
** straight into the gradient. */
typedef struct BsRow {
    const IrNode *n, *x;
    Shape sq;
    CgAff outer[IR_MAX_RANK];
    bool grad;
} BsRow;

/* Row `row` of a tile is `row` further along the last outer axis. */
static void bs_coords(const BsRow *b, int row, CgAff j, CgAff *c) {
    CgAff sc[IR_MAX_RANK];
    for (int d = 0; d < b->sq.rank - 1; d++) sc[d] = b->outer[d];
    if (row) sc[b->sq.rank - 2] = cg_aff_add(sc[b->sq.rank - 2], cg_aff_const(row));
    sc[b->sq.rank - 1] = j;
    unsqueeze(b->n->shape, sc, c);
}

/* outer(a, b) summed along b's axis: a[r][i] is the same for the stretch. */
static bool outer_split(const CgKernel *k, const BsRow *b) {
    return b->x->op == OP_OUTER && np_of(k, b->x)->place == CG_INLINE && b->n->shape.dim[1] > 1;
}

static const char *bs_scalar(CgKernel *k, const void *ctx, int row) {
    const BsRow *b = ctx;
    if (!outer_split(k, b)) return "(nnc_real)1";
    CgAff c[IR_MAX_RANK];
    bs_coords(b, row, cg_aff_const(0), c);
    return cg_c_elem(k, b->x->in[0], &c[0]);
}

static const char *bs_row(CgKernel *k, const void *ctx, CgAff j) {
    const BsRow *b = ctx;
    CgAff c[IR_MAX_RANK];
    bs_coords(b, 0, j, c);
    if (!outer_split(k, b)) return cg_c_elem(k, b->x, c);
    return cg_c_elem(k, b->x->in[1], &c[1]);
}

static const char *bs_store(CgKernel *k, const void *ctx, int row, CgAff j, const char *sum) {
    const BsRow *b = ctx;
    CgAff c[IR_MAX_RANK];
    bs_coords(b, row, j, c);
    if (b->grad) return arena_printf(k->file->arena, "%s += sc * %s;", grad_ref(k, b->n, c), sum);
    return arena_printf(k->file->arena, "%s = %s;", dst(k, b->n, c), sum);
}

/* dW[i][j] for CG_ROW_TILE values of i at once: each dy[r][j] loaded once
** serves all of them. */
static void batch_sum_tiled(CgKernel *k, BsRow *b, const CgAcc *acc) {
    int rows = b->sq.dim[0], tiled = rows / CG_ROW_TILE * CG_ROW_TILE;
    b->outer[0] = cg_aff_var(CG_V_I0);
    cg_c_open(k->body, "for (int i0 = 0; i0 < %d; i0 += %d)", tiled, CG_ROW_TILE);
    cg_c_acc_tile(k, acc, CG_ROW_TILE);
    cg_c_close(k->body);
    if (tiled == rows) return;
    cg_c_open(k->body, "for (int i0 = %d; i0 < %d; i0++)", tiled, rows);
    cg_c_acc(k, acc);
    cg_c_close(k->body);
}

static void batch_sum(CgKernel *k, const IrNode *n) {
    BsRow b = {.n = n, .x = n->in[0], .sq = squeezed(n->shape), .grad = np_of(k, n)->grad_out >= 0};
    if (b.sq.rank == 0) { /* one number: Σ_r x[r] */
        CgAff c[IR_MAX_RANK];
        unsqueeze(n->shape, NULL, c);
        cg_c_block(k->body);
        cg_c_line(k->body, "nnc_real s = 0;");
        cg_c_line(k->body, "for (int r = 0; r < n; r++) s += %s;", cg_c_elem(k, b.x, c));
        cg_c_line(k->body, b.grad ? "%s += sc * s;" : "%s = s;", b.grad ? grad_ref(k, n, c) : dst(k, n, c));
        cg_c_close(k->body);
        return;
    }
    CgAcc acc = {.width = b.sq.dim[b.sq.rank - 1], .loop = "for (int r = 0; r < n; r++)",
                 .scalar = bs_scalar, .row = bs_row, .store = bs_store, .ctx = &b};
    /* Tiles reuse one row of an outer product's left factor per tile row;
    ** any other summand has no such split and takes the plain loop. */
    if (b.sq.rank == 2 && b.sq.dim[0] >= CG_ROW_TILE && acc.width >= CG_VECTOR && outer_split(k, &b)) {
        batch_sum_tiled(k, &b, &acc);
        return;
    }
    CgNest ns;
    cg_c_nest_open(&ns, k, drop_axis(b.sq, b.sq.rank - 1), CG_V_I0, shape_numel(n->shape) <= k->plan->unroll);
    do {
        for (int d = 0; d < b.sq.rank - 1; d++) b.outer[d] = ns.c[d];
        cg_c_acc(k, &acc);
    } while (cg_c_nest_next(&ns));
}

/* ---- one stored node ---- */

static const IrNode *fused_matmul(const CgKernel *k, const IrNode *root) {
    for (int id = 0; id < root->id; id++)
        if (k->plan->node[id].live && k->plan->node[id].fused == root->id) return k->f->nodes.items[id];
    return NULL;
}

const IrNode *cg_c_fused_matmul(const CgKernel *k, const IrNode *root) {
    return fused_matmul(k, root);
}

void cg_c_node(CgKernel *k, const IrNode *n) {
    const IrNode *mm = fused_matmul(k, n);
    if (mm) { /* the matmul computes n in its epilogue */
        if (np_of(k, mm)->tile == 0) {
            comment(k, mm, arena_printf(k->file->arena, "matmul with %%%d's %s in its epilogue,",
                                        cg_c_number(k, n), ir_ops[n->op].name));
            matmul(k, mm);
        }
        return;
    }
    comment(k, n, ir_ops[n->op].name);
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
