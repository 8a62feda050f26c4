/*
** helpers.c — the scalar functions kernels call, written into each file
** only when used (an unused static function is a warning, and the files
** compile under -Werror). They are static inline: at -O2 each call is
** its body, so hot loops make no calls. The numerically stable forms are
** the interpreter's (sigmoid and softplus never overflow).
*/
#include "cgen.h"

#include "../loops.h"

/* A macro's value as a string literal. */
#define TEXT(x) TEXT2(x)
#define TEXT2(x) #x

static const char *const math_macros =
    "/* libm at the precision of nnc_real. */\n"
    "#ifdef NNC_F64\n"
    "#define NNC_EXP exp\n#define NNC_EXPM1 expm1\n#define NNC_LOG log\n#define NNC_LOG1P log1p\n"
    "#define NNC_SQRT sqrt\n#define NNC_FABS fabs\n#define NNC_TANH tanh\n#define NNC_ERF erf\n"
    "#define NNC_POW pow\n"
    "#define NNC_EXP_ZERO_BELOW " TEXT(LOOPS_EXP_ZERO_BELOW_F64) "\n"
    "#else\n"
    "#define NNC_EXP expf\n#define NNC_EXPM1 expm1f\n#define NNC_LOG logf\n#define NNC_LOG1P log1pf\n"
    "#define NNC_SQRT sqrtf\n#define NNC_FABS fabsf\n#define NNC_TANH tanhf\n#define NNC_ERF erff\n"
    "#define NNC_POW powf\n"
    "#define NNC_EXP_ZERO_BELOW " TEXT(LOOPS_EXP_ZERO_BELOW_F32) "f\n"
    "#endif\n"
    "/* Register tiles sized for 32 512-bit vector registers, or for 16 of 256 bits. */\n"
    "#if defined(__AVX512F__)\n#define NNC_WIDE_VECTORS 1\n#else\n#define NNC_WIDE_VECTORS 0\n#endif\n";

static const char *const helper_text[H_COUNT] = {
    [H_EXP] = "/* e^x. Below NNC_EXP_ZERO_BELOW it rounds to 0, which libm returns too,\n"
              "** but by way of its underflow path, which sets errno, at many times the\n"
              "** cost: a confident softmax takes it for most of its outputs. */\n"
              "static inline nnc_real nnc_exp(nnc_real x) { return x < NNC_EXP_ZERO_BELOW ? 0 : NNC_EXP(x); }\n",
    [H_SQ] = "static inline nnc_real nnc_sq(nnc_real x) { return x * x; }\n",
    [H_SQRT] = "#if defined(__clang__)\n"
               "/* libm's sqrt declared const, as if by -fno-math-errno: clang then knows\n"
               "** it as llvm.sqrt, a hardware instruction that vectorizes, correctly\n"
               "** rounded like the function. (gcc would only call it.) */\n"
               "#define NNC_NAME_TEXT(prefix, name) NNC_NAME_TEXT2(prefix, name)\n"
               "#define NNC_NAME_TEXT2(prefix, name) #prefix #name\n"
               "nnc_real nnc_sqrt(nnc_real x) __asm__(NNC_NAME_TEXT(__USER_LABEL_PREFIX__, NNC_SQRT))\n"
               "    __attribute__((const));\n"
               "#elif defined(NNC_F64) || defined(__NO_MATH_ERRNO__) /* gcc -fno-math-errno */\n"
               "#define nnc_sqrt NNC_SQRT\n"
               "#else\n"
               "/* sqrtf, correctly rounded (tests/test_codegen.c checks a sample; every\n"
               "** float was checked once), but with no errno to set, so that loops calling\n"
               "** it vectorize, and no division, which would cost more than all the rest:\n"
               "** in double, three Newton steps for 1/sqrt from a bit-level\n"
               "** estimate (relative error 3.4e-2, then 1.8e-3, 4.6e-6, 3.2e-11), then\n"
               "** y = d/sqrt(d) corrected once by its residual d - y*y. The error left,\n"
               "** under one ulp of double, cannot move the result across a midpoint\n"
               "** between floats: sqrt of a float lies at least 2^-50 (relative) from\n"
               "** every such midpoint. 0, -0, +inf and NaN pass through, a negative\n"
               "** number gives NaN; the selects are integer masks. */\n"
               "static inline nnc_real nnc_sqrt(nnc_real x) {\n"
               "    double d = x, half = 0.5 * d, r, y;\n"
               "    uint64_t u;\n"
               "    uint32_t b, rb, keep, nan;\n"
               "    nnc_real s;\n"
               "    memcpy(&b, &x, sizeof b);\n"
               "    memcpy(&u, &d, sizeof u);\n"
               "    u = 0x5FE6EB50C7B537A9ULL - (u >> 1);\n"
               "    memcpy(&r, &u, sizeof r);\n"
               "    r = r * (1.5 - half * r * r);\n"
               "    r = r * (1.5 - half * r * r);\n"
               "    r = r * (1.5 - half * r * r);\n"
               "    y = d * r;\n"
               "    y = y + 0.5 * r * (d - y * y);\n"
               "    s = (nnc_real)y;\n"
               "    memcpy(&rb, &s, sizeof rb);\n"
               "    keep = 0u - (uint32_t)(((b & 0x7fffffffu) == 0) | (b == 0x7f800000u));\n"
               "    nan = 0u - (uint32_t)((b > 0x7f800000u) & (b != 0x80000000u));\n"
               "    rb = (b & keep) | (rb & ~keep);\n"
               "    rb = (0x7fc00000u & nan) | (rb & ~nan);\n"
               "    memcpy(&s, &rb, sizeof s);\n"
               "    return s;\n"
               "}\n#endif\n",
    [H_STEP] = "static inline nnc_real nnc_step(nnc_real x) { return x >= 0 ? 1 : 0; }\n",
    [H_RELU] = "static inline nnc_real nnc_relu(nnc_real x) { return x > 0 ? x : 0; }\n",
    [H_LEAKY] = "static inline nnc_real nnc_leaky_relu(nnc_real x, nnc_real alpha) {\n"
                "    return x >= 0 ? x : alpha * x;\n}\n",
    [H_ELU] = "static inline nnc_real nnc_elu(nnc_real x, nnc_real alpha) {\n"
              "    return x > 0 ? x : alpha * NNC_EXPM1(x);\n}\n",
    [H_SELU] = "static inline nnc_real nnc_selu(nnc_real x) {\n"
               "    const nnc_real alpha = (nnc_real)1.6732632423543772, scale = (nnc_real)1.0507009873554805;\n"
               "    return scale * (x > 0 ? x : alpha * NNC_EXPM1(x));\n}\n",
    [H_SIGMOID] = "/* Stable: exp of a non-positive number only. The branch picks the\n"
                  "** numerator, so that compilers select instead of jumping. */\n"
                  "static inline nnc_real nnc_sigmoid(nnc_real x) {\n"
                  "    nnc_real e = nnc_exp(-NNC_FABS(x));\n"
                  "    return (x >= 0 ? 1 : e) / (1 + e);\n}\n",
    [H_SOFTPLUS] = "/* Stable: log(1 + e^x) = max(x, 0) + log1p(e^-|x|). */\n"
                   "static inline nnc_real nnc_softplus(nnc_real x) {\n"
                   "    return (x > 0 ? x : 0) + NNC_LOG1P(nnc_exp(-NNC_FABS(x)));\n}\n",
    [H_SOFTSIGN] = "static inline nnc_real nnc_softsign(nnc_real x) { return x / (1 + NNC_FABS(x)); }\n",
    [H_SWISH] = "static inline nnc_real nnc_swish(nnc_real x) {\n"
                "    nnc_real e = nnc_exp(-NNC_FABS(x));\n"
                "    return x * ((x >= 0 ? 1 : e) / (1 + e));\n}\n",
    [H_GELU] = "static inline nnc_real nnc_gelu(nnc_real x) {\n"
               "    return (nnc_real)0.5 * x * (1 + NNC_ERF(x * (nnc_real)0.70710678118654752));\n}\n",
    [H_SIGN] = "static inline nnc_real nnc_sign(nnc_real x) { return (nnc_real)((x > 0) - (x < 0)); }\n",
    [H_DIVNZ] = "/* a / b, and 0 where b is 0 (normalize's constant features). */\n"
                "static inline nnc_real nnc_divnz(nnc_real a, nnc_real b) { return b == 0 ? 0 : a / b; }\n",
    [H_MIN] = "/* NumPy's minimum and maximum: NaN wins. */\n"
              "static inline nnc_real nnc_min(nnc_real a, nnc_real b) { return a != a || a < b ? a : b; }\n",
    [H_MAX] = "static inline nnc_real nnc_max(nnc_real a, nnc_real b) { return a != a || a > b ? a : b; }\n",
    [H_VECTORS] =
        "/* Chunks of accumulator lanes (print.c) as GNU C vectors, for gcc and clang:\n"
        "** a register each at any optimization level, where the loop over a small\n"
        "** array after #else depends on the compiler's vectorizers and their cost\n"
        "** models. Lane by lane the same operations. Loads and stores go through\n"
        "** nnc_uN, unaligned and aliasing nnc_real; macros, not functions, as a\n"
        "** vector wider than the target's may not cross a call (-Wpsabi). */\n"
        "#if defined(__GNUC__) && !defined(NNC_NO_VECTORS)\n"
        "#define NNC_VECTORS 1\n"
        "#define NNC_VECTOR_TYPES(lanes) \\\n"
        "    typedef nnc_real nnc_v##lanes __attribute__((vector_size(lanes * sizeof(nnc_real)))); \\\n"
        "    typedef nnc_real nnc_u##lanes \\\n"
        "        __attribute__((vector_size(lanes * sizeof(nnc_real)), aligned(sizeof(nnc_real)), may_alias));\n"
        "NNC_VECTOR_TYPES(4)\n"
        "NNC_VECTOR_TYPES(8)\n"
        "NNC_VECTOR_TYPES(16)\n"
        "#define NNC_LOAD(lanes, p) (*(const nnc_u##lanes *)(p))\n"
        "#define NNC_STORE(lanes, p, v) (*(nnc_u##lanes *)(p) = (v))\n"
        "#else\n"
        "#define NNC_VECTORS 0\n"
        "#endif\n",
    [H_VSQRT] = "/* The square roots of a vector of floats, where the target has the\n"
                "** instruction (correctly rounded, as nnc_sqrt): gcc vectorizes no square\n"
                "** root it may have to set errno for. A chunk that takes one needs it. */\n"
                "#if NNC_VECTORS && !defined(NNC_F64) && (defined(__x86_64__) || defined(__i386__))\n"
                "#if defined(__SSE__)\n"
                "#define NNC_VSQRT4(v) __builtin_ia32_sqrtps(v)\n"
                "#endif\n"
                "#if defined(__AVX__)\n"
                "#define NNC_VSQRT8(v) __builtin_ia32_sqrtps256(v)\n"
                "#endif\n"
                "#if defined(__AVX512F__) && defined(__clang__)\n"
                "#define NNC_VSQRT16(v) __builtin_ia32_sqrtps512(v, 4)\n"
                "#elif defined(__AVX512F__)\n"
                "#define NNC_VSQRT16(v) __builtin_ia32_sqrtps512_mask(v, v, (unsigned short)-1, 4)\n"
                "#endif\n"
                "#endif\n",
    [H_SHUFFLE] = "/* A vector of lanes picked from two by constant indices (a tile\n"
                  "** transposed in registers), where the compiler has the builtin (clang,\n"
                  "** gcc 12); other compilers copy the tile an element at a time. */\n"
                  "#define NNC_SHUFFLE 0\n"
                  "#if NNC_VECTORS && defined(__has_builtin)\n"
                  "#if __has_builtin(__builtin_shufflevector)\n"
                  "#undef NNC_SHUFFLE\n"
                  "#define NNC_SHUFFLE 1\n"
                  "#endif\n"
                  "#endif\n",
    [H_MASK] = "/* Inverted dropout's mask element: keep = 1 / (1 - rate) with probability\n"
               "** 1 - rate, from the counter-based generator (kernel ABI). */\n"
               "static inline nnc_real nnc_mask(uint64_t seed, uint64_t row, uint64_t counter, double rate,\n"
               "                                nnc_real keep) {\n"
               "    return nnc_uniform(seed, row, counter) >= rate ? keep : 0;\n}\n",
    [H_RANGE] = "/* Where the update's range [lo, hi) starts or ends among the count\n"
                "** elements of a parameter at offset: at - offset, clamped to [0, count],\n"
                "** in units that divide at - offset and count. */\n"
                "static inline long nnc_range(long at, long offset, long count, long unit) {\n"
                "    long units = (at - offset) / unit;\n"
                "    return (units < 0 ? 0 : units > count / unit ? count / unit : units) * unit;\n}\n",
};

void cg_c_helpers(CgText *t, unsigned used) {
    if (used & (1u << H_SIGMOID | 1u << H_SOFTPLUS | 1u << H_SWISH)) used |= 1u << H_EXP;
    cg_c_put(t, math_macros);
    for (int h = 0; h < H_COUNT; h++)
        if (used >> h & 1u) cg_c_put(t, helper_text[h]);
}
