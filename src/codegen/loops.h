/*
** loops.h — the loop IR: a kernel as the target will run it, decided once.
**
**   IrFunc ──plan.c──▶ CgPlan ──lower*.c──▶ LoopKernel ──c/print.c──▶ C text
**                                                    └──llvm/print.c─▶ LLVM IR
**
** A LoopKernel is a tree of statements (loops with constant or row-count
** bounds, blocks, local declarations and assignments, stores to affine
** indices, tiles transposed in vector registers, the loss) over
** expressions (constants, loads, locals, scalar ops, the dropout mask).
** Everything a kernel does — the row loop, phases, tiles, transposed
** copies, epilogues, reductions, register-blocked accumulators, output
** writes — is decided by the lowering; a printer only
** spells each statement in its target's terms, so the C and the LLVM
** kernels do the same arithmetic in the same order.
**
** This header is all a printer sees: it includes neither ir.h nor the plan.
*/
#ifndef NNC_LOOPS_H
#define NNC_LOOPS_H

#include <stdio.h>

#include "../nnc.h"

/* ---- indices: c + Σ k[v]·v over the loop variables ---- */

#define LV_AXES 8 /* as IR_MAX_RANK */
/* Loop variables by role: the row, a node's own axes (i0..), an operand's
** (j0..), a matmul's inner dimension (k), a block of columns (jb), an
** element of a parameter (e). */
enum { LV_R, LV_I0, LV_J0 = LV_I0 + LV_AXES, LV_K = LV_J0 + LV_AXES, LV_JB, LV_E, LV_COUNT };
const char *lv_name(int v); /* "r", "i0", "j3", "k", "jb", "e" */

typedef struct LIdx {
    long c;
    long k[LV_COUNT];
} LIdx;
LIdx lidx_const(long c);
LIdx lidx_var(int v);
LIdx lidx_add(LIdx a, LIdx b);
LIdx lidx_scale(LIdx a, long m);
bool lidx_is_const(LIdx a);
/* "r * 40 + i0 + 3": the constant last, 0 when nothing else. */
const char *lidx_text(Arena *a, LIdx x);

/* ---- buffers ---- */

typedef enum LBufBase {
    LB_PARAMS, LB_GRADS, LB_OPT, LB_SCRATCH, /* pointers at an offset into the caller's buffers */
    LB_X, LB_T, LB_Y,                        /* the kernel's row arguments */
    LB_CONST,                                /* a constant array of the kernel */
    LB_BAKED,                                /* inference code: a baked weight array w<key> */
} LBufBase;

typedef struct LBuf {
    LBufBase base;
    long offset;        /* PARAMS, GRADS, OPT, SCRATCH: in reals */
    const char *name;   /* "p0", "a7", "g2", "s1_0", "c5", "x", "w3" */
    const char *note;   /* what it holds, its shape */
    bool written;
    const double *data; /* CONST: count values */
    long count;
    bool round;         /* CONST: values computed in double, stored as nnc_real */
    int key;            /* BAKED: the parameter */
} LBuf;

/* ---- expressions ---- */

/* Scalar formulas: the element-wise ops of the IR, each spelled by the
** printer (libm at nnc_real's precision, the stable forms of helpers). */
/* LOP_EXP's x below which e^x rounds to 0, in float and in double: both
** printers return 0 there without calling libm, whose underflow path
** (errno) gives the same 0 at many times the cost. */
#define LOOPS_EXP_ZERO_BELOW_F32 -104.0
#define LOOPS_EXP_ZERO_BELOW_F64 -746.0
typedef enum LOp {
    LOP_NEG, LOP_EXP, LOP_LOG, LOP_SQRT, LOP_ABS, LOP_TANH, LOP_ERF, LOP_SQUARE, LOP_STEP, LOP_RELU,
    LOP_SELU, LOP_SIGMOID, LOP_SOFTPLUS, LOP_SOFTSIGN, LOP_SWISH, LOP_GELU, LOP_SIGN,
    LOP_LEAKY_RELU, LOP_ELU, /* value: alpha */
    LOP_ADD, LOP_SUB, LOP_MUL, LOP_DIV, LOP_POW, LOP_GT, LOP_GE, LOP_EQ, LOP_DIVNZ, LOP_MINIMUM,
    LOP_MAXIMUM,
    LOP_SELECT, /* a != 0 ? b : c */
    LOP_COUNT
} LOp;
extern const char *const lop_names[LOP_COUNT];
int lop_arity(LOp op);

typedef enum LArg {
    LA_LR,     /* update: (nnc_real)learning_rate */
    LA_STEP,   /* update: (nnc_real)step */
    LA_SCALE,  /* forward_backward: (nnc_real)scale */
} LArg;

typedef enum LxKind {
    LX_CONST,   /* value */
    LX_LOAD,    /* bufs[buf][idx] */
    LX_LOCAL,   /* locals[local], or its element idx */
    LX_ARG,     /* arg */
    LX_OP,      /* op(in...), value its parameter */
    LX_ONE_HOT, /* (long)in[0] == idx ? 1 : 0 */
    LX_MASK,    /* dropout: nnc_uniform(seed, first_row + r + row, stream << 32 | idx) >= value
                ** ? 1 / (1 - value) : 0 */
} LxKind;

typedef struct LExpr {
    LxKind kind;
    LOp op;
    double value;
    int buf, local;
    LIdx idx;
    LArg arg;
    long row, stream;   /* MASK */
    struct LExpr *in[3];
} LExpr;

/* ---- statements ---- */

/* The update kernel's element range [lo, hi) (kernel ABI): a bound can be
** where it starts or ends inside one parameter's elements. */
typedef enum LRange {
    LR_NONE,
    LR_LO, /* the range's start */
    LR_HI, /* the range's end */
} LRange;

/* A loop bound: c, or with rows set (n / rows) * rows + c, n being the
** kernel's row count, or with range set the range's lo or hi less offset,
** clamped to [0, c]: over a parameter at offset (in the params buffer), a
** loop from the LR_LO bound to the LR_HI bound visits its elements in the
** range. lo, hi and offset being multiples of NNC_RANGE_ALIGN, such a bound
** is a multiple of every power of two that divides both c and it. */
typedef struct LBound {
    long c;
    long rows;
    LRange range;
    long offset;
} LBound;

typedef enum LHint {
    LH_NONE,
    LH_VECTOR, /* the body is independent across iterations: vectorize it */
    LH_LANES,  /* a chunk of accumulator lanes: unroll fully, keep in registers */
} LHint;

typedef enum LCond {
    LC_HAS_Y,      /* the caller asked for predictions (y != NULL) */
    LC_FIRST_STEP, /* update: step == 1 */
    LC_WIDE,       /* the target has 512-bit vectors (32 of them): chosen when the
                   ** target is known — the C compiler's macros, LLVM's target */
    LC_IN_RANGE,   /* update: lo <= at < hi, at the statement's idx (a constant): the
                   ** NNC_RANGE_ALIGN elements from at are in the range */
    LC_ROWS,       /* n >= the statement's idx (a constant): the tiles of that many rows
                   ** after it run at least once */
    LC_SHUFFLE,    /* the target picks a vector's lanes from two vectors (LS_TRANSPOSE):
                   ** LLVM always, C where the compiler has the builtin */
} LCond;

typedef enum LsKind {
    LS_LOOP,    /* for (var = from; var < to; var += step) body */
    LS_BLOCK,   /* { body }: a scope for locals */
    LS_IF,      /* if (cond) body, else orelse */
    LS_DECL,    /* a local, set to value (arrays: every element to 0) */
    LS_SET,     /* local (element idx of an array) = value */
    LS_STORE,   /* bufs[buf][idx] = value, or += with add */
    LS_LOSS,    /* loss += (double)value, times the row count with times_rows */
    LS_COMMENT, /* text */
    LS_TRANSPOSE, /* a tile of step x step: bufs[buf][idx + b·stride + a] = the element
                  ** a·src_stride + b after value (a load), for a, b < step; a vector per
                  ** row of the tile, transposed in registers (under LC_SHUFFLE) */
} LsKind;

typedef struct LStmt {
    LsKind kind;
    struct LStmt *next, *body, *orelse;
    int var, step;
    LBound from, to;
    LHint hint;
    LCond cond;
    int buf, local;
    LIdx idx;
    long stride, src_stride; /* LS_TRANSPOSE */
    bool add, times_rows;
    LExpr *value;
    const char *text;
} LStmt;

typedef struct LLocal {
    const char *name; /* "acc", "av0", "m", "v12": unique in its scope */
    int size;         /* 0: a scalar */
    bool is_const;    /* assigned once, at its declaration */
} LLocal;

/* ---- kernels ---- */

typedef enum LKernelKind { LK_PREDICT, LK_TRAIN, LK_EVAL, LK_REGULARIZE, LK_UPDATE } LKernelKind;
extern const char *const lk_kind_names[5]; /* "predict", "forward_backward", ... */

typedef struct LoopKernel {
    const char *name;  /* the ABI function's; the body function is name_body */
    const char *doc;   /* one line on what it computes */
    LKernelKind kind;
    struct { LBuf *items; int len, cap; } bufs;
    struct { LLocal *items; int len, cap; } locals;
    LStmt *body;
    long scratch_fixed, scratch_per_row; /* row kernels: what the caller provides */
    bool uses_seed, uses_scale, uses_lr, uses_step, has_loss;
    int opt_slots;     /* update: the optimizer's state tensors per parameter */
    bool whole_range;  /* update: reads a sum over a parameter's elements, so only
                       ** the whole range [0, param_floats) gives the step */
} LoopKernel;

/* A chunk of lanes (an LH_LANES loop over j0 from 0, step 1, constant
** bounds) whose every statement is a lane-wise + - * /, negation, square,
** square root (correctly rounded, as the scalar one), exp or sigmoid of
** operands contiguous in the lane or the same for every lane: a printer
** may spell it as one vector operation per statement, per lane the same
** bits as the loop (loop_build.c): the same IEEE operations in the same
** order, and for exp and sigmoid the scalar function's bits (C's
** nnc_vexp<lanes>, where the target has it; LLVM, a call per lane). */
bool loops_vector_chunk(const LoopKernel *k, const LStmt *s);

/* LS_TRANSPOSE in registers, the same on every target: with d = 1, 2, 4, ...
** < step in turn, each pair of row vectors (i, i + d), i & d == 0, becomes
** the two shuffles of the pair whose lane j is lane loops_transpose_lane(step,
** d, high, j) of the pair (below step: of row i; from step on: of row i + d,
** less step); high for row i + d. Each stage swaps one bit of the row
** index with the same bit of the column index. */
int loops_transpose_lane(int step, int d, bool high, int j);

/* The floating-point operations of one call over n rows: fixed + per_row · n
** (loop_count.c). */
void loops_flops(const LoopKernel *k, double *fixed, double *per_row);

/* --emit=loops: every kernel of a model as indented text (loop_dump.c). */
void loops_dump(FILE *out, const LoopKernel *k);

/* ---- loop_build.c: building a kernel, statement by statement ----
** The builder appends to the innermost open LS_LOOP, LS_BLOCK or LS_IF:
**   lb_loop(b, LV_R, from, to, 1, LH_NONE); ...; lb_close(b);           */
typedef struct LBuilder {
    Arena *arena;
    LoopKernel *k;
    LStmt *open[64];  /* open statements; open[0] the kernel's root block */
    LStmt **tail[64]; /* where each one's next statement goes */
    int depth;
} LBuilder;

void lb_init(LBuilder *b, Arena *a, LoopKernel *k);
int lb_buf(LBuilder *b, LBuf buf);
int lb_local(LBuilder *b, const char *name, int size, bool is_const);
void lb_loop(LBuilder *b, int var, LBound from, LBound to, int step, LHint hint);
void lb_block(LBuilder *b);
void lb_if(LBuilder *b, LCond cond);
void lb_if_in_range(LBuilder *b, long at); /* LC_IN_RANGE */
void lb_if_rows(LBuilder *b, long rows);   /* LC_ROWS */
void lb_else(LBuilder *b); /* the open if's other branch */
void lb_close(LBuilder *b);
void lb_decl(LBuilder *b, int local, LExpr *value);
void lb_set(LBuilder *b, int local, LIdx idx, LExpr *value);
LStmt *lb_store(LBuilder *b, int buf, LIdx idx, LExpr *value, bool add);
void lb_loss(LBuilder *b, LExpr *value, bool times_rows);
void lb_transpose(LBuilder *b, int buf, LIdx idx, long stride, LExpr *src, long src_stride, int size);
void lb_comment(LBuilder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
LBound lbound(long c);
LBound lbound_rows(long rows, long c);
LBound lbound_range(LRange end, long offset, long c);

LExpr *lx_const(Arena *a, double v);
LExpr *lx_load(Arena *a, int buf, LIdx idx);
LExpr *lx_local(Arena *a, int local, LIdx idx);
LExpr *lx_arg(Arena *a, LArg arg);
LExpr *lx_op(Arena *a, LOp op, double value, LExpr *x, LExpr *y, LExpr *z);

#endif
