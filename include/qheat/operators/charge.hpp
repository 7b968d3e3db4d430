// Conserved charges: the excitation number of the product basis and the symmetry it generates. If every
// element of H connects states whose excitation numbers Q agree modulo m (m = 0: exactly), H is block
// diagonal over the classes of Q mod m and its eigenvectors can be taken inside one class each; if, in
// addition, every coupling operator shifts the class by one fixed amount modulo m, the Bloch-Redfield
// generator commutes with rho -> U rho U^dag, U = exp(2 pi i Q / m), and its steady state is block
// diagonal over the classes (docs/methods.md, "Conserved charges").
#pragma once

#include <Eigen/SparseCore>
#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <vector>

#include "qheat/core/types.hpp"
#include "qheat/operators/space.hpp"

namespace qheat {

// Excitation number of each basis state: per site the number of quanta its level index carries -- a
// qubit's |up> (index 0, sz = +1) is 1 and |down> 0, a spin's m + j (index 0 is m = j), a boson's Fock
// number, a level's index (operators/space.cpp).
std::vector<int> excitation_numbers(const Space& space);

// The largest modulus dividing `m` (0: exact charges, divisible by everything) for which every element of
// `op` above round-off (1e-14 of the largest: an expression like J sx sx + J sy sy may leave round-off where
// its terms cancel) shifts the charge by one amount s: q[row] - q[col] = s (mod the result) for all of them;
// `conserving`: s = 0 (H). 1 means no symmetry is left.
int charge_modulus(const cmat& op, const std::vector<int>& q, int m, bool conserving);

// The shifts of an operator's elements folded into a modulus, one element at a time (charge_modulus).
class ShiftModulus {
public:
  ShiftModulus(int m, bool conserving) : m_(m), first_(!conserving) {}
  void add(int shift) {
    if (first_) s0_ = shift;
    first_ = false;
    m_ = std::gcd(m_, std::abs(shift - s0_));  // gcd(0, x) = |x|
  }
  [[nodiscard]] int modulus() const noexcept { return m_; }

private:
  int m_;
  bool first_;
  int s0_ = 0;
};

// charge_modulus of a sparse operator (its stored elements).
template <class Scalar, int Options, class Index>
int charge_modulus(const Eigen::SparseMatrix<Scalar, Options, Index>& op, const std::vector<int>& q, int m, bool conserving) {
  using Op = Eigen::SparseMatrix<Scalar, Options, Index>;
  double largest2 = 0.0;
  for (Index k = 0; k < op.outerSize(); ++k)
    for (typename Op::InnerIterator it(op, k); it; ++it) largest2 = std::max(largest2, std::norm(it.value()));
  ShiftModulus f(m, conserving);
  for (Index k = 0; k < op.outerSize() && f.modulus() != 1; ++k)
    for (typename Op::InnerIterator it(op, k); it; ++it)
      if (std::norm(it.value()) > 1e-28 * largest2)
        f.add(q[static_cast<std::size_t>(it.row())] - q[static_cast<std::size_t>(it.col())]);
  return f.modulus();
}

// The class of each charge: q itself for m = 0, q mod m otherwise.
std::vector<int> charge_classes(const std::vector<int>& q, int m);

// The basis indices of each class, classes in increasing order (a partition of 0 .. q.size() - 1).
std::vector<std::vector<int>> charge_sectors(const std::vector<int>& classes);

// The sector of each index of a partition into sectors (charge_sectors).
std::vector<int> sector_of(const std::vector<std::vector<int>>& sectors, std::size_t size);

// For each row sector r, the column sectors c whose block M(rows[r], cols[c]) holds an element that is not
// exactly zero (one pass over M; row_sector, col_sector: sector_of the two partitions).
template <class Derived>
std::vector<std::vector<int>> nonzero_sector_blocks(const Eigen::MatrixBase<Derived>& M, const std::vector<int>& row_sector,
                                                   const std::vector<int>& col_sector, std::size_t sectors) {
  using Scalar = typename Derived::Scalar;
  std::vector<char> seen(sectors * sectors, 0);
  for (long j = 0; j < M.cols(); ++j) {
    const auto c = static_cast<std::size_t>(col_sector[static_cast<std::size_t>(j)]);
    for (long i = 0; i < M.rows(); ++i)
      if (M(i, j) != Scalar(0)) seen[static_cast<std::size_t>(row_sector[static_cast<std::size_t>(i)]) * sectors + c] = 1;
  }
  std::vector<std::vector<int>> out(sectors);
  for (std::size_t r = 0; r < sectors; ++r)
    for (std::size_t c = 0; c < sectors; ++c)
      if (seen[r * sectors + c] != 0) out[r].push_back(static_cast<int>(c));
  return out;
}

// Below this dimension products by sectors cost more in bookkeeping than they save (dense products instead).
inline constexpr long kMinSectorDim = 32;

// out += A^dag B for square A, B whose elements vanish outside some blocks of a partition of the indices into
// sectors (operators in the eigenbasis of a charge-conserving H: each moves a class by a fixed amount):
// block (a, b) gains the sum over r of A(r, a)^dag B(r, b), without the products of blocks that are exactly
// zero. Equal to out += A.adjoint() * B up to the order of the sums; the dense product for < 2 sectors or
// below kMinSectorDim.
void add_adjoint_product_by_sectors(const cmat& A, const cmat& B, const std::vector<std::vector<int>>& sectors, cmat& out);

// A B for square A, B that vanish outside some blocks of a partition of the indices into sectors (as above):
// block (i, j) sums A(i, r) B(r, j) over the sectors r where both blocks are nonzero. Equal to A * B up to the
// order of the sums; the dense product for < 2 sectors or below kMinSectorDim. Real or complex.
template <class DA, class DB>
Eigen::Matrix<typename DA::Scalar, Eigen::Dynamic, Eigen::Dynamic> product_by_sectors(
    const Eigen::MatrixBase<DA>& A, const Eigen::MatrixBase<DB>& B, const std::vector<std::vector<int>>& sectors) {
  using Mat = Eigen::Matrix<typename DA::Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  const std::size_t ns = sectors.size();
  if (ns < 2 || A.rows() < kMinSectorDim) return A * B;
  const std::vector<int> at = sector_of(sectors, static_cast<std::size_t>(A.rows()));
  const std::vector<std::vector<int>> a = nonzero_sector_blocks(A, at, at, ns), b = nonzero_sector_blocks(B, at, at, ns);
  Mat out = Mat::Zero(A.rows(), B.cols());
  for (std::size_t i = 0; i < ns; ++i) {
    const std::vector<int>& I = sectors[i];
    for (const int r : a[i]) {
      const std::vector<int>& R = sectors[static_cast<std::size_t>(r)];
      const Mat x = A(I, R);
      for (const int j : b[static_cast<std::size_t>(r)]) {
        const std::vector<int>& J = sectors[static_cast<std::size_t>(j)];
        const Mat y = B(R, J);
        out(I, J) += x * y;
      }
    }
  }
  return out;
}

}  // namespace qheat
