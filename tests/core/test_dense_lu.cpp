// linalg::DenseLU (LAPACK getrf/getrs): solutions with one to five right-hand sides against Eigen's own partial-pivoting
// LU, an independent implementation. Two columns are solved one at a time (core/linalg.cpp), other counts in
// one call: every count must give the same solution.
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
  constexpr long n = 300;
  const Mat A = filled<Scalar>(n, n, 30.0);
  const linalg::DenseLU<Scalar> lu(A);
  const Eigen::PartialPivLU<Mat> reference(A);
  // The matrix is well conditioned (diagonal 30 against off-diagonal elements of magnitude <= 1.4 in rows of 300:
  // condition number ~1e2), so both solves agree to ~1e2 x n x epsilon of the solution's size; 1e3 x epsilon x n leaves
  // room for the different orders of operations.
  const double tol = 1e3 * static_cast<double>(n) * std::numeric_limits<typename Eigen::NumTraits<Scalar>::Real>::epsilon();
  for (long nrhs = 1; nrhs <= 5; ++nrhs) {
    const Mat B = filled<Scalar>(n, nrhs, 0.0);
    Mat X = B;
    lu.solve_in_place(X);
    const Mat Y = reference.solve(B);
    EXPECT_LE((X - Y).norm(), tol * Y.norm()) << "nrhs " << nrhs;
    // Each column alone gives that column of the solution with several.
    for (long c = 0; c < nrhs; ++c) {
      Mat x = B.col(c);
      lu.solve_in_place(x);
      EXPECT_LE((x - X.col(c)).norm(), tol * x.norm()) << "nrhs " << nrhs << ", column " << c;
    }
  }
}

}  // namespace

TEST(DenseLU, SolvesWithOneToFiveRightHandSidesMatchEigen) {
  expect_solves<float>();
  expect_solves<double>();
  expect_solves<std::complex<double>>();
}
