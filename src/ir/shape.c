/*
** shape.c — static shapes and the shape rule of every op family (SPEC 1.4).
**
** Shapes are per sample: the batch axis never appears here. Every rule is a
** pure function of shapes so the front end can use it to report user errors
** before building, and the builder and verifier to check what was built.
*/
#include "ir.h"

#include <stdio.h>

Shape shape_scalar(void) {
    Shape s = {0};
    return s;
}

Shape shape_vector(int n) {
    Shape s = {.rank = 1};
    s.dim[0] = n;
    return s;
}

Shape shape_matrix(int rows, int cols) {
    Shape s = {.rank = 2};
    s.dim[0] = rows;
    s.dim[1] = cols;
    return s;
}

Shape shape_of(int rank, const int *dims) {
    if (rank < 0 || rank > IR_MAX_RANK) die("shape_of: rank %d", rank);
    Shape s = {.rank = rank};
    for (int i = 0; i < rank; i++) s.dim[i] = dims[i];
    return s;
}

bool shape_valid(Shape s) {
    if (s.rank < 0 || s.rank > IR_MAX_RANK) return false;
    for (int i = 0; i < s.rank; i++)
        if (s.dim[i] < 1) return false;
    return true;
}

/* Only the first `rank` dims are meaningful; the rest may hold anything. */
bool shape_eq(Shape a, Shape b) {
    if (a.rank != b.rank) return false;
    for (int i = 0; i < a.rank; i++)
        if (a.dim[i] != b.dim[i]) return false;
    return true;
}

/* Saturates at INT64_MAX: eight dims of 2^31 must not wrap (a wrapped
** product once sized a loop that was then "fully unrolled"). */
int64_t shape_numel(Shape s) {
    int64_t n = 1;
    for (int i = 0; i < s.rank; i++) {
        if (s.dim[i] <= 0) return 0;
        if (n > INT64_MAX / s.dim[i]) return INT64_MAX;
        n *= s.dim[i];
    }
    return n;
}

char *shape_format(Shape s, char *buf, size_t size) {
    if (size == 0) return buf;
    size_t len = 0;
    buf[0] = '\0';
    len += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < s.rank && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, i ? ", %d" : "%d", s.dim[i]);
    if (len < size) snprintf(buf + len, size - len, "]");
    return buf;
}

/* NumPy: align trailing axes; equal sizes match and a size of 1 stretches. */
bool shape_broadcast(Shape a, Shape b, Shape *out) {
    Shape r = {.rank = a.rank > b.rank ? a.rank : b.rank};
    for (int i = 1; i <= r.rank; i++) {
        int da = i <= a.rank ? a.dim[a.rank - i] : 1;
        int db = i <= b.rank ? b.dim[b.rank - i] : 1;
        if (da != db && da != 1 && db != 1) return false;
        r.dim[r.rank - i] = da == 1 ? db : da;
    }
    *out = r;
    return true;
}

/* numpy.matmul restricted to rank 1 and 2: a vector on the left acts as a
** row and loses that axis, a vector on the right as a column, likewise. */
bool shape_matmul(Shape a, Shape b, Shape *out) {
    if (a.rank < 1 || a.rank > 2 || b.rank < 1 || b.rank > 2) return false;
    int k_a = a.dim[a.rank - 1];
    int k_b = b.dim[0];
    if (k_a != k_b) return false;
    Shape r = {0};
    if (a.rank == 2) r.dim[r.rank++] = a.dim[0];
    if (b.rank == 2) r.dim[r.rank++] = b.dim[1];
    *out = r;
    return true;
}

int shape_axis(Shape x, int axis) {
    if (axis == IR_AXIS_ALL) return -1;
    if (axis < 0) axis += x.rank;
    return axis >= 0 && axis < x.rank ? axis : -1;
}

/* keepdims is false, as in Keras' reductions. */
bool shape_reduce(Shape x, int axis, Shape *out) {
    if (axis == IR_AXIS_ALL) {
        *out = shape_scalar();
        return true;
    }
    int a = shape_axis(x, axis);
    if (a < 0) return false;
    Shape r = {.rank = x.rank - 1};
    for (int i = 0, j = 0; i < x.rank; i++)
        if (i != a) r.dim[j++] = x.dim[i];
    *out = r;
    return true;
}

bool shape_reshape(Shape x, Shape to) {
    return shape_valid(x) && shape_valid(to) && shape_numel(x) == shape_numel(to);
}

Shape shape_transpose(Shape x) {
    Shape r = {.rank = x.rank};
    for (int i = 0; i < x.rank; i++) r.dim[i] = x.dim[x.rank - 1 - i];
    return r;
}

/* A dropped axis holds its index in start; a range must keep at least one
** element, since no dimension is empty (SPEC 1.11). */
bool shape_slice_valid(Shape x, const IrSlice *slice) {
    if (slice->rank < 0 || slice->rank > x.rank) return false;
    if (slice->drop >> slice->rank) return false; /* bits past the indexed axes */
    for (int i = 0; i < slice->rank; i++) {
        int start = slice->start[i], stop = slice->stop[i];
        if (start < 0 || start >= x.dim[i]) return false;
        if (!(slice->drop >> i & 1u) && (stop <= start || stop > x.dim[i])) return false;
    }
    return true;
}

Shape shape_slice(Shape x, const IrSlice *slice) {
    Shape r = {0};
    for (int i = 0; i < x.rank; i++) {
        if (i >= slice->rank)
            r.dim[r.rank++] = x.dim[i];
        else if (!(slice->drop >> i & 1u))
            r.dim[r.rank++] = slice->stop[i] - slice->start[i];
    }
    return r;
}
