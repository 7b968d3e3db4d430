// Block-diagonal Hermitian operators in real orthonormal coordinates. A master equation maps Hermitian
// operators to Hermitian operators, so its steady-state problem is real: block b (basis indices I_b, size
// n_b) holds n_b^2 reals -- the diagonal rho_ii, then sqrt2 Re rho_ij and sqrt2 Im rho_ij for i < j --
// so that the Euclidean norm of the coordinates is the Frobenius norm of the operator. One block
// covering the whole basis is a general Hermitian operator; blocks of a conserved charge or of
// degenerate energies hold only the sector the steady state lives in.
#pragma once

#include <vector>

#include "qheat/core/types.hpp"

namespace qheat {

class HermitianBlocks {
public:
  // The scale of the off-diagonal coordinates (sqrt2 Re rho_ij, sqrt2 Im rho_ij) and its inverse.
  static constexpr double kSqrt2 = 1.4142135623730950488;
  static constexpr double kInvSqrt2 = 0.70710678118654752440;

  HermitianBlocks() = default;
  // `blocks[b]` lists the basis indices of block b (each index in at most one block).
  HermitianBlocks(std::vector<std::vector<int>> blocks, int basis_dim);
  static HermitianBlocks full(int basis_dim);  // one block: every Hermitian operator

  [[nodiscard]] long dim() const noexcept { return dim_; }
  [[nodiscard]] int basis_dim() const noexcept { return basis_dim_; }
  [[nodiscard]] int count() const noexcept { return static_cast<int>(blocks_.size()); }
  [[nodiscard]] const std::vector<int>& indices(int b) const { return blocks_[static_cast<std::size_t>(b)]; }
  [[nodiscard]] int size(int b) const { return static_cast<int>(indices(b).size()); }
  [[nodiscard]] long offset(int b) const { return offsets_[static_cast<std::size_t>(b)]; }
  [[nodiscard]] int largest_block() const noexcept { return largest_; }

  // Block b of the operator with coordinates x, as a full n_b x n_b matrix.
  void unpack(const rvec& x, int b, cmat& block) const;
  // Writes the coordinates of block b from a matrix (its upper triangle and real diagonal are read:
  // exact for Hermitian input).
  void pack(const cmat& block, int b, rvec& x) const;
  // Writes the coordinates of block + block^dag (the Hermitian part of a generator's Y + Y^dag form)
  // without forming the sum.
  void pack_plus_adjoint(const cmat& block, int b, rvec& x) const;
  // The coordinate of element (i, k) of block b (indices within the block): rho_ii's, or for i != k the first of
  // the pair (sqrt2 Re, sqrt2 Im) of rho_lo,hi, lo = min(i, k), hi = max(i, k).
  [[nodiscard]] long coordinate(int b, long i, long k) const {
    if (i == k) return offset(b) + i;
    const long lo = i < k ? i : k, hi = i < k ? k : i;
    return offset(b) + size(b) + 2 * (hi * (hi - 1) / 2 + lo);
  }
  // Element (i, k) of block b of the operator with coordinates x.
  [[nodiscard]] cplx element(const rvec& x, int b, long i, long k) const;
  // Block b = S + iA (S real symmetric, A real antisymmetric) as the one real matrix S + A, whose symmetric and
  // antisymmetric parts are S and A; and back from such a matrix (S = (M + M^T)/2, A = (M - M^T)/2). A real
  // orthogonal basis change V^T M V keeps the two parts apart, so it changes S and A with half the products.
  void unpack_real_sum(const rvec& x, int b, rmat& M) const;
  void pack_real_sum(const rmat& M, int b, rvec& x) const;
  // The share of the element v at (i, k) of a block-b matrix Y in the coordinates of Y + Y^dag (what
  // pack_plus_adjoint sums, element by element): calls add(coordinate, value) once or twice.
  template <class Add>
  void add_plus_adjoint_element(int b, long i, long k, cplx v, Add&& add) const {
    const long c = coordinate(b, i, k);
    if (i == k) {
      add(c, 2.0 * v.real());
    } else {
      add(c, kSqrt2 * v.real());
      add(c + 1, i < k ? kSqrt2 * v.imag() : -kSqrt2 * v.imag());
    }
  }
  // The whole operator as a basis_dim x basis_dim matrix (zero outside the blocks).
  [[nodiscard]] cmat to_matrix(const rvec& x) const;
  // Coordinates of the blocks of a Hermitian matrix (elements outside the blocks are dropped).
  [[nodiscard]] rvec from_matrix(const cmat& m) const;
  // u with u.x = Tr(rho).
  [[nodiscard]] rvec trace_functional() const;
  // The coordinate of rho_ii for each basis index i (-1 for an index in no block).
  [[nodiscard]] std::vector<long> population_coordinates() const;

private:
  std::vector<std::vector<int>> blocks_;
  std::vector<long> offsets_;
  long dim_ = 0;
  int basis_dim_ = 0;
  int largest_ = 0;
};

}  // namespace qheat
