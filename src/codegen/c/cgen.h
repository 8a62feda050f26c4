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

/* print.c: a LoopKernel (loops.h) as C: its body function, whose buffers
** are restrict parameters, and the ABI's function around it. */
struct LoopKernel;
void cg_c_print_kernel(CgFile *cf, CgText *out, const struct LoopKernel *k);
/* The kernels of the ABI, lowered and printed; false after a message. */
bool cg_c_kernels(CgFile *cf, CgText *out);
/* The predict kernel alone (infer), named name. */
bool cg_c_predict_kernel(CgFile *cf, CgText *out, const char *name);

/* descriptor.c: the NncModel, named <prefix>_model. */
void cg_c_descriptor(CgFile *cf, CgText *out);

/* emit.c */
void cg_c_file_init(CgFile *cf, Arena *a, const IrModule *m, const CgOptions *o);
void cg_c_prologue(CgFile *cf, CgText *t);
/* Helpers, kernels and descriptor. */
bool cg_c_model_section(CgFile *cf, CgText *t);
void cg_c_header_comment(CgFile *cf, CgText *t, const char *what);

#endif
