// The switch of kernels/common/prefetch.h (on unless the CPU backend turns it off at init).
int kiln_cpu_prefetch_on = 1;
