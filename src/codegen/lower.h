/*
** lower.h — the lowering's own interface, shared by src/codegen/lower*.c
** only: from one planned IrFunc to a LoopKernel (loops.h). Everything
** here is prefixed lw_ or Lw.
*/
#ifndef NNC_LOWER_H
#define NNC_LOWER_H

#include "codegen.h"
#include "loops.h"

/* A kernel being lowered. */
typedef struct Lw {
    Arena *arena;
    LBuilder b;
    LoopKernel *lk;
    const IrFunc *f;
    const CgPlan *plan;
    const CgLayout *layout;
    const CgLowerOptions *opt;
    int *buf_of;   /* per node id: the LBuf of its storage, -1 until read or written */
    int *tbuf_of;  /* per node id: a matmul's transposed copy */
    int *grad_buf; /* per parameter */
    int *param_buf; /* per parameter */
    int *state_buf; /* per parameter and slot (4 each) */
    int arg_buf[3]; /* x, t, y */
    LExpr **temp;  /* per node id: its value at the current element */
    /* Every tensor is read as its flat contiguous storage at coordinate c[0]
    ** (or at 0 when it has one element): lower_pointwise.c's loops over a
    ** parameter's elements, where every value has its shape or is a scalar. */
    bool flat;
    int row_offset; /* per-row values are read at row r + row_offset (tiles) */
    /* The packed panel (plan.c packs): its buffer, one per kernel, -1 until
    ** used; while pack_width > 0 a tile reads columns [pack_base,
    ** pack_base + pack_width) of its shared operand there, k-major. */
    int pack_buf;
    LIdx pack_base;
    int pack_width;
} Lw;

/* lower_expr.c: the value of node n at coordinates c (n->shape.rank of
** them) as a loop-IR expression; the row is the variable r. */
LExpr *lw_elem(Lw *w, const IrNode *n, const LIdx *c);
/* The same, computing n from its operands whatever its place. */
LExpr *lw_compute(Lw *w, const IrNode *n, const LIdx *c);
/* The buffer and index of access `at` (shape s) at c. */
int lw_ref(Lw *w, const CgAccess *at, Shape s, const LIdx *c, LIdx *idx);
LExpr *lw_load(Lw *w, const CgAccess *at, Shape s, const LIdx *c);
void lw_store(Lw *w, const CgAccess *at, Shape s, const LIdx *c, LExpr *value);
int lw_grad_buf(Lw *w, int param);
int lw_param_buf(Lw *w, int param);
int lw_state_buf(Lw *w, int param, int slot);
int lw_arg_buf(Lw *w, LBufBase base);
/* The row-major element number of coordinates c in shape s. */
LIdx lw_linear(Shape s, const LIdx *c);

/* A loop nest over a shape, or its iterations written out:
**   LwNest ns; lw_nest_open(&ns, w, shape, LV_I0, unroll);
**   do { ...ns.c... } while (lw_nest_next(&ns));                        */
typedef struct LwNest {
    Lw *w;
    Shape s;
    bool unroll;
    int var0;
    int loops;       /* loops opened */
    int split, tail; /* vector nests: main loop's end on the last axis, tail done */
    bool ranged;     /* loops over the update's range only (lw_nest_ranged) */
    long range_offset; /* where element 0 is in the params buffer */
    LStmt *chunk;      /* ranged: the main loop, over chunks of lanes */
    long at[IR_MAX_RANK];
    LIdx c[IR_MAX_RANK];
} LwNest;
void lw_nest_open(LwNest *ns, Lw *w, Shape s, int var0, bool unroll);
/* The same for a nest whose body is straight-line code: the last axis in a
** loop of a multiple of LW_VECTOR iterations, then the rest written out. */
void lw_nest_vector(LwNest *ns, Lw *w, Shape s, int var0, bool unroll);
/* The same over count elements at offset in the params buffer, whose loop
** visits only those in the update's range (LR_LO to LR_HI bounds) in
** chunks of `lanes` (NNC_RANGE_ALIGN a multiple of it); the elements
** written out are the caller's to guard (LC_IN_RANGE). */
void lw_nest_ranged(LwNest *ns, Lw *w, long count, long offset, int var0, bool unroll, int lanes);
bool lw_nest_next(LwNest *ns);
/* After a ranged nest: its chunk as a plain loop over the elements unless
** it is one vector operation per statement (loops_vector_chunk). */
void lw_nest_unchunk(LwNest *ns);
#define LW_VECTOR 8
#define LW_VECTOR_WIDE 16 /* under LC_WIDE */

/* lower_block.c: y[j] = Σ_t a_t·b_t[j] for j < width, the sums in
** registers: a local array updated in chunks of LW_VECTOR lanes, in
** blocks of LW_ACC_BLOCK. */
typedef struct LwAcc {
    int width;
    int var;               /* t's loop variable: LV_K or LV_R */
    LBound from, to;       /* t's range */
    LExpr *(*scalar)(Lw *w, const void *ctx, int row, LIdx t); /* a_t of row `row` of a tile */
    LExpr *(*row)(Lw *w, const void *ctx, LIdx t, LIdx j);     /* b_t[j], shared by a tile */
    /* Stores sum, element j of row `row` of the result. */
    void (*store)(Lw *w, const void *ctx, int row, LIdx j, LExpr *sum);
    /* Or NULL: before the tiles of a block of columns [base, base + width),
    ** where there is a tile of `rows` rows, copies b_t's block to the panel
    ** and sets w->pack_* for row() to read it; the block's loop over the
    ** tiles clears them. */
    void (*pack)(Lw *w, const void *ctx, LIdx base, int width, int rows);
    const void *ctx;
} LwAcc;
void lw_acc(Lw *w, const LwAcc *acc);
/* A register tile: `rows` rows (acc0, acc1, ...) by `cols` columns, the
** sums updated `lanes` at a time. The loop over the tiles (tl) runs inside
** each block of columns, so that the block's strip of the shared operand
** stays in cache while every tile of rows goes past it. */
typedef struct LwTile {
    int rows, cols, lanes;
} LwTile;
/* For 32 registers of 16 floats (LC_WIDE), and for 16 of 8. */
#define LW_TILE_WIDE ((LwTile){8, 32, 16})
#define LW_TILE_NARROW ((LwTile){4, 16, 8})
/* The rows after the last tile, one at a time (batch-1 inference is all
** such rows): a row of 8 independent sums of a vector each, enough to keep
** the multiply-adds in flight; 16 with 32 registers, so that a wide layer
** streams its weights in fewer passes (784-512: 2 passes reading 1 KB of
** each row of W, where 4 passes of 512 B took 15 % longer). */
#define LW_ROW_WIDE ((LwTile){1, 256, 16})
#define LW_ROW_NARROW ((LwTile){1, 64, 8})
typedef struct LwTileLoop {
    int var;
    LBound from, to;
    int step;
    bool outside; /* the loop over the tiles outside the blocks of columns instead */
} LwTileLoop;
/* A tile of one row is the plain acc array of lw_acc; tl may be NULL. */
void lw_acc_tile(Lw *w, const LwAcc *acc, LwTile tile, const LwTileLoop *tl);
#define LW_ACC_BLOCK 32
#define LW_SWEEP_COLUMNS 4096 /* dy's widest row that a weight gradient's tiles sweep (lower_nodes.c) */
/* Sums over k of at least LW_SPLIT_MIN terms into at most LW_SPLIT_CHAINS
** vectors of LW_SPLIT_LANES columns go in parts (lower_block.c): enough
** independent chains of multiply-adds to hide their latency. */
#define LW_SPLIT_MIN 256
#define LW_SPLIT_CHAINS 8
#define LW_SPLIT_LANES 16
#define LW_MIN_LANES 4 /* the narrowest chunk of lanes: a 128-bit vector of floats */
#define LW_TRANSPOSE_BLOCK 16 /* columns of W (one cache line) a transposed copy reads together */
#define LW_TRANSPOSE_TILE 8   /* rows and columns of a tile transposed in vector registers */

/* lower_nodes.c */
void lw_node(Lw *w, const IrNode *n);
void lw_matmul_tiled(Lw *w, const IrNode *mm);
const IrNode *lw_fused_matmul(const Lw *w, const IrNode *root);
void lw_transpose_copy(Lw *w, const IrNode *mm);
/* The node's number as --emit=grad-ir prints it (%3), for comments. */
int lw_number(const Lw *w, const IrNode *n);

/* lower_pointwise.c: regularize and update. */
bool lw_pointwise(Lw *w);
/* lower.c */
Lw lw_new(Arena *a, const IrFunc *f, const CgPlan *plan, const CgLayout *layout, const CgLowerOptions *opt,
          LoopKernel *lk);

#endif
