/*
** rng.c — the counter-based generator and the initializers of SPEC 1.4.
**
** Every random number is a pure function of (seed, stream, counter): no
** generator state to carry, so chunks of a batch can run on any thread in
** any order, and a checkpoint need only record the step and the epoch.
*/
#include "runtime.h"

#include <math.h>

/* SplitMix64's finalizer (Stafford's "Mix13"): a bijection on 64 bits in
** which every output bit depends on every input bit. */
static uint64_t rt_rng_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Chained mixing, one round per word, with distinct odd offsets so that
** (a, b, c) and its permutations land far apart. */
uint64_t rt_hash3(uint64_t a, uint64_t b, uint64_t c) {
    uint64_t h = rt_rng_mix(a + UINT64_C(0x9e3779b97f4a7c15));
    h = rt_rng_mix(h ^ (b + UINT64_C(0xd1b54a32d192ed03)));
    return rt_rng_mix(h ^ (c + UINT64_C(0x8cb92ba72f3d8dd7)));
}

double nnc_uniform(uint64_t seed, uint64_t stream, uint64_t counter) {
    /* The top 53 bits: every double in [0, 1) with spacing 2^-53. */
    return (double)(rt_hash3(seed, stream, counter) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t rt_subseed(uint64_t seed, uint64_t purpose, uint64_t k) {
    return rt_hash3(rt_hash3(seed, purpose, UINT64_C(0x6e6e63)), k, purpose);
}

/* Box-Muller on counters 2c and 2c + 1 (the cosine branch only, so each
** normal is a pure function of its own counter). */
double rt_normal(uint64_t seed, uint64_t stream, uint64_t counter) {
    const double two_pi = 6.283185307179586476925286766559;
    double u1 = nnc_uniform(seed, stream, 2 * counter);
    double u2 = nnc_uniform(seed, stream, 2 * counter + 1);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(two_pi * u2);
}

/* SPEC 1.4: redrawn beyond 2 standard deviations. Draw a of element c uses
** counter 64c + a; 64 misses in a row (p = 0.0455^64) fall back to 0. */
double rt_truncated_normal(uint64_t seed, uint64_t stream, uint64_t counter) {
    int a;
    for (a = 0; a < 64; a++) {
        double z = rt_normal(seed, stream, counter * 64 + (uint64_t)a);
        if (fabs(z) <= 2.0)
            return z;
    }
    return 0.0;
}

static double rt_rng_fan(long fan) {
    return fan > 0 ? (double)fan : 1.0;
}

/* Keras' VarianceScaling with a truncated normal divides the stddev by
** .87962566103423978, the stddev of a unit normal truncated to [-2, 2], so
** that the drawn values have the documented stddev (SPEC 1.4 says: "as in
** Keras"). */
static double rt_rng_scaled_stddev(double variance) {
    return sqrt(variance) / 0.87962566103423978;
}

void rt_init_param(const NncParam *p, int index, uint64_t seed, nnc_real *params) {
    uint64_t s = rt_subseed(seed, RT_STREAM_INIT, 0), stream = (uint64_t)index;
    nnc_real *w = params + p->offset;
    double fan_in = rt_rng_fan(p->fan_in), fan_out = rt_rng_fan(p->fan_out);
    double lo = 0, hi = 0, sd = 0;
    int uniform = 0, truncated = 0;
    long i;
    switch (p->init) {
    case NNC_INIT_ZEROS: lo = hi = 0; uniform = 1; break;
    case NNC_INIT_ONES: lo = hi = 1; uniform = 1; break;
    case NNC_INIT_CONSTANT: lo = hi = p->init_a; uniform = 1; break;
    case NNC_INIT_RANDOM_UNIFORM: lo = p->init_a; hi = p->init_b; uniform = 1; break;
    case NNC_INIT_RANDOM_NORMAL: sd = p->init_b; break;
    case NNC_INIT_TRUNCATED_NORMAL: sd = p->init_b; truncated = 1; break;
    case NNC_INIT_GLOROT_UNIFORM: hi = sqrt(6.0 / (fan_in + fan_out)); lo = -hi; uniform = 1; break;
    case NNC_INIT_HE_UNIFORM: hi = sqrt(6.0 / fan_in); lo = -hi; uniform = 1; break;
    case NNC_INIT_LECUN_UNIFORM: hi = sqrt(3.0 / fan_in); lo = -hi; uniform = 1; break;
    case NNC_INIT_GLOROT_NORMAL: sd = rt_rng_scaled_stddev(2.0 / (fan_in + fan_out)); truncated = 1; break;
    case NNC_INIT_HE_NORMAL: sd = rt_rng_scaled_stddev(2.0 / fan_in); truncated = 1; break;
    case NNC_INIT_LECUN_NORMAL: sd = rt_rng_scaled_stddev(1.0 / fan_in); truncated = 1; break;
    default: lo = hi = 0; uniform = 1; break;
    }
    for (i = 0; i < p->size; i++) {
        double v;
        if (uniform)
            v = lo == hi ? lo : lo + (hi - lo) * nnc_uniform(s, stream, (uint64_t)i);
        else if (truncated)
            v = rt_truncated_normal(s, stream, (uint64_t)i) * sd;
        else
            v = rt_normal(s, stream, (uint64_t)i) * sd;
        /* The normals' mean: init_a for random_normal and truncated_normal,
        ** 0 for the fan-based ones (whose init_a the compiler leaves 0). */
        if (!uniform && (p->init == NNC_INIT_RANDOM_NORMAL || p->init == NNC_INIT_TRUNCATED_NORMAL))
            v += p->init_a;
        w[i] = (nnc_real)v;
    }
}

void rt_permutation(long *idx, long n, uint64_t seed, int epoch, int shuffle) {
    uint64_t s = rt_subseed(seed, RT_STREAM_SHUFFLE, (uint64_t)epoch);
    long i;
    for (i = 0; i < n; i++)
        idx[i] = i;
    if (!shuffle)
        return;
    /* Fisher-Yates from the identity each epoch: epoch e's order depends on
    ** (seed, e) alone, so resuming needs no generator state. */
    for (i = n - 1; i > 0; i--) {
        long j = (long)(nnc_uniform(s, 0, (uint64_t)i) * (double)(i + 1)), tmp;
        if (j > i)
            j = i;
        tmp = idx[i];
        idx[i] = idx[j];
        idx[j] = tmp;
    }
}
