/* The FMA peak of one core, measured: 12 independent chains of fused
 * multiply-adds (enough to cover the FMA latency on two ports), on AVX2
 * registers (8 f32) and, where the CPU has them, AVX-512 registers (16 f32).
 * Prints GFLOP/s (2 flops per lane per FMA). Used by bench-side-by-side.sh to
 * express the digits sweep as a fraction of this machine's peak.
 *   gcc -O2 -mavx2 -mfma -o fma_peak fma_peak.c && ./fma_peak
 * (the loops are unrolled so that the 12 accumulators stay in registers:
 * check with objdump that the loop body is 12 FMAs on registers) */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define STEPS 100000000L

static void avx2(void) {
    __m256 a[12], x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
    double t = now();
    for (long n = 0; n < STEPS; n++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], x, y);
    }
    double dt = now() - t;
    float s = 0;
    for (int i = 0; i < 12; i++) s += _mm256_cvtss_f32(a[i]);
    printf("avx2 %.1f GFLOP/s (checksum %g)\n", STEPS * 12.0 * 8 * 2 / dt / 1e9, s);
}

__attribute__((target("avx512f"))) static void avx512(void) {
    __m512 a[12], x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps((float)i);
    double t = now();
    for (long n = 0; n < STEPS; n++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], x, y);
    }
    double dt = now() - t;
    float s = 0;
    for (int i = 0; i < 12; i++) s += _mm512_cvtss_f32(a[i]);
    printf("avx512 %.1f GFLOP/s (checksum %g)\n", STEPS * 12.0 * 16 * 2 / dt / 1e9, s);
}

int main(void) {
    avx2();
    if (__builtin_cpu_supports("avx512f")) avx512();
    return 0;
}
