// Interaction-picture Magnus propagator with exact oscillatory integrals (docs/methods.md, "Floquet-Markov
// at scale").
//
// Over a step [t0, t0 + h] write U(t0 + tau) = e^{-i E tau} W(tau) U(t0) with i dW/dtau = V(tau) W and
//   V(tau)_mn = sum_j A~_j,mn e^{i (w_mn + nu_j) tau},   A~_j = A_j e^{i nu_j t0},  w_mn = E_m - E_n.
// The Magnus terms (Blanes, Casas, Oteo, Ros, Phys. Rep. 470, 151 (2009), eqs. (43)-(44)) are
//   Omega1 = -i int_0^h V,   Omega2 = -1/2 int_0^h dt1 int_0^t1 dt2 [V(t1), V(t2)] = -1/2 (Z - Z^dag),
//   Z_mn = sum_{j,l,r} A~_j,mr A~_l,rn W(w_mr + nu_j, w_rn + nu_l),
//   W(a, b) = int_0^h e^{i a t1} int_0^t1 e^{i b t2} = [phi(a + b) - phi(a)] / (i b),  phi(x) = int_0^h e^{i x t}.
// Since a + b = w_mn + nu_j + nu_l does not depend on r, Z is two matrix products per (j, l) with element-wise
// weights; entries with |b h| < 0.1 (near-resonant) are summed directly with a series for W. Every weight
// depends on t0 only through the phases e^{i nu t0}, so the products are formed once per step size.
#include "floquet_propagator.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <cmath>
#include <numbers>

#include "qheat/core/linalg.hpp"

namespace qheat::floquet_detail {
namespace {

constexpr double kSmallBeta = 0.1;  // |b h| below which W(a, b) is summed from its series in b
constexpr int kSeriesTerms = 11;    // (0.1)^11 / 12! < 1e-19: the series in b is exact to round-off

// phi(x) = int_0^h e^{i x t} dt = h e^{i x h/2} sin(x h/2) / (x h/2).
cplx phi(double x, double h) {
  const double z = 0.5 * x * h;
  const double s = std::abs(z) < 1e-6 ? 1.0 - z * z / 6.0 : std::sin(z) / z;
  return {h * s * std::cos(z), h * s * std::sin(z)};
}

// 32-point Gauss-Legendre rule on [0, 1] (Newton on P_32; used for the moments below).
struct GaussRule {
  std::array<double, 32> x{}, w{};
  GaussRule() {
    constexpr int n = 32;
    for (int i = 0; i < n; ++i) {
      double z = std::cos(std::numbers::pi * (i + 0.75) / (n + 0.5));
      double dp = 0.0;
      for (int it = 0; it < 100; ++it) {
        double p0 = 1.0, p1 = z;
        for (int k = 2; k <= n; ++k) {
          const double p2 = ((2.0 * k - 1.0) * z * p1 - (k - 1.0) * p0) / k;
          p0 = p1;
          p1 = p2;
        }
        dp = n * (z * p1 - p0) / (z * z - 1.0);
        const double dz = p1 / dp;
        z -= dz;
        if (std::abs(dz) < 1e-16) break;
      }
      x[static_cast<std::size_t>(i)] = 0.5 * (1.0 - z);
      w[static_cast<std::size_t>(i)] = 1.0 / ((1.0 - z * z) * dp * dp);
    }
  }
};

// m_q(x) = int_0^1 s^q e^{i x s} ds, q = 0 .. kSeriesTerms: Gauss-Legendre (exact to round-off for the
// polynomial degrees and |x| <= 12 used) or, for |x| > 12, the upward recursion m_q = (e^{ix} - q m_{q-1})/(ix),
// stable there because q / |x| < 1.
std::array<cplx, kSeriesTerms + 1> moments(double x) {
  std::array<cplx, kSeriesTerms + 1> m{};
  if (std::abs(x) <= 12.0) {
    static const GaussRule g;
    for (std::size_t i = 0; i < g.x.size(); ++i) {
      const cplx e = std::polar(g.w[i], x * g.x[i]);
      double s = 1.0;
      for (auto& mq : m) {
        mq += e * s;
        s *= g.x[i];
      }
    }
    return m;
  }
  const cplx ix(0.0, x), ex = std::polar(1.0, x);
  m[0] = (ex - 1.0) / ix;
  for (int q = 1; q <= kSeriesTerms; ++q) m[static_cast<std::size_t>(q)] = (ex - static_cast<double>(q) * m[static_cast<std::size_t>(q - 1)]) / ix;
  return m;
}

// W(a, b) for |b h| < kSmallBeta: h^2 sum_p (i b h)^p / (p + 1)! m_{p+1}(a h).
cplx small_beta_weight(double a, double b, double h) {
  const auto m = moments(a * h);
  cplx sum = 0.0, c = 1.0;
  double fact = 1.0;
  for (int p = 0; p < kSeriesTerms; ++p) {
    fact *= static_cast<double>(p + 1);
    sum += c / fact * m[static_cast<std::size_t>(p + 1)];
    c *= cplx(0.0, b * h);
  }
  return h * h * sum;
}

}  // namespace

double coupled_frequency_span(const PeriodicHamiltonian& H) {
  const long d = H.E.size();
  double span = 0.0;
  for (const auto& t : H.terms) {
    const double big = t.A.cwiseAbs().maxCoeff();
    for (long n = 0; n < d; ++n)
      for (long m = 0; m < d; ++m)
        if (std::abs(t.A(m, n)) > 1e-14 * big) span = std::max(span, std::abs(H.E(m) - H.E(n) + t.nu));
  }
  return span;
}

PeriodPropagation propagate_period(const PeriodicHamiltonian& H, int steps, int n_samples) {
  const long d = H.E.size();
  const double T = 2.0 * std::numbers::pi / H.omega;
  const double h = T / static_cast<double>(steps);
  const std::size_t J = H.terms.size();
  const cplx I(0.0, 1.0);

  // ---- step-independent pieces: Omega1 = -i sum_j e^{i nu_j t0} G1_j, Z = sum_{jl} e^{i (nu_j + nu_l) t0} C_jl
  std::vector<cmat> G1(J), Breg(J);
  struct SmallEntry {
    long r, n;
    double beta;
  };
  std::vector<std::vector<SmallEntry>> small(J);
  for (std::size_t j = 0; j < J; ++j) {
    const auto& t = H.terms[j];
    G1[j].resize(d, d);
    Breg[j].setZero(d, d);
    for (long n = 0; n < d; ++n)
      for (long m = 0; m < d; ++m) {
        const double w = H.E(m) - H.E(n) + t.nu;
        G1[j](m, n) = t.A(m, n) * phi(w, h);
        if (t.A(m, n) == 0.0) continue;
        if (std::abs(w * h) >= kSmallBeta)
          Breg[j](m, n) = t.A(m, n) / (I * w);
        else
          small[j].push_back({m, n, w});
      }
  }
  std::vector<double> sigma;  // distinct nu_j + nu_l
  std::vector<cmat> C;        // C grouped by sigma
  cmat prod(d, d);
  for (std::size_t j = 0; j < J; ++j)
    for (std::size_t l = 0; l < J; ++l) {
      const double s = H.terms[j].nu + H.terms[l].nu;
      std::size_t idx = 0;
      while (idx < sigma.size() && std::abs(sigma[idx] - s) > 1e-12 * H.omega) ++idx;
      if (idx == sigma.size()) {
        sigma.push_back(s);
        C.emplace_back(cmat::Zero(d, d));
      }
      cmat& Cs = C[idx];
      prod.noalias() = H.terms[j].A * Breg[l];
      for (long n = 0; n < d; ++n)
        for (long m = 0; m < d; ++m) Cs(m, n) += phi(H.E(m) - H.E(n) + s, h) * prod(m, n);
      Cs.noalias() -= G1[j] * Breg[l];
      const cmat& Aj = H.terms[j].A;
      const cmat& Al = H.terms[l].A;
      for (const SmallEntry& e : small[l])
        for (long m = 0; m < d; ++m) {
          if (Aj(m, e.r) == 0.0) continue;
          Cs(m, e.n) += Aj(m, e.r) * Al(e.r, e.n) * small_beta_weight(H.E(m) - H.E(e.r) + H.terms[j].nu, e.beta, h);
        }
    }

  // ---- time stepping ------------------------------------------------------------------------------
  PeriodPropagation out;
  out.steps = steps;
  const int stride = n_samples > 0 ? steps / n_samples : 0;
  cmat U = cmat::Identity(d, d), Heff(d, d), tmp(d, d), Q;
  rvec lam;
  cvec free_phase(d);
  for (long m = 0; m < d; ++m) free_phase(m) = std::polar(1.0, -H.E(m) * h);
  for (int n = 0; n < steps; ++n) {
    if (stride > 0 && n % stride == 0) out.samples.push_back(U);
    const double t0 = h * static_cast<double>(n);
    // Heff = i Omega = sum_j e^{i nu_j t0} G1_j - (i/2) sum_s (e^{i s t0} C_s - h.c.)
    Heff.setZero();
    for (std::size_t j = 0; j < J; ++j) Heff += std::polar(1.0, H.terms[j].nu * t0) * G1[j];
    for (std::size_t s = 0; s < sigma.size(); ++s) {
      const cplx c = -0.5 * I * std::polar(1.0, sigma[s] * t0);
      tmp = c * C[s];
      Heff += tmp + tmp.adjoint();
    }
    Heff = 0.5 * (Heff + Heff.adjoint()).eval();
    linalg::hermitian_eigen(Heff, lam, Q);
    tmp.noalias() = Q.adjoint() * U;
    for (long i = 0; i < d; ++i) tmp.row(i) *= std::polar(1.0, -lam(i));
    U.noalias() = Q * tmp;
    for (long m = 0; m < d; ++m) U.row(m) *= free_phase(m);
  }
  out.UT = U;
  return out;
}

}  // namespace qheat::floquet_detail

namespace qheat::floquet_detail {

SambeModes sambe_floquet_modes(const PeriodicHamiltonian& H, int M) {
  const long d = H.E.size();
  const long nq = 2L * M + 1;
  const long N = d * nq;
  // H_k, the coefficient of e^{-i k w t}: a term A e^{i nu t} has k = -nu / w.
  std::vector<std::pair<long, cmat>> Hk;
  for (const auto& t : H.terms) {
    const long k = std::lround(-t.nu / H.omega);
    auto it = std::find_if(Hk.begin(), Hk.end(), [k](const auto& x) { return x.first == k; });
    if (it == Hk.end()) Hk.emplace_back(k, t.A);
    else it->second += t.A;
  }
  long kmax = 0;
  for (const auto& x : Hk) kmax = std::max(kmax, std::abs(x.first));
  cmat K = cmat::Zero(N, N);
  for (long p = -M; p <= M; ++p) {
    const long row = (p + M) * d;
    for (long n = 0; n < d; ++n) K(row + n, row + n) = H.E(n) - static_cast<double>(p) * H.omega;
    for (const auto& [k, A] : Hk) {
      const long q = p - k;
      if (q < -M || q > M) continue;
      K.block(row, (q + M) * d, d, d) += A;
    }
  }
  rvec lam;
  cmat V;
  linalg::hermitian_eigen(K, lam, V);
  SambeModes out;
  out.M = M;
  out.roundoff = std::numeric_limits<double>::epsilon() * std::max(std::abs(lam(0)), std::abs(lam(N - 1)));
  std::vector<long> chosen;
  for (long i = 0; i < N; ++i) {
    double mean = 0.0;
    for (long q = -M; q <= M; ++q) mean += static_cast<double>(q) * V.col(i).segment((q + M) * d, d).squaredNorm();
    if (mean >= -0.5 && mean < 0.5) chosen.push_back(i);
  }
  out.complete = static_cast<long>(chosen.size()) == d;
  if (!out.complete) return out;
  out.quasienergies.resize(d);
  out.C.assign(static_cast<std::size_t>(nq), cmat(d, d));
  for (long a = 0; a < d; ++a) {
    const long i = chosen[static_cast<std::size_t>(a)];
    out.quasienergies(a) = lam(i);
    for (long q = -M; q <= M; ++q) out.C[static_cast<std::size_t>(q + M)].col(a) = V.col(i).segment((q + M) * d, d);
    // Weight on the outermost harmonics (|q| > M - kmax: those one drive harmonic away from the cut).
    const long rim = std::max(1L, std::min(kmax, static_cast<long>(M)));
    out.edge_weight = std::max(out.edge_weight, V.col(i).head(rim * d).squaredNorm() + V.col(i).tail(rim * d).squaredNorm());
    // Rows p with |p| > M of the untruncated K applied to the mode: sum_q H_{p-q} c_q.
    double r2 = 0.0;
    for (long sign : {-1L, 1L})
      for (long pp = M + 1; pp <= M + kmax; ++pp) {
        cvec r = cvec::Zero(d);
        for (const auto& [k, A] : Hk) {
          const long q = sign * pp - k;
          if (q < -M || q > M) continue;
          r += A * V.col(i).segment((q + M) * d, d);
        }
        r2 += r.squaredNorm();
      }
    out.residual = std::max(out.residual, std::sqrt(r2));
  }
  return out;
}

}  // namespace qheat::floquet_detail
