// The hierarchy of auxiliary density operators, its steady state through steady/, the heat currents from
// the first tier and the automatic convergence in depth and terms (docs/methods.md, "HEOM").
#include "qheat/hierarchy/heom.hpp"

#include <Eigen/Dense>
#include <Eigen/SparseCore>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "qheat/core/interrupt.hpp"
#include "qheat/core/linalg.hpp"
#include "qheat/core/resources.hpp"

namespace qheat {
namespace {

using Sparse = LinearProblem<cplx>::Sparse;
using Triplet = Eigen::Triplet<cplx, long>;

// Superoperators on column-stacked vec(X), X(i, j) at i + d j: vec(A X) = (I (x) A) vec(X),
// vec(X B) = (B^T (x) I) vec(X).
Sparse left_product(const cmat& A) {
  const long d = A.rows();
  std::vector<Triplet> t;
  for (long j = 0; j < d; ++j)
    for (long a = 0; a < d; ++a)
      for (long i = 0; i < d; ++i)
        if (A(i, a) != cplx(0)) t.emplace_back(i + d * j, a + d * j, A(i, a));
  Sparse S(d * d, d * d);
  S.setFromTriplets(t.begin(), t.end());
  return S;
}
Sparse right_product(const cmat& B) {
  const long d = B.rows();
  std::vector<Triplet> t;
  for (long j = 0; j < d; ++j)
    for (long b = 0; b < d; ++b)
      if (B(b, j) != cplx(0))
        for (long i = 0; i < d; ++i) t.emplace_back(i + d * j, i + d * b, B(b, j));
  Sparse S(d * d, d * d);
  S.setFromTriplets(t.begin(), t.end());
  return S;
}

// One exponent of the hierarchy: bath a, C_a(t) term c e^{-nu t}.
struct Mode {
  int bath = 0;
  cplx c;
  double nu = 0.0;
};

// The multi-indices n with |n| <= depth, level by level; each generated once by adding e_k with k at or
// after the last non-zero index.
struct Hierarchy {
  int modes = 0, depth = 0;
  std::vector<std::uint8_t> index;  // ados x modes
  std::unordered_map<std::string, long> rank;
  [[nodiscard]] long size() const { return modes == 0 ? 1 : static_cast<long>(index.size()) / modes; }
  [[nodiscard]] std::string key(long a) const {
    return {reinterpret_cast<const char*>(index.data()) + a * modes, static_cast<std::size_t>(modes)};
  }
};

long ado_count(int modes, int depth) {
  // C(modes + depth, depth), saturating
  double c = 1.0;
  for (int k = 1; k <= depth; ++k) c = c * (modes + k) / k;
  return c > 9e15 ? static_cast<long>(9e15) : static_cast<long>(std::llround(c));
}

Hierarchy build_hierarchy(int modes, int depth) {
  Hierarchy h;
  h.modes = modes;
  h.depth = depth;
  h.index.assign(static_cast<std::size_t>(modes), 0);
  h.rank.emplace(h.key(0), 0);
  long begin = 0, end = 1;
  for (int level = 1; level <= depth && modes > 0; ++level) {
    for (long a = begin; a < end; ++a) {
      int last = 0;
      for (int k = 0; k < modes; ++k)
        if (h.index[static_cast<std::size_t>(a * modes + k)] != 0) last = k;
      for (int k = last; k < modes; ++k) {
        const std::size_t at = h.index.size();
        h.index.insert(h.index.end(), h.index.begin() + a * modes, h.index.begin() + (a + 1) * modes);
        h.index[at + static_cast<std::size_t>(k)] += 1;
        h.rank.emplace(h.key(static_cast<long>(at) / modes), static_cast<long>(at) / modes);
      }
    }
    begin = end;
    end = h.size();
  }
  return h;
}

// Sum_k n_k nu_k of every ADO: the shift of its diagonal block.
std::vector<double> damping_of(const Hierarchy& h, const std::vector<Mode>& modes) {
  std::vector<double> g(static_cast<std::size_t>(h.size()), 0.0);
  for (long a = 0; a < h.size(); ++a)
    for (int k = 0; k < h.modes; ++k)
      g[static_cast<std::size_t>(a)] += h.index[static_cast<std::size_t>(a * h.modes + k)] * modes[static_cast<std::size_t>(k)].nu;
  return g;
}

struct TierGaussSeidel {
  cmat V, Vinv;
  cvec w;
  std::vector<double> shift;
  Eigen::PartialPivLU<cmat> lu0;
  double rcond0 = 1.0;
  bool usable = true;  // false when V is too ill-conditioned for the eigenbasis form
  // up[k], down[k]: the blocks (0, e_k) and (e_k, 0) of the hierarchy; nu[k] the damping of e_k.
  TierGaussSeidel(const cmat& L0, double s, const cvec& u0, std::vector<double> damping, const std::vector<cmat>& up,
              const std::vector<cmat>& down, const std::vector<double>& nu)
      : shift(std::move(damping)) {
    linalg::general_eigen(L0, w, V, Vinv);
    // V^-1 V = 1 to round-off unless L0 is close to defective; then the preconditioner is unreliable and
    // the sparse LU is used instead.
    const double err = (Vinv * V - cmat::Identity(V.rows(), V.cols())).cwiseAbs().maxCoeff();
    usable = err < 1e-8;
    // ADO 0's block alone is singular (every operator commuting with H is stationary under L0): its
    // preconditioner is the Schur complement over the first tier, B0 - sum_k up_k (L0 - nu_k)^-1 down_k --
    // a second-order (Redfield-like) generator that is regular when the steady state is unique.
    cmat B0 = L0;
    B0.noalias() += s * u0 * u0.transpose();
    for (std::size_t k = 0; k < up.size(); ++k) {
      cmat Z = Vinv * down[k];
      for (long i = 0; i < Z.rows(); ++i) Z.row(i) /= w(i) - nu[k];
      B0.noalias() -= up[k] * (V * Z);
    }
    lu0.compute(B0);
    const Eigen::VectorXd piv = lu0.matrixLU().diagonal().cwiseAbs();
    rcond0 = piv.maxCoeff() > 0 ? piv.minCoeff() / piv.maxCoeff() : 0.0;
  }
  // Block Gauss-Seidel, tier by tier: y_t = D_t^-1 (x_t - A_{t,t-1} y_{t-1}), with D_a = L0 - (n.nu) I applied
  // for a whole tier at once as V [(w - n.nu)^-1 (V^-1 X_t)] (ADO 0: its Schur-complement LU); the couplings of
  // tier t-1 into tier t are read from the columns of the hierarchy operator A (column-major), one pass over
  // its non-zeros. Against block Jacobi (the same blocks, no couplings) it halves the GMRES iterations on
  // Kato's model at depth 7 (lam = 0.1: 40 -> 22, 0.5: 74 -> 41, 1: 128 -> 60) for about the same cost per
  // iteration (bench/README.md, "Issue 11").
  void apply(const LinearProblem<cplx>::Vec& x, LinearProblem<cplx>::Vec& y, long N, long dd, const Sparse& A,
                const std::vector<long>& tier_start) const {
    y.resize(x.size());
    LinearProblem<cplx>::Vec r = x;
    for (std::size_t t = 0; t + 1 < tier_start.size(); ++t) {
      const long a0 = tier_start[t], a1 = tier_start[t + 1];
      if (a0 == 0) {
        y.head(dd) = lu0.solve(r.head(dd));
      } else {
        Eigen::Map<const cmat> R(r.data() + a0 * dd, dd, a1 - a0);
        Eigen::Map<cmat> Y(y.data() + a0 * dd, dd, a1 - a0);
        cmat Z = Vinv * R;
        for (long a = a0; a < a1; ++a) {
          const double g = shift[static_cast<std::size_t>(a)];
          for (long i = 0; i < dd; ++i) Z(i, a - a0) /= w(i) - g;
        }
        Y.noalias() = V * Z;
      }
      if (a1 >= N) break;
      const long row_end = a1 * dd;
      for (long c = a0 * dd; c < a1 * dd; ++c) {
        const cplx yc = y(c);
        for (Sparse::InnerIterator it(A, c); it; ++it)
          if (it.row() >= row_end) r(it.row()) -= it.value() * yc;
      }
    }
  }
};

cmat block(const Eigen::Matrix<cplx, Eigen::Dynamic, 1>& x, long a, long d) {
  return Eigen::Map<const cmat>(x.data() + a * d * d, d, d);
}

// Estimated bytes of the hierarchy problem (operator, triplets while assembling) before it is built.
std::size_t hierarchy_bytes(long ados, long dd, long nnz_per_ado) {
  const auto nnz = static_cast<std::size_t>(ados) * static_cast<std::size_t>(nnz_per_ado);
  return nnz * (sizeof(Triplet) + sizeof(cplx) + sizeof(long)) + static_cast<std::size_t>(ados * dd) * sizeof(cplx) * 6;
}

HeomResult solve_hierarchy(const Model& model, const std::vector<CorrelationExpansion>& baths, int depth,
                           bool terminator, const SteadyStateOptions& steady) {
  const cmat& H = model.hamiltonian;
  const long d = H.rows(), dd = d * d;
  std::vector<Mode> modes;
  for (std::size_t a = 0; a < baths.size(); ++a)
    for (const CorrelationTerm& t : baths[a].terms) modes.push_back({static_cast<int>(a), t.c, t.nu});
  const int K = static_cast<int>(modes.size());

  const cmat I = cmat::Identity(d, d);
  const Sparse id = left_product(I);
  // L_S rho = -i[H, rho] plus the terminators -Delta_a [Q_a, [Q_a, rho]] (eqs. H5, H4).
  Sparse L0 = cplx(0, -1) * (left_product(H) - right_product(H));
  std::vector<Sparse> commQ, QL, QR;
  for (std::size_t a = 0; a < baths.size(); ++a) {
    const cmat& Q = model.baths[a].op;
    QL.push_back(left_product(Q));
    QR.push_back(right_product(Q));
    commQ.push_back(QL.back() - QR.back());
    if (terminator && baths[a].terminator != 0.0) {
      const Sparse dbl = commQ.back() * commQ.back();
      L0 = L0 - baths[a].terminator * dbl;
    }
  }
  long per_ado = L0.nonZeros() + dd;
  for (const Mode& m : modes) per_ado += 2 * commQ[static_cast<std::size_t>(m.bath)].nonZeros();
  const long nados = ado_count(K, depth);
  check_memory(hierarchy_bytes(nados, dd, per_ado),
               "the HEOM hierarchy (" + std::to_string(nados) + " auxiliary operators of " + std::to_string(dd) +
                   " elements, depth " + std::to_string(depth) + ", " + std::to_string(K) + " exponents)",
               "a smaller --heom-depth or --heom-terms would");
  const Hierarchy h = build_hierarchy(K, depth);
  const long N = h.size();

  // Assembly (eq. H5): block (n, n) L0 - sum_k n_k nu_k; (n, n + e_k) -i[Q, .];
  // (n, n - e_k) -i n_k (c_k Q . - c_k^* . Q).
  std::vector<Triplet> trip;
  trip.reserve(static_cast<std::size_t>(N) * static_cast<std::size_t>(per_ado));
  auto emit = [&trip](const Sparse& S, long row0, long col0, cplx f) {
    for (long c = 0; c < S.outerSize(); ++c)
      for (Sparse::InnerIterator it(S, c); it; ++it) trip.emplace_back(row0 + it.row(), col0 + c, f * it.value());
  };
  std::vector<Sparse> lower(static_cast<std::size_t>(K));
  for (int k = 0; k < K; ++k) {
    const auto b = static_cast<std::size_t>(modes[static_cast<std::size_t>(k)].bath);
    const cplx c = modes[static_cast<std::size_t>(k)].c;
    lower[static_cast<std::size_t>(k)] = cplx(0, -1) * (c * QL[b] - std::conj(c) * QR[b]);
  }
  // The unknowns are the scaled ADOs rho_n / prod_k sqrt(n_k! |c_k|^n_k), which makes the couplings up and
  // down the hierarchy of equal size sqrt(n_k |c_k|) (and GMRES converge in fewer iterations: measured,
  // docs/methods.md); rho_0 is unchanged.
  std::vector<double> weight(static_cast<std::size_t>(K), 1.0);
  for (int k = 0; k < K; ++k) {
    const double c = std::abs(modes[static_cast<std::size_t>(k)].c);
    if (c > 0.0) weight[static_cast<std::size_t>(k)] = c;
  }
  std::string nb;
  for (long a = 0; a < N; ++a) {
    if (a % 4096 == 0) throw_if_interrupted();
    const long r0 = a * dd;
    emit(L0, r0, r0, 1.0);
    double damp = 0.0;
    int level = 0;
    for (int k = 0; k < K; ++k) {
      const int nk = h.index[static_cast<std::size_t>(a * K + k)];
      damp += nk * modes[static_cast<std::size_t>(k)].nu;
      level += nk;
    }
    if (damp != 0.0)
      for (long i = 0; i < dd; ++i) trip.emplace_back(r0 + i, r0 + i, cplx(-damp, 0.0));
    for (int k = 0; k < K; ++k) {
      const int nk = h.index[static_cast<std::size_t>(a * K + k)];
      const auto b = static_cast<std::size_t>(modes[static_cast<std::size_t>(k)].bath);
      nb = h.key(a);
      if (level < depth) {
        nb[static_cast<std::size_t>(k)] = static_cast<char>(nk + 1);
        emit(commQ[b], r0, h.rank.at(nb) * dd, cplx(0, -1) * std::sqrt((nk + 1) * weight[static_cast<std::size_t>(k)]));
      }
      if (nk > 0) {
        nb[static_cast<std::size_t>(k)] = static_cast<char>(nk - 1);
        emit(lower[static_cast<std::size_t>(k)], r0, h.rank.at(nb) * dd, std::sqrt(nk / weight[static_cast<std::size_t>(k)]));
      }
    }
  }
  auto A = std::make_shared<Sparse>(N * dd, N * dd);
  A->setFromTriplets(trip.begin(), trip.end());
  A->makeCompressed();
  std::vector<Triplet>().swap(trip);

  LinearProblem<cplx> p;
  p.dim = N * dd;
  p.border = LinearProblem<cplx>::Vec::Zero(p.dim);
  for (long i = 0; i < d; ++i) p.border(i + d * i) = 1.0;  // Tr rho_0
  // The border weight: the largest diagonal element of the system block (the hierarchy's fastest damping
  // n.nu would swamp the physical rates).
  double s = 0.0;
  for (long i = 0; i < dd; ++i) s = std::max(s, std::abs(A->coeff(i, i)));
  p.scale = s > 0 ? s : 1.0;
  p.sparse = A;
  // Block Gauss-Seidel preconditioner over the tiers (measured, bench/README.md "Issue 11": GMRES with it
  // beats the sparse LU, whose fill grows fast with the depth): the diagonal block of ADO n is
  // L0 - (n.nu) I, so with L0 = V diag(w) V^-1 a tier's blocks are applied at once as
  // V [(w - n.nu)^-1 (V^-1 X)]; ADO 0's block, bordered with s u u^T, by its own LU.
  {
    std::vector<cmat> up, down;
    std::vector<double> nu;
    for (int k = 0; k < K && depth > 0; ++k) {
      const auto b = static_cast<std::size_t>(modes[static_cast<std::size_t>(k)].bath);
      up.emplace_back(cplx(0, -1) * std::sqrt(weight[static_cast<std::size_t>(k)]) * cmat(commQ[b]));
      down.emplace_back(cmat(lower[static_cast<std::size_t>(k)]) / std::sqrt(weight[static_cast<std::size_t>(k)]));
      nu.push_back(modes[static_cast<std::size_t>(k)].nu);
    }
    auto pre = std::make_shared<TierGaussSeidel>(cmat(L0), p.scale, p.border.head(dd), damping_of(h, modes), up, down, nu);
    p.preconditioner_rcond = pre->rcond0;
    std::vector<long> tier_start{0};
    for (long a = 1; a < N; ++a) {
      int t = 0, tprev = 0;
      for (int k = 0; k < h.modes; ++k) {
        t += h.index[static_cast<std::size_t>(a * h.modes + k)];
        tprev += h.index[static_cast<std::size_t>((a - 1) * h.modes + k)];
      }
      if (t != tprev) tier_start.push_back(a);
    }
    tier_start.push_back(N);
    std::shared_ptr<const Sparse> As = A;
    p.precondition = [pre, N, dd, As, tier_start](const LinearProblem<cplx>::Vec& x, LinearProblem<cplx>::Vec& y) {
      pre->apply(x, y, N, dd, *As, tier_start);
    };
    p.operator_bytes = static_cast<std::size_t>(2 * dd * dd + N) * sizeof(cplx);
    p.apply_workspace_bytes = static_cast<std::size_t>(N * dd) * sizeof(cplx) * 2;
    p.prefer_krylov = pre->usable;
  }
  // The currents are differences of tier-1 terms ~ lambda x the state: 1e-12 of the bordered residual left
  // 1e-9 relative errors in them (measured on examples/kato2016/two_qubits.toml); 1e-14 leaves 1e-12.
  SteadyStateOptions so = steady;
  so.gmres_tolerance = std::min(so.gmres_tolerance, 1e-14);
  so.gmres_accept = std::max(so.gmres_accept, 1e-11);  // round-off can stall GMRES above 1e-14 at strong coupling
  const LinearSolution<cplx> ls = solve_steady(p, so);

  HeomResult r;
  r.status = ls.status;
  r.solver = ls.solver;
  r.residual = ls.residual;
  r.rcond = ls.rcond;
  r.iterations = ls.iterations;
  r.depth = depth;
  r.ados = N;
  r.unknowns = p.dim;
  r.nonzeros = A->nonZeros();
  r.baths = baths;
  if (ls.x.size() == 0 || ls.status == SteadyStatus::not_unique) return r;
  r.rho = block(ls.x, 0, d);
  // Bath heat currents (eq. H6) and system heat currents (eq. H7), into the system.
  const std::size_t nb_baths = baths.size();
  r.currents.assign(nb_baths, 0.0);
  r.system_currents.assign(nb_baths, 0.0);
  std::vector<cplx> jb(nb_baths, 0.0), js(nb_baths, 0.0);
  for (std::size_t a = 0; a < nb_baths; ++a) {
    const cmat& Q = model.baths[a].op;
    const cmat HQ = H * Q - Q * H;  // [H, Q]
    const cmat dQ = Q * HQ - HQ * Q;  // [Q, [H, Q]]
    const double delta = terminator ? baths[a].terminator : 0.0;
    jb[a] += 2.0 * baths[a].imaginary_at_zero() * (Q * Q * r.rho).trace() + delta * (dQ * r.rho).trace();
    js[a] += delta * (dQ * r.rho).trace();
  }
  std::string e(static_cast<std::size_t>(K), '\0');
  for (int k = 0; k < K && depth > 0; ++k) {
    e[static_cast<std::size_t>(k)] = 1;
    const long at = h.rank.at(e);
    e[static_cast<std::size_t>(k)] = 0;
    const Mode& m = modes[static_cast<std::size_t>(k)];
    const auto a = static_cast<std::size_t>(m.bath);
    const cmat rk = std::sqrt(weight[static_cast<std::size_t>(k)]) * block(ls.x, at, d);
    const cmat& Q = model.baths[a].op;
    jb[a] -= m.nu * (Q * rk).trace();
    js[a] += cplx(0, -1) * ((H * Q - Q * H) * rk).trace();
  }
  for (std::size_t a = 0; a < nb_baths; ++a) {
    r.currents[a] = jb[a].real();
    r.system_currents[a] = js[a].real();
  }
  return r;
}

}  // namespace

double current_change(const std::vector<double>& a, const std::vector<double>& b, double floor) {
  double big = floor, diff = 0.0;
  for (std::size_t k = 0; k < a.size() && k < b.size(); ++k) {
    big = std::max(big, std::abs(a[k]));
    diff = std::max(diff, std::abs(a[k] - b[k]));
  }
  return big > 0 ? diff / big : diff;
}

HeomResult heom_steady_state(const Model& model, const HeomOptions& options, const SteadyStateOptions& steady) {
  if (model.drive)
    throw MethodError("heom-drive", "the HEOM method solves static models; this model has a [drive] (use dme, ddme or "
                                    "floquet for driven models)");
  if (model.baths.empty()) throw MethodError("heom-baths", "the HEOM method needs at least one bath");
  for (const Bath& b : model.baths)
    if (b.coupling != CouplingKind::hermitian)
      throw MethodError("heom-coupling", "bath '" + b.name +
                                             "' has an exchange coupling; the HEOM method supports hermitian couplings "
                                             "H_SB = S (x) sum_k g_k (b_k + b_k^dag) only");
  if (options.depth < 0) throw MethodError("heom-depth", "--heom-depth must be >= 0");
  if (options.terms < 0) throw MethodError("heom-terms", "--heom-terms must be >= 0");
  auto expansions = [&](int terms) {
    std::vector<CorrelationExpansion> e;
    for (const Bath& b : model.baths) e.push_back(drude_correlation(b.spectral, b.temperature, options.decomposition, terms));
    return e;
  };
  auto solve_at = [&](int depth, int terms) {
    HeomResult r = solve_hierarchy(model, expansions(terms), depth, options.terminator, steady);
    r.terms = terms;
    r.decomposition = options.decomposition;
    return r;
  };
  if (!(options.tolerance > 0.0)) return solve_at(options.depth, options.terms);

  // Automatic mode: the floor of the relative change is 1e-9 x lambda x the spread of H's spectrum (the
  // size of a current at weak coupling), for points where every current vanishes (equal temperatures).
  const rvec E = linalg::hermitian_eigenvalues(model.hamiltonian);
  double lam = 0.0;
  for (const Bath& b : model.baths) lam = std::max(lam, 0.25 * b.spectral.gamma * b.spectral.cutoff);
  const double floor = 1e-9 * lam * std::max(E.maxCoeff() - E.minCoeff(), 1e-300);
  int depth = options.depth, terms = options.terms;
  std::vector<HeomLevel> history;
  auto record = [&history](const HeomResult& r) {
    history.push_back({r.depth, r.terms, r.ados, r.currents});
  };
  HeomResult cur = solve_at(depth, terms);
  record(cur);
  std::optional<double> ch_depth, ch_terms;
  std::string stopped;
  while (true) {
    throw_if_interrupted();
    if (cur.status == SteadyStatus::not_unique || cur.currents.empty()) {
      stopped = "solve-failed";
      break;
    }
    // The solve's own noise in the currents: their sum vanishes in the steady state up to the truncation
    // and the solve's round-off; changes below 10x it are not resolved.
    double sum = 0.0, big = floor;
    for (double j : cur.currents) {
      sum += j;
      big = std::max(big, std::abs(j));
    }
    const double noise = 10.0 * std::abs(sum) / big;
    const double resolved = std::max(options.tolerance, noise);
    bool raise_d = false, raise_t = false;
    HeomResult up_d, up_t;
    auto too_big = [&](int dep, int ter) { return ado_count(static_cast<int>(cur.baths.size()) * (ter + 1), dep) > options.max_ados; };
    try {
      if (depth + 1 > options.max_depth || too_big(depth + 1, terms)) {
        stopped = depth + 1 > options.max_depth ? "max-depth" : "max-ados";
      } else {
        up_d = solve_at(depth + 1, terms);
        record(up_d);
        ch_depth = current_change(up_d.currents, cur.currents, floor);
        raise_d = *ch_depth > resolved;
      }
      if (terms + 1 > options.max_terms || too_big(depth, terms + 1)) {
        if (stopped.empty()) stopped = terms + 1 > options.max_terms ? "max-terms" : "max-ados";
      } else {
        up_t = solve_at(depth, terms + 1);
        record(up_t);
        ch_terms = current_change(up_t.currents, cur.currents, floor);
        raise_t = *ch_terms > resolved;
      }
    } catch (const MemoryLimitError&) {
      stopped = "memory-limit";
    }
    if (!stopped.empty()) break;
    if (!raise_d && !raise_t) {
      if (resolved > options.tolerance && (*ch_depth > options.tolerance || *ch_terms > options.tolerance))
        stopped = "solver-precision";
      break;
    }
    if (raise_d && raise_t && too_big(depth + 1, terms + 1)) {
      stopped = "max-ados";
      break;
    }
    if (raise_d && raise_t) {
      depth += 1;
      terms += 1;
      try {
        cur = solve_at(depth, terms);
        record(cur);
      } catch (const MemoryLimitError&) {
        depth -= 1;
        terms -= 1;
        stopped = "memory-limit";
        break;
      }
    } else if (raise_d) {
      depth += 1;
      cur = std::move(up_d);
    } else {
      terms += 1;
      cur = std::move(up_t);
    }
  }
  cur.tolerance = options.tolerance;
  cur.change_depth = ch_depth;
  cur.change_terms = ch_terms;
  cur.history = std::move(history);
  cur.stopped_by = stopped;
  cur.converged = stopped.empty() && ch_depth && ch_terms && *ch_depth <= options.tolerance &&
                  *ch_terms <= options.tolerance;
  if (!cur.converged && cur.status == SteadyStatus::converged) cur.status = SteadyStatus::not_converged;
  return cur;
}

HeomOptions heom_options(const HeomRequest& r) {
  HeomOptions o;
  o.decomposition = r.decomposition;
  o.terminator = r.terminator;
  auto whole = [](const char* rule, const char* what, int v, int high) {
    if (v < 0 || v > high)
      throw Error(rule, std::string(what) + " expects a whole number from 0 to " + std::to_string(high) + "; got " +
                            std::to_string(v));
    return v;
  };
  if (r.depth) o.depth = whole("heom-depth", "the hierarchy depth", *r.depth, o.max_depth);
  if (r.terms) o.terms = whole("heom-terms", "the number of correlation terms", *r.terms, o.max_terms);
  const bool fixed = r.depth || r.terms;
  if (r.tolerance) {
    if (!(*r.tolerance > 0.0) || !(*r.tolerance < 1.0))
      throw Error("heom-tol", "the HEOM tolerance must lie between 0 and 1 (exclusive); got " + std::to_string(*r.tolerance));
    o.tolerance = *r.tolerance;
  } else if (!fixed) {
    o.tolerance = 1e-4;  // four digits: method differences are 1e-3 and up; 1e-6 can need 10+ terms (docs/methods.md)
  }
  if (o.tolerance > 0.0) {
    if (!r.depth) o.depth = 2;
    if (!r.terms) o.terms = 1;
  }
  return o;
}

}  // namespace qheat
