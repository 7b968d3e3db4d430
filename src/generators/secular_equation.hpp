// The global (Davies) and dressed (dme, ddme) master equations at scale (secular_equation.cpp): private
// to the library. Besides the steady-state problem of the zero-frequency sector (equation.hpp) it exposes
// what it is built from -- eigenbasis, level clusters, transition blocks with Gamma, K and H_LS per
// cluster -- for the linear response of the global equation (src/response/structured.cpp), which needs
// the generator on every Bohr-frequency sector, not only the zero one.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "qheat/generators/equation.hpp"
#include "qheat/operators/hermitian_blocks.hpp"

namespace qheat {

// A transition block of one channel: X restricted to rows in cluster `to`, columns in cluster `from`
// (values at x_offset, column-major n_to x n_from), at Bohr frequency w = E_from - E_to.
struct SecularEntry {
  int to = 0, from = 0;
  double kappa = 0.0;   // 2 Re Gamma(w + rate shift): the rate per |X|^2
  double shift = 0.0;   // Im Gamma: Lamb shift per |X|^2
  long x_offset = 0;
};

struct SecularChannel {
  double frame_energy = 0.0;  // +-w_d for the dressed methods (Kong eq. 9), else 0
  std::vector<SecularEntry> entries;  // entries with kappa > 0
  // Entries with kappa = 0 and a Lamb shift (their shift is in K and H_LS; they feed no population).
  std::vector<SecularEntry> lamb_only;
  std::vector<cplx> values;  // blocks of both lists
};

class SecularEquation final : public MasterEquation {
public:
  // keep_operators: also keep each bath's operator in the eigenbasis (bath_operators()).
  SecularEquation(const Model& model, const GeneratorOptions& options, bool keep_operators = false);

  [[nodiscard]] Method method() const override { return method_; }
  [[nodiscard]] int dim() const override { return static_cast<int>(basis_.energies.size()); }
  [[nodiscard]] LinearProblem<double> steady_problem(const SteadyStateOptions& options) const override;
  [[nodiscard]] StateChecks checks(const rvec& x) const override;
  [[nodiscard]] EquationCurrents currents(const rvec& x) const override;
  [[nodiscard]] cmat site_state(const rvec& x) const override { return basis_.from_eigen(blocks_.to_matrix(x)); }
  [[nodiscard]] double largest_rate() const override { return largest_rate_; }
  [[nodiscard]] double energy_span() const override {
    return basis_.energies.size() > 0 ? basis_.energies.maxCoeff() - basis_.energies.minCoeff() : 0.0;
  }
  [[nodiscard]] double smallest_splitting() const override { return min_splitting_; }
  [[nodiscard]] std::string structure() const override;

  // The data the equation is made of (all in the eigenbasis of H, levels ascending).
  [[nodiscard]] const Eigenbasis& basis() const noexcept { return basis_; }
  [[nodiscard]] const HermitianBlocks& blocks() const noexcept { return blocks_; }  // degenerate clusters
  [[nodiscard]] const std::vector<double>& cluster_energies() const noexcept { return rep_; }  // means
  [[nodiscard]] double level_tolerance() const noexcept { return level_tolerance_; }
  [[nodiscard]] const std::vector<std::vector<SecularChannel>>& channels() const noexcept { return baths_; }
  [[nodiscard]] const std::vector<std::vector<cmat>>& dissipative_K() const noexcept { return K_; }
  [[nodiscard]] const std::vector<std::vector<cmat>>& lamb_shift_blocks() const noexcept { return H_LS_; }
  [[nodiscard]] const std::vector<cmat>& total_hamiltonian() const noexcept { return H_total_; }
  [[nodiscard]] const std::vector<cmat>& bath_operators() const noexcept { return operators_; }
  [[nodiscard]] Eigen::Map<const cmat> block_of(const SecularChannel& ch, const SecularEntry& e) const {
    const long r = blocks_.size(e.to), c = blocks_.size(e.from);
    return {ch.values.data() + e.x_offset, r, c};
  }

private:
  // kappa X rho_from X^dag of one entry, added to out[e.to]; returns its trace (the jump rate).
  double feed(const SecularChannel& ch, const SecularEntry& e, const rvec& x, std::vector<cmat>* out) const;
  // Bath a's dissipator on cluster block `to` of rho (without the Lamb-shift commutator), added to out.
  void dissipate(std::size_t bath, const rvec& x, std::vector<cmat>& out) const;

  Method method_;
  Eigenbasis basis_;
  HermitianBlocks blocks_;                    // clusters of degenerate levels (eigenbasis indices)
  std::vector<double> rep_;                   // [cluster]: mean energy
  std::vector<std::vector<SecularChannel>> baths_;  // [bath][channel]
  std::vector<std::vector<cmat>> K_;          // [bath][cluster]: K_h of the bath on the cluster block
  std::vector<std::vector<cmat>> H_LS_;       // [bath][cluster]: Lamb-shift Hamiltonian block
  std::vector<cmat> H_total_;                 // [cluster]: diag(E) + sum of H_LS blocks
  std::vector<cmat> operators_;               // [bath]: the coupling operator in the eigenbasis (if kept)
  double largest_rate_ = 0.0;
  double min_splitting_ = std::numeric_limits<double>::infinity();
  double level_tolerance_ = 0.0;
};

}  // namespace qheat
