// Interaction-picture Magnus propagator with exact oscillatory integrals (docs/methods.md, "Floquet-Markov
// at scale"); the model-basis propagator and the extended-space modes follow in their own sections below.
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
#include <type_traits>
#include <utility>

#include "qheat/core/interrupt.hpp"
#include "qheat/core/linalg.hpp"
#include "qheat/core/resources.hpp"

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
    sum += c / fact * m[static_cast<std::size_t>(p) + 1];
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
  // Elements of a drive term below 1e-14 of its largest are round-off of the basis change (S^dag V S with dense
  // eigenvectors fills nearly every element; an XX chain's sp(q1) drive at N = 8: 62 916 of 65 536 elements
  // nonzero, ~1 000 real): the near-resonant corrections skip them as coupled_frequency_span does. Tested
  // exactly zero, they cost 2.6e5 moment evaluations per entry pair and 30 s of a 33 s solve.
  std::vector<double> resolved(J);
  for (std::size_t j = 0; j < J; ++j) resolved[j] = 1e-14 * H.terms[j].A.cwiseAbs().maxCoeff();
  for (std::size_t j = 0; j < J; ++j) {
    const auto& t = H.terms[j];
    G1[j].resize(d, d);
    Breg[j].setZero(d, d);
    for (long n = 0; n < d; ++n)
      for (long m = 0; m < d; ++m) {
        const double w = H.E(m) - H.E(n) + t.nu;
        G1[j](m, n) = t.A(m, n) * phi(w, h);
        if (std::abs(t.A(m, n)) <= resolved[j]) continue;
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
          if (std::abs(Aj(m, e.r)) <= resolved[j]) continue;
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
    throw_if_interrupted();
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

namespace {

// Extended spaces smaller than this are solved densely (a band solver has nothing to gain there).
constexpr long kMinBandedDimension = 600;

// Banded path of the extended-space eigenproblem, for drives whose matrix elements couple few levels
// (bosonic ladders, local drives): K ordered n-major (index n (2M + 1) + q + M) is a band matrix; its
// eigenvalues come from dsbev/zhbev in O(N^2 b); the replicas of a mode form ladders lambda + j w, and the
// middle of each ladder is the centred replica, whose eigenvector follows by inverse iteration (band LU,
// O(N b^2) per mode) and is checked: mean harmonic index in [-1/2, 1/2), else the next rung is taken.
// Returns false (and the caller diagonalises densely) when the band is wide or a ladder is ambiguous.
template <class Scalar, class Allocate, class Record>
bool banded_sambe_t(const PeriodicHamiltonian& H, const std::vector<std::pair<long, cmat>>& Hk, int M,
                    SambeModes& out, Allocate allocate, Record record) {
  using Mat = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using Vec = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
  const long d = H.E.size(), nq = 2L * M + 1, N = d * nq;
  struct Entry {
    long m, n;
    Scalar v;
  };
  std::vector<std::pair<long, std::vector<Entry>>> entries;
  long b = 0;
  for (const auto& [k, A] : Hk) {
    std::vector<Entry> e;
    for (long n = 0; n < d; ++n)
      for (long m = 0; m < d; ++m)
        if (A(m, n) != 0.0) {
          Scalar v;
          if constexpr (std::is_same_v<Scalar, double>) v = A(m, n).real();
          else v = A(m, n);
          e.push_back({m, n, v});
          b = std::max(b, std::abs((m - n) * nq + k));
        }
    entries.emplace_back(k, std::move(e));
  }
  if (N < kMinBandedDimension || 8 * b > N) return false;
  // Band, its LU (3b + 1 rows) and the d modes' vectors.
  check_memory(sizeof(Scalar) * static_cast<std::size_t>(N) * static_cast<std::size_t>(4 * b + 2 + d) + sizeof(cplx) * static_cast<std::size_t>(N) * static_cast<std::size_t>(d),
               "the extended-space Floquet eigenproblem (d = " + std::to_string(d) + ", " + std::to_string(nq) +
                   " harmonics, band " + std::to_string(b) + ")",
               "reduce the truncation or the drive amplitude");
  Mat ab = Mat::Zero(b + 1, N);
  for (long n = 0; n < d; ++n)
    for (long p = -M; p <= M; ++p) ab(0, n * nq + p + M) += H.E(n) - static_cast<double>(p) * H.omega;
  for (const auto& [k, e] : entries)
    for (long p = -M; p <= M; ++p) {
      const long q = p - k;
      if (q < -M || q > M) continue;
      for (const Entry& x : e) {
        const long i = x.m * nq + p + M, j = x.n * nq + q + M;
        if (i >= j) ab(i - j, j) += x.v;
      }
    }
  const rvec lam = linalg::band_eigenvalues(ab);
  out.roundoff = std::numeric_limits<double>::epsilon() * std::max(std::abs(lam(0)), std::abs(lam(N - 1)));
  // Rungs of one ladder are w apart to the accuracy of the centre replicas (~ round-off).
  const double tol = std::max(1e-10 * H.omega, 100.0 * out.roundoff);
  auto nearest = [&](double x) -> long {
    const auto* first = lam.data();
    const auto* it = std::lower_bound(first, first + N, x);
    long best = -1;
    double dist = tol;
    for (const auto* c : {it - 1, it})
      if (c >= first && c < first + N && std::abs(*c - x) <= dist) {
        dist = std::abs(*c - x);
        best = c - first;
      }
    return best;
  };
  std::vector<long> up(static_cast<std::size_t>(N)), down(static_cast<std::size_t>(N));
  for (long i = 0; i < N; ++i) {
    up[static_cast<std::size_t>(i)] = nearest(lam(i) + H.omega);
    down[static_cast<std::size_t>(i)] = nearest(lam(i) - H.omega);
  }
  auto linked_up = [&](long i) {
    const long j = up[static_cast<std::size_t>(i)];
    return j >= 0 && down[static_cast<std::size_t>(j)] == i ? j : -1L;
  };
  std::vector<std::vector<long>> chains;
  for (long i = 0; i < N; ++i) {
    const long j = down[static_cast<std::size_t>(i)];
    if (j >= 0 && linked_up(j) == i) continue;  // not the bottom rung
    std::vector<long> c{i};
    for (long k = linked_up(i); k >= 0; k = linked_up(k)) c.push_back(k);
    chains.push_back(std::move(c));
  }
  // Rungs near the cut are shifted by the truncation and break off as short pieces; each mode keeps one
  // long central ladder. The d longest ladders must stand out (the d-th longer than the next).
  std::stable_sort(chains.begin(), chains.end(), [](const auto& x, const auto& y) { return x.size() > y.size(); });
  if (static_cast<long>(chains.size()) < d) return false;
  if (static_cast<long>(chains.size()) > d && chains[static_cast<std::size_t>(d)].size() >= chains[static_cast<std::size_t>(d - 1)].size())
    return false;
  chains.resize(static_cast<std::size_t>(d));

  linalg::ShiftedBandLU<Scalar> lu;
  std::vector<Vec> done;
  std::vector<double> done_lambda;
  const double cluster = 1e-7 * std::max(1.0, std::max(std::abs(lam(0)), std::abs(lam(N - 1))));
  auto eigenvector = [&](double lambda) {
    if (!lu.factor(ab, lambda)) (void)lu.factor(ab, lambda + 1e3 * out.roundoff);
    Vec x(N);
    for (long i = 0; i < N; ++i) x(i) = 1.0 + 0.5 * std::sin(0.7 * static_cast<double>(i) + 0.3);
    for (int it = 0; it < 3; ++it) {
      lu.solve(x);
      for (std::size_t k = 0; k < done.size(); ++k)  // degenerate modes: an orthonormal basis of their space
        if (std::abs(done_lambda[k] - lambda) < cluster) x -= done[k] * done[k].dot(x);
      x.normalize();
    }
    return x;
  };
  auto mean_harmonic = [&](const Vec& x) {
    double mean = 0.0;
    for (long n = 0; n < d; ++n)
      for (long q = -M; q <= M; ++q) mean += static_cast<double>(q) * std::norm(x(n * nq + q + M));
    return mean;
  };
  allocate();
  for (long a = 0; a < d; ++a) {
    const std::vector<long>& c = chains[static_cast<std::size_t>(a)];
    long pos = static_cast<long>(c.size()) / 2;
    Vec x;
    double mean = 0.0;
    for (int tries = 0;; ++tries) {
      x = eigenvector(lam(c[static_cast<std::size_t>(pos)]));
      mean = mean_harmonic(x);
      if (mean >= -0.5 && mean < 0.5) break;
      pos += mean >= 0.5 ? 1 : -1;  // the replica one rung up (+w) has its harmonics shifted by -1
      if (tries >= 4 || pos < 0 || pos >= static_cast<long>(c.size())) return false;
    }
    const double lambda = lam(c[static_cast<std::size_t>(pos)]);
    done.push_back(x);
    done_lambda.push_back(lambda);
    cvec cq(N);
    for (long n = 0; n < d; ++n)
      for (long q = -M; q <= M; ++q) cq((q + M) * d + n) = x(n * nq + q + M);
    record(a, lambda, cq);
  }
  return true;
}

template <class Allocate, class Record>
bool banded_sambe(const PeriodicHamiltonian& H, const std::vector<std::pair<long, cmat>>& Hk, int M, bool real,
                  SambeModes& out, Allocate allocate, Record record) {
  if (real) return banded_sambe_t<double>(H, Hk, M, out, allocate, record);
  return banded_sambe_t<cplx>(H, Hk, M, out, allocate, record);
}

}  // namespace

SambeModes sambe_floquet_modes(const PeriodicHamiltonian& H, int M, long max_dense) {
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
  bool real = true;
  for (const auto& x : Hk) real = real && linalg::is_real(x.second);
  SambeModes out;
  out.M = M;
  // One selected mode: its components per harmonic and its error measures. Weight on the outermost
  // harmonics (|q| > M - kmax: those one drive harmonic away from the cut), and on the next shell inwards
  // (their ratio predicts how many harmonics a target needs); residual of the untruncated K (rows |p| > M).
  const long rim = std::max(1L, std::min(kmax, static_cast<long>(M)));
  const long inner = std::max(0L, std::min(rim, static_cast<long>(M) - rim));
  auto record = [&](long a, double lambda, const cvec& c) {  // c in q-major order: c((q + M) d + n)
    // Rayleigh-quotient refinement with the residual formed relative to lambda ((E_n - lambda) - q w is
    // exact to round-off of the small number, where K's eigenvalues carry eps ||K||): lambda + <c|(K -
    // lambda)|c>, and the norm of the refined residual bounds its error (Hermitian K).
    cvec res_k(N);
    for (long q = -M; q <= M; ++q) {
      auto rq = res_k.segment((q + M) * d, d);
      for (long n = 0; n < d; ++n) rq(n) = ((H.E(n) - lambda) - static_cast<double>(q) * H.omega) * c((q + M) * d + n);
      for (const auto& [k, A] : Hk) {
        const long qq = q - k;
        if (qq >= -M && qq <= M) rq += A * c.segment((qq + M) * d, d);
      }
    }
    const double shift = c.dot(res_k).real();
    out.refined_residual = std::max(out.refined_residual, (res_k - shift * c).norm());
    lambda += shift;
    out.representation = std::max(out.representation, std::numeric_limits<double>::epsilon() * std::abs(lambda));
    out.quasienergies(a) = lambda;
    for (long q = -M; q <= M; ++q) out.C[static_cast<std::size_t>(q + M)].col(a) = c.segment((q + M) * d, d);
    out.edge_weight = std::max(out.edge_weight, c.head(rim * d).squaredNorm() + c.tail(rim * d).squaredNorm());
    if (inner > 0)
      out.inner_weight = std::max(out.inner_weight, c.segment(rim * d, inner * d).squaredNorm() +
                                                        c.segment(N - (rim + inner) * d, inner * d).squaredNorm());
    double r2 = 0.0;
    for (long sign : {-1L, 1L})
      for (long pp = M + 1; pp <= M + kmax; ++pp) {
        cvec r = cvec::Zero(d);
        for (const auto& [k, A] : Hk) {
          const long q = sign * pp - k;
          if (q < -M || q > M) continue;
          r += A * c.segment((q + M) * d, d);
        }
        r2 += r.squaredNorm();
      }
    out.residual = std::max(out.residual, std::sqrt(r2));
  };
  auto allocate = [&]() {
    out.quasienergies.resize(d);
    out.C.assign(static_cast<std::size_t>(nq), cmat(d, d));
  };
  // Dense path: every eigenvector; the modes are those with mean harmonic index in [-1/2, 1/2).
  auto finish = [&](const rvec& lam, const auto& V) {
    out.roundoff = std::numeric_limits<double>::epsilon() * std::max(std::abs(lam(0)), std::abs(lam(N - 1)));
    std::vector<long> chosen;
    for (long i = 0; i < N; ++i) {
      double mean = 0.0;
      for (long q = -M; q <= M; ++q) mean += static_cast<double>(q) * V.col(i).segment((q + M) * d, d).squaredNorm();
      if (mean >= -0.5 && mean < 0.5) chosen.push_back(i);
    }
    out.complete = static_cast<long>(chosen.size()) == d;
    if (!out.complete) return;
    allocate();
    for (long a = 0; a < d; ++a) {
      const long i = chosen[static_cast<std::size_t>(a)];
      record(a, lam(i), V.col(i).template cast<cplx>());
    }
  };
  if (banded_sambe(H, Hk, M, real, out, allocate, record)) {
    out.complete = true;
    return out;
  }
  out = SambeModes{};
  out.M = M;
  if (N > max_dense) {
    out.attempted = false;
    return out;
  }
  const std::size_t bytes = (real ? sizeof(double) : sizeof(cplx)) * 3 * static_cast<std::size_t>(N) * static_cast<std::size_t>(N);
  check_memory(bytes, "the extended-space Floquet eigenproblem (d = " + std::to_string(d) + ", " + std::to_string(nq) +
                          " harmonics, dense)", "reduce the truncation or the drive amplitude");
  // Dense K in q-major order (block (p, q) = H_{p-q} - p w delta_pq), real or complex.
  auto dense = [&](auto zero) {
    using Mat = decltype(zero);
    Mat K = Mat::Zero(N, N);
    for (long p = -M; p <= M; ++p) {
      const long row = (p + M) * d;
      for (long n = 0; n < d; ++n) K(row + n, row + n) = H.E(n) - static_cast<double>(p) * H.omega;
      for (const auto& [k, A] : Hk) {
        const long q = p - k;
        if (q < -M || q > M) continue;
        if constexpr (std::is_same_v<Mat, rmat>) K.block(row, (q + M) * d, d, d) += A.real();
        else K.block(row, (q + M) * d, d, d) += A;
      }
    }
    return K;
  };
  rvec lam;
  if (real) {
    rmat V;
    linalg::symmetric_eigen(dense(rmat()), lam, V);
    finish(lam, V);
  } else {
    cmat V;
    linalg::hermitian_eigen(dense(cmat()), lam, V);
    finish(lam, V);
  }
  return out;
}

}  // namespace qheat::floquet_detail

namespace qheat::floquet_detail {
namespace {

// |J_k| below which the expansion stops (k > its argument): the terms left out change one exponential by at most
// ~2 |J_k| (||T_k|| <= 1 on the interval, V unitary), so even 2 x 2^20 steps of it stay below 1e-8 in U(T) and a
// typical 2 x 256 below 1e-12, under the Richardson-controlled step error.
constexpr double kChebyshevTail = 1e-15;

// Gershgorin interval of a Hermitian sparse matrix: every eigenvalue lies in [lo, hi].
std::pair<double, double> gershgorin_interval(const csc_matrix& G) {
  double lo = std::numeric_limits<double>::max(), hi = std::numeric_limits<double>::lowest();
  for (long j = 0; j < G.outerSize(); ++j) {
    double centre = 0.0, radius = 0.0;
    for (csc_matrix::InnerIterator it(G, j); it; ++it)
      if (it.row() == j) centre = it.value().real();
      else radius += std::abs(it.value());
    lo = std::min(lo, centre - radius);
    hi = std::max(hi, centre + radius);
  }
  return {lo, hi};
}

// V <- V exp(i tau G) for Hermitian sparse G by the Chebyshev expansion of Tal-Ezer and Kosloff (J. Chem. Phys.
// 81, 3967 (1984)): with G's spectrum in c +- r, exp(i tau G) = e^{i tau c} sum_k (2 - delta_k0) i^k J_k(tau r)
// T_k((G - c) / r), T_k by the three-term recurrence, one sparse product per term.
class ChebyshevExponential {
public:
  void apply(cmat& V, const csc_matrix& G, double tau, int threads) {
    const auto [lo, hi] = gershgorin_interval(G);
    const double c = 0.5 * (lo + hi), r = std::max(0.5 * (hi - lo), 1e-300);
    const double z = tau * r;
    csc_matrix shift(G.rows(), G.cols());
    shift.setIdentity();
    const csc_matrix Gn = (G - c * shift) / r;
    const csc_matrix Gn2 = 2.0 * Gn;
    prev_ = V;
    acc_ = std::cyl_bessel_j(0.0, z) * V;
    packed_.pack(prev_);
    dense_times_sparse(packed_, Gn, cur_, false, threads);
    cplx ik(0.0, 1.0);
    acc_ += 2.0 * ik * std::cyl_bessel_j(1.0, z) * cur_;
    for (int k = 2;; ++k) {
      const double J = std::cyl_bessel_j(static_cast<double>(k), z);
      if (static_cast<double>(k) > z && std::abs(J) < kChebyshevTail) break;
      prev_ = -prev_;
      packed_.pack(cur_);
      dense_times_sparse(packed_, Gn2, prev_, true, threads);  // T_k = 2 T_{k-1} Gn - T_{k-2}
      std::swap(prev_, cur_);
      ik *= cplx(0.0, 1.0);
      acc_ += 2.0 * ik * J * cur_;
    }
    V = std::polar(1.0, tau * c) * acc_;
  }

private:
  cmat prev_, cur_, acc_;
  PackedRows packed_;
};

}  // namespace

PeriodPropagation propagate_period_sparse(const SparsePeriodicHamiltonian& H, int steps, int n_samples, int threads) {
  const long d = H.H0.rows();
  const double T = 2.0 * std::numbers::pi / H.omega;
  const double h = T / static_cast<double>(steps);
  // Fourth-order commutator-free Magnus step (Blanes and Moan, Appl. Numer. Math. 56, 1519 (2006)): with
  // H_1, H_2 at the Gauss nodes t0 + (1/2 -+ sqrt(3)/6) h, U <- exp(-i h (a2 H_1 + a1 H_2)) exp(-i h (a1 H_1 +
  // a2 H_2)) U, a1,2 = 1/4 +- sqrt(3)/6 (its BCH expansion is the fourth-order Magnus exponent h (H_1 + H_2)/2 -
  // sqrt(3) h^2 [H_2, H_1]/12 up to h^5). Propagated as V = U^dag, so that each exponential acts from the right.
  const double s3 = std::sqrt(3.0);
  const double node1 = 0.5 - s3 / 6.0, node2 = 0.5 + s3 / 6.0;
  const double a1 = 0.25 + s3 / 6.0, a2 = 0.25 - s3 / 6.0;
  auto generator = [&](double t1, double t2, double w1, double w2) {
    csc_matrix G = (w1 + w2) * H.H0;
    for (const auto& term : H.terms) G += (w1 * std::polar(1.0, term.nu * t1) + w2 * std::polar(1.0, term.nu * t2)) * term.A;
    G.makeCompressed();
    return G;
  };
  PeriodPropagation out;
  out.steps = steps;
  const int stride = n_samples > 0 ? steps / n_samples : 0;
  cmat V = cmat::Identity(d, d);
  ChebyshevExponential expo;
  for (int n = 0; n < steps; ++n) {
    throw_if_interrupted();
    if (stride > 0 && n % stride == 0) out.samples.push_back(V.adjoint());
    const double t0 = h * static_cast<double>(n), t1 = t0 + node1 * h, t2 = t0 + node2 * h;
    expo.apply(V, generator(t1, t2, a1, a2), h, threads);
    expo.apply(V, generator(t1, t2, a2, a1), h, threads);
  }
  out.UT = V.adjoint();
  return out;
}

}  // namespace qheat::floquet_detail
