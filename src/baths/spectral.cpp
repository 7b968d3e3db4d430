// Spectral densities, the Bose function, the thermal rates kappa_+/-, kappa~ and the Lamb-shift
// functions S_+/-(w). Every closed form used here is derived in docs/lamb-shift.md.
#include "qheat/baths/spectral.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/quadrature/gauss.hpp>
#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/expint.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <limits>
#include <numbers>
#include <optional>
#include <vector>

#include "qheat/core/types.hpp"

namespace qheat {

namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr double kEulerGamma = std::numbers::egamma;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kEps = std::numeric_limits<double>::epsilon();

void require_temperature(double T) {
  if (!(T >= 0.0) || !std::isfinite(T))
    throw ModelError("bath-temperature",
                     fmt::format("bath temperature must be finite and >= 0 (got {})", T));
}

double sign_of(double v) { return v > 0.0 ? 1.0 : (v < 0.0 ? -1.0 : 0.0); }

// ---- tabulated kind: monotone cubic Hermite interpolation -------------------------------------
// Fritsch-Carlson monotone cubic with the Fritsch-Butland weighted-harmonic-mean node slopes and the
// shape-preserving three-point end slopes (the same interpolant as MATLAB pchip / SciPy
// PchipInterpolator). Every slope depends on neighbouring secants only, so it is computed on demand.

void require_table_shape(const SpectralDensity& J) {
  if (J.table_w.size() != J.table_kappa.size() || J.table_w.size() < 2)
    throw ModelError("spectral-density",
                     fmt::format("tabulated spectral density needs >= 2 nodes and as many kappa values "
                                 "as frequencies (got {} and {})",
                                 J.table_w.size(), J.table_kappa.size()));
}

double secant(const std::vector<double>& x, const std::vector<double>& y, std::size_t k) {
  return (y[k + 1] - y[k]) / (x[k + 1] - x[k]);
}

double pchip_slope(const std::vector<double>& x, const std::vector<double>& y, std::size_t i) {
  const std::size_t n = x.size();
  if (n == 2) return secant(x, y, 0);
  if (i == 0 || i == n - 1) {
    const std::size_t k0 = i == 0 ? 0 : n - 2;  // the interval next to the end node
    const std::size_t k1 = i == 0 ? 1 : n - 3;  // the one after it
    const double h0 = x[k0 + 1] - x[k0];
    const double h1 = x[k1 + 1] - x[k1];
    const double m0 = secant(x, y, k0);
    const double m1 = secant(x, y, k1);
    double d = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
    if (sign_of(d) != sign_of(m0))
      d = 0.0;
    else if (sign_of(m0) != sign_of(m1) && std::abs(d) > 3.0 * std::abs(m0))
      d = 3.0 * m0;
    return d;
  }
  const double hl = x[i] - x[i - 1];
  const double hr = x[i + 1] - x[i];
  const double ml = secant(x, y, i - 1);
  const double mr = secant(x, y, i);
  if (ml == 0.0 || mr == 0.0 || sign_of(ml) != sign_of(mr)) return 0.0;
  const double w1 = 2.0 * hr + hl;
  const double w2 = hr + 2.0 * hl;
  return (w1 + w2) / (w1 / ml + w2 / mr);
}

// The interval [x_k, x_k+1] holding w (the first or last one outside [x_0, x_N]), its width and w's position t in it.
struct PchipInterval {
  std::size_t k;
  double h;
  double t;
};
PchipInterval pchip_interval(const std::vector<double>& x, double w) {
  const std::size_t n = x.size();
  std::size_t k = static_cast<std::size_t>(std::upper_bound(x.begin(), x.end(), w) - x.begin());
  k = k == 0 ? 0 : k - 1;
  if (k > n - 2) k = n - 2;
  const double h = x[k + 1] - x[k];
  return {k, h, (w - x[k]) / h};
}

// Interpolant at w in [x_0, x_N].
double pchip_value(const std::vector<double>& x, const std::vector<double>& y, double w) {
  const auto [k, h, t] = pchip_interval(x, w);
  const double u = 1.0 - t;
  const double h10 = t * u * u;
  const double h01 = t * t * (3.0 - 2.0 * t);
  const double h11 = -t * t * u;
  // y_k h00 + y_{k+1} h01 with h00 = 1 - h01: exact on flat stretches, monotone up to rounding.
  return y[k] + (y[k + 1] - y[k]) * h01 + h * (pchip_slope(x, y, k) * h10 + pchip_slope(x, y, k + 1) * h11);
}

// d/dw of the interpolant at w in [x_0, x_N] (continuous: PCHIP is C^1).
double pchip_derivative(const std::vector<double>& x, const std::vector<double>& y, double w) {
  const auto [k, h, t] = pchip_interval(x, w);
  const double u = 1.0 - t;
  return (y[k + 1] - y[k]) * 6.0 * t * u / h + pchip_slope(x, y, k) * u * (1.0 - 3.0 * t) +
         pchip_slope(x, y, k + 1) * t * (3.0 * t - 2.0);
}

double tabulated_kappa(const SpectralDensity& J, double w) {
  require_table_shape(J);
  if (!(w >= J.table_w.front()) || !(w <= J.table_w.back())) return 0.0;
  return std::max(0.0, pchip_value(J.table_w, J.table_kappa, w));
}

// kappa(w)/w for w > 0, evaluated without forming kappa first where that loses range or accuracy.
double kappa_over_w(const SpectralDensity& J, double w) {
  switch (J.kind) {
    case SpectralKind::flat: return J.gamma / w;
    case SpectralKind::ohmic_exp: return J.gamma * std::exp(-w / J.cutoff);
    case SpectralKind::ohmic_drude: {
      const double r = w / J.cutoff;
      return J.gamma / (1.0 + r * r);
    }
    case SpectralKind::power_law: {
      const double r = w / J.cutoff;
      return J.gamma * std::exp((J.s - 1.0) * std::log(r) - r);
    }
    case SpectralKind::tabulated: return tabulated_kappa(J, w) / w;
  }
  return 0.0;
}

// d/dw kappa(w) and d/dw [kappa(w)/w] for w > 0 (inside a table's support).
double kappa_slope(const SpectralDensity& J, double w) {
  const double r = J.kind == SpectralKind::tabulated ? 0.0 : w / J.cutoff;
  switch (J.kind) {
    case SpectralKind::flat: return 0.0;
    case SpectralKind::ohmic_exp: return J.gamma * std::exp(-r) * (1.0 - r);
    case SpectralKind::ohmic_drude: return J.gamma * (1.0 - r * r) / ((1.0 + r * r) * (1.0 + r * r));
    case SpectralKind::power_law: return J.gamma * std::exp((J.s - 1.0) * std::log(r) - r) * (J.s - r);
    case SpectralKind::tabulated:
      if (!(w >= J.table_w.front()) || !(w <= J.table_w.back())) return 0.0;
      return pchip_derivative(J.table_w, J.table_kappa, w);
  }
  return 0.0;
}
double kappa_over_w_slope(const SpectralDensity& J, double w) {
  const double r = J.kind == SpectralKind::tabulated ? 0.0 : w / J.cutoff;
  switch (J.kind) {
    case SpectralKind::flat: return -J.gamma / (w * w);
    case SpectralKind::ohmic_exp: return -J.gamma * std::exp(-r) / J.cutoff;
    case SpectralKind::ohmic_drude: return -2.0 * J.gamma * r / (J.cutoff * (1.0 + r * r) * (1.0 + r * r));
    case SpectralKind::power_law:
      return J.gamma * std::exp((J.s - 2.0) * std::log(r) - r) * (J.s - 1.0 - r) / J.cutoff;
    case SpectralKind::tabulated: return (kappa_slope(J, w) - tabulated_kappa(J, w) / w) / w;
  }
  return 0.0;
}

// x / (e^x - 1) for x >= 0 (1 at x = 0, 0 once e^x overflows).
double x_over_expm1(double x) { return x == 0.0 ? 1.0 : x / std::expm1(x); }

// kappa(w) n(w) for w > 0, written as (kappa/w) T x/(e^x - 1), x = w/T: no 0 * inf at tiny w.
double kappa_n(const SpectralDensity& J, double T, double w) {
  if (T == 0.0) return 0.0;
  const double x = w / T;
  if (!(x < 746.0)) return 0.0;  // x/(e^x - 1) < 1e-320 (and no inf/inf for x = inf)
  const double q = x_over_expm1(x);
  return q == 0.0 ? 0.0 : kappa_over_w(J, w) * T * q;
}

// d/dz [z/(e^z - 1)] given q = z/(e^z - 1): q ((1 - q)/z - 1), by its Taylor series for small z (the direct
// form cancels).
double x_over_expm1_slope(double z, double q) {
  if (z < 0.05) {
    const double z2 = z * z;
    return -0.5 + z * (1.0 / 6.0 - z2 * (1.0 / 180.0 - z2 / 5040.0));
  }
  return q == 0.0 ? 0.0 : q * ((1.0 - q) / z - 1.0);
}

// d/dw [kappa(w) n(w)] = d/dw [(kappa/w) T q(w/T)] for w > 0 (one expm1 per call: it is an integrand).
double kappa_n_slope(const SpectralDensity& J, double T, double w) {
  if (T == 0.0) return 0.0;
  const double z = w / T;
  if (!(z < 700.0)) return 0.0;  // e^-z below 1e-304
  const double q = x_over_expm1(z);
  return kappa_over_w_slope(J, w) * T * q + kappa_over_w(J, w) * x_over_expm1_slope(z, q);
}

// Behaviour at the origin: kappa(x) ~ c x^s as x -> 0+; c == 0 means faster than any onset that
// matters here (kappa(x) n(x) -> 0 and kappa(x)/x integrable).
struct Onset {
  double s = 1.0;
  double c = 0.0;
};

Onset onset(const SpectralDensity& J) {
  switch (J.kind) {
    case SpectralKind::flat: return {0.0, J.gamma};
    case SpectralKind::ohmic_exp:
    case SpectralKind::ohmic_drude: return {1.0, J.gamma};
    case SpectralKind::power_law: return {J.s, J.gamma * std::pow(J.cutoff, 1.0 - J.s)};
    case SpectralKind::tabulated: {
      require_table_shape(J);
      if (J.table_w.front() > 0.0) return {1.0, 0.0};
      if (J.table_kappa.front() > 0.0) return {0.0, J.table_kappa.front()};
      const double d0 = pchip_slope(J.table_w, J.table_kappa, 0);
      return d0 > 0.0 ? Onset{1.0, d0} : Onset{2.0, 0.0};
    }
  }
  return {};
}

// kappa(0+) and lim_{x->0+} kappa(x) n(x) (the latter may be +inf).
struct ZeroLimits {
  double kappa0 = 0.0;
  double kn0 = 0.0;
};

ZeroLimits zero_limits(const SpectralDensity& J, double T) {
  const Onset o = onset(J);
  ZeroLimits z;
  if (o.c == 0.0) return z;
  if (o.s == 0.0) z.kappa0 = o.c;
  if (T > 0.0) z.kn0 = o.s > 1.0 ? 0.0 : (o.s == 1.0 ? o.c * T : kInf);
  return z;
}

void throw_zero_frequency(const SpectralDensity& J, double T) {
  throw MethodError("zero-frequency-rate",
                    fmt::format("the thermal rate at zero frequency is infinite for {} at T = {}: "
                                "kappa(w) n(w) ~ T kappa(w)/w diverges as w -> 0 (a zero Bohr frequency "
                                "needs a spectral density vanishing at least linearly)",
                                J.describe(), T));
}

// ---- special functions ------------------------------------------------------------------------

// Re psi(1 + i y) - ln|y| for |y| >= 12: Re psi(iy) ~ ln|y| + sum_n |B_2n| / (2n y^2n).
double re_psi_1iy_minus_log_asym(double y) {
  const double r2 = 1.0 / (y * y);
  return r2 * (1.0 / 12.0 +
               r2 * (1.0 / 120.0 +
                     r2 * (1.0 / 252.0 +
                           r2 * (1.0 / 240.0 + r2 * (1.0 / 132.0 + r2 * (691.0 / 32760.0 + r2 / 12.0))))));
}

// psi(1 + x) - ln x for x >= 12.
double psi_1x_minus_log_asym(double x) {
  const double r = 1.0 / x;
  const double r2 = r * r;
  return 0.5 * r -
         r2 * (1.0 / 12.0 -
               r2 * (1.0 / 120.0 -
                     r2 * (1.0 / 252.0 -
                           r2 * (1.0 / 240.0 - r2 * (1.0 / 132.0 - r2 * (691.0 / 32760.0 - r2 / 12.0))))));
}

// Re psi(1 + i y) for real y: shift to 12 + i y with psi(z+1) = psi(z) + 1/z (real parts only), then
// the asymptotic series.
double re_psi_1iy(double y) {
  if (std::abs(y) >= 12.0) return std::log(std::abs(y)) + re_psi_1iy_minus_log_asym(y);
  const double y2 = y * y;
  double shift = 0.0;
  for (int k = 1; k <= 11; ++k) {
    const double kd = static_cast<double>(k);
    shift += kd / (kd * kd + y2);
  }
  return detail::digamma({12.0, y}).real() - shift;
}

// e^x E1(x) for x > 0.
double exp_e1(double x) {
  if (x < 1.0) return std::exp(x) * boost::math::expint(1, x);
  if (x > 1e300) return 1.0 / x;
  // Continued fraction E1(x) = e^-x / (x + 1 - 1/(x + 3 - 4/(x + 5 - ...))), modified Lentz.
  double b = x + 1.0;
  double c = 1.0 / 1e-300;
  double d = 1.0 / b;
  double h = d;
  for (int i = 1; i < 500; ++i) {
    const double an = -static_cast<double>(i) * static_cast<double>(i);
    b += 2.0;
    d = 1.0 / (an * d + b);
    c = b + an / c;
    const double del = c * d;
    h *= del;
    if (std::abs(del - 1.0) < 1e-16) break;
  }
  return h;
}

// y e^{-y} Ei(y) - 1 for real y != 0; for |y| > 40 from the asymptotic series sum_k k!/y^k, which
// avoids the cancellation of the direct form.
double y_exp_ei_minus_1(double y) {
  if (std::abs(y) <= 40.0) return y * detail::exp_ei(y) - 1.0;
  double term = 1.0;
  double sum = 0.0;
  for (int k = 1; k < 60; ++k) {
    const double next = term * static_cast<double>(k) / y;
    if (std::abs(next) >= std::abs(term) && k > 1) break;
    term = next;
    sum += term;
    if (std::abs(term) < 1e-18 * std::abs(sum)) break;
  }
  return sum;
}

// ---- closed forms (docs/lamb-shift.md) ---------------------------------------------------------

// S(w) for kappa = g w / (1 + (w/a)^2):
//   S = g a / (1 + r^2) [ -1/4 + r T/(2a) + (r/2pi) (Re psi(1 + i w/2piT) - psi(1 + a/2piT)) ],
// r = w/a; at T = 0 the digamma difference becomes ln|r|.
double drude_total(double g, double a, double T, double w) {
  if (w == 0.0) return -0.25 * g * a;
  const double r = w / a;
  const double pref = g * a / (1.0 + r * r);
  // g a r / (1 + r^2) without overflow of r^2
  const double pref_r = std::abs(r) <= 1.0 ? pref * r : g * a / (r + 1.0 / r);
  if (T == 0.0) return -0.25 * pref + pref_r * std::log(std::abs(r)) / kTwoPi;
  const double x = a / (kTwoPi * T);
  const double y = w / (kTwoPi * T);
  if (!(x < kInf)) return -0.25 * pref + pref_r * std::log(std::abs(r)) / kTwoPi;  // T < 1e-300 a
  double delta = 0.0;
  if (x >= 12.0) {
    // Low temperature: psi(1+x) = ln x + [psi(1+x) - ln x] from its series; when |y| >= 12 too,
    // Delta = ln|r| + [Re psi(1+iy) - ln|y|] - [psi(1+x) - ln x] avoids inf - inf as T -> 0.
    const double dx = psi_1x_minus_log_asym(x);
    if (std::abs(y) >= 12.0)
      delta = std::log(std::abs(r)) + re_psi_1iy_minus_log_asym(y) - dx;
    else
      delta = re_psi_1iy(y) - std::log(x) - dx;
  } else {
    delta = re_psi_1iy(y) - boost::math::digamma(1.0 + x);
  }
  return -0.25 * pref + pref_r * (T / (2.0 * a) + delta / kTwoPi);
}

// T = 0, kappa = g w e^{-w/a}:  S = (g a / 2pi) [ (w/a) e^{-w/a} Ei(w/a) - 1 ].
double exp_total_zero_t(double g, double a, double w) {
  if (w == 0.0) return -g * a / kTwoPi;
  return g * a / kTwoPi * y_exp_ei_minus_1(w / a);
}

// ---- adaptive quadrature ------------------------------------------------------------------------
// Globally adaptive Gauss-Kronrod (15-point Gauss embedded in 31-point Kronrod, nodes from Boost.Math)
// on a list of segments: the segment with the largest error estimate |K31 - G15| is bisected until the
// summed estimate is below max(1e-12 |I|, 1e-14 L1). Segments live in the integration variable u with one of three maps:
// linear x = u; tail x = X/u on (0, 1]; power x = P u^p on (0, 1] (integrable x^(s-1) at 0).

using Kronrod = boost::math::quadrature::gauss_kronrod<double, 31>;
using Gauss = boost::math::quadrature::gauss<double, 15>;

constexpr double kRelTol = 1e-12;
constexpr double kL1Tol = 1e-14;
constexpr int kMaxSplits = 3000;

enum class Map { linear, tail, power };

struct MapParams {
  double tail_start = 0.0;
  double power_scale = 0.0;
  double power = 1.0;
};

struct Segment {
  double a = 0.0;
  double b = 0.0;
  Map map = Map::linear;
  double val = 0.0;
  double err = 0.0;
  double l1 = 0.0;
};

template <class F>
double mapped(const F& f, Map map, const MapParams& mp, double u) {
  switch (map) {
    case Map::linear: return f(u);
    case Map::tail: {
      const double x = mp.tail_start / u;
      return std::isfinite(x) ? (f(x) * x) / u : 0.0;
    }
    case Map::power: {
      const double x = mp.power_scale * std::pow(u, mp.power);
      return x > 0.0 ? (f(x) * x) * (mp.power / u) : 0.0;
    }
  }
  return 0.0;
}

template <class G>
void gauss_kronrod31(const G& g, Segment& s) {
  const auto& xk = Kronrod::abscissa();
  const auto& wk = Kronrod::weights();
  const auto& wg = Gauss::weights();
  const double c = 0.5 * (s.a + s.b);
  const double h = 0.5 * (s.b - s.a);
  const double f0 = g(c);
  double kr = f0 * wk[0];
  double ga = f0 * wg[0];
  double l1 = std::abs(f0) * wk[0];
  for (std::size_t i = 1; i < xk.size(); ++i) {
    const double fp = g(c + h * xk[i]);
    const double fm = g(c - h * xk[i]);
    kr += (fp + fm) * wk[i];
    l1 += (std::abs(fp) + std::abs(fm)) * wk[i];
    if (i % 2 == 0) ga += (fp + fm) * wg[i / 2];
  }
  s.val = kr * h;
  s.err = std::max(std::abs(kr - ga) * h, 4.0 * kEps * std::abs(s.val));
  s.l1 = l1 * h;
}

// `floor`: an absolute error the integrand's own round-off cannot go below (default none).
template <class F>
double integrate_segments(const F& f, std::vector<Segment> segs, const MapParams& mp, double floor = 0.0) {
  auto evaluate = [&](Segment& s) {
    gauss_kronrod31([&](double u) { return mapped(f, s.map, mp, u); }, s);
  };
  for (auto& s : segs) evaluate(s);
  auto by_error = [](const Segment& p, const Segment& q) { return p.err < q.err; };
  std::make_heap(segs.begin(), segs.end(), by_error);
  auto sums = [&](double& total, double& err, double& l1) {
    total = err = l1 = 0.0;
    for (const auto& s : segs) {
      total += s.val;
      err += s.err;
      l1 += s.l1;
    }
  };
  double total = 0.0;
  double err = 0.0;
  double l1 = 0.0;
  sums(total, err, l1);
  for (int splits = 0; splits < kMaxSplits && std::isfinite(total); ++splits) {
    if (err <= std::max({kRelTol * std::abs(total), kL1Tol * l1, floor})) break;
    std::pop_heap(segs.begin(), segs.end(), by_error);
    Segment worst = segs.back();
    segs.pop_back();
    if (!(worst.err > 0.0)) {  // only exhausted segments remain
      segs.push_back(worst);
      std::push_heap(segs.begin(), segs.end(), by_error);
      break;
    }
    const double mid = 0.5 * (worst.a + worst.b);
    if (!(mid > worst.a && mid < worst.b) ||
        worst.b - worst.a <= 1e-14 * std::max(std::abs(worst.a), std::abs(worst.b))) {
      worst.err = 0.0;  // cannot be resolved further in double precision; accept it
      segs.push_back(worst);
      std::push_heap(segs.begin(), segs.end(), by_error);
    } else {
      Segment left{worst.a, mid, worst.map};
      Segment right{mid, worst.b, worst.map};
      evaluate(left);
      evaluate(right);
      segs.push_back(left);
      std::push_heap(segs.begin(), segs.end(), by_error);
      segs.push_back(right);
      std::push_heap(segs.begin(), segs.end(), by_error);
    }
    sums(total, err, l1);
  }
  if (!std::isfinite(total))
    throw MethodError("lamb-shift-quadrature", "non-finite integrand in the Lamb-shift quadrature");
  if (err > std::max(1e-8 * std::max(std::abs(total), l1), floor))
    throw MethodError("lamb-shift-quadrature",
                      fmt::format("Lamb-shift quadrature did not converge (error estimate {:.3g} for "
                                  "integral {:.6g})",
                                  err, total));
  return total;
}

// Where kappa lives and which scales shape the integrands.
struct Context {
  const SpectralDensity& J;
  double T;
  bool bounded = false;    // tabulated: support [w_0, w_N]
  double lo = 0.0;         // support start
  double hi = kInf;        // support end
  double power = 0.0;      // > 0: power map on [0, first breakpoint] (power law, non-integer s)
  std::vector<double> scales;

  Context(const SpectralDensity& j, double t) : J(j), T(t) {
    if (J.kind == SpectralKind::tabulated) {
      bounded = true;
      lo = J.table_w.front();
      hi = J.table_w.back();
      scales.push_back(hi);
      if (lo > 0.0) scales.push_back(lo);
    } else {
      scales.push_back(J.cutoff);
    }
    if (T > 0.0) scales.push_back(T);
    if (J.kind == SpectralKind::power_law && J.s != std::round(J.s)) power = std::ceil(J.s) / J.s;
  }
};

// Breakpoints: the support ends, the given special points, table nodes, and a geometric grid (ratio
// 4) from the smallest to 16 x the largest scale, so every segment sees smooth variation only.
std::vector<Segment> plan(const Context& c, const std::vector<double>& specials, MapParams& mp) {
  std::vector<double> hard{c.lo};
  for (double p : specials)
    if (p > c.lo && p < c.hi) hard.push_back(p);
  if (c.bounded) {
    hard.push_back(c.hi);
    for (double p : c.J.table_w)
      if (p > c.lo && p < c.hi) hard.push_back(p);
  }
  std::vector<double> scales = c.scales;
  for (double p : specials)
    if (p != 0.0) scales.push_back(std::abs(p));
  double smin = kInf;
  double smax = 0.0;
  for (double s : scales) {
    if (s > 0.0 && std::isfinite(s)) {
      smin = std::min(smin, s);
      smax = std::max(smax, s);
    }
  }
  std::vector<double> pts = hard;
  if (smax > 0.0) {
    std::vector<double> grid;
    for (int k = 0; k < 1100; ++k) {  // ratio 4: 1100 steps span any pair of positive doubles
      const double p = smin * std::pow(4.0, k);
      if (!(p < 16.0 * smax)) break;
      grid.push_back(p);
    }
    grid.push_back(16.0 * smax);
    for (double p : grid) {
      if (!(p > c.lo && p < c.hi)) continue;
      bool near = false;
      for (double q : hard) near = near || std::abs(p - q) < 0.2 * p;
      if (!near) pts.push_back(p);
    }
  }
  std::sort(pts.begin(), pts.end());
  pts.erase(std::unique(pts.begin(), pts.end()), pts.end());
  const bool tail = !c.bounded;
  if (tail && pts.size() == 1) pts.push_back(c.lo + 1.0);
  std::vector<Segment> segs;
  for (std::size_t i = 0; i + 1 < pts.size(); ++i) {
    if (i == 0 && c.power > 0.0 && pts[0] == 0.0) {
      mp.power_scale = pts[1];
      mp.power = c.power;
      segs.push_back({0.0, 1.0, Map::power});
    } else {
      segs.push_back({pts[i], pts[i + 1], Map::linear});
    }
  }
  if (tail) {
    mp.tail_start = pts.back();
    segs.push_back({0.0, 1.0, Map::tail});
  }
  return segs;
}

// PV int f(x)/(x0 - x) dx over the support, x0 != 0, f continuous at x0. Inside the support the pole
// is removed by subtracting f(x0) over a window [lo, W] (W = 2 x0 for unbounded support, where
// PV int_0^{2x0} dx/(x0-x) = 0; W = w_N for a table, adding f(x0) ln((x0-lo)/(hi-x0))). The round-off of
// f(x) - f(x0) (eps |f(x0)|) over 1/|x0 - x| down to the narrowest segment (1e-14 x0) adds up to ~70 eps |f(x0)|:
// the error floor, reached where f is linear near x0 (a table's linear stretch); at x = x0 itself, which
// Kronrod nodes reach only by rounding on the narrowest segments, the integrand is taken as 0.
template <class F>
double pv_integral(const Context& c, const F& f, double x0) {
  MapParams mp;
  if (x0 > c.lo && x0 < c.hi) {
    const double f0 = f(x0);
    const double window = c.bounded ? c.hi : 2.0 * x0;
    const double log_term = c.bounded ? f0 * std::log((x0 - c.lo) / (c.hi - x0)) : 0.0;
    auto g = [&](double x) {
      if (x == x0) return 0.0;
      return x < window ? (f(x) - f0) / (x0 - x) : f(x) / (x0 - x);
    };
    return integrate_segments(g, plan(c, {x0, window}, mp), mp, 128.0 * kEps * std::abs(f0)) + log_term;
  }
  auto g = [&](double x) { return f(x) / (x0 - x); };
  return integrate_segments(g, plan(c, {x0}, mp), mp);
}

// int f(x) dx over the support.
template <class F>
double plain_integral(const Context& c, const F& f) {
  MapParams mp;
  return integrate_segments(f, plan(c, {}, mp), mp);
}

double kappa_plus(const SpectralDensity& J, double T, double x) { return J.kappa(x) + kappa_n(J, T, x); }

// S_+(w), S_-(w) for w != 0 by PV quadrature.
double s_plus_quad(const Context& c, double w) {
  return pv_integral(c, [&](double x) { return kappa_plus(c.J, c.T, x); }, w) / kTwoPi;
}
double s_minus_quad(const Context& c, double w) {
  if (c.T == 0.0) return 0.0;
  return -pv_integral(c, [&](double x) { return kappa_n(c.J, c.T, x); }, -w) / kTwoPi;
}

// d/dv PV int f(x)/(v - x) dx over the support (v != 0, not a support end), integrated by parts so that no
// derivative of a quadrature is taken: PV int f'(x)/(v - x) dx + f(lo+)/(v - lo) - f(hi-)/(v - hi), with
// f0 = f(lo+) (the limit at 0 where f is a thermal rate) and the second term for a table only.
template <class F, class DF>
double pv_integral_slope(const Context& c, const F& f, const DF& df, double f0, double v) {
  double ends = f0 == 0.0 ? 0.0 : f0 / (v - c.lo);
  if (c.bounded) {
    const double fh = f(c.hi);
    if (fh != 0.0) ends -= fh / (v - c.hi);
  }
  return pv_integral(c, df, v) + ends;
}

// d/dv int f(x)/(v - x) dx where v lies outside the support: -int f(x)/(v - x)^2 dx.
template <class F>
double outside_integral_slope(const Context& c, const F& f, double v) {
  return -plain_integral(c, [&](double x) { return f(x) / ((v - x) * (v - x)); });
}

// Whether the integration by parts (pv_integral_slope) holds: kappa(1+n) bounded at 0 with a derivative the quadrature
// can integrate there (an ohmic onset or a power law with s = 1 or s >= 2 at T > 0, s >= 1 at T = 0; a table).
bool slope_by_parts(const SpectralDensity& J, double T) {
  if (J.kind == SpectralKind::flat) return false;
  if (J.kind != SpectralKind::power_law) return true;
  return T == 0.0 ? J.s >= 1.0 : (J.s == 1.0 || J.s >= 2.0);
}

// S(0) = -(1/2pi) int_0^inf kappa(x)/x dx (temperature independent).
double s_zero_total_quad(const Context& c) {
  return -plain_integral(c, [&](double x) { return kappa_over_w(c.J, x); }) / kTwoPi;
}

bool split_diverges_at_zero(const SpectralDensity& J, double T) {
  if (T == 0.0) return false;
  const Onset o = onset(J);
  return o.c != 0.0 && o.s <= 1.0;
}

// (S_+(0), S_-(0)) at T > 0. When the parts diverge (kappa(x) n(x) ~ A x^(s-1), A = c T, s <= 1) these
// are the finite parts of docs/lamb-shift.md:
//   S_-(0) = (1/2pi) [ int_0^inf (kappa n - A x^(s-1) e^{-x/T}) / x dx + A F ],
//   S_+(0) = -(1/2pi) [ int_0^inf (kappa (1+n) - A x^(s-1) e^{-x/T}) / x dx + A F ],
// F = -gamma_E (s = 1), Gamma(s-1) T^(s-1) (s < 1).
// kappa(x)/(c x^s) - 1 for x > 0 (-> 0 as x -> 0), without cancellation where the form allows.
double onset_ratio_minus_1(const SpectralDensity& J, const Onset& o, double x) {
  switch (J.kind) {
    case SpectralKind::ohmic_exp:
    case SpectralKind::power_law: return std::expm1(-x / J.cutoff);
    case SpectralKind::ohmic_drude: {
      const double r = x / J.cutoff;
      return -r * r / (1.0 + r * r);
    }
    default: return J.kappa(x) / (o.c * std::pow(x, o.s)) - 1.0;
  }
}

// z/(e^z - 1) - 1, by its Taylor series for small z (the direct form cancels).
double x_over_expm1_minus_1(double z) {
  if (z < 0.05) {
    const double z2 = z * z;
    return -0.5 * z + z2 * (1.0 / 12.0 - z2 * (1.0 / 720.0 - z2 / 30240.0));
  }
  return x_over_expm1(z) - 1.0;
}

// [kappa(x) n(x) - A x^(s-1) e^{-x/T}] / x with A = c T, written as
// A x^(s-1) [(rho - 1) q(z) + (q(z) - 1) - (e^{-z} - 1)] / x, rho = kappa/(c x^s), q(z) = z/(e^z - 1),
// z = x/T: every bracket term is O(x) and computed without cancellation, so the integrand stays
// accurate (and finite) down to the smallest x the quadrature visits.
double finite_part_integrand(const SpectralDensity& J, double T, const Onset& o, double x) {
  const double z = x / T;
  const double q = x_over_expm1(z);
  const double bracket = onset_ratio_minus_1(J, o, x) * q + x_over_expm1_minus_1(z) - std::expm1(-z);
  return o.c * T * std::pow(x, o.s - 1.0) * (bracket / x);
}

// kappa(x) n(x) / x ~ A x^(s-2) is unbounded at x -> 0 (onset s < 2, T > 0): for 1 < s < 2 integrable, but a
// power law with s just above 1 made the plain quadrature's smallest nodes overflow (non-finite integrand for
// 1 < s <~ 1.035, found by an independent cross-check). There the onset is subtracted as for s <= 1 and its
// integral A Gamma(s-1) T^(s-1) added back (the same formula, finite for s > 1).
bool onset_unbounded_at_zero(const SpectralDensity& J, double T) {
  if (T == 0.0 || J.kind == SpectralKind::tabulated) return split_diverges_at_zero(J, T);
  const Onset o = onset(J);
  return o.c != 0.0 && o.s < 2.0;
}

// (S_+(0), S_-(0)) at T > 0. When the parts diverge (kappa(x) n(x) ~ A x^(s-1), A = c T, s <= 1) these
// are the finite parts of docs/lamb-shift.md:
//   S_-(0) = (1/2pi) [ int_0^inf (kappa n - A x^(s-1) e^{-x/T}) / x dx + A F ],
//   S_+(0) = S(0) - S_-(0) = -(1/2pi) [ int_0^inf (kappa (1+n) - A x^(s-1) e^{-x/T}) / x dx + A F ],
// F = -gamma_E (s = 1), Gamma(s-1) T^(s-1) (s < 1; for 1 < s < 2 the same, where the integrals converge:
// onset_unbounded_at_zero).
double s_minus_zero_quad(const Context& c) {
  const SpectralDensity& J = c.J;
  const double T = c.T;
  if (!onset_unbounded_at_zero(J, T))
    return plain_integral(c, [&](double x) { return kappa_n(J, T, x) / x; }) / kTwoPi;
  const Onset o = onset(J);
  const double A = o.c * T;
  const double F = o.s == 1.0 ? -kEulerGamma : boost::math::tgamma(o.s - 1.0) * std::pow(T, o.s - 1.0);
  double I = plain_integral(c, [&](double x) { return finite_part_integrand(J, T, o, x); });
  if (c.bounded) I -= A * boost::math::expint(1, c.hi / T);  // int_hi^inf of -A e^{-x/T}/x
  return (I + A * F) / kTwoPi;
}

double s_plus_zero_quad(const Context& c) {
  const SpectralDensity& J = c.J;
  const double T = c.T;
  if (!onset_unbounded_at_zero(J, T))
    return -plain_integral(c, [&](double x) { return kappa_plus(J, T, x) / x; }) / kTwoPi;
  const Onset o = onset(J);
  const double A = o.c * T;
  const double F = o.s == 1.0 ? -kEulerGamma : boost::math::tgamma(o.s - 1.0) * std::pow(T, o.s - 1.0);
  double I = plain_integral(
      c, [&](double x) { return kappa_over_w(J, x) + finite_part_integrand(J, T, o, x); });
  if (c.bounded) I -= A * boost::math::expint(1, c.hi / T);
  return -(I + A * F) / kTwoPi;
}

// Throws "lamb-shift-infinite" where S is not finite.
void require_finite_lamb_shift(const SpectralDensity& J, double T, double w) {
  if (J.kind == SpectralKind::flat)
    throw MethodError("lamb-shift-infinite",
                      fmt::format("{} has no finite Lamb shift: S(w) = (1/2pi) PV int kappa~(x)/(w-x) dx "
                                  "diverges logarithmically at large x; switch the Lamb shift off or give "
                                  "the spectral density a cutoff",
                                  J.describe()));
  if (J.kind != SpectralKind::tabulated) return;
  const double w0 = J.table_w.front();
  const double k0 = J.table_kappa.front();
  const double wn = J.table_w.back();
  const double kn = J.table_kappa.back();
  if (w0 == 0.0 && k0 > 0.0 && T > 0.0)
    throw MethodError("lamb-shift-infinite",
                      fmt::format("{}: kappa(0+) = {} > 0 at T = {} gives kappa~(x) ~ kappa(0+) T/|x|, "
                                  "which is not integrable; S(w) is infinite",
                                  J.describe(), k0, T));
  auto jump = [&](double p) { return (p == w0 && k0 > 0.0) || (p == wn && kn > 0.0); };
  if ((w >= 0.0 && jump(w)) || (T > 0.0 && w < 0.0 && jump(-w)))
    throw MethodError("lamb-shift-infinite",
                      fmt::format("{}: S(w) diverges logarithmically at w = {}, where kappa~ jumps (the table "
                                  "{} with a non-zero value); {} the table with kappa = 0",
                                  J.describe(), w, std::abs(w) == w0 && k0 > 0.0 ? "starts" : "ends",
                                  std::abs(w) == w0 && k0 > 0.0 ? "start" : "end"));
}

void require_lamb_shift_inputs(const SpectralDensity& J, double T, double w) {
  require_temperature(T);
  validate_spectral_density(J);
  if (!std::isfinite(w))
    throw MethodError("lamb-shift-frequency", fmt::format("Lamb shift asked at non-finite w = {}", w));
  require_finite_lamb_shift(J, T, w);
}

}  // namespace

// ---- public interface ----------------------------------------------------------------------------

void validate_spectral_density(const SpectralDensity& J) {
  auto what = [&]() { return J.describe(); };  // formatted only when a rule is broken
  if (J.kind != SpectralKind::tabulated && !(J.gamma >= 0.0 && std::isfinite(J.gamma)))
    throw ModelError("spectral-density", fmt::format("{}: gamma must be finite and >= 0", what()));
  switch (J.kind) {
    case SpectralKind::flat: return;
    case SpectralKind::power_law:
      if (!(J.s > 0.0 && std::isfinite(J.s)))
        throw ModelError("spectral-density", fmt::format("{}: the exponent s must be finite and > 0", what()));
      [[fallthrough]];
    case SpectralKind::ohmic_exp:
    case SpectralKind::ohmic_drude:
      if (!(J.cutoff > 0.0 && std::isfinite(J.cutoff)))
        throw ModelError("spectral-density", fmt::format("{}: the cutoff must be finite and > 0", what()));
      return;
    case SpectralKind::tabulated: {
      require_table_shape(J);
      const auto& x = J.table_w;
      const auto& y = J.table_kappa;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (!std::isfinite(x[i]) || !std::isfinite(y[i]) || y[i] < 0.0)
          throw ModelError("spectral-density",
                           fmt::format("{}: node {} must have finite w and finite kappa >= 0", what(), i));
        if (i > 0 && !(x[i] > x[i - 1]))
          throw ModelError("spectral-density",
                           fmt::format("{}: frequencies must be strictly increasing (node {})", what(), i));
      }
      if (x.front() < 0.0)
        throw ModelError("spectral-density", fmt::format("{}: frequencies must be >= 0", what()));
      return;
    }
  }
  throw ModelError("spectral-kind", "unknown spectral density kind");
}

double SpectralDensity::kappa(double w) const {
  if (w <= 0.0) return 0.0;
  switch (kind) {
    case SpectralKind::flat: return gamma;
    case SpectralKind::ohmic_exp: return gamma * w * std::exp(-w / cutoff);
    case SpectralKind::ohmic_drude: {
      const double r = w / cutoff;
      return r < 1.0 ? gamma * w / (1.0 + r * r) : gamma * cutoff / (r + 1.0 / r);
    }
    case SpectralKind::power_law: {
      const double r = w / cutoff;
      return gamma * cutoff * std::exp(s * std::log(r) - r);
    }
    case SpectralKind::tabulated: return tabulated_kappa(*this, w);
  }
  return 0.0;
}

std::string SpectralDensity::describe() const {
  switch (kind) {
    case SpectralKind::flat: return fmt::format("flat spectral density kappa = {:g}", gamma);
    case SpectralKind::ohmic_exp:
      return fmt::format("ohmic spectral density kappa(w) = {:g} w exp(-w/{:g})", gamma, cutoff);
    case SpectralKind::ohmic_drude:
      return fmt::format("ohmic-Drude spectral density kappa(w) = {:g} w / (1 + (w/{:g})^2)", gamma, cutoff);
    case SpectralKind::power_law:
      return fmt::format("power-law spectral density kappa(w) = {:g} w^{:g} {:g}^(1-{:g}) exp(-w/{:g})", gamma,
                         s, cutoff, s, cutoff);
    case SpectralKind::tabulated:
      if (table_w.empty()) return "tabulated spectral density (empty table)";
      return fmt::format("tabulated spectral density ({} nodes on [{:g}, {:g}], monotone cubic, 0 outside)",
                         table_w.size(), table_w.front(), table_w.back());
  }
  return "unknown spectral density";
}

double bose(double w, double T) {
  require_temperature(T);
  if (T == 0.0) return w < 0.0 ? -1.0 : 0.0;
  return 1.0 / std::expm1(w / T);  // +inf at w = 0; 0 once e^{w/T} overflows; -1 - n(|w|) for w < 0
}

double kappa_emission(const SpectralDensity& J, double T, double w) {
  require_temperature(T);
  if (w < 0.0) return 0.0;
  if (w > 0.0) return J.kappa(w) + kappa_n(J, T, w);
  if (w != w) return w;
  const ZeroLimits z = zero_limits(J, T);
  if (!std::isfinite(z.kappa0 + z.kn0)) throw_zero_frequency(J, T);
  return 0.5 * (z.kappa0 + z.kn0);
}

double kappa_absorption(const SpectralDensity& J, double T, double w) {
  require_temperature(T);
  if (w > 0.0) return 0.0;
  if (w < 0.0) return kappa_n(J, T, -w);
  if (w != w) return w;
  const ZeroLimits z = zero_limits(J, T);
  if (!std::isfinite(z.kappa0 + z.kn0)) throw_zero_frequency(J, T);
  return 0.5 * z.kn0;
}

double kappa_thermal(const SpectralDensity& J, double T, double w) {
  return kappa_emission(J, T, w) + kappa_absorption(J, T, w);
}

LambShiftParts lamb_shift_quadrature(const SpectralDensity& J, double T, double w) {
  require_lamb_shift_inputs(J, T, w);
  const Context c(J, T);
  LambShiftParts out;
  if (w != 0.0) {
    out.emission = s_plus_quad(c, w);
    out.absorption = s_minus_quad(c, w);
  } else if (T == 0.0) {
    out.emission = s_zero_total_quad(c);
  } else {
    out.emission = s_plus_zero_quad(c);
    out.absorption = s_minus_zero_quad(c);
  }
  return out;
}

std::optional<double> lamb_shift_slope(const SpectralDensity& J, double T, double w, int part) {
  require_lamb_shift_inputs(J, T, w);
  if (w == 0.0 || !slope_by_parts(J, T)) return std::nullopt;
  const Context c(J, T);
  if (c.bounded && (std::abs(w) == c.lo || std::abs(w) == c.hi)) return std::nullopt;
  const ZeroLimits z = zero_limits(J, T);
  auto f_plus = [&](double x) { return kappa_plus(J, T, x); };
  auto f_minus = [&](double x) { return kappa_n(J, T, x); };
  double slope = 0.0;
  if (part >= 0) {  // S_+ = (1/2pi) PV int f_+(x)/(w - x) dx: the pole lies on the path for w > 0
    slope += (w > 0.0 ? pv_integral_slope(
                            c, f_plus, [&](double x) { return kappa_slope(J, x) + kappa_n_slope(J, T, x); },
                            c.lo == 0.0 ? z.kappa0 + z.kn0 : f_plus(c.lo), w)
                      : outside_integral_slope(c, f_plus, w)) /
             kTwoPi;
  }
  if (part <= 0 && T > 0.0) {  // S_- = -(1/2pi) PV int f_-(x)/(v - x) dx at v = -w: dS_-/dw = d/dv of it / 2pi
    const double v = -w;
    slope += (v > 0.0 ? pv_integral_slope(c, f_minus, [&](double x) { return kappa_n_slope(J, T, x); },
                                          c.lo == 0.0 ? z.kn0 : f_minus(c.lo), v)
                      : outside_integral_slope(c, f_minus, v)) /
             kTwoPi;
  }
  return slope;
}

LambShiftParts lamb_shift(const SpectralDensity& J, double T, double w) {
  require_lamb_shift_inputs(J, T, w);
  if (J.kind == SpectralKind::ohmic_exp && T == 0.0) return {exp_total_zero_t(J.gamma, J.cutoff, w), 0.0};
  if (J.kind != SpectralKind::ohmic_drude) return lamb_shift_quadrature(J, T, w);
  const double total = drude_total(J.gamma, J.cutoff, T, w);
  if (T == 0.0) return {total, 0.0};
  // The split has no closed form (docs/lamb-shift.md): compute the part whose integrand has no pole
  // on the integration path by quadrature, the other one as the difference.
  const Context c(J, T);
  LambShiftParts out;
  if (w > 0.0) {
    out.absorption = s_minus_quad(c, w);
    out.emission = total - out.absorption;
  } else if (w < 0.0) {
    out.emission = s_plus_quad(c, w);
    out.absorption = total - out.emission;
  } else {
    out.absorption = s_minus_zero_quad(c);
    out.emission = total - out.absorption;
  }
  return out;
}

double lamb_shift_total(const SpectralDensity& J, double T, double w) {
  require_lamb_shift_inputs(J, T, w);
  if (J.kind == SpectralKind::ohmic_drude) return drude_total(J.gamma, J.cutoff, T, w);
  if (J.kind == SpectralKind::ohmic_exp && T == 0.0) return exp_total_zero_t(J.gamma, J.cutoff, w);
  const Context c(J, T);
  if (w == 0.0) return s_zero_total_quad(c);
  return s_plus_quad(c, w) + s_minus_quad(c, w);
}

bool lamb_shift_split_finite(const SpectralDensity& J, double T, double w) {
  if (w != 0.0 || !J.lamb_shift_finite()) return true;
  require_temperature(T);
  return !split_diverges_at_zero(J, T);
}

namespace detail {

std::complex<double> digamma(std::complex<double> z) {
  using cplx = std::complex<double>;
  if (z.real() < 0.5) {  // reflection psi(1 - z) - psi(z) = pi cot(pi z)
    return digamma(1.0 - z) - kPi / std::tan(kPi * z);
  }
  cplx shift = 0.0;
  while (std::norm(z) < 144.0) {  // psi(z) = psi(z + 1) - 1/z until |z| >= 12
    shift -= 1.0 / z;
    z += 1.0;
  }
  const cplx r = 1.0 / z;
  const cplx r2 = r * r;
  const cplx series =
      r2 * (1.0 / 12.0 -
            r2 * (1.0 / 120.0 -
                  r2 * (1.0 / 252.0 -
                        r2 * (1.0 / 240.0 - r2 * (1.0 / 132.0 - r2 * (691.0 / 32760.0 - r2 / 12.0))))));
  return std::log(z) - 0.5 * r - series + shift;
}

double exp_ei(double y) {
  if (y < 0.0) return -exp_e1(-y);
  if (y <= 40.0) return std::exp(-y) * boost::math::expint(y);
  // Asymptotic series e^{-y} Ei(y) ~ sum_k k!/y^{k+1}; truncation error < e^{-40} relative.
  double term = 1.0 / y;
  double sum = term;
  for (int k = 1; k < 60; ++k) {
    const double next = term * static_cast<double>(k) / y;
    if (next >= term) break;
    term = next;
    sum += term;
    if (term < 1e-18 * sum) break;
  }
  return sum;
}

}  // namespace detail

}  // namespace qheat
