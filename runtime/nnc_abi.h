/*
** nnc_abi.h — the kernel ABI: the one seam between a model's generated
** kernels (C or LLVM backend) and the runtime that trains, evaluates and
** serves it. The runtime knows nothing about a model beyond this header.
**
** Plain C99, no dependency but libc. nnc_real is float, or double when the
** model was compiled with --dtype=f64 (NNC_F64 defined).
*/
#ifndef NNC_ABI_H
#define NNC_ABI_H

#include <stdint.h>

/* 3: update takes an element range [lo, hi) and the descriptor says
** whether the update may be split (update_whole_range). 4:
** forward_backward writes the gradient instead of adding to it. */
#define NNC_ABI_VERSION 4
#define NNC_MAX_RANK 8
/* Every parameter's offset, param_floats and the ends of an update's range
** are multiples of this. */
#define NNC_RANGE_ALIGN 16

#ifdef NNC_F64
typedef double nnc_real;
#else
typedef float nnc_real;
#endif

/* Same order as ir.h's InitKind, LossKind, OptKind, MetricKind, CallbackKind,
** MonitorMode and ParamRole; codegen checks this with static assertions. */
enum { NNC_INIT_ZEROS, NNC_INIT_ONES, NNC_INIT_CONSTANT, NNC_INIT_RANDOM_NORMAL,
       NNC_INIT_RANDOM_UNIFORM, NNC_INIT_TRUNCATED_NORMAL, NNC_INIT_GLOROT_UNIFORM,
       NNC_INIT_GLOROT_NORMAL, NNC_INIT_HE_UNIFORM, NNC_INIT_HE_NORMAL,
       NNC_INIT_LECUN_UNIFORM, NNC_INIT_LECUN_NORMAL };
enum { NNC_LOSS_MSE, NNC_LOSS_MAE, NNC_LOSS_MSLE, NNC_LOSS_BINARY_CE, NNC_LOSS_HINGE,
       NNC_LOSS_SQUARED_HINGE, NNC_LOSS_CATEGORICAL_CE, NNC_LOSS_SPARSE_CATEGORICAL_CE,
       NNC_LOSS_KLD, NNC_LOSS_CUSTOM };
enum { NNC_OPT_SGD, NNC_OPT_RMSPROP, NNC_OPT_ADAGRAD, NNC_OPT_ADADELTA, NNC_OPT_ADAM,
       NNC_OPT_ADAMAX, NNC_OPT_ADAMW };
enum { NNC_MET_ACCURACY, NNC_MET_BINARY_ACCURACY, NNC_MET_CATEGORICAL_ACCURACY,
       NNC_MET_SPARSE_CATEGORICAL_ACCURACY, NNC_MET_MAE, NNC_MET_MSE, NNC_MET_PRECISION,
       NNC_MET_RECALL };
enum { NNC_CB_EARLY_STOPPING, NNC_CB_MODEL_CHECKPOINT, NNC_CB_REDUCE_LR_ON_PLATEAU };
enum { NNC_MODE_AUTO, NNC_MODE_MIN, NNC_MODE_MAX };
enum { NNC_ROLE_WEIGHT, NNC_ROLE_NORM_MIN, NNC_ROLE_NORM_MAX, NNC_ROLE_NORM_MEAN,
       NNC_ROLE_NORM_VARIANCE };

/* How a CSV row's target columns become the kernel's target vector. */
enum {
    NNC_TARGET_DENSE,       /* target_width numbers as given */
    NNC_TARGET_CLASS_INDEX, /* one integer column 0..classes-1, passed as is (sparse CE) */
    NNC_TARGET_ONE_HOT,     /* target_width columns, or one integer column that the
                               runtime one-hot encodes (categorical CE) */
};

typedef struct NncParam {
    const char *name;   /* tensor name in weight files, e.g. "dense_1.kernel" */
    int rank;
    int dims[NNC_MAX_RANK];
    long offset;        /* into the params (and grads) buffer, in nnc_real */
    long size;          /* element count */
    int init;           /* NNC_INIT_* */
    double init_a, init_b; /* constant value; mean/stddev; minval/maxval */
    long fan_in, fan_out;
    int role;           /* NNC_ROLE_* */
    int trainable;
} NncParam;

typedef struct NncLayer {  /* a row of `summary` */
    const char *name, *kind;
    int rank;
    int dims[NNC_MAX_RANK]; /* output shape, per sample */
    long params;
} NncLayer;

typedef struct NncCallback {
    int kind;               /* NNC_CB_* */
    const char *monitor;    /* "val_loss", "accuracy", ... */
    int mode;               /* NNC_MODE_* */
    double min_delta, factor, min_lr;
    int patience;
    int restore_best_weights, save_best_only;
    const char *path;       /* model_checkpoint */
} NncCallback;

typedef struct NncModel {
    int abi_version;        /* NNC_ABI_VERSION */
    const char *name;
    const char *nnc_version;
    const char *source_sha256; /* of the .nn file */
    const char *signature;     /* hash of every parameter's name and shape */
    int real_bytes;            /* sizeof(nnc_real) the kernels were built for */

    int input_rank;
    int input_dims[NNC_MAX_RANK];
    long n_inputs;             /* features per row */
    int output_rank;
    int output_dims[NNC_MAX_RANK];
    long n_outputs;            /* predictions per row */
    int target_kind;           /* NNC_TARGET_* */
    long target_width;         /* numbers per row in the kernels' target vector */

    int n_params;
    const NncParam *params;
    long param_floats;         /* size of the params and grads buffers */
    long opt_floats;           /* size of the optimizer-state buffer */
    long scratch_per_row;      /* activations per row, in nnc_real */
    long scratch_fixed;        /* plus this, whatever the row count */

    int n_layers;
    const NncLayer *layers;

    /* compile { } */
    int loss;                  /* NNC_LOSS_* */
    int optimizer;             /* NNC_OPT_* */
    double learning_rate;
    int n_metrics;
    const int *metrics;        /* NNC_MET_*, `accuracy` already resolved */
    /* fit { } defaults; the command line overrides them */
    int epochs;
    int batch_size;            /* 0 = all rows */
    double validation_split;
    int shuffle;
    uint64_t seed;
    int verbose;
    int n_callbacks;
    const NncCallback *callbacks;

    /* Kernels. Rows are contiguous: x is n × n_inputs, t is n × target_width,
    ** y is n × n_outputs. scratch holds at least
    ** scratch_fixed + n × scratch_per_row reals. */

    /* Inference: dropout off. */
    void (*predict)(const nnc_real *params, nnc_real *scratch, const nnc_real *x,
                    nnc_real *y, int n);
    /* Training forward and backward over n rows: writes scale × Σ_rows ∂loss_row/∂θ
    ** to grads (every trainable parameter's gradient; the caller need not zero
    ** them, and sums chunks of a batch itself), writes the train-mode predictions to y
    ** (may be NULL), returns Σ_rows loss_row without regularization. Dropout masks
    ** come from the counter-based generator keyed by (seed, first_row + r, element),
    ** so splitting a batch into chunks never changes the result. */
    double (*forward_backward)(const nnc_real *params, nnc_real *grads, nnc_real *scratch,
                               const nnc_real *x, const nnc_real *t, int n, double scale,
                               uint64_t seed, uint64_t first_row, nnc_real *y);
    /* Adds the regularizers' gradient to grads; returns their loss (0 if none). */
    double (*regularize)(const nnc_real *params, nnc_real *grads);
    /* One optimizer step (SPEC 1.9) on the parameter elements whose index in
    ** params is in [lo, hi), and on their optimizer state; step counts from 1.
    ** lo and hi are multiples of NNC_RANGE_ALIGN (param_floats is one), so
    ** ranges that cover [0, param_floats) together, called in any order or at
    ** the same time, give the step of one call over [0, param_floats). */
    void (*update)(nnc_real *params, const nnc_real *grads, nnc_real *opt, long step,
                   double learning_rate, long lo, long hi);
    /* Σ_rows loss_row with dropout off; writes predictions to y (may be NULL). */
    double (*eval_loss)(const nnc_real *params, nnc_real *scratch, const nnc_real *x,
                        const nnc_real *t, int n, nnc_real *y);

    /* Optional, may be NULL: n_metrics names as the user wrote them, shown
    ** in logs and history ("accuracy", as Keras shows it, for a metric
    ** resolved to NNC_MET_BINARY_ACCURACY). NULL: each metric's own name. */
    const char *const *metric_names;

    /* The floating-point operations of one call of each kernel over n rows,
    ** counted on the generated loops: flops[2k] + flops[2k + 1] * n for the
    ** kernels in the order predict, forward_backward, eval_loss, regularize,
    ** update (--profile's GFLOP/s). Zeros when unknown. */
    double flops[10];

    /* 1: the update reads a sum over a parameter's elements (a norm), so it
    ** must be called once over [0, param_floats); 0: it may be split. */
    int update_whole_range;
} NncModel;

/* The trainer's command line (SPEC 3): train, eval, predict, summary,
** gradcheck, --help. Returns the process exit status. */
int nnc_main(const NncModel *model, int argc, char **argv);

#ifdef NNC_MPI
#include <mpi.h>
/* The same, data-parallel over the ranks of comm (SPEC 6), for a program
** that has initialized MPI itself (nnc_main initializes it when needed).
** Every rank of comm calls it with the same arguments. */
int nnc_main_comm(const NncModel *model, MPI_Comm comm, int argc, char **argv);
#endif

/* The counter-based generator shared by kernels (dropout) and the runtime:
** a pure function of (seed, stream, counter), uniform on [0, 1). */
double nnc_uniform(uint64_t seed, uint64_t stream, uint64_t counter);

#endif
