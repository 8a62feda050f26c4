/*
** builtins.c — the one signature table of every built-in name of the
** language (SPEC 1.5-1.10): layers, activations, tensor functions, losses,
** optimizers, initializers, regularizers, metrics, callbacks, the settings of
** compile { } and fit { }, and the two small vocabularies normalize() and
** early_stopping(mode = ...) take.
**
** The checker reads argument names, types, defaults and ranges from here;
** `nnc --list` prints it; "did you mean" searches it. Names, argument names
** and defaults are Keras' (SPEC intro), ranges are SPEC 1.11's.
**
** Conventions of the table, which tests/test_builtins.c checks:
**  - Required parameters come first, then optional ones. AT_DIMS, when
**    present, is last and has no default text: it collects the remaining
**    positional arguments, each an integer >= 1 (none: a scalar).
**  - default_text is what a user would write; default_value is its meaning:
**    the number for numbers and integers, 0/1 for booleans, the id of the
**    named built-in for names (glorot_uniform -> INIT_GLOROT_UNIFORM), -1 for
**    "none" (no regularizer, automatic layer name), IR_AXIS_ALL for an axis
**    of "none" (reduce over all axes), 0 for lists and monitors.
**  - A default always lies inside its parameter's range.
**  - Aliases (mse, mae, msle, kld) are separate entries of the same kind and
**    id with alias_of set and no parameters.
**  - Every activation's first parameter is the tensor `x`, because an
**    activation is also a function (`relu(x @ W + b)`); used as a layer's
**    activation argument (`dense(8, leaky_relu(alpha = 0.1))`) the checker
**    skips it.
*/
#include "frontend.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- parameter rows ----
** A row is {name, type, default, range}. The default macros keep the text a
** user sees and the value the checker uses in one place, so they cannot
** disagree: D(0.001) is "0.001" and 0.001. */
#define REQUIRED NULL, 0
#define D(v) #v, (v)
#define TRUE "true", 1
#define FALSE "false", 0
#define SYM(name, id) #name, (id) /* a built-in name and its id */
#define NONE "none", -1
#define ALL_AXES "none", IR_AXIS_ALL
#define EMPTY_LIST "[]", 0
#define MONITOR(name) #name, 0 /* runtime names; checked by the checker */

/* Ranges: {min, max, RANGE_* flags}. */
#define ANY 0, 0, 0
#define GE(lo) (lo), 0, RANGE_MIN                          /* x >= lo */
#define GT(lo) (lo), 0, RANGE_MIN_OPEN                     /* x > lo */
#define CO(lo, hi) (lo), (hi), RANGE_MIN | RANGE_MAX_OPEN  /* lo <= x < hi */
#define OO(lo, hi) (lo), (hi), RANGE_MIN_OPEN | RANGE_MAX_OPEN
#define CC(lo, hi) (lo), (hi), RANGE_MIN | RANGE_MAX

/* Rows shared by several built-ins. */
#define X_ROW {"x", AT_TENSOR, REQUIRED, ANY}
#define NAME_ROW {"name", AT_NAME, NONE, ANY} /* none: dense_1, dense_2, ... (SPEC 1.4) */
#define LR_ROW(v) {"learning_rate", AT_NUMBER, D(v), GT(0)}
#define EPSILON_ROW {"epsilon", AT_NUMBER, D(1e-7), GT(0)}
#define BETA_1_ROW {"beta_1", AT_NUMBER, D(0.9), CO(0, 1)}
#define BETA_2_ROW {"beta_2", AT_NUMBER, D(0.999), CO(0, 1)}
#define MONITOR_ROW {"monitor", AT_MONITOR, MONITOR(val_loss), ANY}
#define AXIS_ROW {"axis", AT_AXIS, ALL_AXES, ANY}
#define SETTING_ROW(type, def) {"value", type, def, ANY}

/* ---- SPEC 1.5: layers ---- */
static const ParamSig p_dense[] = {
    {"units", AT_INT, REQUIRED, GE(1)},
    {"activation", AT_ACTIVATION, SYM(linear, -1), ANY},
    {"use_bias", AT_BOOL, TRUE, ANY},
    {"kernel_initializer", AT_INITIALIZER, SYM(glorot_uniform, INIT_GLOROT_UNIFORM), ANY},
    {"bias_initializer", AT_INITIALIZER, SYM(zeros, INIT_ZEROS), ANY},
    {"kernel_regularizer", AT_NONE_OR_REGULARIZER, NONE, ANY},
    {"bias_regularizer", AT_NONE_OR_REGULARIZER, NONE, ANY},
    NAME_ROW,
};
static const ParamSig p_dropout[] = {{"rate", AT_NUMBER, REQUIRED, CO(0, 1)}, NAME_ROW};
static const ParamSig p_name_only[] = {NAME_ROW};
static const ParamSig p_reshape_layer[] = {{"target_shape", AT_SHAPE, REQUIRED, ANY}, NAME_ROW};
static const ParamSig p_activation_layer[] = {{"activation", AT_ACTIVATION, REQUIRED, ANY}, NAME_ROW};
static const ParamSig p_normalize[] = {
    {"mode", AT_NORMALIZATION, SYM(standard, NORM_STANDARD), ANY},
    NAME_ROW,
};

/* ---- SPEC 1.7: activations ----
** Keras does not bound alpha, but a negative slope makes leaky_relu and elu
** non-monotonic, which no one means; Keras 3's LeakyReLU layer rejects it
** too. So both alphas are >= 0. */
static const ParamSig p_x[] = {X_ROW};
static const ParamSig p_leaky_relu[] = {X_ROW, {"alpha", AT_NUMBER, D(0.3), GE(0)}};
static const ParamSig p_softmax[] = {X_ROW, {"axis", AT_AXIS, D(-1), ANY}};
static const ParamSig p_elu[] = {X_ROW, {"alpha", AT_NUMBER, D(1.0), GE(0)}};

/* ---- SPEC 1.6: tensor functions ---- */
static const ParamSig p_pow[] = {X_ROW, {"k", AT_TENSOR, REQUIRED, ANY}};
static const ParamSig p_ab[] = {{"a", AT_TENSOR, REQUIRED, ANY}, {"b", AT_TENSOR, REQUIRED, ANY}};
/* Dimensions are >= 1 (SPEC 1.11). */
static const ParamSig p_dims[] = {{"dims", AT_DIMS, REQUIRED, GE(1)}};
static const ParamSig p_fill[] = {{"value", AT_NUMBER, REQUIRED, ANY}, {"dims", AT_DIMS, REQUIRED, GE(1)}};
static const ParamSig p_reduce[] = {X_ROW, AXIS_ROW};
static const ParamSig p_reshape_fn[] = {X_ROW, {"shape", AT_SHAPE, REQUIRED, ANY}};

/* ---- SPEC 1.9: optimizers, with SPEC 1.11's ranges ---- */
static const ParamSig p_sgd[] = {
    LR_ROW(0.01),
    {"momentum", AT_NUMBER, D(0), CO(0, 1)},
    {"nesterov", AT_BOOL, FALSE, ANY},
};
static const ParamSig p_rmsprop[] = {LR_ROW(0.001), {"rho", AT_NUMBER, D(0.9), CO(0, 1)}, EPSILON_ROW};
static const ParamSig p_adagrad[] = {
    LR_ROW(0.001),
    {"initial_accumulator_value", AT_NUMBER, D(0.1), GE(0)},
    EPSILON_ROW,
};
static const ParamSig p_adadelta[] = {LR_ROW(0.001), {"rho", AT_NUMBER, D(0.95), CO(0, 1)}, EPSILON_ROW};
static const ParamSig p_adam[] = {
    LR_ROW(0.001), BETA_1_ROW, BETA_2_ROW, EPSILON_ROW, {"amsgrad", AT_BOOL, FALSE, ANY},
};
static const ParamSig p_adamax[] = {LR_ROW(0.001), BETA_1_ROW, BETA_2_ROW, EPSILON_ROW};
/* Keras' AdamW order: learning_rate, weight_decay, then Adam's. */
static const ParamSig p_adamw[] = {
    LR_ROW(0.001),
    {"weight_decay", AT_NUMBER, D(0.004), GE(0)},
    BETA_1_ROW, BETA_2_ROW, EPSILON_ROW,
    {"amsgrad", AT_BOOL, FALSE, ANY},
};

/* ---- SPEC 1.4: initializers ---- */
static const ParamSig p_constant[] = {{"value", AT_NUMBER, D(0), ANY}};
static const ParamSig p_normal[] = {{"mean", AT_NUMBER, D(0), ANY}, {"stddev", AT_NUMBER, D(0.05), GT(0)}};
/* minval <= maxval involves two arguments; the checker tests it. */
static const ParamSig p_uniform[] = {
    {"minval", AT_NUMBER, D(-0.05), ANY},
    {"maxval", AT_NUMBER, D(0.05), ANY},
};

/* ---- SPEC 1.5: regularizers (Keras 3 defaults: L1L2 is 0, 0) ---- */
static const ParamSig p_l1[] = {{"l1", AT_NUMBER, D(0.01), GE(0)}};
static const ParamSig p_l2[] = {{"l2", AT_NUMBER, D(0.01), GE(0)}};
static const ParamSig p_l1_l2[] = {{"l1", AT_NUMBER, D(0), GE(0)}, {"l2", AT_NUMBER, D(0), GE(0)}};

/* ---- SPEC 1.10: callbacks ---- */
static const ParamSig p_early_stopping[] = {
    MONITOR_ROW,
    {"min_delta", AT_NUMBER, D(0), GE(0)},
    {"patience", AT_INT, D(0), GE(0)},
    {"mode", AT_MODE, SYM(auto, MODE_AUTO), ANY},
    {"restore_best_weights", AT_BOOL, FALSE, ANY},
};
static const ParamSig p_model_checkpoint[] = {
    {"filepath", AT_STRING, REQUIRED, ANY},
    MONITOR_ROW,
    {"save_best_only", AT_BOOL, FALSE, ANY},
};
static const ParamSig p_reduce_lr_on_plateau[] = {
    MONITOR_ROW,
    {"factor", AT_NUMBER, D(0.1), OO(0, 1)},
    {"patience", AT_INT, D(10), GE(0)},
    {"min_lr", AT_NUMBER, D(0), GE(0)},
};

/* ---- SPEC 1.10: settings; one parameter, `value`, gives the type ----
** A compile block must name its loss; the optimizer defaults to Keras'
** compile() default. */
static const ParamSig p_set_loss[] = {SETTING_ROW(AT_LOSS, REQUIRED)};
static const ParamSig p_set_optimizer[] = {SETTING_ROW(AT_OPTIMIZER, SYM(rmsprop, OPT_RMSPROP))};
static const ParamSig p_set_metrics[] = {SETTING_ROW(AT_METRICS, EMPTY_LIST)};
static const ParamSig p_set_epochs[] = {{"value", AT_INT, D(1), GE(0)}};
static const ParamSig p_set_batch_size[] = {{"value", AT_BATCH, D(32), GE(1)}}; /* or `all` */
static const ParamSig p_set_validation_split[] = {{"value", AT_NUMBER, D(0), CO(0, 1)}};
static const ParamSig p_set_shuffle[] = {SETTING_ROW(AT_BOOL, TRUE)};
static const ParamSig p_set_seed[] = {{"value", AT_INT, D(0), GE(0)}};
static const ParamSig p_set_verbose[] = {{"value", AT_INT, D(1), CC(0, 2)}};
static const ParamSig p_set_callbacks[] = {SETTING_ROW(AT_CALLBACKS, EMPTY_LIST)};

/* ---- the table ----
** Order matters twice: builtin_find_any() returns the first match, so a name
** of several kinds (reshape, zeros, max, mse) resolves to the earliest kind
** here, and builtin_suggest() breaks ties by it. */
#define P(arr) arr, (int)(sizeof arr / sizeof arr[0])
#define NOPARAMS NULL, 0
#define ALIAS(name, kind, id, of) {name, kind, id, NOPARAMS, of, "alias of " of}

static const Builtin table[] = {
    /* SPEC 1.5 */
    {"dense", BK_LAYER, LAYER_DENSE, P(p_dense), NULL, "densely connected layer: activation(x @ kernel + bias)"},
    {"dropout", BK_LAYER, LAYER_DROPOUT, P(p_dropout), NULL, "inverted dropout while training, identity at inference"},
    {"flatten", BK_LAYER, LAYER_FLATTEN, P(p_name_only), NULL, "reshape to rank 1"},
    {"reshape", BK_LAYER, LAYER_RESHAPE, P(p_reshape_layer), NULL, "reshape to target_shape, same element count"},
    {"activation", BK_LAYER, LAYER_ACTIVATION, P(p_activation_layer), NULL, "apply an activation"},
    {"normalize", BK_LAYER, LAYER_NORMALIZE, P(p_normalize), NULL, "scale features by statistics of the training rows"},

    /* SPEC 1.7 */
    {"linear", BK_ACTIVATION, -1, P(p_x), NULL, "identity: x"},
    {"step", BK_ACTIVATION, OP_STEP, P(p_x), NULL, "1 if x >= 0 else 0; zero derivative, cannot be trained through"},
    {"sigmoid", BK_ACTIVATION, OP_SIGMOID, P(p_x), NULL, "1 / (1 + exp(-x))"},
    {"tanh", BK_ACTIVATION, OP_TANH, P(p_x), NULL, "hyperbolic tangent"},
    {"relu", BK_ACTIVATION, OP_RELU, P(p_x), NULL, "max(0, x)"},
    {"leaky_relu", BK_ACTIVATION, OP_LEAKY_RELU, P(p_leaky_relu), NULL, "x if x >= 0 else alpha * x"},
    {"softmax", BK_ACTIVATION, OP_SOFTMAX, P(p_softmax), NULL, "exp(x_i - max) / sum_j exp(x_j - max) along axis"},
    {"elu", BK_ACTIVATION, OP_ELU, P(p_elu), NULL, "x if x > 0 else alpha * (exp(x) - 1)"},
    {"selu", BK_ACTIVATION, OP_SELU, P(p_x), NULL, "scale * elu(x, alpha), self-normalizing constants"},
    {"softplus", BK_ACTIVATION, OP_SOFTPLUS, P(p_x), NULL, "log(1 + exp(x))"},
    {"softsign", BK_ACTIVATION, OP_SOFTSIGN, P(p_x), NULL, "x / (1 + |x|)"},
    {"swish", BK_ACTIVATION, OP_SWISH, P(p_x), NULL, "x * sigmoid(x)"},
    {"gelu", BK_ACTIVATION, OP_GELU, P(p_x), NULL, "x * (1 + erf(x / sqrt(2))) / 2, exact"},

    /* SPEC 1.6 */
    {"exp", BK_FUNCTION, OP_EXP, P(p_x), NULL, "e^x, element-wise"},
    {"log", BK_FUNCTION, OP_LOG, P(p_x), NULL, "natural logarithm, element-wise"},
    {"sqrt", BK_FUNCTION, OP_SQRT, P(p_x), NULL, "square root, element-wise"},
    {"abs", BK_FUNCTION, OP_ABS, P(p_x), NULL, "absolute value, element-wise"},
    {"square", BK_FUNCTION, OP_SQUARE, P(p_x), NULL, "x * x, element-wise"},
    {"pow", BK_FUNCTION, FN_POW, P(p_pow), NULL, "x to the power k, element-wise, broadcasting"},
    {"minimum", BK_FUNCTION, FN_MINIMUM, P(p_ab), NULL, "smaller of a and b, element-wise, broadcasting"},
    {"maximum", BK_FUNCTION, FN_MAXIMUM, P(p_ab), NULL, "larger of a and b, element-wise, broadcasting"},
    {"zeros", BK_FUNCTION, FN_ZEROS, P(p_dims), NULL, "a tensor of zeros of shape [d1, d2, ...]"},
    {"ones", BK_FUNCTION, FN_ONES, P(p_dims), NULL, "a tensor of ones of shape [d1, d2, ...]"},
    {"fill", BK_FUNCTION, FN_FILL, P(p_fill), NULL, "a tensor of shape [d1, d2, ...] filled with value"},
    {"sum", BK_FUNCTION, FN_SUM, P(p_reduce), NULL, "sum along axis, or of all elements"},
    {"mean", BK_FUNCTION, FN_MEAN, P(p_reduce), NULL, "mean along axis, or of all elements"},
    {"max", BK_FUNCTION, FN_MAX, P(p_reduce), NULL, "maximum along axis, or of all elements"},
    {"logsumexp", BK_FUNCTION, FN_LOGSUMEXP, P(p_reduce), NULL, "log(sum(exp(x))) along axis, computed stably"},
    {"reshape", BK_FUNCTION, FN_RESHAPE, P(p_reshape_fn), NULL, "x with a new shape, same element count"},
    {"transpose", BK_FUNCTION, FN_TRANSPOSE, P(p_x), NULL, "x with its axes reversed"},
    {"matmul", BK_FUNCTION, FN_MATMUL, P(p_ab), NULL, "a @ b, as numpy.matmul"},
    {"dot", BK_FUNCTION, FN_DOT, P(p_ab), NULL, "a @ b, as numpy.dot for rank 1 and 2"},

    /* SPEC 1.8 */
    {"mean_squared_error", BK_LOSS, LOSS_MSE, NOPARAMS, NULL, "mean of (y - p)^2"},
    ALIAS("mse", BK_LOSS, LOSS_MSE, "mean_squared_error"),
    {"mean_absolute_error", BK_LOSS, LOSS_MAE, NOPARAMS, NULL, "mean of |y - p|"},
    ALIAS("mae", BK_LOSS, LOSS_MAE, "mean_absolute_error"),
    {"mean_squared_logarithmic_error", BK_LOSS, LOSS_MSLE, NOPARAMS, NULL, "mean of (log(p + 1) - log(y + 1))^2"},
    ALIAS("msle", BK_LOSS, LOSS_MSLE, "mean_squared_logarithmic_error"),
    {"binary_crossentropy", BK_LOSS, LOSS_BINARY_CE, NOPARAMS, NULL, "-mean of y log p + (1 - y) log(1 - p); sigmoid outputs"},
    {"hinge", BK_LOSS, LOSS_HINGE, NOPARAMS, NULL, "mean of max(1 - y p, 0), targets -1/+1 (0/1 mapped)"},
    {"squared_hinge", BK_LOSS, LOSS_SQUARED_HINGE, NOPARAMS, NULL, "mean of max(1 - y p, 0)^2, targets -1/+1 (0/1 mapped)"},
    {"categorical_crossentropy", BK_LOSS, LOSS_CATEGORICAL_CE, NOPARAMS, NULL, "-sum of y log p; one-hot targets, softmax outputs"},
    {"sparse_categorical_crossentropy", BK_LOSS, LOSS_SPARSE_CATEGORICAL_CE, NOPARAMS, NULL, "-log p_k; class-index targets, softmax outputs"},
    {"kl_divergence", BK_LOSS, LOSS_KLD, NOPARAMS, NULL, "sum of y log(y / p)"},
    ALIAS("kld", BK_LOSS, LOSS_KLD, "kl_divergence"),

    /* SPEC 1.9 */
    {"sgd", BK_OPTIMIZER, OPT_SGD, P(p_sgd), NULL, "stochastic gradient descent, optional (Nesterov) momentum"},
    {"rmsprop", BK_OPTIMIZER, OPT_RMSPROP, P(p_rmsprop), NULL, "divides by a moving RMS of the gradients"},
    {"adagrad", BK_OPTIMIZER, OPT_ADAGRAD, P(p_adagrad), NULL, "divides by the root of all past squared gradients"},
    {"adadelta", BK_OPTIMIZER, OPT_ADADELTA, P(p_adadelta), NULL, "steps scaled by moving RMS of updates over gradients"},
    {"adam", BK_OPTIMIZER, OPT_ADAM, P(p_adam), NULL, "adaptive moment estimation"},
    {"adamax", BK_OPTIMIZER, OPT_ADAMAX, P(p_adamax), NULL, "adam with the infinity norm"},
    {"adamw", BK_OPTIMIZER, OPT_ADAMW, P(p_adamw), NULL, "adam with decoupled weight decay"},

    /* SPEC 1.4 */
    {"zeros", BK_INITIALIZER, INIT_ZEROS, NOPARAMS, NULL, "all 0"},
    {"ones", BK_INITIALIZER, INIT_ONES, NOPARAMS, NULL, "all 1"},
    {"constant", BK_INITIALIZER, INIT_CONSTANT, P(p_constant), NULL, "all value"},
    {"random_normal", BK_INITIALIZER, INIT_RANDOM_NORMAL, P(p_normal), NULL, "normal(mean, stddev)"},
    {"random_uniform", BK_INITIALIZER, INIT_RANDOM_UNIFORM, P(p_uniform), NULL, "uniform in [minval, maxval)"},
    {"truncated_normal", BK_INITIALIZER, INIT_TRUNCATED_NORMAL, P(p_normal), NULL, "normal(mean, stddev), redrawn beyond 2 stddev"},
    {"glorot_uniform", BK_INITIALIZER, INIT_GLOROT_UNIFORM, NOPARAMS, NULL, "uniform, limit sqrt(6 / (fan_in + fan_out))"},
    {"glorot_normal", BK_INITIALIZER, INIT_GLOROT_NORMAL, NOPARAMS, NULL, "truncated normal, stddev sqrt(2 / (fan_in + fan_out))"},
    {"he_uniform", BK_INITIALIZER, INIT_HE_UNIFORM, NOPARAMS, NULL, "uniform, limit sqrt(6 / fan_in)"},
    {"he_normal", BK_INITIALIZER, INIT_HE_NORMAL, NOPARAMS, NULL, "truncated normal, stddev sqrt(2 / fan_in)"},
    {"lecun_uniform", BK_INITIALIZER, INIT_LECUN_UNIFORM, NOPARAMS, NULL, "uniform, limit sqrt(3 / fan_in)"},
    {"lecun_normal", BK_INITIALIZER, INIT_LECUN_NORMAL, NOPARAMS, NULL, "truncated normal, stddev sqrt(1 / fan_in)"},

    /* SPEC 1.5 */
    {"l1", BK_REGULARIZER, REG_L1, P(p_l1), NULL, "adds l1 * sum(|w|) to the loss"},
    {"l2", BK_REGULARIZER, REG_L2, P(p_l2), NULL, "adds l2 * sum(w^2) to the loss"},
    {"l1_l2", BK_REGULARIZER, REG_L1_L2, P(p_l1_l2), NULL, "adds l1 * sum(|w|) + l2 * sum(w^2) to the loss"},

    /* SPEC 1.10 */
    {"accuracy", BK_METRIC, MET_ACCURACY, NOPARAMS, NULL, "the accuracy that fits the loss, as Keras picks it"},
    {"binary_accuracy", BK_METRIC, MET_BINARY_ACCURACY, NOPARAMS, NULL, "fraction of outputs on the target's side of 0.5"},
    {"categorical_accuracy", BK_METRIC, MET_CATEGORICAL_ACCURACY, NOPARAMS, NULL, "fraction where argmax p = argmax y"},
    {"sparse_categorical_accuracy", BK_METRIC, MET_SPARSE_CATEGORICAL_ACCURACY, NOPARAMS, NULL, "fraction where argmax p = the class index"},
    {"mae", BK_METRIC, MET_MAE, NOPARAMS, NULL, "mean absolute error"},
    ALIAS("mean_absolute_error", BK_METRIC, MET_MAE, "mae"),
    {"mse", BK_METRIC, MET_MSE, NOPARAMS, NULL, "mean squared error"},
    ALIAS("mean_squared_error", BK_METRIC, MET_MSE, "mse"),
    {"precision", BK_METRIC, MET_PRECISION, NOPARAMS, NULL, "true positives / predicted positives, threshold 0.5"},
    {"recall", BK_METRIC, MET_RECALL, NOPARAMS, NULL, "true positives / actual positives, threshold 0.5"},

    /* SPEC 1.10 */
    {"early_stopping", BK_CALLBACK, CB_EARLY_STOPPING, P(p_early_stopping), NULL, "stop when monitor stops improving"},
    {"model_checkpoint", BK_CALLBACK, CB_MODEL_CHECKPOINT, P(p_model_checkpoint), NULL, "save the weights each epoch, or the best"},
    {"reduce_lr_on_plateau", BK_CALLBACK, CB_REDUCE_LR_ON_PLATEAU, P(p_reduce_lr_on_plateau), NULL, "multiply the learning rate by factor on a plateau"},

    /* SPEC 1.10 */
    {"loss", BK_COMPILE_SETTING, SET_LOSS, P(p_set_loss), NULL, "a loss name or an expression in y_true, y_pred"},
    {"optimizer", BK_COMPILE_SETTING, SET_OPTIMIZER, P(p_set_optimizer), NULL, "an optimizer, with or without arguments"},
    {"metrics", BK_COMPILE_SETTING, SET_METRICS, P(p_set_metrics), NULL, "a list of metrics"},

    {"epochs", BK_FIT_SETTING, SET_EPOCHS, P(p_set_epochs), NULL, "passes over the training rows"},
    {"batch_size", BK_FIT_SETTING, SET_BATCH_SIZE, P(p_set_batch_size), NULL, "rows per step; all = full batch"},
    {"validation_split", BK_FIT_SETTING, SET_VALIDATION_SPLIT, P(p_set_validation_split), NULL, "last fraction of the rows held out"},
    {"shuffle", BK_FIT_SETTING, SET_SHUFFLE, P(p_set_shuffle), NULL, "shuffle the training rows each epoch"},
    {"seed", BK_FIT_SETTING, SET_SEED, P(p_set_seed), NULL, "seed of the random generator"},
    {"verbose", BK_FIT_SETTING, SET_VERBOSE, P(p_set_verbose), NULL, "0 silent, 1 progress bar, 2 one line per epoch"},
    {"callbacks", BK_FIT_SETTING, SET_CALLBACKS, P(p_set_callbacks), NULL, "a list of callbacks"},

    /* SPEC 1.5 normalize(), SPEC 1.10 early_stopping(mode = ...) */
    {"minmax", BK_NORMALIZATION, NORM_MINMAX, NOPARAMS, NULL, "(x - min) / (max - min)"},
    {"standard", BK_NORMALIZATION, NORM_STANDARD, NOPARAMS, NULL, "(x - mean) / sqrt(variance + 1e-7)"},
    {"auto", BK_MONITOR_MODE, MODE_AUTO, NOPARAMS, NULL, "max for accuracies, min otherwise"},
    {"min", BK_MONITOR_MODE, MODE_MIN, NOPARAMS, NULL, "lower is better"},
    {"max", BK_MONITOR_MODE, MODE_MAX, NOPARAMS, NULL, "higher is better"},
};

enum { TABLE_LEN = (int)(sizeof table / sizeof table[0]) };

int builtin_count(void) { return TABLE_LEN; }

/* NULL out of range, so callers can loop until it. */
const Builtin *builtin_at(int index) {
    return index >= 0 && index < TABLE_LEN ? &table[index] : NULL;
}

const Builtin *builtin_find(const char *name, BuiltinKind kind) {
    if (!name) return NULL;
    for (int i = 0; i < TABLE_LEN; i++)
        if (table[i].kind == kind && strcmp(table[i].name, name) == 0) return &table[i];
    return NULL;
}

const Builtin *builtin_find_any(const char *name) {
    if (!name) return NULL;
    for (int i = 0; i < TABLE_LEN; i++)
        if (strcmp(table[i].name, name) == 0) return &table[i];
    return NULL;
}

int builtin_param_index(const Builtin *b, const char *name) {
    if (!b || !name) return -1;
    for (int i = 0; i < b->nparams; i++)
        if (strcmp(b->params[i].name, name) == 0) return i;
    return -1;
}

const char *builtin_kind_name(BuiltinKind kind) {
    static const char *const names[BK_COUNT] = {
        [BK_LAYER] = "layer",
        [BK_ACTIVATION] = "activation",
        [BK_FUNCTION] = "function",
        [BK_LOSS] = "loss",
        [BK_OPTIMIZER] = "optimizer",
        [BK_INITIALIZER] = "initializer",
        [BK_REGULARIZER] = "regularizer",
        [BK_METRIC] = "metric",
        [BK_CALLBACK] = "callback",
        [BK_COMPILE_SETTING] = "compile setting",
        [BK_FIT_SETTING] = "fit setting",
        [BK_NORMALIZATION] = "normalization",
        [BK_MONITOR_MODE] = "mode",
    };
    if ((unsigned)kind >= BK_COUNT) die("bad BuiltinKind %d", (int)kind);
    return names[kind];
}

/* ---- edit distance and suggestions (SPEC 1.11 "did you mean") ---- */

static int fold(int c, bool ignore_case) {
    return ignore_case ? tolower((unsigned char)c) : (unsigned char)c;
}

/* Optimal string alignment distance: Levenshtein plus adjacent swaps, three
** rows of the dynamic-programming matrix. Typos swap letters ("rleu") as
** often as they drop or change them, and a swap should cost one edit. */
static int osa_distance(const char *a, const char *b, bool ignore_case) {
    size_t n = strlen(a), m = strlen(b);
    int *rows = malloc(3 * (m + 1) * sizeof *rows);
    if (!rows) die("out of memory");
    int *before = rows, *prev = rows + (m + 1), *cur = rows + 2 * (m + 1);
    for (size_t j = 0; j <= m; j++) prev[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = (int)i;
        int ai = fold(a[i - 1], ignore_case);
        for (size_t j = 1; j <= m; j++) {
            int bj = fold(b[j - 1], ignore_case);
            int best = prev[j - 1] + (ai != bj);          /* keep or change */
            if (prev[j] + 1 < best) best = prev[j] + 1;   /* drop from a */
            if (cur[j - 1] + 1 < best) best = cur[j - 1] + 1; /* insert into a */
            if (i > 1 && j > 1 && ai == fold(b[j - 2], ignore_case) &&
                fold(a[i - 2], ignore_case) == bj && before[j - 2] + 1 < best)
                best = before[j - 2] + 1;                 /* swap */
            cur[j] = best;
        }
        int *t = before;
        before = prev;
        prev = cur;
        cur = t;
    }
    int d = prev[m];
    free(rows);
    return d;
}

int edit_distance(const char *a, const char *b) { return osa_distance(a, b, false); }

/* A typo, not a different word: at most 2 edits, and fewer than half the
** length typed, so that `foo` is 2 from `log` but suggests nothing while
** `rleu` (1 from relu) does. Case is ignored, so `Dense` is 0 from dense.
** Ties go to the earlier entry. */
const Builtin *builtin_suggest(const char *name, BuiltinKind kind) {
    if (!name) return NULL;
    size_t len = strlen(name);
    const Builtin *best = NULL;
    int best_d = 3;
    for (int i = 0; i < TABLE_LEN; i++) {
        const Builtin *b = &table[i];
        if (b->kind != kind) continue;
        size_t blen = strlen(b->name);
        /* The distance is at least the difference in length. */
        if ((blen > len ? blen - len : len - blen) >= (size_t)best_d) continue;
        int d = osa_distance(name, b->name, true);
        if (d < best_d) {
            best = b;
            best_d = d;
        }
    }
    if (!best || (size_t)(2 * best_d) >= len) return NULL;
    return best;
}

/* ---- signatures and listings ---- */

/* Appends like snprintf, but keeps counting past the end of buf, so one call
** with size 0 measures and a second writes. */
static size_t append(char *buf, size_t size, size_t at, const char *s) {
    size_t n = strlen(s);
    if (at < size) {
        size_t room = size - at - 1;
        size_t k = n < room ? n : room;
        memcpy(buf + at, s, k);
        buf[at + k] = '\0';
    }
    return at + n;
}

/* "name(p1, p2 = default, d1, d2, ...)"; the bare name without parameters,
** which is how such built-ins are written (`loss = mse`); and a setting as it
** is written in its block, "epochs = 1", or its bare name when it has no
** default (`loss`). */
static size_t format_signature(const Builtin *b, char *buf, size_t size) {
    if (size) buf[0] = '\0';
    size_t at = append(buf, size, 0, b->name);
    if (b->nparams == 0) return at;
    if (b->kind == BK_COMPILE_SETTING || b->kind == BK_FIT_SETTING) {
        if (!b->params[0].default_text) return at;
        at = append(buf, size, at, " = ");
        return append(buf, size, at, b->params[0].default_text);
    }
    at = append(buf, size, at, "(");
    for (int i = 0; i < b->nparams; i++) {
        const ParamSig *p = &b->params[i];
        if (i) at = append(buf, size, at, ", ");
        if (p->type == AT_DIMS) {
            at = append(buf, size, at, "d1, d2, ...");
            continue;
        }
        at = append(buf, size, at, p->name);
        if (p->default_text) {
            at = append(buf, size, at, " = ");
            at = append(buf, size, at, p->default_text);
        }
    }
    return append(buf, size, at, ")");
}

const char *builtin_signature(Arena *a, const Builtin *b) {
    size_t n = format_signature(b, NULL, 0);
    char *s = arena_alloc(a, n + 1);
    format_signature(b, s, n + 1);
    return s;
}

/* Summaries start in one column, after the widest signature of the kind that
** is at most this wide; longer ones (dense, the optimizers) are followed by
** two spaces, so that no line becomes as wide as dense's signature. */
enum { LIST_COLUMN_MAX = 48 };

static char *list_left(const Builtin *b) {
    size_t n = format_signature(b, NULL, 0);
    char *s = malloc(n + 1);
    if (!s) die("out of memory");
    format_signature(b, s, n + 1);
    return s;
}

void builtin_list(FILE *out, BuiltinKind kind) {
    int column = 0;
    for (int i = 0; i < TABLE_LEN; i++) {
        if (table[i].kind != kind) continue;
        int w = (int)format_signature(&table[i], NULL, 0);
        if (w <= LIST_COLUMN_MAX && w > column) column = w;
    }
    for (int i = 0; i < TABLE_LEN; i++) {
        const Builtin *b = &table[i];
        if (b->kind != kind) continue;
        char *left = list_left(b);
        fprintf(out, "%-*s  %s\n", column, left, b->summary);
        free(left);
    }
}
