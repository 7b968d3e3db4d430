// linalg::SparseLU (UMFPACK): solutions against Eigen's dense LU, the estimate, and a singular matrix.
#include <gtest/gtest.h>

#include <Eigen/LU>
#include <cmath>
#include <vector>

#include "qheat/core/sparse_lu.hpp"

using namespace qheat;

namespace {

// A 2-D five-point stencil on an m x m grid with a dominant diagonal (plus a fixed pseudo-random skew), so that the
// matrix is regular and unsymmetric; as Scalar (real or complex).
template <class Scalar>
typename linalg::SparseLU<Scalar>::Matrix grid(long m) {
  std::vector<Eigen::Triplet<Scalar, long>> t;
  auto value = [](long i, long j) {
    const double r = std::sin(1.3 * static_cast<double>(i) + 0.7 * static_cast<double>(j));
    if constexpr (std::is_same_v<Scalar, double>) return r; else return Scalar(r, std::cos(0.9 * static_cast<double>(i - j)));
  };
  const long n = m * m;
  for (long i = 0; i < m; ++i)
    for (long j = 0; j < m; ++j) {
      const long k = i * m + j;
      t.emplace_back(k, k, Scalar(6.0) + value(k, k));
      if (i > 0) t.emplace_back(k, k - m, value(k, k - m));
      if (i + 1 < m) t.emplace_back(k, k + m, value(k, k + m));
      if (j > 0) t.emplace_back(k, k - 1, value(k, k - 1));
      if (j + 1 < m) t.emplace_back(k, k + 1, value(k, k + 1));
    }
  typename linalg::SparseLU<Scalar>::Matrix A(n, n);
  A.setFromTriplets(t.begin(), t.end());
  A.makeCompressed();
  return A;
}

template <class Scalar>
void expect_solves() {
  using Vec = typename linalg::SparseLU<Scalar>::Vec;
  const auto A = grid<Scalar>(15);
  linalg::SparseLU<Scalar> lu(A);
  EXPECT_GT(lu.estimated_bytes(), 0U);
  EXPECT_GT(lu.estimated_flops(), 0.0);
  ASSERT_TRUE(lu.factorize());
  EXPECT_GT(lu.rcond(), 1e-3);  // a dominant diagonal (|pivots| within 4..8)
  Vec b(A.rows());
  for (long k = 0; k < b.size(); ++k) b(k) = Scalar(std::cos(0.1 * static_cast<double>(k)));
  const Vec x = lu.solve(b);
  ASSERT_EQ(x.size(), b.size());
  const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> D(A);
  const Vec y = D.partialPivLu().solve(b);
  // Both backward stable on a matrix of condition ~2 (dominant diagonal): they agree to round-off.
  EXPECT_LE((x - y).norm(), 1e-13 * y.norm());
}

}  // namespace

TEST(SparseLU, SolvesRealSystems) { expect_solves<double>(); }
TEST(SparseLU, SolvesComplexSystems) { expect_solves<cplx>(); }

TEST(SparseLU, SingularMatrixFailsToFactorise) {
  auto A = grid<double>(6);
  // A zero column: structurally singular.
  for (linalg::SparseLU<double>::Matrix::InnerIterator it(A, 7); it; ++it) it.valueRef() = 0.0;
  linalg::SparseLU<double> lu(A);
  EXPECT_FALSE(lu.factorize());
  EXPECT_EQ(lu.rcond(), 0.0);
  EXPECT_EQ(lu.solve(linalg::SparseLU<double>::Vec::Ones(A.rows())).size(), 0);
}
