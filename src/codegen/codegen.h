/*
** codegen.h — from the training IR to the model the backends print
** (model.h): where tensors live, loop-nest planning, the lowering to the
** loop IR, the descriptor, inference folding. The backends (c/, llvm/)
** do not include this header, only model.h. Sections follow the files.
**
** The generated kernels implement the kernel ABI of runtime/nnc_abi.h:
**   predict           ← m->predict   (rows of input → OUT_PRED)
**   forward_backward  ← m->train     (OUT_LOSS summed, OUT_PRED, OUT_GRAD × scale)
**   regularize        ← m->regularize (uniform OUT_LOSS, OUT_GRAD)
**   update            ← m->update    (OUT_PARAM, OUT_STATE)
**   eval_loss         ← m->eval      (OUT_LOSS summed, OUT_PRED)
*/
#ifndef NNC_CODEGEN_H
#define NNC_CODEGEN_H

#include <stdint.h>
#include <stdio.h>

#include "../ir/ir.h"
#include "model.h"

/* ---- layout.c: where every tensor lives in the runtime's buffers ---- */
typedef struct CgLayout {
    long *param_off;  /* per parameter: offset into params and grads, in reals */
    long *opt_off;    /* per parameter and slot (4 per parameter): into opt, -1 if none */
    long param_floats, opt_floats;
    int opt_slots;
    int target_kind;  /* NNC_TARGET_* (runtime/nnc_abi.h) */
    long target_width;
    const char *signature; /* hex hash of every parameter's name and shape */
} CgLayout;
CgLayout cg_layout(Arena *a, const IrModule *m);
/* SPEC 1.4: fan_in and fan_out of a parameter shape. */
void cg_fans(Shape s, long *fan_in, long *fan_out);
/* `accuracy` resolved from the loss as Keras does. */
MetricKind cg_metric(const IrModule *m, MetricKind k);

/* ---- plan.c: loop-nest planning, shared by the C and LLVM backends ---- */

/* Where a node's value is when its users read it. */
typedef enum CgPlace {
    CG_INLINE, /* recomputed inside its only user's loop: an expression */
    CG_BUFFER, /* computed once into storage of its own */
    CG_VIEW,   /* another node's storage through an offset and strides: free */
} CgPlace;

typedef enum CgStore {
    CG_ST_NONE,
    CG_ST_PARAMS, CG_ST_GRADS, CG_ST_STATE, /* the runtime's buffers */
    CG_ST_INPUT, CG_ST_TARGET,              /* the kernel's x and t, per row */
    CG_ST_ROWS,                             /* scratch, per row: activations */
    CG_ST_FIXED,                            /* scratch, once per call */
    CG_ST_CONST,                            /* a static const array (CONST data) */
    CG_ST_TRANSPOSED,                       /* scratch, once: a matmul's left matrix transposed */
} CgStore;

/* Element (r, c) of a tensor is at base[row_stride·r + offset + Σ stride·c],
** base being the storage of node `base` (its own id for a BUFFER). */
typedef struct CgAccess {
    CgStore store;
    int base;
    long offset;
    long stride[IR_MAX_RANK];
    long row_stride; /* 0 for uniform storage */
} CgAccess;

typedef struct CgNodePlan {
    bool live;     /* reachable from an output */
    CgPlace place;
    CgAccess at;   /* BUFFER and VIEW */
    long pos;      /* BUFFER: where its storage starts in its store (reals) */
    int uses;      /* operand slots and outputs reading it */
    int user;      /* the only user's id; -1 when several, none, or an output */
    int phase;     /* uniform nodes of phase p run before row loop p */
    int fused;     /* MATMUL writing into its epilogue's buffer: that node's id, else -1 */
    int grad_out;  /* BATCH_SUM whose only use is OUT_GRAD: that output's index, else -1 */
    long tpos;     /* MATMUL W[i][k]·x[k] per row: where Wᵀ is copied (uniform scratch), else -1 */
    int tile;      /* MATMUL of a row by large weights: nonzero when tiled (lower_nodes.c) */
    long ppos;     /* tiled MATMUL whose weights are packed a block of columns at a time:
                   ** where the block goes (uniform scratch, shared by all), else -1 */
    int lse;       /* SOFTMAX: the LOGSUMEXP of its operand it also computes, else -1 */
    int softmax;   /* LOGSUMEXP: the SOFTMAX that computes it, else -1 */
    bool unroll;   /* its loop nest is small enough to write out */
    int depth;     /* INLINE: the links of the expression it heads */
} CgNodePlan;

typedef enum CgFuncKind { CG_PREDICT, CG_TRAIN, CG_EVAL, CG_REGULARIZE, CG_UPDATE } CgFuncKind;

typedef struct CgPlan {
    const IrFunc *f;
    CgFuncKind kind;
    CgNodePlan *node; /* by node id */
    int phases;
    long per_row, fixed; /* scratch reals: per row, and once */
    int unroll;          /* nests of at most this many iterations are written out */
    int *number;         /* by node id: its number in --emit=grad-ir (%3) */
    int *fused_from;     /* by node id: the matmul whose epilogue computes it, else -1 */
    Arena *arena;
} CgPlan;

/* unroll < 0: the default limit. frozen (may be NULL): per node id, a value
** known before the call (infer's folded constants): stored as a constant,
** its operands not computed. */
CgPlan *cg_plan(Arena *a, const IrFunc *f, CgFuncKind kind, const CgLayout *layout, int unroll,
                const bool *frozen);
/* The function's outputs; a function with only a result (m->forward) has
** it as its one OUT_PRED. */
int cg_outputs(const IrFunc *f, IrOutput *out, int max);
bool cg_contiguous(const CgAccess *at, Shape s);
/* A literal or a scalar argument, through any views: never stored. */
bool cg_is_free(const IrNode *n);
/* A reshape that only adds or removes axes of size 1: a view whatever the
** strides. cg_squeeze_axis: the axis of `to` that axis `axis` (of size > 1)
** of `from` becomes; -1 for a size-1 axis. */
bool cg_squeeze(Shape from, Shape to);
int cg_squeeze_axis(Shape from, Shape to, int axis);
/* NumPy broadcasting: the operand's axis for axis `axis` of a result of
** rank `rank`, or -1 when the operand is stretched there or lacks it. */
int cg_bcast_axis(Shape operand, Shape result, int axis);
#define CG_UNROLL_DEFAULT 16
#define CG_INLINE_DEPTH 48  /* inlined links in one expression, at most */
#define CG_TRANSPOSE_MIN 8 /* outputs from which a transposed copy pays */
#define CG_ROW_TILE 4       /* CgNodePlan.tile of a tiled matmul, and the fewest rows of dW worth
                              ** tiling; the tile's shape is the lowering's (lower.h, LwTile) */
#define CG_TILE_MIN 64      /* weights from which a matmul goes tile by tile (plan.c tiles) */
#define CG_PACK_MIN (1L << 20) /* weights from which a tiled matmul packs them (plan.c packs) */
#define CG_PACK_COLS 32     /* the widest block of columns a tile packs (lower.h, LwTile) */

/* ---- lower*.c: a planned function to the loop IR (loops.h) ---- */
struct LoopKernel;
typedef struct CgLowerOptions {
    int unroll;              /* --unroll=N, or -1 */
    /* Inference code: parameters are baked arrays w<index>, and the nodes
    ** baked (per node id of predict) are constant arrays of baked_values. */
    bool infer;
    const bool *baked;
    double **baked_values;
    bool f64;                /* baked values are stored at this precision */
    bool *params_used;       /* infer, out: per parameter, read by the kernel */
} CgLowerOptions;
/* One kernel of the ABI, named `name`; NULL after a message on what it
** cannot compile. */
struct LoopKernel *cg_lower(Arena *a, const IrFunc *f, CgFuncKind kind, const CgLayout *layout,
                            const char *name, const CgLowerOptions *o);
/* The five kernels, by CgFuncKind, named <prefix>_predict_kernel, ...;
** k[CG_REGULARIZE] is NULL without regularizers. False after a message. */
bool cg_lower_model(Arena *a, const IrModule *m, const CgLayout *layout, const char *prefix,
                    const CgLowerOptions *o, struct LoopKernel *k[5]);

/* ---- safetensors.c: reading trained weights (--emit=infer) ---- */
/* Reads path and checks it against m's parameters; false with a message
** on stderr naming the file and the first mismatch. */
bool cg_weights_read(Arena *a, const char *path, const IrModule *m, CgWeights *w);

/* ---- descriptor_data.c: the NncModel's data, one producer for both backends ---- */
/* Fills d (runtime/nnc_abi.h's NncModel) with everything but the kernels:
** the parameter, layer, metric and callback tables and the strings, in a.
** The scratch sizes and FLOP counts are the caller's (the kernels'). */
void cg_descriptor_data(Arena *a, const IrModule *m, const CgLayout *l, const CgOptions *o, NncModel *d);

/* ---- model.c, infer_fold.c: the model the printers read (model.h) ---- */
/* The training kernels lowered and the descriptor; NULL after a message.
** ir_build_training must have run. */
CgModel *cg_model(Arena *a, const IrModule *m, const CgOptions *o);
/* Inference code (--emit=infer, o->weights set): predict alone, with the
** weights and what depends on them alone folded into baked constants. */
CgModel *cg_model_infer(Arena *a, const IrModule *m, const CgOptions *o);
/* infer_fold.c: per node id of predict, whether it is baked, and the baked
** values (computed as the generated code computes them); false after a
** message. */
bool cg_fold_weights(Arena *a, const IrModule *m, const CgLayout *layout, const CgOptions *o, bool **baked,
                     double ***values);

#endif
