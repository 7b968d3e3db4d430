// Spectral densities in the rate-function normalisation kappa(w) = 2 pi sum_k |g_k|^2 delta(w - w_k),
// the Bose function, the thermal rate kappa~(w) and the Lamb-shift function S(w) (docs/conventions.md).
#pragma once

#include <complex>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qheat {

enum class SpectralKind {
  flat,          // kappa(w) = gamma                                   (w > 0)
  ohmic_exp,     // kappa(w) = gamma * w * exp(-w / wc)                 (Kong: gamma = pi*alpha)
  ohmic_drude,   // kappa(w) = gamma * w / (1 + (w / wc)^2)             (Zhang: gamma = 2*gamma_Zhang)
  power_law,     // kappa(w) = gamma * w^s * wc^(1-s) * exp(-w / wc)    (s = 1 is ohmic_exp)
  tabulated      // kappa(w) by monotone cubic interpolation of (w_i, kappa_i), 0 beyond the table
};

struct SpectralDensity {
  SpectralKind kind = SpectralKind::flat;
  double gamma = 0.0;   // overall strength
  double cutoff = 0.0;  // wc (exp / drude / power_law)
  double s = 1.0;       // exponent (power_law)
  std::vector<double> table_w, table_kappa;  // tabulated

  // kappa(w) for w > 0; 0 for w <= 0.
  [[nodiscard]] double kappa(double w) const;
  // True when S(w) is finite (every kind but flat).
  [[nodiscard]] bool lamb_shift_finite() const { return kind != SpectralKind::flat; }
  // ... and at temperature T: a table starting at w = 0 with kappa > 0 has S infinite at every w when T > 0
  // (docs/lamb-shift.md, section 7). Jumps at other table ends make S infinite only at those frequencies.
  [[nodiscard]] bool lamb_shift_finite(double T) const {
    return lamb_shift_finite() && !(kind == SpectralKind::tabulated && !table_w.empty() && table_w.front() == 0.0 &&
                                    table_kappa.front() > 0.0 && T > 0.0);
  }
  [[nodiscard]] std::string describe() const;
};

// Bose-Einstein occupation n(w) = 1/(exp(w/T) - 1) for w > 0; 0 at T = 0.
double bose(double w, double T);

// Thermal rate functions split by sign of the exchanged energy, used by both coupling kinds:
//  emission  kappa_+(w) = kappa(w)(1 + n(w))      for w > 0, 0 otherwise
//  absorption kappa_-(w) = kappa(|w|) n(|w|)       for w < 0, 0 otherwise
// and kappa~(w) = kappa_+(w) + kappa_-(w) (the odd thermal extension); w = 0 takes the limit.
double kappa_emission(const SpectralDensity& J, double T, double w);
double kappa_absorption(const SpectralDensity& J, double T, double w);
double kappa_thermal(const SpectralDensity& J, double T, double w);

// Lamb-shift functions (conventions.md):
//  S_+(w) = (1/2pi) PV int_0^inf kappa(x)(1+n(x)) / (w - x) dx
//  S_-(w) = (1/2pi) PV int_0^inf kappa(x) n(x) / (w + x) dx
//  S(w)   = S_+(w) + S_-(w) = (1/2pi) PV int kappa~(x) / (w - x) dx
// Closed forms where they exist, adaptive principal-value quadrature otherwise.
// Throws MethodError("lamb-shift-infinite") for a flat spectral density.
struct LambShiftParts {
  double emission = 0.0;    // S_+(w)
  double absorption = 0.0;  // S_-(w)
  [[nodiscard]] double total() const { return emission + absorption; }
};
LambShiftParts lamb_shift(const SpectralDensity& J, double T, double w);

// dS/dw (part 0), dS_+/dw (+1) or dS_-/dw (-1) at w != 0, one quadrature per part: where w lies on a part's
// integration path the derivative is moved onto the rate (PV int kappa_+'(x)/(w - x) dx plus end terms),
// elsewhere it is -int kappa_+(x)/(w - x)^2 dx. nullopt where that integration by parts does not hold (w = 0;
// a power law with s < 1, or 1 < s < 2 at T > 0, whose kappa n or its derivative is unbounded at 0; w at a
// table's end); callers then differentiate lamb_shift numerically.
std::optional<double> lamb_shift_slope(const SpectralDensity& J, double T, double w, int part);

// The same by adaptive quadrature only (for tests of the closed forms and for kinds without one).
LambShiftParts lamb_shift_quadrature(const SpectralDensity& J, double T, double w);

// ---- additions (docs/lamb-shift.md) -------------------------------------------------------------
// Throws ModelError when the parameters cannot describe a spectral density: gamma < 0, cutoff <= 0
// (ohmic_exp, ohmic_drude, power_law), s <= 0 (power_law), or a table that is not strictly increasing
// in w >= 0 with finite kappa_i >= 0 (at least two nodes). The tabulated kind ignores gamma.
// lamb_shift, lamb_shift_total and lamb_shift_quadrature call it.
void validate_spectral_density(const SpectralDensity& J);

// S(w) = S_+(w) + S_-(w) alone, by the fastest route: closed forms where they exist (ohmic_drude at any
// T, ohmic_exp at T = 0), quadrature otherwise. For ohmic_drude at T > 0 this is ~80 ns, whereas
// lamb_shift() also needs one quadrature for the split (~3.5 us). Hermitian couplings need only this.
double lamb_shift_total(const SpectralDensity& J, double T, double w);

// False exactly when S_+(w) and S_-(w) are separately infinite although S(w) is finite: w = 0, T > 0,
// and kappa(x) n(x) does not vanish as x -> 0+ (ohmic and sub-ohmic onsets). lamb_shift() then returns
// the finite parts defined in docs/lamb-shift.md (their sum is the exact S(0)); an exchange coupling
// whose operator has a zero-frequency component A(0) with [A(0), A(0)^dag] != 0 has an infinite Lamb
// shift there and should report it.
bool lamb_shift_split_finite(const SpectralDensity& J, double T, double w);

namespace detail {
// Digamma function of a complex argument (reflection, recurrence to |z| >= 12, asymptotic series;
// absolute error ~1e-15 max(1, |psi|)).
std::complex<double> digamma(std::complex<double> z);
// exp(-y) Ei(y) for real y != 0 (for y < 0 this is -exp(|y|) E1(|y|)); finite for every finite y.
double exp_ei(double y);
}  // namespace detail

}  // namespace qheat
