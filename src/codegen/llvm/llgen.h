/*
** llgen.h — the LLVM backend's own interface, shared by the files of
** src/codegen/llvm/ only (and its unit tests). Everything here is
** prefixed ll_ or Ll.
**
** The backend builds, through the LLVM C API, the same kernels as the C
** backend from the same CgPlan: every loop, every order of summation and
** every libm call of src/codegen/c/ has its counterpart here, so the two
** agree bit for bit where both run the same libm (tests/llvm.sh).
*/
#ifndef NNC_LLGEN_H
#define NNC_LLGEN_H

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "../codegen.h"

/* ---- module.c: the module, its types, the host target, passes, emission ---- */

/* libm and runtime functions kernels call, declared on first use. */
typedef enum LlFn {
    LL_EXP, LL_EXPM1, LL_LOG, LL_LOG1P, LL_SQRT, LL_TANH, LL_ERF, LL_POW, LL_FABS,
    LL_UNIFORM, LL_FN_COUNT
} LlFn;

/* The module being built. */
typedef struct LlFile {
    Arena *arena;
    const IrModule *m;
    const CgOptions *o;
    CgLayout layout;
    const char *prefix;          /* the model's name as an identifier */
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    LLVMTargetMachineRef tm;     /* the host, with its CPU and features */
    const char *cpu, *features;  /* as attributes on every function */
    LLVMTypeRef real, dbl, i1, i32, i64, voidt, ptr; /* ptr: nnc_real * */
    LLVMValueRef fn[LL_FN_COUNT];
    LLVMValueRef kernel[5];      /* by CgFuncKind; regularize may be NULL */
    long scratch_fixed, scratch_per_row; /* the largest over the row kernels */
    bool owns_ctx;
} LlFile;

/* ctx may be NULL (a context of the file's own, disposed by ll_file_free). */
bool ll_file_init(LlFile *lf, Arena *a, const IrModule *m, const CgOptions *o, LLVMContextRef ctx);
void ll_file_free(LlFile *lf);
/* The host's target machine (PIC, so that objects link into executables). */
LLVMTargetMachineRef ll_host_machine(void);
LLVMValueRef ll_fn(LlFile *lf, LlFn fn);
/* A function of the module with the target's attributes; internal unless
** exported. */
LLVMValueRef ll_function(LlFile *lf, const char *name, LLVMTypeRef type, bool exported);
/* LLVMVerifyModule, then the O2 pipeline; false with a message. */
bool ll_verify(LlFile *lf);
bool ll_optimize(LlFile *lf);
/* The kernels, with the descriptor's globals when `globals` (CG_LLVM_EXE:
** and main), verified and optimized. */
bool ll_build(LlFile *lf, CgLlvmKind kind, bool globals);
LLVMValueRef ll_real(LlFile *lf, double v);
LLVMValueRef ll_i64(LlFile *lf, long v);
LLVMValueRef ll_i32(LlFile *lf, int v);

/* ---- kernels.c, nodes.c, expr.c, pointwise.c: one kernel ---- */

/* A kernel being built: its body function, whose buffers are noalias
** parameters (the C backend's restrict parameters, kernels.c there). */
typedef struct LlKernel {
    LlFile *file;
    LLVMBuilderRef b;
    const IrFunc *f;
    const CgPlan *plan;
    LLVMValueRef fn;          /* the body */
    LLVMBasicBlockRef entry;  /* where locals are allocated */
    LLVMValueRef *store;      /* per node id: ROWS, FIXED, CONST storage of the base */
    LLVMValueRef *tstore;     /* per node id: a matmul's transposed copy */
    LLVMValueRef *param, *grad, *state; /* per parameter (state: per parameter and slot, 4 each) */
    LLVMValueRef x, t, y, n, scale, seed, first_row, sc, lr, step_r;
    LLVMValueRef loss;        /* a local double */
    LLVMValueRef r;           /* the row (i64) inside a row loop, else NULL */
    long row_offset;          /* tiles: rows r + row_offset */
    LLVMValueRef *temp;       /* per node id: its value at the current element */
    bool flat;                /* pointwise.c: every tensor read flat at c[0] */
} LlKernel;

/* A local variable of the kernel (an alloca in the entry block, which SROA
** turns into registers as clang's locals are). */
LLVMValueRef ll_local(LlKernel *k, LLVMTypeRef type, const char *name);
LLVMValueRef ll_local_array(LlKernel *k, LLVMTypeRef type, int count, const char *name);

/* expr.c: the value of node n at coordinates c (i64 values, one per axis of
** n; NULL for a scalar). */
LLVMValueRef ll_elem(LlKernel *k, const IrNode *n, LLVMValueRef *c);
LLVMValueRef ll_compute(LlKernel *k, const IrNode *n, LLVMValueRef *c);
/* A call of a one-argument libm function; NumPy's maximum (nnc_max). */
LLVMValueRef ll_call1(LlKernel *k, LlFn fn, LLVMValueRef a);
LLVMValueRef ll_max(LlKernel *k, LLVMValueRef a, LLVMValueRef b);
/* The address of access `at`'s element (shape s) at c. */
LLVMValueRef ll_ref(LlKernel *k, const CgAccess *at, Shape s, LLVMValueRef *c);
LLVMValueRef ll_load(LlKernel *k, LLVMValueRef addr);
void ll_store(LlKernel *k, LLVMValueRef value, LLVMValueRef addr);
/* Row-major offset of c in s. */
LLVMValueRef ll_linear(LlKernel *k, Shape s, LLVMValueRef *c);
LLVMValueRef ll_add(LlKernel *k, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef ll_mul(LlKernel *k, LLVMValueRef a, long m);

/* loops.c: counted loops (do-while form: every count is >= 1) and nests
** over shapes, written out when the plan says so:
**   LlNest ns; ll_nest_open(&ns, k, shape, unroll);
**   do { ...ns.c... } while (ll_nest_next(&ns));                       */
typedef struct LlLoop {
    LLVMValueRef i;           /* the counter, i64 */
    LLVMBasicBlockRef head, exit;
    LLVMValueRef count;
} LlLoop;
/* for (i = from; i < count; i += step): opened with the counter's first
** value and bound (i64 values), closed with the step. A loop that may run
** no iteration gets a guard. */
LLVMValueRef ll_loop_open(LlKernel *k, LlLoop *l, LLVMValueRef from, LLVMValueRef count);
void ll_loop_close(LlKernel *k, LlLoop *l, long step);
/* if (cond) { ... } */
LLVMBasicBlockRef ll_if_open(LlKernel *k, LLVMValueRef cond);
void ll_if_close(LlKernel *k, LLVMBasicBlockRef done);

typedef struct LlNest {
    LlKernel *k;
    Shape s;
    bool unroll;
    long at[IR_MAX_RANK];
    LLVMValueRef c[IR_MAX_RANK];
    LlLoop loop[IR_MAX_RANK];
    bool looped[IR_MAX_RANK];
} LlNest;
void ll_nest_open(LlNest *ns, LlKernel *k, Shape s, bool unroll);
bool ll_nest_next(LlNest *ns);

/* loops.c: block.c's register blocking, y[j] = Σ_t a_t·b_t[j] for j < width
** in blocks of CG_ACC_BLOCK sums, each the same chain of additions as
** there: 0 + a_0·b_0[j] + a_1·b_1[j] + ... in t's order. tile > 0: that
** many rows of the batch (r + row) at once, sharing each b_t[j]. */
typedef struct LlAcc {
    int width;
    long count;       /* t's trip count; 0: the kernel's n (rows) */
    bool over_rows;   /* t is the row r */
    LLVMValueRef (*scalar)(LlKernel *k, const void *ctx, LLVMValueRef t, int row);
    LLVMValueRef (*row)(LlKernel *k, const void *ctx, LLVMValueRef t, LLVMValueRef j);
    /* May be NULL, or return NULL: the address of b_t[j] when b_t[j..] is
    ** contiguous storage, read as one vector. */
    LLVMValueRef (*row_addr)(LlKernel *k, const void *ctx, LLVMValueRef t, LLVMValueRef j);
    void (*store)(LlKernel *k, const void *ctx, int row, LLVMValueRef j, LLVMValueRef sum);
    /* May be NULL, or return false: stores sums j .. j + LL_VECTOR at once. */
    bool (*store_vec)(LlKernel *k, const void *ctx, int row, LLVMValueRef j, LLVMValueRef sums);
    const void *ctx;
} LlAcc;
void ll_acc(LlKernel *k, const LlAcc *acc, int tile);
/* <width x T> of v in every lane. */
LLVMValueRef ll_splat(LlKernel *k, LLVMValueRef v, int width);
/* A <LL_VECTOR x real> load at addr (store NULL), or a store of `store`. */
LLVMValueRef ll_vector_at(LlKernel *k, LLVMValueRef addr, LLVMValueRef store);
#define LL_VECTOR 8 /* lanes of the vectors of sums (the C backend's CG_VECTOR) */

/* nodes.c */
void ll_node(LlKernel *k, const IrNode *n);
void ll_transpose_copy(LlKernel *k, const IrNode *mm);
void ll_matmul_tiled(LlKernel *k, const IrNode *mm);
const IrNode *ll_fused_matmul(const LlKernel *k, const IrNode *root);

/* kernels.c: the row kernels of the ABI; pointwise.c: regularize, update.
** Each sets lf->kernel[kind] and returns false (with a message) on what it
** cannot compile. */
bool ll_kernels(LlFile *lf);
bool ll_pointwise(LlFile *lf, const IrFunc *f, CgFuncKind kind, const char *name);
LlKernel ll_kernel(LlFile *lf, const IrFunc *f, const CgPlan *plan);
/* CONST arrays the kernel reads, as private constant globals. */
void ll_const_arrays(LlKernel *k);
/* loss += (double)v */
void ll_add_loss(LlKernel *k, LLVMValueRef v);
/* noalias on argument `index` of fn. */
void ll_noalias(LlFile *lf, LLVMValueRef fn, unsigned index);

/* ---- globals.c: the descriptor as LLVM globals, <model>_main and main ---- */
/* The LLVM type of NncModel (and of its tables), laid out as the C
** compiler lays out runtime/nnc_abi.h's structs on the target. */
LLVMTypeRef ll_model_type(LlFile *lf);
/* Defines <prefix>_model from d (cg_descriptor_data's) and lf->kernel, and
** int <prefix>_main(int, char **); with_main: also int main(int, char **). */
void ll_globals(LlFile *lf, const struct NncModel *d, bool with_main);

#endif
