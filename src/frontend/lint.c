/*
** lint.c — checks that need the whole model: `step` on a trainable path,
** loss/output misfits (errors where SPEC 1.11 says so, warnings for the
** rules of thumb), and linear layers that collapse into one.
*/
#include <stdlib.h>
#include <string.h>

#include "sema.h"

/* mark[i]: node i depends on a trainable parameter. */
static bool *trainable_cone(Sema *s, const IrFunc *f) {
    bool *mark = ARENA_ARRAY(s->arena, bool, f->nodes.len + 1);
    for (int i = 0; i < f->nodes.len; i++) {
        const IrNode *n = f->nodes.items[i];
        if (n->op == OP_PARAM) mark[i] = s->module->params.items[n->param].trainable;
        for (int k = 0; k < n->nin; k++) mark[i] |= mark[n->in[k]->id];
    }
    return mark;
}

/* mark[i]: the result depends on node i. */
static bool *result_cone(Sema *s, const IrFunc *f) {
    bool *mark = ARENA_ARRAY(s->arena, bool, f->nodes.len + 1);
    if (!f->result) return mark;
    mark[f->result->id] = true;
    for (int i = f->nodes.len - 1; i >= 0; i--) {
        const IrNode *n = f->nodes.items[i];
        if (!mark[i]) continue;
        for (int k = 0; k < n->nin; k++) mark[n->in[k]->id] = true;
    }
    return mark;
}

static void step_rule(Sema *s) {
    const IrFunc *f = s->module->forward;
    bool *trained = trainable_cone(s, f), *used = result_cone(s, f);
    for (int i = 0; i < s->steps.len; i++) {
        const IrNode *step = s->steps.items[i];
        if (!trained[step->in[0]->id] || !used[step->id]) continue;
        diag_error(s->diag, s->step_locs.items[i],
                   "step has derivative 0 everywhere, so gradient descent cannot train the "
                   "parameters before it; use sigmoid (or tanh) while training");
    }
}

static const char *loss_name(LossKind loss) {
    static const char *names[] = {
        "mean_squared_error", "mean_absolute_error", "mean_squared_logarithmic_error",
        "binary_crossentropy", "hinge", "squared_hinge", "categorical_crossentropy",
        "sparse_categorical_crossentropy", "kl_divergence", "the custom loss",
    };
    return names[loss];
}

static void output_note(Sema *s, const IrNode *out) {
    diag_note(s->diag, out->loc, "the output's %s is here", ir_ops[out->op].name);
}

static void categorical_fit(Sema *s, const IrNode *out, int units) {
    LossKind loss = s->module->loss;
    Loc at = s->module->loss_loc;
    if (units == 1) {
        diag_error(s->diag, at,
                   "%s needs at least 2 output units, but the output has 1; for a yes/no label use "
                   "binary_crossentropy with a sigmoid output", loss_name(loss));
        return;
    }
    if (out->op == OP_SIGMOID) {
        diag_warning(s->diag, at,
                     "%s after a sigmoid output: sigmoid units are independent, not one "
                     "distribution; use softmax for one label per sample", loss_name(loss));
        output_note(s, out);
    } else if (out->op != OP_SOFTMAX) {
        diag_warning(s->diag, at,
                     "%s expects probabilities, but the output is not a softmax; end the model "
                     "with dense(%d, softmax)", loss_name(loss), units);
    }
}

static void binary_fit(Sema *s, const IrNode *out) {
    Loc at = s->module->loss_loc;
    if (out->op == OP_SOFTMAX) {
        diag_warning(s->diag, at,
                     "binary_crossentropy after a softmax output: softmax units compete for one "
                     "label; use categorical_crossentropy for one label per sample, or a sigmoid "
                     "output for independent labels");
        output_note(s, out);
    } else if (out->op != OP_SIGMOID) {
        diag_warning(s->diag, at,
                     "binary_crossentropy expects probabilities in [0, 1], but the output has no "
                     "sigmoid; end the model with a sigmoid activation");
    }
}

static void regression_fit(Sema *s, const IrNode *out) {
    if (out->op != OP_SIGMOID && out->op != OP_SOFTMAX) return;
    diag_warning(s->diag, s->module->loss_loc,
                 "%s on a %s output: for classification use a cross-entropy loss; for regression "
                 "end the model with a linear layer", loss_name(s->module->loss), ir_ops[out->op].name);
    output_note(s, out);
}

static void loss_output_fit(Sema *s) {
    const IrNode *out = s->module->forward->result;
    int units = out->shape.rank ? out->shape.dim[out->shape.rank - 1] : 1;
    switch (s->module->loss) {
    case LOSS_CATEGORICAL_CE: case LOSS_SPARSE_CATEGORICAL_CE: categorical_fit(s, out, units); break;
    case LOSS_BINARY_CE: binary_fit(s, out); break;
    case LOSS_KLD:
        if (out->op != OP_SOFTMAX && out->op != OP_SIGMOID)
            diag_warning(s->diag, s->module->loss_loc,
                         "kl_divergence compares distributions, but the output is not a "
                         "probability; end the model with a softmax");
        break;
    case LOSS_MSE: case LOSS_MAE: case LOSS_MSLE: regression_fit(s, out); break;
    case LOSS_HINGE: case LOSS_SQUARED_HINGE:
        if (out->op == OP_SIGMOID || out->op == OP_SOFTMAX) {
            diag_warning(s->diag, s->module->loss_loc,
                         "%s expects a score in (-inf, inf) with targets -1/+1; use a linear or "
                         "tanh output", loss_name(s->module->loss));
            output_note(s, out);
        }
        break;
    default: break;
    }
}

/* Looks through layers that do not change values' linearity. */
static const IrNode *through_reshapes(const IrNode *x) {
    while (x->op == OP_DROPOUT || x->op == OP_RESHAPE) x = x->in[0];
    return x;
}

static void collapsing_layers(Sema *s) {
    for (int i = 0; i < s->dense_inputs.len; i++) {
        const IrNode *x = through_reshapes(s->dense_inputs.items[i]);
        for (int j = 0; j < s->linear_dense.len; j++) {
            if (s->linear_dense.items[j] != x) continue;
            diag_warning(s->diag, x->loc,
                         "this dense layer has no activation and feeds another dense layer: two "
                         "linear maps collapse into one; add an activation, e.g. relu");
            diag_note(s->diag, s->dense_locs.items[i], "the next dense layer is here");
        }
    }
}

void sema_lint(Sema *s, const Program *p) {
    step_rule(s);
    if (p->compile.present) loss_output_fit(s);
    collapsing_layers(s);
}
