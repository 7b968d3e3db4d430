// Heat currents, first-law residual, entropy production and the audit of a steady state.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "qheat/generators/generator.hpp"
#include "qheat/steady/steady_state.hpp"

namespace qheat {

struct Diagnostic {
  std::string level;    // "info", "warning", "error"
  std::string code;     // stable machine-readable code
  std::string message;  // one sentence for a human
};

// A number inside a diagnostic's message: four significant digits.
std::string diagnostic_number(double v);

struct Thermodynamics {
  std::vector<double> currents;     // from bath a into the system: Tr[(H + H_LS) D_a(rho)]
  std::vector<double> bare_currents;  // Tr[H L_a(rho)], L_a = D_a - i[H_LS,a, .]: energy flow of bare H
  double drive_power = 0.0;         // from the drive into the system (0 for static models)
  double first_law_residual = 0.0;  // sum_a currents[a] + drive_power
  double entropy_production = 0.0;  // -sum_a currents[a] / T_a (may be +-inf with a T = 0 bath)
  double gross_flow = 0.0;  // largest rate x energy span: currents below ~1e-9 of it are round-off (0: not known)
  std::vector<Diagnostic> diagnostics;
};

// Per-bath heat current J_a = Tr[(H + H_LS) D_a(rho)] (Zhang eqs. 21-23; conventions.md signs).
std::vector<double> heat_currents(const Generator& gen, const cmat& rho_eigen);

// Tr[H L_a(rho)] with the bare H and bath a's whole contribution L_a = D_a - i[H_LS,a, .]
// (the definition QuTiP users compute from per-bath Bloch-Redfield tensors).
std::vector<double> bare_heat_currents(const Generator& gen, const cmat& rho_eigen);

// Every bath at the same temperature (true for one bath): without a drive the exact heat currents vanish.
bool one_temperature(const std::vector<double>& temperatures);

// Entropy production -sum_a J_a / T_a (Levy eq. 47 at steady state).
double entropy_production(const std::vector<double>& currents, const std::vector<double>& temperatures);

Thermodynamics thermodynamics(const Generator& gen, const SteadyStateResult& ss);

// What the audit needs to know of a solved steady state besides its currents.
struct SteadyFacts {
  SteadyStatus status = SteadyStatus::converged;
  double rcond = 1.0, residual = 0.0, min_eigenvalue = 0.0;
  int iterations = 0;          // GMRES iterations (0: a direct solver)
  std::string note;            // LinearSolution::note: why a stalled iterative solve was not handed on
  bool driven = false;         // dme/ddme: the drive power closes the balance
  double gross_flow = 0.0;     // largest rate x energy span: the round-off scale of a current
  double largest_rate = 0.0;
  double secular_splitting = std::numeric_limits<double>::infinity();  // infinite: not a secular method
};
// First law, entropy production and the audit (statuses, second law, heat direction, equal temperatures,
// positivity, secular approximation) of a steady state with these currents; every method's path ends here.
Thermodynamics assess_steady_state(const std::vector<std::string>& names, const std::vector<double>& temps,
                                   const SteadyFacts& facts, std::vector<double> currents, std::vector<double> bare);

// The audit every method shares, given the currents, drive power, first-law residual and entropy
// production already in `t`: second law, heat direction without a drive, currents at equal
// temperatures, first law. `gross_flow` (largest rate x energy span) sets the round-off scale.
void audit_balance(Thermodynamics& t, const std::vector<std::string>& names, const std::vector<double>& temps,
                   double gross_flow);
// `secular-doubtful` when the smallest splitting of the frequencies the secular approximation
// separates is below 10x the largest rate.
void audit_secular(std::vector<Diagnostic>& diag, double split, double rate, const std::string& what);

}  // namespace qheat
