/*
** cgen.h — the C backend's own interface, shared by the files of
** src/codegen/c/ only: growing text, index arithmetic, and the kernel
** writer's context. Everything here is prefixed cg_c_ or Cg.
*/
#ifndef NNC_CGEN_H
#define NNC_CGEN_H

#include "../codegen.h"

/* ---- text.c: growing text, literals, index expressions ---- */

typedef struct CgText {
    Arena *arena;
    char *items;
    int len, cap;
    int indent; /* levels of four spaces */
} CgText;

void cg_c_put(CgText *t, const char *s);
void cg_c_printf(CgText *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An indented line. */
void cg_c_line(CgText *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "text {" and one level deeper; cg_c_close ends it. */
void cg_c_open(CgText *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cg_c_close(CgText *t);
void cg_c_block(CgText *t); /* a bare "{", ended by cg_c_close */
const char *cg_c_text(const CgText *t);
/* A literal of type nnc_real that reads back as exactly v. */
const char *cg_c_real(Arena *a, double v);
/* Shortest %g text that reads back as exactly v (for comments and doubles). */
const char *cg_c_double(Arena *a, double v);
/* Shortest text that reads back as exactly v once rounded to the generated
** code's scalar type (float unless f64): weights in the fewest digits. */
const char *cg_c_scalar_text(Arena *a, double v, bool f64);
const char *cg_c_shape(Arena *a, Shape s); /* "[30, 15]" */

/* Loop variables: the row, then i0.. for a node's own axes, j0.. for an
** operand's, k for a matmul's inner dimension. */
enum { CG_V_R, CG_V_I0, CG_V_J0 = CG_V_I0 + IR_MAX_RANK, CG_V_K = CG_V_J0 + IR_MAX_RANK, CG_V_JB,
       CG_NVARS };

/* c + Σ k[v]·var_v: an index with its constant part folded. */
typedef struct CgAff {
    long c;
    long k[CG_NVARS];
} CgAff;
CgAff cg_aff_const(long c);
CgAff cg_aff_var(int v);
CgAff cg_aff_add(CgAff a, CgAff b);
CgAff cg_aff_scale(CgAff a, long m);
const char *cg_aff_text(Arena *a, CgAff x);
const char *cg_var_name(int v);

/* ---- helpers.c: the small inline functions generated code may call ---- */
/* A bit per helper in CgFile.helpers; only the used ones are written. */
typedef enum CgHelper {
    H_SQ, H_STEP, H_RELU, H_LEAKY, H_ELU, H_SELU, H_SIGMOID, H_SOFTPLUS, H_SOFTSIGN,
    H_SWISH, H_GELU, H_SIGN, H_DIVNZ, H_MIN, H_MAX, H_MASK, H_COUNT
} CgHelper;
/* The math macros, and the definitions of the helpers whose bit is set. */
void cg_c_helpers(CgText *t, unsigned used);

/* ---- kernels.c, nodes.c, expr.c, pointwise.c: one kernel function ---- */

/* The file being written. */
typedef struct CgFile {
    Arena *arena;
    const IrModule *m;
    const CgOptions *o;
    CgLayout layout;
    const char *prefix; /* the model's name as an identifier: names the kernels */
    unsigned helpers;   /* CgHelper bits used so far */
    bool infer;         /* parameters are the baked arrays w<index> */
    const bool *baked;  /* infer: per node id of predict, folded into a constant array */
    double **baked_values; /* infer: those constants, by node id */
    bool *params_used;  /* infer: per parameter, read by the kernel */
    long scratch_fixed, scratch_per_row; /* the largest over the kernels */
} CgFile;

/* A kernel being written. */
typedef struct CgKernel {
    CgFile *file;
    CgText *body;
    const IrFunc *f;
    const CgPlan *plan;
    bool *ptr_used;      /* per node id: the storage pointer named after it is read */
    const char **temp;   /* per node id: a local holding its value at the current element */
    bool uses_seed;      /* dropout masks read seed and first_row */
    /* Every tensor is read as its flat contiguous storage at coordinate c[0]
    ** (or at 0 when it has one element): pointwise.c's loops over a
    ** parameter's elements, where every value has its shape or is a scalar. */
    bool flat;
    int row_offset; /* per-row values are read at row r + row_offset (tiles) */
} CgKernel;

/* expr.c: the value of node n at coordinates c (n->shape.rank of them) as a
** C expression; the row is the variable r. */
const char *cg_c_elem(CgKernel *k, const IrNode *n, const CgAff *c);
/* The same, computing n from its operands whatever its place. */
const char *cg_c_compute(CgKernel *k, const IrNode *n, const CgAff *c);
/* The storage element of access `at` (shape s) at c: an lvalue. */
const char *cg_c_ref(CgKernel *k, const CgAccess *at, Shape s, const CgAff *c);
/* The storage pointer's name for the node owning it. */
const char *cg_c_ptr_name(CgKernel *k, CgStore store, int base);

/* A loop nest over a shape, or its iterations written out:
**   CgNest ns; cg_c_nest_open(&ns, k, shape, CG_V_I0, unroll);
**   do { ...ns.c... } while (cg_c_nest_next(&ns));                      */
typedef struct CgNest {
    CgKernel *k;
    Shape s;
    bool unroll;
    int var0;
    int loops;          /* loops opened */
    int split, tail;    /* vector nests: main loop's end on the last axis, tail done */
    long at[IR_MAX_RANK];
    CgAff c[IR_MAX_RANK];
} CgNest;
void cg_c_nest_open(CgNest *ns, CgKernel *k, Shape s, int var0, bool unroll);
/* The same for a nest whose body is straight-line code: the last axis in a
** loop of a multiple of CG_VECTOR iterations, then the rest written out. */
void cg_c_nest_vector(CgNest *ns, CgKernel *k, Shape s, int var0, bool unroll);
#define CG_VECTOR 8
bool cg_c_nest_next(CgNest *ns);
/* The row-major element number of coordinates c in shape s. */
CgAff cg_c_linear_aff(Shape s, const CgAff *c);

/* block.c: y[j] = Σ_t a_t·b_t[j] for j < width, the sums in registers:
** a local array the compiler keeps in vector registers, updated in chunks
** of CG_VECTOR (GCC vectorizes those, and with every index constant keeps
** the array out of memory), in blocks of CG_ACC_BLOCK. */
typedef struct CgAcc {
    int width;
    const char *loop; /* over t: "for (int k = 0; k < 30; k++)" */
    /* a_t of row `row` of a tile (0 untiled) */
    const char *(*scalar)(CgKernel *k, const void *ctx, int row);
    const char *(*row)(CgKernel *k, const void *ctx, CgAff j); /* b_t[j], shared by a tile */
    /* The statement that stores sum, element j of row `row` of the result. */
    const char *(*store)(CgKernel *k, const void *ctx, int row, CgAff j, const char *sum);
    const void *ctx;
} CgAcc;
void cg_c_acc(CgKernel *k, const CgAcc *acc);
/* `tile` rows at once, in blocks of CG_TILE_BLOCK (the registers hold
** tile x CG_TILE_BLOCK sums); the caller loops over the tiles. */
void cg_c_acc_tile(CgKernel *k, const CgAcc *acc, int tile);
#define CG_ACC_BLOCK 32
#define CG_TILE_BLOCK 16

/* nodes.c: the loop nest computing one stored node (and, for the buffer a
** matmul writes into, that matmul first). */
void cg_c_node(CgKernel *k, const IrNode *n);
/* A matmul the plan tiled (tile > 0): its own loop over the rows, outside
** the row loop; cg_c_node then emits its fused buffer's rest alone. */
void cg_c_matmul_tiled(CgKernel *k, const IrNode *mm);
const IrNode *cg_c_fused_matmul(const CgKernel *k, const IrNode *root);
/* Wᵀ for a matmul the plan gave a transposed copy (tpos). */
void cg_c_transpose_copy(CgKernel *k, const IrNode *mm);
/* The node's number as --emit=grad-ir prints it (%3), for comments. */
int cg_c_number(const CgKernel *k, const IrNode *n);

/* kernels.c: a kernel's context; the kernels of the ABI; each returns false (with a message)
** on what it cannot compile. */
CgKernel cg_c_kernel(CgFile *cf, const IrFunc *f, const CgPlan *plan);
bool cg_c_kernels(CgFile *cf, CgText *out);
/* The predict kernel alone (infer). */
bool cg_c_predict_kernel(CgFile *cf, CgText *out, const IrFunc *f, const char *name);

/* pointwise.c: regularize and update, one pass over each parameter. */
bool cg_c_pointwise(CgFile *cf, CgText *out, const IrFunc *f, CgFuncKind kind, const char *name);

/* descriptor.c: the NncModel, named <prefix>_model. */
void cg_c_descriptor(CgFile *cf, CgText *out);

/* emit.c */
void cg_c_file_init(CgFile *cf, Arena *a, const IrModule *m, const CgOptions *o);
void cg_c_prologue(CgFile *cf, CgText *t);
/* Helpers, kernels and descriptor. */
bool cg_c_model_section(CgFile *cf, CgText *t);
void cg_c_header_comment(CgFile *cf, CgText *t, const char *what);

#endif
