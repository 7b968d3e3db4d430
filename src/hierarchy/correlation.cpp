// Exponential expansions of a Drude bath's correlation function for the hierarchy (docs/methods.md, "HEOM").
#include <boost/math/special_functions/polygamma.hpp>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "qheat/core/linalg.hpp"
#include "qheat/hierarchy/heom.hpp"

namespace qheat {

std::string decomposition_name(HeomDecomposition d) { return d == HeomDecomposition::pade ? "pade" : "matsubara"; }

HeomDecomposition parse_heom_decomposition(const std::string& text) {
  if (text == "pade") return HeomDecomposition::pade;
  if (text == "matsubara") return HeomDecomposition::matsubara;
  throw MethodError("heom-decomposition", "--heom-decomposition expects pade or matsubara, got '" + text + "'");
}

std::string terminator_name(HeomTerminator t) {
  switch (t) {
    case HeomTerminator::off: return "off";
    case HeomTerminator::ishizaki_tanimura: return "ishizaki-tanimura";
    case HeomTerminator::second_order: break;
  }
  return "second-order";
}

HeomTerminator parse_heom_terminator(const std::string& text) {
  if (text == "ishizaki-tanimura" || text == "on") return HeomTerminator::ishizaki_tanimura;
  if (text == "second-order") return HeomTerminator::second_order;
  if (text == "off") return HeomTerminator::off;
  throw MethodError("heom-terminator",
                    "--heom-terminator expects ishizaki-tanimura (or on), second-order or off, got '" + text + "'");
}

double CorrelationExpansion::imaginary_at_zero() const {
  double s = 0.0;
  for (const CorrelationTerm& t : terms) s += t.c.imag();
  return s;
}

namespace {

constexpr double kTaylorRadius = 0.25;
constexpr int kTaylorTerms = 40;

// psi^(n)(1 + p) / n!, n = 1 .. kTaylorTerms: the Taylor coefficients of the digamma quotient about p.
std::vector<double> quotient_taylor(double p) {
  std::vector<double> c;
  double factorial = 1.0;
  for (int n = 1; n <= kTaylorTerms; ++n) {
    factorial *= n;
    c.push_back(boost::math::polygamma(n, 1.0 + p) / factorial);
  }
  return c;
}

// (psi(1 + q) - psi(1 + p)) / (q - p) = sum_k 1/((k + p)(k + q)) for real p > -1 and Re q > -1; near q = p
// from the Taylor series sum_n psi^(n)(1 + p) (q - p)^(n-1) / n! (the quotient is smooth there), whose
// coefficients `taylor` depend on p only and are computed once per bath.
cplx digamma_quotient(double p, cplx q, const std::vector<double>& taylor) {
  const cplx delta = q - p;
  if (std::abs(delta) > kTaylorRadius || taylor.empty())
    return (detail::digamma(1.0 + q) - detail::digamma(cplx(1.0 + p, 0.0))) / delta;
  cplx sum = 0.0, power = 1.0;
  for (double c : taylor) {
    const cplx term = c * power;
    sum += term;
    if (std::abs(term) < 1e-17 * std::abs(sum)) break;
    power *= delta;
  }
  return sum;
}

}  // namespace

cplx CorrelationExpansion::residual_transform(double w, double damping) const {
  // docs/methods.md eq. H4b: the sum over all Matsubara poles nu_k = 2 pi k T of c_k / (nu_k + damping - i w),
  // with c_k / (nu_k - b) = 2 lambda g T [1/((nu_k - g)(nu_k - b)) + 1/((nu_k + g)(nu_k - b))], in closed form
  // (lambda g / 2 pi^2 T) [D(-x, q) + D(x, q)], x = g/2piT, q = (damping - i w)/2piT, D the digamma quotient;
  // minus the kept Bose terms.
  const double g = cutoff, T = temperature, two_pi_t = 2.0 * std::numbers::pi * T;
  const cplx b(-damping, w);
  const double x = g / two_pi_t;
  const cplx q = -b / two_pi_t;
  cplx full = reorganisation * g / (2.0 * std::numbers::pi * std::numbers::pi * T) *
              (digamma_quotient(-x, q, taylor_minus) + digamma_quotient(x, q, taylor_plus));
  for (std::size_t k = 1; k < terms.size(); ++k) full -= terms[k].c / (terms[k].nu - b);
  return full;
}

namespace {

// Positive poles 2/lambda of the symmetric tridiagonal matrix with off-diagonal elements b_m, ascending.
std::vector<double> tridiagonal_poles(const std::vector<double>& offdiag, std::size_t count) {
  const auto n = static_cast<long>(offdiag.size()) + 1;
  rmat A = rmat::Zero(n, n);
  for (long m = 0; m + 1 < n; ++m) A(m, m + 1) = A(m + 1, m) = offdiag[static_cast<std::size_t>(m)];
  rvec w;
  rmat V;
  linalg::symmetric_eigen(A, w, V);  // ascending: the most negative eigenvalues first
  std::vector<double> poles;
  poles.reserve(count);
  for (std::size_t j = 0; j < count; ++j) poles.push_back(-2.0 / w(static_cast<long>(j)));
  return poles;
}

}  // namespace

PadePoles pade_poles(int n) {
  // Hu, Xu & Yan 2011, [N-1/N] scheme: xi from the 2N x 2N matrix with b_m = 1/sqrt((2m+1)(2m+3)),
  // zeta from the (2N-1) x (2N-1) matrix with b_m = 1/sqrt((2m+3)(2m+5)), m = 1, 2, ...
  PadePoles p;
  if (n <= 0) return p;
  std::vector<double> b, bt;
  for (int m = 1; m <= 2 * n - 1; ++m) b.push_back(1.0 / std::sqrt((2.0 * m + 1) * (2.0 * m + 3)));
  for (int m = 1; m <= 2 * n - 2; ++m) bt.push_back(1.0 / std::sqrt((2.0 * m + 3) * (2.0 * m + 5)));
  p.xi = tridiagonal_poles(b, static_cast<std::size_t>(n));
  const std::vector<double> zeta = n > 1 ? tridiagonal_poles(bt, static_cast<std::size_t>(n - 1)) : std::vector<double>{};
  // eta_j = N(2N+3)/2 prod_k (zeta_k^2 - xi_j^2) / prod_{k != j} (xi_k^2 - xi_j^2)
  for (int j = 0; j < n; ++j) {
    double e = 0.5 * n * (2.0 * n + 3.0);
    const double x2 = p.xi[static_cast<std::size_t>(j)] * p.xi[static_cast<std::size_t>(j)];
    for (double z : zeta) e *= z * z - x2;
    for (int k = 0; k < n; ++k)
      if (k != j) e /= p.xi[static_cast<std::size_t>(k)] * p.xi[static_cast<std::size_t>(k)] - x2;
    p.eta.push_back(e);
  }
  return p;
}

CorrelationExpansion drude_correlation(const SpectralDensity& J, double T, HeomDecomposition decomposition, int terms) {
  if (J.kind != SpectralKind::ohmic_drude)
    throw MethodError("heom-spectral", "the HEOM method needs Drude baths (spectral kind 'drude', kappa(w) = gamma w / "
                                       "(1 + (w/cutoff)^2)); this bath's spectral density is " + J.describe());
  if (!(T > 0.0))
    throw MethodError("heom-temperature", "the HEOM method needs every bath temperature > 0 (the Pade and Matsubara "
                                          "expansions of C(t) do not exist at T = 0)");
  if (terms < 0) throw MethodError("heom-terms", "--heom-terms must be >= 0");
  const double g = J.cutoff;
  CorrelationExpansion e;
  // lambda = (1/pi) int J(w)/w dw with J = kappa/2 (docs/methods.md eq. H1).
  const double lam = 0.25 * J.gamma * g;
  e.reorganisation = lam;
  e.temperature = T;
  e.cutoff = g;
  // eq. H4b's series about q = +-x, x = g/2piT (q = (damping - i w)/2piT has Re q >= 0, so q comes within the
  // Taylor radius of -x only when x is that small)
  const double x = g / (2.0 * std::numbers::pi * T);
  e.taylor_plus = quotient_taylor(x);
  if (x <= kTaylorRadius) e.taylor_minus = quotient_taylor(-x);
  const double cot = 1.0 / std::tan(g / (2.0 * T));
  // Drude pole, docs/methods.md eq. H2.
  e.terms.push_back({lam * g * cplx(cot, -1.0), g});
  std::vector<double> xi, eta;
  if (decomposition == HeomDecomposition::pade) {
    const PadePoles p = pade_poles(terms);
    xi = p.xi;
    eta = p.eta;
  } else {
    for (int k = 1; k <= terms; ++k) {
      xi.push_back(2.0 * std::numbers::pi * k);
      eta.push_back(1.0);
    }
  }
  // Bose-function poles nu_k = xi_k T, c_k = 4 eta_k lambda g T nu_k / (nu_k^2 - g^2): eq. H3.
  double kept = 0.0;
  for (std::size_t k = 0; k < xi.size(); ++k) {
    const double nu = xi[k] * T;
    const double den = nu * nu - g * g;
    if (std::abs(den) < 1e-12 * g * g)
      throw MethodError("heom-temperature", "a " + decomposition_name(decomposition) +
                                                " frequency coincides with the Drude cutoff (nu = cutoff = " +
                                                std::to_string(g) + "); change the temperature or the cutoff slightly");
    const double c = 4.0 * eta[k] * lam * g * T * nu / den;
    e.terms.push_back({cplx(c, 0.0), nu});
    kept += c / nu;
  }
  // Terminator, eq. H4: sum over all Bose poles of c_k/nu_k is lambda (2T/g - cot(g/2T)).
  e.terminator = lam * (2.0 * T / g - cot) - kept;
  return e;
}

}  // namespace qheat
