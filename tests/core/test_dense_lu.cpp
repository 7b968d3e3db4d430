// linalg::DenseLU (LAPACK getrf/getrs): solutions with one to five right-hand sides against Eigen's own partial-pivoting
// LU (in double precision), an independent implementation. Two columns are solved one at a time (core/linalg.cpp),
// other counts in one getrs call: every count must give the same solution.
#include <gtest/gtest.h>

#include <Eigen/LU>
#include <cmath>
#include <complex>
#include <limits>

#include "qheat/core/linalg.hpp"

using namespace qheat;

namespace {

// An unsymmetric, regular matrix (dominant diagonal plus fixed pseudo-random elements) and right-hand sides.
template <class Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> filled(long rows, long cols, double diagonal) {
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> A(rows, cols);
  for (long j = 0; j < cols; ++j)
    for (long i = 0; i < rows; ++i) {
      const double r = std::sin(1.3 * static_cast<double>(i) + 0.7 * static_cast<double>(j) + 0.1);
      if constexpr (std::is_same_v<Scalar, std::complex<double>>) {
        A(i, j) = Scalar(r, std::cos(0.9 * static_cast<double>(i - 2 * j)));
      } else {
        A(i, j) = static_cast<Scalar>(r);
      }
      if (i == j) A(i, j) += static_cast<Scalar>(diagonal);
    }
  return A;
}

template <class Scalar>
void expect_solves() {
  using Mat = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using Real = typename Eigen::NumTraits<Scalar>::Real;
  // n = 1100: above a thousand, as ADO 0's class blocks are from six qubits on (2048).
  constexpr long n = 1100;
  const Mat A = filled<Scalar>(n, n, 30.0);
  const linalg::DenseLU<Scalar> lu(A);
  const Eigen::PartialPivLU<Eigen::Matrix<std::complex<double>, Eigen::Dynamic, Eigen::Dynamic>> reference(
      A.template cast<std::complex<double>>());
  const double eps = std::numeric_limits<Real>::epsilon();
  for (long nrhs = 1; nrhs <= 5; ++nrhs) {
    const Mat B = filled<Scalar>(n, nrhs, 0.0);
    Mat X = B;
    lu.solve_in_place(X);
    // Backward error ||A X - B|| / (||A|| ||X||): partial pivoting keeps it below ~n eps times the pivot growth (small
    // for this matrix: 30 I plus a rank-two part); 10 n eps bounds it. A wrong block or row offset leaves O(1).
    const Mat R = A * X - B;
    EXPECT_LE(R.norm(), 10.0 * static_cast<double>(n) * eps * A.norm() * X.norm()) << "nrhs " << nrhs;
    // And the solution is Eigen's (in double precision) to the condition number (~10) times that.
    const Eigen::MatrixXcd Y = reference.solve(B.template cast<std::complex<double>>());
    EXPECT_LE((X.template cast<std::complex<double>>() - Y).norm(), 100.0 * static_cast<double>(n) * eps * Y.norm())
        << "nrhs " << nrhs;
    // Each column alone gives that column of the solution with several.
    for (long c = 0; c < nrhs; ++c) {
      Mat x = B.col(c);
      lu.solve_in_place(x);
      EXPECT_LE((x - X.col(c)).norm(), 100.0 * static_cast<double>(n) * eps * x.norm()) << "nrhs " << nrhs << ", column " << c;
    }
  }
}

}  // namespace

TEST(DenseLU, SolvesWithOneToFiveRightHandSidesMatchEigen) {
  expect_solves<float>();
  expect_solves<double>();
  expect_solves<std::complex<double>>();
}
