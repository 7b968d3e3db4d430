// Levy, Rabani, Limmer: two XX-coupled qubits with sigma_x baths (Sec. III D): the unperturbed heat
// current eq. 42 and the local-limit first-order current eq. 43, J1 = Tr[V D0^a(pi0)] for V = Omega sz sz.
#include <gtest/gtest.h>

#include "../support.hpp"

using namespace qheat;
using namespace qheat::test;

namespace {
struct Levy {
  double omega, g, gamma, Ta, Tb;
  Model build() const {
    Space sp({make_qubit("A"), make_qubit("B")});
    const cmat sx = local_ops::sigma_x(), sy = local_ops::sigma_y(), sz = local_ops::sigma_z();
    const cmat H = 0.5 * omega * (op(sp, "A", sz) + op(sp, "B", sz)) +
                   0.5 * g * (op(sp, "A", sx) * op(sp, "B", sx) + op(sp, "A", sy) * op(sp, "B", sy));  // eq. 37
    return model(sp, H, {bath(sp, "a", Ta, CouplingKind::hermitian, "A", sx, flat(gamma)),
                         bath(sp, "b", Tb, CouplingKind::hermitian, "B", sx, flat(gamma))});
  }
};
}  // namespace

TEST(LevyQubits, UnperturbedCurrentEq42) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> U(0.0, 1.0);
  for (int trial = 0; trial < 30; ++trial) {
    Levy p{5.0 + 20 * U(rng), 0.0, 1e-3 + 0.05 * U(rng), 0.2 + 30 * U(rng), 0.2 + 30 * U(rng)};
    p.g = (0.05 + 0.9 * U(rng)) * p.omega;
    const Solved s = solve(p.build(), Method::global, LambShiftMode::off);
    ASSERT_EQ(s.ss.status, SteadyStatus::converged);
    const double wp = p.omega + p.g, wm = p.omega - p.g;
    const double npa = bose_n(wp, p.Ta), npb = bose_n(wp, p.Tb), nma = bose_n(wm, p.Ta), nmb = bose_n(wm, p.Tb);
    const double J0 = p.gamma * wp * (npa - npb) / (4 * (npa + npb + 1)) +
                      p.gamma * wm * (nma - nmb) / (4 * (nma + nmb + 1));  // eq. 42
    // Round-off: the current is a difference of gross flows of size gamma*(omega+g); when Ta ~ Tb the
    // net J0 is much smaller than those flows, so the error bound is relative to the gross flow.
    EXPECT_NEAR(s.th.currents[0], J0, 1e-12 * p.gamma * wp * (1 + npa + npb + nma + nmb));
  }
}

TEST(LevyQubits, FirstOrderLocalCurrentEq43) {
  std::mt19937 rng(43);
  std::uniform_real_distribution<double> U(0.0, 1.0);
  for (int trial = 0; trial < 30; ++trial) {
    Levy p{5.0 + 20 * U(rng), 0.0, 1e-3 + 0.05 * U(rng), 0.2 + 30 * U(rng), 0.2 + 30 * U(rng)};
    p.g = (0.05 + 0.9 * U(rng)) * p.omega;
    const double Omega = 0.1 + U(rng);
    const Model m = p.build();
    const Generator gen(m, GeneratorOptions{Method::global, LambShiftMode::off, 1e-9});
    const SteadyStateResult pi0 = steady_state(gen);
    const cmat V = Omega * op(m.space, "A", local_ops::sigma_z()) * op(m.space, "B", local_ops::sigma_z());
    const double J1 = (gen.basis().to_eigen(V) * gen.baths()[0].apply(pi0.rho)).trace().real();
    const double wp = p.omega + p.g, wm = p.omega - p.g;
    const double npa = bose_n(wp, p.Ta), npb = bose_n(wp, p.Tb), nma = bose_n(wm, p.Ta), nmb = bose_n(wm, p.Tb);
    const double J1_paper = -(p.gamma * Omega * (nma - nmb) + p.gamma * Omega * (npa - npb)) /
                            (2 * (nma + nmb + 1) * (npa + npb + 1));  // eq. 43
    // Round-off relative to the gross flow gamma*Omega*(1 + n), as above.
    EXPECT_NEAR(J1, J1_paper, 1e-12 * p.gamma * Omega * (1 + npa + npb + nma + nmb));
  }
}
