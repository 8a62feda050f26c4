/*
** dot.c — a function as a Graphviz digraph (--emit=dot).
**
** One vertex per node, named n<id>: parameters are boxes, the function's
** arguments (input, y_true, y_pred) ellipses, constants plain text, and ops
** carry their name, attributes and shape. The result has a double border.
** Every name from the user is quoted and escaped, whatever it contains.
*/
#include "ir.h"

/* Inside a DOT string only '"' and '\' are special; a newline would end
** the line, so it becomes the \n escape that Graphviz reads as a break. */
static void put_escaped(FILE *out, const char *text) {
    for (const char *c = text ? text : "?"; *c; c++) {
        if (*c == '\n') fputs("\\n", out);
        else if (*c == '"' || *c == '\\') fprintf(out, "\\%c", *c);
        else fputc(*c, out);
    }
}

static void put_shape(FILE *out, Shape shape) {
    char buf[128];
    fprintf(out, "\\nf32%s", shape_format(shape, buf, sizeof buf));
}

static void put_attrs(FILE *out, const IrNode *n) {
    unsigned flags = ir_ops[n->op].flags;
    if (flags & OPF_ATTR) fprintf(out, " %s=%.9g", n->op == OP_DROPOUT ? "rate" : "alpha", n->value);
    if (((flags & OPF_REDUCE) && n->axis != IR_AXIS_ALL) || n->op == OP_SOFTMAX)
        fprintf(out, " axis=%d", n->axis);
    if (n->op == OP_SLICE) {
        fputs(" [", out);
        for (int i = 0; i < n->slice.rank; i++) {
            if (i) fputs(", ", out);
            if (n->slice.drop >> i & 1u) fprintf(out, "%d", n->slice.start[i]);
            else fprintf(out, "%d:%d", n->slice.start[i], n->slice.stop[i]);
        }
        fputs("]", out);
    }
}

/* The label text and the vertex style for one node. */
static void put_vertex(FILE *out, const IrModule *m, const IrNode *n, bool result) {
    const char *style = "";
    fprintf(out, "  n%d [label=\"", n->id);
    switch (n->op) {
    case OP_PARAM:
        fputc('@', out);
        put_escaped(out, n->param >= 0 && n->param < m->params.len ? m->params.items[n->param].name
                                                                   : NULL);
        style = ", shape=box";
        break;
    case OP_INPUT:
        put_escaped(out, m->input_name ? m->input_name : "x");
        style = ", shape=ellipse";
        break;
    case OP_TARGET:
    case OP_PRED:
        fputs(ir_ops[n->op].name, out);
        style = ", shape=ellipse";
        break;
    case OP_CONST:
        if (n->data) fputs("const", out);
        else fprintf(out, "%.9g", n->value);
        style = ", shape=plain";
        break;
    default:
        fputs(ir_ops[n->op].name, out);
        put_attrs(out, n);
        break;
    }
    put_shape(out, n->shape);
    fprintf(out, "\"%s%s];\n", style, result ? ", peripheries=2" : "");
}

void ir_print_dot(FILE *out, const IrModule *m, const IrFunc *f) {
    if (!m) m = f->module;
    fputs("digraph \"", out);
    put_escaped(out, m->name ? m->name : f->name);
    fputs("\" {\n  node [fontname=\"Helvetica\", fontsize=10];\n", out);
    for (int i = 0; i < f->nodes.len; i++)
        put_vertex(out, m, f->nodes.items[i], f->nodes.items[i] == f->result);
    for (int i = 0; i < f->nodes.len; i++) {
        const IrNode *n = f->nodes.items[i];
        for (int k = 0; k < n->nin; k++) fprintf(out, "  n%d -> n%d;\n", n->in[k]->id, n->id);
    }
    fputs("}\n", out);
}
