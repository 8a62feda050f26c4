/*
** descriptor.c — the NncModel of a generated file (runtime/nnc_abi.h):
** the parameter table with initializers and fans (SPEC 1.4), the summary's
** layers, sizes, compile and fit settings, and the kernels. Every name is
** a string literal made by cg_string.
*/
#include "cgen.h"

#include "nnc_abi.h"

/* The ABI's enums mirror ir.h's by value; the descriptor writes the IR's. */
_Static_assert(NNC_INIT_LECUN_NORMAL == (int)INIT_LECUN_NORMAL && NNC_INIT_CONSTANT == (int)INIT_CONSTANT,
               "InitKind and NNC_INIT_* differ");
_Static_assert(NNC_LOSS_CUSTOM == (int)LOSS_CUSTOM && NNC_LOSS_KLD == (int)LOSS_KLD,
               "LossKind and NNC_LOSS_* differ");
_Static_assert(NNC_OPT_ADAMW == (int)OPT_ADAMW && NNC_OPT_ADAM == (int)OPT_ADAM, "OptKind and NNC_OPT_* differ");
_Static_assert(NNC_MET_RECALL == (int)MET_RECALL && NNC_MET_MAE == (int)MET_MAE,
               "MetricKind and NNC_MET_* differ");
_Static_assert(NNC_CB_REDUCE_LR_ON_PLATEAU == (int)CB_REDUCE_LR_ON_PLATEAU, "CallbackKind differs");
_Static_assert(NNC_MODE_MAX == (int)MODE_MAX, "MonitorMode differs");
_Static_assert(NNC_ROLE_NORM_VARIANCE == (int)ROLE_NORM_VARIANCE, "ParamRole differs");

static const char *const init_names[] = {
    "NNC_INIT_ZEROS", "NNC_INIT_ONES", "NNC_INIT_CONSTANT", "NNC_INIT_RANDOM_NORMAL",
    "NNC_INIT_RANDOM_UNIFORM", "NNC_INIT_TRUNCATED_NORMAL", "NNC_INIT_GLOROT_UNIFORM",
    "NNC_INIT_GLOROT_NORMAL", "NNC_INIT_HE_UNIFORM", "NNC_INIT_HE_NORMAL",
    "NNC_INIT_LECUN_UNIFORM", "NNC_INIT_LECUN_NORMAL"};
static const char *const role_names[] = {"NNC_ROLE_WEIGHT", "NNC_ROLE_NORM_MIN", "NNC_ROLE_NORM_MAX",
                                         "NNC_ROLE_NORM_MEAN", "NNC_ROLE_NORM_VARIANCE"};
static const char *const loss_names[] = {
    "NNC_LOSS_MSE", "NNC_LOSS_MAE", "NNC_LOSS_MSLE", "NNC_LOSS_BINARY_CE", "NNC_LOSS_HINGE",
    "NNC_LOSS_SQUARED_HINGE", "NNC_LOSS_CATEGORICAL_CE", "NNC_LOSS_SPARSE_CATEGORICAL_CE",
    "NNC_LOSS_KLD", "NNC_LOSS_CUSTOM"};
static const char *const opt_names[] = {"NNC_OPT_SGD", "NNC_OPT_RMSPROP", "NNC_OPT_ADAGRAD",
                                        "NNC_OPT_ADADELTA", "NNC_OPT_ADAM", "NNC_OPT_ADAMAX",
                                        "NNC_OPT_ADAMW"};
static const char *const metric_enums[] = {
    "NNC_MET_ACCURACY", "NNC_MET_BINARY_ACCURACY", "NNC_MET_CATEGORICAL_ACCURACY",
    "NNC_MET_SPARSE_CATEGORICAL_ACCURACY", "NNC_MET_MAE", "NNC_MET_MSE", "NNC_MET_PRECISION",
    "NNC_MET_RECALL"};
/* As the user wrote them, shown in logs: SPEC 1.10's names. */
static const char *const metric_names[] = {"accuracy", "binary_accuracy", "categorical_accuracy",
                                           "sparse_categorical_accuracy", "mae", "mse",
                                           "precision", "recall"};
static const char *const cb_names[] = {"NNC_CB_EARLY_STOPPING", "NNC_CB_MODEL_CHECKPOINT",
                                       "NNC_CB_REDUCE_LR_ON_PLATEAU"};
static const char *const mode_names[] = {"NNC_MODE_AUTO", "NNC_MODE_MIN", "NNC_MODE_MAX"};
static const char *const target_names[] = {"NNC_TARGET_DENSE", "NNC_TARGET_CLASS_INDEX",
                                           "NNC_TARGET_ONE_HOT"};

static const char *dims(Arena *a, Shape s) {
    if (s.rank == 0) return "{0}";
    const char *t = "{";
    for (int i = 0; i < s.rank; i++) t = arena_printf(a, "%s%s%d", t, i ? ", " : "", s.dim[i]);
    return arena_printf(a, "%s}", t);
}

static void params(CgFile *cf, CgText *out) {
    const IrModule *m = cf->m;
    Arena *a = cf->arena;
    if (!m->params.len) return;
    cg_c_printf(out, "\n/* name, rank, dims, offset, size, init, init_a, init_b, fan_in, fan_out, role,\n"
                     "** trainable */\nstatic const NncParam %s_params[%d] = {\n", cf->prefix, m->params.len);
    for (int i = 0; i < m->params.len; i++) {
        const IrParam *p = &m->params.items[i];
        long fan_in, fan_out;
        cg_fans(p->shape, &fan_in, &fan_out);
        cg_c_printf(out, "    {%s, %d, %s, %ldL, %ldL, %s, %s, %s, %ldL, %ldL, %s, %d},\n",
                    cg_string(a, p->name), p->shape.rank, dims(a, p->shape), cf->layout.param_off[i],
                    (long)shape_numel(p->shape), init_names[p->init.kind], cg_c_double(a, p->init.a),
                    cg_c_double(a, p->init.b), fan_in, fan_out, role_names[p->role], p->trainable);
    }
    cg_c_put(out, "};\n");
}

static void layers(CgFile *cf, CgText *out) {
    const IrModule *m = cf->m;
    Arena *a = cf->arena;
    if (!m->layers.len) return;
    cg_c_printf(out, "\n/* name, kind, rank, output dims, parameters */\n"
                     "static const NncLayer %s_layers[%d] = {\n", cf->prefix, m->layers.len);
    for (int i = 0; i < m->layers.len; i++) {
        const IrLayer *l = &m->layers.items[i];
        cg_c_printf(out, "    {%s, %s, %d, %s, %ldL},\n", cg_string(a, l->name), cg_string(a, l->kind),
                    l->out.rank, dims(a, l->out), (long)l->nparams);
    }
    cg_c_put(out, "};\n");
}

static void metrics(CgFile *cf, CgText *out) {
    const IrModule *m = cf->m;
    if (!m->metrics.len) return;
    cg_c_printf(out, "\nstatic const int %s_metrics[%d] = {", cf->prefix, m->metrics.len);
    for (int i = 0; i < m->metrics.len; i++)
        cg_c_printf(out, "%s%s", i ? ", " : "", metric_enums[cg_metric(m, m->metrics.items[i])]);
    cg_c_printf(out, "};\nstatic const char *const %s_metric_names[%d] = {", cf->prefix, m->metrics.len);
    for (int i = 0; i < m->metrics.len; i++)
        cg_c_printf(out, "%s\"%s\"", i ? ", " : "", metric_names[m->metrics.items[i]]);
    cg_c_put(out, "};\n");
}

static void callbacks(CgFile *cf, CgText *out) {
    const IrModule *m = cf->m;
    Arena *a = cf->arena;
    if (!m->fit.callbacks.len) return;
    cg_c_printf(out, "\n/* kind, monitor, mode, min_delta, factor, min_lr, patience,\n"
                     "** restore_best_weights, save_best_only, path */\n"
                     "static const NncCallback %s_callbacks[%d] = {\n", cf->prefix, m->fit.callbacks.len);
    for (int i = 0; i < m->fit.callbacks.len; i++) {
        const IrCallback *c = &m->fit.callbacks.items[i];
        cg_c_printf(out, "    {%s, %s, %s, %s, %s, %s, %d, %d, %d, %s},\n", cb_names[c->kind],
                    c->monitor ? cg_string(a, c->monitor) : "NULL", mode_names[c->mode],
                    cg_c_double(a, c->min_delta), cg_c_double(a, c->factor), cg_c_double(a, c->min_lr),
                    c->patience, c->restore_best_weights, c->save_best_only,
                    c->path ? cg_string(a, c->path) : "NULL");
    }
    cg_c_put(out, "};\n");
}

static const char *table(CgFile *cf, int count, const char *what) {
    return count ? arena_printf(cf->arena, "%s_%s", cf->prefix, what) : "NULL";
}

static void model(CgFile *cf, CgText *out) {
    const IrModule *m = cf->m;
    const CgOptions *o = cf->o;
    Arena *a = cf->arena;
    const char *p = cf->prefix;
    bool reg = m->regularize && m->regularize->outputs.len;
    cg_c_printf(out, "\nstatic const NncModel %s_abi = {\n", p);
    cg_c_printf(out, "    .abi_version = NNC_ABI_VERSION,\n    .name = %s,\n", cg_string(a, m->name));
    cg_c_printf(out, "    .nnc_version = \"%s\",\n    .source_sha256 = \"%s\",\n    .signature = \"%s\",\n",
                NNC_VERSION, o->source_sha256 ? o->source_sha256 : "", cf->layout.signature);
    cg_c_put(out, "    .real_bytes = (int)sizeof(nnc_real),\n");
    cg_c_printf(out, "    .input_rank = %d,\n    .input_dims = %s,\n    .n_inputs = %ldL,\n",
                m->input_shape.rank, dims(a, m->input_shape), (long)shape_numel(m->input_shape));
    cg_c_printf(out, "    .output_rank = %d,\n    .output_dims = %s,\n    .n_outputs = %ldL,\n",
                m->output_shape.rank, dims(a, m->output_shape), (long)shape_numel(m->output_shape));
    cg_c_printf(out, "    .target_kind = %s,\n    .target_width = %ldL,\n", target_names[cf->layout.target_kind],
                cf->layout.target_width);
    cg_c_printf(out, "    .n_params = %d,\n    .params = %s,\n    .param_floats = %ldL,\n    .opt_floats = %ldL,\n",
                m->params.len, table(cf, m->params.len, "params"), cf->layout.param_floats,
                cf->layout.opt_floats);
    cg_c_printf(out, "    .scratch_per_row = %ldL,\n    .scratch_fixed = %ldL,\n", cf->scratch_per_row,
                cf->scratch_fixed);
    cg_c_printf(out, "    .n_layers = %d,\n    .layers = %s,\n", m->layers.len, table(cf, m->layers.len, "layers"));
    cg_c_printf(out, "    .loss = %s,\n    .optimizer = %s,\n    .learning_rate = %s,\n", loss_names[m->loss],
                opt_names[m->optimizer.kind], cg_c_double(a, m->optimizer.learning_rate));
    cg_c_printf(out, "    .n_metrics = %d,\n    .metrics = %s,\n", m->metrics.len, table(cf, m->metrics.len, "metrics"));
    cg_c_printf(out, "    .epochs = %d,\n    .batch_size = %d,\n    .validation_split = %s,\n", m->fit.epochs,
                m->fit.batch_size, cg_c_double(a, m->fit.validation_split));
    cg_c_printf(out, "    .shuffle = %d,\n    .seed = UINT64_C(%llu),\n    .verbose = %d,\n", m->fit.shuffle,
                (unsigned long long)m->fit.seed, m->fit.verbose);
    cg_c_printf(out, "    .n_callbacks = %d,\n    .callbacks = %s,\n", m->fit.callbacks.len,
                table(cf, m->fit.callbacks.len, "callbacks"));
    cg_c_printf(out, "    .predict = %s_predict_kernel,\n    .forward_backward = %s_forward_backward,\n", p, p);
    cg_c_printf(out, "    .regularize = %s%s,\n", reg ? p : "NULL", reg ? "_regularize" : "");
    cg_c_printf(out, "    .update = %s_update,\n    .eval_loss = %s_eval_loss,\n", p, p);
    cg_c_printf(out, "    .metric_names = %s,\n};\n", table(cf, m->metrics.len, "metric_names"));
}

void cg_c_descriptor(CgFile *cf, CgText *out) {
    cg_c_put(out, "\n/* ---- the descriptor: what the runtime knows of this model ---- */\n");
    params(cf, out);
    layers(cf, out);
    metrics(cf, out);
    callbacks(cf, out);
    model(cf, out);
}
