/*
** codegen.h — from the training IR to code: what both backends share
** (hashing, names, where tensors live, loop-nest planning) and the C
** backend's entry points. Sections follow the files.
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

/* ---- sha256.c ---- */
void cg_sha256(const void *data, size_t len, uint8_t digest[32]);
void cg_sha256_hex(const void *data, size_t len, char hex[65]);

/* ---- names.c: text from the .nn file in generated code (SPEC 2) ---- */
/* A valid C identifier that is no keyword and no name the runtime uses;
** fallback when name has no usable character. */
const char *cg_ident(Arena *a, const char *name, const char *fallback);
const char *cg_upper(Arena *a, const char *ident);
/* A C string literal, quotes included. */
const char *cg_string(Arena *a, const char *text);
/* Text safe inside a C comment on one line. */
const char *cg_comment(Arena *a, const char *text);

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
#define CG_TILE_MIN 1024    /* weights from which a matmul goes tile by tile */

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
/* --emit=loops: the five kernels' loop IR as text (loop_dump.c). */
bool cg_dump_loops(FILE *out, const IrModule *m, int unroll);

/* ---- safetensors.c: reading trained weights (--emit=infer) ---- */
typedef struct CgWeights {
    double **values; /* per parameter of the module, row-major */
    const char *dtype; /* "F32" or "F64" */
} CgWeights;
/* Reads path and checks it against m's parameters; false with a message
** on stderr naming the file and the first mismatch. */
bool cg_weights_read(Arena *a, const char *path, const IrModule *m, CgWeights *w);

/* ---- c/: the C backend ---- */

typedef struct CgOptions {
    const char *source;        /* the .nn file's path, for comments */
    const char *source_sha256; /* hex */
    const char *command;       /* how nnc was invoked, for the header comment */
    const char *header;        /* lib/infer: the -H file (its name is #included) */
    bool f64;
    int unroll;                /* --unroll=N, or -1 */
    const CgWeights *weights;  /* infer */
} CgOptions;

/* The runtime's source (scripts/embed.sh, generated by the build). */
extern const char cg_runtime_text[];

/* Each returns one complete file's text (in m's arena), or NULL after a
** message on a model it cannot compile. ir_build_training must have run. */
const char *cg_c_trainer(const IrModule *m, const CgOptions *o);
const char *cg_c_lib(const IrModule *m, const CgOptions *o);
const char *cg_c_lib_header(const IrModule *m, const CgOptions *o);
const char *cg_c_infer(const IrModule *m, const CgOptions *o);
const char *cg_c_infer_header(const IrModule *m, const CgOptions *o);

/* ---- descriptor_data.c: the NncModel's data, shared by both backends ---- */
struct NncModel;
/* Fills d (runtime/nnc_abi.h's NncModel) with everything but the kernels:
** the parameter, layer, metric and callback tables and the strings, in a.
** The scratch sizes are cg_scratch's. */
void cg_descriptor_data(Arena *a, const IrModule *m, const CgLayout *l, const CgOptions *o,
                        long scratch_fixed, long scratch_per_row, struct NncModel *d);
/* The scratch a caller provides: the largest over the plans of the row
** kernels (predict, forward_backward, eval_loss). */
void cg_scratch(Arena *a, const IrModule *m, const CgLayout *l, int unroll, long *fixed, long *per_row);

/* ---- llvm/: the LLVM backend (SPEC 5) ---- */

/* Whether this nnc was built with LLVM 14 (Makefile: llvm-config-14 found);
** without it, src/codegen/llvm_absent.c stands in for the backend. */
bool cg_llvm_available(void);
/* The message that what (an option, or "nnc run") needs an nnc built with LLVM. */
void cg_llvm_unavailable(const char *what);

typedef enum CgLlvmKind {
    CG_LLVM_IR,  /* --emit=llvm: text */
    CG_LLVM_BC,  /* --emit=bc */
    CG_LLVM_OBJ, /* --emit=obj: kernels, <model>_model and <model>_main */
    CG_LLVM_EXE, /* the object of --emit=exe: the same and main */
} CgLlvmKind;

/* Bytes made by malloc; the caller frees data. */
typedef struct CgBytes {
    char *data;
    size_t len;
} CgBytes;

/* Builds the kernels (the C backend's, from the same plans), verifies the
** module, runs LLVM's O2 pipeline for the host CPU and emits it. False
** after a message. ir_build_training must have run. */
bool cg_llvm_emit(const IrModule *m, const CgOptions *o, CgLlvmKind kind, CgBytes *out);
/* The -H header of --emit=obj (in m's arena). */
const char *cg_llvm_header(const IrModule *m, const CgOptions *o);
/* --emit=exe: links object with the runtime library found beside nnc (its
** build directory) or in PREFIX/lib (installed), through the system's cc
** ($NNC_CC overrides). False after a message. */
bool cg_llvm_link(const char *object, const char *exe, bool f64);
/* The runtime library beside the running nnc, or NULL after a message. */
const char *cg_llvm_runtime_lib(Arena *a, bool f64);

/* In-memory compilation (nnc run): the kernels compiled by LLJIT and the
** descriptor pointing at them, good until cg_llvm_jit_free. */
typedef struct CgJit CgJit;
CgJit *cg_llvm_jit(const IrModule *m, const CgOptions *o);
const struct NncModel *cg_llvm_jit_model(const CgJit *j);
void cg_llvm_jit_free(CgJit *j);
/* nnc run: the trainer's command line (SPEC 3) over the JIT's kernels,
** driven by a runtime linked into nnc: `trainer` is its nnc_main, f32 or
** f64 as o->f64 says. Returns the exit status. */
typedef int (*CgTrainer)(const struct NncModel *model, int argc, char **argv);
int cg_llvm_run(const IrModule *m, const CgOptions *o, CgTrainer trainer, int argc, char **argv);

#endif
