// Google Benchmark: the products of the Bloch-Redfield apply (src/generators/eigenbasis_equation.cpp) for a
// d x d state and a d x d operator at a given fill (per cent): dense_times_sparse with its AVX2/FMA kernel
// and with the portable loop, against Eigen's sparse x dense (the apply's product before) and BLAS's zgemm.
// Results in bench/README.md, "Bloch-Redfield apply". BM_PackAdjoint: packing c u^dagger for a product (the
// local method's jumps, src/generators/local_equation.cpp) straight from u, against Eigen's scaled transposed
// copy and a pack of the copy (what the local apply did before).
#include <benchmark/benchmark.h>

#include <random>

#include "qheat/core/sparse_products.hpp"

namespace {

using qheat::cmat;
using qheat::cplx;

struct Operands {
  cmat x, A;
  qheat::csc_matrix S;
};

Operands operands(long d, double fill) {
  std::mt19937 g(1);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Operands o;
  o.A = cmat::Zero(d, d);
  for (long j = 0; j < d; ++j)
    for (long i = 0; i < d; ++i)
      if (0.5 * (u(g) + 1.0) < fill) o.A(i, j) = cplx(u(g), u(g));
  o.S = o.A.sparseView();
  o.S.makeCompressed();
  o.x = cmat::Random(d, d);
  return o;
}

enum class Product { avx2, generic, eigen_sparse_times_dense, blas_zgemm };

void BM_Product(benchmark::State& state, Product which) {
  const Operands o = operands(state.range(0), 0.01 * static_cast<double>(state.range(1)));
  qheat::use_generic_dense_times_sparse(which == Product::generic);
  cmat y;
  for (auto _ : state) {
    switch (which) {
      case Product::avx2:
      case Product::generic: qheat::dense_times_sparse(o.x, o.S, y, false); break;
      case Product::eigen_sparse_times_dense: y.noalias() = o.S * o.x; break;
      case Product::blas_zgemm: y.noalias() = o.x * o.A; break;
    }
    benchmark::DoNotOptimize(y.data());
  }
  qheat::use_generic_dense_times_sparse(false);
}
// Args: d, fill in per cent.
BENCHMARK_CAPTURE(BM_Product, dense_times_sparse_avx2, Product::avx2)
    ->Args({256, 5})->Args({256, 11})->Args({256, 20})->Args({256, 30})->Args({256, 40})->Args({512, 5})->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Product, dense_times_sparse_generic, Product::generic)
    ->Args({256, 5})->Args({256, 11})->Args({256, 20})->Args({256, 30})->Args({256, 40})->Args({512, 5})->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Product, eigen_sparse_times_dense, Product::eigen_sparse_times_dense)
    ->Args({256, 5})->Args({256, 11})->Args({256, 20})->Args({256, 30})->Args({256, 40})->Args({512, 5})->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Product, blas_zgemm, Product::blas_zgemm)->Args({256, 5})->Args({512, 5})->Unit(benchmark::kMicrosecond);


void BM_PackAdjoint(benchmark::State& state, bool direct) {
  const long d = state.range(0);
  const cmat u = cmat::Random(d, d);
  cmat t;
  qheat::PackedRows packed;
  for (auto _ : state) {
    if (direct) {
      packed.pack_adjoint(u, 0.5);
    } else {
      t = 0.5 * u.adjoint();
      packed.pack(t);
    }
    benchmark::DoNotOptimize(packed.data());
  }
}
// Arg: d (441: two modes of 21 levels).
BENCHMARK_CAPTURE(BM_PackAdjoint, pack_adjoint, true)->Arg(441)->Arg(1024)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_PackAdjoint, transposed_copy_then_pack, false)->Arg(441)->Arg(1024)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
