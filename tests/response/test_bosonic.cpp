// Untruncated bosonic linear response (include/qheat/response/bosonic.hpp, docs/response-bosonic.md):
// polynomial algebra, extraction from truncated Fock matrices, the quadratic Davies generator, and Levy,
// Rabani & Limmer's two oscillators (Sec. III B, eqs. 30-35) against closed forms, against the dense
// truncated engine (qheat::linear_response) and against finite differences of the fixed-frequency
// perturbed steady state (qheat::perturbed_steady_state) at low temperature.
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <iostream>
#include <random>

#include "qheat/response/bosonic.hpp"
#include "qheat/response/perturbed.hpp"
#include "qheat/response/response.hpp"
#include "../support.hpp"

namespace qheat::test {
namespace {

using bosonic::Polynomial;

Polynomial a(int modes, int k) { return Polynomial::annihilator(modes, k); }
Polynomial ad(int modes, int k) { return Polynomial::creator(modes, k); }
Polynomial one(int modes) { return Polynomial::constant(modes, 1.0); }
Polynomial pow(const Polynomial& x, int n) {
  Polynomial r = one(x.modes());
  for (int i = 0; i < n; ++i) r = r * x;
  return r;
}

double distance(const Polynomial& x, const Polynomial& y) { return (x - y).max_abs(); }

const std::string kLevy = std::string(QHEAT_SOURCE_DIR) + "/examples/levy/two_oscillators.toml";

Model levy(const std::vector<std::string>& sets) { return load_model(kLevy, parse_overrides(sets)); }

// Parameters of Levy's closed forms for a loaded two_oscillators model.
struct LevyParams {
  double wm, wp, eps, gm, nbar, nbar_plus;
};
LevyParams levy_params(const Model& m) {
  LevyParams p{};
  const double w = *m.parameter("omega"), g = *m.parameter("g");
  p.wm = w - g;
  p.wp = w + g;
  p.eps = *m.parameter("eps");
  p.gm = m.baths[0].spectral.kappa(p.wm);  // gamma_- = kappa(omega_-) (with the file's cutoff factor)
  p.nbar = 0.5 * (bose(p.wm, m.baths[0].temperature) + bose(p.wm, m.baths[1].temperature));
  p.nbar_plus = 0.5 * (bose(p.wp, m.baths[0].temperature) + bose(p.wp, m.baths[1].temperature));
  return p;
}

// int_0^t e^{-a s} sin(w s) ds and int_0^t e^{-a s} cos(w s) ds.
double int_sin(double r, double w, double t) {
  return (w - std::exp(-r * t) * (r * std::sin(w * t) + w * std::cos(w * t))) / (r * r + w * w);
}
double int_cos(double r, double w, double t) {
  return (r + std::exp(-r * t) * (w * std::sin(w * t) - r * std::cos(w * t))) / (r * r + w * w);
}

// Levy eq. 31 integrated (eq. 33): Phi^(1,1)(t).
double levy_phi11(const LevyParams& p, double t) {
  return -3.0 * p.eps * p.wm / p.wp * (2 * p.nbar + 1) * int_sin(p.gm / 2, p.wm, t);
}
// Levy eq. 32 as printed, integrated: Phi^(1,2)(t) with the factor (n - 1).
double levy_phi12_printed(const LevyParams& p, double t) {
  return 1.5 * p.eps * p.gm / p.wp * (p.nbar - 1) * (2 * p.nbar + 1) * int_cos(p.gm / 2, p.wm, t);
}
// The same with (n - 1) replaced by -1 (derived in docs/response-bosonic.md).
double levy_phi12_corrected(const LevyParams& p, double t) {
  return -1.5 * p.eps * p.gm / p.wp * (2 * p.nbar + 1) * int_cos(p.gm / 2, p.wm, t);
}
// Levy eq. 34 as printed (t -> infinity), both parts.
double levy_eq34_kubo(const LevyParams& p) {
  return -3 * p.eps / p.wp * (4 * p.wm * p.wm / (p.gm * p.gm + 4 * p.wm * p.wm)) * (2 * p.nbar + 1);
}
double levy_eq34_dissipator_printed(const LevyParams& p) {
  return 3 * p.eps / p.wp * (p.gm * p.gm / (p.gm * p.gm + 4 * p.wm * p.wm)) * (p.nbar - 1) * (2 * p.nbar + 1);
}

// Levy's closed forms (eqs. 31-35) are derived for V = Omega (d_- + d_-^dag)^3 (eq. B9) with
// d_- = (b - a)/sqrt 2 (eq. 28, B3); eq. 29, which the model file's V_cubic writes literally, is the
// negative of that operator (ExtractFromTruncatedModelMatrices). `levy_sign` = -1 compares with the
// formulas' V.
ResponseResult untruncated(const Model& m, const std::vector<std::string>& obs, std::vector<double> times = {},
                           double levy_sign = -1.0) {
  ResponseOptions o;
  o.times = std::move(times);
  std::vector<cmat> A;
  for (const auto& name : obs) A.push_back(model_operator(m, name));
  return bosonic_linear_response(m, levy_sign * model_operator(m, "V_cubic"), A, o);
}

// ---- polynomial algebra --------------------------------------------------------------------------------

TEST(BosonicPolynomial, CanonicalCommutatorAndNormalOrdering) {
  const int N = 2;
  // The algebra is exact for these integer coefficients: tolerance 0.
  EXPECT_EQ(distance(bosonic::commutator(a(N, 0), ad(N, 0)), one(N)), 0.0);  // [a, a^dag] = 1
  EXPECT_TRUE(bosonic::commutator(a(N, 0), ad(N, 1)).empty());
  EXPECT_TRUE(bosonic::commutator(a(N, 0), a(N, 1)).empty());
  // a a^dag a^dag = a^dag^2 a + 2 a^dag
  EXPECT_EQ(distance(a(N, 0) * ad(N, 0) * ad(N, 0), ad(N, 0) * ad(N, 0) * a(N, 0) + 2.0 * ad(N, 0)), 0.0);
  // a^3 a^dag^3 = a^dag^3 a^3 + 9 a^dag^2 a^2 + 18 a^dag a + 6 (coefficients C(3,j)^2 j!)
  const Polynomial lhs = pow(a(N, 1), 3) * pow(ad(N, 1), 3);
  const Polynomial rhs = pow(ad(N, 1), 3) * pow(a(N, 1), 3) + 9.0 * pow(ad(N, 1), 2) * pow(a(N, 1), 2) +
                         18.0 * ad(N, 1) * a(N, 1) + 6.0 * one(N);
  EXPECT_EQ(distance(lhs, rhs), 0.0);
  // x^3 = :x^3: + 3x for x = a + a^dag
  const Polynomial x = a(N, 0) + ad(N, 0);
  const Polynomial nx3 = pow(ad(N, 0), 3) + 3.0 * pow(ad(N, 0), 2) * a(N, 0) + 3.0 * ad(N, 0) * pow(a(N, 0), 2) +
                         pow(a(N, 0), 3);
  EXPECT_EQ(distance(pow(x, 3), nx3 + 3.0 * x), 0.0);
  // Adjoint: ((2+i) a0^dag^2 a1)^dag = (2-i) a1^dag a0^2; (PQ)^dag = Q^dag P^dag.
  const Polynomial P = cplx(2, 1) * pow(ad(N, 0), 2) * a(N, 1);
  EXPECT_EQ(distance(P.adjoint(), cplx(2, -1) * ad(N, 1) * pow(a(N, 0), 2)), 0.0);
  const Polynomial Q = a(N, 0) * ad(N, 1) + cplx(0, 3) * ad(N, 0);
  EXPECT_EQ(distance((P * Q).adjoint(), Q.adjoint() * P.adjoint()), 0.0);
  // Associativity on a triple product with contractions in both modes.
  EXPECT_EQ(distance((P * Q) * x, P * (Q * x)), 0.0);
}

TEST(BosonicPolynomial, ExtractInvertsToMatrix) {
  // A random polynomial of degree 3 in two modes -> exact Fock matrix (nmax = 6 = 2 x degree) -> polynomial.
  std::mt19937 rng(7);
  std::normal_distribution<double> nd;
  const int N = 2;
  Polynomial P(N);
  int count = 0;
  for (int p0 = 0; p0 <= 3; ++p0)
    for (int p1 = 0; p1 <= 3; ++p1)
      for (int q0 = 0; q0 <= 3; ++q0)
        for (int q1 = 0; q1 <= 3; ++q1)
          if (p0 + p1 + q0 + q1 <= 3) {
            P.add({p0, p1, q0, q1}, cplx(nd(rng), nd(rng)));
            ++count;
          }
  ASSERT_EQ(count, 35);
  const Space sp({make_boson("a", 6), make_boson("b", 6)});
  const Polynomial back = bosonic::extract_normal_ordered(bosonic::to_matrix(P, sp), sp, 3);
  // Least squares on matrix elements up to sqrt(3!)^2 = 6: rounding ~1e-15 relative; bound 1e-12.
  EXPECT_LT(distance(back, P), 1e-12);
  EXPECT_LT(distance(bosonic::extract_polynomial(bosonic::to_matrix(P, sp), sp), P), 1e-12);
}

TEST(BosonicPolynomial, ExtractFromTruncatedModelMatrices) {
  // The model's truncated products ((x_a - x_b)^3 built from truncated ladder matrices at nmax = 7) give
  // exactly the untruncated polynomial.
  const Model m = levy({});
  const int N = 2;
  const double W = (*m.parameter("omega") - *m.parameter("g")) / std::sqrt(8.0);
  const Polynomial xa = a(N, 0) + ad(N, 0), xb = a(N, 1) + ad(N, 1);
  const Polynomial V = W * pow(xa - xb, 3);
  const Polynomial got = bosonic::extract_polynomial(model_operator(m, "V_cubic"), m.space, "V_cubic");
  EXPECT_EQ(got.degree(), 3);
  EXPECT_LT(distance(got, V), 1e-12 * V.max_abs());  // rounding of the fit (entries up to ~10^3)
  // Eq. 29 in Levy's normal mode d_- = (b - a)/sqrt 2 (eq. 28, B3): V = -Omega (d_- + d_-^dag)^3, the
  // negative of eq. B9 (Omega = omega_- = (omega - g), and (x_a - x_b) = -sqrt 2 (d_- + d_-^dag)).
  const Polynomial dm = (a(N, 1) - a(N, 0)) * (1 / std::sqrt(2.0));
  const double Omega = *m.parameter("omega") - *m.parameter("g");
  EXPECT_LT(distance(got, -Omega * pow(dm + dm.adjoint(), 3)), 1e-12 * V.max_abs());
  const Polynomial H = bosonic::extract_polynomial(m.hamiltonian, m.space, "H");
  const double w = *m.parameter("omega"), g = *m.parameter("g"), e = *m.parameter("eps") / std::sqrt(2.0);
  const Polynomial Hx = w * (ad(N, 0) * a(N, 0) + ad(N, 1) * a(N, 1)) + g * (ad(N, 0) * a(N, 1) + a(N, 0) * ad(N, 1)) +
                        e * (xa + xb);
  EXPECT_LT(distance(H, Hx), 1e-12 * Hx.max_abs());
}

TEST(BosonicPolynomial, ExtractRejectsWhatItCannotRecover) {
  const Space sp({make_boson("a", 6), make_boson("b", 6)});
  auto rule = [](auto&& f) {
    try {
      f();
    } catch (const MethodError& e) {
      return e.rule();
    }
    return std::string("none");
  };
  // Not a polynomial: a projector on |2><2| of mode a.
  const cmat proj = sp.embed(0, local_ops::projector(7, 2, 2));
  EXPECT_EQ(rule([&] { (void)bosonic::extract_polynomial(proj, sp); }), "bosonic-not-polynomial");
  // Degree 4 polynomial with degree 3 requested.
  const cmat x4 = bosonic::to_matrix(pow(a(2, 0) + ad(2, 0), 4), sp);
  EXPECT_EQ(rule([&] { (void)bosonic::extract_normal_ordered(x4, sp, 3); }), "bosonic-not-polynomial");
  // nmax too small for the degree asked.
  EXPECT_EQ(rule([&] { (void)bosonic::extract_normal_ordered(x4, sp, 4); }), "bosonic-truncation");
  // A qubit site.
  const Space mixed({make_boson("a", 6), make_qubit("q")});
  EXPECT_EQ(rule([&] { (void)bosonic::extract_polynomial(mixed.identity(), mixed); }), "bosonic-space");
}

// ---- the quadratic Davies generator ----------------------------------------------------------------------

TEST(BosonicDavies, LevyEq30AndStationarity) {
  // Levy eq. 30: <a^dag a> = (1/4)(sum_{l,alpha} n_l^alpha + 2 (eps/omega_+)^2), Fig. 2 caption: 107.4.
  for (const auto& T : std::vector<std::pair<double, double>>{{2000, 2100}, {5, 6}, {50, 100}, {0, 0}}) {
    const Model m = levy({"Ta=" + std::to_string(T.first), "Tb=" + std::to_string(T.second)});
    const LevyParams p = levy_params(m);
    const ResponseResult r = untruncated(m, {"n_a"});
    const double eq30 = 0.5 * (p.nbar + p.nbar_plus) + 0.5 * std::pow(p.eps / p.wp, 2);
    // N_k = sum_a kappa n_a / sum_a kappa: the (common) kappa cancels, so eq. 30 holds to rounding.
    EXPECT_NEAR(r.observables0[0], eq30, 1e-12 * std::max(1.0, eq30)) << "T = " << T.first;
    if (T.first == 2000) {
      EXPECT_NEAR(r.observables0[0], 107.4, 0.05);  // the caption's rounded value
    }
  }
  // Stationarity: <L0^dag m> = 0 for every monomial of degree <= 4 (the Gaussian moments are those of
  // the steady state of this L0^dag); relative to the size of the terms, rounding only.
  const Model m = levy({});
  std::vector<bosonic::BathInput> in;
  for (const Bath& b : m.baths)
    in.push_back({b.name, b.coupling, bosonic::extract_polynomial(b.op, m.space), b.spectral, b.temperature});
  const bosonic::QuadraticDavies sys(bosonic::extract_polynomial(m.hamiltonian, m.space), in);
  const bosonic::PolynomialSpace P(2, 4);
  double worst = 0.0;
  for (const auto& k : P.keys()) {
    const Polynomial img = sys.adjoint_generator(Polynomial::monomial(2, k));
    Polynomial absimg(2);
    for (const auto& [key, c] : img.terms()) absimg.add(key, std::abs(c));
    const double scale = std::max(1.0, std::abs(sys.expectation(absimg)));
    worst = std::max(worst, std::abs(sys.expectation(img)) / scale);
  }
  EXPECT_LT(worst, 1e-13);
  // Normal modes: omega_- = 10, omega_+ = 190; damping gamma_k = kappa(omega_k); displacement of d_+.
  EXPECT_NEAR(sys.frequencies()(0), 10.0, 1e-12);
  EXPECT_NEAR(sys.frequencies()(1), 190.0, 1e-12);
  EXPECT_NEAR(sys.damping()(0), m.baths[0].spectral.kappa(10.0), 1e-12);
  EXPECT_NEAR(sys.damping()(1), m.baths[0].spectral.kappa(190.0), 1e-12);
  EXPECT_NEAR(std::abs(sys.displacement()(0)), 5.0 / 190.0 / std::sqrt(2.0), 1e-14);  // <a> = -eps/(sqrt2 omega_+)
}

TEST(BosonicDavies, TypedErrorsForUnsupportedModels) {
  auto rule = [](const std::vector<std::string>& sets) {
    try {
      const Model m = levy(sets);
      (void)untruncated(m, {"n_a"});
    } catch (const Error& e) {
      return e.rule();
    }
    return std::string("none");
  };
  EXPECT_EQ(rule({"g=0"}), "bosonic-degenerate-modes");    // omega_+ = omega_-
  EXPECT_EQ(rule({"nmax=5"}), "bosonic-not-polynomial");   // V_cubic needs nmax >= 6
  EXPECT_EQ(rule({"gamma=0"}), "bosonic-no-steady-state"); // no damping
  // Squeezing terms and a quadratic bath operator.
  const Space sp({make_boson("a", 6)});
  const cmat A = sp.embed(0, local_ops::annihilation(6)), Ad = A.adjoint();
  SpectralDensity J = flat(0.1);
  const Model sq = model(sp, Ad * A + 0.1 * (A * A + Ad * Ad), {bath(sp, "h", 1.0, CouplingKind::hermitian, "a", cmat(A + Ad), J)});
  auto rule_of = [](const Model& mm) {
    try {
      (void)bosonic_linear_response(mm, mm.hamiltonian, {});
    } catch (const Error& e) {
      return e.rule();
    }
    return std::string("none");
  };
  EXPECT_EQ(rule_of(sq), "bosonic-anomalous");
  const cmat x = A + Ad;
  EXPECT_EQ(rule_of(model(sp, 0.3 * x, {bath(sp, "h", 1.0, CouplingKind::hermitian, "a", x, J)})),
            "bosonic-zero-frequency");  // H = eps x: no Bohr frequency
  EXPECT_EQ(rule_of(model(sp, -1.0 * Ad * A, {bath(sp, "h", 1.0, CouplingKind::hermitian, "a", x, J)})),
            "bosonic-unstable");
  const Model quad = model(sp, Ad * A, {bath(sp, "h", 1.0, CouplingKind::hermitian, "a", cmat(Ad * A + A * Ad), J)});
  EXPECT_EQ(rule_of(quad), "bosonic-bath-operator");
}

// ---- Levy Sec. III B --------------------------------------------------------------------------------------

TEST(BosonicResponse, LevyEq31KuboIsExact) {
  // Phi^(1,1)(t) (eq. 33 of eq. 31) over temperature, including Fig. 2's T = 2000/2100 (n ~ 200).
  const std::vector<double> times = {0.0, 0.05, 0.3, 1.0, 2.5, 7.0, 30.0};
  for (double T : {5.0, 50.0, 500.0, 2000.0}) {
    const Model m = levy({"Ta=" + std::to_string(T), "Tb=" + std::to_string(T + 100)});
    const LevyParams p = levy_params(m);
    const ResponseResult r = untruncated(m, {"n_a"}, times);
    ASSERT_EQ(r.regime.name, "eigenvectors");
    const double scale = std::abs(levy_eq34_kubo(p));
    for (std::size_t i = 0; i < times.size(); ++i)
      // Matrix exponential of a 15 x 15 generator with |M t| up to ~6000: ~1e-12 relative; bound 1e-9.
      EXPECT_NEAR(r.observables_t[i][0].kubo, levy_phi11(p, times[i]), 1e-9 * scale) << "T " << T << " t " << times[i];
    EXPECT_NEAR(r.observables[0].kubo, levy_eq34_kubo(p), 1e-9 * scale) << "eq. 34, Kubo part, T " << T;
  }
}

TEST(BosonicResponse, LevyEq32And34DissipatorPartAsPrintedIsWrong) {
  // The dissipator part phi^(1,2): the numerics (exact for the model) agree with eq. 32 with its factor
  // (n - 1) replaced by -1, i.e. phi^(1,2) = -(3 eps gamma / 2 omega_+)(2n + 1) cos(omega_- t) e^{-gamma t/2},
  // at every temperature; the printed form agrees only at n = 0 (eq. 35). The total steady response is
  // -3 (eps/omega_+)(2n + 1) for every gamma: with V_diag = 0 and no frequency-w part of [W, S], the perturbed
  // generator is U L~ U^dag with L~ the unperturbed one, so pi(delta) = U pi0 U^dag and
  // d<A>/d delta = -<[W, A]> = -3 (eps/omega_+)(2n + 1).
  const std::vector<double> times = {0.1, 0.7, 3.0, 12.0};
  for (const double gam : {1.0, 4.0}) {
    for (double T : {0.0, 5.0, 50.0, 2000.0}) {
      const double Tb = T == 0.0 ? 0.0 : T + 100;  // 2000/2100: Fig. 2
      const Model m = levy({"gamma=" + std::to_string(gam), "Ta=" + std::to_string(T), "Tb=" + std::to_string(Tb)});
      const LevyParams p = levy_params(m);
      const ResponseResult r = untruncated(m, {"n_a"}, times);
      const double scale = 3 * p.eps / p.wp * (2 * p.nbar + 1);
      for (std::size_t i = 0; i < times.size(); ++i) {
        EXPECT_NEAR(r.observables_t[i][0].dissipator, levy_phi12_corrected(p, times[i]), 1e-9 * scale);
        // printed eq. 32 = (1 - n) x the numerics at every t
        EXPECT_NEAR(levy_phi12_printed(p, times[i]), (1 - p.nbar) * r.observables_t[i][0].dissipator,
                    1e-9 * scale * (1 + p.nbar));
      }
      const double corrected_inf = -scale * p.gm * p.gm / (p.gm * p.gm + 4 * p.wm * p.wm);
      EXPECT_NEAR(r.observables[0].dissipator, corrected_inf, 1e-9 * scale);
      EXPECT_NEAR(r.observables[0].total, -scale, 1e-9 * scale);  // gamma-independent
      const double printed = levy_eq34_dissipator_printed(p);
      if (T == 0.0)
        EXPECT_NEAR(printed, r.observables[0].dissipator, 1e-9 * scale);  // eq. 35 holds
      else  // printed / true = (n - 1)/(-1) = 1 - n: 0.84 at T = 5 ... -203 at T = 2000
        EXPECT_NEAR(printed / r.observables[0].dissipator, 1.0 - p.nbar, 1e-8 * (1 + p.nbar));
      if (T == 2000.0 && gam == 1.0) {
        // Fig. 2 numbers (n_- = 204.5): Phi^(1,1)(inf) = -32.29, Phi^(1,2)(inf) = -0.0807 (printed eq. 34:
        // +16.43), so delta (Phi11 + Phi12) = -0.647 at delta = 0.02 (printed: -0.317).
        EXPECT_NEAR(r.observables[0].kubo, -32.29, 0.01);
        EXPECT_NEAR(r.observables[0].dissipator, -0.0807, 0.0001);
        EXPECT_NEAR(printed, 16.43, 0.01);
        EXPECT_NEAR(0.02 * r.observables[0].total, -0.6474, 0.0001);
      }
    }
  }
}

// Dense truncated model for the comparisons, gamma comparable to omega_- so that the dissipator part is
// not negligible (gamma^2 / (gamma^2 + 4 omega_-^2) = 0.06 at gamma = 5). The dense engine is limited to
// d <= 48 (nmax <= 5) and builds its superoperators by dense d^2 x d^2 products (minutes already at
// d = 25), so it runs at nmax = 2 and 3 (d = 9, 16). Truncation: V|n> reaches n + 3, so nmax = 3 is exact
// only for the ground state: at T = 2 (n_- = 0.012) the Kubo/dissipator split of the dense engine is off
// by 2% / 36% (measured, eps = 5), converging slowly in nmax; at T = 0 (displaced ground state,
// beta = eps/omega_+ = 0.026) it agrees to ~1e-6 (measured), which is what this test checks.
std::vector<std::string> zero_t(int nmax) {
  return {"gamma=5", "eps=5", "Ta=0", "Tb=0", "nmax=" + std::to_string(nmax)};
}

TEST(BosonicResponse, MatchesTruncatedDenseEngineAtZeroTemperature) {
  const std::vector<double> times = {0.1, 0.6};
  ResponseOptions o;
  o.times = times;
  const ResponseResult u = untruncated(levy(zero_t(7)), {"n_a", "adag(b)*a(b)"}, times, +1.0);
  std::vector<ResponseResult> dense;
  for (int nmax : {2, 3}) {
    const Model m = levy(zero_t(nmax));
    dense.push_back(linear_response(m, model_operator(m, "V_cubic"),
                                    {model_operator(m, "n_a"), model_operator(m, "adag(b)*a(b)")}, o));
  }
  const ResponseResult& d3 = dense[1];
  ASSERT_EQ(d3.regime.name, "eigenvectors");
  double worst = 0.0, worst_step = 0.0;  // measured max |u - d3| / scale and |d3 - d2| / scale
  const double scale = std::abs(u.observables[0].total);
  auto near = [&](const char* what, double x, double y3, double y2) {
    // Bound 1e-5 x the response scale: measured deviation ~1e-6 (displacement truncation), 10x margin.
    EXPECT_NEAR(x, y3, 1e-5 * scale) << what;
    worst = std::max(worst, std::abs(x - y3) / scale);
    worst_step = std::max(worst_step, std::abs(y3 - y2) / scale);
  };
  auto check = [&](const char* what, const ResponseParts& x, const ResponseParts& y3, const ResponseParts& y2) {
    near(what, x.kubo, y3.kubo, y2.kubo);
    near(what, x.dissipator, y3.dissipator, y2.dissipator);
    near(what, x.total, y3.total, y2.total);
  };
  for (std::size_t k = 0; k < 2; ++k) {
    check("observable", u.observables[k], d3.observables[k], dense[0].observables[k]);
    for (std::size_t i = 0; i < times.size(); ++i)
      check("series", u.observables_t[i][k], d3.observables_t[i][k], dense[0].observables_t[i][k]);
  }
  for (std::size_t b = 0; b < 2; ++b) {
    // J0 = 0 at T = 0; the dense engine's rounding leaves ~1e-11 (sums of terms ~ kappa omega ~ 1e3).
    EXPECT_NEAR(u.currents0[b], d3.currents0[b], 1e-10);
    check("current", u.currents[b], d3.currents[b], dense[0].currents[b]);
  }
  std::cout << "untruncated vs dense (T = 0): max |u - d(nmax=3)| = " << worst << " x scale; |d3 - d2| = " << worst_step
            << " x scale (scale " << scale << ")\n";
  // At n = 0 the printed and corrected eq. 34 agree (eq. 35); the dense engine reproduces the dissipator part.
  const LevyParams p = levy_params(levy(zero_t(7)));
  EXPECT_NEAR(-levy_eq34_dissipator_printed(p), d3.observables[0].dissipator, 1e-5 * scale);  // V_cubic = -(B9)
}

TEST(BosonicResponse, MatchesFiniteDifferencesOfTheFixedFrequencyGenerator) {
  // Independent of both engines' L1: the steady state of the Davies generator built on the exact
  // eigenprojectors of H0 + delta V at the unperturbed Bohr frequencies (qheat::perturbed_steady_state),
  // central difference at delta = +-1e-4 (O(delta^2) error ~1e-8 relative), truncated at nmax = 3, T = 0.
  const Model m = levy(zero_t(3));
  const cmat V = model_operator(m, "V_cubic");
  const std::vector<cmat> A = {model_operator(m, "n_a")};
  const double h = 1e-4;
  const auto plus = perturbed_steady_state(m, V, h, PerturbedKind::fixed_frequencies, A);
  const auto minus = perturbed_steady_state(m, V, -h, PerturbedKind::fixed_frequencies, A);
  const double fd = (plus.observables[0] - minus.observables[0]) / (2 * h);
  const ResponseResult u = untruncated(levy(zero_t(7)), {"n_a"}, {}, +1.0);
  // Truncation (previous test, ~1e-6) and O(h^2): bound 1e-5 relative.
  EXPECT_NEAR(u.observables[0].total, fd, 1e-5 * std::abs(fd));
  // Heat currents: exactly unchanged at first order (pi(delta) = U pi0 U^dag, docs/response-bosonic.md).
  // At T = 0 the currents and their responses vanish: untruncated to rounding (1e-10 absolute; terms ~1e3),
  // the central difference to its round-off ~1e-12 / h = 1e-8 (measured 2.5e-8; bound 1e-7).
  for (std::size_t b = 0; b < 2; ++b) {
    const double fdJ = (plus.currents[b] - minus.currents[b]) / (2 * h);
    EXPECT_NEAR(u.currents[b].total, 0.0, 1e-10);
    EXPECT_NEAR(fdJ, 0.0, 1e-7);
  }
}

TEST(BosonicResponse, EigenvalueRegimeKeepsOnlyTheKuboPart) {
  // V = n_a has a zero-frequency part (n_+ + n_-)/2 in normal modes: first-order Bohr shifts 1/2.
  const Model m = levy({"Ta=5", "Tb=8"});
  ResponseOptions o;
  const ResponseResult r = bosonic_linear_response(m, model_operator(m, "n_a"), {model_operator(m, "n_a")}, o);
  EXPECT_EQ(r.regime.name, "eigenvalues");
  EXPECT_NEAR(r.regime.bohr_shift, 0.5, 1e-12);
  EXPECT_EQ(r.observables[0].dissipator, 0.0);
  EXPECT_NEAR(r.regime.delta_local_max, 0.1 * r.regime.relaxation_rate / 0.5, 1e-15);
}

TEST(BosonicResponse, LevyFigureTwoParametersAtHighTemperature) {
  // The file's defaults (T = 2000/2100, nmax = 7 only for the extraction): n_- ~ 204.5, far beyond any
  // truncation. Unperturbed currents: hot bath b into the system, first law to rounding.
  const Model m = levy({});
  const ResponseResult r = untruncated(m, {"n_a"});
  EXPECT_EQ(r.regime.name, "eigenvectors");
  EXPECT_NEAR(r.regime.relaxation_rate, 0.5 * m.baths[0].spectral.kappa(10.0), 1e-12);
  EXPECT_GT(r.currents0[1], 0.0);
  EXPECT_NEAR(r.currents0[0] + r.currents0[1], 0.0, 1e-10 * std::abs(r.currents0[1]));
  // dJ/d delta = 0 exactly (pi(delta) = U pi0 U^dag and V_diag = 0, docs/response-bosonic.md); the parts
  // cancel (Kubo = -dissipator); rounding relative to J0 (sums of terms ~ kappa n omega ~ 1e5 here).
  for (std::size_t b = 0; b < 2; ++b) {
    EXPECT_NEAR(r.currents[b].total, 0.0, 1e-9 * std::abs(r.currents0[b])) << r.currents[b].kubo;
    EXPECT_NEAR(r.currents[b].kubo, -r.currents[b].dissipator, 1e-9 * std::abs(r.currents0[b]));
  }
  // Relaxation rate: min_k gamma_k / 2 is the smallest |Re lambda| of the nonzero spectrum of L0^dag on
  // polynomials of degree <= 2 (eigenvalues -sum_k gamma_k (p_k + q_k)/2 + i nu).
  std::vector<bosonic::BathInput> in;
  for (const Bath& b : m.baths)
    in.push_back({b.name, b.coupling, bosonic::extract_polynomial(b.op, m.space), b.spectral, b.temperature});
  const bosonic::QuadraticDavies sys(bosonic::extract_polynomial(m.hamiltonian, m.space), in);
  const Eigen::ComplexEigenSolver<cmat> es(bosonic::PolynomialSpace(2, 2).matrix(sys));
  double gap = 1e300;
  for (long i = 0; i < es.eigenvalues().size(); ++i)
    if (std::abs(es.eigenvalues()(i)) > 1e-9) gap = std::min(gap, std::abs(es.eigenvalues()(i).real()));
  EXPECT_NEAR(gap, r.regime.relaxation_rate, 1e-9 * gap);
}

}  // namespace
}  // namespace qheat::test
