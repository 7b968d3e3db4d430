// The sectors engine of linear_response (L0 on its Bohr-frequency sectors in the eigenbasis of H0,
// docs/methods.md "Linear response", "At scale") against the dense site-basis engine on every output,
// and at sizes beyond the dense engine against central differences of the global steady state.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "../support.hpp"
#include "random_model.hpp"
#include "qheat/response/perturbed.hpp"
#include "qheat/run/solve.hpp"

using namespace qheat;
using namespace qheat::test;

namespace {

Model random_model(std::mt19937& rng, bool lamb_shift, bool degenerate) {
  return random_response_model(rng, lamb_shift, degenerate);
}

// V without first-order level shifts: zero blocks on the (degenerate) levels of H0.
cmat eigenvector_perturbation(const cmat& H0, std::mt19937& rng) {
  const Eigenbasis e = diagonalize(H0);
  cmat R = random_hermitian(static_cast<int>(H0.rows()), rng);
  const long d = H0.rows();
  for (long i = 0; i < d; ++i)
    for (long j = 0; j < d; ++j)
      if (std::abs(e.energies(i) - e.energies(j)) < 1e-8) R(i, j) = 0.0;
  return e.vectors * R * e.vectors.adjoint();
}

ResponseResult run(const Model& m, const cmat& V, const std::vector<cmat>& obs, const std::vector<double>& times,
                   ResponseEngine engine) {
  ResponseOptions o;
  o.engine = engine;
  o.times = times;
  return linear_response(m, V, obs, o);
}

void expect_parts(const ResponseParts& a, const ResponseParts& b, double scale, const std::string& what) {
  EXPECT_NEAR(a.kubo, b.kubo, 1e-9 * scale) << what << " kubo";
  EXPECT_NEAR(a.dissipator, b.dissipator, 1e-9 * scale) << what << " dissipator";
  EXPECT_NEAR(a.total, b.total, 1e-9 * scale) << what << " total";
}

// Every output of the two engines, each compared on the scale of its kind (largest steady response
// of observables, gross current, ...). Both solve the same linear problems to round-off -- the dense
// engine by QR of the d^2 x d^2 L0 and Pade exponentials of it, the sectors engine by LU on sectors of a
// few elements (dense there; forced GMRES/Krylov/Arnoldi converge to 1e-12) -- so they differ by round-off
// amplified by the conditioning of L0 (rates ~0.01 against levels ~1): measured <= 1e-11 of the scale;
// the bound 1e-9 leaves that room.
void expect_same(const Model& m, const ResponseResult& s, const ResponseResult& d, const std::string& what) {
  ASSERT_EQ(s.regime.name, d.regime.name) << what;
  EXPECT_NEAR(s.regime.bohr_shift, d.regime.bohr_shift, 1e-10 * std::max(1.0, d.regime.bohr_shift)) << what;
  EXPECT_NEAR(s.regime.bohr_splitting, d.regime.bohr_splitting, 1e-10 * std::max(1.0, d.regime.bohr_splitting)) << what;
  EXPECT_NEAR(s.regime.relaxation_rate, d.regime.relaxation_rate, 1e-9 * d.regime.relaxation_rate) << what;
  double oscale = 0.0, jscale = 0.0;
  for (const auto& p : d.observables) oscale = std::max({oscale, std::abs(p.kubo), std::abs(p.dissipator)});
  for (double j : d.currents0) jscale = std::max(jscale, std::abs(j));
  for (const auto& p : d.currents) jscale = std::max({jscale, std::abs(p.kubo), std::abs(p.dissipator)});
  ASSERT_EQ(s.observables.size(), d.observables.size());
  for (std::size_t i = 0; i < d.observables.size(); ++i) {
    EXPECT_NEAR(s.observables0[i], d.observables0[i], 1e-10) << what;
    expect_parts(s.observables[i], d.observables[i], oscale, what + " observable " + std::to_string(i));
  }
  for (std::size_t a = 0; a < d.currents.size(); ++a) {
    EXPECT_NEAR(s.currents0[a], d.currents0[a], 1e-10 * jscale) << what;
    expect_parts(s.currents[a], d.currents[a], jscale, what + " current " + std::to_string(a));
  }
  double escale = 0.0;
  for (const auto& p : d.entropy_production_t) escale = std::max({escale, std::abs(p.kubo), std::abs(p.dissipator)});
  escale = std::max({escale, std::abs(d.entropy_production.kubo), std::abs(d.entropy_production.dissipator)});
  // The entropy production is -sum_a J_a / T_a: its parts can cancel between the baths (a Kubo part of
  // exactly 0 in one engine, 1.6e-16 in the other, was seen with clang's rounding), so its round-off is
  // that of the currents weighted by 1/T_a, not of the result.
  double inv_t = 0.0;
  for (const Bath& b : m.baths) inv_t += 1.0 / b.temperature;
  escale = std::max(escale, jscale * inv_t);
  expect_parts(s.entropy_production, d.entropy_production, escale, what + " entropy");
  ASSERT_EQ(s.observables_t.size(), d.observables_t.size());
  double fscale = 0.0;
  for (const auto& row : d.response_functions_t)
    for (const auto& p : row) fscale = std::max({fscale, std::abs(p.kubo), std::abs(p.dissipator)});
  for (std::size_t t = 0; t < d.observables_t.size(); ++t) {
    const std::string at = what + " t[" + std::to_string(t) + "]";
    for (std::size_t i = 0; i < d.observables_t[t].size(); ++i) {
      expect_parts(s.observables_t[t][i], d.observables_t[t][i], oscale, at + " Phi");
      expect_parts(s.response_functions_t[t][i], d.response_functions_t[t][i], fscale, at + " phi");
    }
    for (std::size_t a = 0; a < d.currents_t[t].size(); ++a)
      expect_parts(s.currents_t[t][a], d.currents_t[t][a], jscale, at + " current");
    expect_parts(s.entropy_production_t[t], d.entropy_production_t[t], escale, at + " entropy");
  }
}

}  // namespace

TEST(ResponseSectors, EqualsDenseEngineOnRandomModels) {
  std::mt19937 rng(2024);
  int eigenvector_cases = 0;
  long arnoldi_coherences = 0;
  for (int trial = 0; trial < 12; ++trial) {
    const bool lamb = trial % 2 == 0, degenerate = trial % 4 >= 2;
    const Model m = random_model(rng, lamb, degenerate);
    const std::vector<cmat> obs{random_hermitian(6, rng), m.space.embed(0, local_ops::sigma_z()), random_matrix(6, rng)};
    const std::vector<double> times{0.0, 0.7, 3.0, 3.0, 25.0, 1.5};
    for (const bool eigvec : {true, false}) {
      const cmat V = eigvec ? eigenvector_perturbation(m.hamiltonian, rng) : random_hermitian(6, rng);
      const std::string what = "trial " + std::to_string(trial) + (eigvec ? " eigenvectors" : " eigenvalues") +
                               (lamb ? " lamb" : "") + (degenerate ? " degenerate" : "");
      const ResponseResult d = run(m, V, obs, times, ResponseEngine::dense);
      const ResponseResult s = run(m, V, obs, times, ResponseEngine::sectors);
      EXPECT_EQ(s.solver.engine, "sectors");
      EXPECT_EQ(d.regime.name, eigvec ? "eigenvectors" : "eigenvalues") << what;
      if (d.regime.name == "eigenvectors") ++eigenvector_cases;
      expect_same(m, s, d, what);
      // Every sector of two or more elements through GMRES, Krylov exponentials and Arnoldi.
      ResponseOptions o;
      o.engine = ResponseEngine::sectors;
      o.times = times;
      o.dense_sector = o.dense_spectrum = o.dense_spectrum_zero = 1;
      const ResponseResult k = linear_response(m, V, obs, o);
      expect_same(m, k, d, what + " iterative");
      arnoldi_coherences += k.solver.arnoldi_sectors - 1;  // besides the zero sector
    }
  }
  EXPECT_EQ(eigenvector_cases, 12);
  EXPECT_GT(arnoldi_coherences, 0);  // measured 4: coherence sectors of degenerate levels
}

namespace {

Model xx_chain(int N) {
  return load_model(std::string(QHEAT_SOURCE_DIR) + "/examples/chain/xx_chain.toml", {{"N", std::to_string(N)}});
}
const char* kBond = "J*(sp(q2)*sm(q3) + sm(q2)*sp(q3))";  // a hopping bond: first-order level shifts
// Pair creation on a bond (XY anisotropy): changes the particle number by 2, so no level shifts at first
// order -- the eigenvector regime of a free-fermion chain.
const char* kPairing = "0.1*(sp(q2)*sp(q3) + sm(q2)*sm(q3))";

}  // namespace

TEST(ResponseSectors, EqualsDenseEngineOnTheXXChain) {
  // Free fermions: Bohr frequencies +-eps_k shared by d/2 transitions each, so the coherence sectors have
  // gain couplings (the sectors engine's non-trivial case). With the default sizes everything is dense;
  // with every threshold at 1 the same model goes through GMRES, Krylov exponentials and Arnoldi.
  const Model m = xx_chain(4);
  const std::vector<cmat> obs{model_operator(m, "sz(q1)"), model_operator(m, "sp(q2)*sm(q3) + sm(q2)*sp(q3)"),
                              model_operator(m, "sx(q2)")};
  const std::vector<double> times{0.0, 5.0, 40.0, 300.0, 2000.0};
  for (const char* v : {kBond, kPairing}) {
    const cmat V = model_operator(m, v);
    ResponseOptions o;
    o.times = times;
    o.engine = ResponseEngine::dense;
    const ResponseResult d = linear_response(m, V, obs, o);
    EXPECT_EQ(d.regime.name, v == kBond ? "eigenvalues" : "eigenvectors");
    o.engine = ResponseEngine::sectors;
    const ResponseResult s = linear_response(m, V, obs, o);
    expect_same(m, s, d, std::string(v) + " dense sectors");
    EXPECT_EQ(s.solver.gmres_iterations, 0);
    EXPECT_TRUE(s.solver.relaxation_certified);
    o.dense_sector = o.dense_spectrum = o.dense_spectrum_zero = 1;
    const ResponseResult k = linear_response(m, V, obs, o);
    expect_same(m, k, d, std::string(v) + " iterative");
    EXPECT_GT(k.solver.gmres_iterations, 0);
    EXPECT_GT(k.solver.krylov_products, 0);
    EXPECT_LE(k.solver.max_residual, 1e-10);
  }
}

TEST(ResponseSectors, XXChainBeyondTheDenseLimitEqualsFiniteDifferences) {
  // N = 6 (d = 64, beyond the dense engine's d <= 48). In the eigenvector regime the Bohr frequencies of
  // H0 + delta V differ from those of H0 only at O(delta^2), so the global generator solve() builds for
  // H0 + delta V is PerturbedKind::fixed_frequencies to first order: the total response is the
  // delta-derivative of solve()'s steady state. Central differences with one Richardson step, h = 1e-3:
  // truncation O(h^4) ~ 1e-12 relative; round-off of the LU steady states (~1e-16 of O(1) elements, x10
  // for the conditioning) over 2h ~ 1e-12. Measured: currents within 1e-11 of J0 (4e-8 of the response),
  // observables of O(1) operators within 7e-13.
  for (const int N : {6, 7}) {
    const Model m = xx_chain(N);
    const cmat V = model_operator(m, kPairing);
    const std::vector<cmat> obs{model_operator(m, "sz(q1)"), model_operator(m, "sx(q2)*sx(q3)")};
    ResponseOptions o;
    const ResponseResult r = linear_response(m, V, obs, o);
    ASSERT_EQ(r.regime.name, "eigenvectors");
    EXPECT_EQ(r.solver.engine, "sectors");
    auto at = [&](double delta) {
      Model p = m;
      p.hamiltonian = m.hamiltonian + delta * V;
      const Solution s = qheat::solve(p, Method::global);
      std::vector<double> v = s.thermo.currents;
      for (const cmat& A : obs) v.push_back((A * *s.rho).trace().real());
      return v;
    };
    auto diff = [&](double h) {
      const auto a = at(h), b = at(-h);
      std::vector<double> out(a.size());
      for (std::size_t i = 0; i < a.size(); ++i) out[i] = (a[i] - b[i]) / (2 * h);
      return out;
    };
    const double h = 1e-3;
    const auto d1 = diff(h), d2 = diff(h / 2);
    const std::size_t nb = r.currents.size();
    const double jscale = std::abs(r.currents0[0]);
    for (std::size_t a = 0; a < nb; ++a) {
      const double fd = (4 * d2[a] - d1[a]) / 3;
      EXPECT_NEAR(r.currents[a].total, fd, 1e-9 * jscale) << "N=" << N << " current " << a;
      // The dissipator part is a sizeable share (the test tells the two apart).
      EXPECT_GT(std::abs(r.currents[a].dissipator), 1e-2 * std::abs(r.currents[a].total)) << N;
    }
    for (std::size_t i = 0; i < obs.size(); ++i) {
      const double fd = (4 * d2[nb + i] - d1[nb + i]) / 3;
      EXPECT_NEAR(r.observables[i].total, fd, 1e-10) << "N=" << N << " observable " << i;
    }
  }
}

TEST(ResponseSectors, RelaxationRateByArnoldiEqualsLapack) {
  // Weakly coupled qubits (J = 0.02): a qubit's coherence decays at half its population rate, so 1/tau
  // comes from coherence sectors (32 and 16 elements at N = 6). With every spectrum threshold at 1 those
  // go through shift-invert Arnoldi; the rate must equal the all-eigenvalue (LAPACK) one, certified.
  for (const double J : {0.02, 0.2}) {
    const Model m = load_model(std::string(QHEAT_SOURCE_DIR) + "/examples/chain/xx_chain.toml",
                               {{"N", "6"}, {"J", std::to_string(J)}});
    const cmat V = model_operator(m, kBond);
    ResponseOptions o;
    const ResponseResult lapack = linear_response(m, V, {}, o);
    EXPECT_EQ(lapack.solver.arnoldi_sectors, 0);
    EXPECT_TRUE(lapack.solver.relaxation_certified);
    o.dense_spectrum = 1;
    const ResponseResult arnoldi = linear_response(m, V, {}, o);
    if (J < 0.1) {  // measured: one coherence sector besides the zero sector needs its spectrum
      EXPECT_GE(arnoldi.solver.arnoldi_sectors, 1);
      EXPECT_TRUE(arnoldi.solver.relaxation_certified);
    }
    EXPECT_NEAR(arnoldi.regime.relaxation_rate, lapack.regime.relaxation_rate, 1e-9 * lapack.regime.relaxation_rate) << J;
  }
}
