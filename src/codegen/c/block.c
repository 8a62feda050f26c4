/*
** block.c — register blocking for the products that dominate training:
** a matmul row y[j] = Σ_k x[k]·W[k][j] and a weight gradient row
** dW[i][j] = Σ_r x[r][i]·dy[r][j]. The sums live in a local array that
** the loop over t (k or r) updates in chunks of CG_VECTOR lanes:
**
**     nnc_real acc[30] = {0};
**     for (int k = 0; k < 30; k++) {
**         const nnc_real av = x[k];
**         for (int j0 = 0; j0 < 8; j0++) acc[j0] += av * W[k * 30 + j0];
**         ...                                   (chunks at 8 and 16)
**         acc[24] += av * W[k * 30 + 24];       (the rest, written out)
**     }
**
** Each chunk loop becomes one vector FMA and, every index being constant,
** GCC and clang keep the whole array in registers: no loads and stores of
** the sums inside the loop. Wide rows go in blocks of CG_ACC_BLOCK.
**
** A tile computes several such rows at once (acc0, acc1, ...: rows of the
** batch for a matmul, rows of dW for a batch sum) so that each vector of
** W or dy loaded serves every row of the tile: large weights are then
** read from memory a tile, not a row, at a time.
*/
#include "cgen.h"

typedef struct Step {
    const CgAcc *acc;
    int tile;      /* accumulator rows: acc0.., or one unnamed acc */
} Step;

static const char *acc_name(const Step *st, Arena *a, int t) {
    return st->tile ? arena_printf(a, "acc%d", t) : "acc";
}

/* acc's index is j's offset in the block: the chunk start, plus j0 in a loop. */
static const char *lane(const Step *st, Arena *a, int t, int c, CgAff j) {
    const char *name = acc_name(st, a, t);
    if (!j.k[CG_V_J0]) return arena_printf(a, "%s[%d]", name, c);
    return c ? arena_printf(a, "%s[%d + j0]", name, c) : arena_printf(a, "%s[j0]", name);
}

typedef const char *(*Each)(CgKernel *k, const Step *st, CgAff j, int c);

/* Chunk loops of CG_VECTOR lanes, then the lanes after the last chunk. */
static void chunks(CgKernel *k, const Step *st, int width, CgAff base, Each each) {
    int full = width / CG_VECTOR * CG_VECTOR;
    for (int c = 0; c < full; c += CG_VECTOR) {
        CgAff j = cg_aff_add(base, cg_aff_add(cg_aff_const(c), cg_aff_var(CG_V_J0)));
        cg_c_line(k->body, "for (int j0 = 0; j0 < %d; j0++) %s", CG_VECTOR, each(k, st, j, c));
    }
    for (int c = full; c < width; c++) cg_c_line(k->body, "%s", each(k, st, cg_aff_add(base, cg_aff_const(c)), c));
}

static const char *update(CgKernel *k, const Step *st, CgAff j, int c) {
    Arena *a = k->file->arena;
    const char *b = st->acc->row(k, st->acc->ctx, j);
    if (!st->tile) return arena_printf(a, "%s += av * %s;", lane(st, a, 0, c, j), b);
    const char *text = arena_printf(a, "{\n%*s    const nnc_real b = %s;\n", 4 * k->body->indent, "", b);
    for (int t = 0; t < st->tile; t++)
        text = arena_printf(a, "%s%*s    %s += av%d * b;\n", text, 4 * k->body->indent, "", lane(st, a, t, c, j), t);
    return arena_printf(a, "%s%*s}", text, 4 * k->body->indent, "");
}

static const char *store(CgKernel *k, const Step *st, CgAff j, int c) {
    Arena *a = k->file->arena;
    const char *text = NULL;
    for (int t = 0; t < (st->tile ? st->tile : 1); t++) {
        const char *s = st->acc->store(k, st->acc->ctx, t, j, lane(st, a, t, c, j));
        text = text ? arena_printf(a, "%s %s", text, s) : s;
    }
    return st->tile > 1 ? arena_printf(a, "{ %s }", text) : text;
}

static void block(CgKernel *k, const Step *st, int width, CgAff base) {
    Arena *a = k->file->arena;
    int rows = st->tile ? st->tile : 1;
    cg_c_block(k->body);
    for (int t = 0; t < rows; t++) cg_c_line(k->body, "nnc_real %s[%d] = {0};", acc_name(st, a, t), width);
    cg_c_open(k->body, "%s", st->acc->loop);
    for (int t = 0; t < rows; t++)
        cg_c_line(k->body, "const nnc_real av%s = %s;", st->tile ? arena_printf(a, "%d", t) : "",
                  st->acc->scalar(k, st->acc->ctx, t));
    chunks(k, st, width, base, update);
    cg_c_close(k->body);
    chunks(k, st, width, base, store);
    cg_c_close(k->body);
}

static void blocks(CgKernel *k, const Step *st, int size) {
    int full = st->acc->width / size * size, rest = st->acc->width - full;
    if (full == size) {
        block(k, st, size, cg_aff_const(0));
    } else if (full) {
        cg_c_open(k->body, "for (int jb = 0; jb < %d; jb += %d)", full, size);
        block(k, st, size, cg_aff_var(CG_V_JB));
        cg_c_close(k->body);
    }
    if (rest) block(k, st, rest, cg_aff_const(full));
}

void cg_c_acc(CgKernel *k, const CgAcc *acc) {
    Step st = {acc, 0};
    blocks(k, &st, CG_ACC_BLOCK);
}

void cg_c_acc_tile(CgKernel *k, const CgAcc *acc, int tile) {
    Step st = {acc, tile};
    blocks(k, &st, CG_TILE_BLOCK);
}
