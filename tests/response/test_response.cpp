// Linear response of NESS (Levy, Rabani, Limmer): every response equals the delta-derivative of the
// steady state of the corresponding perturbed generator (central finite differences, random models),
// the closed-system limit is Kubo (exact unitary evolution), Levy eq. 43, regimes, second law.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <unsupported/Eigen/MatrixFunctions>

#include "../support.hpp"
#include "random_model.hpp"
#include "qheat/response/perturbed.hpp"

using namespace qheat;
using namespace qheat::test;

namespace {

Model random_model(std::mt19937& rng, bool lamb_shift) { return random_response_model(rng, lamb_shift, false); }

// V with vanishing diagonal in the eigenbasis of H0 (non-degenerate): only eigenvectors change.
cmat eigenvector_perturbation(const cmat& H0, std::mt19937& rng) {
  const Eigenbasis e = diagonalize(H0);
  cmat R = random_hermitian(static_cast<int>(H0.rows()), rng);
  R.diagonal().setZero();
  return e.vectors * R * e.vectors.adjoint();
}

struct Derivative {
  std::vector<double> observables, currents;
};

// Central difference of the perturbed generator's steady state with one Richardson step,
// (4 D(h/2) - D(h)) / 3: truncation O(h^4) (~1e-12 relative for h = 1e-3 and level spacings ~0.1-1),
// round-off ~ eps / h ~ 1e-13.
Derivative central_difference(const Model& m, const cmat& V, PerturbedKind kind, const std::vector<cmat>& obs,
                              double h = 1e-3) {
  auto diff = [&](double step) {
    const PerturbedState p = perturbed_steady_state(m, V, step, kind, obs);
    const PerturbedState q = perturbed_steady_state(m, V, -step, kind, obs);
    Derivative d;
    for (std::size_t i = 0; i < obs.size(); ++i) d.observables.push_back((p.observables[i] - q.observables[i]) / (2 * step));
    for (std::size_t i = 0; i < p.currents.size(); ++i) d.currents.push_back((p.currents[i] - q.currents[i]) / (2 * step));
    return d;
  };
  const Derivative a = diff(h), b = diff(h / 2);
  Derivative d = b;
  for (std::size_t i = 0; i < d.observables.size(); ++i) d.observables[i] = (4 * b.observables[i] - a.observables[i]) / 3;
  for (std::size_t i = 0; i < d.currents.size(); ++i) d.currents[i] = (4 * b.currents[i] - a.currents[i]) / 3;
  return d;
}

// |a - b| <= 1e-6 max(|b|, scale): the relative bound. A response that vanishes by symmetry
// (e.g. the Kubo part of a current when V has no diagonal) is compared on `scale`, the size of the
// quantity's other responses or of the quantity itself.
void expect_close(double computed, double reference, double scale, const std::string& what) {
  EXPECT_NEAR(computed, reference, 1e-6 * std::max(std::abs(reference), scale)) << what;
}

}  // namespace

TEST(Response, EigenvectorRegimeEqualsFiniteDifferenceOfFixedFrequencyGenerator) {
  std::mt19937 rng(51);
  for (int trial = 0; trial < 8; ++trial) {
    const Model m = random_model(rng, trial % 2 == 0);
    const cmat V = eigenvector_perturbation(m.hamiltonian, rng);
    const std::vector<cmat> obs{random_hermitian(6, rng), m.space.embed(0, local_ops::sigma_z())};
    const ResponseResult r = linear_response(m, V, obs);
    ASSERT_EQ(r.regime.name, "eigenvectors");
    // Total: derivative of the generator with rotated jump operators at fixed Bohr frequencies.
    const Derivative full = central_difference(m, V, PerturbedKind::fixed_frequencies, obs);
    // Kubo part alone: derivative of H0 + delta V with the dissipators D0 kept.
    const Derivative kubo = central_difference(m, V, PerturbedKind::local, obs);
    double scale = 0.0;
    for (const auto& p : r.observables) scale = std::max(scale, std::abs(p.total));
    for (std::size_t i = 0; i < obs.size(); ++i) {
      expect_close(r.observables[i].total, full.observables[i], 1e-3 * scale, "observable total " + std::to_string(i));
      expect_close(r.observables[i].kubo, kubo.observables[i], 1e-3 * scale, "observable kubo " + std::to_string(i));
    }
    double jscale = 0.0;
    for (const auto& p : r.currents) jscale = std::max(jscale, std::abs(p.total));
    for (double j : r.currents0) jscale = std::max(jscale, std::abs(j));
    for (std::size_t a = 0; a < 2; ++a) {
      expect_close(r.currents[a].total, full.currents[a], jscale, "current total " + std::to_string(a));
      expect_close(r.currents[a].kubo, kubo.currents[a], jscale, "current kubo " + std::to_string(a));
    }
    // The dissipator part is not negligible on these models (else the test could not tell them apart).
    EXPECT_GT(std::abs(r.observables[0].dissipator), 1e-3 * std::abs(r.observables[0].kubo)) << trial;
  }
}

TEST(Response, EigenvalueRegimeIsTheLocalLimit) {
  std::mt19937 rng(36);
  for (int trial = 0; trial < 6; ++trial) {
    const Model m = random_model(rng, trial % 2 == 1);
    const cmat V = random_hermitian(6, rng);  // generic: shifts every level at first order
    const std::vector<cmat> obs{random_hermitian(6, rng)};
    const ResponseResult r = linear_response(m, V, obs);
    ASSERT_EQ(r.regime.name, "eigenvalues");
    EXPECT_GT(r.regime.bohr_shift, 0.0);
    EXPECT_GT(r.regime.relaxation_rate, 0.0);
    const Derivative local = central_difference(m, V, PerturbedKind::local, obs);
    expect_close(r.observables[0].total, local.observables[0], 0.0, "observable");
    EXPECT_EQ(r.observables[0].dissipator, 0.0);  // eq. 36: no dissipator response in the local limit
    for (std::size_t a = 0; a < 2; ++a) expect_close(r.currents[a].total, local.currents[a], 0.0, "current");
  }
}

TEST(Response, ClosedSystemIsKuboAgainstExactUnitaryEvolution) {
  // No baths, a Gibbs initial state: Phi(t) must be d/d delta <A>(t) of the exact evolution under
  // H0 + delta V, and the dissipator part must vanish.
  std::mt19937 rng(1);
  Space sp({make_level("l", 4)});
  const cmat H0 = random_hermitian(4, rng);
  const cmat V = random_hermitian(4, rng), A = random_hermitian(4, rng);
  Model m = model(sp, H0, {});
  const cmat gibbs = cmat((-H0 / 0.7).exp());
  ResponseOptions opt;
  opt.initial_state = gibbs / gibbs.trace();
  opt.times = {0.0, 0.3, 1.0, 2.5, 7.0};
  const ResponseResult r = linear_response(m, V, {A}, opt);
  auto expect_at = [&](double t, double delta) {
    const cmat U = cmat(cplx(0, -t) * (H0 + delta * V)).exp();
    return (A * U * *opt.initial_state * U.adjoint()).trace().real();
  };
  for (std::size_t i = 0; i < opt.times.size(); ++i) {
    const double t = opt.times[i], h = 1e-5;
    const double fd = (expect_at(t, h) - expect_at(t, -h)) / (2 * h);
    // Central difference with h = 1e-5 of matrix exponentials: error ~ h^2 t^3 ||V||^3 + eps/h ~ 1e-9.
    EXPECT_NEAR(r.observables_t[i][0].kubo, fd, 1e-7 * std::max(1.0, std::abs(fd))) << "t=" << t;
    EXPECT_EQ(r.observables_t[i][0].dissipator, 0.0);
  }
}

TEST(Response, TimeSeriesTendsToTheSteadyStateResponse) {
  std::mt19937 rng(7);
  const Model m = random_model(rng, false);
  const cmat V = eigenvector_perturbation(m.hamiltonian, rng);
  const cmat A = random_hermitian(6, rng);
  ResponseOptions opt;
  const ResponseResult r0 = linear_response(m, V, {A}, opt);
  // Uniform grid out to 60 relaxation times: Phi(t) -> the t -> infinity response as e^{-t/tau}.
  for (int k = 0; k <= 60; ++k) opt.times.push_back(k / r0.regime.relaxation_rate);
  const ResponseResult r = linear_response(m, V, {A}, opt);
  const ResponseParts& last = r.observables_t.back()[0];
  const double scale = std::abs(r.observables[0].kubo) + std::abs(r.observables[0].dissipator);
  EXPECT_NEAR(last.kubo, r.observables[0].kubo, 1e-9 * scale);  // e^{-60} and propagation round-off
  EXPECT_NEAR(last.dissipator, r.observables[0].dissipator, 1e-9 * scale);
  EXPECT_EQ(r.observables_t.front()[0].total, 0.0);  // Phi(0) = 0
  // phi = dPhi/dt: central difference of Phi on a fine grid around t = 1/rate.
  {
    ResponseOptions fine;
    const double t0 = 1 / r0.regime.relaxation_rate, h = 1e-4;  // h << the periods of the system (~1-3)
    fine.times = {t0 - h, t0, t0 + h};
    const ResponseResult rf = linear_response(m, V, {A}, fine);
    for (const auto part : {&ResponseParts::kubo, &ResponseParts::dissipator}) {
      const double dphi = (rf.observables_t[2][0].*part - rf.observables_t[0][0].*part) / (2 * h);
      // Truncation h^2 phi''' / 6 ~ 1e-8 |phi| (frequencies ~2), round-off ~ eps Phi / h ~ 1e-12.
      EXPECT_NEAR(rf.response_functions_t[1][0].*part, dphi, 1e-6 * std::abs(dphi) + 1e-10 * scale);
    }
  }
  // Currents and entropy production after the switch-on tend to their steady-state responses too.
  for (std::size_t a = 0; a < 2; ++a)
    EXPECT_NEAR(r.currents_t.back()[a].total, r.currents[a].total, 1e-9 * std::abs(r.currents0[a]));
  EXPECT_NEAR(r.entropy_production_t.back().total, r.entropy_production.total,
              1e-8 * (std::abs(r.currents0[0]) + std::abs(r.currents0[1])));
}

TEST(Response, EntropyProductionResponseVanishesAtEquilibrium) {
  // Levy App. D: at equilibrium sigma_1(t) = 0 at all times (one temperature for both baths).
  std::mt19937 rng(11);
  for (int trial = 0; trial < 4; ++trial) {
    Model m = random_model(rng, trial % 2 == 0);
    m.baths[1].temperature = m.baths[0].temperature;
    const cmat V = eigenvector_perturbation(m.hamiltonian, rng);
    ResponseOptions opt;
    opt.times = {0.0, 0.5, 2.0, 10.0, 50.0};
    const ResponseResult r = linear_response(m, V, {random_hermitian(6, rng)}, opt);
    // Scale: the gross entropy flow of one bath, |J0| / T, is zero here; use the current responses.
    const double scale = (std::abs(r.currents[0].total) + std::abs(r.currents[1].total) + 1e-3) / m.baths[0].temperature;
    for (const ResponseParts& p : r.entropy_production_t) EXPECT_NEAR(p.total, 0.0, 1e-9 * scale) << trial;
    EXPECT_NEAR(r.entropy_production.total, 0.0, 1e-9 * scale);
    // ... while the state does respond (rho_1(t) != 0: the test is not about a zero perturbation).
    EXPECT_GT(std::abs(r.observables_t[2][0].total), 1e-6);
  }
}

TEST(Response, LevyTwoQubitsEq43AndRegimes) {
  // V = sz sz (eq. 41, per unit Omega): eigenvalues change, nu^(1) = 4 (Levy: nu^(1) = 4 delta Omega);
  // the local-limit current response is eq. 43.
  for (double Ta : {40.0, 80.0, 500.0}) {
    const double Tb = Ta - 20;
    const Model m = load_model(std::string(QHEAT_SOURCE_DIR) + "/examples/levy/two_qubits.toml",
                               {{"Ta", std::to_string(Ta)}, {"Tb", std::to_string(Tb)}});
    const ResponseResult r = linear_response(m, model_operator(m, "V_zz"), {});
    EXPECT_EQ(r.regime.name, "eigenvalues");
    EXPECT_NEAR(r.regime.bohr_splitting, 4.0, 1e-9);
    EXPECT_NEAR(r.regime.bohr_shift, 2.0, 1e-9);
    const double omega = 1000, g = 200, gamma = 1;
    const double wp = omega + g, wm = omega - g;
    const double npa = bose_n(wp, Ta), npb = bose_n(wp, Tb), nma = bose_n(wm, Ta), nmb = bose_n(wm, Tb);
    const double J1 = -(gamma * (nma - nmb) + gamma * (npa - npb)) / (2 * (nma + nmb + 1) * (npa + npb + 1));  // eq. 43
    // LU round-off relative to gross flows ~ gamma * omega; J1 ~ gamma n.
    EXPECT_NEAR(r.currents[0].total, J1, 1e-9 * std::abs(J1) + 1e-12) << "Ta=" << Ta;
    EXPECT_NEAR(r.currents[1].total, -J1, 1e-9 * std::abs(J1) + 1e-12);
    // The perturbation commutes with H0 and pi0: no rho_1, so the response is <D0^dag V> only.
    EXPECT_NEAR(r.currents[0].kubo, J1, 1e-9 * std::abs(J1) + 1e-12);

    const ResponseResult rx = linear_response(m, model_operator(m, "V_xy"), {});
    EXPECT_EQ(rx.regime.name, "eigenvectors");  // couples |00> and |11>: no first-order shift
  }
}

TEST(Response, PerturbedGeneratorsProduceNonNegativeEntropy) {
  // Levy App. D: the fixed-frequency and local perturbed generators keep sigma >= 0 for small delta.
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 10; ++trial) {
    const Model m = random_model(rng, trial % 2 == 0);
    const cmat V = eigenvector_perturbation(m.hamiltonian, rng);
    for (double delta : {-0.05, 0.02, 0.05}) {
      const PerturbedState p = perturbed_steady_state(m, V, delta, PerturbedKind::fixed_frequencies, {});
      double sigma = 0.0;
      for (std::size_t a = 0; a < m.baths.size(); ++a) sigma -= p.currents[a] / m.baths[a].temperature;
      // Round-off of currents of size ~0.1 divided by T ~ 0.2.
      EXPECT_GE(sigma, -1e-12) << "trial " << trial << " delta " << delta;
    }
  }
}

TEST(Response, RejectsWhatItCannotDo) {
  std::mt19937 rng(3);
  const Model m = random_model(rng, false);
  cmat V = random_matrix(6, rng);  // not Hermitian
  try {
    (void)linear_response(m, V, {});
    ADD_FAILURE() << "accepted a non-Hermitian V";
  } catch (const MethodError& e) {
    EXPECT_EQ(e.rule(), "response-perturbation");
  }
  const Model kong = load_model(std::string(QHEAT_SOURCE_DIR) + "/examples/kong2026/nesb.toml");
  EXPECT_THROW((void)linear_response(kong, cmat::Zero(2, 2), {}), MethodError);
}
