/*
** settings.c — the compile { } and fit { } blocks (SPEC 1.8-1.10): every
** setting checked against the signature table and stored in the module.
*/
#include <string.h>

#include "sema.h"

/* Looks the setting up; reports unknown and repeated names. */
static const Builtin *setting(Sema *s, const Block *block, int i, BuiltinKind kind, const char *what) {
    const Setting *set = &block->settings.items[i];
    for (int j = 0; j < i; j++) {
        if (strcmp(block->settings.items[j].name, set->name)) continue;
        diag_error(s->diag, set->loc, "'%s' is set twice", set->name);
        diag_note(s->diag, block->settings.items[j].loc, "first set here");
        return NULL;
    }
    const Builtin *b = builtin_find(set->name, kind);
    if (b) return b;
    const Builtin *near = builtin_suggest(set->name, kind);
    if (near)
        diag_error(s->diag, set->loc, "unknown %s '%s'; did you mean '%s'?", what, set->name, near->name);
    else
        diag_error(s->diag, set->loc, "unknown %s '%s'", what, set->name);
    return NULL;
}

/* loss = name | "name" | an expression in y_true and y_pred (SPEC 1.8). */
static void loss_setting(Sema *s, const Node *value) {
    s->module->loss_loc = value->loc;
    bool named = value->kind == ND_STRING ||
                 (value->kind == ND_IDENT && strcmp(value->text, "y_true") && strcmp(value->text, "y_pred"));
    if (named) {
        const Builtin *b = sema_named(s, value, BK_LOSS, "loss");
        if (b) s->module->loss = (LossKind)b->id;
        return;
    }
    IrModule *m = s->module;
    m->loss = LOSS_CUSTOM;
    if (!s->output_known) return; /* the model's errors come first */
    IrFunc *saved_func = s->func;
    LocalVec saved_locals = s->locals;
    s->func = m->custom_loss = ir_func_new(m, "loss");
    Local y_true = {"y_true", value->loc, ir_leaf(s->func, OP_TARGET, m->output_shape, value->loc)};
    Local y_pred = {"y_pred", value->loc, ir_leaf(s->func, OP_PRED, m->output_shape, value->loc)};
    s->locals = (LocalVec){0}; /* a loss sees y_true and y_pred only */
    ARENA_PUSH(s->arena, s->locals, y_true);
    ARENA_PUSH(s->arena, s->locals, y_pred);
    IrNode *loss = sema_tensor(s, value);
    s->locals = saved_locals;
    s->func = saved_func;
    if (!loss) return;
    if (loss->shape.rank != 0) {
        char buf[96];
        diag_error(s->diag, value->span,
                   "a custom loss must be one number per sample, but this has shape %s; reduce it, "
                   "e.g. mean(...)", shape_format(loss->shape, buf, sizeof buf));
        return;
    }
    m->custom_loss->result = loss;
}

static void optimizer_setting(Sema *s, const Node *value) {
    const Node *name = value->kind == ND_CALL ? value->lhs : value;
    const Builtin *b = sema_named(s, name, BK_OPTIMIZER, "optimizer");
    ArgValue a[SEMA_MAX_ARGS];
    if (!b || !sema_bind_args(s, value, b, 0, a)) return;
    OptSpec *o = &s->module->optimizer;
    *o = (OptSpec){.kind = (OptKind)b->id};
    for (int i = 0; i < b->nparams; i++) {
        const char *p = b->params[i].name;
        double v = a[i].number;
        if (!strcmp(p, "learning_rate")) o->learning_rate = v;
        else if (!strcmp(p, "momentum")) o->momentum = v;
        else if (!strcmp(p, "rho")) o->rho = v;
        else if (!strcmp(p, "epsilon")) o->epsilon = v;
        else if (!strcmp(p, "beta_1")) o->beta_1 = v;
        else if (!strcmp(p, "beta_2")) o->beta_2 = v;
        else if (!strcmp(p, "initial_accumulator_value")) o->initial_accumulator_value = v;
        else if (!strcmp(p, "weight_decay")) o->weight_decay = v;
        else if (!strcmp(p, "nesterov")) o->nesterov = v != 0;
        else if (!strcmp(p, "amsgrad")) o->amsgrad = v != 0;
    }
}

/* A list of items, or a single item standing for a list of one; value
** points into the AST so the one-item "list" outlives the call. */
static int list_items(Node *const *value, const Node *const **items) {
    if ((*value)->kind == ND_LIST) {
        *items = (const Node *const *)(*value)->list.items;
        return (*value)->list.len;
    }
    *items = (const Node *const *)value;
    return 1;
}

static void metrics_setting(Sema *s, Node *const *value) {
    const Node *const *items;
    int n = list_items(value, &items);
    for (int i = 0; i < n; i++) {
        const Builtin *b = sema_named(s, items[i], BK_METRIC, "metric");
        if (!b) continue;
        for (int j = 0; j < s->module->metrics.len; j++)
            if (s->module->metrics.items[j] == (MetricKind)b->id) {
                diag_error(s->diag, items[i]->loc, "metric '%s' is listed twice", items[i]->text);
                b = NULL;
                break;
            }
        if (b) ARENA_PUSH(s->arena, s->module->metrics, (MetricKind)b->id);
    }
}

void sema_compile_block(Sema *s, const Block *block) {
    IrModule *m = s->module;
    m->loss = LOSS_MSE;
    m->loss_loc = block->loc;
    /* Keras' compile() defaults to rmsprop. */
    m->optimizer = (OptSpec){.kind = OPT_RMSPROP, .learning_rate = 0.001, .rho = 0.9, .epsilon = 1e-7};
    bool has_loss = false;
    for (int i = 0; i < block->settings.len; i++) {
        const Builtin *b = setting(s, block, i, BK_COMPILE_SETTING, "compile setting");
        const Node *value = block->settings.items[i].value;
        if (!b) continue;
        switch ((SettingId)b->id) {
        case SET_LOSS: loss_setting(s, value); has_loss = true; break;
        case SET_OPTIMIZER: optimizer_setting(s, value); break;
        case SET_METRICS: metrics_setting(s, &block->settings.items[i].value); break;
        default: break;
        }
    }
    if (block->present && !has_loss)
        diag_error(s->diag, block->loc, "the compile block needs a loss, e.g. loss = mean_squared_error");
}

/* The names a callback may monitor: loss, the metrics as written, and
** their val_ forms. Returns whether monitor is one; *near gets the closest. */
static bool monitor_known(Sema *s, const char *monitor, const Block *compile, const char **near) {
    const char *names[2 * 16 + 2] = {"loss", "val_loss"};
    int n = 2;
    for (int i = 0; i < compile->settings.len; i++) {
        const Setting *set = &compile->settings.items[i];
        if (strcmp(set->name, "metrics")) continue;
        const Node *const *items;
        int count = list_items(&set->value, &items);
        for (int j = 0; j < count && n + 2 <= (int)(sizeof names / sizeof *names); j++) {
            if (items[j]->kind != ND_IDENT && items[j]->kind != ND_STRING) continue;
            names[n++] = items[j]->text;
            names[n++] = arena_printf(s->arena, "val_%s", items[j]->text);
        }
    }
    int best = 3;
    *near = NULL;
    for (int i = 0; i < n; i++) {
        int d = edit_distance(monitor, names[i]);
        if (d == 0) return true;
        if (d < best) {
            best = d;
            *near = names[i];
        }
    }
    if (!*near && strlen(monitor) >= 3) /* val_acc for val_accuracy */
        for (int i = 0; i < n; i++)
            if (!strncmp(names[i], monitor, strlen(monitor))) *near = names[i];
    return false;
}

static void callback(Sema *s, const Node *item, const Block *compile) {
    const Node *name = item->kind == ND_CALL ? item->lhs : item;
    const Builtin *b = sema_named(s, name, BK_CALLBACK, "callback");
    ArgValue a[SEMA_MAX_ARGS];
    if (!b || !sema_bind_args(s, item, b, 0, a)) return;
    IrCallback cb = {.kind = (CallbackKind)b->id, .loc = name->loc, .mode = MODE_AUTO};
    for (int i = 0; i < b->nparams; i++) {
        const char *p = b->params[i].name;
        if (!strcmp(p, "monitor")) {
            cb.monitor = a[i].text;
            const char *near;
            if (!monitor_known(s, cb.monitor, compile, &near)) {
                Loc at = a[i].given ? a[i].loc : name->loc;
                if (near)
                    diag_error(s->diag, at, "%s monitors '%s', which this model does not compute; "
                               "did you mean '%s'?", b->name, cb.monitor, near);
                else
                    diag_error(s->diag, at, "%s monitors '%s', which this model does not compute; "
                               "it computes loss, val_loss and the compile metrics (and their "
                               "val_ forms)", b->name, cb.monitor);
                return;
            }
        } else if (!strcmp(p, "mode")) cb.mode = (MonitorMode)a[i].builtin->id;
        else if (!strcmp(p, "min_delta")) cb.min_delta = a[i].number;
        else if (!strcmp(p, "patience")) cb.patience = (int)a[i].number;
        else if (!strcmp(p, "restore_best_weights")) cb.restore_best_weights = a[i].number != 0;
        else if (!strcmp(p, "filepath")) {
            /* The trainer's paths hold RT_PATH_MAX (4096) bytes with the NUL. */
            if (strlen(a[i].text) > 4095) {
                diag_error(s->diag, a[i].loc, "this path is %zu bytes long; the limit is 4095",
                           strlen(a[i].text));
                return;
            }
            cb.path = a[i].text;
        }
        else if (!strcmp(p, "save_best_only")) cb.save_best_only = a[i].number != 0;
        else if (!strcmp(p, "factor")) cb.factor = a[i].number;
        else if (!strcmp(p, "min_lr")) cb.min_lr = a[i].number;
    }
    ARENA_PUSH(s->arena, s->module->fit.callbacks, cb);
}

static void fit_value(Sema *s, const Builtin *b, const Setting *set, const Block *compile) {
    FitSpec *fit = &s->module->fit;
    if (b->id == SET_CALLBACKS) {
        const Node *const *items;
        int n = list_items(&set->value, &items);
        for (int i = 0; i < n; i++) callback(s, items[i], compile);
        return;
    }
    /* Messages name the setting, not the table's "value". */
    ParamSig sig = b->params[0];
    sig.name = set->name;
    ArgValue v;
    if (!sema_convert(s, set->value, &sig, set->loc, &v)) return;
    switch ((SettingId)b->id) {
    case SET_EPOCHS: fit->epochs = (int)v.number; break;
    case SET_BATCH_SIZE: fit->batch_size = (int)v.number; break;
    case SET_VALIDATION_SPLIT: fit->validation_split = v.number; break;
    case SET_SHUFFLE: fit->shuffle = v.number != 0; break;
    case SET_SEED: fit->seed = (uint64_t)v.number; break;
    case SET_VERBOSE: fit->verbose = (int)v.number; break;
    default: break;
    }
}

void sema_fit_block(Sema *s, const Block *block, const Block *compile) {
    s->module->fit = (FitSpec){.epochs = 1, .batch_size = 32, .shuffle = true, .verbose = 1};
    for (int i = 0; i < block->settings.len; i++) {
        const Builtin *b = setting(s, block, i, BK_FIT_SETTING, "fit setting");
        if (b) fit_value(s, b, &block->settings.items[i], compile);
    }
}
