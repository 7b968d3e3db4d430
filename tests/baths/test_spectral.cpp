// Spectral densities, Bose function, thermal rates and Lamb-shift functions (src/baths/spectral.cpp,
// derivations in docs/lamb-shift.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/math/quadrature/exp_sinh.hpp>
#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/expint.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <complex>
#include <limits>
#include <numbers>
#include <optional>
#include <vector>

#include "qheat/baths/spectral.hpp"
#include "qheat/core/types.hpp"

namespace {

using qheat::LambShiftParts;
using qheat::SpectralDensity;
using qheat::SpectralKind;

constexpr double kPi = std::numbers::pi;
constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr double kEuler = std::numbers::egamma;
// Reference constants (DLMF 6.6, A&S table 5.1): Ei(1), E1(1).
constexpr double kEi1 = 1.8951178163559367555;
constexpr double kE1of1 = 0.21938393439552027368;

SpectralDensity drude(double gamma, double wc) {
  SpectralDensity J;
  J.kind = SpectralKind::ohmic_drude;
  J.gamma = gamma;
  J.cutoff = wc;
  return J;
}
SpectralDensity ohmic_exp(double gamma, double wc) {
  SpectralDensity J;
  J.kind = SpectralKind::ohmic_exp;
  J.gamma = gamma;
  J.cutoff = wc;
  return J;
}
SpectralDensity power_law(double gamma, double wc, double s) {
  SpectralDensity J;
  J.kind = SpectralKind::power_law;
  J.gamma = gamma;
  J.cutoff = wc;
  J.s = s;
  return J;
}
SpectralDensity flat(double gamma) {
  SpectralDensity J;
  J.kind = SpectralKind::flat;
  J.gamma = gamma;
  return J;
}
SpectralDensity table(std::vector<double> w, std::vector<double> k) {
  SpectralDensity J;
  J.kind = SpectralKind::tabulated;
  J.table_w = std::move(w);
  J.table_kappa = std::move(k);
  return J;
}

// |a - b| <= rel * max(|b|, scale): relative error, with `scale` the natural size of the quantity
// where it passes through zero (a relative error is meaningless at a sign change).
::testing::AssertionResult close(double a, double b, double rel, double scale = 0.0) {
  const double bound = rel * std::max(std::abs(b), scale);
  if (std::abs(a - b) <= bound) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << a << " vs " << b << ": |diff| = " << std::abs(a - b)
                                       << " > " << bound;
}

template <class Fn>
void expect_rule(Fn fn, const std::string& rule) {
  try {
    fn();
    ADD_FAILURE() << "expected a qheat::Error with rule " << rule;
  } catch (const qheat::Error& e) {
    EXPECT_EQ(e.rule(), rule) << e.what();
  }
}

// ---- kappa ----------------------------------------------------------------------------------------

TEST(SpectralKappa, ClosedShapes) {
  const double g = 0.02, wc = 50.0;
  // 1e-15: a couple of roundings in a product of elementary functions.
  EXPECT_TRUE(close(drude(g, wc).kappa(wc), 0.5 * g * wc, 1e-15));
  EXPECT_TRUE(close(drude(g, wc).kappa(1e200), g * wc * wc / 1e200, 1e-15));  // no overflow of (w/wc)^2
  EXPECT_TRUE(close(ohmic_exp(0.3, 2.0).kappa(2.0), 0.3 * 2.0 * std::exp(-1.0), 1e-15));
  EXPECT_TRUE(close(power_law(0.3, 2.0, 1.0).kappa(1.7), ohmic_exp(0.3, 2.0).kappa(1.7), 1e-15));
  EXPECT_TRUE(close(power_law(0.3, 2.0, 2.0).kappa(3.0), 0.3 * 9.0 / 2.0 * std::exp(-1.5), 1e-15));
  EXPECT_EQ(flat(0.7).kappa(123.0), 0.7);
  for (const auto& J : {drude(g, wc), ohmic_exp(g, wc), power_law(g, wc, 0.5), flat(g),
                        table({0.0, 1.0, 2.0}, {0.0, 1.0, 0.0})}) {
    EXPECT_EQ(J.kappa(0.0), 0.0) << J.describe();
    EXPECT_EQ(J.kappa(-1.0), 0.0) << J.describe();
    EXPECT_FALSE(J.describe().empty());
  }
  EXPECT_NE(drude(g, wc).describe().find("Drude"), std::string::npos);
}

TEST(SpectralKappa, Validation) {
  expect_rule([] { qheat::validate_spectral_density(drude(-1.0, 1.0)); }, "spectral-density");
  expect_rule([] { qheat::validate_spectral_density(ohmic_exp(1.0, 0.0)); }, "spectral-density");
  expect_rule([] { qheat::validate_spectral_density(power_law(1.0, 1.0, 0.0)); }, "spectral-density");
  expect_rule([] { qheat::validate_spectral_density(table({0.0, 2.0, 1.0}, {0.0, 1.0, 0.0})); },
              "spectral-density");
  expect_rule([] { qheat::validate_spectral_density(table({0.0, 1.0}, {0.0, -1.0})); }, "spectral-density");
  expect_rule([] { qheat::validate_spectral_density(table({0.0, 1.0}, {0.0})); }, "spectral-density");
  expect_rule([] { (void)qheat::bose(1.0, -1.0); }, "bath-temperature");
  EXPECT_NO_THROW(qheat::validate_spectral_density(drude(0.02, 50.0)));
}

// ---- tabulated: monotone cubic ------------------------------------------------------------------

TEST(SpectralTable, ReproducesNodesAndIsZeroOutside) {
  const std::vector<double> w{0.5, 0.7, 1.9, 2.0, 4.5, 9.0};
  const std::vector<double> k{0.3, 2.0, 0.1, 0.1, 5.0, 1.0};
  const auto J = table(w, k);
  for (std::size_t i = 0; i < w.size(); ++i) EXPECT_EQ(J.kappa(w[i]), k[i]);  // exact at nodes
  EXPECT_EQ(J.kappa(0.5 - 1e-9), 0.0);
  EXPECT_EQ(J.kappa(9.0 + 1e-9), 0.0);
}

TEST(SpectralTable, HandComputedValue) {
  // Nodes (0,0),(1,1),(2,1),(3,0): secants 1, 0, -1 -> interior slopes 0 (sign change / zero secant),
  // end slope ((2h0+h1) m0 - h0 m1)/(h0+h1) = 3/2. Hermite cubic at 0.5: 1.5 * h10(1/2) + h01(1/2)
  // = 1.5/8 + 1/2 = 0.6875.
  const auto J = table({0.0, 1.0, 2.0, 3.0}, {0.0, 1.0, 1.0, 0.0});
  EXPECT_TRUE(close(J.kappa(0.5), 0.6875, 1e-15));  // 1e-15: rounding of a cubic polynomial
  EXPECT_TRUE(close(J.kappa(1.5), 1.0, 1e-15));     // flat between equal nodes with zero slopes
}

TEST(SpectralTable, MonotoneBetweenMonotoneDataAndNonNegative) {
  const auto J = table({0.0, 0.5, 0.6, 2.0, 5.0, 5.1}, {0.0, 0.1, 2.0, 2.1, 7.0, 7.0});
  double prev = 0.0;
  for (int i = 0; i <= 20000; ++i) {
    const double x = 5.1 * i / 20000.0;
    const double v = J.kappa(x);
    EXPECT_GE(v, prev * (1.0 - 4e-16)) << "x = " << x;  // never decreases (up to an ulp of rounding)
    EXPECT_LE(v, 7.0);
    prev = v;
  }
  const auto Z = table({0.0, 1.0, 2.0, 3.0, 4.0, 5.0}, {0.0, 3.0, 0.0, 0.0, 4.0, 0.0});
  for (int i = 0; i <= 5000; ++i) {
    const double x = 5.0 * i / 5000.0;
    EXPECT_GE(Z.kappa(x), 0.0);
    if (x > 2.0 && x < 3.0) {
      EXPECT_EQ(Z.kappa(x), 0.0);  // zero data with zero slopes stays zero
    }
  }
  // Linear data: harmonic-mean and three-point end slopes are exact, so is the interpolant.
  const auto L = table({0.0, 0.3, 1.0, 2.5, 3.0}, {0.0, 0.3, 1.0, 2.5, 3.0});
  for (double x : {0.1, 0.77, 1.9, 2.99}) EXPECT_TRUE(close(L.kappa(x), x, 1e-15));  // rounding only
}

// ---- Bose function and thermal rates --------------------------------------------------------------

TEST(SpectralBose, EdgeCases) {
  EXPECT_EQ(qheat::bose(1.0, 0.0), 0.0);
  EXPECT_EQ(qheat::bose(-1.0, 0.0), -1.0);
  EXPECT_EQ(qheat::bose(0.0, 0.0), 0.0);
  EXPECT_TRUE(std::isinf(qheat::bose(0.0, 1.0)) && qheat::bose(0.0, 1.0) > 0.0);
  // Small x: n = 1/x - 1/2 + x/12; 1e-15: expm1 is correctly rounded to an ulp or two.
  EXPECT_TRUE(close(qheat::bose(1e-10, 1.0), 1e10 - 0.5, 1e-15));
  EXPECT_TRUE(close(qheat::bose(50.0, 1.0), std::exp(-50.0) / (1.0 - std::exp(-50.0)), 1e-14));
  EXPECT_EQ(qheat::bose(1e308, 1e-308), 0.0);  // w/T overflows: no NaN
  EXPECT_EQ(qheat::bose(800.0, 1.0), 0.0);     // e^800 overflows: no NaN
  EXPECT_EQ(qheat::bose(-1e308, 1e-308), -1.0);
  EXPECT_FALSE(std::isnan(qheat::bose(1e-320, 1.0)));
  for (double w : {1e-6, 0.3, 2.0, 30.0})  // n(-w) = -1 - n(w); 1e-14: two expm1 roundings
    EXPECT_TRUE(close(qheat::bose(-w, 1.3), -1.0 - qheat::bose(w, 1.3), 1e-14));
}

TEST(SpectralRates, KmsAndDetailedBalance) {
  const double T = 0.8;
  for (const auto& J : {drude(0.02, 5.0), ohmic_exp(0.1, 2.0), power_law(0.1, 2.0, 2.5),
                        table({0.0, 1.0, 2.0, 4.0}, {0.0, 0.5, 0.4, 0.0})}) {
    for (double w : {1e-5, 0.1, 0.9, 3.0, 7.0}) {
      const double up = qheat::kappa_thermal(J, T, w);
      const double down = qheat::kappa_thermal(J, T, -w);
      // KMS: kappa~(-w) = e^{-w/T} kappa~(w); 1e-14: a few roundings in expm1/exp.
      EXPECT_TRUE(close(down, std::exp(-w / T) * up, 1e-14)) << J.describe() << " w=" << w;
      // kappa_+(w) - kappa_-(-w) = kappa(w) (1 + n - n): the difference cancels kappa n, so the error is a
      // few ulps of kappa_+ (1e-15 of it), not of kappa.
      EXPECT_TRUE(close(qheat::kappa_emission(J, T, w) - qheat::kappa_absorption(J, T, -w), J.kappa(w), 1e-15,
                        qheat::kappa_emission(J, T, w)));
      EXPECT_EQ(qheat::kappa_emission(J, T, -w), 0.0);
      EXPECT_EQ(qheat::kappa_absorption(J, T, w), 0.0);
    }
  }
}

TEST(SpectralRates, ZeroFrequencyLimits) {
  const auto J = drude(0.02, 50.0);
  const double T = 3.0;
  // Ohmic: kappa n -> gamma T; kappa~ continuous through 0; each one-sided part takes half (the
  // symmetric limit, docs/lamb-shift.md).
  EXPECT_DOUBLE_EQ(qheat::kappa_thermal(J, T, 0.0), 0.02 * T);
  EXPECT_DOUBLE_EQ(qheat::kappa_emission(J, T, 0.0), 0.01 * T);
  EXPECT_DOUBLE_EQ(qheat::kappa_absorption(J, T, 0.0), 0.01 * T);
  // 1e-9: kappa~(w) = gamma T (1 + O(w/T)) at w = 1e-9.
  EXPECT_TRUE(close(qheat::kappa_thermal(J, T, 1e-9), 0.02 * T, 1e-9));
  EXPECT_TRUE(close(qheat::kappa_thermal(J, T, -1e-9), 0.02 * T, 1e-9));
  EXPECT_TRUE(close(qheat::kappa_thermal(J, T, 1e-320), 0.02 * T, 1e-15));  // no 0 * inf
  EXPECT_EQ(qheat::kappa_thermal(J, 0.0, 0.0), 0.0);
  EXPECT_EQ(qheat::kappa_thermal(power_law(1.0, 1.0, 2.0), T, 0.0), 0.0);
  // Flat at T = 0: the jump of kappa~ from gamma (w > 0) to 0 (w < 0) takes its midpoint.
  EXPECT_DOUBLE_EQ(qheat::kappa_thermal(flat(0.4), 0.0, 0.0), 0.2);
  expect_rule([] { (void)qheat::kappa_thermal(flat(0.4), 1.0, 0.0); }, "zero-frequency-rate");
  expect_rule([] { (void)qheat::kappa_emission(power_law(1.0, 1.0, 0.5), 1.0, 0.0); }, "zero-frequency-rate");
  expect_rule([] { (void)qheat::kappa_absorption(table({0.0, 1.0}, {1.0, 0.0}), 1.0, 0.0); },
              "zero-frequency-rate");
  EXPECT_FALSE(std::isnan(qheat::kappa_thermal(J, 1e-300, 1e300)));
}

// ---- special functions ------------------------------------------------------------------------------

TEST(SpectralSpecial, ComplexDigamma) {
  using qheat::detail::digamma;
  // 2e-15: Boost's real digamma and ours each carry ~1 ulp; reflection adds a cot evaluation.
  for (double x : {0.1, 0.5, 1.0, 2.5, 11.9, 12.1, 100.0, -0.5, -3.3})
    EXPECT_TRUE(close(digamma({x, 0.0}).real(), boost::math::digamma(x), 2e-15, 1.0)) << x;
  for (double y : {0.01, 0.5, 3.0, 11.99, 12.01, 40.0}) {
    const std::complex<double> p = digamma({1.0, y});
    // Im psi(1+iy) = -1/(2y) + (pi/2) coth(pi y)  (DLMF 5.4.18); 1e-14 of the size 1/(2y) of the two
    // terms that cancel in the reference at small y.
    EXPECT_TRUE(close(p.imag(), -0.5 / y + 0.5 * kPi / std::tanh(kPi * y), 1e-14, 0.5 / y)) << y;
    // Re psi(1+iy) = -gamma_E + y^2 sum_n 1/(n (n^2 + y^2))  (DLMF 5.15.1 summed); tail by midpoint rule.
    const int N = 200000;
    double s = 0.0;
    for (int n = N; n >= 1; --n) s += 1.0 / (n * (static_cast<double>(n) * n + y * y));
    s += 0.5 / ((N + 0.5) * (N + 0.5));
    // 1e-13: the reference sum of 2e5 terms accumulates ~1e-15 relative rounding, tail error 1e-22.
    EXPECT_TRUE(close(p.real(), -kEuler + y * y * s, 1e-13, 1.0)) << y;
  }
  for (std::complex<double> z : {std::complex<double>(0.3, 2.0), {5.0, -7.0}, {-2.4, 0.7}}) {
    // psi(z + 1) = psi(z) + 1/z; 1e-14: recurrence vs two independent series evaluations.
    EXPECT_LT(std::abs(digamma(z + 1.0) - digamma(z) - 1.0 / z), 1e-14 * std::abs(digamma(z + 1.0)) + 1e-14);
  }
}

TEST(SpectralSpecial, ScaledExponentialIntegral) {
  // 2e-14: Boost's Ei/E1 are good to a few ulps; multiplying by e^{-y} adds one more rounding.
  for (double y : {-700.0, -50.0, -41.0, -39.0, -5.0, -1.0, -0.3, -1e-8, 1e-8, 0.3725, 1.0, 10.0, 39.9, 40.1,
                   100.0, 600.0})
    EXPECT_TRUE(close(qheat::detail::exp_ei(y), std::exp(-y) * boost::math::expint(y), 2e-14)) << y;
  EXPECT_TRUE(close(qheat::detail::exp_ei(1.0), kEi1 / std::numbers::e, 2e-15));  // 2e-15: one division
  EXPECT_TRUE(std::isfinite(qheat::detail::exp_ei(1e6)) && std::isfinite(qheat::detail::exp_ei(-1e6)));
}

// ---- Lamb shift: hand-derived values --------------------------------------------------------------

TEST(SpectralLambShift, HandDerivedValues) {
  const double g = 0.02, wc = 50.0;
  // Drude at T = 0: S(w) = g wc/(1+r^2) [-1/4 + r ln|r|/2pi]: S(0) = -g wc/4, S(+-wc) = -g wc/8.
  // 1e-15: closed form; 1e-10: the quadrature requirement.
  EXPECT_TRUE(close(qheat::lamb_shift(drude(g, wc), 0.0, 0.0).total(), -g * wc / 4.0, 1e-15));
  EXPECT_TRUE(close(qheat::lamb_shift(drude(g, wc), 0.0, wc).total(), -g * wc / 8.0, 1e-15));
  EXPECT_TRUE(close(qheat::lamb_shift(drude(g, wc), 0.0, -wc).total(), -g * wc / 8.0, 1e-15));
  EXPECT_TRUE(close(qheat::lamb_shift_quadrature(drude(g, wc), 0.0, wc).total(), -g * wc / 8.0, 1e-10));
  EXPECT_TRUE(close(qheat::lamb_shift_quadrature(drude(g, wc), 0.0, -wc).total(), -g * wc / 8.0, 1e-10));
  // S(0) = -(1/2pi) int kappa/x is temperature independent: Drude -g wc/4 at any T.
  EXPECT_TRUE(close(qheat::lamb_shift_quadrature(drude(g, wc), 7.0, 0.0).total(), -g * wc / 4.0, 1e-10));
  EXPECT_TRUE(close(qheat::lamb_shift_total(drude(g, wc), 7.0, 0.0), -g * wc / 4.0, 1e-15));

  // Exponential cutoff at T = 0: S = (g a/2pi)[y e^{-y} Ei(y) - 1], y = w/a; S(0) = -g a/2pi,
  // S(a) = (g a/2pi)(Ei(1)/e - 1), S(-a) = (g a/2pi)(e E1(1) - 1).
  const double a = 2.0, ge = 0.3;
  const double unit = ge * a / kTwoPi;
  for (const auto& S : {+[](const SpectralDensity& J, double T, double w) { return qheat::lamb_shift(J, T, w); },
                        +[](const SpectralDensity& J, double T, double w) {
                          return qheat::lamb_shift_quadrature(J, T, w);
                        }}) {
    EXPECT_TRUE(close(S(ohmic_exp(ge, a), 0.0, 0.0).total(), -unit, 1e-10));
    EXPECT_TRUE(close(S(ohmic_exp(ge, a), 0.0, a).total(), unit * (kEi1 / std::numbers::e - 1.0), 1e-10));
    EXPECT_TRUE(close(S(ohmic_exp(ge, a), 0.0, -a).total(), unit * (std::numbers::e * kE1of1 - 1.0), 1e-10));
    // S(0) is T independent for the exponential cutoff too.
    EXPECT_TRUE(close(S(ohmic_exp(ge, a), 1.3, 0.0).total(), -unit, 1e-10));
  }
  // Power law s = 2 at T = 0: S = (g a/2pi)[-1 - y + y^2 e^{-y} Ei(y)]; at y = 1: Ei(1)/e - 2.
  EXPECT_TRUE(close(qheat::lamb_shift(power_law(ge, a, 2.0), 0.0, a).total(), unit * (kEi1 / std::numbers::e - 2.0),
                    1e-10));
  // Power law: S(0) = -(g a/2pi) Gamma(s) at every T.
  for (double s : {0.5, 1.7, 3.0})
    for (double T : {0.0, 0.4})
      EXPECT_TRUE(close(qheat::lamb_shift(power_law(ge, a, s), T, 0.0).total(), -unit * std::tgamma(s), 1e-10))
          << "s=" << s << " T=" << T;
  // Linear ramp table kappa = x on [0, 3] (reproduced exactly by the interpolant) at T = 0:
  // S(w) = (1/2pi)[-3 + w ln|w/(w-3)|].
  const auto ramp = table({0.0, 1.0, 2.0, 3.0}, {0.0, 1.0, 2.0, 3.0});
  for (double w : {-2.0, -1e-4, 0.0, 1.0, 2.9, 5.0}) {
    const double ref = (-3.0 + (w == 0.0 ? 0.0 : w * std::log(std::abs(w / (w - 3.0))))) / kTwoPi;
    EXPECT_TRUE(close(qheat::lamb_shift(ramp, 0.0, w).total(), ref, 1e-10)) << "w=" << w;
  }
  EXPECT_TRUE(close(qheat::lamb_shift_total(ramp, 0.6, 0.0), -3.0 / kTwoPi, 1e-10));
}

TEST(SpectralLambShift, DrudeHighTemperatureExpansion) {
  // kappa~ -> kappa_o/2 + g wc^2 T/(x^2+wc^2) + g wc^2 x^2/(12 T (x^2+wc^2)) from coth z = 1/z + z/3:
  // Hilbert transforms of the Lorentzians give S ~ g wc/(1+r^2) [-1/4 + r T/(2 wc) - r wc/(24 T)], with
  // a remainder ~ zeta(3) g wc r (wc/2pi T)^2 (docs/lamb-shift.md).
  const double g = 0.02, wc = 50.0, T = 1e4 * wc;
  for (double w : {-120.0, -7.0, 3.0, 50.0, 120.0}) {
    const double r = w / wc;
    const double ref = g * wc / (1.0 + r * r) * (-0.25 + r * T / (2.0 * wc) - r * wc / (24.0 * T));
    // 1e-12: the neglected term is zeta(3) wc (wc^2 + w^2)/(4 pi^3 T^3) ~ 6e-14 of the leading one; the
    // tested 1/T term is 8e-10 of it, so it is checked to ~0.1%.
    EXPECT_TRUE(close(qheat::lamb_shift_total(drude(g, wc), T, w), ref, 1e-12)) << w;
  }
}

// ---- Lamb shift: closed forms against quadrature --------------------------------------------------

void compare_to_quadrature(const SpectralDensity& J, const std::vector<double>& ws, const std::vector<double>& Ts,
                           double scale) {
  for (double T : Ts) {
    for (double w : ws) {
      const LambShiftParts c = qheat::lamb_shift(J, T, w);
      const LambShiftParts q = qheat::lamb_shift_quadrature(J, T, w);
      const double t = qheat::lamb_shift_total(J, T, w);
      // 1e-10: the required accuracy; parts are relative to their own size (they carry
      // ~ gamma T ln(T/|w|) that cancels in the sum), the sum relative to |S| or |S(0)|.
      const double part_scale = std::max({scale, std::abs(q.emission), std::abs(q.absorption)});
      EXPECT_TRUE(close(c.emission, q.emission, 1e-10, part_scale)) << J.describe() << " T=" << T << " w=" << w;
      EXPECT_TRUE(close(c.absorption, q.absorption, 1e-10, part_scale)) << J.describe() << " T=" << T << " w=" << w;
      EXPECT_TRUE(close(t, q.total(), 1e-10, scale)) << J.describe() << " T=" << T << " w=" << w;
      EXPECT_TRUE(close(c.total(), t, 1e-10, scale)) << J.describe() << " T=" << T << " w=" << w;
    }
  }
}

std::vector<double> frequency_grid(double wc) {
  std::vector<double> out;
  for (double r : {-100.0, -10.0, -2.4, -1.0, -0.15, -0.02, -1e-4, -1e-9, 0.0, 1e-9, 1e-4, 0.02, 0.15, 0.9999, 1.0,
                   1.0001, 2.4, 10.0, 100.0})
    out.push_back(r * wc);
  return out;
}

TEST(SpectralLambShift, DrudeClosedFormMatchesQuadrature) {
  // Zhang et al.'s bath (kappa = 2 J, omega_D = 50) and a cutoff comparable to T.
  compare_to_quadrature(drude(0.02, 50.0), frequency_grid(50.0), {0.0, 0.05, 5.0, 60.0, 1000.0}, 0.02 * 50.0 / 4.0);
  compare_to_quadrature(drude(1.0, 1.0), frequency_grid(1.0), {0.0, 1e-3, 0.3, 2.0, 20.0}, 0.25);
}

TEST(SpectralLambShift, ExponentialClosedFormMatchesQuadrature) {
  compare_to_quadrature(ohmic_exp(kPi * 0.01, 10.0), frequency_grid(10.0), {0.0}, kPi * 0.01 * 10.0 / kTwoPi);
  compare_to_quadrature(ohmic_exp(1.0, 0.5), frequency_grid(0.5), {0.0}, 0.5 / kTwoPi);
  // Power law with s = 1 is the exponential cutoff (quadrature against the T = 0 closed form).
  for (double w : frequency_grid(2.0)) {
    // 1e-10: quadrature accuracy.
    EXPECT_TRUE(close(qheat::lamb_shift_quadrature(power_law(0.3, 2.0, 1.0), 0.0, w).total(),
                      qheat::lamb_shift(ohmic_exp(0.3, 2.0), 0.0, w).total(), 1e-10, 0.3 * 2.0 / kTwoPi))
        << w;
  }
}

// Exponential cutoff at T > 0 (no closed form): n(x) = sum_m e^{-m x/T} makes each term an exponential
// cutoff with a_m = 1/(1/a + m/T), so S_n(w) = (1/2pi) PV int kappa n/(w-x) = (g/2pi) sum_m a_m E(w/a_m),
// E(y) = y e^{-y} Ei(y) - 1, and S_+ = S_{T=0} + S_n(w), S_- = -S_n(-w) (docs/lamb-shift.md). The sum
// is taken to m = M, the tail from E(y) ~ sum_k k!/y^k and Hurwitz zeta sums.
double scaled_ei_minus_1(double y) {
  if (std::abs(y) <= 40.0) return y * qheat::detail::exp_ei(y) - 1.0;
  double term = 1.0, sum = 0.0;
  for (int k = 1; k < 30; ++k) {
    term *= k / y;
    sum += term;
  }
  return sum;
}
double hurwitz_zeta(double p, double q) {  // Euler-Maclaurin, q >= 1000
  return std::pow(q, 1.0 - p) / (p - 1.0) + 0.5 * std::pow(q, -p) + p * std::pow(q, -p - 1.0) / 12.0 -
         p * (p + 1.0) * (p + 2.0) * std::pow(q, -p - 3.0) / 720.0;
}
double exp_thermal_series(double g, double a, double T, double w) {
  const int M = 4000;
  const double c = T / a;
  double sum = 0.0;
  for (int m = M; m >= 1; --m) {
    const double am = T / (m + c);
    sum += am * scaled_ei_minus_1(w / am);
  }
  double tail = 0.0, fact = 1.0;
  for (int k = 1; k <= 6; ++k) {
    fact *= k;
    tail += fact * std::pow(T, k + 1) / std::pow(w, k) * hurwitz_zeta(k + 1.0, M + 1.0 + c);
  }
  return g / kTwoPi * (sum + tail);
}

TEST(SpectralLambShift, ExponentialFiniteTemperatureAgainstBoseSeries) {
  const double g = 0.3, a = 2.0;
  const auto J = ohmic_exp(g, a);
  for (double T : {0.4, 2.0}) {
    for (double w : {-6.0, -1.0, -0.1, 0.1, 1.0, 2.0, 6.0}) {
      const LambShiftParts q = qheat::lamb_shift(J, T, w);
      const double sp = qheat::lamb_shift(J, 0.0, w).emission + exp_thermal_series(g, a, T, w);
      const double sm = -exp_thermal_series(g, a, T, -w);
      // 1e-10: required accuracy; the series reference is good to ~1e-13 (tail terms (T/(M|w|))^7).
      EXPECT_TRUE(close(q.emission, sp, 1e-10, g * a / kTwoPi)) << "T=" << T << " w=" << w;
      EXPECT_TRUE(close(q.absorption, sm, 1e-10, g * a / kTwoPi)) << "T=" << T << " w=" << w;
    }
  }
}

// ---- Lamb shift: Kramers-Kronig and symmetry relations --------------------------------------------

// int_a^b f by adaptive Gauss-Kronrod on a finite interval.
template <class F>
double integrate(F f, double a, double b) {
  return boost::math::quadrature::gauss_kronrod<double, 61>::integrate(f, a, b, 12, 1e-12);
}
// int_X^inf f for X > 0 by exp-sinh (handles the ln(x)/x^2 decay).
template <class F>
double integrate_tail(F f, double X) {
  boost::math::quadrature::exp_sinh<double> rule;  // integrate(f, a, b) is non-const in Boost 1.74
  return rule.integrate([&](double x) { return f(x); }, X, std::numeric_limits<double>::infinity(), 1e-12);
}

TEST(SpectralLambShift, KramersKronigInversionRecoversThermalRate) {
  // Gamma(w) = kappa~/2 + i S is analytic in the upper half plane, S = (1/2) H[kappa~] with
  // H f(w) = (1/pi) PV int f(x)/(w-x) dx and H^2 = -1, hence kappa~(w) = -(2/pi) PV int S(x)/(w-x) dx.
  // S is taken from the closed form; the Hilbert transform is done here independently.
  const auto J = drude(0.5, 1.0);
  for (double T : {0.0, 0.35}) {
    auto S = [&](double x) { return qheat::lamb_shift_total(J, T, x); };
    for (double w : {-0.7, 0.3, 1.6}) {
      const double h = 0.5 * std::abs(w);
      double pv = integrate([&](double t) { return (S(w - t) - S(w + t)) / t; }, 0.0, h);
      std::vector<double> pts{0.0, w - h, w + h};
      for (double p = 0.01; p <= 1e3; p *= 2.0) {
        pts.push_back(p);
        pts.push_back(-p);
      }
      std::sort(pts.begin(), pts.end());
      auto g = [&](double x) { return S(x) / (w - x); };
      double outer = integrate_tail(g, pts.back()) + integrate_tail([&](double x) { return g(-x); }, -pts.front());
      for (std::size_t i = 0; i + 1 < pts.size(); ++i) {
        const double lo = pts[i], hi = pts[i + 1];
        if (lo >= w - h && hi <= w + h) continue;  // the symmetric PV part
        outer += integrate(g, lo, hi);
      }
      const double recovered = -2.0 / kPi * (pv + outer);
      // 1e-11 (of max(kappa~, 1e-3)): this numerical Hilbert transform of a function decaying like
      // ln|x|/x (with a w ln|w| kink at 0 for T = 0) reaches ~1e-15; the rest is platform margin.
      EXPECT_TRUE(close(recovered, qheat::kappa_thermal(J, T, w), 1e-11, 1e-3)) << "T=" << T << " w=" << w;
    }
  }
}

TEST(SpectralLambShift, ThermalPartsAreReflectionsOfEachOther) {
  // S_+(w; T) - S_+(w; 0) = (1/2pi) PV int kappa n/(w - x) = -S_-(-w; T) for every w.
  for (const auto& J : {drude(0.02, 50.0), ohmic_exp(0.3, 2.0), power_law(0.3, 2.0, 1.5),
                        table({0.0, 0.5, 1.5, 3.0}, {0.0, 0.6, 0.2, 0.0})}) {
    const double T = 0.7;
    for (double w : {-4.0, -0.6, 0.05, 0.6, 2.9}) {
      const double lhs = qheat::lamb_shift(J, T, w).emission - qheat::lamb_shift(J, 0.0, w).emission;
      const double rhs = -qheat::lamb_shift(J, T, -w).absorption;
      // 1e-10: quadrature accuracy relative to the size of the parts.
      EXPECT_TRUE(close(lhs, rhs, 1e-10, std::abs(qheat::lamb_shift(J, T, w).emission))) << J.describe() << " w=" << w;
    }
  }
}

TEST(SpectralLambShift, DrudeScalingAndLinearity) {
  // S(lambda w; lambda wc, lambda T) = lambda S(w; wc, T) and S is linear in gamma.
  const double lambda = 3.7;
  for (double T : {0.0, 0.2, 4.0}) {
    for (double w : {-5.0, -0.3, 0.7, 2.0}) {
      const double base = qheat::lamb_shift_total(drude(0.1, 1.5), T, w);
      // 1e-13: the closed form's rounding (digamma, logs) in two evaluations.
      EXPECT_TRUE(close(qheat::lamb_shift_total(drude(0.1, 1.5 * lambda), T * lambda, w * lambda), lambda * base,
                        1e-13, 0.1 * 1.5));
      EXPECT_TRUE(close(qheat::lamb_shift_total(drude(0.25, 1.5), T, w), 2.5 * base, 1e-15, 0.1 * 1.5));
    }
  }
}

// ---- Lamb shift: zero frequency, divergences, errors ----------------------------------------------

TEST(SpectralLambShift, ZeroFrequencyFiniteParts) {
  // At T > 0 with kappa ~ c x, S_+-(w) = +-(c T/2pi) ln(|w|/T) + S_+-(0) + O(w ln w); lamb_shift(.., 0)
  // returns the finite parts S_+-(0), whose sum is the exact S(0).
  const double T = 0.9;
  for (const auto& J : {drude(0.02, 5.0), ohmic_exp(0.3, 2.0), table({0.0, 1.0, 2.0, 3.0}, {0.0, 1.0, 2.0, 3.0})}) {
    const double c = J.kind == SpectralKind::tabulated ? 1.0 : J.gamma;
    EXPECT_FALSE(qheat::lamb_shift_split_finite(J, T, 0.0));
    EXPECT_TRUE(qheat::lamb_shift_split_finite(J, 0.0, 0.0));
    EXPECT_TRUE(qheat::lamb_shift_split_finite(J, T, 1e-9));
    const LambShiftParts at0 = qheat::lamb_shift(J, T, 0.0);
    const LambShiftParts q0 = qheat::lamb_shift_quadrature(J, T, 0.0);
    for (double w : {-1e-9, 1e-9}) {
      const LambShiftParts p = qheat::lamb_shift(J, T, w);
      const double log_term = c * T / kTwoPi * std::log(std::abs(w) / T);
      // 1e-7: the O(w ln w) remainder at |w| = 1e-9 relative to parts of size ~c T.
      EXPECT_TRUE(close(p.emission - log_term, at0.emission, 1e-7, c * T)) << J.describe() << " w=" << w;
      EXPECT_TRUE(close(p.absorption + log_term, at0.absorption, 1e-7, c * T)) << J.describe() << " w=" << w;
    }
    // 1e-10: quadrature accuracy (the Drude emission part comes from the closed S(0)).
    EXPECT_TRUE(close(at0.emission, q0.emission, 1e-10, c * T));
    EXPECT_TRUE(close(at0.absorption, q0.absorption, 1e-10, c * T));
  }
  // Super-ohmic: the parts stay finite and continuous.
  const auto S3 = power_law(0.3, 2.0, 2.0);
  EXPECT_TRUE(qheat::lamb_shift_split_finite(S3, T, 0.0));
  const LambShiftParts a = qheat::lamb_shift(S3, T, 0.0), b = qheat::lamb_shift(S3, T, 1e-10);
  EXPECT_TRUE(close(a.emission, b.emission, 1e-7));      // 1e-7: the O(c T w ln w) change at w = 1e-10
  EXPECT_TRUE(close(a.absorption, b.absorption, 1e-7));  // same
  // Sub-ohmic: finite parts with a power-law divergence, S(0) exact (-(g a/2pi) Gamma(s)).
  const auto sub = power_law(0.3, 2.0, 0.5);
  EXPECT_FALSE(qheat::lamb_shift_split_finite(sub, T, 0.0));
  const LambShiftParts s0 = qheat::lamb_shift(sub, T, 0.0);
  // 1e-10: quadrature accuracy (the finite parts are O(1) here).
  EXPECT_TRUE(close(s0.total(), -0.3 * 2.0 / kTwoPi * std::tgamma(0.5), 1e-10));
  // S_-(w) = (A/2pi)(pi/sin(pi s)) w^(s-1) + S_-(0) + O(w^s), A = g a^(1-s) T, for w -> 0+.
  const double w = 1e-14;
  const double A = 0.3 * std::pow(2.0, 0.5) * T;
  const double lead = A / kTwoPi * kPi / std::sin(kPi * 0.5) * std::pow(w, -0.5);
  // 1e-5: the O(w^(1/2)) = 1e-7 remainder plus 1e-12 relative quadrature error of the 1e7-sized part.
  EXPECT_TRUE(close(qheat::lamb_shift(sub, T, w).absorption - lead, s0.absorption, 1e-5, 1.0));
}

TEST(SpectralLambShift, ZeroTemperatureHasNoAbsorptionPart) {
  for (const auto& J : {drude(0.02, 50.0), ohmic_exp(0.3, 2.0), power_law(0.3, 2.0, 0.6)}) {
    for (double w : {-3.0, 0.0, 1.0}) {
      const LambShiftParts p = qheat::lamb_shift(J, 0.0, w);
      EXPECT_EQ(p.absorption, 0.0);
      // 1e-10: quadrature accuracy for the power law, closed forms otherwise.
      EXPECT_TRUE(close(p.emission, qheat::lamb_shift_total(J, 0.0, w), 1e-10));
    }
  }
}

TEST(SpectralLambShift, InfiniteCasesThrowTypedErrors) {
  for (double T : {0.0, 1.0}) {
    expect_rule([&] { (void)qheat::lamb_shift(flat(0.1), T, 1.0); }, "lamb-shift-infinite");
    expect_rule([&] { (void)qheat::lamb_shift_total(flat(0.1), T, 1.0); }, "lamb-shift-infinite");
    expect_rule([&] { (void)qheat::lamb_shift_quadrature(flat(0.1), T, 0.0); }, "lamb-shift-infinite");
  }
  EXPECT_FALSE(flat(0.1).lamb_shift_finite());
  const auto ramp = table({0.0, 1.0, 2.0, 3.0}, {0.0, 1.0, 2.0, 3.0});  // ends with kappa = 3 at w = 3
  expect_rule([&] { (void)qheat::lamb_shift(ramp, 0.0, 3.0); }, "lamb-shift-infinite");
  expect_rule([&] { (void)qheat::lamb_shift(ramp, 0.5, -3.0); }, "lamb-shift-infinite");
  EXPECT_NO_THROW((void)qheat::lamb_shift(ramp, 0.0, -3.0));  // no absorption at T = 0
  const auto step = table({0.0, 1.0}, {1.0, 0.0});            // kappa(0+) = 1: like flat at the origin
  expect_rule([&] { (void)qheat::lamb_shift(step, 0.5, 0.4); }, "lamb-shift-infinite");
  expect_rule([&] { (void)qheat::lamb_shift(step, 0.0, 0.0); }, "lamb-shift-infinite");
  EXPECT_NO_THROW((void)qheat::lamb_shift(step, 0.0, 0.4));
  expect_rule([&] { (void)qheat::lamb_shift(drude(0.1, -1.0), 0.0, 1.0); }, "spectral-density");
}

TEST(SpectralLambShift, ExtremeArgumentsStayFinite) {
  const auto J = drude(0.02, 50.0);
  for (double T : {0.0, 1e-300, 1e-12, 5.0, 1e12})
    for (double w : {-1e300, -1e8, -1e-300, 0.0, 1e-300, 1e8, 1e300})
      EXPECT_TRUE(std::isfinite(qheat::lamb_shift_total(J, T, w))) << "T=" << T << " w=" << w;
  // Far above the cutoff at T = 0: S -> g wc^2 ln(w/wc)/(2pi w); 1e-5: the neglected -g wc^3/(4 w^2)
  // term is 3e-6 of it at w = 1e8.
  const double w = 1e8;
  EXPECT_TRUE(close(qheat::lamb_shift_total(J, 0.0, w), 0.02 * 50.0 * 50.0 * std::log(w / 50.0) / (kTwoPi * w), 1e-5));
}

}  // namespace

// Found by an independent cross-check: a power law with 1 < s <~ 1.035 at T > 0 made the split zero-frequency shifts
// S_+(0), S_-(0) fail ("non-finite integrand"): kappa n / x ~ c T x^(s-2) is integrable but nearly 1/x, and the
// quadrature's smallest nodes overflowed. Reference here, independent of qheat's adaptive quadrature: with
// kappa(x) n(x)/x = c x^(s-2) h(x), the substitution x = u^(1/(s-1)) on [0, 1] removes the singularity,
// int_0^1 c x^(s-2) h dx = c/(s-1) int_0^1 h(u^(1/(s-1))) du (Gauss-Kronrod), and [1, inf) is exp-sinh. Also
// computed with mpmath at 30 digits the same way: S_-(0) = 1.272976168239, 1.273240190999e-2, 3.991408441526e-3 at
// s = 1.0001, 1.0098, 1.03 (qheat agrees to 13 digits). Tolerance 1e-9 relative: the quadratures' targets. At
// s = 1.0001 (u^10000) Gauss-Kronrod misses the step near u = 1 by 4e-5, so there the mpmath values stand.
TEST(SpectralLambShift, ZeroFrequencyPartsOfPowerLawsJustAboveOhmic) {
  const double g = 0.001, wc = 5.0, T = 0.8;
  const LambShiftParts steep = qheat::lamb_shift(power_law(g, wc, 1.0001), T, 0.0);
  EXPECT_TRUE(close(steep.absorption, 1.272976168239, 1e-11));
  EXPECT_TRUE(close(steep.emission, -1.273771897029, 1e-11));
  for (const double s : {1.0098, 1.03, 1.04, 1.5}) {
    const double c = g * std::pow(wc, 1.0 - s);
    auto h_minus = [&](double x) { return x > 0 ? std::exp(-x / wc) * x / std::expm1(x / T) : T; };
    auto h_plus = [&](double x) { return x > 0 ? std::exp(-x / wc) * (x / std::expm1(x / T) + x) : T; };
    auto integral = [&](auto h) {
      const double p = 1.0 / (s - 1.0);
      const double near = boost::math::quadrature::gauss_kronrod<double, 61>::integrate(
          [&](double u) { return h(std::pow(u, p)); }, 0.0, 1.0, 15, 1e-13);
      const double far = boost::math::quadrature::exp_sinh<double>().integrate(
          [&](double x) { return std::pow(x, s - 2.0) * h(x); }, 1.0, std::numeric_limits<double>::infinity());
      return c * (near / (s - 1.0) + far) / (2.0 * std::numbers::pi);
    };
    const LambShiftParts parts = qheat::lamb_shift(power_law(g, wc, s), T, 0.0);
    EXPECT_TRUE(close(parts.absorption, integral(h_minus), 1e-9)) << "s=" << s;
    EXPECT_TRUE(close(parts.emission, -integral(h_plus), 1e-9)) << "s=" << s;
  }
}

// ---- dS/dw by parts (lamb_shift_slope) ------------------------------------------------------------

// lamb_shift_slope, NaN (failing every comparison) where it declines.
double slope(const SpectralDensity& J, double T, double w, int part) {
  return qheat::lamb_shift_slope(J, T, w, part).value_or(std::nan(""));
}

// Hand-derived derivatives at T = 0. Ramp table kappa = x on [0, 3]: S = (1/2pi)[-3 + w ln|w/(w-3)|], so
// S'(w) = (1/2pi)[ln|w/(w-3)| - 3/(w-3)]. Exponential cutoff: S = (g a/2pi)[y e^{-y} Ei(y) - 1], y = w/a, so
// S'(w) = (g/2pi)[(1 - y) e^{-y} Ei(y) + 1]. Drude: d/dw of the closed form by a five-point difference
// (h = 1e-3 min(|w|, a): truncation ~h^4 S^(5) ~ 1e-12, round-off ~1e-16 S/h). 1e-9: the quadratures' targets (1e-12 of
// the integral, divided over the integrand's scale).
TEST(SpectralLambShift, SlopeByPartsMatchesHandDerivedDerivatives) {
  const auto ramp = table({0.0, 1.0, 2.0, 3.0}, {0.0, 1.0, 2.0, 3.0});
  for (double w : {-2.0, -1e-3, 0.5, 1.0, 2.9, 5.0}) {
    const double ref = (std::log(std::abs(w / (w - 3.0))) - 3.0 / (w - 3.0)) / kTwoPi;
    EXPECT_TRUE(close(slope(ramp, 0.0, w, 0), ref, 1e-9, 1.0 / kTwoPi)) << "w=" << w;
  }
  const double g = 0.3, a = 2.0;
  for (double w : {-7.0, -2.0, -0.1, 0.05, 2.0, 9.0}) {
    const double y = w / a;
    const double ei = y > 0 ? std::exp(-y) * boost::math::expint(y) : -std::exp(-y) * boost::math::expint(1, -y);
    const double ref = g / kTwoPi * ((1.0 - y) * ei + 1.0);
    for (const int part : {0, 1}) {
      EXPECT_TRUE(close(slope(ohmic_exp(g, a), 0.0, w, part), ref, 1e-9, g / kTwoPi)) << "w=" << w << " part " << part;
    }
    EXPECT_EQ(slope(ohmic_exp(g, a), 0.0, w, -1), 0.0);  // no absorption at T = 0
  }
  const SpectralDensity dr = drude(0.02, 10.0);
  for (double T : {0.0, 0.3, 4.0})
    for (double w : {-30.0, -1.0, -0.02, 0.02, 1.0, 30.0}) {
      const double h = 1e-3 * std::min(std::abs(w), 10.0);  // S has a w ln|w| term at T = 0
      auto S = [&](double x) { return qheat::lamb_shift_total(dr, T, x); };
      const double ref = (-S(w + 2 * h) + 8 * S(w + h) - 8 * S(w - h) + S(w - 2 * h)) / (12 * h);
      EXPECT_TRUE(close(slope(dr, T, w, 0), ref, 1e-9, 0.02)) << "T=" << T << " w=" << w;
    }
}

// Each part against a five-point difference of that part by quadrature (lamb_shift_quadrature), for every kind the
// by-parts form covers, at T = 0 and T > 0, on both sides of w = 0 (the pole on the path for S_+ at w > 0, for S_-
// at w < 0). h = 1e-3 of the smallest scale (T, cutoff, |w|): truncation ~1e-12; the quadratures' round-off
// (1e-12 |S|) over 12 h gives the 1e-7 bound. Cases the by-parts form leaves to numerical differences: nullopt.
TEST(SpectralLambShift, SlopeByPartsMatchesDifferencesOfEachPart) {
  const std::vector<SpectralDensity> kinds = {
      drude(0.05, 3.0), ohmic_exp(0.05, 3.0), power_law(0.05, 3.0, 1.0), power_law(0.05, 3.0, 2.0),
      power_law(0.05, 3.0, 2.5), power_law(0.05, 3.0, 3.0), table({0.0, 0.5, 1.5, 4.0}, {0.0, 0.4, 0.9, 0.0}),
      table({0.2, 1.0, 3.0}, {0.0, 0.7, 0.0})};
  for (const SpectralDensity& J : kinds)
    for (double T : {0.0, 0.7})
      for (double w : {-5.0, -1.1, -0.3, 0.3, 1.1, 5.0}) {
        double h = 1e-3 * std::min(std::abs(w), J.kind == SpectralKind::tabulated ? 0.5 : J.cutoff);
        if (T > 0.0) h = std::min(h, 1e-3 * T);
        auto part_at = [&](double x, int part) {
          const LambShiftParts p = qheat::lamb_shift_quadrature(J, T, x);
          return part > 0 ? p.emission : p.absorption;
        };
        for (const int part : {1, -1}) {
          auto S = [&](double x) { return part_at(x, part); };
          const double ref = (-S(w + 2 * h) + 8 * S(w + h) - 8 * S(w - h) + S(w - 2 * h)) / (12 * h);
          EXPECT_TRUE(close(slope(J, T, w, part), ref, 1e-7, 0.05)) << J.describe() << " T=" << T << " w=" << w << " part " << part;
        }
      }
  // Left to numerical differences: w = 0, sub-ohmic onsets, 1 < s < 2 at T > 0.
  EXPECT_FALSE(qheat::lamb_shift_slope(drude(0.05, 3.0), 0.7, 0.0, 1).has_value());
  EXPECT_FALSE(qheat::lamb_shift_slope(power_law(0.05, 3.0, 0.5), 0.0, 1.0, 1).has_value());
  EXPECT_FALSE(qheat::lamb_shift_slope(power_law(0.05, 3.0, 1.5), 0.7, 1.0, -1).has_value());
  EXPECT_TRUE(qheat::lamb_shift_slope(power_law(0.05, 3.0, 1.5), 0.0, 1.0, 1).has_value());
}
