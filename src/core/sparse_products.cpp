#include "qheat/core/sparse_products.hpp"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <thread>
#include <vector>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define QHEAT_X86_DISPATCH 1
#endif

namespace qheat {
namespace {

// z[0..n) += v x[0..n), complex numbers as interleaved (re, im) doubles.
void axpy_generic(double* z, const double* x, double vr, double vi, long n) {
  for (long j = 0; j < n; ++j) {
    const double xr = x[2 * j], xi = x[2 * j + 1];
    z[2 * j] += xr * vr - xi * vi;
    z[2 * j + 1] += xr * vi + xi * vr;
  }
}

#if defined(QHEAT_X86_DISPATCH)
__attribute__((target("avx2,fma"))) void axpy_avx2(double* z, const double* x, double vr, double vi, long n) {
  const __m256d r = _mm256_set1_pd(vr), im = _mm256_set1_pd(vi);
  long j = 0;
  for (; j + 4 <= n; j += 4) {  // four complex numbers per step, two registers
    const __m256d x0 = _mm256_loadu_pd(x + 2 * j), x1 = _mm256_loadu_pd(x + 2 * j + 4);
    // (xr, xi) v = (xr vr - xi vi, xi vr + xr vi): fmaddsub of x vr with the swapped x times vi
    const __m256d p0 = _mm256_fmaddsub_pd(x0, r, _mm256_mul_pd(_mm256_permute_pd(x0, 0x5), im));
    const __m256d p1 = _mm256_fmaddsub_pd(x1, r, _mm256_mul_pd(_mm256_permute_pd(x1, 0x5), im));
    _mm256_storeu_pd(z + 2 * j, _mm256_add_pd(_mm256_loadu_pd(z + 2 * j), p0));
    _mm256_storeu_pd(z + 2 * j + 4, _mm256_add_pd(_mm256_loadu_pd(z + 2 * j + 4), p1));
  }
  for (; j + 2 <= n; j += 2) {
    const __m256d x0 = _mm256_loadu_pd(x + 2 * j);
    const __m256d p0 = _mm256_fmaddsub_pd(x0, r, _mm256_mul_pd(_mm256_permute_pd(x0, 0x5), im));
    _mm256_storeu_pd(z + 2 * j, _mm256_add_pd(_mm256_loadu_pd(z + 2 * j), p0));
  }
  axpy_generic(z + 2 * j, x + 2 * j, vr, vi, n - j);  // the odd last one
}

bool cpu_has_avx2_fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

using Axpy = void (*)(double*, const double*, double, double, long);

Axpy best_axpy() {
#if defined(QHEAT_X86_DISPATCH)
  return cpu_has_avx2_fma() ? axpy_avx2 : axpy_generic;
#else
  return axpy_generic;
#endif
}

std::atomic<Axpy> g_axpy{best_axpy()};

}  // namespace

bool dense_times_sparse_vectorized() { return g_axpy.load() != axpy_generic; }

void use_generic_dense_times_sparse(bool generic) { g_axpy = generic ? axpy_generic : best_axpy(); }

void dense_times_sparse(const cmat& x, const csc_matrix& A, cmat& y, bool add, int threads) {
  assert(A.isCompressed() && x.cols() == A.rows());
  const long rows = x.rows();
  if (!add) y.setZero(rows, A.cols());
  const Axpy axpy = g_axpy.load();
  const long* outer = A.outerIndexPtr();
  const long* inner = A.innerIndexPtr();
  const cplx* value = A.valuePtr();
  // std::complex<double> is an array of two doubles (real, imaginary) by the standard.
  const auto* xd = reinterpret_cast<const double*>(x.data());
  auto* yd = reinterpret_cast<double*>(y.data());
  auto columns = [&](long first, long last) {
    for (long i = first; i < last; ++i)
      for (long p = outer[i]; p < outer[i + 1]; ++p)
        axpy(yd + 2 * i * rows, xd + 2 * inner[p] * rows, value[p].real(), value[p].imag(), rows);
  };
  const long cols = A.cols();
  // Below ~1e6 complex multiply-adds a thread costs more than it saves.
  const long nt = std::min<long>(threads, std::max<long>(1, cols / 64));
  if (nt <= 1 || static_cast<double>(A.nonZeros()) * static_cast<double>(rows) < 1e6) {
    columns(0, cols);
    return;
  }
  std::vector<std::thread> pool;
  const long chunk = (cols + nt - 1) / nt;
  for (long t = 1; t < nt; ++t) {
    const long first = t * chunk, last = std::min(cols, first + chunk);
    if (first < last) pool.emplace_back(columns, first, last);
  }
  columns(0, std::min(cols, chunk));
  for (auto& th : pool) th.join();
}

}  // namespace qheat
