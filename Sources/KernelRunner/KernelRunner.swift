// KernelRunner: real kernels (OpenBLAS + Swift SIMD), executor, timing harness.
