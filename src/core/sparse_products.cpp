#include "qheat/core/sparse_products.hpp"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstring>
#include <thread>
#include <vector>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define QHEAT_X86_DISPATCH 1
#endif

namespace qheat {
namespace {

// x comes packed into panels of kRows rows (PackedRows: each panel's rows column after column); then
// each run of A's columns whose elements fit in the core's cache is multiplied by one panel after the
// other. A panel (d = 256: 32 KiB) stays in L1/L2 while A's run streams past it, and every element of y
// is summed in registers: per element of A one 128-byte slice of a panel is read, where an axpy per
// element read a whole column of x and wrote one of y (bench/README.md, "Bloch-Redfield apply").
constexpr long kRows = 8;                        // complex rows per block: four AVX2 registers
constexpr std::size_t kTileBytes = std::size_t{256} << 10;  // A's elements (value + row index) per column run

// What one block computes: rows [r0, r0 + nr) of y's columns [c0, c1), y = or += (x A) there; complex
// numbers as interleaved (re, im) doubles. `panel` holds x's rows [r0, r0 + kRows) packed column after
// column (2 kRows doubles per column of x, zeros past the last row); y is column-major with `rows` rows.
struct Block {
  const double* panel;
  double* y;
  long rows, r0, nr, c0, c1;
  const long* outer;
  const long* inner;
  const cplx* value;
  bool add;
};

// Sum_p v_p x_p for a block, with v x = (xr vr - xi vi, xi vr + xr vi): x vr and x vi are summed apart
// and combined once per element of y. The portable loop takes a complex number as one two-double vector
// (GCC/Clang vector extensions: SSE2, NEON) and the block's rows four at a time (8 sums in registers).
using Pair = double __attribute__((vector_size(16)));
void block_generic(const Block& b) {
  constexpr long kPart = 4;
  for (long i = b.c0; i < b.c1; ++i) {
    double* y = b.y + 2 * (i * b.rows + b.r0);
    for (long r = 0; r < b.nr; r += kPart) {
      Pair a[kPart] = {}, c[kPart] = {};
      for (long p = b.outer[i]; p < b.outer[i + 1]; ++p) {
        const Pair vr = {b.value[p].real(), b.value[p].real()}, vi = {b.value[p].imag(), b.value[p].imag()};
        const double* x = b.panel + 2 * (kRows * b.inner[p] + r);  // zeros past the last row of x
        for (long k = 0; k < kPart; ++k) {
          Pair xk;
          std::memcpy(&xk, x + 2 * k, sizeof xk);
          a[k] += xk * vr;
          c[k] += xk * vi;
        }
      }
      for (long k = 0; k < std::min(kPart, b.nr - r); ++k) {
        const double re = a[k][0] - c[k][1], im = a[k][1] + c[k][0];
        y[2 * (r + k)] = b.add ? y[2 * (r + k)] + re : re;
        y[2 * (r + k) + 1] = b.add ? y[2 * (r + k) + 1] + im : im;
      }
    }
  }
}

#if defined(QHEAT_X86_DISPATCH)
// kRows = 8 complex rows in four registers; other block heights go to block_generic.
__attribute__((target("avx2,fma"))) void block_avx2(const Block& b) {
  if (b.nr != kRows) {
    block_generic(b);
    return;
  }
  for (long i = b.c0; i < b.c1; ++i) {
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
    for (long p = b.outer[i]; p < b.outer[i + 1]; ++p) {
      const __m256d r = _mm256_set1_pd(b.value[p].real()), m = _mm256_set1_pd(b.value[p].imag());
      const double* x = b.panel + 2 * kRows * b.inner[p];
      const __m256d x0 = _mm256_loadu_pd(x), x1 = _mm256_loadu_pd(x + 4), x2 = _mm256_loadu_pd(x + 8),
                    x3 = _mm256_loadu_pd(x + 12);
      a0 = _mm256_fmadd_pd(x0, r, a0);
      c0 = _mm256_fmadd_pd(x0, m, c0);
      a1 = _mm256_fmadd_pd(x1, r, a1);
      c1 = _mm256_fmadd_pd(x1, m, c1);
      a2 = _mm256_fmadd_pd(x2, r, a2);
      c2 = _mm256_fmadd_pd(x2, m, c2);
      a3 = _mm256_fmadd_pd(x3, r, a3);
      c3 = _mm256_fmadd_pd(x3, m, c3);
    }
    double* y = b.y + 2 * (i * b.rows + b.r0);
    const __m256d s0 = _mm256_addsub_pd(a0, _mm256_permute_pd(c0, 0x5));
    const __m256d s1 = _mm256_addsub_pd(a1, _mm256_permute_pd(c1, 0x5));
    const __m256d s2 = _mm256_addsub_pd(a2, _mm256_permute_pd(c2, 0x5));
    const __m256d s3 = _mm256_addsub_pd(a3, _mm256_permute_pd(c3, 0x5));
    if (b.add) {
      _mm256_storeu_pd(y, _mm256_add_pd(_mm256_loadu_pd(y), s0));
      _mm256_storeu_pd(y + 4, _mm256_add_pd(_mm256_loadu_pd(y + 4), s1));
      _mm256_storeu_pd(y + 8, _mm256_add_pd(_mm256_loadu_pd(y + 8), s2));
      _mm256_storeu_pd(y + 12, _mm256_add_pd(_mm256_loadu_pd(y + 12), s3));
    } else {
      _mm256_storeu_pd(y, s0);
      _mm256_storeu_pd(y + 4, s1);
      _mm256_storeu_pd(y + 8, s2);
      _mm256_storeu_pd(y + 12, s3);
    }
  }
}

bool cpu_has_avx2_fma() noexcept {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

using BlockKernel = void (*)(const Block&);

BlockKernel best_kernel() noexcept {
#if defined(QHEAT_X86_DISPATCH)
  return cpu_has_avx2_fma() ? block_avx2 : block_generic;
#else
  return block_generic;
#endif
}

std::atomic<BlockKernel> g_kernel{best_kernel()};

}  // namespace

bool dense_times_sparse_vectorized() { return g_kernel.load() != block_generic; }

void use_generic_dense_times_sparse(bool generic) { g_kernel = generic ? block_generic : best_kernel(); }

// Panel b (rows [b kRows, (b + 1) kRows)) starts at b * 2 kRows cols; zeros past the last row.
void PackedRows::pack(const cmat& x) {
  rows_ = x.rows();
  cols_ = x.cols();
  const long blocks = (rows_ + kRows - 1) / kRows, full = rows_ / kRows;
  data_.resize(static_cast<std::size_t>(blocks * 2 * kRows * cols_));
  const auto* xd = reinterpret_cast<const double*>(x.data());
  for (long j = 0; j < cols_; ++j) {
    const double* from = xd + 2 * j * rows_;
    double* to = data_.data() + 2 * kRows * j;
    for (long b = 0; b < full; ++b, from += 2 * kRows, to += 2 * kRows * cols_)
      std::memcpy(to, from, 2 * kRows * sizeof(double));  // a fixed size: inlined as vector moves
    if (full < blocks)  // the last rows, then zeros
      for (long k = 0; k < 2 * kRows; ++k) to[k] = k < 2 * (rows_ - full * kRows) ? from[k] : 0.0;
  }
}

// Row r of u^dagger is column r of u conjugated: panel b takes kRows of u's columns, kTile elements of each
// at a time, so that the part of the panel being written (kTile x kRows elements) stays in L1
// (bench_sparse_products BM_PackAdjoint, d = 441: 112 us against 146 us for whole columns at a time).
// With `minus`, v's rows of the panel are subtracted tile by tile while the tile is in L1 (each column of v
// gives a panel kRows contiguous elements).
void PackedRows::pack_adjoint(const cmat& u, double scale, const cmat* minus) {
  constexpr long kTile = 64;
  rows_ = u.cols();
  cols_ = u.rows();
  const long blocks = (rows_ + kRows - 1) / kRows;
  data_.resize(static_cast<std::size_t>(blocks * 2 * kRows * cols_));
  const auto* ud = reinterpret_cast<const double*>(u.data());
  for (long b = 0; b < blocks; ++b) {
    double* panel = data_.data() + b * 2 * kRows * cols_;
    for (long j0 = 0; j0 < cols_; j0 += kTile) {
      const long j1 = std::min(cols_, j0 + kTile);
      for (long k = 0; k < kRows; ++k) {
        const long r = b * kRows + k;
        if (r < rows_) {
          const double* col = ud + 2 * r * cols_;
          for (long j = j0; j < j1; ++j) {
            panel[2 * (kRows * j + k)] = scale * col[2 * j];
            panel[2 * (kRows * j + k) + 1] = -scale * col[2 * j + 1];
          }
        } else {
          for (long j = j0; j < j1; ++j) panel[2 * (kRows * j + k)] = panel[2 * (kRows * j + k) + 1] = 0.0;
        }
      }
      if (minus != nullptr) {
        const long n = 2 * std::min(kRows, rows_ - b * kRows);
        const auto* vd = reinterpret_cast<const double*>(minus->data()) + 2 * b * kRows;
        for (long j = j0; j < j1; ++j)
          for (long k = 0; k < n; ++k) panel[2 * kRows * j + k] -= vd[2 * j * rows_ + k];
      }
    }
  }
}

void dense_times_sparse(const cmat& x, const csc_matrix& A, cmat& y, bool add, int threads) {
  PackedRows packed;
  packed.pack(x);
  dense_times_sparse(packed, A, y, add, threads);
}

void dense_times_sparse(const PackedRows& x, const csc_matrix& A, cmat& y, bool add, int threads) {
  assert(A.isCompressed() && x.cols() == A.rows());
  const long rows = x.rows();
  if (!add) y.resize(rows, A.cols());
  const BlockKernel kernel = g_kernel.load();
  const long* outer = A.outerIndexPtr();
  const double* packed = x.data();
  // std::complex<double> is an array of two doubles (real, imaginary) by the standard.
  const Block proto{packed, reinterpret_cast<double*>(y.data()), rows, 0, 0, 0, 0,
                    outer, A.innerIndexPtr(), A.valuePtr(), add};
  constexpr auto kPerElement = static_cast<long>(sizeof(cplx) + sizeof(long));
  const long tile_elements = std::max<long>(1, static_cast<long>(kTileBytes) / kPerElement);
  const long panel_stride = 2 * kRows * x.cols();
  auto columns = [&](long first, long last) {
    Block b = proto;
    for (long c0 = first; c0 < last;) {
      long c1 = c0 + 1;  // a run of columns with at most tile_elements elements (at least one column)
      while (c1 < last && outer[c1 + 1] - outer[c0] <= tile_elements) ++c1;
      b.c0 = c0;
      b.c1 = c1;
      for (long r0 = 0; r0 < rows; r0 += kRows) {
        b.r0 = r0;
        b.nr = std::min(kRows, rows - r0);
        b.panel = packed + (r0 / kRows) * panel_stride;
        kernel(b);
      }
      c0 = c1;
    }
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
