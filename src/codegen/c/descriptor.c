/*
** descriptor.c — the NncModel of a generated file (runtime/nnc_abi.h) as C
** text: the parameter table with initializers and fans (SPEC 1.4), the
** summary's layers, sizes, compile and fit settings, and the kernels.
** The data is cg_descriptor_data's (descriptor_data.c), the one producer
** of a model's descriptor; this file only prints it. Every name is a
** string literal made by cg_string.
*/
#include "cgen.h"


/* The ABI's enums by value, as C names (runtime/nnc_abi.h). */
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
static const char *const cb_names[] = {"NNC_CB_EARLY_STOPPING", "NNC_CB_MODEL_CHECKPOINT",
                                       "NNC_CB_REDUCE_LR_ON_PLATEAU"};
static const char *const mode_names[] = {"NNC_MODE_AUTO", "NNC_MODE_MIN", "NNC_MODE_MAX"};
static const char *const target_names[] = {"NNC_TARGET_DENSE", "NNC_TARGET_CLASS_INDEX",
                                           "NNC_TARGET_ONE_HOT"};

static const char *dims(Arena *a, int rank, const int *d) {
    if (rank == 0) return "{0}";
    const char *t = "{";
    for (int i = 0; i < rank; i++) t = arena_printf(a, "%s%s%d", t, i ? ", " : "", d[i]);
    return arena_printf(a, "%s}", t);
}

static const char *str(Arena *a, const char *s) {
    return s ? cg_string(a, s) : "NULL";
}

static void params(CgFile *cf, const NncModel *d, CgText *out) {
    Arena *a = cf->arena;
    if (!d->n_params) return;
    cg_c_printf(out, "\n/* name, rank, dims, offset, size, init, init_a, init_b, fan_in, fan_out, role,\n"
                     "** trainable */\nstatic const NncParam %s_params[%d] = {\n", cf->prefix, d->n_params);
    for (int i = 0; i < d->n_params; i++) {
        const NncParam *p = &d->params[i];
        cg_c_printf(out, "    {%s, %d, %s, %ldL, %ldL, %s, %s, %s, %ldL, %ldL, %s, %d},\n", cg_string(a, p->name),
                    p->rank, dims(a, p->rank, p->dims), p->offset, p->size, init_names[p->init],
                    cg_c_double(a, p->init_a), cg_c_double(a, p->init_b), p->fan_in, p->fan_out,
                    role_names[p->role], p->trainable);
    }
    cg_c_put(out, "};\n");
}

static void layers(CgFile *cf, const NncModel *d, CgText *out) {
    Arena *a = cf->arena;
    if (!d->n_layers) return;
    cg_c_printf(out, "\n/* name, kind, rank, output dims, parameters */\n"
                     "static const NncLayer %s_layers[%d] = {\n", cf->prefix, d->n_layers);
    for (int i = 0; i < d->n_layers; i++) {
        const NncLayer *l = &d->layers[i];
        cg_c_printf(out, "    {%s, %s, %d, %s, %ldL},\n", cg_string(a, l->name), cg_string(a, l->kind), l->rank,
                    dims(a, l->rank, l->dims), l->params);
    }
    cg_c_put(out, "};\n");
}

static void metrics(CgFile *cf, const NncModel *d, CgText *out) {
    if (!d->n_metrics) return;
    cg_c_printf(out, "\nstatic const int %s_metrics[%d] = {", cf->prefix, d->n_metrics);
    for (int i = 0; i < d->n_metrics; i++) cg_c_printf(out, "%s%s", i ? ", " : "", metric_enums[d->metrics[i]]);
    cg_c_printf(out, "};\nstatic const char *const %s_metric_names[%d] = {", cf->prefix, d->n_metrics);
    for (int i = 0; i < d->n_metrics; i++) cg_c_printf(out, "%s%s", i ? ", " : "", cg_string(cf->arena, d->metric_names[i]));
    cg_c_put(out, "};\n");
}

static void callbacks(CgFile *cf, const NncModel *d, CgText *out) {
    Arena *a = cf->arena;
    if (!d->n_callbacks) return;
    cg_c_printf(out, "\n/* kind, monitor, mode, min_delta, factor, min_lr, patience,\n"
                     "** restore_best_weights, save_best_only, path */\n"
                     "static const NncCallback %s_callbacks[%d] = {\n", cf->prefix, d->n_callbacks);
    for (int i = 0; i < d->n_callbacks; i++) {
        const NncCallback *c = &d->callbacks[i];
        cg_c_printf(out, "    {%s, %s, %s, %s, %s, %s, %d, %d, %d, %s},\n", cb_names[c->kind], str(a, c->monitor),
                    mode_names[c->mode], cg_c_double(a, c->min_delta), cg_c_double(a, c->factor),
                    cg_c_double(a, c->min_lr), c->patience, c->restore_best_weights, c->save_best_only,
                    str(a, c->path));
    }
    cg_c_put(out, "};\n");
}

static const char *table(CgFile *cf, int count, const char *what) {
    return count ? arena_printf(cf->arena, "%s_%s", cf->prefix, what) : "NULL";
}

/* real_bytes is written as sizeof(nnc_real): the file's scalar type is
** the compiler's to decide (NNC_F64). */
static void model(CgFile *cf, const NncModel *d, bool reg, CgText *out) {
    Arena *a = cf->arena;
    const char *p = cf->prefix;
    cg_c_printf(out, "\nstatic const NncModel %s_abi = {\n", p);
    cg_c_printf(out, "    .abi_version = NNC_ABI_VERSION,\n    .name = %s,\n", cg_string(a, d->name));
    cg_c_printf(out, "    .nnc_version = %s,\n    .source_sha256 = %s,\n    .signature = %s,\n",
                cg_string(a, d->nnc_version), cg_string(a, d->source_sha256), cg_string(a, d->signature));
    cg_c_put(out, "    .real_bytes = (int)sizeof(nnc_real),\n");
    cg_c_printf(out, "    .input_rank = %d,\n    .input_dims = %s,\n    .n_inputs = %ldL,\n", d->input_rank,
                dims(a, d->input_rank, d->input_dims), d->n_inputs);
    cg_c_printf(out, "    .output_rank = %d,\n    .output_dims = %s,\n    .n_outputs = %ldL,\n", d->output_rank,
                dims(a, d->output_rank, d->output_dims), d->n_outputs);
    cg_c_printf(out, "    .target_kind = %s,\n    .target_width = %ldL,\n", target_names[d->target_kind],
                d->target_width);
    cg_c_printf(out, "    .n_params = %d,\n    .params = %s,\n    .param_floats = %ldL,\n    .opt_floats = %ldL,\n",
                d->n_params, table(cf, d->n_params, "params"), d->param_floats, d->opt_floats);
    cg_c_printf(out, "    .scratch_per_row = %ldL,\n    .scratch_fixed = %ldL,\n", d->scratch_per_row,
                d->scratch_fixed);
    cg_c_printf(out, "    .n_layers = %d,\n    .layers = %s,\n", d->n_layers, table(cf, d->n_layers, "layers"));
    cg_c_printf(out, "    .loss = %s,\n    .optimizer = %s,\n    .learning_rate = %s,\n", loss_names[d->loss],
                opt_names[d->optimizer], cg_c_double(a, d->learning_rate));
    cg_c_printf(out, "    .n_metrics = %d,\n    .metrics = %s,\n", d->n_metrics, table(cf, d->n_metrics, "metrics"));
    cg_c_printf(out, "    .epochs = %d,\n    .batch_size = %d,\n    .validation_split = %s,\n", d->epochs,
                d->batch_size, cg_c_double(a, d->validation_split));
    cg_c_printf(out, "    .shuffle = %d,\n    .seed = UINT64_C(%llu),\n    .verbose = %d,\n", d->shuffle,
                (unsigned long long)d->seed, d->verbose);
    cg_c_printf(out, "    .n_callbacks = %d,\n    .callbacks = %s,\n", d->n_callbacks,
                table(cf, d->n_callbacks, "callbacks"));
    cg_c_printf(out, "    .predict = %s_predict_kernel,\n    .forward_backward = %s_forward_backward,\n", p, p);
    cg_c_printf(out, "    .regularize = %s%s,\n", reg ? p : "NULL", reg ? "_regularize" : "");
    cg_c_printf(out, "    .update = %s_update,\n    .eval_loss = %s_eval_loss,\n", p, p);
    cg_c_printf(out, "    .metric_names = %s,\n    .flops = {", table(cf, d->n_metrics, "metric_names"));
    for (int i = 0; i < 10; i++) cg_c_printf(out, "%s%s", i ? ", " : "", cg_c_double(cf->arena, d->flops[i]));
    cg_c_printf(out, "},\n    .update_whole_range = %d,\n};\n", d->update_whole_range);
}

void cg_c_descriptor(CgFile *cf, CgText *out) {
    const NncModel *d = &cf->model->desc;
    /* The kernels are this file's functions; regularize is NULL when the
    ** model has no regularizer (the lowering makes no kernel). */
    bool reg = cf->model->kernel[LK_REGULARIZE] != NULL;
    cg_c_put(out, "\n/* ---- the descriptor: what the runtime knows of this model ---- */\n");
    params(cf, d, out);
    layers(cf, d, out);
    metrics(cf, d, out);
    callbacks(cf, d, out);
    model(cf, d, reg, out);
}
