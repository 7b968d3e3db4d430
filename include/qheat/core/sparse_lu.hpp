// Sparse LU factorisation through UMFPACK (SuiteSparse, Debian's libsuitesparse-dev): multifrontal, its dense
// fronts on BLAS. Measured against Eigen's SparseLU on the harmonic mode's Bloch-Redfield operator (complex, 40 401
// unknowns): 0.53 s against 126 s (METIS ordering) and 129 s (AMD); on a HEOM hierarchy 8.6 s against 133 s
// (bench/README.md). The symbolic analysis comes first and states the memory the factorisation will need, so
// that a solve that would not fit is refused before it allocates.
#pragma once

#include <Eigen/SparseCore>
#include <cstddef>
#include <memory>

#include "qheat/core/types.hpp"

namespace qheat::linalg {

template <class Scalar>
class SparseLU {
public:
  using Matrix = Eigen::SparseMatrix<Scalar, Eigen::ColMajor, long>;
  using Vec = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
  // Symbolic analysis of A's pattern (A is held by reference until factorize: it must outlive this object).
  explicit SparseLU(const Matrix& A);
  ~SparseLU();
  SparseLU(const SparseLU&) = delete;
  SparseLU& operator=(const SparseLU&) = delete;
  // What the factorisation will hold at its peak (UMFPACK's estimate from the analysis) and its flop count.
  [[nodiscard]] std::size_t estimated_bytes() const noexcept { return bytes_; }
  [[nodiscard]] double estimated_flops() const noexcept { return flops_; }
  // Numerical factorisation; false when A is singular (a zero pivot) or the analysis failed.
  bool factorize();
  // UMFPACK's estimate of the reciprocal condition number (smallest over largest |pivot|) after factorize.
  [[nodiscard]] double rcond() const noexcept { return rcond_; }
  [[nodiscard]] Vec solve(const Vec& b) const;

private:
  const Matrix& A_;
  void* symbolic_ = nullptr;
  void* numeric_ = nullptr;
  bool ok_ = false;
  std::size_t bytes_ = 0;
  double flops_ = 0.0, rcond_ = 0.0;
};

extern template class SparseLU<double>;
extern template class SparseLU<cplx>;

}  // namespace qheat::linalg
