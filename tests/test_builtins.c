/*
** test_builtins.c — the signature table (src/frontend/builtins.c): every
** name of SPEC 1.4-1.10 with its kind and id, Keras defaults and SPEC 1.11
** ranges, the invariants the checker relies on, did-you-mean, signatures
** and listings.
*/
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

/* Op names straight from ops.def, so this file does not need ir/ops.c. */
static const char *const op_text[OP_COUNT] = {
#define OP(name, text, arity, flags) [OP_##name] = text,
#include "ir/ops.def"
#undef OP
};

static bool is_setting(BuiltinKind k) { return k == BK_COMPILE_SETTING || k == BK_FIT_SETTING; }

/* ---- every name of the SPEC, with kind and id ---- */

typedef struct Expect {
    const char *name;
    BuiltinKind kind;
    int id;
} Expect;

static const Expect spec_names[] = {
    /* SPEC 1.5 layers */
    {"dense", BK_LAYER, LAYER_DENSE}, {"dropout", BK_LAYER, LAYER_DROPOUT},
    {"flatten", BK_LAYER, LAYER_FLATTEN}, {"reshape", BK_LAYER, LAYER_RESHAPE},
    {"activation", BK_LAYER, LAYER_ACTIVATION}, {"normalize", BK_LAYER, LAYER_NORMALIZE},
    /* SPEC 1.7 activations */
    {"linear", BK_ACTIVATION, -1}, {"step", BK_ACTIVATION, OP_STEP},
    {"sigmoid", BK_ACTIVATION, OP_SIGMOID}, {"tanh", BK_ACTIVATION, OP_TANH},
    {"relu", BK_ACTIVATION, OP_RELU}, {"leaky_relu", BK_ACTIVATION, OP_LEAKY_RELU},
    {"softmax", BK_ACTIVATION, OP_SOFTMAX}, {"elu", BK_ACTIVATION, OP_ELU},
    {"selu", BK_ACTIVATION, OP_SELU}, {"softplus", BK_ACTIVATION, OP_SOFTPLUS},
    {"softsign", BK_ACTIVATION, OP_SOFTSIGN}, {"swish", BK_ACTIVATION, OP_SWISH},
    {"gelu", BK_ACTIVATION, OP_GELU},
    /* SPEC 1.6 functions */
    {"exp", BK_FUNCTION, OP_EXP}, {"log", BK_FUNCTION, OP_LOG}, {"sqrt", BK_FUNCTION, OP_SQRT},
    {"abs", BK_FUNCTION, OP_ABS}, {"square", BK_FUNCTION, OP_SQUARE},
    {"pow", BK_FUNCTION, FN_POW}, {"minimum", BK_FUNCTION, FN_MINIMUM},
    {"maximum", BK_FUNCTION, FN_MAXIMUM}, {"zeros", BK_FUNCTION, FN_ZEROS},
    {"ones", BK_FUNCTION, FN_ONES}, {"fill", BK_FUNCTION, FN_FILL},
    {"sum", BK_FUNCTION, FN_SUM}, {"mean", BK_FUNCTION, FN_MEAN}, {"max", BK_FUNCTION, FN_MAX},
    {"logsumexp", BK_FUNCTION, FN_LOGSUMEXP}, {"reshape", BK_FUNCTION, FN_RESHAPE},
    {"transpose", BK_FUNCTION, FN_TRANSPOSE}, {"matmul", BK_FUNCTION, FN_MATMUL},
    {"dot", BK_FUNCTION, FN_DOT},
    /* SPEC 1.8 losses and aliases */
    {"mean_squared_error", BK_LOSS, LOSS_MSE}, {"mse", BK_LOSS, LOSS_MSE},
    {"mean_absolute_error", BK_LOSS, LOSS_MAE}, {"mae", BK_LOSS, LOSS_MAE},
    {"mean_squared_logarithmic_error", BK_LOSS, LOSS_MSLE}, {"msle", BK_LOSS, LOSS_MSLE},
    {"binary_crossentropy", BK_LOSS, LOSS_BINARY_CE}, {"hinge", BK_LOSS, LOSS_HINGE},
    {"squared_hinge", BK_LOSS, LOSS_SQUARED_HINGE},
    {"categorical_crossentropy", BK_LOSS, LOSS_CATEGORICAL_CE},
    {"sparse_categorical_crossentropy", BK_LOSS, LOSS_SPARSE_CATEGORICAL_CE},
    {"kl_divergence", BK_LOSS, LOSS_KLD}, {"kld", BK_LOSS, LOSS_KLD},
    /* SPEC 1.9 optimizers */
    {"sgd", BK_OPTIMIZER, OPT_SGD}, {"rmsprop", BK_OPTIMIZER, OPT_RMSPROP},
    {"adagrad", BK_OPTIMIZER, OPT_ADAGRAD}, {"adadelta", BK_OPTIMIZER, OPT_ADADELTA},
    {"adam", BK_OPTIMIZER, OPT_ADAM}, {"adamax", BK_OPTIMIZER, OPT_ADAMAX},
    {"adamw", BK_OPTIMIZER, OPT_ADAMW},
    /* SPEC 1.4 initializers */
    {"zeros", BK_INITIALIZER, INIT_ZEROS}, {"ones", BK_INITIALIZER, INIT_ONES},
    {"constant", BK_INITIALIZER, INIT_CONSTANT}, {"random_normal", BK_INITIALIZER, INIT_RANDOM_NORMAL},
    {"random_uniform", BK_INITIALIZER, INIT_RANDOM_UNIFORM},
    {"truncated_normal", BK_INITIALIZER, INIT_TRUNCATED_NORMAL},
    {"glorot_uniform", BK_INITIALIZER, INIT_GLOROT_UNIFORM},
    {"glorot_normal", BK_INITIALIZER, INIT_GLOROT_NORMAL},
    {"he_uniform", BK_INITIALIZER, INIT_HE_UNIFORM}, {"he_normal", BK_INITIALIZER, INIT_HE_NORMAL},
    {"lecun_uniform", BK_INITIALIZER, INIT_LECUN_UNIFORM},
    {"lecun_normal", BK_INITIALIZER, INIT_LECUN_NORMAL},
    /* SPEC 1.5 regularizers */
    {"l1", BK_REGULARIZER, REG_L1}, {"l2", BK_REGULARIZER, REG_L2}, {"l1_l2", BK_REGULARIZER, REG_L1_L2},
    /* SPEC 1.10 metrics */
    {"accuracy", BK_METRIC, MET_ACCURACY}, {"binary_accuracy", BK_METRIC, MET_BINARY_ACCURACY},
    {"categorical_accuracy", BK_METRIC, MET_CATEGORICAL_ACCURACY},
    {"sparse_categorical_accuracy", BK_METRIC, MET_SPARSE_CATEGORICAL_ACCURACY},
    {"mae", BK_METRIC, MET_MAE}, {"mean_absolute_error", BK_METRIC, MET_MAE},
    {"mse", BK_METRIC, MET_MSE}, {"mean_squared_error", BK_METRIC, MET_MSE},
    {"precision", BK_METRIC, MET_PRECISION}, {"recall", BK_METRIC, MET_RECALL},
    /* SPEC 1.10 callbacks */
    {"early_stopping", BK_CALLBACK, CB_EARLY_STOPPING},
    {"model_checkpoint", BK_CALLBACK, CB_MODEL_CHECKPOINT},
    {"reduce_lr_on_plateau", BK_CALLBACK, CB_REDUCE_LR_ON_PLATEAU},
    /* SPEC 1.10 settings */
    {"loss", BK_COMPILE_SETTING, SET_LOSS}, {"optimizer", BK_COMPILE_SETTING, SET_OPTIMIZER},
    {"metrics", BK_COMPILE_SETTING, SET_METRICS},
    {"epochs", BK_FIT_SETTING, SET_EPOCHS}, {"batch_size", BK_FIT_SETTING, SET_BATCH_SIZE},
    {"validation_split", BK_FIT_SETTING, SET_VALIDATION_SPLIT}, {"shuffle", BK_FIT_SETTING, SET_SHUFFLE},
    {"seed", BK_FIT_SETTING, SET_SEED}, {"verbose", BK_FIT_SETTING, SET_VERBOSE},
    {"callbacks", BK_FIT_SETTING, SET_CALLBACKS},
    /* SPEC 1.5 normalize(), 1.10 early_stopping(mode = ...) */
    {"minmax", BK_NORMALIZATION, NORM_MINMAX}, {"standard", BK_NORMALIZATION, NORM_STANDARD},
    {"auto", BK_MONITOR_MODE, MODE_AUTO}, {"min", BK_MONITOR_MODE, MODE_MIN},
    {"max", BK_MONITOR_MODE, MODE_MAX},
};
#define NSPEC ((int)(sizeof spec_names / sizeof spec_names[0]))

Test(builtins, every_spec_name_has_its_kind_and_id) {
    for (int i = 0; i < NSPEC; i++) {
        const Expect *e = &spec_names[i];
        const Builtin *b = builtin_find(e->name, e->kind);
        cr_assert_not_null(b, "%s (%s) missing", e->name, builtin_kind_name(e->kind));
        cr_expect_str_eq(b->name, e->name);
        cr_expect_eq(b->kind, e->kind, "%s", e->name);
        cr_expect_eq(b->id, e->id, "%s: id %d, expected %d", e->name, b->id, e->id);
    }
}

/* The table holds the SPEC's names and nothing else, so listings show no
** stray entry. */
Test(builtins, table_is_exactly_the_spec) {
    cr_expect_eq(builtin_count(), NSPEC);
    for (int i = 0; i < builtin_count(); i++) {
        const Builtin *b = builtin_at(i);
        bool found = false;
        for (int j = 0; j < NSPEC && !found; j++)
            found = spec_names[j].kind == b->kind && strcmp(spec_names[j].name, b->name) == 0;
        cr_expect(found, "%s (%s) is not in the SPEC", b->name, builtin_kind_name(b->kind));
    }
}

Test(builtins, every_enum_member_is_reachable) {
    struct { BuiltinKind kind; int count; } kinds[] = {
        {BK_LAYER, LAYER_NORMALIZE + 1}, {BK_LOSS, LOSS_CUSTOM}, /* custom has no name */
        {BK_OPTIMIZER, OPT_ADAMW + 1}, {BK_INITIALIZER, INIT_LECUN_NORMAL + 1},
        {BK_REGULARIZER, REG_L1_L2 + 1}, {BK_METRIC, MET_RECALL + 1},
        {BK_CALLBACK, CB_REDUCE_LR_ON_PLATEAU + 1}, {BK_NORMALIZATION, NORM_STANDARD + 1},
        {BK_MONITOR_MODE, MODE_MAX + 1},
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        for (int id = 0; id < kinds[k].count; id++) {
            bool found = false;
            for (int i = 0; i < builtin_count() && !found; i++)
                found = builtin_at(i)->kind == kinds[k].kind && builtin_at(i)->id == id;
            cr_expect(found, "%s id %d has no entry", builtin_kind_name(kinds[k].kind), id);
        }
    for (int id = SET_LOSS; id <= SET_CALLBACKS; id++) {
        bool found = false;
        for (int i = 0; i < builtin_count() && !found; i++)
            found = is_setting(builtin_at(i)->kind) && builtin_at(i)->id == id;
        cr_expect(found, "setting id %d has no entry", id);
    }
    for (int id = FN_ZEROS; id <= FN_MAXIMUM; id++) {
        bool found = false;
        for (int i = 0; i < builtin_count() && !found; i++)
            found = builtin_at(i)->kind == BK_FUNCTION && builtin_at(i)->id == id;
        cr_expect(found, "function id %d has no entry", id);
    }
}

/* An activation or element-wise function named by its Op has the Op's name. */
Test(builtins, op_ids_match_ops_def) {
    for (int i = 0; i < builtin_count(); i++) {
        const Builtin *b = builtin_at(i);
        if (b->kind != BK_ACTIVATION && b->kind != BK_FUNCTION) continue;
        if (b->id < 0 || b->id >= FN_ZEROS) continue; /* linear, FunctionId */
        cr_assert_lt(b->id, OP_COUNT, "%s", b->name);
        cr_expect_str_eq(op_text[b->id], b->name);
    }
}

/* ---- lookups ---- */

Test(builtins, find_is_exact) {
    cr_expect_null(builtin_find("Dense", BK_LAYER));
    cr_expect_null(builtin_find("relu", BK_LAYER));
    cr_expect_null(builtin_find("", BK_LAYER));
    cr_expect_null(builtin_find(NULL, BK_LAYER));
    cr_expect_null(builtin_find("custom", BK_LOSS));
    cr_expect_null(builtin_find_any("nosuchthing"));
    cr_expect_null(builtin_find_any(NULL));
}

/* Names of several kinds resolve to the earliest kind of the table. */
Test(builtins, find_any_prefers_table_order) {
    cr_expect_eq(builtin_find_any("reshape")->kind, BK_LAYER);
    cr_expect_eq(builtin_find_any("relu")->kind, BK_ACTIVATION);
    cr_expect_eq(builtin_find_any("zeros")->kind, BK_FUNCTION);
    cr_expect_eq(builtin_find_any("max")->kind, BK_FUNCTION);
    cr_expect_eq(builtin_find_any("mse")->kind, BK_LOSS);
    cr_expect_eq(builtin_find_any("mean_absolute_error")->kind, BK_LOSS);
    cr_expect_eq(builtin_find_any("glorot_uniform")->kind, BK_INITIALIZER);
    cr_expect_eq(builtin_find_any("min")->kind, BK_MONITOR_MODE);
    cr_expect_eq(builtin_find_any("epochs")->kind, BK_FIT_SETTING);
}

Test(builtins, at_and_count) {
    cr_expect_gt(builtin_count(), 100);
    cr_expect_null(builtin_at(-1));
    cr_expect_null(builtin_at(builtin_count()));
    cr_expect_str_eq(builtin_at(0)->name, "dense");
}

Test(builtins, kind_names) {
    static const char *const want[BK_COUNT] = {
        "layer", "activation", "function", "loss", "optimizer", "initializer", "regularizer",
        "metric", "callback", "compile setting", "fit setting", "normalization", "mode",
    };
    for (int k = 0; k < BK_COUNT; k++) cr_expect_str_eq(builtin_kind_name((BuiltinKind)k), want[k]);
}

Test(builtins, param_index) {
    const Builtin *dense = builtin_find("dense", BK_LAYER);
    cr_expect_eq(builtin_param_index(dense, "units"), 0);
    cr_expect_eq(builtin_param_index(dense, "activation"), 1);
    cr_expect_eq(builtin_param_index(dense, "name"), 7);
    cr_expect_eq(builtin_param_index(dense, "unit"), -1);
    cr_expect_eq(builtin_param_index(dense, NULL), -1);
    cr_expect_eq(builtin_param_index(NULL, "units"), -1);
    cr_expect_eq(builtin_param_index(builtin_find("adamw", BK_OPTIMIZER), "weight_decay"), 1);
    cr_expect_eq(builtin_param_index(builtin_find("mse", BK_LOSS), "x"), -1);
    cr_expect_eq(builtin_param_index(builtin_find("leaky_relu", BK_ACTIVATION), "alpha"), 1);
}

/* ---- defaults and ranges of a sample (SPEC 1.5, 1.9, 1.10, 1.11) ---- */

static const ParamSig *param(const char *name, BuiltinKind kind, const char *pname) {
    const Builtin *b = builtin_find(name, kind);
    cr_assert_not_null(b, "%s", name);
    int i = builtin_param_index(b, pname);
    cr_assert_geq(i, 0, "%s.%s", name, pname);
    return &b->params[i];
}

Test(builtins, dense_units_and_dropout_rate) {
    const ParamSig *units = param("dense", BK_LAYER, "units");
    cr_expect_eq(units->type, AT_INT);
    cr_expect_null(units->default_text);
    cr_expect_eq(units->range, RANGE_MIN);
    cr_expect_eq(units->min, 1);

    const ParamSig *act = param("dense", BK_LAYER, "activation");
    cr_expect_eq(act->type, AT_ACTIVATION);
    cr_expect_str_eq(act->default_text, "linear");
    cr_expect_eq(act->default_value, -1);
    cr_expect_eq(param("dense", BK_LAYER, "kernel_initializer")->default_value, INIT_GLOROT_UNIFORM);
    cr_expect_eq(param("dense", BK_LAYER, "kernel_regularizer")->type, AT_NONE_OR_REGULARIZER);
    cr_expect_eq(param("dense", BK_LAYER, "use_bias")->default_value, 1);

    const ParamSig *rate = param("dropout", BK_LAYER, "rate");
    cr_expect_eq(rate->type, AT_NUMBER);
    cr_expect_null(rate->default_text);
    cr_expect_eq(rate->range, RANGE_MIN | RANGE_MAX_OPEN);
    cr_expect_eq(rate->min, 0);
    cr_expect_eq(rate->max, 1);

    cr_expect_eq(param("normalize", BK_LAYER, "mode")->default_value, NORM_STANDARD);
}

Test(builtins, adam_defaults_and_ranges) {
    static const struct { const char *name; double value; unsigned range; double min, max; } want[] = {
        {"learning_rate", 0.001, RANGE_MIN_OPEN, 0, 0},
        {"beta_1", 0.9, RANGE_MIN | RANGE_MAX_OPEN, 0, 1},
        {"beta_2", 0.999, RANGE_MIN | RANGE_MAX_OPEN, 0, 1},
        {"epsilon", 1e-7, RANGE_MIN_OPEN, 0, 0},
        {"amsgrad", 0, 0, 0, 0},
    };
    const Builtin *adam = builtin_find("adam", BK_OPTIMIZER);
    cr_assert_eq(adam->nparams, 5);
    for (int i = 0; i < 5; i++) {
        const ParamSig *p = &adam->params[i];
        cr_expect_str_eq(p->name, want[i].name);
        cr_expect_eq(p->default_value, want[i].value, "%s", p->name);
        cr_expect_eq(p->range, want[i].range, "%s", p->name);
        if (p->range) {
            cr_expect_eq(p->min, want[i].min, "%s", p->name);
            if (p->range & (RANGE_MAX | RANGE_MAX_OPEN)) cr_expect_eq(p->max, want[i].max, "%s", p->name);
        }
    }
    cr_expect_eq(adam->params[4].type, AT_BOOL);
    cr_expect_str_eq(adam->params[3].default_text, "1e-7");
    cr_expect_eq(param("sgd", BK_OPTIMIZER, "learning_rate")->default_value, 0.01);
    cr_expect_eq(param("adadelta", BK_OPTIMIZER, "rho")->default_value, 0.95);
    cr_expect_eq(param("adagrad", BK_OPTIMIZER, "initial_accumulator_value")->default_value, 0.1);
    cr_expect_eq(param("adamw", BK_OPTIMIZER, "weight_decay")->default_value, 0.004);
}

Test(builtins, early_stopping_defaults) {
    const Builtin *es = builtin_find("early_stopping", BK_CALLBACK);
    cr_assert_eq(es->nparams, 5);
    cr_expect_str_eq(es->params[0].name, "monitor");
    cr_expect_eq(es->params[0].type, AT_MONITOR);
    cr_expect_str_eq(es->params[0].default_text, "val_loss");
    cr_expect_str_eq(es->params[1].name, "min_delta");
    cr_expect_eq(es->params[1].default_value, 0);
    cr_expect_str_eq(es->params[2].name, "patience");
    cr_expect_eq(es->params[2].type, AT_INT);
    cr_expect_eq(es->params[2].default_value, 0);
    cr_expect_eq(es->params[2].range, RANGE_MIN);
    cr_expect_str_eq(es->params[3].name, "mode");
    cr_expect_eq(es->params[3].type, AT_MODE);
    cr_expect_eq(es->params[3].default_value, MODE_AUTO);
    cr_expect_str_eq(es->params[4].name, "restore_best_weights");
    cr_expect_eq(es->params[4].default_value, 0);

    const ParamSig *factor = param("reduce_lr_on_plateau", BK_CALLBACK, "factor");
    cr_expect_eq(factor->range, RANGE_MIN_OPEN | RANGE_MAX_OPEN);
    cr_expect_eq(param("reduce_lr_on_plateau", BK_CALLBACK, "patience")->default_value, 10);
    cr_expect_null(param("model_checkpoint", BK_CALLBACK, "filepath")->default_text);
}

Test(builtins, settings) {
    cr_expect_eq(param("batch_size", BK_FIT_SETTING, "value")->type, AT_BATCH);
    cr_expect_eq(param("batch_size", BK_FIT_SETTING, "value")->default_value, 32);
    cr_expect_eq(param("epochs", BK_FIT_SETTING, "value")->default_value, 1);
    cr_expect_eq(param("verbose", BK_FIT_SETTING, "value")->max, 2);
    cr_expect_eq(param("validation_split", BK_FIT_SETTING, "value")->range, RANGE_MIN | RANGE_MAX_OPEN);
    cr_expect_eq(param("loss", BK_COMPILE_SETTING, "value")->type, AT_LOSS);
    cr_expect_eq(param("metrics", BK_COMPILE_SETTING, "value")->type, AT_METRICS);
    cr_expect_eq(param("callbacks", BK_FIT_SETTING, "value")->type, AT_CALLBACKS);
    for (int i = 0; i < builtin_count(); i++)
        if (is_setting(builtin_at(i)->kind)) {
            cr_expect_eq(builtin_at(i)->nparams, 1, "%s", builtin_at(i)->name);
            cr_expect_str_eq(builtin_at(i)->params[0].name, "value");
        }
}

Test(builtins, function_axis_defaults_to_all) {
    const ParamSig *axis = param("sum", BK_FUNCTION, "axis");
    cr_expect_eq(axis->type, AT_AXIS);
    cr_expect_str_eq(axis->default_text, "none");
    cr_expect_eq(axis->default_value, IR_AXIS_ALL);
    cr_expect_eq(param("softmax", BK_ACTIVATION, "axis")->default_value, -1);
    cr_expect_eq(param("zeros", BK_FUNCTION, "dims")->type, AT_DIMS);
}

Test(builtins, aliases) {
    static const struct { const char *alias, *of; BuiltinKind kind; } want[] = {
        {"mse", "mean_squared_error", BK_LOSS}, {"mae", "mean_absolute_error", BK_LOSS},
        {"msle", "mean_squared_logarithmic_error", BK_LOSS}, {"kld", "kl_divergence", BK_LOSS},
        {"mean_absolute_error", "mae", BK_METRIC}, {"mean_squared_error", "mse", BK_METRIC},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const Builtin *a = builtin_find(want[i].alias, want[i].kind);
        const Builtin *c = builtin_find(want[i].of, want[i].kind);
        cr_assert(a && c);
        cr_expect_str_eq(a->alias_of, want[i].of);
        cr_expect_null(c->alias_of);
        cr_expect_eq(a->id, c->id);
    }
    int aliases = 0;
    for (int i = 0; i < builtin_count(); i++) aliases += builtin_at(i)->alias_of != NULL;
    cr_expect_eq(aliases, 6);
}

/* ---- table invariants the checker relies on ---- */

Test(builtins, no_duplicate_name_and_kind) {
    for (int i = 0; i < builtin_count(); i++)
        for (int j = i + 1; j < builtin_count(); j++) {
            const Builtin *a = builtin_at(i), *b = builtin_at(j);
            cr_expect(a->kind != b->kind || strcmp(a->name, b->name) != 0, "%s twice", a->name);
            /* Two names of one kind share an id only as alias and canonical. */
            if (a->kind == b->kind && a->id == b->id && !is_setting(a->kind))
                cr_expect(a->alias_of || b->alias_of, "%s and %s share id %d", a->name, b->name, a->id);
        }
}

Test(builtins, entries_are_well_formed) {
    for (int i = 0; i < builtin_count(); i++) {
        const Builtin *b = builtin_at(i);
        cr_expect((unsigned)b->kind < BK_COUNT, "%s", b->name);
        cr_expect(b->summary && *b->summary && !strchr(b->summary, '\n'), "%s summary", b->name);
        cr_expect_eq(b->nparams == 0, b->params == NULL, "%s", b->name);
        for (const char *c = b->name; *c; c++)
            cr_expect((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_', "%s", b->name);
        if (b->alias_of) {
            const Builtin *c = builtin_find(b->alias_of, b->kind);
            cr_expect_not_null(c, "%s: alias of unknown %s", b->name, b->alias_of);
            if (c) cr_expect_null(c->alias_of, "%s: alias of an alias", b->name);
            cr_expect_eq(b->nparams, 0, "%s", b->name);
        }
    }
}

/* Every activation is also a function of a tensor (SPEC 1.6). */
Test(builtins, activations_take_x_first) {
    int n = 0;
    for (int i = 0; i < builtin_count(); i++) {
        const Builtin *b = builtin_at(i);
        if (b->kind != BK_ACTIVATION) continue;
        n++;
        cr_assert_geq(b->nparams, 1, "%s", b->name);
        cr_expect_str_eq(b->params[0].name, "x");
        cr_expect_eq(b->params[0].type, AT_TENSOR);
        cr_expect_null(b->params[0].default_text);
        for (int j = 1; j < b->nparams; j++) cr_expect_not_null(b->params[j].default_text, "%s", b->name);
    }
    cr_expect_eq(n, 13);
}

static bool in_range(const ParamSig *p, double v) {
    if ((p->range & RANGE_MIN) && !(v >= p->min)) return false;
    if ((p->range & RANGE_MIN_OPEN) && !(v > p->min)) return false;
    if ((p->range & RANGE_MAX) && !(v <= p->max)) return false;
    if ((p->range & RANGE_MAX_OPEN) && !(v < p->max)) return false;
    return true;
}

static BuiltinKind kind_of_type(ArgType t) {
    switch (t) {
    case AT_ACTIVATION: return BK_ACTIVATION;
    case AT_INITIALIZER: return BK_INITIALIZER;
    case AT_REGULARIZER: return BK_REGULARIZER;
    case AT_LOSS: return BK_LOSS;
    case AT_OPTIMIZER: return BK_OPTIMIZER;
    case AT_NORMALIZATION: return BK_NORMALIZATION;
    case AT_MODE: return BK_MONITOR_MODE;
    default: return BK_COUNT;
    }
}

Test(builtins, params_are_well_formed) {
    for (int i = 0; i < builtin_count(); i++) {
        const Builtin *b = builtin_at(i);
        bool optional_seen = false;
        for (int j = 0; j < b->nparams; j++) {
            const ParamSig *p = &b->params[j];
            const char *who = b->name;
            /* unique names */
            for (int k = 0; k < j; k++) cr_expect_str_neq(b->params[k].name, p->name, "%s", who);
            /* required parameters come first */
            if (p->default_text) optional_seen = true;
            else cr_expect(!optional_seen, "%s.%s: required after optional", who, p->name);
            /* AT_DIMS is last and required */
            if (p->type == AT_DIMS) {
                cr_expect_eq(j, b->nparams - 1, "%s", who);
                cr_expect_null(p->default_text, "%s", who);
            }
            /* ranges: one kind of bound per side, min <= max */
            cr_expect(!((p->range & RANGE_MIN) && (p->range & RANGE_MIN_OPEN)), "%s.%s", who, p->name);
            cr_expect(!((p->range & RANGE_MAX) && (p->range & RANGE_MAX_OPEN)), "%s.%s", who, p->name);
            if ((p->range & (RANGE_MIN | RANGE_MIN_OPEN)) && (p->range & (RANGE_MAX | RANGE_MAX_OPEN))) {
                if ((p->range & RANGE_MIN) && (p->range & RANGE_MAX))
                    cr_expect_leq(p->min, p->max, "%s.%s", who, p->name);
                else
                    cr_expect_lt(p->min, p->max, "%s.%s", who, p->name);
            }
            if (p->range)
                cr_expect(p->type == AT_INT || p->type == AT_NUMBER || p->type == AT_DIMS ||
                              p->type == AT_BATCH,
                          "%s.%s: range on a non-number", who, p->name);
            if (!p->default_text) continue;
            /* the default means what it says, and lies in the range */
            const char *t = p->default_text;
            switch (p->type) {
            case AT_INT: case AT_NUMBER: case AT_BATCH: case AT_AXIS: {
                if (p->type == AT_AXIS && strcmp(t, "none") == 0) {
                    cr_expect_eq(p->default_value, IR_AXIS_ALL, "%s.%s", who, p->name);
                    break;
                }
                char *end;
                double v = strtod(t, &end);
                cr_expect_eq(*end, '\0', "%s.%s: default %s", who, p->name, t);
                cr_expect_eq(v, p->default_value, "%s.%s: %s vs %g", who, p->name, t, p->default_value);
                if (p->type != AT_NUMBER) cr_expect_eq(v, floor(v), "%s.%s", who, p->name);
                cr_expect(in_range(p, v), "%s.%s: default %s out of range", who, p->name, t);
                break;
            }
            case AT_BOOL:
                cr_expect(strcmp(t, "true") == 0 || strcmp(t, "false") == 0, "%s.%s", who, p->name);
                cr_expect_eq(p->default_value, strcmp(t, "true") == 0, "%s.%s", who, p->name);
                break;
            case AT_NAME: case AT_NONE_OR_REGULARIZER:
                cr_expect_str_eq(t, "none", "%s.%s", who, p->name);
                cr_expect_eq(p->default_value, -1, "%s.%s", who, p->name);
                break;
            case AT_METRICS: case AT_CALLBACKS:
                cr_expect_str_eq(t, "[]", "%s.%s", who, p->name);
                break;
            case AT_MONITOR:
                cr_expect_str_eq(t, "val_loss", "%s.%s", who, p->name);
                break;
            default: {
                BuiltinKind k = kind_of_type(p->type);
                cr_assert_neq(k, BK_COUNT, "%s.%s: unexpected default %s", who, p->name, t);
                const Builtin *d = builtin_find(t, k);
                cr_expect_not_null(d, "%s.%s: default %s is no %s", who, p->name, t, builtin_kind_name(k));
                if (d) cr_expect_eq(d->id, (int)p->default_value, "%s.%s", who, p->name);
            }
            }
        }
    }
}

/* SPEC 1.11's list of ranges, as the table states them. */
Test(builtins, spec_ranges) {
    static const struct { const char *b; BuiltinKind k; const char *p; double ok, bad; } cases[] = {
        {"dense", BK_LAYER, "units", 1, 0},
        {"dropout", BK_LAYER, "rate", 0, 1},
        {"dropout", BK_LAYER, "rate", 0.99, -0.01},
        {"sgd", BK_OPTIMIZER, "learning_rate", 1e-9, 0},
        {"adam", BK_OPTIMIZER, "epsilon", 1e-12, 0},
        {"sgd", BK_OPTIMIZER, "momentum", 0, 1},
        {"rmsprop", BK_OPTIMIZER, "rho", 0.5, 1},
        {"adam", BK_OPTIMIZER, "beta_1", 0, -0.1},
        {"adamax", BK_OPTIMIZER, "beta_2", 0.5, 1},
        {"epochs", BK_FIT_SETTING, "value", 0, -1},
        {"batch_size", BK_FIT_SETTING, "value", 1, 0},
        {"validation_split", BK_FIT_SETTING, "value", 0, 1},
        {"early_stopping", BK_CALLBACK, "patience", 0, -1},
        {"reduce_lr_on_plateau", BK_CALLBACK, "factor", 0.5, 1},
        {"reduce_lr_on_plateau", BK_CALLBACK, "factor", 0.5, 0},
        {"l1", BK_REGULARIZER, "l1", 0, -1e-3},
        {"l1_l2", BK_REGULARIZER, "l2", 0, -1e-3},
        {"verbose", BK_FIT_SETTING, "value", 2, 3},
        {"random_normal", BK_INITIALIZER, "stddev", 0.1, 0},
        {"zeros", BK_FUNCTION, "dims", 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const ParamSig *p = param(cases[i].b, cases[i].k, cases[i].p);
        cr_expect(in_range(p, cases[i].ok), "%s.%s: %g", cases[i].b, cases[i].p, cases[i].ok);
        cr_expect(!in_range(p, cases[i].bad), "%s.%s: %g", cases[i].b, cases[i].p, cases[i].bad);
    }
}

/* ---- did you mean (SPEC 1.11) ---- */

Test(builtins, edit_distance) {
    cr_expect_eq(edit_distance("", ""), 0);
    cr_expect_eq(edit_distance("abc", ""), 3);
    cr_expect_eq(edit_distance("", "abc"), 3);
    cr_expect_eq(edit_distance("relu", "relu"), 0);
    cr_expect_eq(edit_distance("rleu", "relu"), 1);   /* swap */
    cr_expect_eq(edit_distance("sigmod", "sigmoid"), 1);
    cr_expect_eq(edit_distance("softmx", "softmax"), 1);
    cr_expect_eq(edit_distance("adma", "adam"), 1);
    cr_expect_eq(edit_distance("kitten", "sitting"), 3);
    cr_expect_eq(edit_distance("Dense", "dense"), 1); /* case counts here */
    cr_expect_eq(edit_distance("ca", "abc"), 3);      /* OSA, not full Damerau */
    cr_expect_eq(edit_distance("foo", "log"), 2);
    cr_expect_eq(edit_distance("abcdef", "badcfe"), 3);
    cr_expect_eq(edit_distance("flaw", "lawn"), 2);
}

Test(builtins, suggestions) {
    static const struct { const char *typed; BuiltinKind kind; const char *want; } cases[] = {
        {"rleu", BK_ACTIVATION, "relu"},
        {"sigmod", BK_ACTIVATION, "sigmoid"},
        {"Dense", BK_LAYER, "dense"},
        {"DENSE", BK_LAYER, "dense"},
        {"ReLU", BK_ACTIVATION, "relu"},
        {"softmx", BK_ACTIVATION, "softmax"},
        {"adma", BK_OPTIMIZER, "adam"},
        {"Adam", BK_OPTIMIZER, "adam"},
        {"binary_crossentropi", BK_LOSS, "binary_crossentropy"},
        {"categorial_crossentropy", BK_LOSS, "categorical_crossentropy"},
        {"glorot_unifrom", BK_INITIALIZER, "glorot_uniform"},
        {"flaten", BK_LAYER, "flatten"},
        {"dens", BK_LAYER, "dense"},
        {"msee", BK_LOSS, "mse"},
        {"MSE", BK_LOSS, "mse"},
        {"earlystopping", BK_CALLBACK, "early_stopping"},
        {"epoch", BK_FIT_SETTING, "epochs"},
        {"batchsize", BK_FIT_SETTING, "batch_size"},
        {"leakyrelu", BK_ACTIVATION, "leaky_relu"},
        {"tanhh", BK_ACTIVATION, "tanh"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const Builtin *b = builtin_suggest(cases[i].typed, cases[i].kind);
        cr_expect_not_null(b, "%s: no suggestion", cases[i].typed);
        if (b) {
            cr_expect_str_eq(b->name, cases[i].want, "%s", cases[i].typed);
            cr_expect_eq(b->kind, cases[i].kind);
        }
    }
}

Test(builtins, non_suggestions) {
    static const struct { const char *typed; BuiltinKind kind; } cases[] = {
        {"foo", BK_FUNCTION},    /* 2 from log, but that is most of the word */
        {"foo", BK_LOSS}, {"foo", BK_METRIC}, {"foo", BK_MONITOR_MODE},
        {"xyz", BK_FUNCTION},
        {"x", BK_ACTIVATION},
        {"", BK_LAYER},
        {"l3", BK_REGULARIZER},  /* 1 from l1, but half of two letters */
        {"conv2d", BK_LAYER},
        {"lstm", BK_LAYER},
        {"nadam", BK_METRIC},    /* a near name of another kind is not offered */
        {"relu", BK_LAYER},
        {"banana", BK_OPTIMIZER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const Builtin *b = builtin_suggest(cases[i].typed, cases[i].kind);
        cr_expect_null(b, "%s (%s) suggested %s", cases[i].typed, builtin_kind_name(cases[i].kind),
                       b ? b->name : "");
    }
    cr_expect_null(builtin_suggest(NULL, BK_LAYER));
}

/* Equal distances go to the earlier entry: "mxe" is 1 from mae and from mse,
** which come in that order among metrics and the other way among losses. */
Test(builtins, suggestion_ties_follow_table_order) {
    cr_expect_str_eq(builtin_suggest("mxe", BK_METRIC)->name, "mae");
    cr_expect_str_eq(builtin_suggest("mxe", BK_LOSS)->name, "mse");
    cr_expect_str_eq(builtin_suggest("mix", BK_MONITOR_MODE)->name, "min");
}

/* ---- signatures and listings ---- */

Test(builtins, signatures) {
    static const struct { const char *name; BuiltinKind kind; const char *want; } cases[] = {
        {"dense", BK_LAYER,
         "dense(units, activation = linear, use_bias = true, kernel_initializer = glorot_uniform, "
         "bias_initializer = zeros, kernel_regularizer = none, bias_regularizer = none, name = none)"},
        {"dropout", BK_LAYER, "dropout(rate, name = none)"},
        {"flatten", BK_LAYER, "flatten(name = none)"},
        {"reshape", BK_LAYER, "reshape(target_shape, name = none)"},
        {"normalize", BK_LAYER, "normalize(mode = standard, name = none)"},
        {"relu", BK_ACTIVATION, "relu(x)"},
        {"leaky_relu", BK_ACTIVATION, "leaky_relu(x, alpha = 0.3)"},
        {"softmax", BK_ACTIVATION, "softmax(x, axis = -1)"},
        {"elu", BK_ACTIVATION, "elu(x, alpha = 1.0)"},
        {"zeros", BK_FUNCTION, "zeros(d1, d2, ...)"},
        {"fill", BK_FUNCTION, "fill(value, d1, d2, ...)"},
        {"sum", BK_FUNCTION, "sum(x, axis = none)"},
        {"reshape", BK_FUNCTION, "reshape(x, shape)"},
        {"pow", BK_FUNCTION, "pow(x, k)"},
        {"binary_crossentropy", BK_LOSS, "binary_crossentropy"},
        {"mse", BK_LOSS, "mse"},
        {"zeros", BK_INITIALIZER, "zeros"},
        {"random_uniform", BK_INITIALIZER, "random_uniform(minval = -0.05, maxval = 0.05)"},
        {"sgd", BK_OPTIMIZER, "sgd(learning_rate = 0.01, momentum = 0, nesterov = false)"},
        {"adam", BK_OPTIMIZER,
         "adam(learning_rate = 0.001, beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7, amsgrad = false)"},
        {"adamw", BK_OPTIMIZER,
         "adamw(learning_rate = 0.001, weight_decay = 0.004, beta_1 = 0.9, beta_2 = 0.999, "
         "epsilon = 1e-7, amsgrad = false)"},
        {"l1_l2", BK_REGULARIZER, "l1_l2(l1 = 0, l2 = 0)"},
        {"early_stopping", BK_CALLBACK,
         "early_stopping(monitor = val_loss, min_delta = 0, patience = 0, mode = auto, "
         "restore_best_weights = false)"},
        {"model_checkpoint", BK_CALLBACK, "model_checkpoint(filepath, monitor = val_loss, save_best_only = false)"},
        {"reduce_lr_on_plateau", BK_CALLBACK,
         "reduce_lr_on_plateau(monitor = val_loss, factor = 0.1, patience = 10, min_lr = 0)"},
        {"loss", BK_COMPILE_SETTING, "loss"},
        {"optimizer", BK_COMPILE_SETTING, "optimizer = rmsprop"},
        {"metrics", BK_COMPILE_SETTING, "metrics = []"},
        {"batch_size", BK_FIT_SETTING, "batch_size = 32"},
        {"validation_split", BK_FIT_SETTING, "validation_split = 0"},
        {"shuffle", BK_FIT_SETTING, "shuffle = true"},
        {"minmax", BK_NORMALIZATION, "minmax"},
        {"auto", BK_MONITOR_MODE, "auto"},
    };
    Arena *a = arena_new();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const Builtin *b = builtin_find(cases[i].name, cases[i].kind);
        cr_assert_not_null(b, "%s", cases[i].name);
        cr_expect_str_eq(builtin_signature(a, b), cases[i].want);
    }
    /* Every entry has one, starting with its name. */
    for (int i = 0; i < builtin_count(); i++) {
        const char *s = builtin_signature(a, builtin_at(i));
        cr_expect_eq(strncmp(s, builtin_at(i)->name, strlen(builtin_at(i)->name)), 0);
    }
    arena_free(a);
}

static char *list_of(BuiltinKind kind) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    builtin_list(f, kind);
    fclose(f);
    return text;
}

Test(builtins, list_aligns_summaries) {
    char *s = list_of(BK_REGULARIZER);
    cr_expect_str_eq(s,
                     "l1(l1 = 0.01)          adds l1 * sum(|w|) to the loss\n"
                     "l2(l2 = 0.01)          adds l2 * sum(w^2) to the loss\n"
                     "l1_l2(l1 = 0, l2 = 0)  adds l1 * sum(|w|) + l2 * sum(w^2) to the loss\n");
    free(s);
    s = list_of(BK_MONITOR_MODE);
    cr_expect_str_eq(s,
                     "auto  max for accuracies, min otherwise\n"
                     "min   lower is better\n"
                     "max   higher is better\n");
    free(s);
}

Test(builtins, list_shows_aliases) {
    char *s = list_of(BK_LOSS);
    cr_expect(strstr(s, "\nmse                              alias of mean_squared_error\n") != NULL, "%s", s);
    cr_expect(strncmp(s, "mean_squared_error               mean of (y - p)^2\n", 50) == 0, "%s", s);
    free(s);
    s = list_of(BK_METRIC);
    cr_expect(strstr(s, "\nmean_absolute_error          alias of mae\n") != NULL, "%s", s);
    free(s);
}

/* A signature too wide for the column keeps its summary on its line, two
** spaces after; the narrower ones stay aligned. */
Test(builtins, list_long_signatures) {
    char *s = list_of(BK_LAYER);
    cr_expect(strncmp(s, "dense(units, activation = linear, ", 34) == 0);
    cr_expect(strstr(s, "name = none)  densely connected layer: activation(x @ kernel + bias)\n") != NULL, "%s", s);
    cr_expect(strstr(s, "\ndropout(rate, name = none)               inverted dropout") != NULL, "%s", s);
    cr_expect(strstr(s, "\nnormalize(mode = standard, name = none)  scale features") != NULL, "%s", s);
    int lines = 0;
    for (const char *c = s; *c; c++) lines += *c == '\n';
    cr_expect_eq(lines, 6);
    free(s);
    /* Every kind lists every entry, one line each. */
    for (int k = 0; k < BK_COUNT; k++) {
        s = list_of((BuiltinKind)k);
        int n = 0, want = 0;
        for (const char *c = s; *c; c++) n += *c == '\n';
        for (int i = 0; i < builtin_count(); i++) want += builtin_at(i)->kind == (BuiltinKind)k;
        cr_expect_eq(n, want, "%s", builtin_kind_name((BuiltinKind)k));
        free(s);
    }
}
