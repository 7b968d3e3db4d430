// Dense linear algebra that goes to LAPACK (OpenBLAS's) where it pays: Hermitian and general
// eigen-decompositions. Eigen's matrix products already go to OpenBLAS's BLAS (EIGEN_USE_BLAS).
#pragma once

#include <utility>
#include <vector>

#include "qheat/core/types.hpp"

namespace qheat::linalg {

// True when every element's imaginary part is exactly zero.
bool is_real(const cmat& m);

// Tr[A B] = sum_ij A_ij B_ji in O(d^2) (the product A B costs d^3: 3 s per observable at d = 4096).
cplx trace_of_product(const cmat& A, const cmat& B);

// Hermitian H = V diag(w) V^dag, w ascending. Real symmetric H goes to dsyevd (a quarter of the
// work), complex to zheevd; small matrices stay with Eigen. Throws MethodError("eigensolver").
void hermitian_eigen(const cmat& H, rvec& w, cmat& V);
// Eigenvalues only (ascending).
rvec hermitian_eigenvalues(const cmat& H);
// Real symmetric version (dsyevd), V real.
void symmetric_eigen(const rmat& H, rvec& w, rmat& V);

// General A = V diag(w) V^{-1} (zgeev); also returns V^{-1}. Throws MethodError("eigensolver").
void general_eigen(const cmat& A, cvec& w, cmat& V, cmat& V_inverse);
// Eigenvalues only of a general complex (zgeev) or real (dgeev) matrix, unordered.
cvec general_eigenvalues(const cmat& A);
cvec general_eigenvalues(const rmat& A);
// Complex Schur form A = Q T Q^dag (zgees; Eigen below LAPACK's size): the diagonal of T and the unitary Q. For
// a normal matrix (a unitary propagator) T is diagonal to round-off and Q's columns are its eigenvectors,
// orthonormal also where eigenvalues nearly coincide. Throws MethodError("eigensolver").
void schur(const cmat& A, cvec& diagonal, cmat& Q);

// Hermitian band matrices in LAPACK's lower band storage: ab(i - j, j) = A(i, j) for 0 <= i - j <= kd,
// ab has kd + 1 rows and n columns.
// Eigenvalues only, ascending (dsbev / zhbev: O(n^2 kd) instead of O(n^3)).
rvec band_eigenvalues(const rmat& ab);
rvec band_eigenvalues(const cmat& ab);

// LU factorisation (partial pivoting, dgbtrf / zgbtrf) of A - sigma for such a band matrix, and solves
// with it: the inner step of inverse iteration. factor() returns false when a pivot is exactly zero.
template <class Scalar>
class ShiftedBandLU {
 public:
  using Mat = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using Vec = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
  bool factor(const Mat& ab, double sigma);
  void solve(Vec& x) const;

 private:
  Mat lu_;
  std::vector<int> ipiv_;
  int n_ = 0, kd_ = 0;
};

// LU factorisation with partial pivoting of a dense matrix (sgetrf / dgetrf / zgetrf) and solves with it (?getrs):
// OpenBLAS's recursive, threaded zgetrf took 5.4-5.6 s at n = 4096 against 7.8-10.6 s for Eigen's PartialPivLU on
// this machine (2 cores, both timed in one program, 2026-12-04, machine shared with a CI run); at n = 6000 sgetrf
// took 0.87-0.89 s against 1.54-1.58 s for dgetrf (SciPy on the same OpenBLAS, 2026-12-05).
template <class Scalar>
class DenseLU {
 public:
  using Mat = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  DenseLU() = default;
  explicit DenseLU(Mat A);
  [[nodiscard]] double pivot_ratio() const;  // smallest over largest |pivot| (0: singular)
  [[nodiscard]] std::pair<double, double> pivot_range() const;  // smallest and largest |pivot|
  void solve_in_place(Mat& B) const;         // B <- A^-1 B (B has A's rows)

 private:
  Mat lu_;
  std::vector<int> ipiv_;
};

}  // namespace qheat::linalg
