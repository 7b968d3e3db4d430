// Kong et al. 2026: driven dressed master equation (dDME, eqs. 4-9), traditional dressed ME (DME,
// eq. 8), and the NESB closed form (eq. 29). Kong's J_mu is the energy INTO reservoir mu:
// J_mu(Kong) = -currents[mu] (conventions.md).
#include <gtest/gtest.h>

#include <iostream>

#include "../support.hpp"
#include "qheat/generators/floquet.hpp"

using namespace qheat;
using namespace qheat::test;

namespace {
struct Nesb {
  double eps = 1.0, eta = 0.1, wd = 0.7, alpha = 0.001, wc = 10.0, Tl = 1.2, Tr = 0.4;
  Model build() const {
    Space sp({make_qubit("q")});
    const cmat sm = local_ops::sigma_minus();
    const SpectralDensity J = ohmic_exp(M_PI * alpha, wc);  // gamma_mu(w) = pi alpha w e^{-w/wc}
    Model m = model(sp, eps * op(sp, "q", sm.adjoint() * sm),
                    {bath(sp, "l", Tl, CouplingKind::exchange, "q", sm, J),
                     bath(sp, "r", Tr, CouplingKind::exchange, "q", sm, J)});
    m.drive = Drive{wd, {DriveHarmonic{1, -(eta / 2) * op(sp, "q", sm.adjoint())}}};  // eq. 11
    return m;
  }
};

// Eq. 29 for bath mu, with the populations either as printed (P+ = Gamma_+ / (Gamma_+ + Gamma_-),
// Gamma_+- summed over the channels w_d +- Lambda) or from the balance of the rates that eq. 29's
// currents themselves use (the +-> - transitions are Gamma_-(w_d+L) and Gamma_+(w_d-L)).
struct Eq29 {
  double Jl, Jr;
};
Eq29 eq29(const Nesb& p, bool as_printed) {
  const double D = p.eps - p.wd, L = std::hypot(D, p.eta), th = std::atan2(p.eta, D);
  const double c4 = std::pow(std::cos(th / 2), 4), s4 = std::pow(std::sin(th / 2), 4);
  const double sc = std::pow(std::sin(th / 2) * std::cos(th / 2), 2);
  auto gam = [&](double x) { return x > 0 ? M_PI * p.alpha * x * std::exp(-x / p.wc) : 0.0; };  // theta(w)
  auto down = [&](double x, double T) { return x > 0 ? gam(x) * (1 + bose_n(x, T)) : 0.0; };   // Gamma_-
  auto up = [&](double x, double T) { return x > 0 ? gam(x) * bose_n(x, T) : 0.0; };           // Gamma_+
  struct R { double mP, pP, mM, pM, m0, p0; };  // eqs. 27a, 27b, 28
  auto rates = [&](double T) {
    return R{c4 * down(p.wd + L, T), c4 * up(p.wd + L, T), s4 * down(p.wd - L, T),
             s4 * up(p.wd - L, T),   sc * down(p.wd, T),   sc * up(p.wd, T)};
  };
  const R l = rates(p.Tl), r = rates(p.Tr);
  double Pp, Pm;
  if (as_printed) {
    const double Gp = l.pP + l.pM + r.pP + r.pM, Gm = l.mP + l.mM + r.mP + r.mM;
    Pp = Gp / (Gp + Gm);
    Pm = Gm / (Gp + Gm);
  } else {
    const double in = l.pP + l.mM + r.pP + r.mM, out = l.mP + l.pM + r.mP + r.pM;
    Pp = in / (in + out);
    Pm = out / (in + out);
  }
  auto J = [&](const R& x) {
    return (p.wd + L) * (x.mP * Pp - x.pP * Pm) + (p.wd - L) * (x.mM * Pm - x.pM * Pp) + p.wd * (x.m0 - x.p0);
  };
  return {J(l), J(r)};
}
}  // namespace

TEST(Kong2026, DrivenDressedNesbAgreesWithEq29WithBalancedPopulations) {
  for (double eta : {0.01, 0.1, 0.5})
    for (double wd = 0.05; wd <= 1.2001; wd += 0.05) {
      Nesb p;
      p.eta = eta;
      p.wd = wd;
      const Solved s = solve(p.build(), Method::ddme);
      ASSERT_EQ(s.ss.status, SteadyStatus::converged);
      const Eq29 ref = eq29(p, false);
      // 2x2 rate problem solved by LU: round-off relative to the gross flows ~ w_d * rates.
      EXPECT_NEAR(-s.th.currents[0], ref.Jl, 1e-10 * std::abs(ref.Jl) + 1e-15) << "wd=" << wd << " eta=" << eta;
      EXPECT_NEAR(-s.th.currents[1], ref.Jr, 1e-10 * std::abs(ref.Jr) + 1e-15) << "wd=" << wd << " eta=" << eta;
      // Kong eq. 10: J_p = -(J_l + J_r), i.e. drive_power = -(sum of currents).
      EXPECT_NEAR(s.th.drive_power, -(s.th.currents[0] + s.th.currents[1]), 1e-18);
    }
}

TEST(Kong2026, Eq29AsPrintedHasInconsistentPopulations) {
  // The printed P+- = Gamma_+- / (Gamma_+ + Gamma_-) swaps the roles of the w_d - Lambda channel
  // relative to the currents of the same equation. Below w_d ~ 0.5 that channel is closed
  // (w_d - Lambda < 0, theta(w)) and the two agree; near resonance they differ by a factor ~2-3.
  Nesb p;
  p.wd = 0.3;
  EXPECT_NEAR(eq29(p, true).Jr, eq29(p, false).Jr, 1e-12);
  p.wd = 1.2;
  const double printed = eq29(p, true).Jr, balanced = eq29(p, false).Jr;
  const double numeric = -solve(p.build(), Method::ddme).th.currents[1];
  EXPECT_NEAR(numeric, balanced, 1e-10 * std::abs(balanced));
  EXPECT_GT(printed / balanced, 2.0);  // measured 3.27 at w_d = 1.2, eta = 0.1
}

TEST(Kong2026, VanishingDriveTendsToStaticDavies) {
  // eta -> 0: the dDME rates sit at w_d + E_m'm = the lab Bohr frequencies, so the dDME becomes the
  // static Davies ME of H_S: same currents, no drive power.
  for (double wd : {0.3, 0.7, 1.1}) {
    Nesb p;
    p.eta = 1e-7;
    p.wd = wd;
    const Model m = p.build();
    const Solved d = solve(m, Method::ddme);
    const Solved g = solve(m, Method::global);
    // O(eta^2) corrections: (1e-7)^2 relative, far below round-off of 1e-12.
    EXPECT_NEAR(d.th.currents[1], g.th.currents[1], 1e-9 * std::abs(g.th.currents[1]));
    EXPECT_LT(std::abs(d.th.drive_power), 1e-9 * std::abs(g.th.currents[1]));
  }
}

TEST(Kong2026, TraditionalDressedDiffersFromDriven) {
  // Kong Fig. 2: the DME deviates from the dDME at finite w_d (here by more than 10%).
  Nesb p;
  p.wd = 0.7;
  const double ddme = solve(p.build(), Method::ddme).th.currents[1];
  const double dme = solve(p.build(), Method::dme).th.currents[1];
  EXPECT_GT(std::abs(dme - ddme), 0.1 * std::abs(ddme));
}

TEST(Kong2026, DressedMethodsCheckTheirPreconditions) {
  Nesb p;
  Model m = p.build();
  m.drive->harmonics.front().V = 0.05 * op(m.space, "q", local_ops::sigma_x());  // not raising N_A
  GeneratorOptions o;
  o.method = Method::ddme;
  try {
    const Generator g(m, o);
    FAIL() << "expected MethodError";
  } catch (const MethodError& e) {
    EXPECT_EQ(e.rule(), "drive-form");
  }
  Model h = p.build();
  for (auto& b : h.baths) {
    b.coupling = CouplingKind::hermitian;
    b.op = op(h.space, "q", local_ops::sigma_x());
  }
  try {
    const Generator g(h, o);
    FAIL() << "expected MethodError";
  } catch (const MethodError& e) {
    EXPECT_EQ(e.rule(), "dressed-coupling");
  }
  Model undriven = p.build();
  undriven.drive.reset();
  try {
    const Generator g(undriven, o);
    FAIL() << "expected MethodError";
  } catch (const MethodError& e) {
    EXPECT_EQ(e.rule(), "method-needs-drive");
  }
}

TEST(Kong2026, KerrCurrentsConvergedInTruncation) {
  // examples/kong2026/kerr.toml (Fig. 5 parameters): nmax -> nmax + 5 changes the dDME currents by
  // < 1e-6 relative (measured 5e-8 from 30 to 35; the residual change comes from the grouping
  // tolerance of near-degenerate dressed Bohr frequencies, which scales with max|E|).
  const std::string file = std::string(QHEAT_SOURCE_DIR) + "/examples/kong2026/kerr.toml";
  for (const char* method : {"ddme", "dme"}) {
    const Model a = load_model(file, {{"nmax", "20"}}), b = load_model(file, {{"nmax", "25"}});
    const Solved sa = solve(a, parse_method(method)), sb = solve(b, parse_method(method));
    for (std::size_t k = 0; k < 2; ++k)
      EXPECT_NEAR(sa.th.currents[k], sb.th.currents[k], 1e-6 * std::abs(sb.th.currents[k])) << method;
  }
  // FME: nmax 10 -> 15 (measured change 6e-12 relative: the Floquet side has no grouping tolerance).
  const FloquetResult fa = floquet_steady_state(load_model(file, {{"nmax", "10"}}));
  const FloquetResult fb = floquet_steady_state(load_model(file, {{"nmax", "15"}}));
  for (std::size_t k = 0; k < 2; ++k) EXPECT_NEAR(fa.currents[k], fb.currents[k], 1e-9 * std::abs(fb.currents[k]));
}

TEST(Kong2026, DrivenDressedAgreesWithFloquetOnAllThreeModels) {
  // Kong's central claim (Figs. 2, 4, 5): for an RWA drive and exchange couplings the dDME reproduces
  // the Floquet-Markov ME; the DME does not. Grid: w_d in [0.05, 1.2], eta in [0.01, 0.5].
  const std::string dir = std::string(QHEAT_SOURCE_DIR) + "/examples/kong2026/";
  double worst_dme = 0.0;
  for (const char* file : {"nesb.toml", "coupled_qubits.toml", "kerr.toml"})
    for (double wd : {0.05, 0.3, 0.7, 1.0, 1.2})
      for (double eta : {0.01, 0.1, 0.5}) {
        const bool kerr = std::string(file) == "kerr.toml";
        // nmax = 8 keeps the Kerr points fast (w_d = 0.05 needs 16384 Magnus steps and 604 harmonics,
        // ~1.5 s); the currents are converged in nmax at these temperatures (KerrCurrentsConverged...).
        std::vector<Override> ov{{"omega_d", std::to_string(wd)}, {"eta", std::to_string(eta)}};
        if (kerr) ov.push_back({"nmax", "8"});
        const Model m = load_model(dir + file, ov);
        const Solved d = solve(m, Method::ddme);
        const FloquetResult f = floquet_steady_state(m);
        ASSERT_EQ(f.status, SteadyStatus::converged);
        double scale = 0.0;
        for (double j : d.th.currents) scale = std::max(scale, std::abs(j));
        for (std::size_t k = 0; k < 2; ++k)
          // 1e-8 relative (the requirement) to the larger current: both are direct solves, the
          // Floquet side adds the propagator and Fourier truncation errors (~1e-12).
          EXPECT_NEAR(d.th.currents[k], f.currents[k], 1e-8 * scale) << file << " wd=" << wd << " eta=" << eta;
        EXPECT_NEAR(d.th.drive_power, f.drive_power, 1e-8 * scale) << file;
        const Solved dme = solve(m, Method::dme);
        worst_dme = std::max(worst_dme, std::abs(dme.th.currents[1] - f.currents[1]) / scale);
      }
  // The DME misses by far more than round-off somewhere on the grid (measured: see the test log).
  std::cout << "largest |J_r(DME) - J_r(FME)| / max|J|: " << worst_dme << "\n";
  EXPECT_GT(worst_dme, 0.1);
}

TEST(Kong2026, TraditionalDressedWithoutDriveIsDaviesInTheFrame) {
  // eta -> 0: the DME evaluates its rates at the Bohr frequencies of the frame Hamiltonian
  // H_S - w_d N_A, so its state is the Davies state of that static Hamiltonian ("w_d the frame
  // frequency"), which differs from the lab Davies state (and from the dDME) whenever w_d != 0.
  for (double wd : {0.3, 0.7}) {
    Nesb p;
    p.eta = 1e-7;
    p.wd = wd;
    const Model lab = p.build();
    Model frame = lab;
    frame.hamiltonian = (p.eps - wd) * op(lab.space, "q", local_ops::sigma_plus() * local_ops::sigma_minus());
    frame.drive.reset();
    const Solved dme = solve(lab, Method::dme), davies_frame = solve(frame, Method::global);
    const Solved davies_lab = solve(lab, Method::global);
    // Eigenbases of the two (nearly identical) frame Hamiltonians: compare populations. O(eta^2).
    EXPECT_NEAR(dme.ss.rho(1, 1).real(), davies_frame.ss.rho(1, 1).real(), 1e-9);
    EXPECT_GT(std::abs(dme.ss.rho(1, 1).real() - davies_lab.ss.rho(1, 1).real()), 1e-3);
  }
}
