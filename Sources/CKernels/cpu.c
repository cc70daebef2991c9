#include "ckernels.h"

int ck_isa(void) {
#if defined(__x86_64__) || defined(__i386__)
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v >= 0) return v;
    __builtin_cpu_init();
    v = CK_ISA_GENERIC;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        v = CK_ISA_AVX2;
        if (__builtin_cpu_supports("avx512f")) v = CK_ISA_AVX512;
    }
    __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    return v;
#else
    return CK_ISA_GENERIC;
#endif
}

int ck_avx512_full_width(void) {
#if defined(__x86_64__) || defined(__i386__)
    // Intel's AVX-512 cores execute 512-bit FMAs on 512-bit units; AMD's Zen 4 splits each into two
    // 256-bit halves, where a 512-bit vector buys no more FLOPs than two 256-bit ones.
    __builtin_cpu_init();
    return ck_isa() >= CK_ISA_AVX512 && __builtin_cpu_is("intel");
#else
    return 0;
#endif
}

void ck_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#include <stdlib.h>
#include <sys/mman.h>

void *ck_alloc(size_t bytes, int huge_pages) {
    const size_t huge = (size_t)2 << 20;
    const int large = huge_pages && bytes >= huge;
    void *p = NULL;
    if (posix_memalign(&p, large ? huge : 64, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    // Only the whole 2 MiB pages: the tail stays on small pages, so no memory is committed beyond
    // `bytes` (the alignment's slack is address space only).
    if (large) (void)madvise(p, bytes / huge * huge, MADV_HUGEPAGE);
#endif
    return p;
}

void ck_free(void *p) { free(p); }

// Cold stream start-up (edgeprof calibrate): seconds to read `bytes` (rounded up to whole cache lines)
// from a buffer none of whose lines, pages or page-table entries are cached: each timed read is of its
// own page-aligned buffer, right after streaming `evict_bytes` (≫ the last-level cache and the TLB's
// reach) through the caches. Median over `repeats` reads. What a network's kernel pays before its first
// weight bytes arrive when its weights were last touched an inference ago.
#include <time.h>
#include <stdint.h>
static double ck_now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
static int ck_compare_doubles(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
double ck_cold_read_seconds(size_t bytes, size_t evict_bytes, int repeats) {
    if (repeats < 1 || bytes == 0) return -1;
    const size_t words = (bytes + 63) / 64 * 8, page = 4096;
    const size_t span = (words * 8 + page - 1) / page * page;
    const size_t evict_words = evict_bytes / 8;
    uint64_t *evict = NULL, **buffers = calloc((size_t)repeats, sizeof(uint64_t *));
    double *times = calloc((size_t)repeats, sizeof(double));
    double result = -1;
    if (!buffers || !times || posix_memalign((void **)&evict, page, evict_words * 8 + 8) != 0) goto done;
    for (size_t i = 0; i < evict_words; i++) evict[i] = i;
    for (int r = 0; r < repeats; r++) {
        if (posix_memalign((void **)&buffers[r], page, span) != 0) goto done;
        for (size_t i = 0; i < words; i++) buffers[r][i] = i ^ (uint64_t)r;
    }
    volatile uint64_t sink = 0;
    for (int r = 0; r < repeats; r++) {
        uint64_t e = 0;
        for (size_t i = 0; i < evict_words; i += 8) e += evict[i];
        sink += e;
        const uint64_t *b = buffers[r];
        const double t0 = ck_now_seconds();
        uint64_t s0 = 0, s1 = 0;
        for (size_t i = 0; i < words; i += 8) { s0 += b[i]; s1 += b[i + 4]; }
        sink += s0 + s1;
        times[r] = ck_now_seconds() - t0;
    }
    (void)sink;
    qsort(times, (size_t)repeats, sizeof(double), ck_compare_doubles);
    result = times[repeats / 2];
done:
    if (buffers) for (int r = 0; r < repeats; r++) free(buffers[r]);
    free(buffers);
    free(evict);
    free(times);
    return result;
}
