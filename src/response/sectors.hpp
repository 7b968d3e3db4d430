// The global (Davies) generator L0 on every Bohr-frequency sector (private to src/response/): elements
// rho_ab of operators in the eigenbasis of H0, coupled by L0 only inside invariant sectors. Built from a
// SecularEquation (its eigenbasis, level clusters, transition blocks with Gamma, K and H_LS), so the zero
// sector is exactly the steady-state problem `qheat ness --method global` solves. docs/methods.md,
// "Linear response", "At scale".
//
//   (L0 rho)_ab = (M rho + rho M^dag)_ab + sum_g sum_{t1, t2 in g, to1 = a, to2 = b} (Gamma_1 + conj Gamma_2)
//                                         x_1 conj(x_2) rho_{from1, from2},
//   M = -i H_tot - K  (block diagonal over level clusters: H_tot = diag(E) + H_LS, K = sum_a K_h,a),
// with g a Bohr-frequency group of one channel (transitions whose frequencies are equal within the level
// tolerance) -- the Redfield form Lambda rho X^dag + X rho Lambda^dag of every secular term, which for equal
// Gamma in a group is kappa(w) X(w) rho X(w)^dag. A pair maps the element (from1, from2) to (to1, to2) with
// the same E_a - E_b up to the tolerance: the sectors are the connected components of these couplings and
// of the cluster blocks of M. The zero sector (elements inside level clusters) holds the steady state.
#pragma once

#include <Eigen/SparseCore>
#include <vector>

#include "../generators/secular_equation.hpp"
#include "qheat/core/types.hpp"

namespace qheat::response_detail {

using spcmat = Eigen::SparseMatrix<cplx, Eigen::ColMajor, int>;

// One non-zero element X_{to, from} of a channel's operator in the eigenbasis.
struct Transition {
  int to = 0, from = 0;
  int group = 0;  // Bohr-frequency group, unique over baths and channels
  int bath = 0;
  cplx x;
  cplx gamma;  // Gamma(w) = kappa/2 + i S
};

class SectorGenerator {
public:
  explicit SectorGenerator(const SecularEquation& eq);

  [[nodiscard]] int dim() const noexcept { return d_; }
  [[nodiscard]] long element(int a, int b) const noexcept { return static_cast<long>(a) + static_cast<long>(d_) * b; }
  [[nodiscard]] int row(long e) const noexcept { return static_cast<int>(e % d_); }
  [[nodiscard]] int col(long e) const noexcept { return static_cast<int>(e / d_); }
  [[nodiscard]] int cluster(int level) const { return cluster_of_[static_cast<std::size_t>(level)]; }
  [[nodiscard]] bool in_cluster(long e) const { return cluster(row(e)) == cluster(col(e)); }
  [[nodiscard]] const std::vector<Transition>& transitions() const noexcept { return trans_; }
  [[nodiscard]] int group_count() const noexcept { return groups_; }
  // M = -i H_tot - K on cluster c (complex n_c x n_c, cluster-local indices).
  [[nodiscard]] const cmat& M(int c) const { return M_[static_cast<std::size_t>(c)]; }
  [[nodiscard]] int position(int level) const { return pos_[static_cast<std::size_t>(level)]; }

  // Gain of bath `bath` (every bath for -1) on a general operator in the eigenbasis, added to `out`.
  void add_gain(const cmat& rho, int bath, cmat& out) const;

  // Union-find over all d^2 elements; afterwards the sector queries below are valid. Also the
  // Gershgorin bound of every sector: all its eigenvalues have Re lambda <= -gershgorin(s).
  void decompose();
  [[nodiscard]] int sector_count() const noexcept { return static_cast<int>(offsets_.size()) - 1; }
  [[nodiscard]] int sector_of(long e) const { return sector_[static_cast<std::size_t>(e)]; }
  [[nodiscard]] int local_index(long e) const { return local_[static_cast<std::size_t>(e)]; }
  [[nodiscard]] int sector_size(int s) const {
    return offsets_[static_cast<std::size_t>(s) + 1] - offsets_[static_cast<std::size_t>(s)];
  }
  [[nodiscard]] const int* sector_elements(int s) const { return elements_.data() + offsets_[static_cast<std::size_t>(s)]; }
  [[nodiscard]] int zero_sector() const noexcept { return zero_; }
  [[nodiscard]] int mirror(int s) const;  // the sector of the transposed elements (conjugate generator)
  [[nodiscard]] double gershgorin(int s) const { return bound_[static_cast<std::size_t>(s)]; }
  [[nodiscard]] cplx diagonal(long e) const { return diag_[static_cast<std::size_t>(e)]; }
  // Mean of E_a - E_b over the sector (its Bohr frequency), and the generator on the sector with
  // i * that frequency added (so that exp(L0 t) = exp(-i nu t) exp(A t) on it), sparse, columns and
  // rows in the order of sector_elements().
  [[nodiscard]] double frequency(int s) const;
  [[nodiscard]] spcmat sector_matrix(int s, double nu) const;

  // Bytes decompose() needs (checked against the memory limit before it allocates).
  [[nodiscard]] std::size_t decompose_bytes() const;

private:
  template <class F>
  void for_each_pair(F&& f) const;  // every coupling pair of the gain, filtered (see .cpp)

  int d_ = 0;
  rvec E_;
  std::vector<int> cluster_of_, pos_;
  std::vector<std::vector<int>> cluster_levels_;
  std::vector<cmat> M_;
  std::vector<Transition> trans_;
  int groups_ = 0;
  std::vector<int> group_offsets_, group_members_;  // transitions of each group
  std::vector<int> out_offsets_, out_members_;      // transitions from each level, sorted by group

  std::vector<int> sector_, local_, offsets_, elements_;
  std::vector<cplx> diag_;
  std::vector<double> bound_;
  int zero_ = -1;
};

}  // namespace qheat::response_detail
