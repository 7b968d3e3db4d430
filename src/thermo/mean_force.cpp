// Mean-force Gibbs state to second order in the system-bath coupling (docs/methods.md,
// "Mean-force Gibbs state (Zhang eq. 20)").
#include "qheat/thermo/mean_force.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <exception>
#include <fmt/format.h>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "../generators/detail.hpp"
#include "qheat/baths/spectral.hpp"
#include "qheat/core/interrupt.hpp"
#include "qheat/core/linalg.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/operators/charge.hpp"

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
  const cmat* P;  // eigenbasis
  const cmat* Q;
  int part = 0;  // c: 0 total (hermitian), +1 emission, -1 absorption
  [[nodiscard]] int conjugate() const { return -part; }
};

// Runs f(i) for i in [0, n) on thread_count() threads (dynamic chunks: a quadrature's cost varies with
// the frequency); the first exception of any thread is rethrown, and an interrupt stops every thread.
template <class F>
void for_each_index(std::size_t n, const F& f) {
  constexpr std::size_t kChunk = 64;
  const auto threads = static_cast<std::size_t>(std::max(1, std::min<int>(thread_count(), static_cast<int>(n / kChunk))));
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto run = [&]() {
    try {
      for (std::size_t begin = next.fetch_add(kChunk); begin < n && !stop; begin = next.fetch_add(kChunk)) {
        if (interrupt_requested()) break;
        for (std::size_t i = begin; i < std::min(n, begin + kChunk); ++i) f(i);
      }
    } catch (...) {
      const std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      stop = true;
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(run);
  run();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  throw_if_interrupted();
}

// The frequencies at which S_part (derivative false) or S_part' (true) is needed, gathered over a
// bath's channels; each list is evaluated once, a distinct frequency once (frequencies equal within
// the degeneracy tolerance are one, detail::cluster_values, the generators' rule for Bohr frequencies).
class LambRequests {
public:
  // Appends w (times sign) to the list of (part, derivative); returns where it starts.
  std::size_t add(int part, bool derivative, const std::vector<double>& w, double sign) {
    std::vector<double>& list = lists_[{part, derivative}];
    const std::size_t at = list.size();
    for (double x : w) list.push_back(sign * x);
    return at;
  }
  // Replaces every list by the values there.
  void evaluate(const SpectralDensity& J, double T, double tol) {
    for (auto& [key, list] : lists_) {
      const auto [part, derivative] = key;
      std::vector<int> cluster_of;
      const std::vector<double> reps = detail::cluster_values(list, tol, cluster_of);
      if (derivative && part != 0 && std::find(reps.begin(), reps.end(), 0.0) != reps.end() &&
          !lamb_shift_split_finite(J, T, 0.0))
        throw MethodError("mean-force-zero-frequency",
                          "the exchange coupling has a zero-frequency component where S_+ and S_- diverge "
                          "separately (" + J.describe() + "): its mean-force correction is infinite");
      std::vector<double> at(reps.size());
      for_each_index(reps.size(), [&, part = part, derivative = derivative](std::size_t i) {
        at[i] = derivative ? lamb_shift_derivative(J, T, reps[i], part) : lamb_part(J, T, reps[i], part);
      });
      for (std::size_t i = 0; i < list.size(); ++i) list[i] = at[static_cast<std::size_t>(cluster_of[i])];
    }
  }
  [[nodiscard]] const std::vector<double>& values(int part, bool derivative) const {
    return lists_.at({part, derivative});
  }

private:
  std::map<std::pair<int, bool>, std::vector<double>> lists_;
};

// The Bohr frequencies E_row - E_col at the elements of X above round-off, column by column (the order
// in which for_pattern visits them).
template <class Visit>
void for_pattern(const cmat& X, const Visit& visit) {
  const double thr = detail::element_threshold(X);
  for (long col = 0; col < X.cols(); ++col)
    for (long row = 0; row < X.rows(); ++row)
      if (std::abs(X(row, col)) > thr) visit(row, col);
}
std::vector<double> pattern_frequencies(const cmat& X, const rvec& E) {
  std::vector<double> w;
  for_pattern(X, [&](long row, long col) { w.push_back(E(row) - E(col)); });
  return w;
}

// Where one channel's lists start in LambRequests (P's pattern: w_nk; Q's pattern: w_mk = E_m - E_k).
struct ChannelRequests {
  std::size_t c_on_p, c_on_q, d_on_p, d_on_q, dc_on_p, dd_on_p;
};

ChannelRequests request(const Channel& ch, const rvec& E, LambRequests& req) {
  const std::vector<double> wp = pattern_frequencies(*ch.P, E);  // w_nk
  const std::vector<double> wq = pattern_frequencies(*ch.Q, E);  // w_km; w_mk = -w_km
  const int c = ch.part, d = ch.conjugate();
  return {req.add(c, false, wp, 1.0),  req.add(c, false, wq, -1.0), req.add(d, false, wp, -1.0),
          req.add(d, false, wq, 1.0),  req.add(c, true, wp, 1.0),   req.add(d, true, wp, -1.0)};
}

// One channel's term of M (Zhang eq. 20 as re-derived in docs/methods.md, "Mean-force Gibbs state"):
//  E_n != E_m: M_nm = sum_k P_nk Q_km [tau_n S_c(w_nk) - tau_m S_c(w_mk) + tau_k (S_d(w_kn) - S_d(w_km))] / w_nm
//  E_n == E_m: M_nm = sum_k P_nk Q_km [tau_n S_c'(w_nk) - tau_k S_d'(w_kn) - beta tau_n S_c(w_nk)]
// as matrix products: the first is (A Q - P B)_nm / w_nm with A_nk = P_nk [tau_n S_c(w_nk) + tau_k S_d(w_kn)]
// and B_km = Q_km [tau_m S_c(w_mk) + tau_k S_d(w_km)]; the second (G Q)_nm with G_nk = P_nk [tau_n (S_c'(w_nk)
// - beta S_c(w_nk)) - tau_k S_d'(w_kn)], taken for the blocks of degenerate levels only.
template <class Mat>
void add_channel_term(const Channel& ch, const ChannelRequests& at, const LambRequests& req, const rvec& E,
                      const std::vector<std::vector<int>>& sectors, const rvec& tau, double beta, double tol, cmat& M) {
  const long d = E.size();
  // The real case takes real copies (its products cost a quarter); the complex one the operators themselves.
  auto of = [](const cmat& X) {
    if constexpr (std::is_same_v<typename Mat::Scalar, double>) return rmat(X.real());
    else return Eigen::Ref<const cmat>(X);
  };
  const auto P = of(*ch.P);
  const auto Q = of(*ch.Q);
  const int c = ch.part, dd = ch.conjugate();
  const std::vector<double>&sc = req.values(c, false), &sd = req.values(dd, false);
  const std::vector<double>&dsc = req.values(c, true), &dsd = req.values(dd, true);
  Mat A = Mat::Zero(d, d), B = Mat::Zero(d, d), G = Mat::Zero(d, d);
  std::size_t i = 0;
  for_pattern(*ch.P, [&](long n, long k) {
    const double s_c = sc[at.c_on_p + i], s_d = sd[at.d_on_p + i];
    A(n, k) = P(n, k) * (tau(n) * s_c + tau(k) * s_d);
    G(n, k) = P(n, k) * (tau(n) * (dsc[at.dc_on_p + i] - beta * s_c) - tau(k) * dsd[at.dd_on_p + i]);
    ++i;
  });
  i = 0;
  for_pattern(*ch.Q, [&](long k, long m) {
    B(k, m) = Q(k, m) * (tau(m) * sc[at.c_on_q + i] + tau(k) * sd[at.d_on_q + i]);
    ++i;
  });
  Mat N = product_by_sectors(A, Q, sectors);
  N -= product_by_sectors(P, B, sectors);
  A.resize(0, 0);
  B.resize(0, 0);
  // Blocks of consecutive levels (energies ascending) closer than tol: only there E_n == E_m can hold.
  for (long b0 = 0; b0 < d;) {
    long b1 = b0 + 1;
    while (b1 < d && E(b1) - E(b1 - 1) <= tol) ++b1;
    const long len = b1 - b0;
    const Mat D = G.middleRows(b0, len) * Q.middleCols(b0, len);
    for (long m = b0; m < b1; ++m)
      for (long n = b0; n < b1; ++n)
        if (std::abs(E(n) - E(m)) <= tol) N(n, m) = D(n - b0, m - b0);
        else N(n, m) /= E(n) - E(m);
    for (long m = 0; m < d; ++m) {
      if (m >= b0 && m < b1) continue;
      for (long n = b0; n < b1; ++n) N(n, m) /= E(n) - E(m);
    }
    b0 = b1;
  }
  if constexpr (std::is_same_v<typename Mat::Scalar, double>) M.real() += N;
  else M += N;
}

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
  // A closed-form S is differentiated numerically (~20 evaluations of ~80 ns); a quadrature once, by parts.
  const bool closed_total = J.kind == SpectralKind::ohmic_drude || (J.kind == SpectralKind::ohmic_exp && T == 0.0);
  if (part != 0 || !closed_total)
    if (const std::optional<double> slope = lamb_shift_slope(J, T, w, part)) return *slope;
  return ridders_derivative([&](double x) { return lamb_part(J, T, x, part); }, w,
                            0.1 * variation_scale(J, T, w, part));
}

std::size_t mean_force_bytes(const Model& model, const MeanForceOptions& options) {
  const auto d = static_cast<std::size_t>(model.hamiltonian.rows());
  const std::size_t cm = d * d * sizeof(cplx), rm = d * d * sizeof(double);
  // Held throughout: eigenvectors, tau, rho^(2) and M (or rho at the end, with from_eigen's product).
  const std::size_t held = 4 * cm;
  const std::size_t diagonalisation = 3 * cm;  // the matrix, LAPACK's workspace, the eigenvectors
  std::size_t peak = held + std::max(diagonalisation, cm);
  if (options.order != 2) return peak;
  const bool real_h = linalg::is_real(model.hamiltonian);
  for (const Bath& b : model.baths) {
    const bool hermitian = b.coupling == CouplingKind::hermitian;
    const bool real = real_h && linalg::is_real(b.op);
    const std::size_t ops = (hermitian ? 1 : 2) * cm;
    // S and S' on the operator's pattern (at most d^2 elements): 6 lists per channel.
    const std::size_t lists = (hermitian ? 6 : 12) * rm;
    // cluster_values on the longest list (4 per pattern element): its order (8 bytes) and clusters (4 bytes).
    const std::size_t clustering = 4 * d * d * (sizeof(std::size_t) + sizeof(int));
    // A channel's term: real copies of P and Q with A, B, G and the product N; or the complex A, B, G, N.
    const std::size_t channel = real ? 6 * rm : 4 * cm;
    peak = std::max(peak, held + ops + lists + std::max(clustering, channel));
  }
  return peak;
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
  MeanForceOptions zeroth = options;
  zeroth.order = 0;
  check_memory(mean_force_bytes(model, options),
               fmt::format("the mean-force Gibbs state of {} levels", model.hamiltonian.rows()),
               options.order == 2 ? "order 0 needs " + format_bytes(mean_force_bytes(model, zeroth)) + "; fewer levels need less"
                                  : "fewer levels need less");
  out.basis = diagonalize(model.hamiltonian, excitation_numbers(model.space));
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
      cmat Xd;
      std::vector<Channel> channels;
      if (b.coupling == CouplingKind::hermitian) {
        channels.push_back({&X, &X, 0});
      } else {  // H_SB = A B^dag + A^dag B: <B^dag(u) B> pairs A(u1) A^dag(u2), <B(u) B^dag> pairs A^dag(u1) A(u2)
        Xd = X.adjoint();
        channels.push_back({&X, &Xd, -1});
        channels.push_back({&Xd, &X, +1});
      }
      LambRequests req;
      std::vector<ChannelRequests> at;
      at.reserve(channels.size());
      for (const Channel& ch : channels) at.push_back(request(ch, E, req));
      req.evaluate(b.spectral, T, tol);
      for (std::size_t k = 0; k < channels.size(); ++k) {
        const Channel& ch = channels[k];
        if (linalg::is_real(*ch.P) && linalg::is_real(*ch.Q))
          add_channel_term<rmat>(ch, at[k], req, E, out.basis.level_sectors, tau, beta, tol, M);
        else
          add_channel_term<cmat>(ch, at[k], req, E, out.basis.level_sectors, tau, beta, tol, M);
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
