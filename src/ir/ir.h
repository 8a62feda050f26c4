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
int64_t shape_numel(Shape s);
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

typedef struct IrNode {
    Op op;
    int id; /* index in its function; printed %id */
    Shape shape;
    int nin;
    struct IrNode *in[IR_MAX_IN];
    /* attributes (which ones an op reads is said in ops.def) */
    double value;        /* CONST fill; LEAKY_RELU/ELU alpha; DROPOUT rate */
    const double *data;  /* CONST: row-major contents, or NULL for a fill */
    int axis;            /* reductions, SOFTMAX */
    int param;           /* PARAM: index into IrModule.params */
    IrSlice slice;       /* SLICE */
    Loc loc;             /* the user's source that produced it */
} IrNode;

typedef struct IrModule IrModule;

typedef struct IrFunc {
    const char *name;
    IrModule *module;
    struct { IrNode **items; int len, cap; } nodes; /* topological order */
    IrNode *result;
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

    /* compile { } */
    LossKind loss;
    Loc loss_loc;
    IrFunc *custom_loss; /* LOSS_CUSTOM: (y_true, y_pred) -> scalar */
    OptSpec optimizer;
    struct { MetricKind *items; int len, cap; } metrics;
    /* fit { } */
    FitSpec fit;
};

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

/* ---- print.c: the readable, deterministic text form (--emit=ir) ---- */
void ir_print_module(FILE *out, const IrModule *m);
void ir_print_func(FILE *out, const IrModule *m, const IrFunc *f);

/* ---- dot.c: the graph for Graphviz (--emit=dot) ---- */
void ir_print_dot(FILE *out, const IrModule *m, const IrFunc *f);

/* ---- verify.c ---- */
/* Checks SSA order, arities, shapes against the rules, attributes in range.
** Returns true when sound; otherwise writes the first problem to why. */
bool ir_verify(const IrFunc *f, char *why, size_t size);

/* ---- summary.c: parameter counts and exact memory (SPEC 3 "summary") ---- */
typedef struct IrMemory {
    int64_t params, gradients, optimizer_state, activations, total; /* bytes */
} IrMemory;
IrMemory ir_memory(const IrModule *m, int batch_size, int scalar_bytes);
void ir_print_summary(FILE *out, const IrModule *m, int batch_size, int scalar_bytes);

#endif
