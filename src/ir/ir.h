/*
** ir.h — nnc's tensor IR: shapes, the op table, modules of parameters and
** functions in SSA form, and the model's training configuration.
**
** Every tensor is one sample's tensor (SPEC 1.4); the batch loop belongs to
** the code generators. Sections follow the files of src/ir/.
*/
#ifndef NNC_IR_H
#define NNC_IR_H

#include <stdint.h>
#include <stdio.h>

#include "../nnc.h"

/* ---- shape.c: static shapes and the shape rules of every op family ---- */

#define IR_MAX_RANK 8
#define IR_AXIS_ALL INT32_MIN /* a reduction over every axis */

typedef struct Shape {
    int rank;
    int dim[IR_MAX_RANK];
} Shape;

Shape shape_scalar(void);
Shape shape_vector(int n);
Shape shape_matrix(int rows, int cols);
Shape shape_of(int rank, const int *dims);
bool shape_eq(Shape a, Shape b);
/* Rank in 0..IR_MAX_RANK and every dimension >= 1. */
bool shape_valid(Shape s);
/* The element count, saturated at INT64_MAX (never wraps). */
int64_t shape_numel(Shape s);
/* No tensor has more elements than this: the front end rejects the model
** (sema_size_ok), so every element index, and every product of dims within
** one tensor, fits an int. */
#define IR_MAX_NUMEL INT32_MAX
/* "[30, 15]"; the scalar shape is "[]". Returns buf. */
char *shape_format(Shape s, char *buf, size_t size);

/* Each rule returns false when the operands do not fit; *out is then unset. */
bool shape_broadcast(Shape a, Shape b, Shape *out);
bool shape_matmul(Shape a, Shape b, Shape *out);
/* axis may be negative (counts from the end) or IR_AXIS_ALL. */
bool shape_reduce(Shape x, int axis, Shape *out);
/* The axis in 0..rank-1, or -1 when out of range. */
int shape_axis(Shape x, int axis);
bool shape_reshape(Shape x, Shape to);
Shape shape_transpose(Shape x);

/* Basic indexing with constant indices: per axis a half-open [start, stop)
** range, or a single index (bit set in `drop`) that removes the axis. Indices
** here are already normalized (non-negative, in range). */
typedef struct IrSlice {
    int rank; /* axes indexed; later axes are kept whole */
    int start[IR_MAX_RANK];
    int stop[IR_MAX_RANK];
    unsigned drop;
} IrSlice;
Shape shape_slice(Shape x, const IrSlice *slice);
/* The slice fits x: rank <= x.rank, no drop bit past it, a dropped axis's
** index (in start) in range, a range non-empty and in range. */
bool shape_slice_valid(Shape x, const IrSlice *slice);

/* ---- ops.def ---- */

enum {
    OPF_LEAF = 1 << 0,
    OPF_EW = 1 << 1,
    OPF_REDUCE = 1 << 2,
    OPF_NOCSE = 1 << 3,
    OPF_ATTR = 1 << 4,
};

typedef enum Op {
#define OP(name, text, arity, flags) OP_##name,
#include "ops.def"
#undef OP
    OP_COUNT
} Op;

typedef struct OpInfo {
    const char *name;
    int arity;
    unsigned flags;
} OpInfo;

extern const OpInfo ir_ops[OP_COUNT];
#define IR_MAX_IN 3

/* ---- training configuration (filled by the front end from compile/fit) ---- */

typedef enum InitKind {
    INIT_ZEROS, INIT_ONES, INIT_CONSTANT,
    INIT_RANDOM_NORMAL, INIT_RANDOM_UNIFORM, INIT_TRUNCATED_NORMAL,
    INIT_GLOROT_UNIFORM, INIT_GLOROT_NORMAL,
    INIT_HE_UNIFORM, INIT_HE_NORMAL,
    INIT_LECUN_UNIFORM, INIT_LECUN_NORMAL,
} InitKind;

/* constant: a = value; *_normal: a = mean, b = stddev; uniform: a = minval,
** b = maxval. The fan-based kinds take their scale from the shape (SPEC 1.4). */
typedef struct InitSpec {
    InitKind kind;
    double a, b;
} InitSpec;

typedef enum LossKind {
    LOSS_MSE, LOSS_MAE, LOSS_MSLE, LOSS_BINARY_CE, LOSS_HINGE, LOSS_SQUARED_HINGE,
    LOSS_CATEGORICAL_CE, LOSS_SPARSE_CATEGORICAL_CE, LOSS_KLD, LOSS_CUSTOM,
} LossKind;

typedef enum OptKind {
    OPT_SGD, OPT_RMSPROP, OPT_ADAGRAD, OPT_ADADELTA, OPT_ADAM, OPT_ADAMAX, OPT_ADAMW,
} OptKind;

typedef struct OptSpec {
    OptKind kind;
    double learning_rate, momentum, rho, epsilon, beta_1, beta_2;
    double initial_accumulator_value, weight_decay;
    bool nesterov, amsgrad;
} OptSpec;

typedef enum MetricKind {
    MET_ACCURACY, MET_BINARY_ACCURACY, MET_CATEGORICAL_ACCURACY,
    MET_SPARSE_CATEGORICAL_ACCURACY, MET_MAE, MET_MSE, MET_PRECISION, MET_RECALL,
} MetricKind;

typedef enum CallbackKind { CB_EARLY_STOPPING, CB_MODEL_CHECKPOINT, CB_REDUCE_LR_ON_PLATEAU } CallbackKind;
typedef enum MonitorMode { MODE_AUTO, MODE_MIN, MODE_MAX } MonitorMode;

typedef struct IrCallback {
    CallbackKind kind;
    const char *monitor; /* "val_loss", "accuracy", ... */
    MonitorMode mode;
    double min_delta, factor, min_lr;
    int patience;
    bool restore_best_weights, save_best_only;
    const char *path;
    Loc loc;
} IrCallback;

typedef struct FitSpec {
    int epochs;
    int batch_size; /* 0 = all rows: full-batch gradient descent */
    double validation_split;
    bool shuffle;
    uint64_t seed;
    int verbose;
    struct { IrCallback *items; int len, cap; } callbacks;
} FitSpec;

/* ---- ir.c: nodes, functions, modules, the hash-consing builder ---- */

/* HYPER leaves: scalars the runtime passes to a step. */
typedef enum IrHyper { HYPER_LEARNING_RATE, HYPER_STEP } IrHyper;

typedef struct IrNode {
    Op op;
    int id; /* index in its function; printed %id */
    Shape shape;
    /* Differs between the samples of a batch (depends on the input, the
    ** target or a dropout mask); derived by the builder, BATCH_SUM clears it.
    ** Uniform nodes are computed once per batch. */
    bool varying;
    int nin;
    struct IrNode *in[IR_MAX_IN];
    /* attributes (which ones an op reads is said in ops.def) */
    double value;        /* CONST fill; LEAKY_RELU/ELU alpha; DROPOUT(_MASK) rate */
    const double *data;  /* CONST: row-major contents, or NULL for a fill */
    int axis;            /* reductions, SOFTMAX; STATE slot; HYPER kind;
                            ONE_HOT classes; DROPOUT_MASK number */
    int param;           /* PARAM, GRAD, STATE: index into IrModule.params */
    IrSlice slice;       /* SLICE, PAD */
    Loc loc;             /* the user's source that produced it */
} IrNode;

typedef struct IrModule IrModule;

/* What a training function hands back (SPEC's train_step, split as the
** kernel ABI splits it: forward_backward, regularize, update, eval). */
typedef enum IrOutputKind {
    OUT_LOSS,  /* per sample in train/eval (the runtime sums); uniform in regularize */
    OUT_PRED,  /* the model's output per sample */
    OUT_GRAD,  /* gradient contribution to `param` (uniform: a BATCH_SUM) */
    OUT_PARAM, /* the new value of `param` (update) */
    OUT_STATE, /* the new value of state `slot` of `param` (update) */
} IrOutputKind;

typedef struct IrOutput {
    IrOutputKind kind;
    int param, slot;
    IrNode *value;
} IrOutput;

typedef struct IrFunc {
    const char *name;
    IrModule *module;
    struct { IrNode **items; int len, cap; } nodes; /* topological order */
    IrNode *result;  /* single-result functions: forward, a custom loss, eval */
    struct { IrOutput *items; int len, cap; } outputs; /* training functions */
    IrNode **table; /* hash-consing: open addressing over nodes */
    int table_cap;
} IrFunc;

typedef enum ParamRole {
    ROLE_WEIGHT,        /* trainable */
    ROLE_NORM_MIN, ROLE_NORM_MAX, ROLE_NORM_MEAN, ROLE_NORM_VARIANCE,
} ParamRole;

typedef struct IrParam {
    const char *name; /* the tensor name in weight files: "dense_1.kernel" */
    Shape shape;
    InitSpec init;
    ParamRole role;
    bool trainable;
    double l1, l2; /* regularization factors: f·Σ|w|, f·Σw² */
    Loc loc;
} IrParam;

/* A row of the model summary (SPEC 3): a layer or a named tensor. */
typedef struct IrLayer {
    const char *name;
    const char *kind; /* "dense", "dropout", ... */
    Shape out;
    int64_t nparams;
    Loc loc;
} IrLayer;

struct IrModule {
    Arena *arena;
    const char *file; /* the .nn file, for location comments */
    const char *name;
    const char *input_name;
    Shape input_shape;
    Shape output_shape;
    struct { IrParam *items; int len, cap; } params;
    struct { IrLayer *items; int len, cap; } layers;
    IrFunc *forward; /* input -> output, dropout included (train mode) */

    /* Built by train.c from forward, the loss and the optimizer; what the
    ** code generators receive. NULL until built. */
    IrFunc *predict;          /* input -> OUT_PRED, dropout off */
    IrFunc *train;            /* input, target -> OUT_LOSS, OUT_PRED, OUT_GRAD per trainable param */
    IrFunc *regularize;       /* params -> OUT_LOSS (uniform), OUT_GRAD; no outputs if no regularizer */
    IrFunc *update;           /* params, GRAD, STATE, HYPER -> OUT_PARAM, OUT_STATE */
    IrFunc *eval;             /* input, target -> OUT_LOSS, OUT_PRED, dropout off */
    struct { struct IrOptStat *items; int len, cap; } opt_stats; /* per built function, with count_ops */
    bool count_ops;           /* ir_build_training also counts the ops the passes saved (-v) */
    int opt_slots;            /* optimizer state tensors per trainable param */
    double opt_state_init[4]; /* initial value of each slot */

    /* compile { } */
    LossKind loss;
    Loc loss_loc;
    IrFunc *custom_loss; /* LOSS_CUSTOM: (y_true, y_pred) -> scalar */
    OptSpec optimizer;
    struct { MetricKind *items; int len, cap; } metrics;
    /* fit { } */
    FitSpec fit;
};

/* Ops in a training function without and with the passes (nnc -v). */
typedef struct IrOptStat {
    const char *func;
    int before, after;
} IrOptStat;

IrModule *ir_module_new(Arena *arena, const char *file, const char *name);
IrFunc *ir_func_new(IrModule *m, const char *name);
int ir_add_param(IrModule *m, IrParam param);
int64_t ir_param_count(const IrModule *m, bool trainable_only);

/* The builder hash-conses: asking twice for the same op on the same operands
** and attributes gives the same node, unless the op is OPF_NOCSE. Shapes
** must already be valid (the front end checks them with shape.c and reports
** errors); an invalid shape here is an internal error. */
IrNode *ir_input(IrFunc *f, Shape shape, Loc loc);
IrNode *ir_leaf(IrFunc *f, Op op, Shape shape, Loc loc); /* TARGET, PRED */
IrNode *ir_param(IrFunc *f, int param, Loc loc);
IrNode *ir_const(IrFunc *f, double value, Shape shape, Loc loc);
IrNode *ir_const_data(IrFunc *f, const double *data, Shape shape, Loc loc);
IrNode *ir_unary(IrFunc *f, Op op, IrNode *x, Loc loc);
IrNode *ir_unary_attr(IrFunc *f, Op op, IrNode *x, double value, Loc loc);
IrNode *ir_binary(IrFunc *f, Op op, IrNode *a, IrNode *b, Loc loc);
IrNode *ir_reduce(IrFunc *f, Op op, IrNode *x, int axis, Loc loc);
IrNode *ir_softmax(IrFunc *f, IrNode *x, int axis, Loc loc);
IrNode *ir_matmul(IrFunc *f, IrNode *a, IrNode *b, Loc loc);
IrNode *ir_reshape(IrFunc *f, IrNode *x, Shape to, Loc loc);
IrNode *ir_transpose(IrFunc *f, IrNode *x, Loc loc);
IrNode *ir_slice(IrFunc *f, IrNode *x, const IrSlice *slice, Loc loc);
IrNode *ir_broadcast(IrFunc *f, IrNode *x, Shape to, Loc loc);
IrNode *ir_dropout(IrFunc *f, IrNode *x, double rate, Loc loc);
/* The general entry: computes the shape of proto (unless a leaf, RESHAPE or
** BROADCAST, whose shape proto carries), then finds or appends the node. */
IrNode *ir_emit(IrFunc *f, const IrNode *proto);
/* The shape the rules give n from its operands' shapes and its attributes
** (leaves, RESHAPE, BROADCAST: n's own shape, checked against the param
** table, the operand's element count, broadcastability). False when they
** do not fit. Shared by ir_emit and ir_verify. */
bool ir_rule_shape(const IrModule *m, const IrNode *n, Shape *out);

/* Copies node n (of any function) into f with the given operands; the copy
** is hash-consed like any new node. */
IrNode *ir_clone(IrFunc *f, const IrNode *n, IrNode *const *operands);
/* Copies every node of src into dst in order. map has src->nodes.len
** entries: a non-NULL entry on entry substitutes that node (e.g. a leaf
** replaced by another function's value) and is not copied; on return every
** entry holds the copy. Returns map[src->result->id] (or NULL). */
IrNode *ir_copy_func(IrFunc *dst, const IrFunc *src, IrNode **map);
void ir_add_output(IrFunc *f, IrOutputKind kind, int param, int slot, IrNode *value);

/* ---- print.c: the readable, deterministic text form (--emit=ir) ---- */
void ir_print_module(FILE *out, const IrModule *m);
void ir_print_func(FILE *out, const IrModule *m, const IrFunc *f);
/* --emit=grad-ir: the parameters, then predict, train, regularize (when it
** has outputs), update and eval as ir_build_training made them. */
void ir_print_training(FILE *out, const IrModule *m);

/* ---- dot.c: the graph for Graphviz (--emit=dot) ---- */
void ir_print_dot(FILE *out, const IrModule *m, const IrFunc *f);
/* A metric as the user writes it (SPEC 1.10), shown in dumps and logs. */
const char *ir_metric_name(MetricKind k);

/* ---- verify.c ---- */
/* Checks SSA order, arities, shapes against the rules, attributes in range.
** Returns true when sound; otherwise writes the first problem to why. */
bool ir_verify(const IrFunc *f, char *why, size_t size);


/* ---- passes.c and pass_*.c: optimization (one pass per file) ---- */
typedef struct IrPassStats {
    int nodes_before, nodes_after; /* live nodes (reachable from the outputs) */
} IrPassStats;
/* -O0: none; -O1: fold, cse, dce; -O2: also algebra (identities and the
** numerically stable forms of SPEC 1.8). Fusion is the plan's (codegen
** plan.c), not a pass. Returns the
** optimized function (a new one: passes rebuild rather than mutate). */
IrFunc *ir_optimize(IrFunc *f, int level, IrPassStats *stats);

/* What the passes share (passes.c). A pass rebuilds: it makes a new function
** with pass_begin, re-emits the old nodes through the builder into it, with
** map[old id] = the new node, and pass_end remaps the result and outputs. */
IrFunc *pass_begin(const IrFunc *f, IrNode ***map);
void pass_end(IrFunc *dst, const IrFunc *src, IrNode *const *map);
/* Per node id: reachable from the result or an output. Arena-allocated. */
bool *pass_live(const IrFunc *f);
int pass_live_count(const IrFunc *f);
/* Per node id: how many distinct live nodes use it as an operand. */
int *pass_consumers(const IrFunc *f, const bool *live);
/* Per node id: the value of the result or of an output. */
bool *pass_outputs(const IrFunc *f);
/* The same nodes, in the same order, with the same result and outputs. */
bool pass_same(const IrFunc *a, const IrFunc *b);
/* A CONST fill (or a constant whose elements are all equal): its value. */
bool pass_fill_value(const IrNode *n, double *value);

/* The passes, each in its own file; each returns a new function. */
IrFunc *pass_fold(const IrFunc *f);    /* pass_fold.c: constant folding */
IrFunc *pass_cse(const IrFunc *f);     /* pass_cse.c: commutative canonical order + merging */
IrFunc *pass_dce(const IrFunc *f);     /* pass_dce.c: drops what no output needs */
IrFunc *pass_algebra(const IrFunc *f); /* pass_algebra.c: identities, terms, stable forms */
/* pass_fold.c: an element-wise op on scalars, as the interpreter computes it;
** x has the op's arity, value is the op's attribute. */
double pass_eval_ew(Op op, double value, const double *x);

/* ---- autodiff.c, loss.c, optim.c, train.c: the training functions ---- */
/* Builds m->predict, train, regularize, update and eval from m->forward, the
** loss and the optimizer, each optimized at `level`. */
void ir_build_training(IrModule *m, int level);
/* autodiff.c: reverse mode. Appends to f the gradient of `loss`, a scalar
** node of f, with respect to every trainable parameter it depends on:
** grads[p] (m->params.len entries) becomes a uniform node of parameter p's
** shape, or NULL where the loss does not depend on p. per_sample: loss is one
** sample's loss and grads[p] the batch sum Σ_rows ∂loss_row/∂p (a
** BATCH_SUM, which of a uniform x is rows·x); otherwise loss is uniform (the
** regularizers) and grads[p] is its plain gradient. */
void grad_backward(IrFunc *f, IrNode *loss, bool per_sample, IrNode **grads);
/* loss.c: SPEC 1.8 per sample, from the model output and the TARGET leaf. */
Shape grad_target_shape(const IrModule *m); /* [] for sparse CE's class index */
IrNode *grad_loss(IrFunc *f, IrNode *pred, IrNode *target);
/* Σ over trainable parameters of l1·Σ|w| + l2·Σw² (uniform); NULL if none. */
IrNode *grad_regularization(IrFunc *f);
/* optim.c: SPEC 1.9. */
int ir_opt_slots(const OptSpec *o); /* state tensors per trainable parameter */
/* The update function (PARAM, GRAD, STATE, HYPER -> OUT_PARAM, OUT_STATE),
** not yet optimized; sets m->opt_slots and m->opt_state_init. */
IrFunc *grad_build_update(IrModule *m);

/* ---- interp.c: the double-precision reference interpreter (test oracle) ---- */
typedef struct IrEnv {
    int rows;                  /* samples in the batch (1 for uniform-only functions) */
    const double *input;       /* rows x numel(input) */
    const double *target;      /* rows x numel(target) */
    const double *pred;        /* rows x numel(PRED), for a custom loss on its own */
    double **params;           /* per param: read by PARAM; OUT_PARAM writes it */
    double **grads;            /* per param: read by GRAD; OUT_GRAD adds grad_scale x value */
    double grad_scale;         /* 1 unless the caller says otherwise */
    double ***state;           /* per param, per slot: read by STATE; OUT_STATE writes it */
    double hyper[2];           /* indexed by IrHyper */
    uint64_t seed, first_row;  /* dropout masks: nnc_uniform(seed, first_row + r, ...) */
    double *loss;              /* OUT_LOSS: rows values (varying) or 1 (uniform) */
    double *pred_out;          /* OUT_PRED: rows x numel(output) */
    double *result;            /* f->result: rows x numel, or numel when uniform */
} IrEnv;
/* Runs f on env; OUT_PARAM and OUT_STATE are written after every node is
** computed. False (with err) on a function it cannot run. */
bool ir_interp(const IrFunc *f, IrEnv *env, char *err, size_t err_size);
/* One element of an element-wise op, as the interpreter computes it (the
** constant folder uses the same functions). alpha: LEAKY_RELU/ELU. */
double ir_scalar_unary(Op op, double alpha, double x);
double ir_scalar_binary(Op op, double a, double b);
/* One node on its operands' values (one tensor each, in n->in[k]'s shape),
** as the interpreter computes it: what the constant folder evaluates. Not
** for leaves, DROPOUT (random) or BATCH_SUM (the batch's size). */
void ir_eval_node(const IrNode *n, const double *const *in, double *out);
/* NumPy's repr of a tensor: array([[6., 6.], [6., 6.]]); a scalar is array(6.). */
void ir_print_value(FILE *out, const double *data, Shape shape);

#endif
