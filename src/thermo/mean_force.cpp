// Mean-force Gibbs state to second order in the system-bath coupling (docs/methods.md,
// "Mean-force Gibbs state (Zhang eq. 20)").
#include "qheat/thermo/mean_force.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "qheat/baths/spectral.hpp"

namespace qheat {

namespace {

// Ridders' method: central differences at steps h0, h0/1.4, ... extrapolated to h -> 0 (Numerical
// Recipes' dfridr); returns the estimate with the smallest extrapolation error.
template <class F>
double ridders_derivative(const F& f, double x, double h0) {
  constexpr int kTab = 10;
  constexpr double kCon = 1.4, kCon2 = kCon * kCon, kSafe = 2.0;
  std::array<std::array<double, kTab>, kTab> a{};
  double h = h0;
  a[0][0] = (f(x + h) - f(x - h)) / (2.0 * h);
  double err = std::numeric_limits<double>::max();
  double ans = a[0][0];
  for (std::size_t i = 1; i < kTab; ++i) {
    h /= kCon;
    a[0][i] = (f(x + h) - f(x - h)) / (2.0 * h);
    double fac = kCon2;
    for (std::size_t j = 1; j <= i; ++j) {
      a[j][i] = (a[j - 1][i] * fac - a[j - 1][i - 1]) / (fac - 1.0);
      fac *= kCon2;
      const double errt = std::max(std::abs(a[j][i] - a[j - 1][i]), std::abs(a[j][i] - a[j - 1][i - 1]));
      if (errt <= err) {
        err = errt;
        ans = a[j][i];
      }
    }
    if (std::abs(a[i][i] - a[i - 1][i - 1]) >= kSafe * err) break;
  }
  return ans;
}

// The frequency scale on which S varies: temperature, cutoff, table spacing, and for the split parts
// near w = 0 the distance to their logarithmic singularity.
double variation_scale(const SpectralDensity& J, double T, double w, int part) {
  double s = std::numeric_limits<double>::infinity();
  if (T > 0.0) s = std::min(s, T);
  if (J.kind == SpectralKind::tabulated) {
    for (std::size_t k = 1; k < J.table_w.size(); ++k) s = std::min(s, J.table_w[k] - J.table_w[k - 1]);
  } else if (J.kind != SpectralKind::flat) {
    s = std::min(s, J.cutoff);
  }
  if (part != 0 && w != 0.0) s = std::min(s, std::abs(w));
  if (!std::isfinite(s)) s = std::max(1.0, std::abs(w));
  return s;
}

double lamb_part(const SpectralDensity& J, double T, double w, int part) {
  if (part == 0) return lamb_shift_total(J, T, w);
  const LambShiftParts p = lamb_shift(J, T, w);
  return part > 0 ? p.emission : p.absorption;
}

// One bath channel of the second-order expansion: the term P(u1) Q(u2) <B_P(u1) B_Q(u2)> of
// exp(-beta H) in imaginary time, with rate function kappa_c (S_c its Lamb-shift function) and the
// conjugate channel d of the KMS relation kappa_c(w) e^{-beta w} = kappa_d(-w).
struct Channel {
  cmat P, Q;     // eigenbasis
  int part = 0;  // c: 0 total (hermitian), +1 emission, -1 absorption
  const SpectralDensity* J = nullptr;
  [[nodiscard]] int conjugate() const { return -part; }
};

// S_c(w) and S_c'(w) by frequency, evaluated once per distinct frequency (within the tolerance).
class LambCache {
public:
  LambCache(const SpectralDensity& J, double T, double tol) : J_(J), T_(T), tol_(tol) {}
  double value(double w, int part) { return lookup(values_, w, part, false); }
  double derivative(double w, int part) { return lookup(derivs_, w, part, true); }

private:
  using Table = std::map<std::pair<int, double>, double>;
  double lookup(Table& t, double w, int part, bool deriv) {
    const double key = tol_ > 0.0 ? std::round(w / tol_) * tol_ : w;
    const auto it = t.find({part, key});
    if (it != t.end()) return it->second;
    double v = 0.0;
    if (!deriv) {
      v = lamb_part(J_, T_, w, part);
    } else {
      if (part != 0 && w == 0.0 && !lamb_shift_split_finite(J_, T_, 0.0))
        throw MethodError("mean-force-zero-frequency",
                          "the exchange coupling has a zero-frequency component where S_+ and S_- diverge "
                          "separately (" + J_.describe() + "): its mean-force correction is infinite");
      const double h0 = 0.1 * variation_scale(J_, T_, w, part);
      v = ridders_derivative([&](double x) { return lamb_part(J_, T_, x, part); }, w, h0);
    }
    t.emplace(std::make_pair(part, key), v);
    return v;
  }
  const SpectralDensity& J_;
  double T_;
  double tol_;
  Table values_, derivs_;
};

double common_temperature(const Model& model) {
  if (model.baths.empty()) throw MethodError("mean-force-temperature", "the model has no bath");
  const double T = model.baths.front().temperature;
  for (const Bath& b : model.baths)
    if (std::abs(b.temperature - T) > 1e-12 * std::max(std::abs(T), std::abs(b.temperature)))
      throw MethodError("mean-force-temperature",
                        fmt::format("the mean-force Gibbs state needs one temperature for all baths; bath '{}' "
                                    "has T = {} and bath '{}' has T = {}",
                                    model.baths.front().name, T, b.name, b.temperature));
  return T;
}

}  // namespace

double lamb_shift_derivative(const SpectralDensity& J, double T, double w, int part) {
  return ridders_derivative([&](double x) { return lamb_part(J, T, x, part); }, w,
                            0.1 * variation_scale(J, T, w, part));
}

MeanForceState mean_force_gibbs(const Model& model, const MeanForceOptions& options) {
  if (options.order != 0 && options.order != 2)
    throw MethodError("mean-force-order", fmt::format("order must be 0 or 2, not {}", options.order));
  const double T = common_temperature(model);
  if (options.order == 2 && !(T > 0.0))
    throw MethodError("mean-force-temperature",
                      "the second-order mean-force correction needs T > 0 (use order 0 at T = 0)");
  if (options.order == 2)
    for (const Bath& b : model.baths)
      if (!b.spectral.lamb_shift_finite(T))
        throw MethodError("lamb-shift-infinite",
                          "bath '" + b.name + "' has a " + b.spectral.describe() +
                              ", whose Lamb shift is infinite: the second-order mean-force correction needs it "
                              "finite (give the bath a cutoff, or use --order 0)");

  MeanForceState out;
  out.temperature = T;
  out.order = options.order;
  out.basis = diagonalize(model.hamiltonian);
  const rvec& E = out.basis.energies;
  const long d = E.size();
  const double tol = options.degeneracy_tolerance * std::max(1.0, E.cwiseAbs().maxCoeff());

  // Zeroth order: tau = exp(-beta H_S)/Z (T = 0: the uniform mixture of the ground manifold).
  rvec tau(d);
  for (long n = 0; n < d; ++n)
    tau(n) = T > 0.0 ? std::exp(-(E(n) - E(0)) / T) : (E(n) - E(0) <= tol ? 1.0 : 0.0);
  tau /= tau.sum();
  out.gibbs_eigen = tau.cast<cplx>().asDiagonal();
  out.correction_eigen = cmat::Zero(d, d);

  if (options.order == 2) {
    const double beta = 1.0 / T;
    cmat M = cmat::Zero(d, d);  // unnormalised correction; rho^(2) = M - tau Tr M
    for (const Bath& b : model.baths) {
      const cmat X = out.basis.to_eigen(b.op);
      std::vector<Channel> channels;
      if (b.coupling == CouplingKind::hermitian) {
        channels.push_back({X, X, 0, &b.spectral});
      } else {  // H_SB = A B^dag + A^dag B: <B^dag(u) B> pairs A(u1) A^dag(u2), <B(u) B^dag> pairs A^dag(u1) A(u2)
        const cmat Xd = X.adjoint();
        channels.push_back({X, Xd, -1, &b.spectral});
        channels.push_back({Xd, X, +1, &b.spectral});
      }
      LambCache S(b.spectral, T, tol);
      for (const Channel& ch : channels) {
        const int c = ch.part, cc = ch.conjugate();
        for (long n = 0; n < d; ++n)
          for (long m = 0; m < d; ++m) {
            cplx sum = 0.0;
            const double wnm = E(n) - E(m);
            const bool degenerate = std::abs(wnm) <= tol;
            for (long k = 0; k < d; ++k) {
              const cplx pq = ch.P(n, k) * ch.Q(k, m);
              if (pq == cplx(0.0)) continue;
              const double wnk = E(n) - E(k), wmk = E(m) - E(k);
              // Zhang eq. 20 (re-derived, docs/methods.md), per channel c with conjugate channel d:
              //  E_n != E_m: [tau_n S_c(w_nk) - tau_m S_c(w_mk) + tau_k (S_d(w_kn) - S_d(w_km))] / w_nm
              //  E_n == E_m: tau_n dS_c(w_nk) - tau_k dS_d(w_kn) - beta tau_n S_c(w_nk)   (dS = dS/dw)
              const double bracket =
                  degenerate ? tau(n) * S.derivative(wnk, c) - tau(k) * S.derivative(-wnk, cc) -
                                   beta * tau(n) * S.value(wnk, c)
                             : (tau(n) * S.value(wnk, c) - tau(m) * S.value(wmk, c) +
                                tau(k) * (S.value(-wnk, cc) - S.value(-wmk, cc))) /
                                   wnm;
              sum += pq * bracket;
            }
            M(n, m) += sum;
          }
      }
    }
    const cplx trace = M.trace();
    out.correction_eigen = M;
    for (long n = 0; n < d; ++n) out.correction_eigen(n, n) -= tau(n) * trace;
  }
  out.rho = out.basis.from_eigen(out.rho_eigen());
  return out;
}

}  // namespace qheat
