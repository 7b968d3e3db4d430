#include "qheat/operators/hermitian_blocks.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace qheat {

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
  long k = n;
  for (int j = 1; j < n; ++j)
    for (int i = 0; i < j; ++i, k += 2) {
      const cplx v(p[k] * kInvSqrt2, p[k + 1] * kInvSqrt2);
      block(i, j) = v;
      block(j, i) = std::conj(v);
    }
}

void HermitianBlocks::pack(const cmat& block, int b, rvec& x) const {
  const int n = size(b);
  double* p = x.data() + offset(b);
  for (int i = 0; i < n; ++i) p[i] = block(i, i).real();
  long k = n;
  for (int j = 1; j < n; ++j)
    for (int i = 0; i < j; ++i, k += 2) {
      p[k] = kSqrt2 * block(i, j).real();
      p[k + 1] = kSqrt2 * block(i, j).imag();
    }
}

void HermitianBlocks::pack_plus_adjoint(const cmat& block, int b, rvec& x) const {
  const int n = size(b);
  double* p = x.data() + offset(b);
  for (int i = 0; i < n; ++i) p[i] = 2.0 * block(i, i).real();
  long k = n;
  for (int j = 1; j < n; ++j)
    for (int i = 0; i < j; ++i, k += 2) {
      p[k] = kSqrt2 * (block(i, j).real() + block(j, i).real());
      p[k + 1] = kSqrt2 * (block(i, j).imag() - block(j, i).imag());
    }
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
  long k = n;
  for (int j = 1; j < n; ++j)
    for (int i = 0; i < j; ++i, k += 2) {
      M(i, j) = (p[k] + p[k + 1]) * kInvSqrt2;  // Re rho_ij + Im rho_ij
      M(j, i) = (p[k] - p[k + 1]) * kInvSqrt2;  // Re rho_ij - Im rho_ij
    }
}

void HermitianBlocks::pack_real_sum(const rmat& M, int b, rvec& x) const {
  const int n = size(b);
  double* p = x.data() + offset(b);
  for (int i = 0; i < n; ++i) p[i] = M(i, i);
  long k = n;
  for (int j = 1; j < n; ++j)
    for (int i = 0; i < j; ++i, k += 2) {
      p[k] = kInvSqrt2 * (M(i, j) + M(j, i));      // sqrt2 (M_ij + M_ji) / 2
      p[k + 1] = kInvSqrt2 * (M(i, j) - M(j, i));  // sqrt2 (M_ij - M_ji) / 2
    }
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
