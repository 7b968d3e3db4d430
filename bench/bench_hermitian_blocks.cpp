// Real coordinates of Hermitian blocks (operators/hermitian_blocks.hpp): unpack and pack_plus_adjoint, which the
// Bloch-Redfield apply runs once per sector per GMRES iteration, against the same element formulas in column
// order (whole columns at a time: the transposed element (j, i) strides a row by the block's column length).
// Run: build/release/bench/bench_hermitian_blocks (bench/README.md, "Hermitian coordinates tile by tile").
#include <benchmark/benchmark.h>

#include <numeric>
#include <vector>

#include "qheat/operators/hermitian_blocks.hpp"

namespace {

using qheat::cmat;
using qheat::cplx;
using qheat::HermitianBlocks;
using qheat::rvec;

HermitianBlocks one_block(int n) {
  std::vector<int> levels(static_cast<std::size_t>(n));
  std::iota(levels.begin(), levels.end(), 0);
  return HermitianBlocks({levels}, n);
}

// The element formulas of hermitian_blocks.cpp, column after column.
void unpack_by_columns(const rvec& x, int n, cmat& block) {
  const double* p = x.data();
  block.resize(n, n);
  for (int i = 0; i < n; ++i) block(i, i) = p[i];
  long k = n;
  for (int j = 1; j < n; ++j)
    for (int i = 0; i < j; ++i, k += 2) {
      const cplx v(p[k] * HermitianBlocks::kInvSqrt2, p[k + 1] * HermitianBlocks::kInvSqrt2);
      block(i, j) = v;
      block(j, i) = std::conj(v);
    }
}

void pack_plus_adjoint_by_columns(const cmat& block, int n, rvec& x) {
  double* p = x.data();
  for (int i = 0; i < n; ++i) p[i] = 2.0 * block(i, i).real();
  long k = n;
  for (int j = 1; j < n; ++j)
    for (int i = 0; i < j; ++i, k += 2) {
      p[k] = HermitianBlocks::kSqrt2 * (block(i, j).real() + block(j, i).real());
      p[k + 1] = HermitianBlocks::kSqrt2 * (block(i, j).imag() - block(j, i).imag());
    }
}

void BM_Unpack(benchmark::State& state, bool tiles) {
  const int n = static_cast<int>(state.range(0));
  const HermitianBlocks hb = one_block(n);
  const rvec x = rvec::Random(hb.dim());
  cmat block;
  for (auto _ : state) {
    if (tiles) hb.unpack(x, 0, block); else unpack_by_columns(x, n, block);
    benchmark::DoNotOptimize(block.data());
  }
}

void BM_PackPlusAdjoint(benchmark::State& state, bool tiles) {
  const int n = static_cast<int>(state.range(0));
  const HermitianBlocks hb = one_block(n);
  const cmat Y = cmat::Random(n, n);
  rvec x(hb.dim());
  for (auto _ : state) {
    if (tiles) hb.pack_plus_adjoint(Y, 0, x); else pack_plus_adjoint_by_columns(Y, n, x);
    benchmark::DoNotOptimize(x.data());
  }
}

// Arg: the block's levels (2048: a sector of the XX chain at N = 12).
BENCHMARK_CAPTURE(BM_Unpack, tiles, true)->Arg(256)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Unpack, columns, false)->Arg(256)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PackPlusAdjoint, tiles, true)->Arg(256)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PackPlusAdjoint, columns, false)->Arg(256)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
