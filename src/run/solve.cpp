#include "qheat/run/solve.hpp"

#include "qheat/core/linalg.hpp"
#include "qheat/generators/floquet.hpp"

#include <algorithm>
#include <cmath>

#include <string>

namespace qheat {
namespace {

Solution solve_floquet(const Model& model, LambShiftMode lamb_shift, const FloquetOptions& options) {
  if (lamb_shift == LambShiftMode::on)
    throw MethodError("lamb-shift-unsupported", "the Floquet-Markov method has no Lamb shift; use --lamb-shift off");
  const FloquetResult fr = floquet_steady_state(model, options);
  Solution s;
  s.method = method_name(Method::floquet);
  for (const Bath& b : model.baths) {
    s.bath_names.push_back(b.name);
    s.temperatures.push_back(b.temperature);
  }
  Thermodynamics& th = s.thermo;
  s.status = fr.status;
  th.currents = fr.currents;
  th.drive_power = fr.drive_power;
  double sum = fr.drive_power;
  for (double j : fr.currents) sum += j;
  th.first_law_residual = sum;
  th.entropy_production = entropy_production(th.currents, s.temperatures);
  if (fr.status == SteadyStatus::not_unique)
    th.diagnostics.push_back({"error", "not-unique", "the Floquet rate equations have more than one steady state"});
  const double span = model.drive && fr.quasienergies.size() > 0 ? model.drive->frequency : 0.0;
  audit_balance(th, s.bath_names, s.temperatures, fr.largest_rate * span);
  audit_secular(th.diagnostics, fr.smallest_quasienergy_splitting, fr.largest_rate, "quasienergy differences");
  if (!fr.near_degenerate.empty()) {
    std::string list;
    for (const QuasienergyPair& q : fr.near_degenerate) {
      if (!list.empty()) list += ", ";
      list += "(" + std::to_string(q.a) + ", " + std::to_string(q.b) + "): " + diagnostic_number(q.splitting);
    }
    th.diagnostics.push_back({"warning", "quasienergy-near-degenerate",
                              std::to_string(fr.near_degenerate.size()) + (fr.near_degenerate.size() == 10 ? "+" : "") +
                                  " pairs of Floquet states (indices into floquet.quasienergies) are split by less than ten times "
                                  "their decay rates: " + list +
                                  "; the Pauli (fully secular) treatment of their coherence is doubtful"});
  }
  if (fr.unresolved_jumps > 0 && model.drive)
    th.diagnostics.push_back({"warning", "floquet-unresolved",
                              std::to_string(fr.unresolved_jumps) + " jumps with quasienergy differences up to " +
                                  diagnostic_number(fr.largest_unresolved) +
                                  " count as zero-frequency jumps (no energy to the baths): the quasienergies are "
                                  "resolved to " + diagnostic_number(fr.resolution) + " only (drive frequency " +
                                  diagnostic_number(model.drive->frequency) +
                                  "; a drive this fast against the system's splittings is its static limit: "
                                  "solve the time-averaged model)"});
  if (!fr.solver_fallback.empty())
    th.diagnostics.push_back({"info", "floquet-propagator",
                              "the Floquet modes came from the one-period propagator (floquet.solver): " + fr.solver_fallback});
  if (fr.status == SteadyStatus::not_converged)
    th.diagnostics.push_back({"warning", "floquet-not-converged",
                              "the Floquet modes did not reach their accuracy target: quasienergy error estimate " +
                                  diagnostic_number(fr.quasienergy_error) + ", mode error " + diagnostic_number(fr.propagator_error)});
  s.solver = "floquet-pauli";
  s.harmonics = fr.harmonics_used;
  s.steps_per_period = fr.steps_per_period;
  s.floquet = fr;
  s.dimension = static_cast<int>(model.hamiltonian.rows());
  return s;
}

// How ADO 0's preconditioner solved with its Schur complement (steady_state.structure; conventions.md).
std::string schur_description(const HeomResult& hr) {
  if (hr.iterative_schur)
    return "iterative, GMRES on its Schur complement (" + std::to_string(hr.schur_slow) + " slow elements exact, " +
           std::to_string(std::lround(hr.schur_iterations)) + " iterations per solve)";
  std::string text = hr.schur_fallback ? "dense after GMRES on its Schur complement did not converge, " : "";
  if (!hr.real_schur) return text + "complex";
  return text + "real, " + (hr.single_schur ? "single precision, " : "") + std::to_string(hr.schur_classes) +
         " charge class" + (hr.schur_classes == 1 ? "" : "es");
}

Solution solve_heom(const Model& model, const SolveOptions& options) {
  HeomResult hr = heom_steady_state(model, options.heom, options.steady);
  Solution s;
  s.method = method_name(Method::heom);
  s.lamb_shift = true;  // the hierarchy contains the bath's energy shifts exactly
  for (const Bath& b : model.baths) {
    s.bath_names.push_back(b.name);
    s.temperatures.push_back(b.temperature);
  }
  s.status = hr.status;
  s.solver = hr.solver;
  s.structure = "hierarchy of " + std::to_string(hr.ados) + " auxiliary operators (depth " + std::to_string(hr.depth) +
                ", " + std::to_string(hr.terms) + " " + decomposition_name(hr.decomposition) + " terms per bath); ADO 0's " +
                "preconditioner " + schur_description(hr);
  s.residual = hr.residual;
  s.rcond = hr.rcond;
  s.iterations = hr.iterations;
  s.dimension = static_cast<int>(model.hamiltonian.rows());
  Thermodynamics& th = s.thermo;
  if (hr.rho.size() > 0) {
    s.trace = hr.rho.trace().real();
    const cmat herm = 0.5 * (hr.rho + hr.rho.adjoint());
    s.hermiticity_error = (hr.rho - herm).cwiseAbs().maxCoeff();
    s.min_eigenvalue = linalg::hermitian_eigenvalues(herm).minCoeff();
    if (options.state) s.rho = herm;
  } else {
    s.trace = 0.0;
  }
  th.currents = hr.currents;
  if (th.currents.empty()) {  // no solution (a non-unique or failed solve): currents undefined
    th.currents.assign(s.bath_names.size(), std::nan(""));
    th.bare_currents = th.currents;
    th.first_law_residual = th.entropy_production = std::nan("");
    th.diagnostics.push_back({"error", hr.status == SteadyStatus::not_unique ? "not-unique" : "no-solution",
                              hr.status == SteadyStatus::not_unique
                                  ? "the hierarchy has more than one steady state; currents are not defined"
                                  : "the hierarchy's steady-state solve found no solution; currents are not defined"});
    s.heom = std::move(hr);
    return s;
  }
  double sum = 0.0;
  for (double j : th.currents) sum += j;
  th.first_law_residual = sum;
  th.entropy_production = entropy_production(th.currents, s.temperatures);
  if (hr.status == SteadyStatus::not_unique)
    th.diagnostics.push_back({"error", "not-unique", "the hierarchy has more than one steady state"});
  // Round-off scale of a current: the largest reorganisation energy x the spread of the spectrum x the
  // cutoff (the size of the tier-1 terms that cancel in a current).
  double lam_rate = 0.0;
  for (const CorrelationExpansion& e : hr.baths) lam_rate = std::max(lam_rate, std::abs(e.terms.front().c) );
  const rvec E = linalg::hermitian_eigenvalues(model.hamiltonian);
  audit_balance(th, s.bath_names, s.temperatures, lam_rate * std::max(E.maxCoeff() - E.minCoeff(), 1.0));
  if (hr.rho.size() > 0 && s.min_eigenvalue < -1e-8)
    th.diagnostics.push_back({"warning", "heom-positivity",
                              "the reduced state has a negative eigenvalue " + diagnostic_number(s.min_eigenvalue) +
                                  ": the hierarchy is not converged in its depth or terms"});
  if (hr.tolerance > 0.0 && !hr.converged)
    th.diagnostics.push_back({"warning", "heom-not-converged",
                              "the automatic mode stopped (" + (hr.stopped_by.empty() ? std::string("solve") : hr.stopped_by) +
                                  ") at depth " + std::to_string(hr.depth) + ", " + std::to_string(hr.terms) +
                                  (hr.measure == "state" ? " terms before the state changed by less than "
                                                         : " terms before every current changed by less than ") +
                                  diagnostic_number(hr.tolerance) +
                                  " (last changes: depth " + (hr.change_depth ? diagnostic_number(*hr.change_depth) : "-") +
                                  ", terms " + (hr.change_terms ? diagnostic_number(*hr.change_terms) : "-") + ")"});
  s.heom = std::move(hr);
  return s;
}

}  // namespace

Solution solve(const Model& model, Method method, const SolveOptions& options, SolveWorkspace* workspace) {
  if (method == Method::floquet) return solve_floquet(model, options.lamb_shift, options.floquet);
  if (method == Method::heom) return solve_heom(model, options);
  GeneratorOptions gopt;
  gopt.method = method;
  gopt.lamb_shift = options.lamb_shift;
  gopt.cache = workspace != nullptr ? &workspace->generator : nullptr;
  const std::unique_ptr<MasterEquation> eq = make_equation(model, gopt);
  const LinearProblem<double> problem = eq->steady_problem(options.steady);
  const LinearSolution<double> ls = solve_steady(problem, options.steady);

  Solution s;
  s.method = method_name(method);
  s.bath_names = eq->bath_names();
  s.temperatures = eq->temperatures();
  s.lamb_shift = eq->lamb_shift();
  s.status = ls.status;
  s.solver = ls.solver;
  s.structure = eq->structure();
  s.residual = ls.residual;
  s.rcond = ls.rcond;
  s.iterations = ls.iterations;
  s.dimension = eq->dim();
  SteadyFacts f;
  f.status = ls.status;
  f.rcond = ls.rcond;
  f.residual = ls.residual;
  f.iterations = ls.iterations;
  f.note = ls.note;
  f.driven = eq->driven();
  f.gross_flow = eq->largest_rate() * eq->energy_span();
  f.largest_rate = eq->largest_rate();
  f.secular_splitting = eq->smallest_splitting();
  EquationCurrents J;
  if (ls.status != SteadyStatus::not_unique && ls.x.size() > 0) {
    const StateChecks c = eq->checks(ls.x);
    s.trace = c.trace;
    s.hermiticity_error = c.hermiticity_error;
    s.min_eigenvalue = c.min_eigenvalue;
    f.min_eigenvalue = c.min_eigenvalue;
    J = eq->currents(ls.x);
    if (options.state) s.rho = eq->site_state(ls.x);
  } else {
    s.trace = 0.0;
  }
  s.thermo = assess_steady_state(s.bath_names, s.temperatures, f, std::move(J.currents), std::move(J.bare_currents));
  return s;
}

Solution solve(const Model& model, Method method, LambShiftMode lamb_shift, SolveWorkspace* workspace) {
  SolveOptions o;
  o.lamb_shift = lamb_shift;
  return solve(model, method, o, workspace);
}

}  // namespace qheat
