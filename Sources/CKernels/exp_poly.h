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
/// erf(x) for every vector width (ck_erf256, erf512): for |x| ≤ CK_ERF_SPLIT the odd series
/// |x|·S(x²); above, 1 − exp(L(min(|x|, CK_ERF_ONE))), 1 from CK_ERF_ONE on; |error| ≤ 1e-7.
#define CK_ERF_SPLIT 0.921875f
#define CK_ERF_ONE 3.925f
#define CK_ERF_SMALL_POLY(FMADD, SET1, t)                                                            \
    FMADD(FMADD(FMADD(FMADD(FMADD(SET1(-0.0005919593731394205f), (t), SET1(0.004974705858634026f)),     \
                            (t), SET1(-0.026749247408725772f)), (t), SET1(0.11281102230221049f)),        \
                (t), SET1(-0.37612373654389475f)), (t), SET1(1.1283790926761696f))
#define CK_ERF_LARGE_POLY(FMADD, SET1, b)                                                            \
    FMADD(FMADD(FMADD(FMADD(FMADD(FMADD(FMADD(FMADD(SET1(1.6530988288504688e-06f), (b),                 \
        SET1(-4.63266553793444e-05f)), (b), SET1(0.0005986761060040173f)), (b),                           \
        SET1(-0.004766518077148275f)), (b), SET1(0.026435608235832776f)), (b),                            \
        SET1(-0.11009653364757578f)), (b), SET1(-0.6318179776165671f)), (b),                              \
        SET1(-1.130232790058449f)), (b), SET1(0.00031869277584994384f))
#endif
