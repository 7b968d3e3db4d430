// Real coordinates of block-Hermitian operators (operators/hermitian_blocks.hpp).
#include <gtest/gtest.h>

#include <vector>

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

TEST(HermitianBlocks, BlocksOfManyTilesKeepTheCoordinateOrder) {
  // A block of 150 levels (the loops go tile by tile of 16 x 16 elements): coordinate k of the pair (i, j), i < j,
  // is n + j (j - 1) + 2 i, as coordinate() says; pack, unpack, pack_plus_adjoint and the real sum form agree with
  // the element formulas exactly (the same arithmetic on each element).
  const int n = 150;
  std::vector<int> levels(n);
  for (int i = 0; i < n; ++i) levels[static_cast<std::size_t>(i)] = i;
  const HermitianBlocks hb({levels}, n);
  const cmat G = cmat::Random(n, n);
  const cmat rho = G + G.adjoint();
  rvec x = rvec::Zero(hb.dim());
  hb.pack(rho, 0, x);
  for (long j = 1; j < n; ++j)
    for (long i = 0; i < j; ++i) {
      const long k = hb.coordinate(0, i, j);
      ASSERT_EQ(k, n + j * (j - 1) + 2 * i);
      ASSERT_EQ(x(k), HermitianBlocks::kSqrt2 * rho(i, j).real());
      ASSERT_EQ(x(k + 1), HermitianBlocks::kSqrt2 * rho(i, j).imag());
    }
  cmat back;
  hb.unpack(x, 0, back);
  for (long j = 0; j < n; ++j)
    for (long i = 0; i < n; ++i) ASSERT_EQ(back(i, j), hb.element(x, 0, i, j)) << i << ", " << j;
  rvec a = rvec::Zero(hb.dim()), b = rvec::Zero(hb.dim());
  hb.pack(cmat(G + G.adjoint()), 0, a);
  hb.pack_plus_adjoint(G, 0, b);
  EXPECT_EQ((a - b).cwiseAbs().maxCoeff(), 0.0);
  rmat M;
  hb.unpack_real_sum(x, 0, M);
  for (long j = 1; j < n; ++j)
    for (long i = 0; i < j; ++i) {
      const long k = n + j * (j - 1) + 2 * i;
      ASSERT_EQ(M(i, j), (x(k) + x(k + 1)) * HermitianBlocks::kInvSqrt2);
      ASSERT_EQ(M(j, i), (x(k) - x(k + 1)) * HermitianBlocks::kInvSqrt2);
    }
  rvec y = rvec::Zero(hb.dim());
  hb.pack_real_sum(M, 0, y);
  EXPECT_LT((y - x).cwiseAbs().maxCoeff(), 1e-14);  // (a + b) / sqrt2 and back: round-off of O(1) numbers
}
