// Levy & Kosloff (EPL 107, 20004), cited by Fogedby Sec. IV C and Zhang App. C: the local master
// equation of detuned XX-coupled qubits carries heat from the cold to the hot bath when
// n_hot(w_hot) < n_cold(w_cold); the global (Davies) equation never does.
#include <gtest/gtest.h>

#include "../support.hpp"

using namespace qheat;
using namespace qheat::test;

namespace {
Model detuned(double w1, double w2, double lambda, double TA, double TB) {
  Space sp = qubits(2);
  const cmat sp1 = op(sp, "q1", local_ops::sigma_plus()), sp2 = op(sp, "q2", local_ops::sigma_plus());
  const cmat H = 0.5 * w1 * op(sp, "q1", local_ops::sigma_z()) + 0.5 * w2 * op(sp, "q2", local_ops::sigma_z()) +
                 lambda * (sp1 * sp2.adjoint() + sp1.adjoint() * sp2);
  return model(sp, H, {bath(sp, "A", TA, CouplingKind::exchange, "q1", local_ops::sigma_minus(), flat(0.01)),
                       bath(sp, "B", TB, CouplingKind::exchange, "q2", local_ops::sigma_minus(), flat(0.01))});
}
bool has(const std::vector<Diagnostic>& d, const std::string& code) {
  return std::any_of(d.begin(), d.end(), [&](const Diagnostic& x) { return x.code == code; });
}
}  // namespace

TEST(LocalMasterEquation, ViolatesSecondLawForDetunedQubits) {
  // Hot bath A at 1.5 on the w = 2 qubit, cold bath B at 1.0 on the w = 1 qubit:
  // n_A(2) = 0.357 < n_B(1) = 0.582, so the local ME pumps heat into the hot bath.
  const Model m = detuned(2.0, 1.0, 0.05, 1.5, 1.0);
  const Solved local = solve(m, Method::local);
  EXPECT_LT(local.th.currents[0], 0.0);            // heat flows into the hot bath
  EXPECT_LT(local.th.entropy_production, 0.0);
  EXPECT_TRUE(has(local.th.diagnostics, "heat-cold-to-hot"));
  EXPECT_TRUE(has(local.th.diagnostics, "negative-entropy-production"));

  const Solved global = solve(m, Method::global);
  EXPECT_GT(global.th.currents[0], 0.0);
  EXPECT_GE(global.th.entropy_production, 0.0);
  EXPECT_FALSE(has(global.th.diagnostics, "heat-cold-to-hot"));
}

TEST(LocalMasterEquation, ReducesToSingleQubitRatesWithoutCoupling) {
  // lambda = 0: local and global coincide and both currents vanish (decoupled qubits).
  const Model m = detuned(2.0, 1.0, 0.0, 1.5, 1.0);
  for (Method meth : {Method::local, Method::global}) {
    const Solved s = solve(m, meth);
    EXPECT_LT(std::abs(s.th.currents[0]), 1e-15);  // round-off on rates of 1e-2
  }
}

TEST(LocalMasterEquation, EquilibriumCurrentIsFlaggedForCounterRotatingCoupling) {
  // sigma_x sigma_x coupling (Zhang's H) with local dissipators: at equal temperatures the local ME
  // still carries heat (measured 1.4e-4 at g = 0.5, T = 0.2); the global ME carries none.
  Space sp = qubits(2);
  const cmat sx = local_ops::sigma_x(), sz = local_ops::sigma_z();
  const cmat H = 2.5 * op(sp, "q1", sz) + 2.0 * op(sp, "q2", sz) + 0.5 * op(sp, "q1", sx) * op(sp, "q2", sx);
  const Model m = model(sp, H, {bath(sp, "hot", 0.2, CouplingKind::hermitian, "q1", sx, drude(0.02, 50.0)),
                               bath(sp, "cold", 0.2, CouplingKind::hermitian, "q2", sx, drude(0.02, 50.0))});
  const Solved local = solve(m, Method::local);
  EXPECT_GT(std::abs(local.th.currents[0]), 1e-5);
  EXPECT_TRUE(has(local.th.diagnostics, "equilibrium-current"));
  const Solved global = solve(m, Method::global);
  EXPECT_FALSE(has(global.th.diagnostics, "equilibrium-current"));
}
