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
