// Exact identities every generator must satisfy, on seeded random Hamiltonians.
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>

#include "../support.hpp"

using namespace qheat;
using namespace qheat::test;

namespace {

cmat gibbs(const cmat& H, double T) {
  Eigen::SelfAdjointEigenSolver<cmat> es(H);
  const rvec E = es.eigenvalues();
  rvec p = (-(E.array() - E.minCoeff()) / T).exp();
  p /= p.sum();
  return es.eigenvectors() * p.cast<cplx>().asDiagonal() * es.eigenvectors().adjoint();
}

const Method kMethods[] = {Method::local, Method::global, Method::redfield};
const CouplingKind kKinds[] = {CouplingKind::hermitian, CouplingKind::exchange};

}  // namespace

TEST(Generator, MatrixFreeApplyEqualsExplicitLiouvillian) {
  std::mt19937 rng(11);
  for (Method m : kMethods)
    for (CouplingKind k : kKinds)
      for (auto ls : {LambShiftMode::off, LambShiftMode::on}) {
        const Model mod = random_model(3, rng, 2.0, 0.5, k, 0.05);
        GeneratorOptions o;
        o.method = m;
        o.lamb_shift = ls;
        const Generator g(mod, o);
        const int d = g.dim();
        const cmat L = g.dense_liouvillian();
        const cmat X = random_matrix(d, rng);  // not Hermitian: apply() must be linear on all matrices
        const cmat y1 = g.apply(X);
        const cvec y2 = L * Eigen::Map<const cvec>(X.data(), d * d);
        // Same arithmetic in a different order: round-off of O(d) products of O(1) numbers.
        EXPECT_LT((Eigen::Map<const cvec>(y1.data(), d * d) - y2).norm(), 1e-11 * (1 + y2.norm()))
            << method_name(m);
      }
}

TEST(Generator, TracePreservingAndHermiticityPreserving) {
  std::mt19937 rng(12);
  for (Method m : kMethods)
    for (CouplingKind k : kKinds) {
      const Model mod = random_model(2, rng, 3.0, 1.0, k, 0.1);
      GeneratorOptions o;
      o.method = m;
      o.lamb_shift = LambShiftMode::on;
      const Generator g(mod, o);
      const cmat X = random_hermitian(g.dim(), rng);
      const cmat Y = g.apply(X);
      EXPECT_LT(std::abs(Y.trace()), 1e-12) << method_name(m);          // round-off
      EXPECT_LT((Y - Y.adjoint()).norm(), 1e-12) << method_name(m);      // round-off
    }
}

TEST(Davies, SingleBathGivesGibbsState) {
  std::mt19937 rng(13);
  for (CouplingKind k : kKinds)
    for (auto ls : {LambShiftMode::off, LambShiftMode::on})
      for (int trial = 0; trial < 5; ++trial) {
        Space sp = qubits(3);
        const cmat H = random_hermitian(sp.dim(), rng);
        const double T = 0.3 + trial * 0.7;
        // A coupling to every qubit so that the single bath connects all levels.
        Model mod = model(sp, H, {});
        Bath b = bath(sp, "only", T, k, "q1",
                      k == CouplingKind::hermitian ? local_ops::sigma_x() : local_ops::sigma_minus(),
                      drude(0.05, 15.0));
        b.op += op(sp, "q2", k == CouplingKind::hermitian ? local_ops::sigma_y() : local_ops::sigma_minus());
        b.op += op(sp, "q3", k == CouplingKind::hermitian ? local_ops::sigma_x() : local_ops::sigma_minus());
        b.sites = {0, 1, 2};
        mod.baths.push_back(b);
        const Solved s = solve(mod, Method::global, ls);
        ASSERT_EQ(s.ss.status, SteadyStatus::converged);
        const Generator g(mod, GeneratorOptions{Method::global, ls, 1e-9});
        const cmat rho = g.basis().from_eigen(s.ss.rho);
        // 1e-10 is the requirement; the dense LU of a 64x64 system loses ~1e-13.
        EXPECT_LT((rho - gibbs(H, T)).cwiseAbs().maxCoeff(), 1e-10);
      }
}

TEST(Davies, EqualTemperaturesGiveZeroCurrents) {
  std::mt19937 rng(14);
  for (CouplingKind k : kKinds)
    for (int trial = 0; trial < 5; ++trial) {
      const Model mod = random_model(3, rng, 1.3, 1.3, k, 0.05);
      const Solved s = solve(mod, Method::global, LambShiftMode::on);
      for (double J : s.th.currents) EXPECT_LT(std::abs(J), 1e-13);  // round-off of O(gamma) terms
    }
}

TEST(Redfield, EqualTemperatureCurrentIsSecondOrderInCoupling) {
  // At equal temperatures the Redfield current is not exactly zero: the NESS deviates from the
  // Gibbs state at O(gamma), so the leftover current is O(gamma^2). Halving gamma quarters it.
  std::mt19937 rng(15);
  const Model base = random_model(2, rng, 1.0, 1.0, CouplingKind::hermitian, 1.0);
  auto current = [&](double gamma) {
    Model m = base;
    for (auto& b : m.baths) b.spectral.gamma = gamma;
    return solve(m, Method::redfield, LambShiftMode::on).th.currents[0];
  };
  const double J1 = current(1e-3), J2 = current(5e-4), J3 = current(2.5e-4);
  EXPECT_GT(std::abs(J1), 1e-14);
  // Ratios of 4 up to the O(gamma^3) correction: gamma/Bohr ~ 1e-3 -> 1% slack.
  EXPECT_NEAR(J1 / J2, 4.0, 0.04);
  EXPECT_NEAR(J2 / J3, 4.0, 0.04);
}

TEST(Generator, SteadyStateIsADensityMatrixAndFirstLawHolds) {
  std::mt19937 rng(16);
  for (Method m : kMethods)
    for (CouplingKind k : kKinds)
      for (int trial = 0; trial < 3; ++trial) {
        const Model mod = random_model(3, rng, 2.5, 0.4, k, 0.02);
        const Solved s = solve(mod, m, LambShiftMode::on);
        ASSERT_EQ(s.ss.status, SteadyStatus::converged) << method_name(m);
        EXPECT_NEAR(s.ss.trace, 1.0, 1e-12);              // trace fixed by the bordered system
        EXPECT_LT(s.ss.hermiticity_error, 1e-10);         // LU round-off on a 64x64 system
        EXPECT_LT(s.ss.residual, 1e-11);                  // ||L rho|| at round-off
        double scale = 0;
        for (double J : s.th.currents) scale = std::max(scale, std::abs(J));
        // Sum of currents: round-off relative to the gross flows gamma*|E| ~ 0.02*3 (not to the net
        // currents, which are ~1e-6 for the super-ohmic exchange baths at these splittings).
        EXPECT_LT(std::abs(s.th.first_law_residual), 1e-10 * scale + 1e-12 * 0.06);
        if (m != Method::redfield) {
          EXPECT_GT(s.ss.min_eigenvalue, -1e-12);  // GKLS: positive up to round-off
        }
      }
}

TEST(Generator, DaviesSecondLawOnRandomModels) {
  std::mt19937 rng(17);
  for (CouplingKind k : kKinds)
    for (int trial = 0; trial < 5; ++trial) {
      const Model mod = random_model(3, rng, 3.0, 0.3, k, 0.05);
      const Solved s = solve(mod, Method::global, LambShiftMode::on);
      EXPECT_GE(s.th.entropy_production, -1e-14);      // Spohn: sigma >= 0 for Davies
      EXPECT_GT(s.th.currents[0], 0.0);                // heat leaves the hot bath
    }
}

TEST(SteadyState, NonUniqueSteadyStateIsReported) {
  // q2 touches no bath and does not interact: any state of q2 is stationary.
  Space sp = qubits(2);
  const cmat H = op(sp, "q1", local_ops::sigma_z()) + 0.7 * op(sp, "q2", local_ops::sigma_z());
  const Model m = model(sp, H, {bath(sp, "a", 1.0, CouplingKind::hermitian, "q1", local_ops::sigma_x(), flat(0.1))});
  const Solved s = solve(m, Method::global);
  EXPECT_EQ(s.ss.status, SteadyStatus::not_unique);
  ASSERT_FALSE(s.th.diagnostics.empty());
  EXPECT_EQ(s.th.diagnostics.front().code, "not-unique");
}

TEST(Redfield, ExchangeZeroFrequencyLambShiftDivergenceIsReported) {
  // sigma_- of a random H has diagonal elements in the eigenbasis; with an ohmic onset at T > 0,
  // S_+(0) and S_-(0) are separately infinite and Bloch-Redfield cannot cancel them.
  std::mt19937 rng(18);
  Space sp = qubits(2);
  const Model m = model(sp, random_hermitian(4, rng),
                        {bath(sp, "a", 1.0, CouplingKind::exchange, "q1", local_ops::sigma_minus(), drude(0.01, 10.0))});
  GeneratorOptions o;
  o.method = Method::redfield;
  o.lamb_shift = LambShiftMode::on;
  try {
    const Generator g(m, o);
    FAIL() << "expected MethodError";
  } catch (const MethodError& e) {
    EXPECT_EQ(e.rule(), "lamb-shift-infinite");
  }
  // Davies: the divergences cancel for the (normal, diagonal) zero-frequency part; finite result.
  o.method = Method::global;
  const Generator g(m, o);
  EXPECT_TRUE(g.renormalized_hamiltonian().allFinite());
}
