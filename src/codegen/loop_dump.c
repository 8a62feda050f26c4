/*
** loop_dump.c — --emit=loops: a LoopKernel as indented text, the way both
** backends will run it. Buffers and locals first, then the statements:
**
**   for r in 0 .. n {
**       for j0 in 0 .. 8 lanes: acc[j0] = add(acc[j0], mul(av, p2[j0 + k * 30]))
**       a9[r * 56] = relu(add(...))
**   }
*/
#include "loops.h"

#include <string.h>

typedef struct Dump {
    FILE *out;
    const LoopKernel *k;
    Arena *arena;
} Dump;

static void expr(Dump *d, const LExpr *e);

static void index_of(Dump *d, LIdx idx) {
    fputs(lidx_text(d->arena, idx), d->out);
}

static void expr(Dump *d, const LExpr *e) {
    static const char *const args[] = {"lr", "step", "scale"};
    FILE *out = d->out;
    switch (e->kind) {
    case LX_CONST: fprintf(out, "%.9g", e->value); return;
    case LX_LOAD: fprintf(out, "%s[", d->k->bufs.items[e->buf].name); break;
    case LX_LOCAL:
        fputs(d->k->locals.items[e->local].name, out);
        if (!d->k->locals.items[e->local].size) return;
        fputc('[', out);
        break;
    case LX_ARG: fputs(args[e->arg], out); return;
    case LX_ONE_HOT:
        fputs("one_hot(", out);
        expr(d, e->in[0]);
        fputs(", ", out);
        index_of(d, e->idx);
        fputc(')', out);
        return;
    case LX_MASK:
        fprintf(out, "dropout_mask(%.9g, row r + %ld, stream %ld, ", e->value, e->row, e->stream);
        index_of(d, e->idx);
        fputc(')', out);
        return;
    case LX_OP:
        fprintf(out, "%s(", lop_names[e->op]);
        for (int i = 0; i < lop_arity(e->op); i++) {
            if (i) fputs(", ", out);
            expr(d, e->in[i]);
        }
        if (e->op == LOP_LEAKY_RELU || e->op == LOP_ELU) fprintf(out, ", %.9g", e->value);
        fputc(')', out);
        return;
    }
    index_of(d, e->idx);
    fputc(']', out);
}

static void bound(Dump *d, LBound b) {
    if (b.range) fprintf(d->out, "clamp(%s - %ld, 0, %ld)", b.range == LR_LO ? "lo" : "hi", b.offset, b.c);
    else if (!b.rows) fprintf(d->out, "%ld", b.c);
    else if (b.rows == 1) fputs("n", d->out);
    else fprintf(d->out, "n / %ld * %ld", b.rows, b.rows);
    if (b.rows && b.c) fprintf(d->out, " + %ld", b.c);
}

static void stmts(Dump *d, const LStmt *s, int depth);

static void stmt(Dump *d, const LStmt *s, int depth) {
    static const char *const hints[] = {"", " vector", " lanes"};
    FILE *out = d->out;
    const LLocal *l = s->kind == LS_DECL || s->kind == LS_SET ? &d->k->locals.items[s->local] : NULL;
    fprintf(out, "%*s", 4 * depth, "");
    switch (s->kind) {
    case LS_LOOP:
        fprintf(out, "for %s in ", lv_name(s->var));
        bound(d, s->from);
        fputs(" .. ", out);
        bound(d, s->to);
        if (s->step != 1) fprintf(out, " step %d", s->step);
        fprintf(out, "%s {\n", hints[s->hint]);
        break;
    case LS_BLOCK: fputs("{\n", out); break;
    case LS_IF: {
        static const char *const conds[] = {[LC_HAS_Y] = "if y {\n", [LC_FIRST_STEP] = "if step == 1 {\n",
                                            [LC_WIDE] = "if wide vectors {\n",
                                            [LC_SHUFFLE] = "if vector shuffles {\n"};
        if (s->cond == LC_IN_RANGE) fprintf(out, "if lo <= %ld < hi {\n", s->idx.c);
        else if (s->cond == LC_ROWS) fprintf(out, "if n >= %ld {\n", s->idx.c);
        else fputs(conds[s->cond], out);
        stmts(d, s->body, depth + 1);
        if (s->orelse) {
            fprintf(out, "%*s} else {\n", 4 * depth, "");
            stmts(d, s->orelse, depth + 1);
        }
        fprintf(out, "%*s}\n", 4 * depth, "");
        return;
    }
    case LS_DECL:
        if (l->size) {
            fprintf(out, "%s[%d] = 0\n", l->name, l->size);
            return;
        }
        fprintf(out, "%s%s = ", l->is_const ? "const " : "", l->name);
        expr(d, s->value);
        fputc('\n', out);
        return;
    case LS_SET:
        fputs(l->name, out);
        if (l->size) {
            fputc('[', out);
            index_of(d, s->idx);
            fputc(']', out);
        }
        fputs(" = ", out);
        expr(d, s->value);
        fputc('\n', out);
        return;
    case LS_STORE:
        fprintf(out, "%s[", d->k->bufs.items[s->buf].name);
        index_of(d, s->idx);
        fprintf(out, "] %s= ", s->add ? "+" : "");
        expr(d, s->value);
        fputc('\n', out);
        return;
    case LS_LOSS:
        fputs(s->times_rows ? "loss += n * " : "loss += ", out);
        expr(d, s->value);
        fputc('\n', out);
        return;
    case LS_COMMENT: fprintf(out, "# %s\n", s->text); return;
    case LS_TRANSPOSE:
        fprintf(out, "transpose %dx%d: %s[", s->step, s->step, d->k->bufs.items[s->buf].name);
        index_of(d, s->idx);
        fprintf(out, " + b * %ld + a] = %s[", s->stride, d->k->bufs.items[s->value->buf].name);
        index_of(d, s->value->idx);
        fprintf(out, " + a * %ld + b]\n", s->src_stride);
        return;
    }
    stmts(d, s->body, depth + 1);
    fprintf(out, "%*s}\n", 4 * depth, "");
}

static void stmts(Dump *d, const LStmt *s, int depth) {
    for (; s; s = s->next) stmt(d, s, depth);
}

static const char *base_text(Arena *a, const LBuf *b) {
    static const char *const bases[] = {"params", "grads", "opt", "scratch", "argument", "argument",
                                        "argument", "constant", "baked"};
    if (b->base <= LB_SCRATCH) return arena_printf(a, "%s + %ld", bases[b->base], b->offset);
    if (b->base == LB_CONST) return arena_printf(a, "constant[%ld]", b->count);
    return bases[b->base];
}

void loops_dump(FILE *out, const LoopKernel *k) {
    Arena *a = arena_new();
    Dump d = {out, k, a};
    fprintf(out, "kernel %s (%s): %s\n", k->name, lk_kind_names[k->kind], k->doc);
    if (k->kind <= LK_EVAL) fprintf(out, "    scratch %ld + n * %ld\n", k->scratch_fixed, k->scratch_per_row);
    for (int i = 0; i < k->bufs.len; i++) {
        const LBuf *b = &k->bufs.items[i];
        fprintf(out, "    buf %s = %s%s  # %s\n", b->name, base_text(a, b), b->written ? ", written" : "", b->note);
    }
    stmts(&d, k->body->body, 1);
    fputc('\n', out);
    arena_free(a);
}
