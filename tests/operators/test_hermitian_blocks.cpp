// Real coordinates of block-Hermitian operators (operators/hermitian_blocks.hpp).
#include <gtest/gtest.h>

#include "qheat/operators/hermitian_blocks.hpp"

using namespace qheat;

TEST(HermitianBlocks, PackPlusAdjointIsPackOfTheHermitianSum) {
  // Two blocks of a 5-level basis; Y is a general (non-Hermitian) complex block, as a generator's
  // Y in L(rho) = Y + Y^dag is. Same arithmetic on the same elements: equal to the last bit.
  const HermitianBlocks hb({{0, 2, 4}, {1, 3}}, 5);
  rvec a = rvec::Zero(hb.dim()), b = rvec::Zero(hb.dim());
  for (int blk = 0; blk < hb.count(); ++blk) {
    const int n = hb.size(blk);
    const cmat Y = cmat::Random(n, n);
    hb.pack(cmat(Y + Y.adjoint()), blk, a);
    hb.pack_plus_adjoint(Y, blk, b);
  }
  EXPECT_EQ((a - b).cwiseAbs().maxCoeff(), 0.0);
  // And the coordinates describe Y + Y^dag: unpacking gives it back (round-off of the sqrt(2) scaling).
  const cmat Y = cmat::Random(3, 3);
  hb.pack_plus_adjoint(Y, 0, b);
  cmat back;
  hb.unpack(b, 0, back);
  EXPECT_LT((back - (Y + Y.adjoint())).cwiseAbs().maxCoeff(), 1e-15);
}

TEST(HermitianBlocks, CoordinatesElementsAndTheRealSumForm) {
  // Block 1 (4 levels) of a 7-level basis holding a random Hermitian rho = S + iA.
  const HermitianBlocks hb({{0, 5, 6}, {1, 2, 3, 4}}, 7);
  const cmat G = cmat::Random(4, 4);
  const cmat rho = G + G.adjoint();
  rvec x = rvec::Zero(hb.dim());
  hb.pack(rho, 1, x);
  // coordinate() and element() address the same coordinates as pack (round-off of the sqrt2 scaling).
  for (long i = 0; i < 4; ++i)
    for (long k = 0; k < 4; ++k) {
      EXPECT_LT(std::abs(hb.element(x, 1, i, k) - rho(i, k)), 1e-15) << i << ", " << k;
      if (i != k) {
        const long c = hb.coordinate(1, i, k);
        EXPECT_EQ(c, hb.coordinate(1, k, i));
        EXPECT_LT(std::abs(x(c) - HermitianBlocks::kSqrt2 * rho(std::min(i, k), std::max(i, k)).real()), 1e-15);
      }
    }
  // The real sum form: M = S + A, and a real orthogonal basis change of M carries V^T S V in its symmetric and
  // V^T A V in its antisymmetric part; packing them back gives the coordinates of V^T rho V.
  rmat M;
  hb.unpack_real_sum(x, 1, M);
  EXPECT_LT((M - (rho.real() + rho.imag())).cwiseAbs().maxCoeff(), 1e-15);
  const Eigen::HouseholderQR<rmat> qr(rmat::Random(4, 4));
  const rmat V = qr.householderQ();
  const rmat P = V.transpose() * M * V;
  rvec y = rvec::Zero(hb.dim()), z = rvec::Zero(hb.dim());
  hb.pack_real_sum(P, 1, y);
  hb.pack(cmat(V.transpose().cast<cplx>() * rho * V.cast<cplx>()), 1, z);
  // Two orders of the same products of O(1) numbers: round-off, ~1e-15.
  EXPECT_LT((y - z).cwiseAbs().maxCoeff(), 1e-13);
  EXPECT_GT(y.norm(), 1.0);
}
