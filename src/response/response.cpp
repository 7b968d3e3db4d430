#include "qheat/response/response.hpp"

#include <Eigen/Dense>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>
#include <unsupported/Eigen/MatrixFunctions>

#include "qheat/response/perturbed.hpp"
#include "qheat/run/solve.hpp"
#include "structured.hpp"

namespace qheat {
namespace {

// Dense superoperators on column-stacked vec(rho) (vec(A rho B) = (B^T kron A) vec(rho)).
cmat kron(const cmat& A, const cmat& B) {
  cmat K(A.rows() * B.rows(), A.cols() * B.cols());
  for (long i = 0; i < A.rows(); ++i)
    for (long j = 0; j < A.cols(); ++j) K.block(i * B.rows(), j * B.cols(), B.rows(), B.cols()) = A(i, j) * B;
  return K;
}
cmat spre(const cmat& A) { return kron(cmat::Identity(A.rows(), A.cols()), A); }
cmat spost(const cmat& B) { return kron(B.transpose(), cmat::Identity(B.rows(), B.cols())); }
cmat commutator_super(const cmat& H) { return cplx(0, -1) * (spre(H) - spost(H)); }  // -i[H, .]

cvec vec(const cmat& m) { return Eigen::Map<const cvec>(m.data(), m.size()); }
cmat unvec(const cvec& v, long d) { return Eigen::Map<const cmat>(v.data(), d, d); }

// Redfield-form dissipator of one term, D[X, Lambda](rho) = Lambda rho X^dag + X rho Lambda^dag - {K_h, rho},
// K = X^dag Lambda (docs/methods.md); also accumulates K for the Lamb-shift Hamiltonian (K - K^dag)/2i.
cmat term_super(const cmat& X, const cmat& Lambda, cmat& K_sum) {
  const cmat K = X.adjoint() * Lambda;
  K_sum += K;
  const cmat Kh = 0.5 * (K + K.adjoint());
  // spre(A) spost(B) = B^T kron A: O(d^4) instead of a d^2 x d^2 matrix product.
  return kron(X.conjugate(), Lambda) + kron(Lambda.conjugate(), X) - spre(Kh) - spost(Kh);
}

cmat lamb_shift_hamiltonian(const cmat& K) { return cplx(0.0, -0.5) * (K - K.adjoint()); }

// Levels of H0 grouped into degenerate clusters (consecutive ascending energies within tol).
struct Levels {
  rvec energies;
  cmat vectors;
  std::vector<std::vector<int>> clusters;
  std::vector<double> cluster_energy;
};

Levels levels_of(const cmat& H, double tolerance) {
  Levels L;
  const Eigenbasis b = diagonalize(H);
  L.energies = b.energies;
  L.vectors = b.vectors;
  const double tol = tolerance * std::max(1.0, b.energies.cwiseAbs().maxCoeff());
  for (int i = 0; i < b.energies.size(); ++i) {
    if (i == 0 || b.energies(i) - b.energies(i - 1) > tol) L.clusters.emplace_back();
    L.clusters.back().push_back(i);
  }
  for (const auto& c : L.clusters) {
    double e = 0.0;
    for (int i : c) e += b.energies(i);
    L.cluster_energy.push_back(e / static_cast<double>(c.size()));
  }
  return L;
}

cmat projector(const cmat& vectors, const std::vector<int>& idx) {
  cmat P = cmat::Zero(vectors.rows(), vectors.rows());
  for (int i : idx) P += vectors.col(i) * vectors.col(i).adjoint();
  return P;
}

double max_abs(const cmat& m) { return m.size() > 0 ? m.cwiseAbs().maxCoeff() : 0.0; }

// One Davies term of a bath: the unperturbed jump operator S(w), Gamma(w), and (optionally) its
// first-order change at fixed w.
struct JumpTerm {
  double w = 0.0;
  cplx gamma;
  cmat X0, X1;
};

// The jump terms of every bath for projectors P (and first-order projectors dP, may be empty),
// with the cluster energies of H0 fixing the Bohr frequencies.
std::vector<std::vector<JumpTerm>> jump_terms(const Model& model, const Levels& lv, const std::vector<cmat>& P,
                                              const std::vector<cmat>& dP, LambShiftMode mode, double tolerance) {
  const double scale = std::max(1.0, lv.energies.cwiseAbs().maxCoeff());
  const double tol = tolerance * scale;
  const std::size_t nc = lv.clusters.size();
  std::vector<std::vector<JumpTerm>> out;
  for (const Bath& bath : model.baths) {
    const bool shift = lamb_shift_enabled(bath, mode);
    std::vector<JumpTerm> terms;
    for (const CouplingChannel& ch : coupling_channels(bath)) {
      const double thr = 1e-14 * std::max(1.0, max_abs(ch.op));
      std::vector<JumpTerm> by_w;
      for (std::size_t k = 0; k < nc; ++k)
        for (std::size_t l = 0; l < nc; ++l) {
          const cmat X = P[k] * ch.op * P[l];
          if (max_abs(X) <= thr) continue;
          const double w = lv.cluster_energy[l] - lv.cluster_energy[k];  // energy released, l -> k
          auto it = std::find_if(by_w.begin(), by_w.end(), [&](const JumpTerm& t) { return std::abs(t.w - w) <= tol; });
          if (it == by_w.end()) {
            by_w.push_back(JumpTerm{w, cplx(0, 0), cmat::Zero(X.rows(), X.cols()), cmat::Zero(X.rows(), X.cols())});
            it = by_w.end() - 1;
          }
          it->X0 += X;
          if (!dP.empty()) it->X1 += dP[k] * ch.op * P[l] + P[k] * ch.op * dP[l];
        }
      for (JumpTerm& t : by_w) {
        const bool normal_zero =
            std::abs(t.w) <= tol && max_abs(t.X0 * t.X0.adjoint() - t.X0.adjoint() * t.X0) <= 1e-12 * std::max(1.0, t.X0.squaredNorm());
        if (std::abs(t.w) <= tol) t.w = 0.0;
        t.gamma = channel_gamma(bath.spectral, bath.temperature, ch.part, shift, t.w, normal_zero);
        if (t.gamma != cplx(0, 0)) terms.push_back(std::move(t));
      }
    }
    out.push_back(std::move(terms));
  }
  return out;
}

// Solves L x = rhs with Tr x = tr (the kernel of L must be one-dimensional): least squares of the
// bordered (n+1) x n system by column-pivoting QR; throws when L has a larger kernel.
cvec bordered_solve(const Eigen::ColPivHouseholderQR<cmat>& qr, const cvec& rhs, cplx tr) {
  cvec b(rhs.size() + 1);
  b.head(rhs.size()) = rhs;
  b(rhs.size()) = tr;
  return qr.solve(b);
}

Eigen::ColPivHouseholderQR<cmat> bordered_qr(const cmat& L, long d) {
  const long n = L.rows();
  cmat A(n + 1, n);
  A.topRows(n) = L;
  const double s = std::max(1.0, max_abs(L));
  A.row(n).setZero();
  for (long i = 0; i < d; ++i) A(n, i + d * i) = s;  // s Tr x
  Eigen::ColPivHouseholderQR<cmat> qr(A);
  qr.setThreshold(1e-12);
  if (qr.rank() < n)
    throw MethodError("response-not-unique", "the unperturbed generator has more than one steady state; "
                                             "linear response about it is not defined");
  return qr;
}

double re_trace(const cmat& A, const cmat& rho) { return (A * rho).trace().real(); }

void check_model(const Model& model, const cmat& V, bool dense = true) {
  if (model.drive)
    throw MethodError("response-driven", "linear response is implemented for static models (no [drive])");
  const long d = model.hamiltonian.rows();
  if (dense && d > kMaxResponseDimension)
    throw MethodError("response-dimension",
                      "the dense response engine handles Hilbert dimensions up to " + std::to_string(kMaxResponseDimension) +
                          " (this model has " + std::to_string(d) +
                          "); for bosonic modes use --untruncated");
  if (V.rows() != d || V.cols() != d) throw MethodError("response-perturbation", "the perturbation has the wrong dimension");
  if (max_abs(V - V.adjoint()) > 1e-12 * std::max(1.0, max_abs(V)))
    throw MethodError("response-perturbation", "the perturbation V must be Hermitian (max |V - V^dag| = " +
                                                   std::to_string(max_abs(V - V.adjoint())) + ")");
}

// Everything built from one set of projectors: per-bath dissipators, the Lamb-shift Hamiltonian and its
// first-order change.
struct Davies {
  std::vector<cmat> D0, D1;  // per bath
  cmat HLS0, HLS1;
};

Davies build_davies(const std::vector<std::vector<JumpTerm>>& terms, long d, bool first_order) {
  Davies out;
  out.HLS0 = cmat::Zero(d, d);
  out.HLS1 = cmat::Zero(d, d);
  cmat K0 = cmat::Zero(d, d), K1 = cmat::Zero(d, d);
  for (const auto& bath : terms) {
    cmat D0 = cmat::Zero(d * d, d * d), D1 = cmat::Zero(d * d, d * d);
    for (const JumpTerm& t : bath) {
      D0 += term_super(t.X0, t.gamma * t.X0, K0);
      if (first_order) D1 += term_super(t.X0, t.gamma * t.X1, K1) + term_super(t.X1, t.gamma * t.X0, K1);
    }
    out.D0.push_back(std::move(D0));
    out.D1.push_back(std::move(D1));
  }
  out.HLS0 = lamb_shift_hamiltonian(K0);
  out.HLS1 = lamb_shift_hamiltonian(K1);
  return out;
}

}  // namespace

ResponseRegime classify_perturbation(const Model& model, const cmat& V, double degeneracy_tolerance) {
  const Levels lv = levels_of(model.hamiltonian, degeneracy_tolerance);
  // First-order level shifts: eigenvalues of V inside each degenerate level (degenerate perturbation
  // theory); transitions a bath drives between the refined states shift by nu^(1) = s_b - s_a.
  std::vector<cvec> states;
  std::vector<double> shifts, level_energy;
  for (std::size_t k = 0; k < lv.clusters.size(); ++k) {
    const auto& c = lv.clusters[k];
    cmat U(lv.vectors.rows(), static_cast<long>(c.size()));
    for (std::size_t i = 0; i < c.size(); ++i) U.col(static_cast<long>(i)) = lv.vectors.col(c[i]);
    const Eigen::SelfAdjointEigenSolver<cmat> es(cmat(U.adjoint() * V * U));
    // Eigen's own product, not BLAS: OpenBLAS's zgemv_n kernel, for U times a column of the eigenvectors, read
    // past the end of the last column (AddressSanitizer build: SEGV at a page boundary, 1 run of ~7); Eigen
    // sends a one-column product to gemv as well. U has a few columns (one cluster): the cost is O(d c^2).
    const cmat states_k = U.lazyProduct(es.eigenvectors());
    for (long i = 0; i < es.eigenvalues().size(); ++i) {
      states.push_back(states_k.col(i));
      shifts.push_back(es.eigenvalues()(i));
      level_energy.push_back(lv.cluster_energy[k]);
    }
  }
  // Driven transitions b -> a: unperturbed Bohr frequency and its first-order shift.
  std::vector<std::pair<double, double>> transitions;
  for (const Bath& bath : model.baths) {
    const double thr = 1e-12 * std::max(1.0, max_abs(bath.op));
    for (std::size_t a = 0; a < states.size(); ++a)
      for (std::size_t b = 0; b < states.size(); ++b)
        if (std::abs(states[a].dot(bath.op * states[b])) > thr)
          transitions.emplace_back(level_energy[b] - level_energy[a], shifts[b] - shifts[a]);
  }
  return response_detail::regime_of_transitions(
      std::move(transitions), degeneracy_tolerance * std::max(1.0, lv.energies.cwiseAbs().maxCoeff()),
      std::max(1.0, max_abs(V)));
}

PerturbedState perturbed_steady_state(const Model& model, const cmat& V, double delta, PerturbedKind kind,
                                      const std::vector<cmat>& observables, const ResponseOptions& options) {
  check_model(model, V);
  const long d = model.hamiltonian.rows();
  const Levels lv = levels_of(model.hamiltonian, options.degeneracy_tolerance);
  std::vector<cmat> P;
  if (kind == PerturbedKind::fixed_frequencies) {
    // Exact projectors of H0 + delta V, level k of H0 continued to the same positions in the ordering.
    const Eigenbasis b = diagonalize(model.hamiltonian + delta * V);
    for (const auto& c : lv.clusters) P.push_back(projector(b.vectors, c));
  } else {
    for (const auto& c : lv.clusters) P.push_back(projector(lv.vectors, c));
  }
  const auto terms = jump_terms(model, lv, P, {}, options.lamb_shift, options.degeneracy_tolerance);
  const Davies dv = build_davies(terms, d, false);
  const cmat H = model.hamiltonian + delta * V + dv.HLS0;
  cmat L = commutator_super(H);
  for (const cmat& D : dv.D0) L += D;
  const auto qr = bordered_qr(L, d);
  const cmat rho = unvec(bordered_solve(qr, cvec::Zero(d * d), cplx(std::max(1.0, max_abs(L)), 0)), d);
  PerturbedState out;
  out.rho = rho;
  for (const cmat& A : observables) out.observables.push_back(re_trace(A, rho));
  for (const cmat& D : dv.D0) out.currents.push_back(re_trace(H, unvec(D * vec(rho), d)));
  return out;
}

namespace {

// The reference engine: dense d^2 x d^2 superoperators in the site basis.
ResponseResult dense_linear_response(const Model& model, const cmat& V, const std::vector<cmat>& observables,
                                     const ResponseOptions& options) {
  check_model(model, V);
  const long d = model.hamiltonian.rows();
  ResponseResult res;
  res.solver.engine = "dense";
  res.solver.relaxation_method = "eigenvalues of the dense L0";
  res.regime = classify_perturbation(model, V, options.degeneracy_tolerance);
  const bool eigenvectors = res.regime.name == "eigenvectors";
  for (const Bath& b : model.baths) res.bath_names.push_back(b.name);

  const Levels lv = levels_of(model.hamiltonian, options.degeneracy_tolerance);
  const std::size_t nc = lv.clusters.size();
  std::vector<cmat> P, dP;
  for (const auto& c : lv.clusters) P.push_back(projector(lv.vectors, c));
  if (eigenvectors) {
    // First-order change of the spectral projectors (Levy eqs. 13-16):
    // P_k^(1) = sum_{j != k} (P_k V P_j + P_j V P_k) / (e_k - e_j).
    for (std::size_t k = 0; k < nc; ++k) {
      cmat dPk = cmat::Zero(d, d);
      for (std::size_t j = 0; j < nc; ++j)
        if (j != k) dPk += (P[k] * V * P[j] + P[j] * V * P[k]) / (lv.cluster_energy[k] - lv.cluster_energy[j]);
      dP.push_back(std::move(dPk));
    }
  }
  const auto terms = jump_terms(model, lv, P, dP, options.lamb_shift, options.degeneracy_tolerance);
  const Davies dv = build_davies(terms, d, eigenvectors);

  // L0 = -i[H0 + H_LS, .] + sum D0;  L1 = -i[V, .] (Kubo) + (-i[H_LS1, .] + sum D1) (dissipator, eq. 17).
  const cmat H0 = model.hamiltonian + dv.HLS0;
  cmat L0 = commutator_super(H0);
  for (const cmat& D : dv.D0) L0 += D;
  const cmat L1k = commutator_super(V);
  cmat L1d = commutator_super(dv.HLS1);
  for (const cmat& D : dv.D1) L1d += D;

  const double nan = std::numeric_limits<double>::quiet_NaN();
  cmat pi0, r1k, r1d;
  const bool steady = !options.initial_state.has_value();
  if (steady) {
    const auto qr = bordered_qr(L0, d);
    pi0 = unvec(bordered_solve(qr, cvec::Zero(d * d), cplx(std::max(1.0, max_abs(L0)), 0)), d);
    // rho_1 = -L0^+ L1 pi0 on traceless operators (the t -> infinity limit of eq. 21).
    r1k = unvec(bordered_solve(qr, -(L1k * vec(pi0)), 0.0), d);
    r1d = unvec(bordered_solve(qr, -(L1d * vec(pi0)), 0.0), d);
  } else {
    pi0 = *options.initial_state;
    if (pi0.rows() != d || pi0.cols() != d) throw MethodError("response-initial-state", "the initial state has the wrong dimension");
    r1k = r1d = cmat::Constant(d, d, cplx(nan, nan));
  }
  const cvec bk = L1k * vec(pi0), bd = L1d * vec(pi0);

  for (const cmat& A : observables) {
    res.observables0.push_back(re_trace(A, pi0));
    ResponseParts p{re_trace(A, r1k), re_trace(A, r1d), 0.0};
    p.total = p.kubo + p.dissipator;
    res.observables.push_back(p);
  }
  // Heat currents J_a = Tr[(H + H_LS) D_a rho] and their first-order change (Levy eq. 51 with H_LS), for
  // rho_1 = rk + rd (the parts driven by the Kubo and the dissipator terms of L1).
  auto current_response = [&](std::size_t a, const cmat& rk, const cmat& rd) {
    const cmat& D0 = dv.D0[a];
    const cmat& D1 = dv.D1[a];
    const cmat D0pi = unvec(D0 * vec(pi0), d);
    ResponseParts p;
    p.kubo = re_trace(V, D0pi) + re_trace(H0, unvec(D0 * vec(rk), d));
    p.dissipator = re_trace(dv.HLS1, D0pi) + re_trace(H0, unvec(D1 * vec(pi0), d)) + re_trace(H0, unvec(D0 * vec(rd), d));
    p.total = p.kubo + p.dissipator;
    return p;
  };
  for (std::size_t a = 0; a < model.baths.size(); ++a) {
    res.currents0.push_back(re_trace(H0, unvec(dv.D0[a] * vec(pi0), d)));
    res.currents.push_back(current_response(a, r1k, r1d));
  }
  // Entropy production sigma_1 = dS_1/dt - sum_a J1_a / T_a (Levy eqs. 47, 52, D11); dS_1/dt =
  // -Tr[(L0 rho_1 + L1 pi0) ln pi0] vanishes in the steady state.
  cmat log_pi0;
  if (steady) {
    const Eigen::SelfAdjointEigenSolver<cmat> es(cmat(0.5 * (pi0 + pi0.adjoint())));
    rvec ev = es.eigenvalues().cwiseMax(1e-300);
    log_pi0 = es.eigenvectors() * ev.array().log().matrix().asDiagonal() * es.eigenvectors().adjoint();
  }
  auto entropy_response = [&](const cmat& rk, const cmat& rd) {
    ResponseParts p;
    p.kubo = -re_trace(log_pi0, unvec(L0 * vec(rk) + L1k * vec(pi0), d));
    p.dissipator = -re_trace(log_pi0, unvec(L0 * vec(rd) + L1d * vec(pi0), d));
    for (std::size_t a = 0; a < model.baths.size(); ++a) {
      const double T = model.baths[a].temperature;
      const double inv = T > 0 ? 1.0 / T : std::numeric_limits<double>::infinity();
      const ResponseParts j = current_response(a, rk, rd);
      p.kubo -= j.kubo * inv;
      p.dissipator -= j.dissipator * inv;
    }
    p.total = p.kubo + p.dissipator;
    return p;
  };
  if (steady) {
    res.entropy_production = steady_entropy_production_response(res.currents, model.baths);
  } else {
    res.entropy_production = {nan, nan, nan};
  }

  // Relaxation rate 1/tau: the smallest |Re lambda| over the nonzero eigenvalues of L0.
  const Eigen::ComplexEigenSolver<cmat> ces(L0, false);
  const double lmax = ces.eigenvalues().cwiseAbs().maxCoeff();
  double gap = std::numeric_limits<double>::infinity();
  for (long i = 0; i < ces.eigenvalues().size(); ++i)
    if (std::abs(ces.eigenvalues()(i)) > 1e-10 * std::max(1.0, lmax)) gap = std::min(gap, std::abs(ces.eigenvalues()(i).real()));
  res.regime.relaxation_rate = std::isfinite(gap) ? gap : 0.0;
  if (!eigenvectors && res.regime.bohr_splitting > 0) {
    res.regime.delta_local_max = options.local_below * res.regime.relaxation_rate / res.regime.bohr_splitting;
    res.regime.delta_global_min = options.global_above * res.regime.relaxation_rate / res.regime.bohr_splitting;
  }

  // Phi(t) = int_0^t Tr[A e^{L0 tau} L1 pi0] dtau (eq. 33): the top-right block of exp(t [[L0, b], [0, 0]]).
  if (!options.times.empty()) {
    const long n = d * d;
    cmat M = cmat::Zero(n + 2, n + 2);
    M.topLeftCorner(n, n) = L0;
    M.block(0, n, n, 1) = bk;
    M.block(0, n + 1, n, 1) = bd;
    std::vector<double> times = options.times;
    for (double t : times)
      if (!(t >= 0) || !std::isfinite(t)) throw MethodError("response-times", "--times must be finite and >= 0");
    cmat state = cmat::Identity(n + 2, n + 2);  // exp(M t_prev)
    double t_prev = 0.0, h_prev = -1.0;
    cmat step;
    std::vector<std::pair<double, std::size_t>> order;
    order.reserve(times.size());
    for (std::size_t i = 0; i < times.size(); ++i) order.emplace_back(times[i], i);
    std::sort(order.begin(), order.end());
    res.times = times;
    res.observables_t.assign(times.size(), {});
    res.response_functions_t.assign(times.size(), {});
    if (steady) {
      res.currents_t.assign(times.size(), {});
      res.entropy_production_t.assign(times.size(), {});
    }
    for (const auto& [t, idx] : order) {
      const double h = t - t_prev;
      if (h > 0) {
        if (std::abs(h - h_prev) > 1e-12 * std::max(1.0, h)) {
          step = cmat(M * h).exp();
          h_prev = h;
        }
        state = step * state;
        t_prev = t;
      }
      const cmat rk = unvec(state.block(0, n, n, 1), d), rd = unvec(state.block(0, n + 1, n, 1), d);
      // phi(t) = Tr[A e^{L0 t} b]: the top-left block of exp(M t) is e^{L0 t}.
      const cmat fk = unvec(state.topLeftCorner(n, n) * bk, d), fd = unvec(state.topLeftCorner(n, n) * bd, d);
      for (const cmat& A : observables) {
        ResponseParts p{re_trace(A, rk), re_trace(A, rd), 0.0};
        p.total = p.kubo + p.dissipator;
        res.observables_t[idx].push_back(p);
        ResponseParts f{re_trace(A, fk), re_trace(A, fd), 0.0};
        f.total = f.kubo + f.dissipator;
        res.response_functions_t[idx].push_back(f);
      }
      if (steady) {
        // rho_1(t) = Phi's operators themselves: the currents (eq. 51) and sigma_1 (eq. D11) at time t.
        const ResponseParts ent = entropy_response(rk, rd);
        std::vector<ResponseParts> cur;
        cur.reserve(model.baths.size());
        for (std::size_t a = 0; a < model.baths.size(); ++a) cur.push_back(current_response(a, rk, rd));
        res.currents_t[idx] = std::move(cur);
        res.entropy_production_t[idx] = ent;
      }
    }
  }
  return res;
}

}  // namespace

ResponseResult linear_response(const Model& model, const cmat& V, const std::vector<cmat>& observables,
                               const ResponseOptions& options) {
  const bool dense = options.engine == ResponseEngine::dense ||
                     (options.engine == ResponseEngine::automatic && options.initial_state.has_value());
  if (dense) return dense_linear_response(model, V, observables, options);
  if (options.initial_state)
    throw MethodError("response-initial-state", "a given initial state needs the dense response engine (d <= " +
                                                    std::to_string(kMaxResponseDimension) + ")");
  return response_detail::sector_linear_response(model, V, observables, options);
}

ResponseParts steady_entropy_production_response(const std::vector<ResponseParts>& currents,
                                                 const std::vector<Bath>& baths) {
  ResponseParts e;
  for (std::size_t a = 0; a < baths.size() && a < currents.size(); ++a) {
    const double T = baths[a].temperature;
    const double inv = T > 0 ? 1.0 / T : std::numeric_limits<double>::infinity();
    e.kubo -= currents[a].kubo * inv;
    e.dissipator -= currents[a].dissipator * inv;
  }
  e.total = e.kubo + e.dissipator;
  return e;
}

RedfieldDerivative redfield_derivative(const Model& model, const cmat& V, const std::vector<cmat>& observables,
                                       LambShiftMode lamb_shift) {
  check_model(model, V, false);
  RedfieldDerivative out;
  // Step: 1e-3 of the spectrum's scale in units of V. Truncation is O(h^4) after Richardson on the scale
  // over which the rates change (temperatures, level spacings); the steady-state solve is noisy at
  // ~1e-7 relative when excited populations are ~1e-6 (Levy qubits at T = 60), which a small h amplifies.
  const Eigenbasis e = diagonalize(model.hamiltonian);
  const double span = std::max(1.0, e.energies.cwiseAbs().maxCoeff());
  const double vnorm = std::max(1e-300, diagonalize(V).energies.cwiseAbs().maxCoeff());
  out.step = 1e-3 * span / vnorm;
  auto at = [&](double delta) {
    Model m = model;
    m.hamiltonian = model.hamiltonian + delta * V;
    const Solution s = solve(m, Method::redfield, lamb_shift);
    if (!s.rho) throw MethodError("response-not-unique", "the Bloch-Redfield steady state of H0 + delta V is not unique");
    std::vector<double> v;
    v.reserve(observables.size() + s.thermo.currents.size());
    for (const cmat& A : observables) v.push_back(re_trace(A, *s.rho));
    for (double j : s.thermo.currents) v.push_back(j);
    return v;
  };
  auto diff = [&](double h) {
    const auto p = at(h), q = at(-h);
    std::vector<double> d(p.size());
    for (std::size_t i = 0; i < p.size(); ++i) d[i] = (p[i] - q[i]) / (2 * h);
    return d;
  };
  const auto a = diff(out.step), b = diff(out.step / 2);
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double v = (4 * b[i] - a[i]) / 3;
    (i < observables.size() ? out.observables : out.currents).push_back(v);
  }
  return out;
}

}  // namespace qheat
