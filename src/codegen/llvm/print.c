/*
** print.c — a LoopKernel as LLVM functions: nothing is decided here. As in
** the C backend, each kernel is two functions: the body takes every buffer
** as a noalias parameter (alias analysis then knows that activations,
** weights and gradients never overlap, and the loops vectorize without
** run-time checks), and the ABI's function computes the pointers into
** params, grads, opt and scratch and calls it.
**
** Loops are built in the form clang's -O2 leaves them (a guard, then a
** bottom-tested body with a phi for the counter). A chunk of accumulator
** lanes (LH_LANES) is written out, lane by lane, so that its locals have
** constant indices and live in registers, as C compilers unroll it.
*/
#include "llgen.h"

#include <string.h>

typedef struct Lp {
    LlFile *lf;
    const LoopKernel *k;
    LLVMBuilderRef b;
    LLVMValueRef fn;
    LLVMBasicBlockRef entry;
    LLVMValueRef *buf;   /* per LBuf: its pointer */
    LLVMValueRef *local; /* per LLocal: its alloca */
    LLVMValueRef var[LV_COUNT];
    LLVMValueRef n, seed, first_row, step, sc, lr, step_r, loss, y;
    LLVMValueRef lo, hi; /* update: the element range */
} Lp;

/* ---- values ---- */

static LLVMValueRef i64(Lp *p, long v) {
    return ll_i64(p->lf, v);
}

static LLVMValueRef index_value(Lp *p, LIdx x) {
    LLVMValueRef v = i64(p, x.c);
    for (int i = 0; i < LV_COUNT; i++) {
        if (!x.k[i]) continue;
        if (!p->var[i]) die("loop IR: %s read outside its loop in %s", lv_name(i), p->k->name);
        LLVMValueRef term = x.k[i] == 1 ? p->var[i] : LLVMBuildNSWMul(p->b, p->var[i], i64(p, x.k[i]), "");
        v = LLVMBuildNSWAdd(p->b, v, term, "");
    }
    return v;
}

static LLVMValueRef buf_at(Lp *p, int buf, LIdx idx) {
    LLVMValueRef i = index_value(p, idx);
    return LLVMBuildInBoundsGEP2(p->b, p->lf->real, p->buf[buf], &i, 1, "");
}

static LLVMValueRef local_at(Lp *p, int local, LIdx idx) {
    const LLocal *l = &p->k->locals.items[local];
    if (!l->size) return p->local[local];
    LLVMValueRef at[2] = {i64(p, 0), index_value(p, idx)};
    return LLVMBuildInBoundsGEP2(p->b, LLVMArrayType(p->lf->real, (unsigned)l->size), p->local[local], at, 2, "");
}

static LLVMValueRef load(Lp *p, LLVMValueRef addr) {
    return LLVMBuildLoad2(p->b, p->lf->real, addr, "");
}

/* Which term of a sum is a product to contract with it, or -1. */
static int product_term(const Lp *p, const LExpr *e) {
    if (!p->lf->o->fp_contract || e->kind != LX_OP || e->op != LOP_ADD) return -1;
    for (int i = 1; i >= 0; i--)
        if (e->in[i]->kind == LX_OP && e->in[i]->op == LOP_MUL) return i;
    return -1;
}

static LLVMValueRef expr(Lp *p, const LExpr *e) {
    LlFile *lf = p->lf;
    int t = product_term(p, e);
    if (t >= 0) {
        const LExpr *m = e->in[t];
        return ll_mul_add(lf, p->b, expr(p, m->in[0]), expr(p, m->in[1]), expr(p, e->in[1 - t]));
    }
    switch (e->kind) {
    case LX_CONST: return ll_real(lf, e->value);
    case LX_LOAD: return load(p, buf_at(p, e->buf, e->idx));
    case LX_LOCAL: return load(p, local_at(p, e->local, e->idx));
    case LX_ARG: return e->arg == LA_LR ? p->lr : e->arg == LA_STEP ? p->step_r : p->sc;
    case LX_ONE_HOT: return ll_one_hot(lf, p->b, expr(p, e->in[0]), index_value(p, e->idx));
    case LX_MASK: {
        LLVMValueRef row = LLVMBuildNSWAdd(p->b, p->first_row, index_value(p, lidx_add(lidx_var(LV_R), lidx_const(e->row))), "");
        LLVMValueRef counter = LLVMBuildOr(p->b, i64(p, (long)((unsigned long)e->stream << 32)),
                                           index_value(p, e->idx), "");
        return ll_mask(lf, p->b, p->seed, row, counter, e->value);
    }
    default: break;
    }
    LLVMValueRef arg[3];
    for (int i = 0; i < lop_arity(e->op); i++) arg[i] = expr(p, e->in[i]);
    return ll_scalar(lf, p->b, e->op, e->value, arg);
}

/* ---- statements ---- */

static LLVMBasicBlockRef new_block(Lp *p, const char *name) {
    return LLVMAppendBasicBlockInContext(p->lf->ctx, p->fn, name);
}

/* at - offset, clamped to [0, c]. */
static LLVMValueRef range_bound(Lp *p, LBound b) {
    LLVMValueRef at = LLVMBuildNSWSub(p->b, b.range == LR_LO ? p->lo : p->hi, i64(p, b.offset), "");
    LLVMValueRef low = LLVMBuildICmp(p->b, LLVMIntSLT, at, i64(p, 0), "");
    at = LLVMBuildSelect(p->b, low, i64(p, 0), at, "");
    LLVMValueRef high = LLVMBuildICmp(p->b, LLVMIntSGT, at, i64(p, b.c), "");
    return LLVMBuildSelect(p->b, high, i64(p, b.c), at, "");
}

static LLVMValueRef bound(Lp *p, LBound b) {
    if (b.range) return range_bound(p, b);
    if (!b.rows) return i64(p, b.c);
    LLVMValueRef n = p->n;
    if (b.rows > 1) n = LLVMBuildNSWMul(p->b, LLVMBuildSDiv(p->b, n, i64(p, b.rows), ""), i64(p, b.rows), "");
    return b.c ? LLVMBuildNSWAdd(p->b, n, i64(p, b.c), "") : n;
}

static void stmts(Lp *p, const LStmt *s);

/* ---- a chunk of lanes as vector instructions ----
** When every statement of an LH_LANES loop is a lane-wise sum of products
** (loops_vector_chunk), the chunk is one vector operation per statement:
** per lane, the same IEEE operations in the same order as the scalar code,
** as C compilers vectorize it. */

typedef struct Vec {
    unsigned lanes;
    LLVMTypeRef type;
    LLVMValueRef *local; /* per local declared in the chunk: its vector */
} Vec;

static LLVMValueRef splat(Lp *p, const Vec *v, LLVMValueRef x) {
    LLVMValueRef one = LLVMBuildInsertElement(p->b, LLVMGetUndef(v->type), x, ll_i32(p->lf, 0), "");
    LLVMValueRef mask = LLVMConstNull(LLVMVectorType(p->lf->i32, v->lanes));
    return LLVMBuildShuffleVector(p->b, one, LLVMGetUndef(v->type), mask, "");
}

/* The vector at addr, lane 0 being the element of j0 = 0 (p->var[LV_J0] is 0). */
static LLVMValueRef vector_at(Lp *p, const Vec *v, LLVMValueRef addr, LLVMValueRef store) {
    LLVMValueRef vp = LLVMBuildBitCast(p->b, addr, LLVMPointerType(v->type, 0), "");
    LLVMValueRef i = store ? LLVMBuildStore(p->b, store, vp) : LLVMBuildLoad2(p->b, v->type, vp, "");
    LLVMSetAlignment(i, p->lf->o->f64 ? 8 : 4);
    return i;
}

/* llvm.sqrt of the vector type: the target's vector instruction. */
static LLVMValueRef vector_sqrt(Lp *p, const Vec *v, LLVMValueRef a) {
    char name[32];
    snprintf(name, sizeof name, "llvm.sqrt.v%uf%d", v->lanes, p->lf->o->f64 ? 64 : 32);
    LLVMValueRef f = LLVMGetNamedFunction(p->lf->mod, name);
    LLVMTypeRef arg = v->type, type = LLVMFunctionType(v->type, &arg, 1, false);
    if (!f) f = LLVMAddFunction(p->lf->mod, name, type);
    return LLVMBuildCall2(p->b, type, f, &a, 1, "");
}

/* exp or sigmoid of every lane of a, with libm's bits: as the C backend's
** vector helper where the target has what it needs (vexp.c), else the
** scalar function lane by lane (libm's expf may set errno: no vectorizer
** touches it). */
static LLVMValueRef vector_by_lane(Lp *p, const Vec *v, const LExpr *e, LLVMValueRef a) {
    const char *f = p->lf->features;
    if (!p->lf->o->f64 && strstr(f, "+avx512f") && strstr(f, "+fma")) return ll_vector_exp(p->lf, p->b, e->op, a);
    LLVMValueRef out = LLVMGetUndef(v->type);
    for (unsigned lane = 0; lane < v->lanes; lane++) {
        LLVMValueRef at = ll_i32(p->lf, (int)lane), x = LLVMBuildExtractElement(p->b, a, at, "");
        out = LLVMBuildInsertElement(p->b, out, ll_scalar(p->lf, p->b, e->op, e->value, &x), at, "");
    }
    return out;
}

static LLVMValueRef vexpr(Lp *p, const Vec *v, const LExpr *e) {
    int t = product_term(p, e);
    if (t >= 0) {
        const LExpr *m = e->in[t];
        return ll_mul_add(p->lf, p->b, vexpr(p, v, m->in[0]), vexpr(p, v, m->in[1]), vexpr(p, v, e->in[1 - t]));
    }
    switch (e->kind) {
    case LX_LOAD:
        if (e->idx.k[LV_J0]) return vector_at(p, v, buf_at(p, e->buf, e->idx), NULL);
        return splat(p, v, expr(p, e));
    case LX_LOCAL:
        if (v->local[e->local]) return v->local[e->local];
        if (e->idx.k[LV_J0]) return vector_at(p, v, local_at(p, e->local, e->idx), NULL);
        return splat(p, v, expr(p, e));
    case LX_OP: {
        LLVMValueRef a = vexpr(p, v, e->in[0]);
        if (e->op == LOP_NEG) return LLVMBuildFNeg(p->b, a, "");
        if (e->op == LOP_SQUARE) return LLVMBuildFMul(p->b, a, a, "");
        if (e->op == LOP_SQRT) return vector_sqrt(p, v, a);
        if (e->op == LOP_EXP || e->op == LOP_SIGMOID) return vector_by_lane(p, v, e, a);
        LLVMValueRef b = vexpr(p, v, e->in[1]);
        switch (e->op) {
        case LOP_ADD: return LLVMBuildFAdd(p->b, a, b, "");
        case LOP_SUB: return LLVMBuildFSub(p->b, a, b, "");
        case LOP_MUL: return LLVMBuildFMul(p->b, a, b, "");
        default: return LLVMBuildFDiv(p->b, a, b, "");
        }
    }
    default: return splat(p, v, expr(p, e));
    }
}

static void vstmts(Lp *p, const Vec *v, const LStmt *s) {
    for (; s; s = s->next) {
        switch (s->kind) {
        case LS_BLOCK: vstmts(p, v, s->body); break;
        case LS_DECL: v->local[s->local] = vexpr(p, v, s->value); break;
        case LS_SET: vector_at(p, v, local_at(p, s->local, s->idx), vexpr(p, v, s->value)); break;
        case LS_STORE: {
            LLVMValueRef addr = buf_at(p, s->buf, s->idx), value = vexpr(p, v, s->value);
            if (s->add) value = LLVMBuildFAdd(p->b, vector_at(p, v, addr, NULL), value, "");
            vector_at(p, v, addr, value);
            break;
        }
        default: break;
        }
    }
}

static void vector_loop(Lp *p, const LStmt *s) {
    Vec v = {.lanes = (unsigned)(s->to.c - s->from.c), .local = ARENA_ARRAY(p->lf->arena, LLVMValueRef, p->k->locals.len + 1)};
    v.type = LLVMVectorType(p->lf->real, v.lanes);
    p->var[LV_J0] = i64(p, 0);
    vstmts(p, &v, s->body);
}

static void loop(Lp *p, const LStmt *s) {
    LLVMValueRef saved = p->var[s->var];
    bool lanes = s->hint == LH_LANES && !s->from.rows && !s->to.rows;
    if (loops_vector_chunk(p->k, s)) {
        vector_loop(p, s);
        p->var[s->var] = saved;
        return;
    }
    if (lanes) { /* written out */
        for (long i = s->from.c; i < s->to.c; i += s->step) {
            p->var[s->var] = i64(p, i);
            stmts(p, s->body);
        }
        p->var[s->var] = saved;
        return;
    }
    LLVMValueRef from = bound(p, s->from), to = bound(p, s->to);
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(p->b), head = new_block(p, "loop"), exit = new_block(p, "next");
    LLVMValueRef any = LLVMBuildICmp(p->b, LLVMIntSLT, from, to, "");
    LLVMBuildCondBr(p->b, any, head, exit);
    LLVMPositionBuilderAtEnd(p->b, head);
    LLVMValueRef i = LLVMBuildPhi(p->b, p->lf->i64, lv_name(s->var));
    LLVMAddIncoming(i, &from, &pre, 1);
    p->var[s->var] = i;
    stmts(p, s->body);
    LLVMValueRef next = LLVMBuildNSWAdd(p->b, i, i64(p, s->step), "");
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(p->b);
    LLVMBuildCondBr(p->b, LLVMBuildICmp(p->b, LLVMIntSLT, next, to, ""), head, exit);
    LLVMAddIncoming(i, &next, &latch, 1);
    LLVMPositionBuilderAtEnd(p->b, exit);
    p->var[s->var] = saved;
}

static void branch(Lp *p, const LStmt *s) {
    if (s->cond == LC_WIDE) { /* the target is known: one branch only */
        stmts(p, strstr(p->lf->features, "+avx512f") ? s->body : s->orelse);
        return;
    }
    if (s->cond == LC_SHUFFLE) { /* every target shuffles */
        stmts(p, s->body);
        return;
    }
    LLVMValueRef cond;
    if (s->cond == LC_HAS_Y) {
        cond = LLVMBuildIsNotNull(p->b, p->y, "");
    } else if (s->cond == LC_IN_RANGE) {
        LLVMValueRef at = i64(p, s->idx.c);
        cond = LLVMBuildAnd(p->b, LLVMBuildICmp(p->b, LLVMIntSLE, p->lo, at, ""),
                            LLVMBuildICmp(p->b, LLVMIntSLT, at, p->hi, ""), "");
    } else if (s->cond == LC_ROWS) {
        cond = LLVMBuildICmp(p->b, LLVMIntSGE, p->n, i64(p, s->idx.c), "");
    } else {
        cond = LLVMBuildICmp(p->b, LLVMIntEQ, p->step, i64(p, 1), "");
    }
    LLVMBasicBlockRef then = new_block(p, "then"), done = new_block(p, "endif");
    LLVMBuildCondBr(p->b, cond, then, done);
    LLVMPositionBuilderAtEnd(p->b, then);
    stmts(p, s->body);
    LLVMBuildBr(p->b, done);
    LLVMPositionBuilderAtEnd(p->b, done);
}

/* A tile's rows as vectors, the shuffles of loops_transpose_lane, its
** columns stored as vectors. */
static void transpose_tile(Lp *p, const LStmt *s) {
    enum { MAX = 16 };
    int n = s->step;
    Vec v = {.lanes = (unsigned)n, .type = LLVMVectorType(p->lf->real, (unsigned)n)};
    LLVMValueRef r[MAX], next[MAX], lane[MAX];
    if (n > MAX) die("loop IR: a transposed tile of %d", n);
    for (int i = 0; i < n; i++)
        r[i] = vector_at(p, &v, buf_at(p, s->value->buf, lidx_add(s->value->idx, lidx_const(i * s->src_stride))), NULL);
    for (int d = 1; d < n; d *= 2) {
        for (int i = 0; i < n; i++) {
            int lo = i & ~d;
            for (int j = 0; j < n; j++)
                lane[j] = LLVMConstInt(LLVMInt32TypeInContext(p->lf->ctx), (unsigned long long)loops_transpose_lane(n, d, i & d, j), 0);
            next[i] = LLVMBuildShuffleVector(p->b, r[lo], r[lo + d], LLVMConstVector(lane, (unsigned)n), "");
        }
        memcpy(r, next, sizeof *r * (size_t)n);
    }
    for (int i = 0; i < n; i++)
        vector_at(p, &v, buf_at(p, s->buf, lidx_add(s->idx, lidx_const(i * s->stride))), r[i]);
}

static void declare(Lp *p, const LStmt *s) {
    const LLocal *l = &p->k->locals.items[s->local];
    if (!l->size) {
        LLVMBuildStore(p->b, expr(p, s->value), p->local[s->local]);
        return;
    }
    for (int i = 0; i < l->size; i++) LLVMBuildStore(p->b, ll_real(p->lf, 0), local_at(p, s->local, lidx_const(i)));
}

static void add_loss(Lp *p, const LStmt *s) {
    LlFile *lf = p->lf;
    LLVMValueRef v = expr(p, s->value);
    if (!lf->o->f64) v = LLVMBuildFPExt(p->b, v, lf->dbl, "");
    if (s->times_rows) v = LLVMBuildFMul(p->b, LLVMBuildSIToFP(p->b, p->n, lf->dbl, ""), v, "");
    LLVMValueRef sum = LLVMBuildLoad2(p->b, lf->dbl, p->loss, "");
    LLVMBuildStore(p->b, LLVMBuildFAdd(p->b, sum, v, ""), p->loss);
}

static void stmt(Lp *p, const LStmt *s) {
    LLVMValueRef addr;
    switch (s->kind) {
    case LS_LOOP: loop(p, s); break;
    case LS_BLOCK: stmts(p, s->body); break;
    case LS_IF: branch(p, s); break;
    case LS_DECL: declare(p, s); break;
    case LS_SET: LLVMBuildStore(p->b, expr(p, s->value), local_at(p, s->local, s->idx)); break;
    case LS_STORE: {
        LLVMValueRef v = expr(p, s->value);
        addr = buf_at(p, s->buf, s->idx);
        if (s->add) v = LLVMBuildFAdd(p->b, load(p, addr), v, "");
        LLVMBuildStore(p->b, v, addr);
        break;
    }
    case LS_LOSS: add_loss(p, s); break;
    case LS_COMMENT: break;
    case LS_TRANSPOSE: transpose_tile(p, s); break;
    }
}

static void stmts(Lp *p, const LStmt *s) {
    for (; s; s = s->next) stmt(p, s);
}

/* ---- the two functions ---- */

enum { A_PARAMS, A_GRADS, A_OPT, A_SCRATCH, A_X, A_T, A_N, A_SCALE, A_SEED, A_FIRST, A_Y, A_STEP, A_LR,
       A_LO, A_HI, A_COUNT };

static const char *const slot_names[A_COUNT] = {"params", "grads", "opt", "scratch", "x", "t", "n",
                                                "scale", "seed", "first_row", "y", "step", "learning_rate",
                                                "lo", "hi"};

/* The ABI's argument order (nnc_abi.h). */
static int abi_args(LKernelKind kind, const int **slot) {
    static const int predict[] = {A_PARAMS, A_SCRATCH, A_X, A_Y, A_N};
    static const int train[] = {A_PARAMS, A_GRADS, A_SCRATCH, A_X, A_T, A_N, A_SCALE, A_SEED, A_FIRST, A_Y};
    static const int eval[] = {A_PARAMS, A_SCRATCH, A_X, A_T, A_N, A_Y};
    static const int regularize[] = {A_PARAMS, A_GRADS};
    static const int update[] = {A_PARAMS, A_GRADS, A_OPT, A_STEP, A_LR, A_LO, A_HI};
    static const int *const slots[] = {predict, train, eval, regularize, update};
    static const int counts[] = {5, 10, 6, 2, 7};
    *slot = slots[kind];
    return counts[kind];
}

/* The body's scalars and rows: the ABI's arguments but its buffers. */
static bool body_slot(int slot) {
    return slot >= A_X;
}

static LLVMTypeRef slot_type(LlFile *lf, int slot) {
    switch (slot) {
    case A_N: return lf->i32;
    case A_SCALE: case A_LR: return lf->dbl;
    case A_SEED: case A_FIRST: case A_STEP: case A_LO: case A_HI: return lf->i64;
    default: return lf->ptr;
    }
}

static bool pointer_arg(const LBuf *b) {
    return b->base <= LB_SCRATCH;
}

static LLVMValueRef make_body(Lp *p, const int *slot, int nslots) {
    LlFile *lf = p->lf;
    const LoopKernel *k = p->k;
    LLVMTypeRef *types = ARENA_ARRAY(lf->arena, LLVMTypeRef, nslots + k->bufs.len + 1);
    int count = 0;
    for (int i = 0; i < nslots; i++)
        if (body_slot(slot[i])) types[count++] = slot_type(lf, slot[i]);
    for (int i = 0; i < k->bufs.len; i++)
        if (pointer_arg(&k->bufs.items[i])) types[count++] = lf->ptr;
    bool loss = k->kind != LK_PREDICT && k->kind != LK_UPDATE;
    LLVMValueRef fn = ll_function(lf, arena_printf(lf->arena, "%s.body", k->name),
                                  LLVMFunctionType(loss ? lf->dbl : lf->voidt, types, (unsigned)count, false), false);
    for (int i = 0; i < count; i++)
        if (types[i] == lf->ptr) ll_noalias(lf, fn, (unsigned)i);
    return fn;
}

/* The ABI function: pointers into the buffers, then the body. */
static void make_outer(Lp *p, LLVMValueRef outer, LLVMValueRef body, const int *slot, int nslots) {
    LlFile *lf = p->lf;
    const LoopKernel *k = p->k;
    LLVMBuilderRef b = lf->b;
    LLVMValueRef arg[A_COUNT] = {0};
    for (int i = 0; i < nslots; i++) {
        arg[slot[i]] = LLVMGetParam(outer, (unsigned)i);
        LLVMSetValueName2(arg[slot[i]], slot_names[slot[i]], strlen(slot_names[slot[i]]));
    }
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(lf->ctx, outer, "entry"));
    LLVMValueRef *args = ARENA_ARRAY(lf->arena, LLVMValueRef, nslots + k->bufs.len + 1);
    int count = 0;
    for (int i = 0; i < nslots; i++)
        if (body_slot(slot[i])) args[count++] = arg[slot[i]];
    for (int i = 0; i < k->bufs.len; i++) {
        const LBuf *buf = &k->bufs.items[i];
        if (!pointer_arg(buf)) continue;
        LLVMValueRef off = ll_i64(lf, buf->offset);
        args[count++] = LLVMBuildInBoundsGEP2(b, lf->real, arg[buf->base - LB_PARAMS + A_PARAMS], &off, 1, buf->name);
    }
    LLVMValueRef r = LLVMBuildCall2(b, LLVMGetElementType(LLVMTypeOf(body)), body, args, (unsigned)count, "");
    if (LLVMGetTypeKind(LLVMGetReturnType(LLVMGetElementType(LLVMTypeOf(body)))) == LLVMVoidTypeKind)
        LLVMBuildRetVoid(b);
    else
        LLVMBuildRet(b, r);
}

/* CONST arrays: private constant globals, as the C backend's static const. */
static LLVMValueRef const_array(Lp *p, const LBuf *buf) {
    LlFile *lf = p->lf;
    LLVMValueRef *v = ARENA_ARRAY(lf->arena, LLVMValueRef, buf->count + 1);
    for (long i = 0; i < buf->count; i++) v[i] = ll_real(lf, buf->round ? (double)(float)buf->data[i] : buf->data[i]);
    LLVMTypeRef type = LLVMArrayType(lf->real, (unsigned)buf->count);
    LLVMValueRef g = LLVMAddGlobal(lf->mod, type, arena_printf(lf->arena, "%s.%s", p->k->name, buf->name));
    LLVMSetInitializer(g, LLVMConstArray(lf->real, v, (unsigned)buf->count));
    LLVMSetGlobalConstant(g, true);
    LLVMSetLinkage(g, LLVMPrivateLinkage);
    LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
    LLVMValueRef zero[2] = {ll_i64(lf, 0), ll_i64(lf, 0)};
    return LLVMConstInBoundsGEP2(type, g, zero, 2);
}

/* The body's entry: arguments bound to buffers and scalars, locals. */
static void body_entry(Lp *p, const int *slot, int nslots) {
    static const int row_slot[] = {A_X, A_T, A_Y};
    LlFile *lf = p->lf;
    const LoopKernel *k = p->k;
    p->entry = LLVMAppendBasicBlockInContext(lf->ctx, p->fn, "entry");
    LLVMPositionBuilderAtEnd(p->b, p->entry);
    LLVMValueRef scalar[A_COUNT] = {0};
    int at = 0;
    for (int i = 0; i < nslots; i++)
        if (body_slot(slot[i])) scalar[slot[i]] = LLVMGetParam(p->fn, (unsigned)at++);
    for (int i = 0; i < k->bufs.len; i++) {
        const LBuf *buf = &k->bufs.items[i];
        if (pointer_arg(buf)) p->buf[i] = LLVMGetParam(p->fn, (unsigned)at++);
        else if (buf->base == LB_CONST) p->buf[i] = const_array(p, buf);
        else if (buf->base >= LB_X && buf->base <= LB_Y) p->buf[i] = scalar[row_slot[buf->base - LB_X]];
        else die("loop IR: buffer %s has no storage in LLVM", buf->name);
        LLVMSetValueName2(p->buf[i], buf->name, strlen(buf->name));
    }
    if (scalar[A_N]) p->n = LLVMBuildSExt(p->b, scalar[A_N], lf->i64, "rows");
    p->seed = scalar[A_SEED];
    p->first_row = scalar[A_FIRST];
    p->step = scalar[A_STEP];
    p->lo = scalar[A_LO];
    p->hi = scalar[A_HI];
    if (scalar[A_SCALE]) p->sc = lf->o->f64 ? scalar[A_SCALE] : LLVMBuildFPTrunc(p->b, scalar[A_SCALE], lf->real, "sc");
    if (scalar[A_LR]) p->lr = lf->o->f64 ? scalar[A_LR] : LLVMBuildFPTrunc(p->b, scalar[A_LR], lf->real, "lr");
    if (p->step) p->step_r = LLVMBuildSIToFP(p->b, p->step, lf->real, "step_r");
    for (int i = 0; i < k->locals.len; i++) {
        const LLocal *l = &k->locals.items[i];
        LLVMTypeRef type = l->size ? LLVMArrayType(lf->real, (unsigned)l->size) : lf->real;
        p->local[i] = LLVMBuildAlloca(p->b, type, l->name);
    }
    p->loss = LLVMBuildAlloca(p->b, lf->dbl, "loss");
    LLVMBuildStore(p->b, LLVMConstReal(lf->dbl, 0), p->loss);
    p->y = scalar[A_Y];
}

bool ll_print_kernel(LlFile *lf, const LoopKernel *k) {
    Lp p = {.lf = lf, .k = k, .b = lf->b};
    p.buf = ARENA_ARRAY(lf->arena, LLVMValueRef, k->bufs.len + 1);
    p.local = ARENA_ARRAY(lf->arena, LLVMValueRef, k->locals.len + 1);
    const int *slot;
    int nslots = abi_args(k->kind, &slot);
    LLVMTypeRef types[A_COUNT];
    for (int i = 0; i < nslots; i++) types[i] = slot_type(lf, slot[i]);
    bool loss = k->kind != LK_PREDICT && k->kind != LK_UPDATE;
    LLVMValueRef outer = ll_function(lf, k->name, LLVMFunctionType(loss ? lf->dbl : lf->voidt, types,
                                                                    (unsigned)nslots, false), true);
    p.fn = make_body(&p, slot, nslots);
    make_outer(&p, outer, p.fn, slot, nslots);
    body_entry(&p, slot, nslots);
    stmts(&p, k->body->body);
    if (loss) LLVMBuildRet(p.b, LLVMBuildLoad2(p.b, lf->dbl, p.loss, ""));
    else LLVMBuildRetVoid(p.b);
    lf->kernel[k->kind] = outer;
    return true;
}

void ll_noalias(LlFile *lf, LLVMValueRef fn, unsigned index) {
    unsigned id = LLVMGetEnumAttributeKindForName("noalias", 7);
    LLVMAddAttributeAtIndex(fn, index + 1, LLVMCreateEnumAttribute(lf->ctx, id, 0));
}

bool ll_kernels(LlFile *lf) {
    for (int kind = 0; kind < 5; kind++)
        if (lf->model->kernel[kind] && !ll_print_kernel(lf, lf->model->kernel[kind])) return false;
    return true;
}
