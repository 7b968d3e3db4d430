// linalg::schur (zgees, Eigen's ComplexSchur below LAPACK's size) on unitary matrices, the use the Floquet
// propagator makes of it: Q unitary, Q diag(T) Q^dag = U, the diagonal equal to the eigenvalues zgeev finds,
// also for a pair of eigenvalues split by 1e-9 (where eigenvectors of a general solver lose orthogonality).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "../support.hpp"
#include "qheat/core/linalg.hpp"

namespace qheat {
namespace {

// e^{-i H} for Hermitian H, through its eigen-decomposition.
cmat unitary_of(const cmat& H) {
  rvec w;
  cmat V;
  linalg::hermitian_eigen(H, w, V);
  cvec phase(w.size());
  for (long i = 0; i < w.size(); ++i) phase(i) = std::polar(1.0, -w(i));
  return V * phase.asDiagonal() * V.adjoint();
}

// Round-off bounds: the backward error of a Schur decomposition is a modest multiple of eps ||U|| (||U|| = 1)
// times the dimension; 1e-12 leaves a factor ~50 at d = 40.
TEST(Schur, UnitaryMatricesAreDiagonalisedByAUnitaryQ) {
  std::mt19937 rng(7);
  for (int d : {6, 40}) {  // Eigen's ComplexSchur below kLapackMinDim = 24, zgees above
    for (bool close_pair : {false, true}) {
      cmat H = test::random_hermitian(d, rng);
      if (close_pair) {  // two eigenvalues of H (so of U) split by 1e-9
        rvec w;
        cmat V;
        linalg::hermitian_eigen(H, w, V);
        w(1) = w(0) + 1e-9;
        H = V * w.asDiagonal() * V.adjoint();
      }
      const cmat U = unitary_of(H);
      cvec lambda;
      cmat Q;
      linalg::schur(U, lambda, Q);
      ASSERT_EQ(lambda.size(), d);
      EXPECT_LT((Q.adjoint() * Q - cmat::Identity(d, d)).cwiseAbs().maxCoeff(), 1e-12) << d;
      EXPECT_LT((Q * lambda.asDiagonal() * Q.adjoint() - U).cwiseAbs().maxCoeff(), 1e-12) << d;
      const cvec reference = linalg::general_eigenvalues(U);
      for (long i = 0; i < d; ++i) {
        double nearest = 1.0;
        for (long j = 0; j < d; ++j) nearest = std::min(nearest, std::abs(lambda(i) - reference(j)));
        EXPECT_LT(nearest, 1e-12) << d << " " << i;
        EXPECT_NEAR(std::abs(lambda(i)), 1.0, 1e-12);
      }
    }
  }
}

}  // namespace
}  // namespace qheat
