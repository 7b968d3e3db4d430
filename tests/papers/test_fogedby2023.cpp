// Fogedby 2023, closed-form populations and heat currents (eqs. 3.12-3.15, 3.46-3.57) against the
// global (Davies) generator, over random parameters, with flat and frequency-dependent kappa.
#include <gtest/gtest.h>

#include "../support.hpp"

using namespace qheat;
using namespace qheat::test;

namespace {
std::uniform_real_distribution<double> U(double a, double b) { return std::uniform_real_distribution<double>(a, b); }

// kappa(w) for the test's spectral density (flat or ohmic with exponential cutoff).
double kap(const SpectralDensity& J, double w) { return J.kappa(w); }
}  // namespace

TEST(Fogedby2023, SingleQubitPopulationsAndCurrents) {
  std::mt19937 rng(2023);
  for (int trial = 0; trial < 40; ++trial) {
    const double w0 = U(0.2, 5.0)(rng), TA = U(0.05, 10.0)(rng), TB = U(0.05, 10.0)(rng);
    const bool flat_k = trial % 2 == 0;
    const SpectralDensity JA = flat_k ? flat(U(0.001, 0.1)(rng)) : ohmic_exp(U(0.001, 0.05)(rng), U(1.0, 20.0)(rng));
    const SpectralDensity JB = flat_k ? flat(U(0.001, 0.1)(rng)) : ohmic_exp(U(0.001, 0.05)(rng), U(1.0, 20.0)(rng));
    Space sp({make_qubit("q")});
    const cmat H = 0.5 * w0 * op(sp, "q", local_ops::sigma_z());
    const Model m = model(sp, H, {bath(sp, "A", TA, CouplingKind::exchange, "q", local_ops::sigma_minus(), JA),
                                  bath(sp, "B", TB, CouplingKind::exchange, "q", local_ops::sigma_minus(), JB)});
    const Solved s = solve(m, Method::global, LambShiftMode::off);
    const double gA = kap(JA, w0), gB = kap(JB, w0), nA = bose_n(w0, TA), nB = bose_n(w0, TB);
    const double den = gA * (1 + 2 * nA) + gB * (1 + 2 * nB);
    const double rho_plus = (gA * nA + gB * nB) / den;                     // eq. 3.12
    const double qA = gA * gB * w0 / den * (nA - nB);                      // eq. 3.14
    // Eigenbasis is ascending: index 1 is |+> (E = +w0/2).
    // Relative 1e-10: a 4x4 LU solve, conditioned by the ratio of rates ~ 1e2 at most.
    EXPECT_NEAR(s.ss.rho(1, 1).real(), rho_plus, 1e-12);
    EXPECT_NEAR(s.th.currents[0], qA, 1e-10 * std::abs(qA) + 1e-16);
    EXPECT_NEAR(s.th.currents[1], -qA, 1e-10 * std::abs(qA) + 1e-16);      // eq. 3.15
  }
}

TEST(Fogedby2023, CoupledQubitsPopulationsAndCurrents) {
  std::mt19937 rng(3046);
  for (int trial = 0; trial < 40; ++trial) {
    const double w1 = U(1.0, 4.0)(rng), w2 = U(0.3, 0.95)(rng) * w1;  // Delta omega > 0
    const double lambda = U(0.01, 0.9)(rng) * std::sqrt(w1 * w2);      // omega_- > 0
    const double TA = U(0.05, 8.0)(rng), TB = U(0.05, 8.0)(rng);
    const bool flat_k = trial % 2 == 0;
    const SpectralDensity JA = flat_k ? flat(U(0.001, 0.02)(rng)) : ohmic_exp(U(0.001, 0.01)(rng), U(2.0, 20.0)(rng));
    const SpectralDensity JB = flat_k ? flat(U(0.001, 0.02)(rng)) : ohmic_exp(U(0.001, 0.01)(rng), U(2.0, 20.0)(rng));
    Space sp = qubits(2);
    const cmat sp1 = op(sp, "q1", local_ops::sigma_plus()), sm1 = sp1.adjoint();
    const cmat sp2 = op(sp, "q2", local_ops::sigma_plus()), sm2 = sp2.adjoint();
    const cmat H = 0.5 * w1 * op(sp, "q1", local_ops::sigma_z()) + 0.5 * w2 * op(sp, "q2", local_ops::sigma_z()) +
                   lambda * (sp1 * sm2 + sm1 * sp2);                       // eq. 3.16
    const Model m = model(sp, H, {bath(sp, "A", TA, CouplingKind::exchange, "q1", local_ops::sigma_minus(), JA),
                                  bath(sp, "B", TB, CouplingKind::exchange, "q2", local_ops::sigma_minus(), JB)});
    const Solved s = solve(m, Method::global, LambShiftMode::off);
    ASSERT_EQ(s.ss.status, SteadyStatus::converged);

    const double wm = 0.5 * (w1 + w2), dw = 0.5 * (w1 - w2), root = std::sqrt(dw * dw + lambda * lambda);
    const double wp = wm + root, wn = wm - root;                           // eqs. 3.32-3.33
    const double theta = std::atan2(2 * lambda, w1 - w2);                  // eq. 3.31
    const double al = std::cos(theta / 2), be = std::sin(theta / 2);       // eqs. 3.29-3.30
    const double gAp = kap(JA, wp), gAm = kap(JA, wn), gBp = kap(JB, wp), gBm = kap(JB, wn);
    const double nAp = bose_n(wp, TA), nAm = bose_n(wn, TA), nBp = bose_n(wp, TB), nBm = bose_n(wn, TB);
    const double App = al * al * gAp * (1 + nAp), Apm = be * be * gAm * (1 + nAm);  // eqs. 3.34-3.41
    const double Amp = al * al * gAp * nAp, Amm = be * be * gAm * nAm;
    const double Bpp = be * be * gBp * (1 + nBp), Bpm = al * al * gBm * (1 + nBm);
    const double Bmp = be * be * gBp * nBp, Bmm = al * al * gBm * nBm;
    const double Dp = App + Bpp + Amp + Bmp, Dm = Amm + Bmm + Apm + Bpm;
    const double rho[4] = {(App + Bpp) * (Apm + Bpm) / (Dp * Dm), (App + Bpp) * (Amm + Bmm) / (Dp * Dm),
                           (Amp + Bmp) * (Apm + Bpm) / (Dp * Dm), (Amp + Bmp) * (Amm + Bmm) / (Dp * Dm)};  // 3.46-3.49
    for (int k = 0; k < 4; ++k) EXPECT_NEAR(s.ss.rho(k, k).real(), rho[k], 1e-11) << "rho_" << k + 1;
    const double qAp = al * al * be * be * gAp * gBp * wp /
                       (al * al * gAp * (1 + 2 * nAp) + be * be * gBp * (1 + 2 * nBp)) * (nAp - nBp);  // 3.53
    const double qAm = al * al * be * be * gAm * gBm * wn /
                       (be * be * gAm * (1 + 2 * nAm) + al * al * gBm * (1 + 2 * nBm)) * (nAm - nBm);  // 3.54
    const double qA = qAp + qAm;
    // 1e-9 relative: the 16x16 LU is conditioned by rate ratios up to ~1e3 at the lowest T.
    EXPECT_NEAR(s.th.currents[0], qA, 1e-9 * std::abs(qA) + 1e-15);
    EXPECT_NEAR(s.th.currents[1], -qA, 1e-9 * std::abs(qA) + 1e-15);  // eqs. 3.55-3.57
  }
}
