// A master equation ready to be solved at scale: every static and dressed method builds one, hands
// steady/ its steady-state problem (real coordinates of Hermitian operators, see
// operators/hermitian_blocks.hpp) and turns the solution into a state and per-bath currents.
// Implementations: SecularEquation (global, dme, ddme: the zero-frequency sector, Pauli rates),
// LocalEquation (local Lindblad in the site basis, sparse), RedfieldEquation (Bloch-Redfield in the
// eigenbasis, matrix-free). docs/architecture.md, docs/methods.md.
#pragma once

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "qheat/generators/generator.hpp"
#include "qheat/model/model.hpp"
#include "qheat/steady/steady_state.hpp"

namespace qheat {

struct EquationCurrents {
  std::vector<double> currents;       // from bath a into the system: Tr[(H + H_LS) D_a(rho)] (+ frame terms)
  std::vector<double> bare_currents;  // Tr[H L_a(rho)], L_a = D_a - i[H_LS,a, .]
};

struct StateChecks {
  double trace = 0.0;
  double hermiticity_error = 0.0;  // 0 by construction in Hermitian coordinates
  double min_eigenvalue = 0.0;
};

class HermitianBlocks;
// Trace and smallest eigenvalue of the block-diagonal state with coordinates x (per block: one-level blocks
// are their population, larger ones go to LAPACK).
StateChecks block_state_checks(const HermitianBlocks& blocks, const rvec& x);

class MasterEquation {
public:
  virtual ~MasterEquation() = default;
  MasterEquation() = default;
  MasterEquation(const MasterEquation&) = delete;
  MasterEquation& operator=(const MasterEquation&) = delete;
  MasterEquation(MasterEquation&&) = delete;
  MasterEquation& operator=(MasterEquation&&) = delete;

  [[nodiscard]] virtual Method method() const = 0;
  [[nodiscard]] virtual int dim() const = 0;  // Hilbert-space dimension
  [[nodiscard]] bool lamb_shift() const noexcept { return lamb_shift_; }
  [[nodiscard]] bool driven() const noexcept { return method() == Method::dme || method() == Method::ddme; }
  [[nodiscard]] const std::vector<std::string>& bath_names() const noexcept { return names_; }
  [[nodiscard]] const std::vector<double>& temperatures() const noexcept { return temps_; }

  // The steady-state problem (the references it holds point into this object).
  [[nodiscard]] virtual LinearProblem<double> steady_problem(const SteadyStateOptions& options) const = 0;
  // From a solution x of that problem:
  [[nodiscard]] virtual StateChecks checks(const rvec& x) const = 0;
  [[nodiscard]] virtual EquationCurrents currents(const rvec& x) const = 0;
  [[nodiscard]] virtual cmat site_state(const rvec& x) const = 0;  // rho in the model's basis (frame)

  // Scales for the audit: the largest level decay rate, the energy span of the levels, and for secular
  // methods the smallest splitting between distinct Bohr frequencies (infinity when not secular).
  [[nodiscard]] virtual double largest_rate() const = 0;
  [[nodiscard]] virtual double energy_span() const = 0;
  [[nodiscard]] virtual double smallest_splitting() const { return std::numeric_limits<double>::infinity(); }
  // One line on the structure the problem exploits (for the JSON's steady_state.structure).
  [[nodiscard]] virtual std::string structure() const = 0;

protected:
  bool lamb_shift_ = false;
  std::vector<std::string> names_;
  std::vector<double> temps_;
};

// The equation of a static or dressed method (not floquet). Throws MethodError for a method that
// does not apply to the model, MemoryLimitError when the estimate of its data exceeds the limit.
std::unique_ptr<MasterEquation> make_equation(const Model& model, const GeneratorOptions& options);

}  // namespace qheat
