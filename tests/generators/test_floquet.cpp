// Floquet-Markov (fully secular, Pauli) steady state: static limit against the Davies engine, the
// frequency-modulated qubit against its Bessel-sideband closed form, zero-current limits and the
// convergence of the one-period propagator.
#include "qheat/generators/floquet.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "../support.hpp"

namespace qheat {
namespace {

using namespace qheat::test;
namespace lo = qheat::local_ops;

double rel(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-300); }

// Qubit H = (w0/2) sz with two baths (same coupling kind) and a drive V_1 = v.
Model driven_qubit(double w0, CouplingKind kind, SpectralDensity J1, SpectralDensity J2, double T1, double T2,
                   double wd, const cmat& V1) {
  const Space sp = qubits(1);
  const cmat L = kind == CouplingKind::hermitian ? lo::sigma_x() : lo::sigma_minus();
  Model m = model(sp, op(sp, "q1", 0.5 * w0 * lo::sigma_z()),
                  {bath(sp, "hot", T1, kind, "q1", L, std::move(J1)),
                   bath(sp, "cold", T2, kind, "q1", L, std::move(J2))});
  m.drive = Drive{wd, {DriveHarmonic{1, op(sp, "q1", V1)}}};
  return m;
}

TEST(Floquet, ThrowsWithoutDrive) {
  const Space sp = qubits(1);
  const Model m = model(sp, op(sp, "q1", 0.5 * lo::sigma_z()),
                        {bath(sp, "a", 1.0, CouplingKind::hermitian, "q1", lo::sigma_x(), drude(0.01, 5.0))});
  try {
    (void)floquet_steady_state(m);
    FAIL() << "no throw";
  } catch (const MethodError& e) {
    EXPECT_EQ(e.rule(), "method-needs-drive");
  }
}

// (a) A vanishing drive reproduces the static global Davies result (Lamb shift off).
TEST(Floquet, VanishingDriveEqualsDavies) {
  struct Case {
    CouplingKind kind;
    SpectralDensity J1, J2;
  };
  const Case cases[] = {{CouplingKind::hermitian, drude(0.02, 5.0), drude(0.01, 3.0)},
                        {CouplingKind::exchange, drude(0.02, 5.0), drude(0.01, 3.0)},
                        {CouplingKind::exchange, flat(0.02), flat(0.01)}};
  double worst = 0.0;
  for (const auto& c : cases) {
    const Model m = driven_qubit(1.0, c.kind, c.J1, c.J2, 2.0, 0.3, 0.37, 1e-9 * lo::sigma_x());
    const FloquetResult f = floquet_steady_state(m);
    const Solved s = solve(m, Method::global, LambShiftMode::off);
    ASSERT_EQ(f.status, SteadyStatus::converged);
    for (int i = 0; i < 2; ++i) {
      // Drive corrections are O(V^2) = 1e-18 relative; 1e-8 leaves room for solver round-off.
      EXPECT_LT(rel(f.currents[static_cast<std::size_t>(i)], s.th.currents[static_cast<std::size_t>(i)]), 1e-8)
          << f.currents[static_cast<std::size_t>(i)] << " vs " << s.th.currents[static_cast<std::size_t>(i)];
    }
    for (std::size_t i = 0; i < 2; ++i) worst = std::max(worst, rel(f.currents[i], s.th.currents[i]));
    std::vector<double> pf(f.populations.data(), f.populations.data() + 2);
    std::vector<double> pd{s.ss.rho(0, 0).real(), s.ss.rho(1, 1).real()};
    std::sort(pf.begin(), pf.end());
    std::sort(pd.begin(), pd.end());
    for (int i = 0; i < 2; ++i)
      EXPECT_NEAR(pf[static_cast<std::size_t>(i)], pd[static_cast<std::size_t>(i)], 1e-10);  // O(1) numbers, round-off
    // First law with a vanishing drive: the drive power is O(V^2), relative to the current 1e-8 is ample.
    EXPECT_LT(std::abs(f.drive_power), 1e-8 * std::abs(f.currents[0]));
    // Quasienergies are the folded levels +-w0/2 - w_d: 0.5 - 0.37 = 0.13 (exact to integrator accuracy).
    EXPECT_NEAR(f.quasienergies(1), 0.13, 1e-11);
    EXPECT_NEAR(f.quasienergies(0), -0.13, 1e-11);
  }
  std::printf("static limit: worst relative current deviation %.2e\n", worst);
}

// (b) Frequency-modulated qubit H = (w0 + A cos w_d t) sz/2: sidebands with Bessel weights.
struct Closed {
  double p_up;
  double J[2];
};
Closed modulated_closed_form(double w0, double A, double wd, CouplingKind kind, const SpectralDensity* Js,
                             const double* Ts) {
  const double z = A / wd;
  const int nmax = static_cast<int>(z) + 60;
  double gdn = 0.0, gup = 0.0;
  double Edn[2] = {0, 0}, Eup[2] = {0, 0};  // sum of Delta * rate, per bath, from up resp. down
  for (int n = -nmax; n <= nmax; ++n) {
    const double Jn = std::cyl_bessel_j(static_cast<double>(std::abs(n)), z);
    const double w2 = Jn * Jn;
    const double Om = w0 + n * wd;
    for (int a = 0; a < 2; ++a) {
      double down, up;  // up -> down (bath receives Om), down -> up (bath receives -Om)
      if (kind == CouplingKind::hermitian) {
        down = kappa_thermal(Js[a], Ts[a], Om);
        up = kappa_thermal(Js[a], Ts[a], -Om);
      } else {
        down = kappa_emission(Js[a], Ts[a], Om);
        up = kappa_absorption(Js[a], Ts[a], -Om);
      }
      gdn += w2 * down;
      gup += w2 * up;
      Edn[a] += w2 * Om * down;
      Eup[a] += w2 * (-Om) * up;
    }
  }
  Closed c{};
  c.p_up = gup / (gup + gdn);
  for (int a = 0; a < 2; ++a) c.J[a] = -(c.p_up * Edn[a] + (1.0 - c.p_up) * Eup[a]);
  return c;
}

// (a') A drive far faster than the qubit: every sideband k != 0 lies beyond the baths' cutoff and the dressing
// is J0(v/w_d) = 1 - O(1e-24): the static Davies currents. Until 2026-12-05 Delta within 1e-9 w_d of zero was a
// zero-frequency jump, so at w_d = 1e12 the splitting 1 merged and both currents were 0 with no diagnostic.
// Where the quasienergies themselves are not resolved (w_d = 1e15: the extended-space eigenproblem's error
// estimate ~0.3) the result is flagged instead.
TEST(Floquet, FastDriveIsTheStaticLimitOrFlagged) {
  const cmat V1 = 0.05 * lo::sigma_x();
  const Solved s = solve(driven_qubit(1.0, CouplingKind::hermitian, ohmic_exp(0.003, 10.0), ohmic_exp(0.003, 10.0), 1.2,
                                      0.4, 1e12, V1),
                         Method::global, LambShiftMode::off);
  for (const double wd : {1e6, 1e12, 1e15, 1e18}) {
    const FloquetResult f =
        floquet_steady_state(driven_qubit(1.0, CouplingKind::hermitian, ohmic_exp(0.003, 10.0), ohmic_exp(0.003, 10.0),
                                          1.2, 0.4, wd, V1));
    ASSERT_EQ(f.status, SteadyStatus::converged);
    // Correct, or flagged: never a wrong current without the diagnostic. Up to w_d = 1e12 it must be correct.
    const bool flagged = f.unresolved_jumps > 0;
    if (wd <= 1e12) EXPECT_FALSE(flagged) << wd;
    if (flagged) EXPECT_GE(f.largest_unresolved, 0.99) << wd;  // the qubit's splitting 1 is what merged
    for (std::size_t i = 0; i < 2 && !flagged; ++i)  // drive corrections O((v/w_d)^2) <= 1e-15; solver round-off
      EXPECT_LT(rel(f.currents[i], s.th.currents[i]), 1e-10) << wd << ": " << f.currents[i] << " vs " << s.th.currents[i];
    std::printf("w_d = %.0e: resolution %.2e, %d unresolved jumps, J_hot %.15g (static %.15g)\n", wd, f.resolution,
                f.unresolved_jumps, f.currents[0], s.th.currents[0]);
  }
}

TEST(Floquet, FrequencyModulatedQubitBesselSidebands) {
  const double w0 = 1.0;
  const SpectralDensity Js[2] = {drude(0.02, 4.0), drude(0.01, 2.0)};
  const double Ts[2] = {1.5, 0.2};
  struct Case {
    double z, wd;
  };
  // z = A / w_d; w_d chosen with w0 / w_d non-integer (no sideband exactly at zero frequency).
  const Case cases[] = {{0.5, 0.7}, {1.7, 0.31}, {3.0, 0.103}, {3.0, 0.43}};
  double worst = 0.0;
  for (CouplingKind kind : {CouplingKind::hermitian, CouplingKind::exchange}) {
    for (const auto& c : cases) {
      const double A = c.z * c.wd;
      const Model m = driven_qubit(w0, kind, Js[0], Js[1], Ts[0], Ts[1], c.wd, (A / 4.0) * lo::sigma_z());
      const FloquetResult f = floquet_steady_state(m);
      const Closed cf = modulated_closed_form(w0, A, c.wd, kind, Js, Ts);
      ASSERT_EQ(f.status, SteadyStatus::converged);
      // Floquet modes are |up>, |down> with quasienergies +-w0/2 folded; up is the larger one iff
      // the folded value of w0/2 is in [0, w_d/2).
      double eu = std::fmod(0.5 * w0 + 0.5 * c.wd, c.wd);
      if (eu < 0) eu += c.wd;
      eu -= 0.5 * c.wd;
      const int iu = std::abs(f.quasienergies(0) - eu) < std::abs(f.quasienergies(1) - eu) ? 0 : 1;
      EXPECT_NEAR(f.quasienergies(iu), eu, 1e-11);  // integrator accuracy ~1e-12 / T
      // Closed form and Floquet code differ only by integrator / Fourier truncation errors (1e-12).
      EXPECT_LT(rel(f.populations(iu), cf.p_up), 1e-9) << "z=" << c.z << " wd=" << c.wd;
      worst = std::max(worst, rel(f.populations(iu), cf.p_up));
      for (int a = 0; a < 2; ++a) worst = std::max(worst, rel(f.currents[static_cast<std::size_t>(a)], cf.J[a]));
      for (int a = 0; a < 2; ++a)
        EXPECT_LT(rel(f.currents[static_cast<std::size_t>(a)], cf.J[a]), 1e-9)
            << "z=" << c.z << " wd=" << c.wd << " bath " << a << ": " << f.currents[static_cast<std::size_t>(a)]
            << " vs " << cf.J[a];
      // Harmonics needed grow with z = A / w_d (Bessel weights decay beyond |k| ~ z).
      EXPECT_GE(f.harmonics_used, static_cast<int>(c.z));
    }
  }
  std::printf("Bessel sidebands: worst relative deviation %.2e\n", worst);
}

// (c) Equal temperatures without drive: no current; vanishing drive: no drive power.
TEST(Floquet, ZeroCurrentLimits) {
  const Model eq = driven_qubit(1.0, CouplingKind::hermitian, drude(0.02, 5.0), drude(0.01, 3.0), 0.7, 0.7, 0.37,
                                1e-9 * lo::sigma_x());
  const FloquetResult f = floquet_steady_state(eq);
  for (double j : f.currents) EXPECT_LT(std::abs(j), 1e-14);  // O(V^2 * rate) = 1e-20, plus round-off
  const Model neq = driven_qubit(1.0, CouplingKind::exchange, flat(0.02), flat(0.01), 2.0, 0.1, 0.37,
                                 1e-9 * lo::sigma_x());
  const FloquetResult g = floquet_steady_state(neq);
  EXPECT_GT(std::abs(g.currents[0]), 1e-4);  // a real heat flow hot -> cold
  EXPECT_LT(std::abs(g.drive_power), 1e-14);  // O(V^2 * rate), round-off of the sum of currents
  EXPECT_NEAR(g.currents[0] + g.currents[1] + g.drive_power, 0.0, 1e-16);  // by construction

  // A strong drive at equal temperatures pumps heat into both baths: currents negative, power positive.
  const Model pumped = driven_qubit(1.0, CouplingKind::hermitian, drude(0.02, 5.0), drude(0.01, 3.0), 0.3, 0.3,
                                    0.9, 0.2 * lo::sigma_x());
  const FloquetResult h = floquet_steady_state(pumped);
  EXPECT_GT(h.drive_power, 0.0);
}

// Without any transition between Floquet modes the stationary state is not unique.
TEST(Floquet, NotUniqueWithoutTransitions) {
  const Space sp = qubits(1);
  Model m = model(sp, op(sp, "q1", 0.5 * lo::sigma_z()),
                  {bath(sp, "a", 1.0, CouplingKind::hermitian, "q1", lo::sigma_z(), drude(0.01, 5.0))});
  m.drive = Drive{0.37, {DriveHarmonic{1, op(sp, "q1", 0.1 * lo::sigma_z())}}};
  EXPECT_EQ(floquet_steady_state(m).status, SteadyStatus::not_unique);
}

// (d) Doubling the steps per period leaves the quasienergies unchanged to 1e-11.
TEST(Floquet, IntegratorConvergence) {
  const Space sp = qubits(2);
  const cmat H = op(sp, "q1", 0.5 * lo::sigma_z()) + op(sp, "q2", 0.6 * lo::sigma_z()) +
                 0.1 * op(sp, "q1", lo::sigma_x()) * op(sp, "q2", lo::sigma_x());
  Model m = model(sp, H,
                  {bath(sp, "hot", 1.0, CouplingKind::hermitian, "q1", lo::sigma_x(), drude(5e-4, 5.0)),
                   bath(sp, "cold", 0.2, CouplingKind::hermitian, "q2", lo::sigma_x(), drude(5e-4, 5.0))});
  m.drive = Drive{0.8, {DriveHarmonic{1, 0.15 * op(sp, "q1", lo::sigma_x())},
                        DriveHarmonic{2, 0.05 * op(sp, "q2", lo::sigma_y())}}};
  const FloquetResult automatic = floquet_steady_state(m);
  FloquetOptions o;
  o.steps_per_period = 2 * automatic.steps_per_period;
  const FloquetResult fine = floquet_steady_state(m, o);
  ASSERT_EQ(fine.steps_per_period, 2 * automatic.steps_per_period);
  for (int a = 0; a < 4; ++a)
    EXPECT_LT(std::abs(automatic.quasienergies(a) - fine.quasienergies(a)), 1e-11);  // the brief's bound
  for (std::size_t a = 0; a < 2; ++a)
    EXPECT_LT(rel(automatic.currents[a], fine.currents[a]), 1e-9);  // currents follow the 1e-10 propagator tolerance
  EXPECT_GT(automatic.smallest_quasienergy_splitting, 10.0 * automatic.largest_rate);  // secular regime
}

}  // namespace
}  // namespace qheat
