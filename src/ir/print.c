/*
** print.c — the text form of a module (--emit=ir), in the manner of QBE:
**
**   input %x : f32[30]
**   param @dense_1.kernel : f32[30, 8] = glorot_uniform, l2=0.01   # m.nn:3:5
**   func forward(%x) {
**     %1 = matmul %x, @dense_1.kernel  : f32[8]  # m.nn:3:5
**     ret %1
**   }
**   loss binary_crossentropy
**
** %x, %y_true and %y_pred are a function's arguments, @name a parameter.
** The training functions (--emit=grad-ir, ir_print_training) add the leaves
** grad(@w), state(@w, slot), lr and t, inline too; their `ret` names each
** output (loss=, pred=, grad(@w)=, @w=, state(@w, slot)=); where a function
** has both per-sample and uniform values, the uniform ones (computed once
** per batch) say so after their type.
** Parameters and constant fills are printed inline where they are used, so
** only computing nodes get lines; those are numbered %1, %2, ... per
** function, which keeps the text stable when passes renumber nodes. Numbers
** print with %.9g (SPEC 3 uses it for everything that must round-trip).
** Columns are aligned so a reader can scan shapes and source locations.
*/
#include "ir.h"

#include <inttypes.h>
#include <string.h>

/* ---- a growing string in the arena ---- */

typedef struct Str {
    Arena *arena;
    char *items;
    int len, cap;
} Str;

static void str_printf(Str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void str_printf(Str *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    s->items = arena_grow(s->arena, s->items, &s->cap, s->len + n + 1, 1);
    va_start(ap, fmt);
    vsnprintf(s->items + s->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s->len += n;
}

static const char *str_text(Str *s) {
    return s->items ? s->items : "";
}

static void str_num(Str *s, double v) {
    str_printf(s, "%.9g", v);
}

static void str_shape(Str *s, Shape shape) {
    char buf[128];
    str_printf(s, "f32%s", shape_format(shape, buf, sizeof buf));
}

static void str_loc(Str *s, const IrModule *m, Loc loc) {
    if (loc.first_line <= 0) return;
    if (m->file) str_printf(s, "# %s:%d:%d", m->file, loc.first_line, loc.first_column);
    else str_printf(s, "# %d:%d", loc.first_line, loc.first_column);
}

/* ---- aligned lines: up to three columns and a trailing comment ---- */

typedef struct Row {
    const char *col[3];
    const char *comment;
} Row;

typedef struct Table {
    struct { Row *items; int len, cap; } rows;
    int width[3];
} Table;

/* Text longer than this does not widen its column (a long constant would
** push every other line far to the right); it is followed by one space. */
enum { ALIGN_MAX = 56 };

static void table_add(Arena *arena, Table *t, Row row) {
    for (int i = 0; i < 3; i++) {
        int w = row.col[i] ? (int)strlen(row.col[i]) : 0;
        if (w <= ALIGN_MAX && w > t->width[i]) t->width[i] = w;
    }
    ARENA_PUSH(arena, t->rows, row);
}

/* Column i + 1 follows sep[i]; a column is padded only when more follows,
** so lines never end in spaces. */
static void table_print(FILE *out, const Table *t, const char *indent, const char *sep[2]) {
    for (int r = 0; r < t->rows.len; r++) {
        const Row *row = &t->rows.items[r];
        int ncols = row->col[2] ? 3 : row->col[1] ? 2 : 1;
        fputs(indent, out);
        for (int i = 0; i < ncols; i++) {
            const char *text = row->col[i] ? row->col[i] : "";
            if (i > 0) fputs(sep[i - 1], out);
            fputs(text, out);
            int pad = t->width[i] - (int)strlen(text);
            if ((i + 1 < ncols || row->comment) && pad > 0) fprintf(out, "%*s", pad, "");
        }
        if (row->comment) fprintf(out, "  %s", row->comment);
        fputc('\n', out);
    }
}

/* ---- operands ---- */

typedef struct Printer {
    const IrModule *m;
    const IrFunc *f;
    Arena *arena;
    int *number; /* per node id: its printed %number, 0 when printed inline */
} Printer;

static bool in_func(const IrFunc *f, const IrNode *n) {
    return n && n->id >= 0 && n->id < f->nodes.len && f->nodes.items[n->id] == n;
}

static const char *arg_name(const Printer *p, Op op) {
    if (op == OP_TARGET) return "y_true";
    if (op == OP_PRED) return "y_pred";
    return p->m->input_name ? p->m->input_name : "x";
}

/* Nodes written where they are used rather than on a line of their own. */
static bool inline_node(const IrNode *n) {
    switch (n->op) {
    case OP_PARAM: case OP_INPUT: case OP_TARGET: case OP_PRED:
    case OP_GRAD: case OP_STATE: case OP_HYPER:
        return true;
    case OP_CONST:
        return !n->data;
    default:
        return false;
    }
}

static void str_param_name(Str *s, const Printer *p, int param) {
    if (param >= 0 && param < p->m->params.len && p->m->params.items[param].name)
        str_printf(s, "@%s", p->m->params.items[param].name);
    else
        str_printf(s, "@?%d", param);
}

static void str_operand(Str *s, const Printer *p, const IrNode *n) {
    if (!in_func(p->f, n)) {
        str_printf(s, "%%?");
    } else if (n->op == OP_PARAM) {
        str_param_name(s, p, n->param);
    } else if (n->op == OP_GRAD) {
        str_printf(s, "grad(");
        str_param_name(s, p, n->param);
        str_printf(s, ")");
    } else if (n->op == OP_STATE) {
        str_printf(s, "state(");
        str_param_name(s, p, n->param);
        str_printf(s, ", %d)", n->axis);
    } else if (n->op == OP_HYPER) {
        str_printf(s, "%s", n->axis == HYPER_LEARNING_RATE ? "lr" : n->axis == HYPER_STEP ? "t" : "hyper?");
    } else if (n->op == OP_CONST && !n->data) {
        if (n->shape.rank == 0) {
            str_num(s, n->value);
            return;
        }
        str_printf(s, "fill(");
        str_num(s, n->value);
        str_printf(s, "):");
        str_shape(s, n->shape);
    } else if (n->op == OP_INPUT || n->op == OP_TARGET || n->op == OP_PRED) {
        str_printf(s, "%%%s", arg_name(p, n->op));
    } else {
        str_printf(s, "%%%d", p->number[n->id]);
    }
}

/* ---- one node ---- */

static void str_slice(Str *s, const IrSlice *slice) {
    str_printf(s, "[");
    for (int i = 0; i < slice->rank; i++) {
        if (i) str_printf(s, ", ");
        if (slice->drop >> i & 1u) str_printf(s, "%d", slice->start[i]);
        else str_printf(s, "%d:%d", slice->start[i], slice->stop[i]);
    }
    str_printf(s, "]");
}

static void str_data(Str *s, const IrNode *n) {
    str_printf(s, "[");
    for (int64_t i = 0; i < shape_numel(n->shape); i++) {
        if (i) str_printf(s, ", ");
        str_num(s, n->data[i]);
    }
    str_printf(s, "]");
}

static void str_attrs(Str *s, const IrNode *n) {
    unsigned flags = ir_ops[n->op].flags;
    if (flags & OPF_ATTR) {
        bool rate = n->op == OP_DROPOUT || n->op == OP_DROPOUT_MASK;
        str_printf(s, "%s%s=", n->op == OP_DROPOUT_MASK ? " " : ", ", rate ? "rate" : "alpha");
        str_num(s, n->value);
    }
    if (n->op == OP_ONE_HOT) str_printf(s, ", classes=%d", n->axis);
    if (n->op == OP_PAD) {
        str_printf(s, " into ");
        str_shape(s, n->shape);
        str_printf(s, " at ");
        str_slice(s, &n->slice);
    }
    if (((flags & OPF_REDUCE) && n->axis != IR_AXIS_ALL) || n->op == OP_SOFTMAX)
        str_printf(s, ", axis=%d", n->axis);
    if (n->op == OP_SLICE) {
        str_printf(s, ", ");
        str_slice(s, &n->slice);
    }
}

static const char *node_text(const Printer *p, const IrNode *n) {
    Str s = {.arena = p->arena};
    str_printf(&s, "%%%d = %s", p->number[n->id], ir_ops[n->op].name);
    if (n->op == OP_DROPOUT_MASK) str_printf(&s, " #%d,", n->axis);
    if (n->op == OP_CONST) {
        str_printf(&s, " ");
        str_data(&s, n);
    }
    for (int i = 0; i < n->nin; i++) {
        str_printf(&s, i ? ", " : " ");
        str_operand(&s, p, n->in[i]);
    }
    str_attrs(&s, n);
    return str_text(&s);
}

static const char *shape_text(Arena *arena, Shape shape) {
    Str s = {.arena = arena};
    str_shape(&s, shape);
    return str_text(&s);
}

/* The type column: the shape, and `uniform` where the function mixes
** per-sample and per-batch values (mark_uniform). */
static const char *type_text(Arena *arena, const IrNode *n, bool mark_uniform) {
    Str s = {.arena = arena};
    str_shape(&s, n->shape);
    if (mark_uniform && !n->varying) str_printf(&s, " uniform");
    return str_text(&s);
}

static const char *loc_text(Arena *arena, const IrModule *m, Loc loc) {
    if (loc.first_line <= 0) return NULL;
    Str s = {.arena = arena};
    str_loc(&s, m, loc);
    return str_text(&s);
}

/* ---- functions ---- */

static void print_signature(FILE *out, const Printer *p) {
    static const Op args[] = {OP_INPUT, OP_TARGET, OP_PRED};
    fprintf(out, "func %s(", p->f->name ? p->f->name : "?");
    bool first = true;
    for (int a = 0; a < 3; a++)
        for (int i = 0; i < p->f->nodes.len; i++)
            if (p->f->nodes.items[i] && p->f->nodes.items[i]->op == args[a]) {
                fprintf(out, "%s%%%s", first ? "" : ", ", arg_name(p, args[a]));
                first = false;
                break;
            }
    fprintf(out, ") {\n");
}

/* "loss", "grad(@w)", "state(@w, 1)": what a training function's output is. */
static void str_output_name(Str *s, const Printer *p, const IrOutput *o) {
    switch (o->kind) {
    case OUT_LOSS: str_printf(s, "loss"); break;
    case OUT_PRED: str_printf(s, "pred"); break;
    case OUT_GRAD:
        str_printf(s, "grad(");
        str_param_name(s, p, o->param);
        str_printf(s, ")");
        break;
    case OUT_PARAM: str_param_name(s, p, o->param); break;
    case OUT_STATE:
        str_printf(s, "state(");
        str_param_name(s, p, o->param);
        str_printf(s, ", %d)", o->slot);
        break;
    }
}

/* ret %7, or one output per line:  ret loss=%7,\n      pred=%4 */
static void print_ret(FILE *out, const Printer *p) {
    const IrFunc *f = p->f;
    Str s = {.arena = p->arena};
    str_printf(&s, "  ret");
    if (f->result) {
        str_printf(&s, " ");
        str_operand(&s, p, f->result);
    }
    for (int i = 0; i < f->outputs.len; i++) {
        const IrOutput *o = &f->outputs.items[i];
        str_printf(&s, "%s", i ? ",\n      " : " ");
        str_output_name(&s, p, o);
        str_printf(&s, "=");
        str_operand(&s, p, o->value);
    }
    fprintf(out, "%s\n}\n", str_text(&s));
}

void ir_print_func(FILE *out, const IrModule *m, const IrFunc *f) {
    if (!m) m = f->module;
    Printer p = {.m = m, .f = f, .arena = m->arena};
    p.number = ARENA_ARRAY(m->arena, int, f->nodes.len + 1);
    int next = 1;
    bool any_varying = false, any_uniform = false;
    for (int i = 0; i < f->nodes.len; i++) {
        const IrNode *n = f->nodes.items[i];
        if (!n || inline_node(n)) continue;
        p.number[i] = next++;
        any_varying |= n->varying;
        any_uniform |= !n->varying;
    }
    /* Only the training functions mark uniform values, so that --emit=ir's
    ** forward function reads as it always has. */
    bool mark_uniform = f->outputs.len > 0 && any_varying && any_uniform;

    Table t = {0};
    for (int i = 0; i < f->nodes.len; i++) {
        const IrNode *n = f->nodes.items[i];
        if (!n || inline_node(n)) continue;
        const char *loc = loc_text(m->arena, m, n->loc);
        Row row = {{node_text(&p, n), type_text(m->arena, n, mark_uniform), NULL}, loc};
        table_add(m->arena, &t, row);
    }
    print_signature(out, &p);
    table_print(out, &t, "  ", (const char *[2]){"  : ", "  "});
    print_ret(out, &p);
}

/* ---- parameters ---- */

static const char *const init_names[] = {
    [INIT_ZEROS] = "zeros", [INIT_ONES] = "ones", [INIT_CONSTANT] = "constant",
    [INIT_RANDOM_NORMAL] = "random_normal", [INIT_RANDOM_UNIFORM] = "random_uniform",
    [INIT_TRUNCATED_NORMAL] = "truncated_normal", [INIT_GLOROT_UNIFORM] = "glorot_uniform",
    [INIT_GLOROT_NORMAL] = "glorot_normal", [INIT_HE_UNIFORM] = "he_uniform",
    [INIT_HE_NORMAL] = "he_normal", [INIT_LECUN_UNIFORM] = "lecun_uniform",
    [INIT_LECUN_NORMAL] = "lecun_normal",
};

static const char *const role_names[] = {
    [ROLE_WEIGHT] = "weight", [ROLE_NORM_MIN] = "min", [ROLE_NORM_MAX] = "max",
    [ROLE_NORM_MEAN] = "mean", [ROLE_NORM_VARIANCE] = "variance",
};

#define NAME_OF(table, i) \
    ((unsigned)(i) < sizeof(table) / sizeof *(table) && (table)[i] ? (table)[i] : "?")

static void str_pair(Str *s, const char *name, double v) {
    str_printf(s, "%s=", name);
    str_num(s, v);
}

/* Keras' names and arguments: random_normal(mean=0, stddev=0.05). */
static void str_init(Str *s, InitSpec init) {
    str_printf(s, "%s", NAME_OF(init_names, init.kind));
    switch (init.kind) {
    case INIT_CONSTANT:
        str_printf(s, "(");
        str_pair(s, "value", init.a);
        str_printf(s, ")");
        break;
    case INIT_RANDOM_NORMAL:
    case INIT_TRUNCATED_NORMAL:
        str_printf(s, "(");
        str_pair(s, "mean", init.a);
        str_printf(s, ", ");
        str_pair(s, "stddev", init.b);
        str_printf(s, ")");
        break;
    case INIT_RANDOM_UNIFORM:
        str_printf(s, "(");
        str_pair(s, "minval", init.a);
        str_printf(s, ", ");
        str_pair(s, "maxval", init.b);
        str_printf(s, ")");
        break;
    default:
        break;
    }
}

/* What is not a plain trainable weight: statistics (SPEC 1.5 normalize),
** frozen weights, regularizers. */
static void str_param_notes(Str *s, const IrParam *prm) {
    if (prm->role != ROLE_WEIGHT) str_printf(s, ", statistic=%s", NAME_OF(role_names, prm->role));
    if (prm->role == ROLE_WEIGHT && !prm->trainable) str_printf(s, ", frozen");
    if (prm->role != ROLE_WEIGHT && prm->trainable) str_printf(s, ", trainable");
    if (prm->l1 != 0) {
        str_printf(s, ", ");
        str_pair(s, "l1", prm->l1);
    }
    if (prm->l2 != 0) {
        str_printf(s, ", ");
        str_pair(s, "l2", prm->l2);
    }
}

static void print_params(FILE *out, const IrModule *m) {
    Table t = {0};
    for (int i = 0; i < m->params.len; i++) {
        const IrParam *prm = &m->params.items[i];
        Str name = {.arena = m->arena}, init = {.arena = m->arena};
        str_printf(&name, "param @%s", prm->name ? prm->name : "?");
        str_init(&init, prm->init);
        str_param_notes(&init, prm);
        Row row = {{str_text(&name), shape_text(m->arena, prm->shape), str_text(&init)},
                   loc_text(m->arena, m, prm->loc)};
        table_add(m->arena, &t, row);
    }
    table_print(out, &t, "", (const char *[2]){" : ", " = "});
}

/* ---- compile and fit settings ---- */

static const char *const loss_names[] = {
    [LOSS_MSE] = "mean_squared_error", [LOSS_MAE] = "mean_absolute_error",
    [LOSS_MSLE] = "mean_squared_logarithmic_error", [LOSS_BINARY_CE] = "binary_crossentropy",
    [LOSS_HINGE] = "hinge", [LOSS_SQUARED_HINGE] = "squared_hinge",
    [LOSS_CATEGORICAL_CE] = "categorical_crossentropy",
    [LOSS_SPARSE_CATEGORICAL_CE] = "sparse_categorical_crossentropy",
    [LOSS_KLD] = "kl_divergence", [LOSS_CUSTOM] = "custom",
};

static const char *const opt_names[] = {
    [OPT_SGD] = "sgd", [OPT_RMSPROP] = "rmsprop", [OPT_ADAGRAD] = "adagrad",
    [OPT_ADADELTA] = "adadelta", [OPT_ADAM] = "adam", [OPT_ADAMAX] = "adamax",
    [OPT_ADAMW] = "adamw",
};

static const char *const metric_names[] = {
    [MET_ACCURACY] = "accuracy", [MET_BINARY_ACCURACY] = "binary_accuracy",
    [MET_CATEGORICAL_ACCURACY] = "categorical_accuracy",
    [MET_SPARSE_CATEGORICAL_ACCURACY] = "sparse_categorical_accuracy", [MET_MAE] = "mae",
    [MET_MSE] = "mse", [MET_PRECISION] = "precision", [MET_RECALL] = "recall",
};

const char *ir_metric_name(MetricKind k) {
    return NAME_OF(metric_names, k);
}

static const char *const callback_names[] = {
    [CB_EARLY_STOPPING] = "early_stopping", [CB_MODEL_CHECKPOINT] = "model_checkpoint",
    [CB_REDUCE_LR_ON_PLATEAU] = "reduce_lr_on_plateau",
};

static const char *const mode_names[] = {[MODE_AUTO] = "auto", [MODE_MIN] = "min", [MODE_MAX] = "max"};

static const char *bool_name(bool b) {
    return b ? "true" : "false";
}

/* The arguments each optimizer reads (SPEC 1.9), in Keras' order. */
static void str_optimizer(Str *s, const OptSpec *o) {
    str_printf(s, "optimizer %s(", NAME_OF(opt_names, o->kind));
    str_pair(s, "learning_rate", o->learning_rate);
    switch (o->kind) {
    case OPT_SGD:
        str_printf(s, ", ");
        str_pair(s, "momentum", o->momentum);
        str_printf(s, ", nesterov=%s", bool_name(o->nesterov));
        break;
    case OPT_RMSPROP:
    case OPT_ADADELTA:
        str_printf(s, ", ");
        str_pair(s, "rho", o->rho);
        break;
    case OPT_ADAGRAD:
        str_printf(s, ", ");
        str_pair(s, "initial_accumulator_value", o->initial_accumulator_value);
        break;
    case OPT_ADAMW:
        str_printf(s, ", ");
        str_pair(s, "weight_decay", o->weight_decay);
        /* fall through */
    case OPT_ADAM:
    case OPT_ADAMAX:
        str_printf(s, ", ");
        str_pair(s, "beta_1", o->beta_1);
        str_printf(s, ", ");
        str_pair(s, "beta_2", o->beta_2);
        break;
    }
    if (o->kind != OPT_SGD) {
        str_printf(s, ", ");
        str_pair(s, "epsilon", o->epsilon);
    }
    if (o->kind == OPT_ADAM || o->kind == OPT_ADAMW) str_printf(s, ", amsgrad=%s", bool_name(o->amsgrad));
    str_printf(s, ")");
}

/* A path as the .nn string it came from: quotes and backslashes escaped. */
static void str_quoted(Str *s, const char *text) {
    str_printf(s, "\"");
    for (const char *c = text ? text : ""; *c; c++) {
        if (*c == '"' || *c == '\\') str_printf(s, "\\");
        str_printf(s, "%c", *c);
    }
    str_printf(s, "\"");
}

/* The arguments of each callback's SPEC 1.10 signature, in its order. */
static void str_callback(Str *s, const IrCallback *cb) {
    str_printf(s, "callback %s(", NAME_OF(callback_names, cb->kind));
    if (cb->kind == CB_MODEL_CHECKPOINT) {
        str_quoted(s, cb->path);
        str_printf(s, ", ");
    }
    str_printf(s, "monitor=%s", cb->monitor ? cb->monitor : "val_loss");
    switch (cb->kind) {
    case CB_EARLY_STOPPING:
        str_printf(s, ", ");
        str_pair(s, "min_delta", cb->min_delta);
        str_printf(s, ", patience=%d, mode=%s, restore_best_weights=%s", cb->patience,
                   NAME_OF(mode_names, cb->mode), bool_name(cb->restore_best_weights));
        break;
    case CB_MODEL_CHECKPOINT:
        str_printf(s, ", save_best_only=%s", bool_name(cb->save_best_only));
        break;
    case CB_REDUCE_LR_ON_PLATEAU:
        str_printf(s, ", ");
        str_pair(s, "factor", cb->factor);
        str_printf(s, ", patience=%d, ", cb->patience);
        str_pair(s, "min_lr", cb->min_lr);
        break;
    }
    str_printf(s, ")");
}

static void print_settings(FILE *out, const IrModule *m) {
    Str s = {.arena = m->arena};
    str_printf(&s, "loss %s\n", NAME_OF(loss_names, m->loss));
    str_optimizer(&s, &m->optimizer);
    str_printf(&s, "\nmetrics [");
    for (int i = 0; i < m->metrics.len; i++)
        str_printf(&s, "%s%s", i ? ", " : "", ir_metric_name(m->metrics.items[i]));
    const FitSpec *fit = &m->fit;
    str_printf(&s, "]\nfit epochs=%d batch_size=", fit->epochs);
    if (fit->batch_size > 0) str_printf(&s, "%d", fit->batch_size);
    else str_printf(&s, "all");
    str_printf(&s, " ");
    str_pair(&s, "validation_split", fit->validation_split);
    str_printf(&s, " shuffle=%s seed=%" PRIu64 " verbose=%d\n", bool_name(fit->shuffle), fit->seed,
               fit->verbose);
    for (int i = 0; i < fit->callbacks.len; i++) {
        str_callback(&s, &fit->callbacks.items[i]);
        str_printf(&s, "\n");
    }
    fputs(str_text(&s), out);
}

/* ---- the module ---- */

/* The title, the input and the parameters. */
static void print_header(FILE *out, const IrModule *m, const char *what) {
    fprintf(out, "# nnc %s — model %s", what, m->name ? m->name : "?");
    if (m->file) fprintf(out, " (%s)", m->file);
    fputc('\n', out);
    if (m->input_name) {
        Str s = {.arena = m->arena};
        str_shape(&s, m->input_shape);
        fprintf(out, "input %%%s : %s\n", m->input_name, str_text(&s));
    }
    if (m->params.len) {
        fputc('\n', out);
        print_params(out, m);
    }
}

void ir_print_module(FILE *out, const IrModule *m) {
    print_header(out, m, "IR");
    if (m->forward) {
        fputc('\n', out);
        ir_print_func(out, m, m->forward);
    }
    if (m->loss == LOSS_CUSTOM && m->custom_loss) {
        fputc('\n', out);
        ir_print_func(out, m, m->custom_loss);
    }
    fputc('\n', out);
    print_settings(out, m);
}

/* ---- the training functions (--emit=grad-ir) ---- */

void ir_print_training(FILE *out, const IrModule *m) {
    print_header(out, m, "grad IR");
    const IrFunc *funcs[] = {m->predict, m->train, m->regularize, m->update, m->eval};
    for (size_t i = 0; i < sizeof funcs / sizeof *funcs; i++) {
        const IrFunc *f = funcs[i];
        if (!f || (f == m->regularize && f->outputs.len == 0)) continue;
        fputc('\n', out);
        ir_print_func(out, m, f);
    }
    fputc('\n', out);
    print_settings(out, m);
    Str s = {.arena = m->arena};
    str_printf(&s, "optimizer_state slots=%d init=[", m->opt_slots);
    for (int k = 0; k < m->opt_slots && k < 4; k++) {
        if (k) str_printf(&s, ", ");
        str_num(&s, m->opt_state_init[k]);
    }
    fprintf(out, "%s]\n", str_text(&s));
}
