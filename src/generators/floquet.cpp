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
//  * Heat from bath alpha into the system J_alpha = -sum_{abk} Delta rate_{abk} p_b (a = b, k != 0
//    jumps included: they move energy w_d k between drive and bath without changing the population).
#include "qheat/generators/floquet.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

namespace qheat {
namespace {

constexpr double kPi = std::numbers::pi;
// Target max-entry error of U(t) on the Fourier samples. It enters the Fourier components, hence the
// rates, at the same relative size: 1e-10 keeps currents ~1e-10 relative, well inside the 1e-8 to
// which the FME is compared with the dDME (tests/papers/test_kong2026.cpp), while 1e-12 made the
// Kerr resonator (|H|T ~ 5e3) need > 10^5 steps per period.
constexpr double kPropagatorTolerance = 1e-10;
constexpr double kFourierTailTolerance = 1e-12; // neglected relative Fourier weight
constexpr int kMaxSteps = 1 << 20;
constexpr int kMaxFourierGrid = 1 << 14;

int next_pow2(double x) {
  int n = 1;
  while (static_cast<double>(n) < x && n < kMaxSteps) n *= 2;
  return n;
}

// In-place radix-2 FFT, forward: c_k = sum_j f_j e^{-2 pi i j k / N} (N a power of two).
void fft(std::vector<cplx>& a) {
  const std::size_t n = a.size();
  for (std::size_t i = 1, j = 0; i < n; ++i) {
    std::size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (std::size_t len = 2; len <= n; len <<= 1) {
    const double ang = -2.0 * kPi / static_cast<double>(len);
    std::vector<cplx> tw(len / 2);
    tw[0] = 1.0;
    for (std::size_t m = 1; m < len / 2; ++m) {
      const double am = ang * static_cast<double>(m);
      tw[m] = cplx(std::cos(am), std::sin(am));
    }
    for (std::size_t i = 0; i < n; i += len)
      for (std::size_t m = 0; m < len / 2; ++m) {
        const cplx u = a[i + m];
        const cplx v = a[i + m + len / 2] * tw[m];
        a[i + m] = u + v;
        a[i + m + len / 2] = u - v;
      }
  }
}

struct Propagation {
  cmat UT;                  // U(T)
  std::vector<cmat> samples;  // U(j T / n_samples), j = 0 .. n_samples - 1
};

cmat hamiltonian_at(const Model& m, double t) {
  cmat H = m.hamiltonian;
  const double w = m.drive->frequency;
  for (const auto& h : m.drive->harmonics) {
    const cplx ph = std::exp(cplx(0.0, -static_cast<double>(h.k) * w * t));
    H += ph * h.V + std::conj(ph) * h.V.adjoint();
  }
  return H;
}

// Fourth-order Magnus integrator with two Gauss points; each step exponentiates the Hermitian
// generator Heff = h/2 (H1 + H2) - i (sqrt3/12) h^2 [H2, H1] exactly (SelfAdjointEigenSolver).
Propagation propagate(const Model& m, int steps, int n_samples) {
  const int d = static_cast<int>(m.hamiltonian.rows());
  const double T = 2.0 * kPi / m.drive->frequency;
  const double h = T / static_cast<double>(steps);
  const double c1 = 0.5 - std::sqrt(3.0) / 6.0, c2 = 0.5 + std::sqrt(3.0) / 6.0;
  const int stride = n_samples > 0 ? steps / n_samples : 0;
  Propagation p;
  cmat U = cmat::Identity(d, d);
  Eigen::SelfAdjointEigenSolver<cmat> es(d);
  for (int n = 0; n < steps; ++n) {
    if (stride > 0 && n % stride == 0) p.samples.push_back(U);
    const double t = h * static_cast<double>(n);
    const cmat H1 = hamiltonian_at(m, t + c1 * h), H2 = hamiltonian_at(m, t + c2 * h);
    const cmat comm = H2 * H1 - H1 * H2;
    cmat Heff = (0.5 * h) * (H1 + H2) - cplx(0.0, std::sqrt(3.0) / 12.0 * h * h) * comm;
    Heff = 0.5 * (Heff + Heff.adjoint()).eval();
    es.compute(Heff);
    const rvec& lam = es.eigenvalues();
    cvec ph(d);
    for (int i = 0; i < d; ++i) ph(i) = std::exp(cplx(0.0, -lam(i)));
    const cmat& V = es.eigenvectors();
    U = (V * ph.asDiagonal() * (V.adjoint() * U)).eval();
  }
  p.UT = U;
  return p;
}

double max_abs(const cmat& A) { return A.cwiseAbs().maxCoeff(); }

// One dissipative channel: operator and its rate function.
struct Channel {
  int bath = 0;
  enum Kind { thermal, emission, absorption } kind = thermal;
  cmat op;
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

}  // namespace

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

  // ---- 1. one-period propagator ------------------------------------------------------------------
  double spread = 0.0;
  {
    const rvec E = Eigen::SelfAdjointEigenSolver<cmat>(model.hamiltonian, Eigen::EigenvaluesOnly).eigenvalues();
    spread = E(d - 1) - E(0);
    for (const auto& h : model.drive->harmonics) spread += 4.0 * h.V.norm();
  }
  auto samples_for = [](int steps, int want) { return std::min(steps, want); };
  int n_fourier = 256;  // time-grid points for the Fourier components (grown if harmonics need it)
  int steps = 0;
  Propagation prop;
  bool converged = true;
  if (options.steps_per_period > 0) {
    steps = next_pow2(options.steps_per_period);
    prop = propagate(model, steps, samples_for(steps, n_fourier));
  } else {
    // Start with h * spread <= 1 (inside the Magnus convergence radius), then double until the
    // Richardson estimate |U_N - U_2N| / 15 of the fourth-order error is below the tolerance.
    // (Measured: the Kerr resonator of examples/kong2026 meets the tolerance near spread*T/2.)
    // The Magnus series needs h * spread <= 4 at least; past the step cap it cannot converge, so say so
    // at once instead of propagating 2^21 steps (found by the mutation tests: eps = 1e6, w_d = 0.7).
    if (spread * T / 4.0 > static_cast<double>(kMaxSteps))
      throw MethodError("floquet-steps", "the Floquet propagator would need more than " + std::to_string(kMaxSteps) +
                                             " time steps per drive period (spectral width x period = " +
                                             std::to_string(spread * T) + "); use a smaller energy scale or --method ddme");
    steps = next_pow2(std::max(16.0, spread * T / 4.0));
    // The error is measured on every Fourier sample, not only on U(T): over a whole period the
    // Gauss rule is spectrally accurate, at intermediate times it is only fourth order.
    Propagation coarse = propagate(model, steps, samples_for(steps, n_fourier));
    for (;;) {
      prop = propagate(model, 2 * steps, samples_for(2 * steps, n_fourier));
      steps *= 2;
      double err = max_abs(prop.UT - coarse.UT);
      const std::size_t ratio = prop.samples.size() / coarse.samples.size();
      for (std::size_t j = 0; j < coarse.samples.size(); ++j)
        err = std::max(err, max_abs(prop.samples[j * ratio] - coarse.samples[j]));
      if (err / 15.0 < kPropagatorTolerance) break;
      if (steps >= kMaxSteps) {
        converged = false;
        break;
      }
      coarse = std::move(prop);
    }
  }
  res.steps_per_period = steps;

  // ---- Floquet modes: U(T) is normal, so its Schur form is diagonal and Q is unitary -------------
  Eigen::ComplexSchur<cmat> schur(prop.UT);
  const cmat& Q = schur.matrixU();
  std::vector<double> eps_raw(d);
  for (int a = 0; a < d; ++a) {
    eps_raw[a] = -std::arg(schur.matrixT()(a, a)) / T;  // arg in (-pi, pi] -> [-w_d/2, w_d/2)
  }
  std::vector<int> order(d);
  for (int a = 0; a < d; ++a) order[a] = a;
  std::sort(order.begin(), order.end(), [&](int x, int y) { return eps_raw[x] < eps_raw[y]; });
  rvec eps(d);
  cmat P(d, d);
  for (int a = 0; a < d; ++a) {
    eps(a) = eps_raw[order[a]];
    P.col(a) = Q.col(order[a]);
  }
  res.quasienergies = eps;

  // ---- 2. channels and Fourier components -------------------------------------------------------
  std::vector<Channel> channels;
  for (int i = 0; i < static_cast<int>(model.baths.size()); ++i) {
    const Bath& b = model.baths[i];
    if (b.coupling == CouplingKind::hermitian) {
      channels.push_back({i, Channel::thermal, b.op, false});
    } else {
      channels.push_back({i, Channel::emission, b.op, false});
      channels.push_back({i, Channel::absorption, b.op.adjoint(), true});
    }
  }
  const int nch = static_cast<int>(channels.size());
  // coef[c][a + d*b] = spectrum over the n_fourier grid (index k mod n_fourier)
  std::vector<std::vector<std::vector<cplx>>> coef;
  auto compute_coefficients = [&](const Propagation& pr) {
    const int nf = static_cast<int>(pr.samples.size());
    coef.assign(nch, std::vector<std::vector<cplx>>(static_cast<std::size_t>(d) * static_cast<std::size_t>(d), std::vector<cplx>(nf)));
    for (int j = 0; j < nf; ++j) {
      const double t = T * static_cast<double>(j) / static_cast<double>(nf);
      const cmat W = pr.samples[j] * P;
      cvec ph(d);  // e^{i eps_a t}: <phi_a(t)|X|phi_b(t)> = conj(ph_a) ph_b (W^dag X W)_ab
      for (int a = 0; a < d; ++a) ph(a) = std::exp(cplx(0.0, eps(a) * t));
      for (int c = 0; c < nch; ++c) {
        if (channels[c].adjoint_of_previous) continue;
        const cmat F = W.adjoint() * channels[c].op * W;
        for (int b = 0; b < d; ++b)
          for (int a = 0; a < d; ++a)
            coef[c][a + d * b][j] = std::conj(ph(a)) * ph(b) * F(a, b) / static_cast<double>(nf);
      }
    }
    for (int c = 0; c < nch; ++c) {
      if (channels[c].adjoint_of_previous) continue;
      for (auto& s : coef[c]) fft(s);
    }
    for (int c = 0; c < nch; ++c) {
      if (!channels[c].adjoint_of_previous) continue;
      for (int b = 0; b < d; ++b)
        for (int a = 0; a < d; ++a)
          for (int k = 0; k < nf; ++k)
            coef[c][a + d * b][k] = std::conj(coef[c - 1][b + d * a][(nf - k) % nf]);
    }
  };
  // Smallest K with sum_{|k|>K} |X_ab(k)|^2 below the tolerance (relative to the pair's total, with
  // an absolute floor at the FFT round-off of ||X||^2) for every channel and pair.
  auto harmonics_needed = [&](int nf) {
    int K = 0;
    for (int c = 0; c < nch; ++c) {
      const double floor = 1e-26 * channels[c].op.squaredNorm();
      for (const auto& s : coef[c]) {
        double total = 0.0;
        for (const auto& z : s) total += std::norm(z);
        const double allowed = std::max(kFourierTailTolerance * total, floor);
        double tail = 0.0;
        int k = nf / 2;
        for (; k > 0; --k) {
          tail += std::norm(s[k % nf]) + (k == nf / 2 ? 0.0 : std::norm(s[(nf - k) % nf]));
          if (tail > allowed) break;
        }
        K = std::max(K, k);
      }
    }
    return K;
  };
  compute_coefficients(prop);
  int nf = static_cast<int>(prop.samples.size());
  int K = harmonics_needed(nf);
  // Aliasing control: the harmonics kept must sit well inside the grid (|k| <= nf/4).
  while (options.max_harmonic <= 0 && 4 * K > nf && nf < kMaxFourierGrid) {
    n_fourier = 2 * nf;
    if (n_fourier > steps) steps = n_fourier;
    prop = propagate(model, steps, n_fourier);
    compute_coefficients(prop);
    nf = static_cast<int>(prop.samples.size());
    K = harmonics_needed(nf);
  }
  res.steps_per_period = steps;
  if (options.max_harmonic > 0) K = std::min(options.max_harmonic, nf / 2 - 1);
  res.harmonics_used = K;

  // ---- 3. rates -----------------------------------------------------------------------------------
  const int nb = static_cast<int>(model.baths.size());
  std::vector<rmat> R(nb, rmat::Zero(d, d));   // R[alpha](a, b): rate b -> a summed over k
  std::vector<rmat> E(nb, rmat::Zero(d, d));   // E[alpha](a, b): sum over k of Delta * rate
  const double zero_tol = options.degeneracy_tolerance * wd;
  for (int c = 0; c < nch; ++c) {
    const Bath& bath = model.baths[channels[c].bath];
    for (int b = 0; b < d; ++b)
      for (int a = 0; a < d; ++a)
        for (int k = -K; k <= K; ++k) {
          const double wgt = std::norm(coef[c][a + d * b][((k % nf) + nf) % nf]);
          if (wgt == 0.0) continue;
          double delta = eps(b) - eps(a) - static_cast<double>(k) * wd;
          if (std::abs(delta) < zero_tol) delta = 0.0;
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

  // ---- Pauli steady state -------------------------------------------------------------------------
  rmat W = Rt;
  W.diagonal().setZero();
  // Uniqueness: exactly one closed communicating class of the jump graph (rates below 1e-15 of the
  // largest count as absent: they are FFT round-off or below the accuracy of the rates).
  {
    const double thr = 1e-15 * std::max(W.maxCoeff(), 0.0);
    std::vector<std::vector<char>> reach(d, std::vector<char>(d, 0));
    for (int a = 0; a < d; ++a) {
      reach[a][a] = 1;
      for (int b = 0; b < d; ++b)
        if (W(b, a) > thr) reach[a][b] = 1;  // a -> b
    }
    for (int m = 0; m < d; ++m)
      for (int a = 0; a < d; ++a)
        if (reach[a][m])
          for (int b = 0; b < d; ++b)
            if (reach[m][b]) reach[a][b] = 1;
    int closed = 0;
    std::vector<char> seen(d, 0);
    for (int a = 0; a < d; ++a) {
      if (seen[a]) continue;
      bool is_closed = true;
      for (int b = 0; b < d; ++b) {
        if (reach[a][b] && reach[b][a]) seen[b] = 1;
        if (reach[a][b] && !reach[b][a]) is_closed = false;
      }
      if (is_closed) ++closed;
    }
    if (closed > 1) res.status = SteadyStatus::not_unique;
  }
  rmat M = W;
  for (int b = 0; b < d; ++b) M(b, b) = -W.col(b).sum();
  M.row(0).setOnes();
  rvec rhs = rvec::Zero(d);
  rhs(0) = 1.0;
  const Eigen::FullPivLU<rmat> lu(M);
  rvec p = lu.solve(rhs);
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
  return res;
}

}  // namespace qheat
