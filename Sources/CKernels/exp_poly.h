// Constants of the single-precision exp used by every vector width (ck_exp256, exp512): range
// reduction x = n·ln2 + r, then a degree-5 polynomial on [-ln2/2, ln2/2], ≤ 7e-7 relative —
// the same constants as KernelRunner's `logisticExp`.
#ifndef CK_EXP_POLY_H
#define CK_EXP_POLY_H
#define CK_EXP_CLAMP 87.0f
#define CK_EXP_LOG2E 1.44269504f
#define CK_EXP_LN2 0.69314718f
#define CK_EXP_P5 0.008297612f
#define CK_EXP_P4 0.041915309f
#define CK_EXP_P3 0.16667575f
#define CK_EXP_P2 0.49998894f
#define CK_EXP_P1 0.99999970f
#define CK_EXP_P0 1.0000001f
/// P(r) = P5·r⁵ + … + P0 by Horner, for any vector width: FMADD(a, b, c) = a·b + c and SET1
/// broadcasts a float (e.g. _mm256_fmadd_ps, _mm256_set1_ps).
#define CK_EXP_POLY(FMADD, SET1, r)                                                                  \
    FMADD(FMADD(FMADD(FMADD(FMADD(SET1(CK_EXP_P5), (r), SET1(CK_EXP_P4)), (r), SET1(CK_EXP_P3)),        \
                      (r), SET1(CK_EXP_P2)), (r), SET1(CK_EXP_P1)), (r), SET1(CK_EXP_P0))
#endif
