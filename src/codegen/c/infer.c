/*
** infer.c — --emit=infer (SPEC 4): predictions only, with the trained
** weights baked in as static const arrays, and the values that depend on
** the weights alone baked too (../infer_fold.c: normalization is folded
** in). Dropout is gone (predict has none). No allocation (a stack scratch
** of known size), no global mutable state, no I/O: re-entrant and
** thread-safe.
*/
#include "cgen.h"

#include <string.h>


/* Scratch on the stack per block of rows: at most INFER_STACK_REALS, and
** rows enough for the widest register tile (8). Every block reads all the
** weights, and a block of fewer rows than a tile runs the one-row loop,
** which reads them once a row: weights of INFER_UNCACHED_WEIGHTS bytes or
** more stay in no core's cache from one read to the next, so such a model
** takes up to INFER_WIDE_STACK_REALS to run whole tiles (784-2048-10, 6.4
** MB: 5 rows a block, 88 us a row at 256 rows; 8 rows, 32 us). */
enum { INFER_STACK_REALS = 16384, INFER_WIDE_STACK_REALS = 32768, INFER_MAX_ROWS = 8 };
enum { INFER_UNCACHED_WEIGHTS = 1 << 20 };

typedef struct Infer {
    CgFile cf;
    CgText kernel;
    long rows;        /* rows per block through the kernel */
    long scratch;     /* reals of scratch for a block */
    long param_bytes; /* the baked arrays */
} Infer;

/* ---- the file ---- */

static void baked_weights(Infer *in, CgText *t) {
    const CgModel *cm = in->cf.model;
    Arena *a = in->cf.arena;
    cg_c_put(t, "\n/* The trained weights, as the safetensors file holds them. */\n");
    for (int i = 0; i < cm->desc.n_params; i++) {
        if (!cm->params_used[i]) continue;
        const NncParam *p = &cm->desc.params[i];
        long count = p->size;
        cg_c_printf(t, "static const nnc_real w%d[%ld] = { /* %s %s */\n    ", i, count,
                    cg_comment(a, p->name), cg_c_dims(a, p->rank, p->dims));
        for (long e = 0; e < count; e++)
            cg_c_printf(t, "%s%s", e ? (e % 8 ? ", " : ",\n    ") : "",
                        cg_c_scalar_text(a, in->cf.o->weights->values[i][e], in->cf.o->f64));
        cg_c_put(t, "};\n");
    }
}

static const char *real_name(const CgOptions *o) {
    return o->f64 ? "double" : "float";
}

static void api(Infer *in, CgText *t) {
    const NncModel *d = &in->cf.model->desc;
    const char *p = in->cf.prefix, *r = real_name(in->cf.o);
    long nin = d->n_inputs, nout = d->n_outputs, scratch = in->scratch;
    cg_c_printf(t, "\n/* n rows of x (n x %ld) to predictions y (n x %ld), %ld rows at a time\n"
                   "** through a scratch on the stack. */\n", nin, nout, in->rows);
    cg_c_printf(t, "void %s_predict_batch(const %s *x, %s *y, int n) {\n", p, r, r);
    cg_c_printf(t, "    nnc_real scratch[%ld];\n", scratch > 0 ? scratch : 1);
    cg_c_printf(t, "    for (int first = 0; first < n; first += %ld) {\n", in->rows);
    cg_c_printf(t, "        int rows = n - first < %ld ? n - first : %ld;\n", in->rows, in->rows);
    cg_c_printf(t, "        %s_rows(scratch, x + (long)first * %ld, y + (long)first * %ld, rows);\n", p, nin, nout);
    cg_c_put(t, "    }\n}\n\n");
    cg_c_printf(t, "void %s_predict(const %s x[%ld], %s y[%ld]) {\n    %s_predict_batch(x, y, 1);\n}\n", p, r,
                nin, r, nout, p);
}

/* Prints the kernel; the source and the header both start here. */
static void infer_build(Infer *in, const CgModel *cm) {
    memset(in, 0, sizeof *in);
    cg_c_file_init(&in->cf, cm);
    in->kernel.arena = cm->arena;
    cg_c_print_kernel(&in->cf, &in->kernel, cm->kernel[LK_PREDICT]);
    for (int i = 0; i < cm->desc.n_params; i++)
        if (cm->params_used[i]) in->param_bytes += cm->desc.params[i].size * (cm->o->f64 ? 8 : 4);
    long per_row = cm->desc.scratch_per_row > 0 ? cm->desc.scratch_per_row : 1;
    long budget = in->param_bytes >= INFER_UNCACHED_WEIGHTS ? INFER_WIDE_STACK_REALS : INFER_STACK_REALS;
    in->rows = budget / per_row;
    in->rows = in->rows < 1 ? 1 : in->rows > INFER_MAX_ROWS ? INFER_MAX_ROWS : in->rows;
    in->scratch = cm->desc.scratch_fixed + in->rows * cm->desc.scratch_per_row;
}

const char *cg_c_infer(const CgModel *cm) {
    const CgOptions *o = cm->o;
    const NncModel *d = &cm->desc;
    Infer in;
    infer_build(&in, cm);
    CgText t = {.arena = cm->arena};
    cg_c_header_comment(&in.cf, &t, "Inference code");
    cg_c_printf(&t, "**   weights: baked in (%s); normalization folded in; no dropout\n",
                o->weights->dtype);
    cg_c_put(&t, "** No allocation, no global mutable state, no I/O; only libm.\n*/\n");
    if (o->f64) cg_c_put(&t, "#ifndef NNC_F64\n#define NNC_F64 1\n#endif\n");
    cg_c_printf(&t, "#include <math.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <string.h>\n\ntypedef %s nnc_real;\n\n",
                real_name(o));
    cg_c_printf(&t, "void %s_predict_batch(const %s *x, %s *y, int n);\n", in.cf.prefix, real_name(o),
                real_name(o));
    cg_c_printf(&t, "void %s_predict(const %s x[%ld], %s y[%ld]);\n\n", in.cf.prefix, real_name(o), d->n_inputs,
                real_name(o), d->n_outputs);
    cg_c_helpers(&t, in.cf.helpers);
    baked_weights(&in, &t);
    cg_c_put(&t, cg_c_text(&in.kernel));
    api(&in, &t);
    return cg_c_text(&t);
}

const char *cg_c_infer_header(const CgModel *cm) {
    const CgOptions *o = cm->o;
    const NncModel *d = &cm->desc;
    Infer in;
    infer_build(&in, cm);
    CgText t = {.arena = cm->arena};
    const char *p = in.cf.prefix, *up = cg_upper(cm->arena, p), *r = real_name(o);
    cg_c_header_comment(&in.cf, &t, "The interface of inference code");
    cg_c_put(&t, "*/\n");
    cg_c_printf(&t, "#ifndef NNC_INFER_%s_H\n#define NNC_INFER_%s_H\n\n", up, up);
    cg_c_printf(&t, "#define %s_INPUTS %ld\n#define %s_OUTPUTS %ld\n", up, d->n_inputs, up, d->n_outputs);
    cg_c_printf(&t, "/* Read-only memory of the baked weights and stack used per call, in bytes. */\n");
    cg_c_printf(&t, "#define %s_PARAM_BYTES %ld\n#define %s_SCRATCH_BYTES %ld\n\n", up, in.param_bytes, up,
                in.scratch * (o->f64 ? 8 : 4));
    cg_c_printf(&t, "/* One row x of %s_INPUTS numbers (row-major) to its %s_OUTPUTS predictions. */\n", up, up);
    cg_c_printf(&t, "void %s_predict(const %s x[%s_INPUTS], %s y[%s_OUTPUTS]);\n", p, r, up, r, up);
    cg_c_printf(&t, "/* n rows, contiguous: x is n x %s_INPUTS, y is n x %s_OUTPUTS. */\n", up, up);
    cg_c_printf(&t, "void %s_predict_batch(const %s *x, %s *y, int n);\n\n", p, r, r);
    cg_c_put(&t, "/* Generic names for tools that drive any model's inference code. */\n");
    cg_c_printf(&t, "#ifdef NNC_INFER_GENERIC\n#define NNC_INFER_INPUTS %s_INPUTS\n#define NNC_INFER_OUTPUTS %s_OUTPUTS\n"
                    "#define nnc_infer_predict_batch %s_predict_batch\ntypedef %s nnc_infer_real;\n#endif\n",
                up, up, p, r);
    cg_c_put(&t, "\n#endif\n");
    return cg_c_text(&t);
}
