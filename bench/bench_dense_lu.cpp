// LU solves with few right-hand sides (Google Benchmark): linalg::DenseLU::solve_in_place, which solves two columns one
// at a time, against one LAPACK getrs call with all columns (OpenBLAS packs the factor for its trsm/gemm
// blocks when nrhs > 1). The HEOM preconditioner solves ADO 0's real Schur blocks with two right-hand sides.
// Run: build/release/bench/bench_dense_lu (OPENBLAS_NUM_THREADS=1 for one thread)
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "qheat/core/linalg.hpp"

extern "C" {
void sgetrf_(const int* m, const int* n, float* a, const int* lda, int* ipiv, int* info);
void sgetrs_(const char* trans, const int* n, const int* nrhs, const float* a, const int* lda, const int* ipiv, float* b,
             const int* ldb, int* info);
void dgetrf_(const int* m, const int* n, double* a, const int* lda, int* ipiv, int* info);
void dgetrs_(const char* trans, const int* n, const int* nrhs, const double* a, const int* lda, const int* ipiv,
             double* b, const int* ldb, int* info);
}

namespace {

template <class T>
Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> filled(long rows, long cols, double diagonal) {
  Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> A(rows, cols);
  for (long j = 0; j < cols; ++j)
    for (long i = 0; i < rows; ++i)
      A(i, j) = static_cast<T>(std::sin(1.3 * static_cast<double>(i) + 0.7 * static_cast<double>(j)) +
                               (i == j ? diagonal : 0.0));
  return A;
}

template <class T>
void BM_DenseLUSolve(benchmark::State& state) {
  const long n = state.range(0), nrhs = state.range(1);
  const qheat::linalg::DenseLU<T> lu(filled<T>(n, n, static_cast<double>(n)));
  const auto B = filled<T>(n, nrhs, 0.0);
  for (auto _ : state) {
    auto X = B;
    lu.solve_in_place(X);
    benchmark::DoNotOptimize(X.data());
  }
}

template <class T>
void BM_GetrsOneCall(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0)), nrhs = static_cast<int>(state.range(1));
  auto A = filled<T>(n, n, static_cast<double>(n));
  std::vector<int> ipiv(static_cast<std::size_t>(n));
  int info = 0;
  if constexpr (std::is_same_v<T, float>) {
    sgetrf_(&n, &n, A.data(), &n, ipiv.data(), &info);
  } else {
    dgetrf_(&n, &n, A.data(), &n, ipiv.data(), &info);
  }
  const auto B = filled<T>(n, nrhs, 0.0);
  for (auto _ : state) {
    auto X = B;
    if constexpr (std::is_same_v<T, float>) {
      sgetrs_("N", &n, &nrhs, A.data(), &n, ipiv.data(), X.data(), &n, &info);
    } else {
      dgetrs_("N", &n, &nrhs, A.data(), &n, ipiv.data(), X.data(), &n, &info);
    }
    benchmark::DoNotOptimize(X.data());
  }
}

void sizes(benchmark::internal::Benchmark* b) {
  for (const long n : {2048, 8192})
    for (const long nrhs : {1, 2, 3, 4}) b->Args({n, nrhs});
  b->Unit(benchmark::kMillisecond);
}

}  // namespace

BENCHMARK(BM_DenseLUSolve<float>)->Apply(sizes);
BENCHMARK(BM_GetrsOneCall<float>)->Apply(sizes);
BENCHMARK(BM_DenseLUSolve<double>)->Apply(sizes);
BENCHMARK(BM_GetrsOneCall<double>)->Apply(sizes);

BENCHMARK_MAIN();
