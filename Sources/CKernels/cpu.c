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
