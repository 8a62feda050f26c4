/*
** ir.c — the op table, modules and functions, and the hash-consing builder.
**
** Every node is made by ir_emit: it normalizes the prototype (only the
** attributes its op reads survive, axes in 0..rank-1), derives the shape by
** the rules of shape.c, and returns the equal node the function already has
** or appends a new one. Equal means same op, same operands, same attributes;
** the source location is not part of it, so a merged node keeps the first
** location. Node ids are positions in f->nodes, which are topological
** because operands must exist before their users.
*/
#include "ir.h"

#include <string.h>

const OpInfo ir_ops[OP_COUNT] = {
#define OP(name, text, arity, flags) [OP_##name] = {text, arity, flags},
#include "ops.def"
#undef OP
};

/* ---- modules, functions, parameters ---- */

IrModule *ir_module_new(Arena *arena, const char *file, const char *name) {
    IrModule *m = ARENA_NEW(arena, IrModule);
    m->arena = arena;
    m->file = file;
    m->name = name;
    /* SPEC 1.10 defaults, for a model without a fit block. */
    m->fit.epochs = 1;
    m->fit.batch_size = 32;
    m->fit.shuffle = true;
    m->fit.verbose = 1;
    /* Keras' compile() defaults to rmsprop; loss stays LOSS_MSE (0). */
    m->optimizer = (OptSpec){.kind = OPT_RMSPROP, .learning_rate = 0.001, .rho = 0.9,
                             .epsilon = 1e-7, .beta_1 = 0.9, .beta_2 = 0.999,
                             .initial_accumulator_value = 0.1, .weight_decay = 0.004};
    return m;
}

IrFunc *ir_func_new(IrModule *m, const char *name) {
    IrFunc *f = ARENA_NEW(m->arena, IrFunc);
    f->name = name;
    f->module = m;
    return f;
}

int ir_add_param(IrModule *m, IrParam param) {
    if (!shape_valid(param.shape)) die("parameter %s has an invalid shape", param.name);
    ARENA_PUSH(m->arena, m->params, param);
    return m->params.len - 1;
}

int64_t ir_param_count(const IrModule *m, bool trainable_only) {
    int64_t n = 0;
    for (int i = 0; i < m->params.len; i++)
        if (!trainable_only || m->params.items[i].trainable) n += shape_numel(m->params.items[i].shape);
    return n;
}

/* ---- shape rules per node ---- */

static bool operands_present(const IrNode *n) {
    if (n->nin != ir_ops[n->op].arity) return false;
    for (int i = 0; i < n->nin; i++)
        if (!n->in[i]) return false;
    return true;
}

static bool leaf_shape(const IrModule *m, const IrNode *n, Shape *out) {
    if (!shape_valid(n->shape)) return false;
    bool of_param = n->op == OP_PARAM || n->op == OP_GRAD || n->op == OP_STATE;
    if (of_param &&
        (!m || n->param < 0 || n->param >= m->params.len ||
         !shape_eq(n->shape, m->params.items[n->param].shape)))
        return false;
    if (n->op == OP_HYPER && n->shape.rank != 0) return false;
    *out = n->shape;
    return true;
}

static bool structure_shape(const IrNode *n, Shape *out) {
    Shape x = n->in[0]->shape, r;
    switch (n->op) {
    case OP_SOFTMAX:
        if (shape_axis(x, n->axis) < 0) return false;
        *out = x;
        return true;
    case OP_MATMUL:
        return shape_matmul(x, n->in[1]->shape, out);
    case OP_RESHAPE:
        if (!shape_reshape(x, n->shape)) return false;
        *out = n->shape;
        return true;
    case OP_TRANSPOSE:
        *out = shape_transpose(x);
        return true;
    case OP_SLICE:
        if (!shape_slice_valid(x, &n->slice)) return false;
        *out = shape_slice(x, &n->slice);
        return true;
    case OP_BROADCAST:
        if (!shape_valid(n->shape) || !shape_broadcast(x, n->shape, &r) || !shape_eq(r, n->shape))
            return false;
        *out = n->shape;
        return true;
    case OP_DROPOUT:
    case OP_BATCH_SUM:
        *out = x;
        return true;
    case OP_OUTER:
        if (x.rank != 1 || n->in[1]->shape.rank != 1) return false;
        *out = shape_matrix(x.dim[0], n->in[1]->shape.dim[0]);
        return true;
    case OP_ONE_HOT:
        if (x.rank != 0 || n->axis < 1) return false;
        *out = shape_vector(n->axis);
        return true;
    case OP_PAD:
        if (!shape_valid(n->shape) || !shape_slice_valid(n->shape, &n->slice) ||
            !shape_eq(shape_slice(n->shape, &n->slice), x))
            return false;
        *out = n->shape;
        return true;
    default:
        die("no shape rule for %s", ir_ops[n->op].name);
    }
}

bool ir_rule_shape(const IrModule *m, const IrNode *n, Shape *out) {
    if ((unsigned)n->op >= OP_COUNT || !operands_present(n)) return false;
    unsigned flags = ir_ops[n->op].flags;
    if (flags & OPF_LEAF) return leaf_shape(m, n, out);
    if (flags & OPF_EW) {
        Shape s = n->in[0]->shape;
        for (int i = 1; i < n->nin; i++)
            if (!shape_broadcast(s, n->in[i]->shape, &s)) return false;
        *out = s;
        return true;
    }
    if (flags & OPF_REDUCE) return shape_reduce(n->in[0]->shape, n->axis, out);
    return structure_shape(n, out);
}

/* ---- hash-consing ---- */

/* The function's only input, target and prediction: one node each. */
static bool unique_leaf(Op op) {
    return op == OP_INPUT || op == OP_TARGET || op == OP_PRED;
}

static uint64_t mix(uint64_t h, uint64_t v) {
    h = (h ^ v) * 0x9E3779B97F4A7C15u;
    return h ^ (h >> 29);
}

static uint64_t double_bits(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static uint64_t node_hash(const IrNode *n) {
    uint64_t h = mix(0x243F6A8885A308D3u, (uint64_t)n->op);
    if (unique_leaf(n->op)) return h;
    for (int i = 0; i < n->nin; i++) h = mix(h, (uint64_t)n->in[i]->id);
    h = mix(h, (uint64_t)n->shape.rank);
    for (int i = 0; i < n->shape.rank; i++) h = mix(h, (uint64_t)n->shape.dim[i]);
    h = mix(h, double_bits(n->value));
    h = mix(h, (uint64_t)(uint32_t)n->axis);
    h = mix(h, (uint64_t)n->param);
    h = mix(h, n->slice.drop);
    for (int i = 0; i < n->slice.rank; i++)
        h = mix(h, (uint64_t)n->slice.start[i] << 32 | (uint32_t)n->slice.stop[i]);
    if (n->data)
        for (int64_t i = 0; i < shape_numel(n->shape); i++) h = mix(h, double_bits(n->data[i]));
    return h;
}

static bool slice_eq(const IrSlice *a, const IrSlice *b) {
    if (a->rank != b->rank || a->drop != b->drop) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->start[i] != b->start[i] || a->stop[i] != b->stop[i]) return false;
    return true;
}

/* Bitwise, not ==: -0 and 0 differ as constants, and a NaN equals itself. */
static bool data_eq(const IrNode *a, const IrNode *b) {
    if (!a->data || !b->data) return a->data == b->data;
    size_t bytes = sizeof(double) * (size_t)shape_numel(a->shape);
    return a->data == b->data || memcmp(a->data, b->data, bytes) == 0;
}

static bool node_eq(const IrNode *a, const IrNode *b) {
    if (a->op != b->op) return false;
    if (unique_leaf(a->op)) return true;
    for (int i = 0; i < a->nin; i++)
        if (a->in[i] != b->in[i]) return false;
    return shape_eq(a->shape, b->shape) && double_bits(a->value) == double_bits(b->value) &&
           a->axis == b->axis && a->param == b->param && slice_eq(&a->slice, &b->slice) &&
           data_eq(a, b);
}

/* The slot holding a node equal to key, or the empty slot where it goes. */
static int table_slot(const IrFunc *f, const IrNode *key) {
    unsigned mask = (unsigned)f->table_cap - 1;
    unsigned i = (unsigned)node_hash(key) & mask;
    while (f->table[i] && !node_eq(f->table[i], key)) i = (i + 1) & mask;
    return (int)i;
}

/* Keeps the load under 3/4, counting every node (NOCSE ones never enter the
** table, so this over-counts, which only grows the table early). */
static void table_reserve(IrFunc *f) {
    if (f->table && (f->nodes.len + 1) * 4 <= f->table_cap * 3) return;
    int cap = f->table_cap ? f->table_cap * 2 : 64;
    IrNode **old = f->table;
    int old_cap = f->table_cap;
    f->table = ARENA_ARRAY(f->module->arena, IrNode *, cap);
    f->table_cap = cap;
    for (int i = 0; i < old_cap; i++)
        if (old[i]) f->table[table_slot(f, old[i])] = old[i];
}

/* ---- ir_emit ---- */

static bool node_in_func(const IrFunc *f, const IrNode *n) {
    return n && n->id >= 0 && n->id < f->nodes.len && f->nodes.items[n->id] == n;
}

static bool reads_value(Op op, const IrNode *proto) {
    return (ir_ops[op].flags & OPF_ATTR) || (op == OP_CONST && !proto->data);
}

static bool carries_shape(Op op) {
    return (ir_ops[op].flags & OPF_LEAF) || op == OP_RESHAPE || op == OP_BROADCAST || op == OP_PAD;
}

/* A dropped axis keeps only its index; its stop is set to index + 1 so that
** equal slices compare equal whatever the caller left there. */
static IrSlice slice_normalize(const IrSlice *s) {
    IrSlice r = {.rank = s->rank, .drop = s->drop};
    if (r.rank < 0 || r.rank > IR_MAX_RANK) die("slice of rank %d", r.rank);
    for (int i = 0; i < r.rank; i++) {
        r.start[i] = s->start[i];
        r.stop[i] = (r.drop >> i & 1u) ? s->start[i] + 1 : s->stop[i];
    }
    return r;
}

/* The prototype with only what its op reads: the attributes of other ops
** are zero so that hashing and comparing may look at every field. */
static IrNode normalize(const IrFunc *f, const IrNode *proto) {
    Op op = proto->op;
    if ((unsigned)op >= OP_COUNT) die("ir_emit: bad op %d", (int)op);
    const OpInfo *info = &ir_ops[op];
    if (proto->nin != info->arity)
        die("ir_emit: %s takes %d operands, got %d", info->name, info->arity, proto->nin);
    IrNode n = {.op = op, .nin = info->arity, .loc = proto->loc};
    for (int i = 0; i < n.nin; i++) {
        if (!node_in_func(f, proto->in[i]))
            die("ir_emit: operand %d of %s is not a node of %s", i, info->name, f->name);
        n.in[i] = proto->in[i];
    }
    if (reads_value(op, proto)) n.value = proto->value;
    if (op == OP_CONST) n.data = proto->data;
    if ((info->flags & OPF_REDUCE) || op == OP_SOFTMAX || op == OP_STATE || op == OP_HYPER ||
        op == OP_ONE_HOT || op == OP_DROPOUT_MASK)
        n.axis = proto->axis;
    if (op == OP_PARAM || op == OP_GRAD || op == OP_STATE) n.param = proto->param;
    if (op == OP_SLICE || op == OP_PAD) n.slice = slice_normalize(&proto->slice);
    if (carries_shape(op)) n.shape = proto->shape;
    return n;
}

/* Per-sample data enters through the input, the target, the prediction
** and dropout masks, and leaves through BATCH_SUM. */
static bool is_varying(const IrNode *n) {
    switch (n->op) {
    case OP_INPUT: case OP_TARGET: case OP_PRED: case OP_DROPOUT_MASK: return true;
    case OP_BATCH_SUM: return false;
    default: break;
    }
    for (int i = 0; i < n->nin; i++)
        if (n->in[i]->varying) return true;
    return false;
}

/* Sets the shape by the rules, normalizes axes, checks the dropout rate. */
static void check_node(const IrFunc *f, IrNode *n) {
    Shape s;
    if (!ir_rule_shape(f->module, n, &s)) {
        char a[64] = "", b[64] = "";
        if (n->nin > 0) shape_format(n->in[0]->shape, a, sizeof a);
        if (n->nin > 1) shape_format(n->in[1]->shape, b, sizeof b);
        char own[64];
        die("ir_emit: invalid shape for %s (operands %s %s, shape %s)", ir_ops[n->op].name, a, b,
            shape_format(n->shape, own, sizeof own));
    }
    n->shape = s;
    if (n->op == OP_SOFTMAX || ((ir_ops[n->op].flags & OPF_REDUCE) && n->axis != IR_AXIS_ALL))
        n->axis = shape_axis(n->in[0]->shape, n->axis);
    if ((n->op == OP_DROPOUT || n->op == OP_DROPOUT_MASK) && !(n->value >= 0 && n->value < 1))
        die("ir_emit: dropout rate %g outside [0, 1)", n->value);
    n->varying = is_varying(n);
}

static IrNode *append(IrFunc *f, const IrNode *key) {
    Arena *arena = f->module->arena;
    IrNode *n = ARENA_NEW(arena, IrNode);
    *n = *key;
    n->id = f->nodes.len;
    if (key->data) {
        /* The caller's buffer may be temporary; the module owns a copy. */
        size_t count = (size_t)shape_numel(key->shape);
        double *copy = ARENA_ARRAY(arena, double, count);
        memcpy(copy, key->data, sizeof(double) * count);
        n->data = copy;
    }
    ARENA_PUSH(arena, f->nodes, n);
    return n;
}

IrNode *ir_emit(IrFunc *f, const IrNode *proto) {
    IrNode key = normalize(f, proto);
    check_node(f, &key);
    if (ir_ops[key.op].flags & OPF_NOCSE) return append(f, &key);
    table_reserve(f);
    int slot = table_slot(f, &key);
    IrNode *found = f->table[slot];
    if (found) {
        if (!shape_eq(found->shape, key.shape))
            die("ir_emit: %s asked again with another shape", ir_ops[key.op].name);
        return found;
    }
    return f->table[slot] = append(f, &key);
}

/* ---- builders: one per op family, each checking it was given that family ---- */

static void expect(bool ok, const char *builder, Op op) {
    if (!ok) die("%s cannot build %s", builder, (unsigned)op < OP_COUNT ? ir_ops[op].name : "?");
}

static IrNode *emit1(IrFunc *f, Op op, IrNode *x, Loc loc, IrNode proto) {
    proto.op = op;
    proto.nin = 1;
    proto.in[0] = x;
    proto.loc = loc;
    return ir_emit(f, &proto);
}

IrNode *ir_input(IrFunc *f, Shape shape, Loc loc) {
    return ir_emit(f, &(IrNode){.op = OP_INPUT, .shape = shape, .loc = loc});
}

IrNode *ir_leaf(IrFunc *f, Op op, Shape shape, Loc loc) {
    expect(unique_leaf(op), "ir_leaf", op);
    return ir_emit(f, &(IrNode){.op = op, .shape = shape, .loc = loc});
}

IrNode *ir_param(IrFunc *f, int param, Loc loc) {
    const IrModule *m = f->module;
    if (param < 0 || param >= m->params.len) die("ir_param: no parameter %d", param);
    IrNode proto = {.op = OP_PARAM, .param = param, .shape = m->params.items[param].shape, .loc = loc};
    return ir_emit(f, &proto);
}

IrNode *ir_const(IrFunc *f, double value, Shape shape, Loc loc) {
    return ir_emit(f, &(IrNode){.op = OP_CONST, .value = value, .shape = shape, .loc = loc});
}

IrNode *ir_const_data(IrFunc *f, const double *data, Shape shape, Loc loc) {
    if (!data) die("ir_const_data: no data");
    return ir_emit(f, &(IrNode){.op = OP_CONST, .data = data, .shape = shape, .loc = loc});
}

/* Unary ops that read no attribute: the element-wise ones and transpose. */
IrNode *ir_unary(IrFunc *f, Op op, IrNode *x, Loc loc) {
    unsigned flags = (unsigned)op < OP_COUNT ? ir_ops[op].flags : 0;
    expect(((flags & OPF_EW) && !(flags & OPF_ATTR) && ir_ops[op].arity == 1) || op == OP_TRANSPOSE,
           "ir_unary", op);
    return emit1(f, op, x, loc, (IrNode){0});
}

IrNode *ir_unary_attr(IrFunc *f, Op op, IrNode *x, double value, Loc loc) {
    expect((unsigned)op < OP_COUNT && (ir_ops[op].flags & OPF_ATTR) && ir_ops[op].arity == 1,
           "ir_unary_attr", op);
    return emit1(f, op, x, loc, (IrNode){.value = value});
}

IrNode *ir_binary(IrFunc *f, Op op, IrNode *a, IrNode *b, Loc loc) {
    expect((unsigned)op < OP_COUNT && ir_ops[op].arity == 2, "ir_binary", op);
    return ir_emit(f, &(IrNode){.op = op, .nin = 2, .in = {a, b}, .loc = loc});
}

IrNode *ir_reduce(IrFunc *f, Op op, IrNode *x, int axis, Loc loc) {
    expect((unsigned)op < OP_COUNT && (ir_ops[op].flags & OPF_REDUCE), "ir_reduce", op);
    return emit1(f, op, x, loc, (IrNode){.axis = axis});
}

IrNode *ir_softmax(IrFunc *f, IrNode *x, int axis, Loc loc) {
    return emit1(f, OP_SOFTMAX, x, loc, (IrNode){.axis = axis});
}

IrNode *ir_matmul(IrFunc *f, IrNode *a, IrNode *b, Loc loc) {
    return ir_binary(f, OP_MATMUL, a, b, loc);
}

IrNode *ir_reshape(IrFunc *f, IrNode *x, Shape to, Loc loc) {
    return emit1(f, OP_RESHAPE, x, loc, (IrNode){.shape = to});
}

IrNode *ir_transpose(IrFunc *f, IrNode *x, Loc loc) {
    return emit1(f, OP_TRANSPOSE, x, loc, (IrNode){0});
}

IrNode *ir_slice(IrFunc *f, IrNode *x, const IrSlice *slice, Loc loc) {
    return emit1(f, OP_SLICE, x, loc, (IrNode){.slice = *slice});
}

IrNode *ir_broadcast(IrFunc *f, IrNode *x, Shape to, Loc loc) {
    return emit1(f, OP_BROADCAST, x, loc, (IrNode){.shape = to});
}

IrNode *ir_dropout(IrFunc *f, IrNode *x, double rate, Loc loc) {
    return emit1(f, OP_DROPOUT, x, loc, (IrNode){.value = rate});
}

/* ---- copying between functions ---- */

IrNode *ir_clone(IrFunc *f, const IrNode *n, IrNode *const *operands) {
    IrNode proto = *n;
    for (int i = 0; i < n->nin; i++) proto.in[i] = operands[i];
    return ir_emit(f, &proto);
}

IrNode *ir_copy_func(IrFunc *dst, const IrFunc *src, IrNode **map) {
    for (int i = 0; i < src->nodes.len; i++) {
        const IrNode *n = src->nodes.items[i];
        if (map[i]) continue;
        IrNode *operands[IR_MAX_IN];
        for (int k = 0; k < n->nin; k++) operands[k] = map[n->in[k]->id];
        map[i] = ir_clone(dst, n, operands);
    }
    return src->result ? map[src->result->id] : NULL;
}

void ir_add_output(IrFunc *f, IrOutputKind kind, int param, int slot, IrNode *value) {
    IrOutput out = {.kind = kind, .param = param, .slot = slot, .value = value};
    ARENA_PUSH(f->module->arena, f->outputs, out);
}
