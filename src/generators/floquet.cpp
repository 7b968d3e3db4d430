// Fully secular Floquet-Markov (Floquet-Pauli) master equation with several baths, each at its own
// temperature and with its own spectral density (docs/methods.md, "Floquet-Markov").
//
// Conventions (derived here once, used everywhere below):
//  * Floquet states |psi_a(t)> = e^{-i eps_a t} |phi_a(t)>, |phi_a(t + T)> = |phi_a(t)>, so
//    U(T)|phi_a(0)> = e^{-i eps_a T}|phi_a(0)> and eps_a = -arg(lambda_a)/T in [-w_d/2, w_d/2).
//  * Fourier components X_ab(k) = (1/T) int_0^T <phi_a(t)|X|phi_b(t)> e^{-i k w_d t} dt. Then the
//    interaction-picture operator is X(t) = sum_{abk} X_ab(k) |psi_a(0)><psi_b(0)| e^{-i Delta t} with
//      Delta = eps_b - eps_a - k w_d,
//    which is the energy the bath receives when the system jumps b -> a through harmonic k (for no
//    drive it is the Bohr frequency E_b - E_a, as in the static Davies generator).
//  * Rate of the jump (b -> a, k) for bath alpha: kappa~_alpha(Delta) |X_ab(k)|^2 (hermitian coupling),
//    kappa_+(Delta)|A_ab(k)|^2 + kappa_-(Delta)|(A^dag)_ab(k)|^2 (exchange coupling).
//  * The propagator works in H0's eigenbasis (floquet_propagator.hpp). Floquet modes are sampled in the
//    unfolded gauge: state a gets eps~_a = eps_a + p_a w_d with p_a = round((<E>_a - eps_a)/w_d), so that
//    Phi~_a(t) = e^{i eps~_a t} U(t)|phi_a(0)> carries only the drive's harmonics, and X_ab(k) of the lab
//    gauge is X~_ab(k - p_a + p_b) with Delta = eps~_b - eps~_a - k~ w_d: the same jumps, few harmonics.
//  * Heat from bath alpha into the system J_alpha = -sum_{abk} Delta rate_{abk} p_b (a = b, k != 0
//    jumps included: they move energy w_d k between drive and bath without changing the population).
#include "qheat/generators/floquet.hpp"

#include <fmt/format.h>
#include "floquet_propagator.hpp"
#include "qheat/core/fft.hpp"
#include "qheat/core/linalg.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/core/sparse_products.hpp"
#include "qheat/steady/rate_equation.hpp"
#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

namespace qheat {
namespace {

using floquet_detail::PeriodicHamiltonian;
using floquet_detail::PeriodPropagation;

constexpr double kPi = std::numbers::pi;
constexpr double kFourierTailTolerance = 1e-12;  // neglected relative Fourier weight
constexpr int kMaxSteps = 1 << 20;
constexpr int kMaxFourierGrid = 1 << 12;
constexpr int kMinFourierGrid = 32;
constexpr int kMaxSambeHarmonics = 40;
// Largest extended space solved densely (about 10 s for its eigen-decomposition here); beyond, without band
// structure, the propagator.
constexpr long kMaxSambeDimension = 6000;

int next_pow2(double x) {
  int n = 1;
  while (static_cast<double>(n) < x && n < kMaxSteps) n *= 2;
  return n;
}

double max_abs(const cmat& A) { return A.cwiseAbs().maxCoeff(); }

// Folded quasienergies eps = -arg(lambda)/T in [-w_d/2, w_d/2) of U(T), eigenvalues only.
std::vector<double> folded_quasienergies(const cmat& UT, double T) {
  const cvec lam = linalg::general_eigenvalues(UT);
  std::vector<double> e(static_cast<std::size_t>(lam.size()));
  for (long a = 0; a < lam.size(); ++a) e[static_cast<std::size_t>(a)] = -std::arg(lam(a)) / T;
  std::sort(e.begin(), e.end());
  return e;
}

// Distance on the circle of circumference w.
double circle_distance(double x, double y, double w) {
  double r = std::fmod(std::abs(x - y), w);
  return std::min(r, w - r);
}

// max_a min_b |fine_a - coarse_b| (mod w): how far the quasienergies moved when the step was halved.
double largest_shift(const std::vector<double>& fine, const std::vector<double>& coarse, double w) {
  double worst = 0.0;
  for (double x : fine) {
    auto it = std::lower_bound(coarse.begin(), coarse.end(), x);
    double best = std::min(circle_distance(x, coarse.front(), w), circle_distance(x, coarse.back(), w));
    if (it != coarse.end()) best = std::min(best, circle_distance(x, *it, w));
    if (it != coarse.begin()) best = std::min(best, circle_distance(x, *(it - 1), w));
    worst = std::max(worst, best);
  }
  return worst;
}

// One dissipative channel: operator (in H0's eigenbasis) and its rate function.
struct Channel {
  int bath = 0;
  enum Kind { thermal, emission, absorption } kind = thermal;
  cmat op;
  csc_matrix sparse_op;  // op in the model's basis when sparse there (model-basis propagator), else empty
  bool adjoint_of_previous = false;  // (A^dag)_ab(k) = conj(A_ba(-k)) from the previous channel
};

double channel_rate(const Channel& c, const Bath& b, double delta) {
  switch (c.kind) {
    case Channel::thermal: return kappa_thermal(b.spectral, b.temperature, delta);
    case Channel::emission: return kappa_emission(b.spectral, b.temperature, delta);
    case Channel::absorption: return kappa_absorption(b.spectral, b.temperature, delta);
  }
  return 0.0;
}

// An operator's nonzero elements, if at most 1/16 of them are nonzero (a sparse product pays from there).
bool sparse_form(const cmat& A, csc_matrix& out) {
  out = A.sparseView();
  out.makeCompressed();
  return 16 * out.nonZeros() <= A.rows() * A.cols();
}

// H0 and the drive's terms in the model's basis, when all of them are sparse there.
bool model_basis_hamiltonian(const Model& model, floquet_detail::SparsePeriodicHamiltonian& sph) {
  if (!model.drive || !sparse_form(model.hamiltonian, sph.H0)) return false;
  const Drive& drive = *model.drive;
  sph.omega = drive.frequency;
  for (const auto& hm : drive.harmonics) {
    csc_matrix A;
    if (!sparse_form(hm.V, A)) return false;
    csc_matrix Ad = A.adjoint();
    Ad.makeCompressed();
    sph.terms.push_back({A, -static_cast<double>(hm.k) * sph.omega});
    sph.terms.push_back({Ad, static_cast<double>(hm.k) * sph.omega});
  }
  return true;
}

// Whether the model basis is cheaper, by operation counts of one doubling round (a run and its half-step
// check). Eigenbasis: ~12 d^3 per step (zheevd and two products; bench/README.md), at least span T steps.
// Model basis: per step two Chebyshev expansions of about h r / 2 + 12 terms (r: H0's spectral half-width,
// Gershgorin), each term a sparse product of nnz d multiply-adds; 2 n_f steps to start.
bool model_basis_cheaper(const floquet_detail::SparsePeriodicHamiltonian& sph, const PeriodicHamiltonian& ph, int n_fourier) {
  const double d = static_cast<double>(ph.E.size());
  const double T = 2.0 * kPi / ph.omega;
  const double eig_steps = std::max(2.0 * n_fourier, static_cast<double>(next_pow2(floquet_detail::coupled_frequency_span(ph) * T)));
  const double eigen_cost = 12.0 * d * d * d * eig_steps;
  double nnz = static_cast<double>(sph.H0.nonZeros());
  for (const auto& t : sph.terms) nnz += static_cast<double>(t.A.nonZeros());
  const double r = 0.5 * (ph.E.maxCoeff() - ph.E.minCoeff());
  const double model_steps = 2.0 * n_fourier;
  const double model_cost = nnz * d * (r * T + 24.0 * model_steps);
  return model_cost < eigen_cost;
}

}  // namespace

FloquetSolver parse_floquet_solver(const std::string& text) {
  if (text == "sambe") return FloquetSolver::sambe;
  if (text == "propagator") return FloquetSolver::propagator;
  throw MethodError("floquet-solver", "--floquet-solver expects sambe or propagator, got '" + text + "'");
}

FloquetResult floquet_steady_state(const Model& model, const FloquetOptions& options) {
  if (!model.drive || model.drive->harmonics.empty())
    throw MethodError("method-needs-drive",
                      "the floquet method needs a periodic drive ([drive] table) and the model has none");
  const double wd = model.drive->frequency;
  if (!(wd > 0.0) || !std::isfinite(wd))
    throw MethodError("drive-frequency", "the drive frequency must be positive and finite");
  const int d = static_cast<int>(model.hamiltonian.rows());
  const double T = 2.0 * kPi / wd;
  FloquetResult res;
  bool converged = true;

  // ---- 1. H0's eigenbasis, the drive's terms in it, and the memory this will take ------------------
  const std::size_t dd = static_cast<std::size_t>(d) * static_cast<std::size_t>(d);
  int nch = 0;
  for (const Bath& b : model.baths) nch += b.coupling == CouplingKind::hermitian ? 1 : 2;
  {
    const std::size_t terms = 2 * model.drive->harmonics.size();
    // Propagator: the terms, their weights and products (~6 d^2 per term pair), work matrices and two
    // propagations' samples (2 nf); Fourier step: the samples, each freed as its coefficients are formed,
    // and the coefficients per channel (nf (1 + channels)); all complex, nf = 32 samples.
    const std::size_t nf = kMinFourierGrid;
    const std::size_t est = sizeof(cplx) * dd * (6 * terms * terms + 8 + nf * std::max<std::size_t>(2, 1 + static_cast<std::size_t>(nch)));
    check_memory(est, "the Floquet-Markov propagator and Fourier components (d = " + std::to_string(d) + ")",
                 "reduce the truncation or use --method ddme where the drive has a rotating frame");
  }
  rvec E0;
  cmat S;
  linalg::hermitian_eigen(model.hamiltonian, E0, S);
  PeriodicHamiltonian ph;
  ph.E = E0;
  ph.omega = wd;
  for (const auto& hm : model.drive->harmonics) {
    const cmat A = S.adjoint() * hm.V * S;
    ph.terms.push_back({A, -static_cast<double>(hm.k) * wd});
    ph.terms.push_back({A.adjoint(), static_cast<double>(hm.k) * wd});
  }

  // ---- 2. Floquet modes: the extended-space (Sambe) eigenproblem, or the one-period propagator -------
  // Both give the unfolded quasienergies eps~ and the modes Phi~_a(t) = e^{i eps~_a t} U(t)|phi_a(0)> on a
  // time grid of nf points; the Fourier components of the bath operators follow from those samples.
  rvec eps(d), eps_u(d);  // folded, unfolded
  std::vector<cmat> samples;
  auto sort_modes = [&](const rvec& unfolded, std::vector<int>& order) {
    std::vector<double> folded(static_cast<std::size_t>(d));
    for (int a = 0; a < d; ++a) {
      double f = std::fmod(unfolded(a) + 0.5 * wd, wd);
      if (f < 0) f += wd;
      folded[static_cast<std::size_t>(a)] = f - 0.5 * wd;
    }
    order.resize(static_cast<std::size_t>(d));
    for (int a = 0; a < d; ++a) order[static_cast<std::size_t>(a)] = a;
    std::sort(order.begin(), order.end(), [&](int x, int y) { return folded[static_cast<std::size_t>(x)] < folded[static_cast<std::size_t>(y)]; });
    for (int a = 0; a < d; ++a) {
      eps(a) = folded[static_cast<std::size_t>(order[static_cast<std::size_t>(a)])];
      eps_u(a) = unfolded(order[static_cast<std::size_t>(a)]);
    }
  };
  bool use_propagator = options.solver == FloquetSolver::propagator;
  if (!use_propagator) {
    // Harmonics |q| <= M grown until every selected mode has weight <= 1e-20 on |q| = M (amplitudes <= 1e-10,
    // the accuracy the rates need); the dense eigenproblem has d (2M + 1) rows.
    floquet_detail::SambeModes sm;
    int kmax = 1;
    for (const auto& hm : model.drive->harmonics) kmax = std::max(kmax, std::abs(hm.k));
    int M = options.sambe_harmonics > 0 ? options.sambe_harmonics : std::max(6, 3 * kmax);
    for (;;) {
      sm = floquet_detail::sambe_floquet_modes(ph, M, kMaxSambeDimension);
      if (!sm.attempted) break;  // no band structure and too large to diagonalise densely: the time domain
      if (options.sambe_harmonics > 0 || (sm.complete && sm.edge_weight <= 1e-20) || M >= kMaxSambeHarmonics) break;
      // Grow M by what the decay of the modes' weight per shell of kmax harmonics predicts (+1 shell of
      // margin), at least by 2: one more eigen-decomposition instead of several.
      int grow = 2;
      if (sm.complete && sm.inner_weight > 0.0 && sm.edge_weight < sm.inner_weight) {
        const double shells = std::log(1e-20 / sm.edge_weight) / std::log(sm.edge_weight / sm.inner_weight);
        grow = std::max(2, static_cast<int>(std::ceil(shells + 1.0)) * kmax);
      }
      M = std::min(M + grow, kMaxSambeHarmonics);
    }
    if (sm.complete && sm.M == M) {
      res.solver = "sambe";
      res.sambe_harmonics = M;
      // Hermitian K: an eigenvalue lies within the residual norm of each refined pair; the truncation adds
      // the rows beyond M, and the unfolded value its own rounding (eps |eps~|, it is folded afterwards).
      res.quasienergy_error = sm.residual + sm.refined_residual + sm.representation;
      res.propagator_error = std::sqrt(sm.edge_weight);
      if (sm.edge_weight > 1e-20) converged = false;
      std::vector<int> order;
      sort_modes(sm.quasienergies, order);
      const int nf = std::max(kMinFourierGrid, next_pow2(4.0 * M + 1.0));
      samples.assign(static_cast<std::size_t>(nf), cmat::Zero(d, d));
      for (int j = 0; j < nf; ++j) {
        const double t = T * static_cast<double>(j) / static_cast<double>(nf);
        cmat& W = samples[static_cast<std::size_t>(j)];
        for (int q = -M; q <= M; ++q) {
          const cplx ph_q = std::polar(1.0, -static_cast<double>(q) * wd * t);
          const int shell = q + M;
          const cmat& Cq = sm.C[static_cast<std::size_t>(shell)];
          for (int a = 0; a < d; ++a) W.col(a) += ph_q * Cq.col(order[static_cast<std::size_t>(a)]);
        }
      }
    } else {
      use_propagator = true;  // no clean one-replica-per-mode selection: the time domain has no such question
      const long rows = static_cast<long>(d) * (2L * M + 1);
      res.solver_fallback =
          !sm.attempted ? "the extended space on |q| <= " + std::to_string(M) + " has " + std::to_string(rows) +
                              " rows without band structure, more than the " + std::to_string(kMaxSambeDimension) +
                              " it diagonalises densely"
                        : "the extended space on |q| <= " + std::to_string(M) + " gave no clean choice of one replica per mode";
    }
  }
  int steps = 0;
  PeriodPropagation prop;
  cmat P;
  int n_fourier = kMinFourierGrid;
  auto propagator_samples = [&]() {
    samples.assign(prop.samples.size(), cmat());
    for (std::size_t j = 0; j < prop.samples.size(); ++j) {
      const double t = T * static_cast<double>(j) / static_cast<double>(prop.samples.size());
      samples[j].noalias() = prop.samples[j] * P;
      prop.samples[j] = cmat();  // each propagator sample freed once converted: d^2 x nf less at the peak
      for (int a = 0; a < d; ++a) samples[j].col(a) *= std::polar(1.0, eps_u(a) * t);
    }
  };
  // The propagator works in the model's own basis when H0 and the drive are sparse there (sparse x dense
  // products per step) and in H0's eigenbasis otherwise (an eigen-decomposition per step).
  floquet_detail::SparsePeriodicHamiltonian sph;
  bool model_basis = false;
  if (use_propagator && options.propagator_basis != PropagatorBasis::eigenbasis && model_basis_hamiltonian(model, sph))
    model_basis = options.propagator_basis == PropagatorBasis::model || model_basis_cheaper(sph, ph, n_fourier);
  auto run = [&](int n) {  // n steps, min(n, n_fourier) samples
    return model_basis ? floquet_detail::propagate_period_sparse(sph, n, std::min(n, n_fourier), thread_count())
                       : floquet_detail::propagate_period(ph, n, std::min(n, n_fourier));
  };
  if (use_propagator) {
    res.solver = "propagator";
    res.propagator_basis = model_basis ? "model" : "eigenbasis";
    auto estimate = [&](const PeriodPropagation& fine, const PeriodPropagation& coarse) {
      res.quasienergy_error = largest_shift(folded_quasienergies(fine.UT, T), folded_quasienergies(coarse.UT, T), wd) / 15.0;
      double err = max_abs(fine.UT - coarse.UT);
      const std::size_t ratio = fine.samples.size() / std::max<std::size_t>(coarse.samples.size(), 1);
      for (std::size_t j = 0; j < coarse.samples.size() && ratio > 0; ++j)
        err = std::max(err, max_abs(fine.samples[j * ratio] - coarse.samples[j]));
      res.propagator_error = err / 15.0;
    };
    if (options.steps_per_period > 0) {
      steps = std::max(next_pow2(options.steps_per_period), 2 * n_fourier);
      prop = run(steps);
      estimate(prop, run(steps / 2));
    } else {
      // The h^4 regime starts once h times the largest coupled frequency is ~1 (measured on the Kong Kerr
      // resonator: nmax = 30 needed ~3 x span x T steps for 1e-10); start there and double.
      const double span = floquet_detail::coupled_frequency_span(ph);
      if (span * T > static_cast<double>(kMaxSteps))
        throw MethodError("floquet-steps",
                          fmt::format("the Floquet modes would need more than {} time steps per drive period (largest "
                                      "driven transition frequency x period = {:.3g}): the drive is too slow against the "
                                      "system; use a smaller truncation or a faster drive (or --method ddme for "
                                      "exchange couplings)",
                                      kMaxSteps, span * T));
      steps = std::max(next_pow2(span * T), 2 * n_fourier);
      PeriodPropagation coarse = run(steps / 2);
      for (;;) {
        prop = run(steps);
        estimate(prop, coarse);
        if (res.quasienergy_error <= options.quasienergy_tolerance * wd) break;
        if (steps >= kMaxSteps) {
          converged = false;
          break;
        }
        coarse = std::move(prop);
        steps *= 2;
      }
    }
    res.steps_per_period = steps;
    // U(T) is normal, so its Schur form is diagonal and Q is unitary.
    cvec lambda;
    cmat Q;
    linalg::schur(prop.UT, lambda, Q);
    rvec unfolded(d);
    for (int a = 0; a < d; ++a) {
      const double e = -std::arg(lambda(a)) / T;  // arg in (-pi, pi] -> [-w_d/2, w_d/2)
      const double mean_energy = model_basis ? Q.col(a).dot(sph.H0 * Q.col(a)).real() : (Q.col(a).cwiseAbs2().transpose() * E0)(0);
      unfolded(a) = e + std::round((mean_energy - e) / wd) * wd;
    }
    std::vector<int> order;
    sort_modes(unfolded, order);
    P.resize(d, d);
    for (int a = 0; a < d; ++a) P.col(a) = Q.col(order[static_cast<std::size_t>(a)]);
    propagator_samples();
  }
  res.quasienergies = eps;

  // ---- 3. channels and Fourier components of the unfolded Floquet modes ---------------------------
  std::vector<Channel> channels;
  for (int i = 0; i < static_cast<int>(model.baths.size()); ++i) {
    const Bath& b = model.baths[static_cast<std::size_t>(i)];
    const cmat X = model_basis ? b.op : cmat(S.adjoint() * b.op * S);
    csc_matrix Xs;
    if (!model_basis || !sparse_form(X, Xs)) Xs = csc_matrix();
    if (b.coupling == CouplingKind::hermitian) {
      channels.push_back({i, Channel::thermal, X, Xs, false});
    } else {
      channels.push_back({i, Channel::emission, X, Xs, false});
      channels.push_back({i, Channel::absorption, X.adjoint(), csc_matrix(), true});
    }
  }
  // coef[c][k dd + (a + d b)]: spectrum of the pair (a, b) over the nf-point grid (index k mod nf), one
  // d x d plane per harmonic (samples are copied plane by plane, the FFT runs across planes).
  std::vector<std::vector<cplx>> coef;
  auto compute_coefficients = [&]() {
    const int nf = static_cast<int>(samples.size());
    const std::size_t unf = static_cast<std::size_t>(nf);
    coef.assign(static_cast<std::size_t>(nch), std::vector<cplx>());
    cmat XW(d, d), F(d, d);
    PackedRows packed;
    const int threads = thread_count();
    for (int c = 0; c < nch; ++c) coef[static_cast<std::size_t>(c)].resize(dd * unf);
    for (int j = 0; j < nf; ++j) {
      const cmat& W = samples[static_cast<std::size_t>(j)];
      for (int c = 0; c < nch; ++c) {
        const Channel& ch = channels[static_cast<std::size_t>(c)];
        if (ch.adjoint_of_previous) continue;
        if (ch.sparse_op.nonZeros() > 0) {  // W^dag X by a sparse product, then one dense one
          packed.pack_adjoint(W);
          dense_times_sparse(packed, ch.sparse_op, XW, false, threads);
          F.noalias() = XW * W;
        } else {
          XW.noalias() = ch.op * W;
          F.noalias() = W.adjoint() * XW;
        }
        F /= static_cast<double>(nf);
        std::copy(F.data(), F.data() + dd, coef[static_cast<std::size_t>(c)].begin() + static_cast<long>(static_cast<std::size_t>(j) * dd));
      }
      samples[static_cast<std::size_t>(j)] = cmat();  // used up: the coefficients take its place
    }
    for (int c = 0; c < nch; ++c)
      if (!channels[static_cast<std::size_t>(c)].adjoint_of_previous) fft_interleaved(coef[static_cast<std::size_t>(c)], nf);
    for (int c = 0; c < nch; ++c) {
      if (!channels[static_cast<std::size_t>(c)].adjoint_of_previous) continue;
      auto& cc = coef[static_cast<std::size_t>(c)];
      const auto& prev = coef[static_cast<std::size_t>(c - 1)];
      for (int k = 0; k < nf; ++k) {
        const cplx* src = prev.data() + static_cast<std::size_t>((nf - k) % nf) * dd;
        cplx* dst = cc.data() + static_cast<std::size_t>(k) * dd;
        for (int b = 0; b < d; ++b)
          for (int a = 0; a < d; ++a)
            dst[static_cast<std::size_t>(a + d * b)] = std::conj(src[static_cast<std::size_t>(b + d * a)]);
      }
    }
  };
  // Smallest K such that, for every channel and pair, the weight sum_{|k|>K} |X_ab(k)|^2 left out is below
  // the tolerance relative to all weight out of b (sum over a and k: the rates leaving b), with an absolute
  // floor at the samples' error, (mode error)^2 ||X||^2 (weights below it are noise, not harmonics).
  auto harmonics_needed = [&](int nf) {
    int K = 0;
    const double noise = std::max(1e-13, res.propagator_error);
    auto at = [&](const std::vector<cplx>& cc, int k, std::size_t pair) {
      return std::norm(cc[static_cast<std::size_t>(((k % nf) + nf) % nf) * dd + pair]);
    };
    for (int c = 0; c < nch; ++c) {
      const auto& cc = coef[static_cast<std::size_t>(c)];
      const double floor = noise * noise * channels[static_cast<std::size_t>(c)].op.squaredNorm();
      rvec column = rvec::Zero(d);  // all weight out of b
      for (int k = 0; k < nf; ++k)
        for (int b = 0; b < d; ++b)
          for (int a = 0; a < d; ++a) {
            const int pair = a + d * b;
            column(b) += at(cc, k, static_cast<std::size_t>(pair));
          }
      for (int b = 0; b < d; ++b) {
        const double allowed = std::max(kFourierTailTolerance * column(b), floor);
        for (int a = 0; a < d; ++a) {
          const int index = a + d * b;
          const auto pair = static_cast<std::size_t>(index);
          double tail = 0.0;
          int k = nf / 2;
          for (; k > 0; --k) {
            tail += at(cc, k, pair) + (k == nf / 2 ? 0.0 : at(cc, -k, pair));
            if (tail > allowed) break;
          }
          K = std::max(K, k);
        }
      }
    }
    return K;
  };
  compute_coefficients();
  int nf = static_cast<int>(samples.size());
  int K = harmonics_needed(nf);
  // Aliasing control: the harmonics kept must sit well inside the grid (|k| <= nf/4). The Sambe modes are
  // band-limited (|k| <= 2M < nf/2) by construction; the propagator's samples are taken again on a finer grid.
  while (use_propagator && options.max_harmonic <= 0 && 4 * K > nf && nf < kMaxFourierGrid) {
    n_fourier = 2 * nf;
    if (n_fourier > steps) steps = n_fourier;
    prop = run(steps);
    propagator_samples();
    compute_coefficients();
    nf = static_cast<int>(samples.size());
    K = harmonics_needed(nf);
  }
  if (use_propagator) res.steps_per_period = steps;
  if (options.max_harmonic > 0) K = std::min(options.max_harmonic, nf / 2 - 1);
  res.harmonics_used = K;

  // ---- 3. rates -----------------------------------------------------------------------------------
  const int nb = static_cast<int>(model.baths.size());
  std::vector<rmat> R(nb, rmat::Zero(d, d));   // R[alpha](a, b): rate b -> a summed over k
  std::vector<rmat> E(nb, rmat::Zero(d, d));   // E[alpha](a, b): sum over k of Delta * rate
  // A Delta within this of zero is a zero-frequency jump: the static rule (tolerance x max(1, max|E|), here the
  // folded quasienergies), never below what the quasienergies resolve, nor (harmonic k) the round-off of
  // eps~ - k w_d. Scaled by w_d alone it merged every splitting of a fast drive (w_d = 1e12, splitting 1: the
  // currents were 0, no diagnostic).
  const double degenerate = options.degeneracy_tolerance * std::max(1.0, eps.cwiseAbs().maxCoeff());
  const double zero_tol = std::max(degenerate, 10.0 * res.quasienergy_error);
  const double k_round_off = 64.0 * std::numeric_limits<double>::epsilon() * wd;
  res.resolution = zero_tol;
  for (int c = 0; c < nch; ++c) {
    const Bath& bath = model.baths[channels[c].bath];
    // Weights below the modes' error (squared, times ||X||^2; at least round-off) are not resolved: dropped,
    // so that a transition the model forbids stays exactly absent.
    const double noise = std::max(1e-15, res.propagator_error);
    const double resolved = noise * noise * channels[static_cast<std::size_t>(c)].op.squaredNorm();
    for (int b = 0; b < d; ++b)
      for (int a = 0; a < d; ++a)
        for (int k = -K; k <= K; ++k) {
          const double wgt = std::norm(coef[static_cast<std::size_t>(c)][static_cast<std::size_t>(((k % nf) + nf) % nf) * dd +
                                                                     static_cast<std::size_t>(a + d * b)]);
          if (wgt <= resolved) continue;
          double delta = eps_u(b) - eps_u(a) - static_cast<double>(k) * wd;
          if (std::abs(delta) < std::max(zero_tol, k_round_off * std::abs(k))) {
            if (a != b && std::abs(delta) >= degenerate) {
              ++res.unresolved_jumps;
              res.largest_unresolved = std::max(res.largest_unresolved, std::abs(delta));
            }
            delta = 0.0;
          }
          double kap = 0.0;
          if (delta == 0.0) {
            if (a == b) continue;  // no jump, no energy
            try {
              kap = channel_rate(channels[c], bath, 0.0);  // zero-frequency limit (finite: ohmic)
            } catch (const Error&) {
              continue;  // flat kappa at T > 0: no finite limit, the term is dropped
            }
          } else {
            kap = channel_rate(channels[c], bath, delta);
          }
          const double r = kap * wgt;
          R[channels[c].bath](a, b) += r;
          E[channels[c].bath](a, b) += delta * r;
        }
  }
  rmat Rt = rmat::Zero(d, d);
  for (const auto& r : R) Rt += r;
  res.largest_rate = 0.0;
  for (int b = 0; b < d; ++b) res.largest_rate = std::max(res.largest_rate, Rt.col(b).sum());

  // ---- Pauli steady state (GTH, steady/rate_equation.hpp) ---------------------------------------------
  // Rates below 1e-15 of the largest rate, the a -> a sideband rates included, count as absent: they are
  // round-off of the modes or below the accuracy of the rates. Uniqueness: one closed communicating class.
  rmat W = Rt;
  W.diagonal().setZero();
  const double thr = 1e-15 * std::max(Rt.maxCoeff(), 0.0);
  W = W.unaryExpr([thr](double r) { return r > thr ? r : 0.0; });
  const RateEquation pauli(W, RateEquation::Use::stationary);
  if (!pauli.unique()) res.status = SteadyStatus::not_unique;
  const rvec& p = pauli.stationary();
  if (!converged && res.status == SteadyStatus::converged) res.status = SteadyStatus::not_converged;
  res.populations = p;

  // ---- 4. currents --------------------------------------------------------------------------------
  res.currents.assign(nb, 0.0);
  for (int i = 0; i < nb; ++i) res.currents[i] = -(E[i] * p).sum();
  res.drive_power = 0.0;
  for (double j : res.currents) res.drive_power -= j;

  // Smallest gap between distinct quasienergy differences (mod w_d), on the circle of length w_d.
  {
    std::vector<double> diffs;
    diffs.reserve(static_cast<std::size_t>(d) * static_cast<std::size_t>(d));
    for (int a = 0; a < d; ++a)
      for (int b = 0; b < d; ++b) {
        double x = std::fmod(eps(a) - eps(b), wd);
        if (x < 0) x += wd;
        if (x >= wd) x -= wd;
        diffs.push_back(x);
      }
    std::sort(diffs.begin(), diffs.end());
    std::vector<double> distinct;
    for (double x : diffs)
      if (distinct.empty() || x - distinct.back() > zero_tol) distinct.push_back(x);
    if (distinct.size() > 1 && distinct.front() + wd - distinct.back() <= zero_tol) distinct.pop_back();
    double gap = wd;
    for (std::size_t i = 1; i < distinct.size(); ++i) gap = std::min(gap, distinct[i] - distinct[i - 1]);
    if (distinct.size() > 1) gap = std::min(gap, distinct.front() + wd - distinct.back());
    res.smallest_quasienergy_splitting = gap;
  }
  // Pairs of Floquet states whose quasienergies (mod w_d) are split by less than ten times the larger of
  // their two decay rates (total rate out of the state): the fully secular (Pauli) treatment of their
  // coherence is doubtful (O(d^2) scan).
  {
    rvec out_rate(d);
    for (int b = 0; b < d; ++b) out_rate(b) = Rt.col(b).sum() - Rt(b, b);
    std::vector<QuasienergyPair> pairs;
    for (int a = 0; a < d; ++a)
      for (int b = a + 1; b < d; ++b) {
        const double gap = circle_distance(eps(a), eps(b), wd);
        if (gap < 10.0 * std::max(out_rate(a), out_rate(b))) pairs.push_back({a, b, gap});
      }
    std::sort(pairs.begin(), pairs.end(), [](const QuasienergyPair& x, const QuasienergyPair& y) { return x.splitting < y.splitting; });
    if (pairs.size() > 10) pairs.resize(10);
    res.near_degenerate = std::move(pairs);
  }
  return res;
}

}  // namespace qheat
