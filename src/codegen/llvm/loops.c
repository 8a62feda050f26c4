/*
** loops.c — control flow for kernels: counted loops, nests over shapes
** (loops, or their iterations written out where the plan unrolls), and
** block.c's register blocking of the products that dominate training.
**
** Loops are built in the form clang's -O2 leaves them (a guard, then a
** bottom-tested body with a phi for the counter), so LLVM's loop passes
** and vectorizers see what they see in the C backend's loops.
*/
#include "llgen.h"

LLVMValueRef ll_local(LlKernel *k, LLVMTypeRef type, const char *name) {
    LLVMBuilderRef at = LLVMCreateBuilderInContext(k->file->ctx);
    LLVMValueRef first = LLVMGetFirstInstruction(k->entry);
    if (first) LLVMPositionBuilderBefore(at, first);
    else LLVMPositionBuilderAtEnd(at, k->entry);
    LLVMValueRef v = LLVMBuildAlloca(at, type, name);
    LLVMDisposeBuilder(at);
    return v;
}

LLVMValueRef ll_local_array(LlKernel *k, LLVMTypeRef type, int count, const char *name) {
    return ll_local(k, LLVMArrayType(type, (unsigned)count), name);
}

static LLVMBasicBlockRef block_after(LlKernel *k, const char *name) {
    return LLVMAppendBasicBlockInContext(k->file->ctx, k->fn, name);
}

static bool const_true(LLVMValueRef v) {
    return LLVMIsAConstantInt(v) && LLVMConstIntGetZExtValue(v) == 1;
}

LLVMValueRef ll_loop_open(LlKernel *k, LlLoop *l, LLVMValueRef from, LLVMValueRef count) {
    LLVMBuilderRef b = k->b;
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(b);
    l->head = block_after(k, "loop");
    l->exit = block_after(k, "next");
    l->count = count;
    LLVMValueRef any = LLVMBuildICmp(b, LLVMIntSLT, from, count, "");
    if (const_true(any)) LLVMBuildBr(b, l->head);
    else LLVMBuildCondBr(b, any, l->head, l->exit);
    LLVMPositionBuilderAtEnd(b, l->head);
    l->i = LLVMBuildPhi(b, k->file->i64, "i");
    LLVMAddIncoming(l->i, &from, &pre, 1);
    return l->i;
}

void ll_loop_close(LlKernel *k, LlLoop *l, long step) {
    LLVMBuilderRef b = k->b;
    LLVMValueRef next = LLVMBuildNSWAdd(b, l->i, ll_i64(k->file, step), "");
    LLVMValueRef more = LLVMBuildICmp(b, LLVMIntSLT, next, l->count, "");
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(b);
    LLVMBuildCondBr(b, more, l->head, l->exit);
    LLVMAddIncoming(l->i, &next, &latch, 1);
    LLVMPositionBuilderAtEnd(b, l->exit);
}

LLVMBasicBlockRef ll_if_open(LlKernel *k, LLVMValueRef cond) {
    LLVMBasicBlockRef then = block_after(k, "then"), done = block_after(k, "endif");
    LLVMBuildCondBr(k->b, cond, then, done);
    LLVMPositionBuilderAtEnd(k->b, then);
    return done;
}

void ll_if_close(LlKernel *k, LLVMBasicBlockRef done) {
    LLVMBuildBr(k->b, done);
    LLVMPositionBuilderAtEnd(k->b, done);
}

/* ---- nests ---- */

/* As the C backend's nests: a loop per axis longer than 1, or (unroll)
** every iteration written out in row-major order. */
void ll_nest_open(LlNest *ns, LlKernel *k, Shape s, bool unroll) {
    *ns = (LlNest){.k = k, .s = s, .unroll = unroll};
    for (int d = 0; d < s.rank; d++) {
        ns->c[d] = ll_i64(k->file, 0);
        if (unroll || s.dim[d] == 1) continue;
        ns->c[d] = ll_loop_open(k, &ns->loop[d], ll_i64(k->file, 0), ll_i64(k->file, s.dim[d]));
        ns->looped[d] = true;
    }
}

bool ll_nest_next(LlNest *ns) {
    for (int d = ns->s.rank - 1; d >= 0; d--) {
        if (ns->looped[d] || ns->s.dim[d] == 1) continue;
        if (++ns->at[d] < ns->s.dim[d]) {
            ns->c[d] = ll_i64(ns->k->file, ns->at[d]);
            return true;
        }
        ns->at[d] = 0;
        ns->c[d] = ll_i64(ns->k->file, 0);
    }
    for (int d = ns->s.rank - 1; d >= 0; d--)
        if (ns->looped[d]) ll_loop_close(ns->k, &ns->loop[d], 1);
    return false;
}

/* ---- register blocking (the C backend's block.c) ---- */

/* A block's sums are, per row, vectors of LL_VECTOR lanes and the lanes
** after the last whole vector one by one, as the C backend's chunk loops
** and written-out rest. Each step is a vector multiply and add per chunk:
** lane for lane the C backend's acc[j] += av * b[j] (IEEE operations on
** vectors round each lane as the scalar operation does: the same bits).
** Built as vectors rather than lane by lane for the SLP vectorizer to
** find, the module stays small and compiles faster; vectors of the
** host's width keep the code generator on its fast paths. */

#define LL_ACC_BLOCK 32  /* sums per block, one row */
#define LL_TILE_BLOCK 16 /* sums per block and row of a tile */
#define LL_SLOTS (LL_ACC_BLOCK / LL_VECTOR + LL_VECTOR)

typedef struct Block {
    const LlAcc *acc;
    int rows;            /* accumulator rows: the tile, or 1 */
    int chunks, tail;    /* width = chunks · LL_VECTOR + tail */
    LLVMTypeRef vec;     /* <LL_VECTOR x real> */
    LLVMValueRef base;   /* j of the block's first sum */
    LLVMValueRef sums[CG_ROW_TILE][LL_SLOTS]; /* locals: the chunks' vectors, then the tail's lanes */
} Block;

static LLVMValueRef lane_j(LlKernel *k, const Block *bl, int c) {
    return ll_add(k, bl->base, ll_i64(k->file, c));
}

LLVMValueRef ll_splat(LlKernel *k, LLVMValueRef v, int width) {
    LLVMTypeRef vec = LLVMVectorType(LLVMTypeOf(v), (unsigned)width);
    LLVMValueRef one = LLVMBuildInsertElement(k->b, LLVMGetUndef(vec), v, ll_i32(k->file, 0), "");
    LLVMValueRef zeros = LLVMConstNull(LLVMVectorType(k->file->i32, (unsigned)width));
    return LLVMBuildShuffleVector(k->b, one, LLVMGetUndef(vec), zeros, "");
}

/* A vector load or store at an element's address, aligned as the element. */
LLVMValueRef ll_vector_at(LlKernel *k, LLVMValueRef addr, LLVMValueRef store) {
    LLVMTypeRef vec = LLVMVectorType(k->file->real, LL_VECTOR);
    LLVMValueRef p = LLVMBuildBitCast(k->b, addr, LLVMPointerType(vec, 0), "");
    LLVMValueRef v = store ? LLVMBuildStore(k->b, store, p) : LLVMBuildLoad2(k->b, vec, p, "");
    LLVMSetAlignment(v, (unsigned)LLVMABISizeOfType(LLVMGetModuleDataLayout(k->file->mod), k->file->real));
    return v;
}

/* b_t[j .. j + LL_VECTOR): one load where the row is contiguous storage,
** else its elements one by one. */
static LLVMValueRef row_vector(LlKernel *k, const Block *bl, LLVMValueRef t, int c) {
    const LlAcc *acc = bl->acc;
    LLVMValueRef addr = acc->row_addr ? acc->row_addr(k, acc->ctx, t, lane_j(k, bl, c)) : NULL;
    if (addr) return ll_vector_at(k, addr, NULL);
    LLVMValueRef v = LLVMGetUndef(bl->vec);
    for (int l = 0; l < LL_VECTOR; l++)
        v = LLVMBuildInsertElement(k->b, v, acc->row(k, acc->ctx, t, lane_j(k, bl, c + l)), ll_i32(k->file, l), "");
    return v;
}

static void block_zero(LlKernel *k, Block *bl) {
    for (int row = 0; row < bl->rows; row++)
        for (int s = 0; s < bl->chunks + bl->tail; s++) {
            LLVMTypeRef type = s < bl->chunks ? bl->vec : k->file->real;
            bl->sums[row][s] = ll_local(k, type, "acc");
            ll_store(k, LLVMConstNull(type), bl->sums[row][s]);
        }
}

static void accumulate(LlKernel *k, LLVMValueRef sum, LLVMValueRef a, LLVMValueRef b) {
    ll_store(k, LLVMBuildFAdd(k->b, ll_load(k, sum), LLVMBuildFMul(k->b, a, b, ""), ""), sum);
}

/* acc[row][j] += av[row] · b_t[j]: 0 + a_0·b_0 + a_1·b_1 + ... per lane. */
static void block_step(LlKernel *k, Block *bl, LLVMValueRef t) {
    LLVMValueRef av[CG_ROW_TILE], splat[CG_ROW_TILE];
    for (int row = 0; row < bl->rows; row++) {
        av[row] = bl->acc->scalar(k, bl->acc->ctx, t, row);
        if (bl->chunks) splat[row] = ll_splat(k, av[row], LL_VECTOR);
    }
    for (int ch = 0; ch < bl->chunks; ch++) {
        LLVMValueRef bv = row_vector(k, bl, t, ch * LL_VECTOR);
        for (int row = 0; row < bl->rows; row++) accumulate(k, bl->sums[row][ch], splat[row], bv);
    }
    for (int l = 0; l < bl->tail; l++) {
        LLVMValueRef b = bl->acc->row(k, bl->acc->ctx, t, lane_j(k, bl, bl->chunks * LL_VECTOR + l));
        for (int row = 0; row < bl->rows; row++) accumulate(k, bl->sums[row][bl->chunks + l], av[row], b);
    }
}

static void block_store(LlKernel *k, const Block *bl) {
    const LlAcc *acc = bl->acc;
    for (int row = 0; row < bl->rows; row++) {
        for (int ch = 0; ch < bl->chunks; ch++) {
            LLVMValueRef v = ll_load(k, bl->sums[row][ch]), j = lane_j(k, bl, ch * LL_VECTOR);
            if (acc->store_vec && acc->store_vec(k, acc->ctx, row, j, v)) continue;
            for (int l = 0; l < LL_VECTOR; l++)
                acc->store(k, acc->ctx, row, lane_j(k, bl, ch * LL_VECTOR + l),
                           LLVMBuildExtractElement(k->b, v, ll_i32(k->file, l), ""));
        }
        for (int l = 0; l < bl->tail; l++)
            acc->store(k, acc->ctx, row, lane_j(k, bl, bl->chunks * LL_VECTOR + l),
                       ll_load(k, bl->sums[row][bl->chunks + l]));
    }
}

static void block(LlKernel *k, const LlAcc *acc, int rows, int width, LLVMValueRef base) {
    Block bl = {.acc = acc, .rows = rows, .chunks = width / LL_VECTOR, .tail = width % LL_VECTOR, .base = base,
                .vec = LLVMVectorType(k->file->real, LL_VECTOR)};
    block_zero(k, &bl);
    LlLoop loop;
    LLVMValueRef count = acc->count ? ll_i64(k->file, acc->count) : k->n;
    LLVMValueRef t = ll_loop_open(k, &loop, ll_i64(k->file, 0), count);
    LLVMValueRef saved_r = k->r;
    if (acc->over_rows) k->r = t;
    block_step(k, &bl, t);
    k->r = saved_r;
    ll_loop_close(k, &loop, 1);
    block_store(k, &bl);
}

void ll_acc(LlKernel *k, const LlAcc *acc, int tile) {
    int rows = tile ? tile : 1, size = tile ? LL_TILE_BLOCK : LL_ACC_BLOCK;
    int full = acc->width / size * size, rest = acc->width - full;
    if (full == size) {
        block(k, acc, rows, size, ll_i64(k->file, 0));
    } else if (full) {
        LlLoop jb;
        LLVMValueRef base = ll_loop_open(k, &jb, ll_i64(k->file, 0), ll_i64(k->file, full));
        block(k, acc, rows, size, base);
        ll_loop_close(k, &jb, size);
    }
    if (rest) block(k, acc, rows, rest, ll_i64(k->file, full));
}
