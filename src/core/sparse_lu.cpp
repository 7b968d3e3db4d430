#include "qheat/core/sparse_lu.hpp"

#include <umfpack.h>

#include <array>
#include <type_traits>

namespace qheat::linalg {
namespace {

using Info = std::array<double, UMFPACK_INFO>;
using Control = std::array<double, UMFPACK_CONTROL>;

// The real (dl) and complex (zl, values interleaved: Az = null) entry points on 64-bit indices.
int symbolic(const Eigen::SparseMatrix<double, Eigen::ColMajor, long>& A, void** s, const double* c, double* info) {
  return static_cast<int>(umfpack_dl_symbolic(A.rows(), A.cols(), A.outerIndexPtr(), A.innerIndexPtr(), A.valuePtr(),
                                              s, c, info));
}
int symbolic(const Eigen::SparseMatrix<cplx, Eigen::ColMajor, long>& A, void** s, const double* c, double* info) {
  return static_cast<int>(umfpack_zl_symbolic(A.rows(), A.cols(), A.outerIndexPtr(), A.innerIndexPtr(),
                                              reinterpret_cast<const double*>(A.valuePtr()), nullptr, s, c, info));
}
int numeric(const Eigen::SparseMatrix<double, Eigen::ColMajor, long>& A, void* s, void** n, const double* c,
            double* info) {
  return static_cast<int>(umfpack_dl_numeric(A.outerIndexPtr(), A.innerIndexPtr(), A.valuePtr(), s, n, c, info));
}
int numeric(const Eigen::SparseMatrix<cplx, Eigen::ColMajor, long>& A, void* s, void** n, const double* c,
            double* info) {
  return static_cast<int>(umfpack_zl_numeric(A.outerIndexPtr(), A.innerIndexPtr(),
                                             reinterpret_cast<const double*>(A.valuePtr()), nullptr, s, n, c, info));
}
int solve_with(const Eigen::SparseMatrix<double, Eigen::ColMajor, long>& A, double* x, const double* b, void* n,
               const double* c, double* info) {
  return static_cast<int>(
      umfpack_dl_solve(UMFPACK_A, A.outerIndexPtr(), A.innerIndexPtr(), A.valuePtr(), x, b, n, c, info));
}
int solve_with(const Eigen::SparseMatrix<cplx, Eigen::ColMajor, long>& A, cplx* x, const cplx* b, void* n,
               const double* c, double* info) {
  return static_cast<int>(umfpack_zl_solve(UMFPACK_A, A.outerIndexPtr(), A.innerIndexPtr(),
                                           reinterpret_cast<const double*>(A.valuePtr()), nullptr,
                                           reinterpret_cast<double*>(x), nullptr, reinterpret_cast<const double*>(b),
                                           nullptr, n, c, info));
}
template <class Scalar>
Control defaults() {
  Control c{};
  if constexpr (std::is_same_v<Scalar, double>) umfpack_dl_defaults(c.data()); else umfpack_zl_defaults(c.data());
  return c;
}

}  // namespace

template <class Scalar>
SparseLU<Scalar>::SparseLU(const Matrix& A) : A_(A) {
  const Control c = defaults<Scalar>();
  Info info{};
  ok_ = A.isCompressed() && symbolic(A, &symbolic_, c.data(), info.data()) == UMFPACK_OK;
  if (!ok_) return;
  // UMFPACK's own peak estimate bounds the fill of any pivot order its partial pivoting may take: 20x what the
  // factorisation then held on the harmonic mode's operator (complex, 160 801 unknowns: estimated 7.95 GB,
  // 2.9e12 flops; held 0.40 GB, 1.9e10 flops). Under the symmetric strategy (chosen for operators whose pattern is
  // nearly symmetric, as the master equations' are), the pivots stay on the diagonal unless one is too small,
  // and the fill is the AMD ordering's symbolic one, which it reports as well: 2.06e7 entries there, of which
  // the factors held 2.07e7. The bytes are those entries (value and index) plus a quarter for the frontal
  // matrices (0.40 GB held against 0.49 GB for the entries alone).
  if (info[UMFPACK_STRATEGY_USED] == UMFPACK_STRATEGY_SYMMETRIC) {
    bytes_ = static_cast<std::size_t>(1.25 * info[UMFPACK_SYMMETRIC_LUNZ] * static_cast<double>(sizeof(Scalar) + sizeof(long)));
    flops_ = info[UMFPACK_SYMMETRIC_FLOPS];
  } else {
    bytes_ = static_cast<std::size_t>(info[UMFPACK_PEAK_MEMORY_ESTIMATE] * info[UMFPACK_SIZE_OF_UNIT]);
    flops_ = info[UMFPACK_FLOPS_ESTIMATE];
  }
}

template <class Scalar>
SparseLU<Scalar>::~SparseLU() {
  if constexpr (std::is_same_v<Scalar, double>) {
    if (numeric_ != nullptr) umfpack_dl_free_numeric(&numeric_);
    if (symbolic_ != nullptr) umfpack_dl_free_symbolic(&symbolic_);
  } else {
    if (numeric_ != nullptr) umfpack_zl_free_numeric(&numeric_);
    if (symbolic_ != nullptr) umfpack_zl_free_symbolic(&symbolic_);
  }
}

template <class Scalar>
bool SparseLU<Scalar>::factorize() {
  if (!ok_) return false;
  const Control c = defaults<Scalar>();
  Info info{};
  // UMFPACK_WARNING_singular_matrix: the factors exist but a pivot is zero; the solve would divide by it.
  ok_ = numeric(A_, symbolic_, &numeric_, c.data(), info.data()) == UMFPACK_OK;
  rcond_ = ok_ ? info[UMFPACK_RCOND] : 0.0;
  return ok_;
}

template <class Scalar>
typename SparseLU<Scalar>::Vec SparseLU<Scalar>::solve(const Vec& b) const {
  Vec x(b.size());
  if (!ok_) return Vec();
  const Control c = defaults<Scalar>();
  Info info{};
  if (solve_with(A_, x.data(), b.data(), numeric_, c.data(), info.data()) != UMFPACK_OK) return Vec();
  return x;
}

template class SparseLU<double>;
template class SparseLU<cplx>;

}  // namespace qheat::linalg
