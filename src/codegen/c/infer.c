/*
** infer.c — --emit=infer (SPEC 4): predictions only, with the trained
** weights baked in as static const arrays. The values of the predict
** function that depend on the weights alone through element-wise ops
** (normalize's range, or sqrt(variance + 1e-7)) are computed here and
** baked too: normalization is folded in. They are computed op by op in the
** generated code's precision, so the predictions are the trainer's. Dropout is
** gone (predict has none). No allocation (a stack scratch of known size),
** no global mutable state, no I/O: re-entrant and thread-safe.
*/
#include "cgen.h"

#include <stdlib.h>
#include <string.h>

/* At most this many reals of scratch on the stack per block of rows. */
enum { INFER_STACK_REALS = 16384, INFER_MAX_ROWS = 8 };

typedef struct Infer {
    CgFile cf;
    CgText kernel;
    long rows;        /* rows per block through the kernel */
    long param_bytes; /* the baked arrays */
} Infer;

/* ---- folding ---- */

/* Computable from the weights alone, one element-wise op or view at a
** time: exactly as the trainer computes it (below). */
static bool foldable(const IrNode *n, const bool *memo) {
    if (n->varying) return false;
    if (n->op == OP_PARAM || n->op == OP_CONST) return true;
    bool view = n->op == OP_TRANSPOSE || n->op == OP_BROADCAST || n->op == OP_SLICE || n->op == OP_RESHAPE;
    if (!view && !(ir_ops[n->op].flags & OPF_EW)) return false;
    for (int s = 0; s < n->nin; s++)
        if (!memo[n->in[s]->id]) return false;
    return true;
}

/* Uniform values read by per-row nodes or the output, known once the
** weights are: baked as constants. */
static bool *frozen_nodes(Arena *a, const IrFunc *f, const CgLayout *layout, bool *able) {
    CgPlan *p = cg_plan(a, f, CG_PREDICT, layout, -1, NULL);
    bool *frozen = ARENA_ARRAY(a, bool, f->nodes.len + 1);
    for (int id = 0; id < f->nodes.len; id++) able[id] = foldable(f->nodes.items[id], able);
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        if (!p->node[id].live || !n->varying) continue;
        for (int s = 0; s < n->nin; s++) frozen[n->in[s]->id] |= n->in[s]->nin > 0 && able[n->in[s]->id];
    }
    for (int i = 0; i < f->outputs.len; i++) {
        const IrNode *v = f->outputs.items[i].value;
        frozen[v->id] |= v->nin > 0 && able[v->id];
    }
    return frozen;
}

static void round_to(double *v, long count, bool f64) {
    for (long i = 0; !f64 && i < count; i++) v[i] = (double)(float)v[i];
}

/* One node by the interpreter from its operands' values, rounded to the
** scalar type after the op: for the ops folded here (+ - * / sqrt, views)
** that is the result the generated code's own arithmetic gives. */
static bool fold_node(Arena *a, IrModule *m, const IrNode *n, double **values, bool f64) {
    long count = (long)shape_numel(n->shape);
    values[n->id] = ARENA_ARRAY(a, double, count + 1);
    IrFunc *g = ir_func_new(m, "fold");
    IrNode *ops[IR_MAX_IN];
    for (int s = 0; s < n->nin; s++) ops[s] = ir_const_data(g, values[n->in[s]->id], n->in[s]->shape, n->loc);
    g->result = ir_clone(g, n, ops);
    IrEnv env = {.rows = 1, .grad_scale = 1, .result = values[n->id]};
    char err[256];
    if (!ir_interp(g, &env, err, sizeof err)) {
        fprintf(stderr, "nnc: internal error: folding the weights: %s\n", err);
        return false;
    }
    round_to(values[n->id], count, f64);
    return true;
}

static bool evaluate(Arena *a, const IrModule *m, const IrFunc *f, const bool *able, const CgWeights *w,
                     bool f64, double **values) {
    for (int id = 0; id < f->nodes.len; id++) {
        const IrNode *n = f->nodes.items[id];
        long count = (long)shape_numel(n->shape);
        if (!able[id]) continue;
        if (n->op == OP_PARAM || n->op == OP_CONST) {
            values[id] = ARENA_ARRAY(a, double, count + 1);
            for (long e = 0; e < count; e++)
                values[id][e] = n->op == OP_PARAM ? w->values[n->param][e] : n->data ? n->data[e] : n->value;
            round_to(values[id], count, f64);
        } else if (!fold_node(a, (IrModule *)m, n, values, f64)) {
            return false;
        }
    }
    return true;
}

/* ---- the file ---- */

static void baked_weights(Infer *in, CgText *t) {
    const IrModule *m = in->cf.m;
    Arena *a = in->cf.arena;
    cg_c_put(t, "\n/* The trained weights, as the safetensors file holds them. */\n");
    for (int i = 0; i < m->params.len; i++) {
        if (!in->cf.params_used[i]) continue;
        const IrParam *p = &m->params.items[i];
        long count = (long)shape_numel(p->shape);
        in->param_bytes += count * (in->cf.o->f64 ? 8 : 4);
        cg_c_printf(t, "static const nnc_real w%d[%ld] = { /* %s %s */\n    ", i, count,
                    cg_comment(a, p->name), cg_c_shape(a, p->shape));
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
    const IrModule *m = in->cf.m;
    const char *p = in->cf.prefix, *r = real_name(in->cf.o);
    long nin = (long)shape_numel(m->input_shape), nout = (long)shape_numel(m->output_shape);
    long scratch = in->cf.scratch_fixed + in->rows * in->cf.scratch_per_row;
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

/* Builds the kernel; the source and the header both start here. */
static bool infer_build(Infer *in, const IrModule *m, const CgOptions *o) {
    Arena *a = m->arena;
    memset(in, 0, sizeof *in);
    cg_c_file_init(&in->cf, a, m, o);
    in->cf.infer = true;
    in->cf.params_used = ARENA_ARRAY(a, bool, m->params.len + 1);
    in->kernel.arena = a;
    if (!o->weights || !m->predict) {
        fprintf(stderr, "nnc: internal error: --emit=infer without weights or a predict function\n");
        return false;
    }
    bool *able = ARENA_ARRAY(a, bool, m->predict->nodes.len + 1);
    in->cf.baked = frozen_nodes(a, m->predict, &in->cf.layout, able);
    in->cf.baked_values = ARENA_ARRAY(a, double *, m->predict->nodes.len + 1);
    if (!evaluate(a, m, m->predict, able, o->weights, o->f64, in->cf.baked_values)) return false;
    const char *name = arena_printf(a, "%s_rows", in->cf.prefix);
    if (!cg_c_predict_kernel(&in->cf, &in->kernel, name)) return false;
    long per_row = in->cf.scratch_per_row > 0 ? in->cf.scratch_per_row : 1;
    in->rows = INFER_STACK_REALS / per_row;
    in->rows = in->rows < 1 ? 1 : in->rows > INFER_MAX_ROWS ? INFER_MAX_ROWS : in->rows;
    return true;
}

const char *cg_c_infer(const IrModule *m, const CgOptions *o) {
    Infer in;
    if (!infer_build(&in, m, o)) return NULL;
    CgText t = {.arena = m->arena};
    cg_c_header_comment(&in.cf, &t, "Inference code");
    cg_c_printf(&t, "**   weights: baked in (%s); normalization folded in; no dropout\n",
                o->weights->dtype);
    cg_c_put(&t, "** No allocation, no global mutable state, no I/O; only libm.\n*/\n");
    if (o->f64) cg_c_put(&t, "#ifndef NNC_F64\n#define NNC_F64 1\n#endif\n");
    cg_c_printf(&t, "#include <math.h>\n#include <stddef.h>\n#include <stdint.h>\n\ntypedef %s nnc_real;\n\n",
                real_name(o));
    cg_c_printf(&t, "void %s_predict_batch(const %s *x, %s *y, int n);\n", in.cf.prefix, real_name(o),
                real_name(o));
    cg_c_printf(&t, "void %s_predict(const %s x[%ld], %s y[%ld]);\n\n", in.cf.prefix, real_name(o),
                (long)shape_numel(m->input_shape), real_name(o), (long)shape_numel(m->output_shape));
    cg_c_helpers(&t, in.cf.helpers);
    baked_weights(&in, &t);
    cg_c_put(&t, cg_c_text(&in.kernel));
    api(&in, &t);
    return cg_c_text(&t);
}

const char *cg_c_infer_header(const IrModule *m, const CgOptions *o) {
    Infer in;
    if (!infer_build(&in, m, o)) return NULL;
    CgText scratch = {.arena = m->arena};
    baked_weights(&in, &scratch); /* sizes the baked arrays */
    CgText t = {.arena = m->arena};
    const char *p = in.cf.prefix, *up = cg_upper(m->arena, p), *r = real_name(o);
    cg_c_header_comment(&in.cf, &t, "The interface of inference code");
    cg_c_put(&t, "*/\n");
    cg_c_printf(&t, "#ifndef NNC_INFER_%s_H\n#define NNC_INFER_%s_H\n\n", up, up);
    cg_c_printf(&t, "#define %s_INPUTS %ld\n#define %s_OUTPUTS %ld\n", up, (long)shape_numel(m->input_shape), up,
                (long)shape_numel(m->output_shape));
    cg_c_printf(&t, "/* Read-only memory of the baked weights and stack used per call, in bytes. */\n");
    cg_c_printf(&t, "#define %s_PARAM_BYTES %ld\n#define %s_SCRATCH_BYTES %ld\n\n", up, in.param_bytes, up,
                (in.cf.scratch_fixed + in.rows * in.cf.scratch_per_row) * (o->f64 ? 8 : 4));
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
