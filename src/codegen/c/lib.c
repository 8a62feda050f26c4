/*
** lib.c — --emit=lib: the trainer's kernels and runtime without main, and
** a thin C API over them (create, fit, predict, evaluate, save, load),
** documented in the header. One model per context, no global state, so
** contexts on different threads do not interfere. The API is written as
** templates in which $M stands for the model's identifier.
*/
#include "cgen.h"
#include "runtime.h" /* rt_plan_real: the memory macros are summary's figures */

#include <string.h>

/* Writes tmpl with "$M" replaced by prefix and "$U" by its upper case
** (the header's macros). */
static void expand(CgText *t, const char *tmpl, const char *prefix) {
    const char *upper = cg_upper(t->arena, prefix);
    for (const char *p = tmpl; *p;) {
        const char *hit = strchr(p, '$');
        if (!hit || (hit[1] != 'M' && hit[1] != 'U')) {
            cg_c_printf(t, "%.*s", hit ? (int)(hit - p + 1) : (int)strlen(p), p);
            if (!hit) break;
            p = hit + 1;
            continue;
        }
        cg_c_printf(t, "%.*s%s", (int)(hit - p), p, hit[1] == 'M' ? prefix : upper);
        p = hit + 2;
    }
}

static const char *const api_header =
    "/* The API below; the header is the documentation. */\n"
    "typedef nnc_real $M_real;\n"
    "typedef struct $M_model $M_model;\n"
    "$M_model *$M_create(uint64_t seed);\n"
    "void $M_free($M_model *model);\n"
    "int $M_load($M_model *model, const char *path);\n"
    "int $M_save(const $M_model *model, const char *path);\n"
    "int $M_adapt($M_model *model, const $M_real *x, long rows);\n"
    "double $M_train_batch($M_model *model, const $M_real *x, const $M_real *t, long rows);\n"
    "double $M_fit($M_model *model, const $M_real *x, const $M_real *t, long rows, int epochs,\n"
    "    long batch_size);\n"
    "void $M_predict($M_model *model, const $M_real *x, $M_real *y, long rows);\n"
    "double $M_evaluate($M_model *model, const $M_real *x, const $M_real *t, long rows);\n"
    "$M_real *$M_parameters($M_model *model);\n"
    "void $M_set_learning_rate($M_model *model, double learning_rate);\n"
    "const struct NncModel *$M_descriptor(void);\n";

/* Rows go through the kernels in chunks of RT_CHUNK_ROWS, as in the
** trainer; a batch's chunk gradients add up in grads (the ABI adds). */
static const char *const api_source =
    "\n/* ==== the C API (see the header) ==== */\n\n"
    "struct $M_model {\n"
    "    nnc_real *params, *grads, *opt, *scratch, *x, *t; /* one allocation */\n"
    "    long *order;           /* fit's row order, grown as needed */\n"
    "    long order_len;\n"
    "    long step;             /* optimizer steps taken */\n"
    "    int epoch;             /* epochs fitted */\n"
    "    int adapted;           /* normalization statistics are set */\n"
    "    uint64_t seed;\n"
    "    double learning_rate;\n"
    "};\n\n"
    "static size_t $M_real_count(void) {\n"
    "    const NncModel *m = &$M_abi;\n"
    "    return (size_t)(2 * m->param_floats + m->opt_floats + m->scratch_fixed +\n"
    "                    RT_CHUNK_ROWS * (m->scratch_per_row + m->n_inputs + m->target_width));\n"
    "}\n\n"
    "$M_model *$M_create(uint64_t seed) {\n"
    "    const NncModel *m = &$M_abi;\n"
    "    $M_model *c = rt_alloc(sizeof *c, \"the model\");\n"
    "    if (!c)\n        return NULL;\n"
    "    c->params = rt_alloc(sizeof(nnc_real) * $M_real_count(), \"the model's buffers\");\n"
    "    if (!c->params) {\n        free(c);\n        return NULL;\n    }\n"
    "    c->grads = c->params + m->param_floats;\n"
    "    c->opt = c->grads + m->param_floats;\n"
    "    c->scratch = c->opt + m->opt_floats;\n"
    "    c->x = c->scratch + m->scratch_fixed + RT_CHUNK_ROWS * m->scratch_per_row;\n"
    "    c->t = c->x + RT_CHUNK_ROWS * m->n_inputs;\n"
    "    c->seed = seed;\n"
    "    c->learning_rate = m->learning_rate;\n"
    "    c->adapted = !rt_has_norm(m);\n"
    "    rt_init_params(m, seed, c->params);\n"
    "    return c;\n"
    "}\n\n"
    "void $M_free($M_model *c) {\n"
    "    if (!c)\n        return;\n"
    "    free(c->params);\n    free(c->order);\n    free(c);\n"
    "}\n\n"
    "int $M_load($M_model *c, const char *path) {\n"
    "    if (rt_weights_load(path, &$M_abi, c->params) != 0)\n        return -1;\n"
    "    c->adapted = 1;\n"
    "    return 0;\n"
    "}\n\n"
    "int $M_save(const $M_model *c, const char *path) {\n"
    "    return rt_weights_save(path, &$M_abi, c->params, NULL);\n"
    "}\n\n"
    "int $M_adapt($M_model *c, const $M_real *x, long rows) {\n"
    "    RtRows r;\n"
    "    r.x = x;\n    r.t = NULL;\n    r.rows = rows;\n    r.n_x = $M_abi.n_inputs;\n    r.n_t = 0;\n"
    "    if (rows < 1 || rt_norm_stats(&$M_abi, c->params, &r) != 0)\n        return -1;\n"
    "    c->adapted = 1;\n"
    "    return 0;\n"
    "}\n\n"
    "/* Gradient of the mean loss over rows idx[0..n) (all rows when idx is\n"
    "** NULL) into grads; returns the summed loss. */\n"
    "static double $M_gradients($M_model *c, const $M_real *x, const $M_real *t, const long *idx,\n"
    "                           long n, uint64_t drop) {\n"
    "    const NncModel *m = &$M_abi;\n"
    "    double loss = 0;\n"
    "    long first, r;\n"
    "    memset(c->grads, 0, sizeof(nnc_real) * (size_t)m->param_floats);\n"
    "    for (first = 0; first < n; first += RT_CHUNK_ROWS) {\n"
    "        long rows = n - first < RT_CHUNK_ROWS ? n - first : RT_CHUNK_ROWS;\n"
    "        const nnc_real *cx = x + first * m->n_inputs, *ct = t + first * m->target_width;\n"
    "        if (idx) {\n"
    "            for (r = 0; r < rows; r++) {\n"
    "                memcpy(c->x + r * m->n_inputs, x + idx[first + r] * m->n_inputs,\n"
    "                       sizeof(nnc_real) * (size_t)m->n_inputs);\n"
    "                memcpy(c->t + r * m->target_width, t + idx[first + r] * m->target_width,\n"
    "                       sizeof(nnc_real) * (size_t)m->target_width);\n"
    "            }\n"
    "            cx = c->x;\n            ct = c->t;\n"
    "        }\n"
    "        loss += m->forward_backward(c->params, c->grads, c->scratch, cx, ct, (int)rows,\n"
    "                                    1.0 / (double)n, drop, (uint64_t)first, NULL);\n"
    "    }\n"
    "    return loss;\n"
    "}\n\n"
    "static double $M_step($M_model *c, const $M_real *x, const $M_real *t, const long *idx, long n) {\n"
    "    const NncModel *m = &$M_abi;\n"
    "    uint64_t drop = rt_subseed(c->seed, RT_STREAM_DROPOUT, (uint64_t)c->step + 1);\n"
    "    double loss = $M_gradients(c, x, t, idx, n, drop) / (double)n;\n"
    "    loss += rt_regularization(m, c->params, c->grads);\n"
    "    c->step++;\n"
    "    m->update(c->params, c->grads, c->opt, c->step, c->learning_rate);\n"
    "    return loss;\n"
    "}\n\n"
    "static int $M_ready($M_model *c, const $M_real *x, long rows) {\n"
    "    return c->adapted || $M_adapt(c, x, rows) == 0;\n"
    "}\n\n"
    "double $M_train_batch($M_model *c, const $M_real *x, const $M_real *t, long rows) {\n"
    "    if (rows < 1 || !$M_ready(c, x, rows))\n        return NAN;\n"
    "    return $M_step(c, x, t, NULL, rows);\n"
    "}\n\n"
    "double $M_fit($M_model *c, const $M_real *x, const $M_real *t, long rows, int epochs,\n"
    "              long batch_size) {\n"
    "    double total = NAN;\n"
    "    long bs = batch_size > 0 && batch_size < rows ? batch_size : rows, b;\n"
    "    int e;\n"
    "    if (rows < 1 || !$M_ready(c, x, rows))\n        return NAN;\n"
    "    if (c->order_len < rows) {\n"
    "        long *grown = realloc(c->order, sizeof *grown * (size_t)rows);\n"
    "        if (!grown)\n            return NAN;\n"
    "        c->order = grown;\n        c->order_len = rows;\n"
    "    }\n"
    "    for (e = 0; e < epochs; e++, c->epoch++) {\n"
    "        total = 0;\n"
    "        rt_permutation(c->order, rows, c->seed, c->epoch, $M_abi.shuffle);\n"
    "        for (b = 0; b < rows; b += bs) {\n"
    "            long n = rows - b < bs ? rows - b : bs;\n"
    "            total += $M_step(c, x, t, c->order + b, n) * (double)n;\n"
    "        }\n"
    "        total /= (double)rows;\n"
    "    }\n"
    "    return total;\n"
    "}\n\n"
    "void $M_predict($M_model *c, const $M_real *x, $M_real *y, long rows) {\n"
    "    const NncModel *m = &$M_abi;\n"
    "    long first;\n"
    "    for (first = 0; first < rows; first += RT_CHUNK_ROWS) {\n"
    "        long n = rows - first < RT_CHUNK_ROWS ? rows - first : RT_CHUNK_ROWS;\n"
    "        m->predict(c->params, c->scratch, x + first * m->n_inputs, y + first * m->n_outputs, (int)n);\n"
    "    }\n"
    "}\n\n"
    "double $M_evaluate($M_model *c, const $M_real *x, const $M_real *t, long rows) {\n"
    "    const NncModel *m = &$M_abi;\n"
    "    double loss = 0;\n"
    "    long first;\n"
    "    if (rows < 1)\n        return NAN;\n"
    "    for (first = 0; first < rows; first += RT_CHUNK_ROWS) {\n"
    "        long n = rows - first < RT_CHUNK_ROWS ? rows - first : RT_CHUNK_ROWS;\n"
    "        loss += m->eval_loss(c->params, c->scratch, x + first * m->n_inputs,\n"
    "                             t + first * m->target_width, (int)n, NULL);\n"
    "    }\n"
    "    return loss / (double)rows + rt_regularization(m, c->params, c->grads);\n"
    "}\n\n"
    "$M_real *$M_parameters($M_model *c) {\n    return c->params;\n}\n\n"
    "void $M_set_learning_rate($M_model *c, double learning_rate) {\n"
    "    c->learning_rate = learning_rate;\n}\n\n"
    "const struct NncModel *$M_descriptor(void) {\n    return &$M_abi;\n}\n";

const char *cg_c_lib(const IrModule *m, const CgOptions *o) {
    Arena *a = m->arena;
    CgFile cf;
    cg_c_file_init(&cf, a, m, o);
    CgText t = {.arena = a};
    cg_c_header_comment(&cf, &t, "A C library");
    cg_c_printf(&t, "** API: %s. Build: cc -O2 -c %s.c, link with -lm.\n*/\n",
                o->header ? cg_comment(a, o->header) : "the header written with -H", cf.prefix);
    cg_c_prologue(&cf, &t);
    cg_c_put(&t, "\n/* ==== the runtime (runtime/, embedded by the build) ==== */\n");
    cg_c_put(&t, cg_runtime_text);
    if (!cg_c_model_section(&cf, &t)) return NULL;
    cg_c_put(&t, "\n#include <stdlib.h>\n#include <string.h>\n\n");
    expand(&t, api_header, cf.prefix);
    expand(&t, api_source, cf.prefix);
    return cg_c_text(&t);
}

static const char *const header_doc =
    "/*\n"
    "** Usage:\n"
    "**   $M_model *m = $M_create(seed);          initialized as the trainer would\n"
    "**   $M_fit(m, x, t, rows, epochs, batch);     x: rows x $U_INPUTS, t: rows x $U_TARGETS\n"
    "**   $M_predict(m, x, y, rows);                y: rows x $U_OUTPUTS\n"
    "**   $M_save(m, \"w.safetensors\");  $M_free(m);\n"
    "** Rows are contiguous and row-major; targets are laid out as the trainer's\n"
    "** kernels read them (a class index for sparse categorical cross-entropy,\n"
    "** one number per output otherwise). Functions returning int return 0 on\n"
    "** success and -1 after a message on stderr; doubles are NaN on failure.\n"
    "** A context is used by one thread at a time; contexts are independent.\n"
    "*/\n\n"
    "typedef $U_REAL $M_real;\n"
    "typedef struct $M_model $M_model;\n\n"
    "/* A model with fresh parameters drawn from seed (SPEC 1.4); NULL if out of memory. */\n"
    "$M_model *$M_create(uint64_t seed);\n"
    "void $M_free($M_model *model);\n"
    "/* Weights from a safetensors file of this model (normalization included). */\n"
    "int $M_load($M_model *model, const char *path);\n"
    "int $M_save(const $M_model *model, const char *path);\n"
    "/* normalize()'s statistics from rows of x; fit does it on its first call\n"
    "** unless adapt or load did. */\n"
    "int $M_adapt($M_model *model, const $M_real *x, long rows);\n"
    "/* One optimizer step on rows (one batch); returns the batch's loss. */\n"
    "double $M_train_batch($M_model *model, const $M_real *x, const $M_real *t, long rows);\n"
    "/* epochs over rows, shuffled each epoch as the trainer shuffles, in batches\n"
    "** of batch_size (0: all rows); returns the last epoch's mean loss. */\n"
    "double $M_fit($M_model *model, const $M_real *x, const $M_real *t, long rows, int epochs,\n"
    "    long batch_size);\n"
    "/* Predictions, dropout off. */\n"
    "void $M_predict($M_model *model, const $M_real *x, $M_real *y, long rows);\n"
    "/* Mean loss over rows plus regularization, dropout off. */\n"
    "double $M_evaluate($M_model *model, const $M_real *x, const $M_real *t, long rows);\n"
    "/* The parameter buffer, $U_PARAM_FLOATS numbers laid out as the\n"
    "** descriptor's parameter table says. */\n"
    "$M_real *$M_parameters($M_model *model);\n"
    "void $M_set_learning_rate($M_model *model, double learning_rate);\n"
    "/* The kernel ABI's descriptor (runtime/nnc_abi.h), for tools and tests. */\n"
    "const struct NncModel *$M_descriptor(void);\n";

static const char *const generic =
    "\n/* Generic names for tools that drive any model's library (tests). */\n"
    "#ifdef NNC_LIB_GENERIC\n"
    "#define nnc_lib_real $M_real\n#define nnc_lib_model $M_model\n#define nnc_lib_create $M_create\n"
    "#define nnc_lib_free $M_free\n#define nnc_lib_load $M_load\n#define nnc_lib_save $M_save\n"
    "#define nnc_lib_adapt $M_adapt\n#define nnc_lib_train_batch $M_train_batch\n#define nnc_lib_fit $M_fit\n"
    "#define nnc_lib_predict $M_predict\n#define nnc_lib_evaluate $M_evaluate\n"
    "#define nnc_lib_parameters $M_parameters\n#define nnc_lib_descriptor $M_descriptor\n"
    "#endif\n";

const char *cg_c_lib_header(const IrModule *m, const CgOptions *o) {
    Arena *a = m->arena;
    CgFile cf;
    cg_c_file_init(&cf, a, m, o);
    CgText t = {.arena = a};
    const char *up = cg_upper(a, cf.prefix);
    cg_c_header_comment(&cf, &t, "The C API of a library");
    cg_c_put(&t, "*/\n");
    cg_c_printf(&t, "#ifndef NNC_LIB_%s_H\n#define NNC_LIB_%s_H\n\n#include <stdint.h>\n\n", up, up);
    long params = 0;
    for (int i = 0; i < m->params.len; i++) params += (long)shape_numel(m->params.items[i].shape);
    cg_c_printf(&t, "#define %s_INPUTS %ld\n#define %s_OUTPUTS %ld\n#define %s_TARGETS %ld\n", up,
                (long)shape_numel(m->input_shape), up, (long)shape_numel(m->output_shape), up,
                cf.layout.target_width);
    cg_c_printf(&t, "#define %s_PARAMS %ld /* parameter count */\n#define %s_PARAM_FLOATS %ld\n", up, params, up,
                cf.layout.param_floats);
    cg_c_printf(&t, "#define %s_REAL %s\n", up, o->f64 ? "double" : "float");
    /* SPEC 3: the bytes `summary` reports, at the fit block's batch size
    ** and one thread, from the same plan (runtime/plan.c). */
    long fixed, per_row;
    cg_scratch(a, m, &cf.layout, o->unroll, &fixed, &per_row);
    NncModel d;
    cg_descriptor_data(a, m, &cf.layout, o, fixed, per_row, &d);
    RtPlan plan;
    rt_plan_real(&plan, &d, d.batch_size, 1, 1, o->f64 ? sizeof(double) : sizeof(float));
    cg_c_printf(&t, "/* The trainer's memory at batch size %s%.0ld, one thread, in bytes (summary) */\n",
                d.batch_size > 0 ? "" : "all", d.batch_size > 0 ? (long)d.batch_size : 0L);
    cg_c_printf(&t, "#define %s_BATCH_SIZE %ld /* 0: all rows */\n", up, (long)d.batch_size);
    cg_c_printf(&t, "#define %s_PARAM_BYTES %zu\n#define %s_GRAD_BYTES %zu\n#define %s_OPT_BYTES %zu\n", up,
                plan.params, up, plan.grads, up, plan.opt);
    cg_c_printf(&t, "#define %s_ACTIVATION_BYTES %zu\n#define %s_BATCH_BUFFER_BYTES %zu\n", up, plan.scratch,
                up, plan.io);
    cg_c_printf(&t, "#define %s_BEST_BYTES %zu\n#define %s_TRAIN_BYTES %zu /* all of them, one allocation */\n\n",
                up, plan.best, up, plan.total);
    expand(&t, header_doc, cf.prefix);
    expand(&t, generic, cf.prefix);
    cg_c_printf(&t, "\n#endif\n");
    return cg_c_text(&t);
}
