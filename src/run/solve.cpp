#include "qheat/run/solve.hpp"

#include "qheat/generators/floquet.hpp"

namespace qheat {
namespace {

Solution solve_floquet(const Model& model, LambShiftMode lamb_shift) {
  if (lamb_shift == LambShiftMode::on)
    throw MethodError("lamb-shift-unsupported", "the Floquet-Markov method has no Lamb shift; use --lamb-shift off");
  const FloquetResult fr = floquet_steady_state(model);
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
  const double span = fr.quasienergies.size() > 0 ? model.drive->frequency : 0.0;
  audit_balance(th, s.bath_names, s.temperatures, fr.largest_rate * span);
  audit_secular(th.diagnostics, fr.smallest_quasienergy_splitting, fr.largest_rate, "quasienergy differences");
  s.solver = "floquet-pauli";
  s.harmonics = fr.harmonics_used;
  s.steps_per_period = fr.steps_per_period;
  s.dimension = static_cast<int>(model.hamiltonian.rows());
  return s;
}

}  // namespace

Solution solve(const Model& model, Method method, LambShiftMode lamb_shift, SolveWorkspace* workspace) {
  if (method == Method::floquet) return solve_floquet(model, lamb_shift);
  GeneratorOptions gopt;
  gopt.method = method;
  gopt.lamb_shift = lamb_shift;
  gopt.cache = workspace != nullptr ? &workspace->generator : nullptr;
  const Generator gen(model, gopt);
  const SteadyStateResult ss = steady_state(gen);
  Solution s;
  s.method = method_name(method);
  s.thermo = thermodynamics(gen, ss);
  s.bath_names = gen.bath_names();
  s.temperatures = gen.temperatures();
  s.lamb_shift = gen.lamb_shift();
  s.status = ss.status;
  s.solver = ss.solver;
  s.residual = ss.residual;
  s.rcond = ss.rcond;
  s.trace = ss.trace;
  s.hermiticity_error = ss.hermiticity_error;
  s.min_eigenvalue = ss.min_eigenvalue;
  s.iterations = ss.iterations;
  s.dimension = gen.dim();
  if (ss.status != SteadyStatus::not_unique) s.rho = gen.basis().from_eigen(ss.rho);
  return s;
}

}  // namespace qheat
