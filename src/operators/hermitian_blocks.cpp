#include "qheat/operators/hermitian_blocks.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace qheat {
namespace {

// Calls f(i, j, k) for every pair i < j < n of a block, k = the first of its two coordinates (n + j (j - 1) + 2 i:
// column j's pairs follow the columns before it), tile by tile of kTile x kTile elements: an element's transposed
// partner (j, i) lies in a row, kTile columns of which a tile touches, so those stay in cache; whole columns at a
// time stride a row by the block's column length (32 KiB at n = 2048). bench_hermitian_blocks, n = 2048: unpack
// 40.9 ms by columns, 12.8 ms in tiles of 16, 21.5 / 39.8 / 36.2 ms in tiles of 8 / 32 / 64 (at a power-of-two n a
// tile's rows fall in one cache set).
constexpr int kTile = 16;
template <class F>
void for_each_pair(int n, F&& f) {
  for (int j0 = 0; j0 < n; j0 += kTile) {
    const int j1 = std::min(n, j0 + kTile);
    for (int i0 = 0; i0 <= j0; i0 += kTile)
      for (int j = j0; j < j1; ++j) {
        const long base = n + static_cast<long>(j) * (j - 1);
        for (int i = i0; i < std::min(j, i0 + kTile); ++i) f(i, j, base + 2 * static_cast<long>(i));
      }
  }
}

}  // namespace

HermitianBlocks::HermitianBlocks(std::vector<std::vector<int>> blocks, int basis_dim)
    : blocks_(std::move(blocks)), basis_dim_(basis_dim) {
  offsets_.reserve(blocks_.size());
  for (const auto& b : blocks_) {
    offsets_.push_back(dim_);
    const auto n = static_cast<long>(b.size());
    dim_ += n * n;
    largest_ = std::max(largest_, static_cast<int>(n));
  }
}

HermitianBlocks HermitianBlocks::full(int basis_dim) {
  std::vector<int> all(static_cast<std::size_t>(basis_dim));
  std::iota(all.begin(), all.end(), 0);
  return HermitianBlocks({std::move(all)}, basis_dim);
}

void HermitianBlocks::unpack(const rvec& x, int b, cmat& block) const {
  const int n = size(b);
  const double* p = x.data() + offset(b);
  block.resize(n, n);
  for (int i = 0; i < n; ++i) block(i, i) = p[i];
  for_each_pair(n, [&](int i, int j, long k) {
    const cplx v(p[k] * kInvSqrt2, p[k + 1] * kInvSqrt2);
    block(i, j) = v;
    block(j, i) = std::conj(v);
  });
}

void HermitianBlocks::pack(const cmat& block, int b, rvec& x) const {
  const int n = size(b);
  double* p = x.data() + offset(b);
  for (int i = 0; i < n; ++i) p[i] = block(i, i).real();
  for_each_pair(n, [&](int i, int j, long k) {
    p[k] = kSqrt2 * block(i, j).real();
    p[k + 1] = kSqrt2 * block(i, j).imag();
  });
}

void HermitianBlocks::pack_plus_adjoint(const cmat& block, int b, rvec& x) const {
  const int n = size(b);
  double* p = x.data() + offset(b);
  for (int i = 0; i < n; ++i) p[i] = 2.0 * block(i, i).real();
  for_each_pair(n, [&](int i, int j, long k) {
    p[k] = kSqrt2 * (block(i, j).real() + block(j, i).real());
    p[k + 1] = kSqrt2 * (block(i, j).imag() - block(j, i).imag());
  });
}

cplx HermitianBlocks::element(const rvec& x, int b, long i, long k) const {
  const long c = coordinate(b, i, k);
  if (i == k) return x(c);
  const cplx v(x(c) * kInvSqrt2, x(c + 1) * kInvSqrt2);
  return i < k ? v : std::conj(v);
}

void HermitianBlocks::unpack_real_sum(const rvec& x, int b, rmat& M) const {
  const int n = size(b);
  const double* p = x.data() + offset(b);
  M.resize(n, n);
  for (int i = 0; i < n; ++i) M(i, i) = p[i];
  for_each_pair(n, [&](int i, int j, long k) {
    M(i, j) = (p[k] + p[k + 1]) * kInvSqrt2;  // Re rho_ij + Im rho_ij
    M(j, i) = (p[k] - p[k + 1]) * kInvSqrt2;  // Re rho_ij - Im rho_ij
  });
}

void HermitianBlocks::pack_real_sum(const rmat& M, int b, rvec& x) const {
  const int n = size(b);
  double* p = x.data() + offset(b);
  for (int i = 0; i < n; ++i) p[i] = M(i, i);
  for_each_pair(n, [&](int i, int j, long k) {
    p[k] = kInvSqrt2 * (M(i, j) + M(j, i));      // sqrt2 (M_ij + M_ji) / 2
    p[k + 1] = kInvSqrt2 * (M(i, j) - M(j, i));  // sqrt2 (M_ij - M_ji) / 2
  });
}

cmat HermitianBlocks::to_matrix(const rvec& x) const {
  cmat m = cmat::Zero(basis_dim_, basis_dim_);
  cmat blk;
  for (int b = 0; b < count(); ++b) {
    unpack(x, b, blk);
    const auto& I = indices(b);
    for (std::size_t j = 0; j < I.size(); ++j)
      for (std::size_t i = 0; i < I.size(); ++i)
        m(I[i], I[j]) = blk(static_cast<long>(i), static_cast<long>(j));
  }
  return m;
}

rvec HermitianBlocks::from_matrix(const cmat& m) const {
  rvec x(dim_);
  cmat blk;
  for (int b = 0; b < count(); ++b) {
    const auto& I = indices(b);
    const auto n = static_cast<long>(I.size());
    blk.resize(n, n);
    for (long j = 0; j < n; ++j)
      for (long i = 0; i < n; ++i) blk(i, j) = m(I[static_cast<std::size_t>(i)], I[static_cast<std::size_t>(j)]);
    pack(blk, b, x);
  }
  return x;
}

rvec HermitianBlocks::trace_functional() const {
  rvec u = rvec::Zero(dim_);
  for (int b = 0; b < count(); ++b)
    for (int i = 0; i < size(b); ++i) u(offset(b) + i) = 1.0;
  return u;
}

std::vector<long> HermitianBlocks::population_coordinates() const {
  std::vector<long> at(static_cast<std::size_t>(basis_dim_), -1);
  for (int b = 0; b < count(); ++b)
    for (int i = 0; i < size(b); ++i) at[static_cast<std::size_t>(indices(b)[static_cast<std::size_t>(i)])] = offset(b) + i;
  return at;
}

}  // namespace qheat
