/*
** test_shape.c — the shape rules of src/ir/shape.c, with the examples of
** SPEC 1.4 and the cases around them that must fail.
*/
#include <criterion/criterion.h>

#include "ir/ir.h"

static Shape S(int rank, ...) {
    int dims[IR_MAX_RANK];
    va_list ap;
    va_start(ap, rank);
    for (int i = 0; i < rank; i++) dims[i] = va_arg(ap, int);
    va_end(ap);
    return shape_of(rank, dims);
}

static const char *fmt(Shape s) {
    static char bufs[4][64];
    static int next;
    char *buf = bufs[next++ % 4];
    return shape_format(s, buf, 64);
}

#define expect_shape(got, want) cr_expect_str_eq(fmt(got), fmt(want))

Test(shape, constructors_and_format) {
    cr_expect_str_eq(fmt(shape_scalar()), "[]");
    cr_expect_str_eq(fmt(shape_vector(30)), "[30]");
    cr_expect_str_eq(fmt(shape_matrix(30, 15)), "[30, 15]");
    cr_expect_str_eq(fmt(S(3, 2, 3, 4)), "[2, 3, 4]");
    char small[6];
    cr_expect_str_eq(shape_format(S(2, 300, 400), small, sizeof small), "[300,");
}

Test(shape, numel_eq_valid) {
    cr_expect_eq(shape_numel(shape_scalar()), 1);
    cr_expect_eq(shape_numel(S(3, 2, 3, 4)), 24);
    cr_expect(shape_eq(shape_matrix(2, 3), S(2, 2, 3)));
    cr_expect(!shape_eq(shape_matrix(2, 3), S(2, 3, 2)));
    cr_expect(!shape_eq(shape_vector(1), shape_scalar()));
    cr_expect(shape_valid(shape_scalar()));
    cr_expect(!shape_valid(shape_vector(0)));
    cr_expect(!shape_valid((Shape){.rank = IR_MAX_RANK + 1}));
}

/* Issue 10: eight dims of 100000 wrapped int64 (UB); the count saturates. */
Test(shape, numel_saturates) {
    Shape s = {.rank = 8};
    for (int i = 0; i < 8; i++) s.dim[i] = 100000;
    cr_expect_eq(shape_numel(s), INT64_MAX);
    cr_expect_eq(shape_numel(shape_matrix(46341, 46341)), 2147488281LL);
    cr_expect_gt(shape_numel(shape_matrix(46341, 46341)), IR_MAX_NUMEL);
}

Test(shape, broadcast) {
    Shape r;
    cr_assert(shape_broadcast(S(2, 2, 2), shape_scalar(), &r)); /* b * 5 + 1 */
    expect_shape(r, S(2, 2, 2));
    cr_assert(shape_broadcast(shape_scalar(), S(2, 2, 2), &r));
    expect_shape(r, S(2, 2, 2));
    cr_assert(shape_broadcast(S(2, 3, 1), S(1, 4), &r));
    expect_shape(r, S(2, 3, 4));
    cr_assert(shape_broadcast(S(3, 5, 1, 3), S(2, 4, 1), &r));
    expect_shape(r, S(3, 5, 4, 3));
    cr_assert(shape_broadcast(S(1, 30), S(1, 30), &r));
    expect_shape(r, S(1, 30));
    cr_assert(shape_broadcast(shape_scalar(), shape_scalar(), &r));
    expect_shape(r, shape_scalar());
    cr_expect(!shape_broadcast(S(1, 16), S(1, 10), &r));
    cr_expect(!shape_broadcast(S(2, 2, 3), S(1, 2), &r));
    cr_expect(!shape_broadcast(S(2, 3, 4), S(2, 4, 3), &r));
}

Test(shape, matmul) {
    Shape r;
    cr_assert(shape_matmul(S(1, 30), S(2, 30, 15), &r));
    expect_shape(r, S(1, 15));
    cr_assert(shape_matmul(S(2, 2, 3), S(2, 3, 4), &r));
    expect_shape(r, S(2, 2, 4));
    cr_assert(shape_matmul(S(1, 3), S(1, 3), &r));
    expect_shape(r, shape_scalar());
    cr_assert(shape_matmul(S(2, 2, 3), S(1, 3), &r));
    expect_shape(r, S(1, 2));
    cr_expect(!shape_matmul(S(1, 30), S(2, 15, 30), &r));
    cr_expect(!shape_matmul(S(2, 2, 3), S(2, 2, 3), &r));
    cr_expect(!shape_matmul(S(1, 3), S(1, 4), &r));
    cr_expect(!shape_matmul(shape_scalar(), S(1, 3), &r));
    cr_expect(!shape_matmul(S(1, 3), shape_scalar(), &r));
    cr_expect(!shape_matmul(S(3, 2, 3, 4), S(2, 4, 5), &r));
    cr_expect(!shape_matmul(S(2, 2, 3), S(3, 3, 4, 5), &r));
}

Test(shape, axis) {
    cr_expect_eq(shape_axis(S(2, 2, 3), 0), 0);
    cr_expect_eq(shape_axis(S(2, 2, 3), 1), 1);
    cr_expect_eq(shape_axis(S(2, 2, 3), -1), 1);
    cr_expect_eq(shape_axis(S(2, 2, 3), -2), 0);
    cr_expect_eq(shape_axis(S(2, 2, 3), 2), -1);
    cr_expect_eq(shape_axis(S(2, 2, 3), -3), -1);
    cr_expect_eq(shape_axis(shape_scalar(), 0), -1);
    cr_expect_eq(shape_axis(S(2, 2, 3), IR_AXIS_ALL), -1);
}

Test(shape, reduce) {
    Shape r;
    cr_assert(shape_reduce(S(2, 2, 3), 1, &r)); /* sum(ones(2,3), axis = 1) */
    expect_shape(r, S(1, 2));
    cr_assert(shape_reduce(S(2, 2, 3), 0, &r));
    expect_shape(r, S(1, 3));
    cr_assert(shape_reduce(S(2, 2, 3), -1, &r));
    expect_shape(r, S(1, 2));
    cr_assert(shape_reduce(S(3, 2, 3, 4), -2, &r));
    expect_shape(r, S(2, 2, 4));
    cr_assert(shape_reduce(S(1, 7), 0, &r));
    expect_shape(r, shape_scalar());
    cr_assert(shape_reduce(S(2, 2, 3), IR_AXIS_ALL, &r));
    expect_shape(r, shape_scalar());
    cr_assert(shape_reduce(shape_scalar(), IR_AXIS_ALL, &r));
    expect_shape(r, shape_scalar());
    cr_expect(!shape_reduce(S(2, 2, 3), 2, &r));
    cr_expect(!shape_reduce(S(2, 2, 3), -3, &r));
    cr_expect(!shape_reduce(shape_scalar(), 0, &r));
    cr_expect(!shape_reduce(shape_scalar(), -1, &r));
}

Test(shape, reshape_transpose) {
    cr_expect(shape_reshape(S(3, 28, 28, 1), S(1, 784)));
    cr_expect(shape_reshape(S(1, 1), shape_scalar()));
    cr_expect(!shape_reshape(S(2, 28, 28), S(1, 785)));
    cr_expect(!shape_reshape(S(1, 4), S(2, 4, 0)));
    expect_shape(shape_transpose(S(2, 2, 3)), S(2, 3, 2));
    expect_shape(shape_transpose(S(3, 2, 3, 4)), S(3, 4, 3, 2));
    expect_shape(shape_transpose(S(1, 5)), S(1, 5));
    expect_shape(shape_transpose(shape_scalar()), shape_scalar());
}

/* The SPEC 1.4 indexing examples on a [4, 5] matrix. */
Test(shape, slice) {
    Shape a = S(2, 4, 5);
    IrSlice both = {.rank = 2, .start = {0, 0}, .drop = 3};          /* a[0,0] */
    IrSlice col = {.rank = 2, .start = {0, 0}, .stop = {4, 0}, .drop = 2}; /* a[:,0] */
    IrSlice row = {.rank = 2, .start = {0, 0}, .stop = {0, 5}, .drop = 1}; /* a[0,:] */
    IrSlice rows = {.rank = 1, .start = {1}, .stop = {3}};           /* a[1:3] */
    IrSlice mixed = {.rank = 2, .start = {3, 1}, .stop = {0, 3}, .drop = 1}; /* a[-1, 1:3] */
    cr_expect(shape_slice_valid(a, &both));
    cr_expect(shape_slice_valid(a, &col));
    cr_expect(shape_slice_valid(a, &row));
    cr_expect(shape_slice_valid(a, &rows));
    cr_expect(shape_slice_valid(a, &mixed));
    expect_shape(shape_slice(a, &both), shape_scalar());
    expect_shape(shape_slice(a, &col), S(1, 4));
    expect_shape(shape_slice(a, &row), S(1, 5));
    expect_shape(shape_slice(a, &rows), S(2, 2, 5));
    expect_shape(shape_slice(a, &mixed), S(1, 2));
}

Test(shape, slice_invalid) {
    Shape a = S(2, 4, 5);
    IrSlice index_past = {.rank = 1, .start = {4}, .drop = 1};
    IrSlice stop_past = {.rank = 2, .start = {0, 2}, .stop = {4, 6}};
    IrSlice empty = {.rank = 1, .start = {2}, .stop = {2}};
    IrSlice too_many = {.rank = 3, .start = {0, 0, 0}, .drop = 7};
    IrSlice stray_drop = {.rank = 1, .start = {0}, .stop = {2}, .drop = 2};
    IrSlice negative = {.rank = 1, .start = {-1}, .drop = 1};
    cr_expect(!shape_slice_valid(a, &index_past));
    cr_expect(!shape_slice_valid(a, &stop_past));
    cr_expect(!shape_slice_valid(a, &empty));
    cr_expect(!shape_slice_valid(a, &too_many));
    cr_expect(!shape_slice_valid(a, &stray_drop));
    cr_expect(!shape_slice_valid(a, &negative));
}
