#include "qheat/thermo/thermo.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace qheat {

namespace {
// Both definitions of each bath's current from one evaluation of D_a(rho):
//  J_a = Tr[(H + H_LS) D_a(rho)],  J_a^bare = Tr[H (D_a(rho) - i[H_LS,a, rho])].
void currents_of(const Generator& gen, const cmat& rho, std::vector<double>* J, std::vector<double>* bare) {
  const cmat& Htot = gen.renormalized_hamiltonian();
  const rvec& E = gen.basis().energies;
  for (const auto& b : gen.baths()) {
    const cmat D = b.apply(rho);
    if (J != nullptr) {
      double j = (Htot.transpose().cwiseProduct(D)).sum().real();
      // Rotating frame (dme, ddme): each jump also moves frame_energy = +-w_d (Kong eq. 9);
      // jump rate of a term = Tr[Lambda rho X^dag + X rho Lambda^dag].
      for (const auto& t : b.terms)
        if (t.frame_energy != 0.0) j -= t.frame_energy * 2.0 * ((t.Lambda * rho).cwiseProduct(t.X.conjugate())).sum().real();
      J->push_back(j);
    }
    if (bare != nullptr) {
      const cmat comm = b.H_LS * rho - rho * b.H_LS;
      double tr = 0.0;
      for (long a = 0; a < E.size(); ++a) tr += E(a) * (D(a, a) - cplx(0.0, 1.0) * comm(a, a)).real();
      bare->push_back(tr);
    }
  }
}
}  // namespace

std::vector<double> heat_currents(const Generator& gen, const cmat& rho_eigen) {
  std::vector<double> J;
  currents_of(gen, rho_eigen, &J, nullptr);
  return J;
}

std::vector<double> bare_heat_currents(const Generator& gen, const cmat& rho_eigen) {
  std::vector<double> J;
  currents_of(gen, rho_eigen, nullptr, &J);
  return J;
}

double entropy_production(const std::vector<double>& currents, const std::vector<double>& temperatures) {
  double scale = 0.0;
  for (double j : currents) scale = std::max(scale, std::abs(j));
  double sigma = 0.0;
  for (std::size_t a = 0; a < currents.size(); ++a) {
    const double T = temperatures[a];
    const double J = currents[a];
    if (T > 0.0) {
      sigma -= J / T;
    } else if (std::abs(J) > 1e-12 * std::max(scale, 1e-300)) {
      // A T = 0 bath that exchanges heat contributes -J/0.
      sigma += J < 0 ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
    }
  }
  return sigma;
}

std::string diagnostic_number(double v) {
  std::ostringstream os;
  os.precision(4);
  os << v;
  return os.str();
}

Thermodynamics assess_steady_state(const std::vector<std::string>& names, const std::vector<double>& temps,
                                   const SteadyFacts& f, std::vector<double> currents, std::vector<double> bare) {
  Thermodynamics t;
  auto& diag = t.diagnostics;
  if (f.status == SteadyStatus::not_unique)
    diag.push_back({"error", "not-unique",
                    "the generator has no unique steady state of trace 1 (its kernel is not one-dimensional, or "
                    "its zero eigenvalue is defective and the kernel traceless); currents are not defined"});
  else if (f.status == SteadyStatus::ill_conditioned)
    diag.push_back({"warning", "ill-conditioned",
                    "the steady-state linear system is ill-conditioned (rcond " + diagnostic_number(f.rcond) +
                        ", residual " + diagnostic_number(f.residual) + ")"});
  else if (f.status == SteadyStatus::not_converged)
    diag.push_back({"warning", "not-converged",
                    "the iterative steady-state solve stopped before its tolerance (" +
                        (f.iterations > 0 ? "GMRES, " + std::to_string(f.iterations) + " iterations, " : std::string()) +
                        "residual " + diagnostic_number(f.residual) + ")" + (f.note.empty() ? "" : "; " + f.note)});
  if (f.status == SteadyStatus::not_unique) {
    t.currents.assign(names.size(), std::nan(""));
    t.bare_currents = t.currents;
    t.first_law_residual = std::nan("");
    t.entropy_production = std::nan("");
    return t;
  }
  t.currents = std::move(currents);
  t.bare_currents = std::move(bare);
  double sum = 0.0;
  for (double j : t.currents) sum += j;
  // Dressed methods: the drive is the third energy terminal; its power closes the balance (Kong eq. 10).
  if (f.driven) t.drive_power = -sum;
  t.first_law_residual = sum + t.drive_power;
  t.entropy_production = entropy_production(t.currents, temps);
  t.gross_flow = f.gross_flow;
  audit_balance(t, names, temps, f.gross_flow);
  if (f.min_eigenvalue < -1e-10)
    diag.push_back({"warning", "not-positive",
                    "the steady state has a negative eigenvalue " + diagnostic_number(f.min_eigenvalue) +
                        " (not a density matrix)"});
  audit_secular(t.diagnostics, f.secular_splitting, f.largest_rate, "Bohr frequencies");
  return t;
}

Thermodynamics thermodynamics(const Generator& gen, const SteadyStateResult& ss) {
  std::vector<double> J, bare;
  if (ss.status != SteadyStatus::not_unique) currents_of(gen, ss.rho, &J, &bare);
  const rvec& E = gen.basis().energies;
  SteadyFacts f;
  f.status = ss.status;
  f.rcond = ss.rcond;
  f.residual = ss.residual;
  f.iterations = ss.iterations;
  f.note = ss.note;
  f.min_eigenvalue = ss.min_eigenvalue;
  f.driven = gen.driven();
  f.gross_flow = gen.largest_rate() * (E.maxCoeff() - E.minCoeff());
  f.largest_rate = gen.largest_rate();
  f.secular_splitting = gen.method() != Method::redfield ? gen.smallest_bohr_splitting()
                                                         : std::numeric_limits<double>::infinity();
  return assess_steady_state(gen.bath_names(), gen.temperatures(), f, std::move(J), std::move(bare));
}

void audit_secular(std::vector<Diagnostic>& diag, double split, double rate, const std::string& what) {
  if (std::isfinite(split) && split < 10.0 * rate)
    diag.push_back({"warning", "secular-doubtful",
                    "smallest splitting between distinct " + what + " " + diagnostic_number(split) +
                        " is not large against the largest rate " + diagnostic_number(rate) +
                        " (ratio < 10): the secular approximation is doubtful"});
}

bool one_temperature(const std::vector<double>& temperatures) {
  return std::all_of(temperatures.begin(), temperatures.end(), [&](double T) { return T == temperatures.front(); });
}

void audit_balance(Thermodynamics& t, const std::vector<std::string>& names, const std::vector<double>& temps,
                   double gross_flow) {
  auto& diag = t.diagnostics;
  // A current is a difference of gross energy flows of size (largest rate) x (energy span);
  // round-off is relative to that scale, not to the net current (which vanishes at equal temperatures).
  double scale = 0.0;
  for (double j : t.currents) scale = std::max(scale, std::abs(j));
  const double flow = std::max(scale, gross_flow);
  const double tol = 1e-9 * std::max(flow, 1e-300);
  double sigma_scale = 0.0;
  for (std::size_t a = 0; a < temps.size(); ++a)
    if (temps[a] > 0) sigma_scale = std::max(sigma_scale, flow / temps[a]);
  if (t.entropy_production < -1e-9 * sigma_scale)
    diag.push_back({"warning", "negative-entropy-production",
                    "entropy production " + diagnostic_number(t.entropy_production) +
                        " < 0: this generator violates the second law at this point"});
  if (names.size() == 2 && t.drive_power == 0.0 && temps[0] != temps[1]) {
    const std::size_t hot = temps[0] > temps[1] ? 0 : 1;
    if (t.currents[hot] < -tol)
      diag.push_back({"warning", "heat-cold-to-hot",
                      "heat flows from the cold bath '" + names[1 - hot] + "' to the hot bath '" +
                          names[hot] + "' without a drive"});
  }
  if (names.size() >= 2 && t.drive_power == 0.0 &&
      one_temperature(temps) && scale > 1e3 * tol)
    diag.push_back({"warning", "equilibrium-current",
                    "all baths have the same temperature but a heat current " + diagnostic_number(scale) +
                        " flows: this generator does not relax to equilibrium"});
  if (std::abs(t.first_law_residual) > tol) {
    diag.push_back({"warning", "first-law",
                    "currents do not sum to zero: residual " + diagnostic_number(t.first_law_residual)});
  } else if (scale > 1e-12 * flow && std::abs(t.first_law_residual) > 1e-3 * scale) {
    // Within the round-off of the gross flows, yet not small against the currents themselves: the currents are
    // differences of flows so much larger that they keep few digits (Bloch-Redfield at T = 1e8 against level
    // spacings ~5: J_hot and J_cold apart by a factor 4, no diagnostic).
    diag.push_back({"warning", "first-law",
                    "currents do not sum to zero: residual " + diagnostic_number(t.first_law_residual) + " is " +
                        diagnostic_number(100.0 * std::abs(t.first_law_residual) / scale) +
                        " % of the largest current; they are differences of energy flows ~" + diagnostic_number(flow) +
                        " and keep few of their digits"});
  }
}

}  // namespace qheat
