#include "qheat/generators/generator.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <type_traits>

#include "qheat/baths/spectral.hpp"
#include "qheat/core/linalg.hpp"
#include "qheat/operators/charge.hpp"
#include "detail.hpp"

namespace qheat {

std::string method_name(Method m) {
  switch (m) {
    case Method::local: return "local";
    case Method::global: return "global";
    case Method::redfield: return "redfield";
    case Method::dme: return "dme";
    case Method::ddme: return "ddme";
    case Method::floquet: return "floquet";
    case Method::heom: return "heom";
  }
  return "?";
}

Method parse_method(const std::string& name) {
  if (name == "local") return Method::local;
  if (name == "global" || name == "davies") return Method::global;
  if (name == "redfield" || name == "bloch-redfield") return Method::redfield;
  if (name == "dme") return Method::dme;
  if (name == "ddme") return Method::ddme;
  if (name == "floquet") return Method::floquet;
  if (name == "heom") return Method::heom;
  throw MethodError("unknown-method", "unknown method '" + name +
                                          "' (static models: local, global, redfield, heom; driven: dme, ddme, floquet)");
}

LambShiftMode parse_lamb_shift_mode(const std::string& text) {
  if (text == "on") return LambShiftMode::on;
  if (text == "off") return LambShiftMode::off;
  if (text == "auto") return LambShiftMode::automatic;
  throw MethodError("lamb-shift-mode", "--lamb-shift expects on, off or auto, got '" + text + "'");
}

Eigenbasis diagonalize(const cmat& hermitian) {
  Eigenbasis b;
  linalg::hermitian_eigen(hermitian, b.energies, b.vectors);
  b.real = linalg::is_real(b.vectors);
  return b;
}

Eigenbasis diagonalize(const cmat& hermitian, const std::vector<int>& q) {
  const int m = static_cast<long>(q.size()) == hermitian.rows() ? charge_modulus(hermitian, q, 0, true) : 1;
  const std::vector<int> classes = m == 1 ? std::vector<int>() : charge_classes(q, m);
  const std::vector<std::vector<int>> sectors = charge_sectors(classes);
  if (sectors.size() < 2) return diagonalize(hermitian);
  const long d = hermitian.rows();
  struct Level {
    double energy;
    int sector, index;
  };
  std::vector<Level> levels;
  levels.reserve(static_cast<std::size_t>(d));
  std::vector<rvec> energies(sectors.size());
  std::vector<cmat> vectors(sectors.size());
  for (std::size_t s = 0; s < sectors.size(); ++s) {
    const auto& I = sectors[s];
    const auto n = static_cast<long>(I.size());
    linalg::hermitian_eigen(hermitian(I, I), energies[s], vectors[s]);
    for (long k = 0; k < n; ++k) levels.push_back({energies[s](k), static_cast<int>(s), static_cast<int>(k)});
  }
  std::stable_sort(levels.begin(), levels.end(), [](const Level& a, const Level& b) { return a.energy < b.energy; });
  Eigenbasis b;
  b.energies.resize(d);
  b.vectors = cmat::Zero(d, d);
  b.charge.resize(static_cast<std::size_t>(d));
  b.charge_modulus = m;
  b.site_sectors = sectors;
  b.level_sectors.resize(sectors.size());
  for (long k = 0; k < d; ++k) {
    const Level& l = levels[static_cast<std::size_t>(k)];
    const auto& I = sectors[static_cast<std::size_t>(l.sector)];
    b.energies(k) = l.energy;
    b.vectors(I, k) = vectors[static_cast<std::size_t>(l.sector)].col(l.index);
    b.charge[static_cast<std::size_t>(k)] = classes[static_cast<std::size_t>(I.front())];
    b.level_sectors[static_cast<std::size_t>(l.sector)].push_back(static_cast<int>(k));
  }
  b.real = linalg::is_real(b.vectors);
  return b;
}

namespace {
// A matrix with at most this fraction of non-zero elements is multiplied as a sparse matrix.
constexpr double kSparseFraction = 0.1;

template <class M>
bool mostly_zero(const M& m) {
  const long nnz = (m.array() != typename M::Scalar(0)).count();
  return static_cast<double>(nnz) <= kSparseFraction * static_cast<double>(m.size());
}

// V^T op V (or V op V^T when `back`) in real arithmetic.
rmat real_transform(const rmat& V, const rmat& op, bool back) {
  if (V.rows() >= 32 && mostly_zero(op)) {
    const Eigen::SparseMatrix<double> S = op.sparseView();
    if (back) {
      const rmat SV = S * V.transpose();
      return V * SV;
    }
    const rmat SV = S * V;
    return V.transpose() * SV;
  }
  return back ? rmat(V * op * V.transpose()) : rmat(V.transpose() * op * V);
}

// V^dag op V (to the eigenbasis) or V op V^dag (back) one pair of class blocks at a time: V's blocks
// (sites of class s) x (levels of class s) and the blocks of op between two classes that are not exactly zero,
// in real arithmetic when V and op are real. Reads op and writes the result block by block: no d x d copies.
cmat transform_by_sectors(const Eigenbasis& b, const cmat& op, bool real, bool back) {
  const auto& from = back ? b.level_sectors : b.site_sectors;
  const auto& to = back ? b.site_sectors : b.level_sectors;
  const std::size_t ns = from.size();
  const std::vector<int> at = sector_of(from, static_cast<std::size_t>(op.rows()));
  const std::vector<std::vector<int>> pairs = nonzero_sector_blocks(op, at, at, ns);
  cmat out = cmat::Zero(op.rows(), op.cols());
  auto run = [&](auto tag) {
    using Mat = decltype(tag);
    std::vector<Mat> V;
    V.reserve(ns);
    for (std::size_t s = 0; s < ns; ++s) {
      if constexpr (std::is_same_v<Mat, rmat>) {
        V.emplace_back(b.vectors(b.site_sectors[s], b.level_sectors[s]).real());
      } else {
        V.emplace_back(b.vectors(b.site_sectors[s], b.level_sectors[s]));
      }
    }
    for (std::size_t r = 0; r < ns; ++r)
      for (const int c : pairs[r]) {
        const auto cs = static_cast<std::size_t>(c);
        Mat blk;
        if constexpr (std::is_same_v<Mat, rmat>) blk = op(from[r], from[cs]).real(); else blk = op(from[r], from[cs]);
        Mat t;
        if (blk.rows() == 1 || blk.cols() == 1) {
          // A one-level class: Eigen would hand these products to BLAS's gemv, and OpenBLAS 0.3.21's zgemv_n_HASWELL
          // reads past its operands (OpenBLAS issue 4013; a SEGV under AddressSanitizer in
          // HeomIterativeSchur.GivesTheDenseFactorsCurrentsAndState). Eigen's own loops instead.
          const Mat left = back ? Mat(V[r].lazyProduct(blk)) : Mat(V[r].adjoint().lazyProduct(blk));
          t = back ? Mat(left.lazyProduct(V[cs].adjoint())) : Mat(left.lazyProduct(V[cs]));
        } else {
          t = back ? Mat(V[r] * blk * V[cs].adjoint()) : Mat(V[r].adjoint() * blk * V[cs]);
        }
        if constexpr (std::is_same_v<Mat, rmat>) out(to[r], to[cs]) = t.template cast<cplx>(); else out(to[r], to[cs]) = t;
      }
  };
  if (real) run(rmat()); else run(cmat());
  return out;
}
}  // namespace

cmat Eigenbasis::to_eigen(const cmat& op) const {
  if (level_sectors.size() > 1 && vectors.rows() >= kMinSectorDim) return transform_by_sectors(*this, op, real && linalg::is_real(op), false);
  if (real && linalg::is_real(op)) return real_transform(vectors.real(), op.real(), false).cast<cplx>();
  if (vectors.rows() >= 32 && mostly_zero(op)) {
    const Eigen::SparseMatrix<cplx> S = op.sparseView();
    const cmat SV = S * vectors;
    return vectors.adjoint() * SV;
  }
  return vectors.adjoint() * op * vectors;
}

cmat Eigenbasis::from_eigen(const cmat& op) const {
  if (level_sectors.size() > 1 && vectors.rows() >= kMinSectorDim) return transform_by_sectors(*this, op, real && linalg::is_real(op), true);
  if (real && linalg::is_real(op)) return real_transform(vectors.real(), op.real(), true).cast<cplx>();
  return vectors * op * vectors.adjoint();
}

using Part = ChannelPart;

// Gamma(w) = kappa_part(w)/2 + i S_part(w) (conventions.md: Gamma = kappa~/2 + i S).
// `divergence_cancels`: the caller knows that the separately infinite S_+(0) and S_-(0) of an ohmic
// bath at T > 0 cancel (Davies with a normal zero-frequency component A(0): the shifts enter as
// S_+ A(0)^dag A(0) + S_- A(0) A(0)^dag and the jump terms cancel pairwise), so their finite parts are exact.
cplx channel_gamma(const SpectralDensity& J, double T, ChannelPart part, bool with_shift, double w,
                   bool divergence_cancels) {
  double rate = 0.0;
  switch (part) {
    case Part::full: rate = kappa_thermal(J, T, w); break;
    case Part::emission: rate = kappa_emission(J, T, w); break;
    case Part::absorption: rate = kappa_absorption(J, T, w); break;
  }
  double shift = 0.0;
  if (with_shift) {
    if (part == Part::full) {
      shift = lamb_shift_total(J, T, w);
    } else {
      if (!divergence_cancels && !lamb_shift_split_finite(J, T, w))
        throw MethodError("lamb-shift-infinite",
                          "the exchange coupling operator has a zero-frequency component, whose Lamb shift "
                          "diverges for this spectral density at T > 0; use --lamb-shift off");
      const LambShiftParts s = lamb_shift(J, T, w);
      shift = part == Part::emission ? s.emission : s.absorption;
    }
  }
  return {0.5 * rate, shift};
}

std::vector<CouplingChannel> coupling_channels(const Bath& bath) {
  if (bath.coupling == CouplingKind::hermitian) return {CouplingChannel{bath.op, Part::full}};
  // Exchange H_SB = b^dag A + b A^dag: A emits into the bath, A^dag absorbs from it.
  return {CouplingChannel{bath.op, Part::emission}, CouplingChannel{bath.op.adjoint(), Part::absorption}};
}

bool lamb_shift_enabled(const Bath& bath, LambShiftMode mode) {
  switch (mode) {
    case LambShiftMode::off: return false;
    case LambShiftMode::automatic: return bath.spectral.lamb_shift_finite(bath.temperature) && bath.lamb_shift_default;
    case LambShiftMode::on:
      if (!bath.spectral.lamb_shift_finite(bath.temperature))
        throw MethodError("lamb-shift-infinite", "bath '" + bath.name + "' has a " + bath.spectral.describe() +
                                                     ", whose Lamb shift is infinite" +
                                                     (bath.spectral.lamb_shift_finite() ? " at T > 0" : "") +
                                                     "; use --lamb-shift off");
      return true;
  }
  return false;
}

namespace {

// A channel of a bath: dissipator terms built from operator X (eigenbasis) with Gamma of `part`.
struct Channel {
  cmat X;
  Part part;
};

std::vector<Channel> channels_of(const Bath& bath, const Eigenbasis& basis) {
  std::vector<Channel> out;
  for (const CouplingChannel& c : coupling_channels(bath)) out.push_back(Channel{basis.to_eigen(c.op), c.part});
  return out;
}

}  // namespace

namespace detail {
double element_threshold(double largest) { return 1e-14 * std::max(1.0, largest); }
double element_threshold(const cmat& X) {
  return element_threshold(std::sqrt(X.size() > 0 ? X.cwiseAbs2().maxCoeff() : 0.0));
}

// Clusters of Bohr frequencies: equal within `tol`. Returns the cluster representative of each value.
std::vector<double> cluster_values(const std::vector<double>& values, double tol,
                                   std::vector<int>& cluster_of) {
  const std::size_t n = values.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  cluster_of.assign(n, -1);
  std::vector<double> reps;
  std::vector<std::size_t> members;
  auto flush = [&]() {
    if (members.empty()) return;
    double sum = 0.0;
    for (auto m : members) sum += values[m];
    double rep = sum / static_cast<double>(members.size());
    if (std::abs(rep) <= tol) rep = 0.0;
    for (auto m : members) cluster_of[m] = static_cast<int>(reps.size());
    reps.push_back(rep);
    members.clear();
  };
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t idx = order[k];
    if (!members.empty() && values[idx] - values[members.back()] > tol) flush();
    members.push_back(idx);
  }
  flush();
  return reps;
}
std::vector<cplx> gamma_at(GammaCache& gamma, const std::vector<double>& w) {
  std::vector<std::size_t> order(w.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return w[a] < w[b]; });
  std::vector<cplx> out(w.size());
  double last = std::numeric_limits<double>::quiet_NaN();
  cplx g;
  for (std::size_t k : order) {
    if (!(std::abs(w[k] - last) <= 1e-13 * std::max(1.0, std::abs(w[k])))) {
      g = gamma(w[k]);
      last = w[k];
    }
    out[k] = g;
  }
  return out;
}
}  // namespace detail

namespace {
using detail::cluster_values;
using detail::element_threshold;
using detail::GammaCache;

// Davies / local: one dissipator term per Bohr frequency w of `energies` (eigenbasis of the
// Hamiltonian the bath "sees"), X(w) = sum_{E_n - E_m = w} |m><m|X|n><n|, Lambda = Gamma(w) X(w).
// `to_global` maps operators from that basis to the global eigenbasis.
// `to_global` is null when that basis is the global one.
// `rate_shift` is added to every Bohr frequency before the rates are evaluated; `frame_energy` is
// recorded in each term (dressed methods in the rotating frame; both 0 otherwise).
void secular_terms(const cmat& X, const rvec& energies, double tol, GammaCache& gamma,
                   const cmat* to_global, std::vector<DissipatorTerm>& out, double rate_shift = 0.0,
                   double frame_energy = 0.0) {
  const int d = static_cast<int>(energies.size());
  const double thr = element_threshold(X);
  std::vector<double> freqs;
  std::vector<std::pair<int, int>> where;
  for (int n = 0; n < d; ++n)
    for (int m = 0; m < d; ++m)
      if (std::abs(X(m, n)) > thr) {
        freqs.push_back(energies(n) - energies(m));
        where.emplace_back(m, n);
      }
  std::vector<int> cluster_of;
  const std::vector<double> reps = cluster_values(freqs, tol, cluster_of);
  std::vector<cmat> parts(reps.size(), cmat::Zero(d, d));
  for (std::size_t k = 0; k < freqs.size(); ++k) {
    auto [m, n] = where[k];
    parts[static_cast<std::size_t>(cluster_of[k])](m, n) = X(m, n);
  }
  for (std::size_t c = 0; c < reps.size(); ++c) {
    const bool normal_zero = reps[c] == 0.0 && (parts[c] * parts[c].adjoint() - parts[c].adjoint() * parts[c])
                                                       .cwiseAbs()
                                                       .maxCoeff() <= 1e-12 * std::max(1.0, parts[c].squaredNorm());
    const cplx g = gamma(reps[c] + rate_shift, normal_zero && rate_shift == 0.0);
    if (g == cplx(0.0, 0.0)) continue;
    cmat Xc = to_global != nullptr ? cmat(to_global->adjoint() * parts[c] * *to_global) : std::move(parts[c]);
    cmat Lc = g * Xc;
    out.push_back(DissipatorTerm{std::move(Xc), std::move(Lc), frame_energy});
  }
}

void finish_bath(BathDissipator& b, const Eigenbasis& basis) {
  const long d = b.terms.empty() ? 0 : b.terms.front().X.rows();
  cmat K = cmat::Zero(d, d);
  for (const auto& t : b.terms) add_adjoint_product_by_sectors(t.X, t.Lambda, basis.level_sectors, K);
  b.K_h = 0.5 * (K + K.adjoint());
  b.H_LS = cplx(0.0, -0.5) * (K - K.adjoint());
}

}  // namespace

void BathDissipator::cache_liouvillian() {
  cached = liouvillian();
  use_cached = true;
}

cmat BathDissipator::apply(const cmat& rho) const {
  if (use_cached) {
    const long d = rho.rows();
    const cvec v = cached * Eigen::Map<const cvec>(rho.data(), d * d);
    return Eigen::Map<const cmat>(v.data(), d, d);
  }
  cmat out = -(K_h * rho + rho * K_h);
  for (const auto& t : terms) {
    out.noalias() += t.Lambda * rho * t.X.adjoint();
    out.noalias() += t.X * rho * t.Lambda.adjoint();
  }
  return out;
}

namespace {
// Nonzero pattern of a matrix (|m_ij| above round-off of its largest element).
std::vector<std::pair<long, long>> nonzeros(const cmat& m) {
  const double thr = element_threshold(m);
  const double thr2 = thr * thr;
  std::vector<std::pair<long, long>> nz;
  for (long j = 0; j < m.cols(); ++j)
    for (long i = 0; i < m.rows(); ++i)
      if (std::norm(m(i, j)) > thr2) nz.emplace_back(i, j);
  return nz;
}

// Visits the entries of scale * (B^T (x) A): vec(A rho B) = (B^T (x) A) vec(rho), column stacking.
template <class Sink>
void for_kron(const cmat& BT, const cmat& A, cplx scale, Sink&& sink) {
  const long d = A.rows();
  const auto nzA = nonzeros(A), nzB = nonzeros(BT);
  for (auto [bi, bj] : nzB) {
    const cplx b = scale * BT(bi, bj);
    for (auto [ai, aj] : nzA) sink(ai + d * bi, aj + d * bj, b * A(ai, aj));
  }
}

void add_kron(std::vector<Eigen::Triplet<cplx, long>>& trip, const cmat& BT, const cmat& A, cplx scale) {
  for_kron(BT, A, scale, [&](long r, long c, cplx v) { trip.emplace_back(r, c, v); });
}

void add_kron(cmat& L, const cmat& BT, const cmat& A, cplx scale) {
  for_kron(BT, A, scale, [&](long r, long c, cplx v) { L(r, c) += v; });
}

// The superoperator of D (eigenbasis, column stacking) added into `out` (triplets or a dense matrix).
template <class Out>
void dissipator_superoperator(const BathDissipator& b, Out& out) {
  const long d = b.K_h.rows();
  const cmat I = cmat::Identity(d, d);
  for (const auto& t : b.terms) {
    add_kron(out, t.X.conjugate(), t.Lambda, 1.0);
    add_kron(out, t.Lambda.conjugate(), t.X, 1.0);
  }
  add_kron(out, I, b.K_h, -1.0);
  add_kron(out, b.K_h.transpose(), I, -1.0);
}
}  // namespace

spmat BathDissipator::liouvillian() const {
  if (use_cached) return cached;
  const long d = K_h.rows();
  std::vector<Eigen::Triplet<cplx, long>> trip;
  dissipator_superoperator(*this, trip);
  spmat L(d * d, d * d);
  L.setFromTriplets(trip.begin(), trip.end());
  return L;
}

namespace {
double max_abs(const cmat& m) { return m.size() > 0 ? std::sqrt(m.cwiseAbs2().maxCoeff()) : 0.0; }
}  // namespace

namespace detail {
// Kong eqs. 2-4: the rotating frame R(t) = exp(-i w_d t N_A), N_A = sum over the baths' distinct
// exchange operators of A^dag A, and the static rotated Hamiltonian H_S - w_d N_A + V_1 + V_1^dag.
// Checks the method's preconditions and says which one fails.
cmat rotating_frame_hamiltonian(const Model& model, Method method) {
  const std::string who = "method '" + method_name(method) + "'";
  if (!model.drive)
    throw MethodError("method-needs-drive", who + " is for periodically driven models, and this model has no "
                                                  "[drive] (static models accept: local, global, redfield)");
  const Drive& drive = *model.drive;
  if (drive.harmonics.size() != 1 || drive.harmonics.front().k != 1)
    throw MethodError("drive-form", who + " needs a drive with the single harmonic k = 1 "
                                          "(V e^{-i w t} + h.c.); use --method floquet for other drives");
  const long d = model.hamiltonian.rows();
  cmat N = cmat::Zero(d, d);
  std::vector<const cmat*> distinct;
  for (const Bath& b : model.baths) {
    if (b.coupling != CouplingKind::exchange)
      throw MethodError("dressed-coupling", who + " needs exchange couplings (H_SB = b^dag A + b A^dag); bath '" +
                                                b.name + "' is hermitian; use --method floquet");
    const bool seen = std::any_of(distinct.begin(), distinct.end(),
                                  [&](const cmat* a) { return max_abs(*a - b.op) <= 1e-12 * std::max(1.0, max_abs(b.op)); });
    if (!seen) {
      distinct.push_back(&b.op);
      N += b.op.adjoint() * b.op;
    }
  }
  const double scale = std::max(1.0, max_abs(model.hamiltonian));
  const double tol = 1e-10 * scale;
  for (const Bath& b : model.baths)
    if (max_abs(N * b.op - b.op * N + b.op) > 1e-10 * std::max(1.0, max_abs(b.op)))
      throw MethodError("dressed-frame", who + ": N_A = sum A^dag A does not count the quanta that bath '" + b.name +
                                             "' exchanges ([N_A, A] != -A), so no rotating frame removes the drive");
  if (max_abs(N * model.hamiltonian - model.hamiltonian * N) > tol)
    throw MethodError("dressed-frame", who + " needs [N_A, H_S] = 0 (Kong eq. 4), N_A = sum A^dag A over the baths' "
                                             "operators; this H_S does not conserve N_A; use --method floquet");
  const cmat& V = drive.harmonics.front().V;
  if (max_abs(N * V - V * N - V) > 1e-10 * std::max(1.0, max_abs(V)))
    throw MethodError("drive-form", who + " needs the drive V e^{-i w t} + h.c. with V raising N_A by one "
                                          "([N_A, V] = V, e.g. V = -(eta/2) A^dag, Kong eq. 2); use --method floquet");
  return model.hamiltonian - drive.frequency * N + V + V.adjoint();
}

SecularParts secular_parts(const Generator& gen) {
  const long d = gen.dim();
  SecularParts p{rmat::Zero(d, d), {}, rvec::Zero(d), gen.renormalized_hamiltonian().diagonal()};
  for (const auto& bath : gen.baths()) {
    for (const auto& t : bath.terms) {
      p.rates += 2.0 * (t.Lambda.cwiseProduct(t.X.conjugate())).real();
      p.diagonals.emplace_back(t.Lambda.diagonal(), t.X.diagonal());
    }
    const rvec kb = bath.K_h.diagonal().real();
    p.rates.diagonal() -= 2.0 * kb;
    p.k += kb;
  }
  return p;
}

cplx SecularParts::coherence(long a, long b) const {
  cplx v = cplx(0.0, -1.0) * (h(a) - h(b)) - k(a) - k(b);
  for (const auto& [lx, xx] : diagonals) v += lx(a) * std::conj(xx(b)) + xx(a) * std::conj(lx(b));
  return v;
}

Eigenbasis diagonalize_cached(const cmat& H, const std::vector<int>& q, GeneratorCache* cache) {
  if (cache == nullptr) return diagonalize(H, q);
  if (cache->hamiltonian.rows() == H.rows() && cache->hamiltonian.cols() == H.cols() && cache->hamiltonian == H &&
      cache->charges == q) {
    ++cache->eigen_reused;
    return cache->basis;
  }
  cache->basis = diagonalize(H, q);
  cache->hamiltonian = H;
  cache->charges = q;
  return cache->basis;
}
}  // namespace detail

using detail::diagonalize_cached;
using detail::rotating_frame_hamiltonian;

Generator::Generator(const Model& model, const GeneratorOptions& options)
    : method_(options.method),
      basis_(diagonalize_cached(options.method == Method::dme || options.method == Method::ddme
                                    ? rotating_frame_hamiltonian(model, options.method)
                                    : model.hamiltonian,
                                excitation_numbers(model.space), options.cache)) {
  if (method_ == Method::floquet)
    throw MethodError("floquet-generator", "the Floquet-Markov method is solved by floquet_steady_state(), not a Generator");
  if (method_ == Method::heom)
    throw MethodError("heom-generator", "the HEOM method is solved by heom_steady_state(), not a Generator");
  if (driven() && options.lamb_shift == LambShiftMode::on)
    throw MethodError("lamb-shift-unsupported", "methods dme and ddme have no Lamb shift (Kong eqs. 6-7); use --lamb-shift off");
  const int d = dim();
  const double scale = std::max(1.0, basis_.energies.cwiseAbs().maxCoeff());
  const double tol = options.degeneracy_tolerance * scale;

  bool any_shift = false;
  // Room for every bath at once: BathDissipator has no noexcept move (Eigen's SparseMatrix), so a vector that
  // grows copies its d x d matrices (at N = 11 that was a copy of one bath's X, Lambda, K_h and H_LS).
  baths_.reserve(model.baths.size());
  for (const Bath& bath : model.baths) {
    const bool shift = lamb_shift_enabled(bath, driven() ? LambShiftMode::off : options.lamb_shift);
    any_shift = any_shift || shift;

    BathDissipator bd;
    for (Channel& ch : channels_of(bath, basis_)) {
      GammaCache gamma(bath, ch.part, shift, options.cache);
      switch (method_) {
        case Method::redfield: {
          // Bloch-Redfield: Lambda_mn = Gamma(E_n - E_m) X_mn (architecture note; Zhang eqs. 8-12).
          // Gamma once per distinct Bohr frequency (detail::gamma_at). A Bohr frequency within tol of zero (degenerate
          // levels) is zero, as for Davies: its round-off, of either sign, would otherwise pick Gamma's emission or
          // absorption side at random, and make a flat bath's kappa n(w) ~ kappa T / w of order 1e15 instead of the
          // error that a zero-frequency rate which diverges deserves.
          cmat Lambda = cmat::Zero(d, d);
          const double thr = element_threshold(ch.X);
          std::vector<double> w;
          std::vector<long> at;
          for (int n = 0; n < d; ++n)
            for (int m = 0; m < d; ++m)
              if (std::norm(ch.X(m, n)) > thr * thr) {
                const double bohr = basis_.energies(n) - basis_.energies(m);
                w.push_back(std::abs(bohr) <= tol ? 0.0 : bohr);
                at.push_back(m + static_cast<long>(d) * n);
              }
          const std::vector<cplx> g = detail::gamma_at(gamma, w);
          for (std::size_t k = 0; k < at.size(); ++k) Lambda(at[k]) = g[k] * ch.X(at[k]);
          bd.terms.push_back(DissipatorTerm{std::move(ch.X), std::move(Lambda)});
          break;
        }
        case Method::global:
          // Davies: secular GKLS with degenerate Bohr frequencies grouped within tol.
          secular_terms(ch.X, basis_.energies, tol, gamma, nullptr, bd.terms);
          break;
        case Method::ddme:
        case Method::dme: {
          // Emission jumps carry one quantum w_d more to the bath than the frame energy they release,
          // absorption jumps one less (Kong eq. 9). The driven dressed ME evaluates the rates at
          // w_d + E_m'm (Kong eqs. 6-7); the traditional dressed ME at E_m'm alone (Kong eq. 8).
          const double wd = model.drive ? model.drive->frequency : 0.0;  // present: rotating_frame_hamiltonian checked
          const double q = ch.part == Part::emission ? wd : -wd;
          secular_terms(ch.X, basis_.energies, tol, gamma, nullptr, bd.terms, method_ == Method::ddme ? q : 0.0, q);
          break;
        }
        case Method::floquet:
        case Method::heom:
          break;
        case Method::local: {
          // Local Lindblad: the bath sees the local Hamiltonian of the sites it touches,
          // H_loc = Tr_rest(H)/d_rest, and dissipates through its eigen-decomposition.
          if (bath.sites.empty())
            throw MethodError("local-sites", "bath '" + bath.name +
                                                 "' acts on no site; the local method needs one");
          const cmat reduced = model.space.partial_trace_keep(model.hamiltonian, bath.sites);
          const double rest = static_cast<double>(d) / static_cast<double>(reduced.rows());
          const cmat H_loc = model.space.embed_many(bath.sites, reduced / rest);
          const Eigenbasis local = diagonalize(H_loc);
          const cmat X_local = local.vectors.adjoint() * basis_.from_eigen(ch.X) * local.vectors;
          // to_global maps local-eigenbasis operators to the global eigenbasis.
          const cmat to_global = local.vectors.adjoint() * basis_.vectors;
          secular_terms(X_local, local.energies, tol, gamma, &to_global, bd.terms);
          break;
        }
      }
    }
    if (bd.terms.empty()) {
      bd.K_h = cmat::Zero(d, d);
      bd.H_LS = cmat::Zero(d, d);
    } else {
      finish_bath(bd, basis_);
      if (method_ == Method::global || driven()) bd.cache_liouvillian();
    }
    baths_.push_back(std::move(bd));
    names_.push_back(bath.name);
    temps_.push_back(bath.temperature);
  }
  lamb_shift_ = any_shift;

  H_total_ = basis_.energies.cast<cplx>().asDiagonal();
  for (const auto& b : baths_) H_total_ += b.H_LS;

  // Smallest splitting between distinct Bohr frequencies of H (what the secular approximation needs; Bloch-Redfield
  // makes none, and skips the sort of d^2 frequencies).
  min_splitting_ = std::numeric_limits<double>::infinity();
  if (method_ == Method::redfield) return;
  std::vector<double> bohr;
  bohr.reserve(static_cast<std::size_t>(d) * static_cast<std::size_t>(d));
  for (int a = 0; a < d; ++a)
    for (int b = 0; b < d; ++b) bohr.push_back(basis_.energies(a) - basis_.energies(b));
  std::vector<int> cl;
  const std::vector<double> reps = cluster_values(bohr, tol, cl);
  for (std::size_t k = 1; k < reps.size(); ++k) min_splitting_ = std::min(min_splitting_, reps[k] - reps[k - 1]);
}

double Generator::largest_rate() const noexcept {
  if (released_) return largest_rate_;
  const int d = dim();
  rvec out = rvec::Zero(d);
  for (const auto& b : baths_) out += 2.0 * b.K_h.diagonal().real();
  return d > 0 ? out.maxCoeff() : 0.0;
}

void Generator::release_operators() {
  largest_rate_ = largest_rate();
  released_ = true;
  for (auto& b : baths_) b = BathDissipator{};
  H_total_ = cmat();
}

cmat Generator::apply(const cmat& rho) const {
  cmat out = cplx(0.0, -1.0) * (H_total_ * rho - rho * H_total_);
  for (const auto& b : baths_) out += b.apply(rho);
  return out;
}

spmat Generator::liouvillian() const {
  const long d = dim();
  std::vector<Eigen::Triplet<cplx, long>> trip;
  const cmat I = cmat::Identity(d, d);
  add_kron(trip, I, H_total_, cplx(0.0, -1.0));
  add_kron(trip, H_total_.transpose(), I, cplx(0.0, 1.0));
  spmat L(d * d, d * d);
  L.setFromTriplets(trip.begin(), trip.end());
  for (const auto& b : baths_) L += b.liouvillian();
  return L;
}

cmat Generator::dense_liouvillian() const {
  const long d = dim();
  cmat L = cmat::Zero(d * d, d * d);
  const cmat I = cmat::Identity(d, d);
  add_kron(L, I, H_total_, cplx(0.0, -1.0));
  add_kron(L, H_total_.transpose(), I, cplx(0.0, 1.0));
  for (const auto& b : baths_) {
    if (b.use_cached) {
      L += cmat(b.cached);
    } else {
      dissipator_superoperator(b, L);
    }
  }
  return L;
}

}  // namespace qheat
