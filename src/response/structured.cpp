// Linear response of the global (Davies) steady state at the sizes of the scale engine: everything in the
// eigenbasis of H0, where L0 is block diagonal over Bohr-frequency sectors (sectors.hpp) and L1 pi0 is
// built from its parts without superoperators (docs/methods.md, "Linear response", "At scale").
//
//  * pi0 and the zero sector: the SecularEquation's rate equation in real Hermitian coordinates, the state
//    `qheat ness --method global` solves; the zero-sector part of rho1 by LU of that matrix with one
//    equation replaced by Tr = 0.
//  * the coherence sectors (needed for observables only -- currents and entropy production see the zero
//    sector alone): dense LU up to ResponseOptions::dense_sector elements, else GMRES with a diagonal
//    preconditioner.
//  * Phi(t) = x - exp(L0 t) x with x = -L0^+ L1 pi0, phi(t) = -L0 exp(L0 t) x: dense exponentials per
//    distinct step, or Krylov exp(t A) v with local error control.
//  * 1/tau: per sector, by increasing Gershgorin bound, stopping when the bound reaches the smallest rate
//    found: LAPACK eigenvalues up to ResponseOptions::dense_spectrum elements, else shift-invert Arnoldi.
#include "structured.hpp"

#include <Eigen/Dense>
#include <Eigen/Eigenvalues>
#include <Eigen/SparseLU>
#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <type_traits>
#include <unsupported/Eigen/MatrixFunctions>

#include "krylov.hpp"
#include "qheat/core/linalg.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/response/perturbed.hpp"
#include "qheat/steady/steady_state.hpp"
#include "sectors.hpp"

namespace qheat::response_detail {

ResponseRegime regime_of_transitions(std::vector<std::pair<double, double>> tr, double tol, double vscale) {
  std::sort(tr.begin(), tr.end());
  double nu = 0.0, split = 0.0;
  // Largest |dw_j - dw_i| over pairs with |w_j - w_i| <= tol: a window [i, hi) sliding over sorted w,
  // with monotone queues for its largest and smallest dw.
  std::deque<std::size_t> qmax, qmin;
  std::size_t hi = 0;
  for (std::size_t i = 0; i < tr.size(); ++i) {
    nu = std::max(nu, std::abs(tr[i].second));
    while (hi < tr.size() && tr[hi].first - tr[i].first <= tol) {
      while (!qmax.empty() && tr[qmax.back()].second <= tr[hi].second) qmax.pop_back();
      qmax.push_back(hi);
      while (!qmin.empty() && tr[qmin.back()].second >= tr[hi].second) qmin.pop_back();
      qmin.push_back(hi);
      ++hi;
    }
    while (qmax.front() < i) qmax.pop_front();
    while (qmin.front() < i) qmin.pop_front();
    split = std::max({split, tr[qmax.front()].second - tr[i].second, tr[i].second - tr[qmin.front()].second});
  }
  ResponseRegime r;
  r.bohr_shift = nu;
  r.bohr_splitting = split <= 1e-10 * vscale ? 0.0 : split;  // round-off of equal shifts is no splitting
  r.name = nu <= 1e-10 * vscale ? "eigenvectors" : "eigenvalues";
  r.limit = r.name == "eigenvectors" ? "linear" : "local (nu << 1/tau)";
  return r;
}

namespace {

// Sizes up to which sectors are treated densely: ResponseOptions::dense_sector, dense_spectrum,
// dense_spectrum_zero (response.hpp).
// Relative accuracy of the Krylov time propagation (local error estimates summed over a step).
constexpr double kExpTolerance = 1e-12;
constexpr double kGmresTolerance = 1e-12;
// Right-hand sides below this fraction of the largest element are round-off (see the coherence sectors).
constexpr double kNegligible = 1e-11;

double max_abs(const cmat& m) { return m.size() > 0 ? m.cwiseAbs().maxCoeff() : 0.0; }

// Elements below 1e-14 of the largest are round-off of the basis change: exact zeros, so that sectors
// an operator does not reach stay untouched.
cmat flushed(cmat m) {
  const double floor = 1e-14 * std::max(1.0, max_abs(m));
  for (long k = 0; k < m.size(); ++k)
    if (std::abs(m.data()[k]) < floor) m.data()[k] = cplx(0.0, 0.0);
  return m;
}

double re_trace(const cmat& A, const cmat& B) { return (A.transpose().cwiseProduct(B)).sum().real(); }

void check_inputs(const Model& model, const cmat& V) {
  if (model.drive)
    throw MethodError("response-driven", "linear response is implemented for static models (no [drive])");
  const long d = model.hamiltonian.rows();
  if (V.rows() != d || V.cols() != d) throw MethodError("response-perturbation", "the perturbation has the wrong dimension");
  double asym = 0.0;
  for (long j = 0; j < d; ++j)
    for (long i = 0; i <= j; ++i) asym = std::max(asym, std::abs(V(i, j) - std::conj(V(j, i))));
  if (asym > 1e-12 * std::max(1.0, max_abs(V)))
    throw MethodError("response-perturbation",
                      "the perturbation V must be Hermitian (max |V - V^dag| = " + std::to_string(asym) + ")");
}

// The level clusters of the equation as index lists.
struct Clusters {
  std::vector<std::vector<int>> idx;
  std::vector<int> of;
  bool trivial = true;  // every cluster one level
};

Clusters clusters_of(const SecularEquation& eq) {
  Clusters c;
  const HermitianBlocks& hb = eq.blocks();
  c.of.assign(static_cast<std::size_t>(eq.dim()), 0);
  for (int k = 0; k < hb.count(); ++k) {
    c.idx.push_back(hb.indices(k));
    for (int i : hb.indices(k)) c.of[static_cast<std::size_t>(i)] = k;
    if (hb.size(k) > 1) c.trivial = false;
  }
  return c;
}

rvec pack_blocks(const HermitianBlocks& hb, const std::vector<cmat>& blocks) {
  rvec x = rvec::Zero(hb.dim());
  for (int c = 0; c < hb.count(); ++c) {
    const cmat& B = blocks[static_cast<std::size_t>(c)];
    hb.pack(cmat(0.5 * (B + B.adjoint())), c, x);
  }
  return x;
}

std::vector<cmat> zero_blocks(const HermitianBlocks& hb) {
  std::vector<cmat> out;
  out.reserve(static_cast<std::size_t>(hb.count()));
  for (int c = 0; c < hb.count(); ++c) out.push_back(cmat::Zero(hb.size(c), hb.size(c)));
  return out;
}

// Levy's regime from the eigenbasis: first-order level shifts (eigenvalues of V on each level
// cluster), and for every transition a bath's operator has between the refined states its Bohr frequency
// and first-order shift. Same definitions as the dense classify_perturbation.
ResponseRegime classify(const Model& model, const SecularEquation& eq, const Clusters& cl, const cmat& Ve,
                        const std::vector<cmat>& Se, const cmat& V, double degeneracy_tolerance) {
  const rvec& E = eq.basis().energies;
  const long d = E.size();
  const auto& rep = eq.cluster_energies();
  rvec shift(d), level(d);
  std::vector<cmat> R(cl.idx.size());
  for (std::size_t c = 0; c < cl.idx.size(); ++c) {
    const auto& I = cl.idx[c];
    const cmat Vc = Ve(I, I);
    const Eigen::SelfAdjointEigenSolver<cmat> es(Vc);
    for (std::size_t k = 0; k < I.size(); ++k) {
      shift(I[k]) = es.eigenvalues()(static_cast<long>(k));
      level(I[k]) = rep[c];
    }
    R[c] = es.eigenvectors();
  }
  std::vector<std::pair<double, double>> tr;  // (w, dw)
  for (std::size_t a = 0; a < model.baths.size(); ++a) {
    const double thr = 1e-12 * std::max(1.0, max_abs(model.baths[a].op));
    cmat S = Se[a];
    if (!cl.trivial)
      for (std::size_t c = 0; c < cl.idx.size(); ++c) {
        if (cl.idx[c].size() < 2) continue;
        const auto& I = cl.idx[c];
        S(Eigen::all, I) = cmat(S(Eigen::all, I) * R[c]);
        S(I, Eigen::all) = cmat(R[c].adjoint() * S(I, Eigen::all));
      }
    for (long b = 0; b < d; ++b)
      for (long i = 0; i < d; ++i)
        if (std::abs(S(i, b)) > thr) tr.emplace_back(level(b) - level(i), shift(b) - shift(i));
  }
  return regime_of_transitions(std::move(tr), degeneracy_tolerance * std::max(1.0, d > 0 ? E.cwiseAbs().maxCoeff() : 0.0),
                               std::max(1.0, max_abs(V)));
}

// The zero-frequency sector: the rate equation A (real Hermitian coordinates) of the SecularEquation.
// Solves A x = b with u.x = 0 (one equation replaced by the trace, as steady/ does for rate equations),
// applies A, and propagates exp(A t).
class ZeroSector {
public:
  explicit ZeroSector(const LinearProblem<double>& p) : p_(p) {
    const long n = p.dim;
    if (p.dense) {
      rmat M = *p.dense;
      row_ = replaced_row(M.diagonal());
      M.row(row_) = p.scale * p.border.transpose();
      dense_lu_ = std::make_unique<Eigen::PartialPivLU<rmat>>(M);
      const rvec piv = dense_lu_->matrixLU().diagonal().cwiseAbs();
      if (!(piv.minCoeff() > 1e-14 * piv.maxCoeff()))
        throw MethodError("response-not-unique", "the unperturbed generator has more than one steady state; "
                                                 "linear response about it is not defined");
    } else {
      using Sp = LinearProblem<double>::Sparse;
      const Sp& A = *p.sparse;
      row_ = replaced_row(rvec(A.diagonal()));
      std::vector<Eigen::Triplet<double, long>> trip;
      trip.reserve(static_cast<std::size_t>(A.nonZeros()) + static_cast<std::size_t>(n));
      for (long c = 0; c < A.outerSize(); ++c)
        for (Sp::InnerIterator it(A, c); it; ++it)
          if (it.row() != row_) trip.emplace_back(it.row(), it.col(), it.value());
      for (long k = 0; k < n; ++k)
        if (p.border(k) != 0.0) trip.emplace_back(row_, k, p.scale * p.border(k));
      Sp M(n, n);
      M.setFromTriplets(trip.begin(), trip.end());
      M.makeCompressed();
      sparse_lu_ = std::make_unique<Eigen::SparseLU<Sp, Eigen::COLAMDOrdering<long>>>();
      sparse_lu_->compute(M);
      if (sparse_lu_->info() != Eigen::Success)
        throw MethodError("response-not-unique", "the unperturbed generator has more than one steady state; "
                                                 "linear response about it is not defined");
    }
  }
  [[nodiscard]] long dim() const { return p_.dim; }
  [[nodiscard]] rvec solve(const rvec& b) const {
    rvec r = b;
    r(row_) = 0.0;
    return dense_lu_ ? rvec(dense_lu_->solve(r)) : rvec(sparse_lu_->solve(r));
  }
  void apply(const rvec& x, rvec& y) const {
    if (p_.dense) {
      y.noalias() = *p_.dense * x;
    } else {
      y = *p_.sparse * x;
    }
  }
  [[nodiscard]] double norm1() const {
    if (p_.dense) return p_.dense->cwiseAbs().colwise().sum().maxCoeff();
    double m = 0.0;
    for (long c = 0; c < p_.sparse->outerSize(); ++c) {
      double s = 0.0;
      for (LinearProblem<double>::Sparse::InnerIterator it(*p_.sparse, c); it; ++it) s += std::abs(it.value());
      m = std::max(m, s);
    }
    return m;
  }
  [[nodiscard]] const LinearProblem<double>& problem() const { return p_; }

private:
  long replaced_row(const rvec& diag) const {
    long row = 0;
    double best = -1.0;
    for (long k = 0; k < p_.dim; ++k)
      if (p_.border(k) != 0.0 && std::abs(diag(k)) > best) {
        best = std::abs(diag(k));
        row = k;
      }
    return row;
  }
  const LinearProblem<double>& p_;
  long row_ = 0;
  std::unique_ptr<Eigen::PartialPivLU<rmat>> dense_lu_;
  std::unique_ptr<Eigen::SparseLU<LinearProblem<double>::Sparse, Eigen::COLAMDOrdering<long>>> sparse_lu_;
};

// Propagates vectors through the sorted times: u(t_k) = exp(A (t_k - t_{k-1})) u(t_{k-1}), A dense (Pade
// exponential once per distinct step) or an operator (Krylov, error control); `phase` multiplies each
// step by exp(-i nu h) (a coherence sector whose operator had i nu added).
template <class Scalar>
class Propagator {
public:
  using Vec = KVec<Scalar>;
  using Mat = KMat<Scalar>;
  Propagator(const Mat* dense, KOp<Scalar> op, double anorm, double nu)
      : dense_(dense), op_(std::move(op)), anorm_(anorm), nu_(nu) {}
  void step(double h, std::vector<Vec*> vs, ExpmvStats& st) {
    if (h <= 0.0 || vs.empty()) return;
    if (dense_ != nullptr) {
      if (!(std::abs(h - h_) <= 1e-12 * std::max(1.0, h))) {
        E_ = Mat(*dense_ * h).exp();
        h_ = h;
      }
      for (Vec* v : vs) *v = E_ * *v;
      return;
    }
    for (Vec* v : vs) {
      *v = expmv<Scalar>(op_, *v, h, anorm_, kExpTolerance, st);
      if constexpr (!std::is_same_v<Scalar, double>) *v *= std::exp(cplx(0.0, -nu_ * h));
    }
  }

private:
  const Mat* dense_;
  KOp<Scalar> op_;
  double anorm_, nu_;
  double h_ = -1.0;
  Mat E_;
};

double column_norm1(const spcmat& A, double nu) {
  double m = 0.0;
  for (int c = 0; c < A.outerSize(); ++c) {
    double s = 0.0;
    for (spcmat::InnerIterator it(A, c); it; ++it) s += std::abs(it.value() + (it.row() == c ? cplx(0.0, nu) : cplx(0.0, 0.0)));
    m = std::max(m, s);
  }
  return m;
}

// Smallest |Re lambda| over the eigenvalues of a sector with |lambda| above `floor`.
double smallest_rate(const cvec& ev, double floor) {
  double g = std::numeric_limits<double>::infinity();
  for (long i = 0; i < ev.size(); ++i)
    if (std::abs(ev(i)) > floor) g = std::min(g, std::abs(ev(i).real()));
  return g;
}

// Gershgorin bound of an assembled sector: every eigenvalue has Re lambda <= -bound (the tighter of the
// row and the column discs), and the column discs themselves.
struct Discs {
  double bound = 0.0;
  cvec centre;
  rvec radius;  // column sums
};
Discs discs_of(const spcmat& A) {
  const int n = static_cast<int>(A.rows());
  Discs D;
  D.centre = cvec::Zero(n);
  D.radius = rvec::Zero(n);
  rvec rows = rvec::Zero(n);
  for (int c = 0; c < n; ++c)
    for (spcmat::InnerIterator it(A, c); it; ++it) {
      if (it.row() == c) {
        D.centre(c) = it.value();
      } else {
        D.radius(c) += std::abs(it.value());
        rows(it.row()) += std::abs(it.value());
      }
    }
  double col_max = -std::numeric_limits<double>::infinity(), row_max = col_max;
  for (int k = 0; k < n; ++k) {
    col_max = std::max(col_max, D.centre(k).real() + D.radius(k));
    row_max = std::max(row_max, D.centre(k).real() + rows(k));
  }
  D.bound = -std::min(col_max, row_max);
  return D;
}

// The relaxation rate 1/tau: smallest |Re lambda| over the nonzero eigenvalues of L0, sector by sector.
double relaxation_rate(const SectorGenerator& G, const ZeroSector& Z, double lambda_scale, const ResponseOptions& o,
                       ResponseSolverInfo& info) {
  const double floor = 1e-10 * std::max(1.0, lambda_scale);
  bool arnoldi = false;
  double gap = std::numeric_limits<double>::infinity();
  // Zero sector (no bound: it holds the steady state).
  {
    const LinearProblem<double>& p = Z.problem();
    ++info.spectrum_sectors;
    if (p.dim <= o.dense_spectrum_zero) {
      const rmat A = p.dense ? *p.dense : rmat(*p.sparse);
      gap = smallest_rate(linalg::general_eigenvalues(A), floor);
    } else {
      // Shift-invert Arnoldi on A - sigma with sigma > 0 right of the spectrum: the eigenvalues nearest
      // sigma are 0 and the slowest ones. Not certified: a rate matrix's discs all touch 0.
      arnoldi = true;
      ++info.arnoldi_sectors;
      info.relaxation_certified = false;
      const double sigma = 1e-3 * p.scale;
      std::unique_ptr<Eigen::PartialPivLU<rmat>> dlu;
      std::unique_ptr<Eigen::SparseLU<LinearProblem<double>::Sparse, Eigen::COLAMDOrdering<long>>> slu;
      if (p.dense) {
        dlu = std::make_unique<Eigen::PartialPivLU<rmat>>(rmat(*p.dense - sigma * rmat::Identity(p.dim, p.dim)));
      } else {
        LinearProblem<double>::Sparse I(p.dim, p.dim);
        I.setIdentity();
        LinearProblem<double>::Sparse M = *p.sparse - sigma * I;
        M.makeCompressed();
        slu = std::make_unique<Eigen::SparseLU<LinearProblem<double>::Sparse, Eigen::COLAMDOrdering<long>>>();
        slu->compute(M);
      }
      const KOp<double> inv = [&](const rvec& x, rvec& y) { y = dlu ? rvec(dlu->solve(x)) : rvec(slu->solve(x)); };
      const ArnoldiResult ar = arnoldi_largest<double>(inv, p.dim, 8, 1e-10);
      for (const cplx th : ar.theta) {
        const cplx lambda = sigma + 1.0 / th;
        if (std::abs(lambda) > floor) gap = std::min(gap, std::abs(lambda.real()));
      }
    }
  }
  // Coherence sectors, one of each conjugate pair, by increasing (pair-wise) Gershgorin bound: a sector
  // whose bound reaches the smallest rate found cannot lower it, nor can any later one.
  std::vector<int> order;
  for (int s = 0; s < G.sector_count(); ++s)
    if (s != G.zero_sector() && s < G.mirror(s)) order.push_back(s);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return G.gershgorin(a) < G.gershgorin(b); });
  for (int s : order) {
    if (G.gershgorin(s) >= gap) break;
    const int n = G.sector_size(s);
    if (n == 1) {
      ++info.spectrum_sectors;
      const cplx lambda = G.diagonal(G.sector_elements(s)[0]);
      if (std::abs(lambda) > floor) gap = std::min(gap, std::abs(lambda.real()));
      continue;
    }
    // The assembled sector's discs (couplings of several baths and channels summed) are tighter.
    const double nu = G.frequency(s);
    const spcmat A = G.sector_matrix(s, nu);  // L0 + i nu: eigenvalues near the origin
    const Discs D = discs_of(A);
    if (D.bound >= gap) continue;
    ++info.spectrum_sectors;
    if (n <= o.dense_spectrum) {
      cvec ev = linalg::general_eigenvalues(cmat(A));
      ev.array() -= cplx(0.0, nu);  // the eigenvalues of L0 (for the zero test)
      gap = std::min(gap, smallest_rate(ev, floor));
      continue;
    }
    arnoldi = true;
    ++info.arnoldi_sectors;
    double im = 0.0, re = 0.0;
    for (int k = 0; k < n; ++k) {
      im += D.centre(k).imag() / n;
      re = std::max(re, std::abs(D.centre(k).real()));
    }
    const cplx sigma(D.bound > 0 ? -0.5 * D.bound : 1e-3 * re, im);
    spcmat I(n, n);
    I.setIdentity();
    spcmat M = A - sigma * I;
    M.makeCompressed();
    Eigen::SparseLU<spcmat, Eigen::COLAMDOrdering<int>> lu;
    lu.compute(M);
    if (lu.info() != Eigen::Success) {
      info.relaxation_certified = false;
      continue;
    }
    const KOp<cplx> inv = [&](const cvec& x, cvec& y) { y = lu.solve(x); };
    // Certified when the eigenvalue found nearest sigma meets the Gershgorin bound (none lies right of
    // it), or when the nev found are all the eigenvalues within the reach of every disc that extends
    // right of -gap (any eigenvalue decaying slower than gap lies in such a disc).
    bool certified = false;
    double g = std::numeric_limits<double>::infinity();
    for (const int nev : {1, 8, 24}) {
      const ArnoldiResult ar = arnoldi_largest<cplx>(inv, n, nev, 1e-10);
      double reach = ar.converged && static_cast<int>(ar.theta.size()) >= nev ? std::numeric_limits<double>::infinity() : 0.0;
      for (const cplx th : ar.theta) {
        const cplx lambda = sigma + 1.0 / th;
        g = std::min(g, std::abs(lambda.real()));
        reach = std::min(reach, std::abs(lambda - sigma));
      }
      if (!ar.converged || static_cast<int>(ar.theta.size()) < nev) reach = 0.0;
      if (ar.dimension >= n) reach = std::numeric_limits<double>::infinity();  // every eigenvalue found
      const double limit = std::min(gap, g);
      double need = 0.0;
      for (int k = 0; k < n; ++k)
        if (D.centre(k).real() + D.radius(k) > -limit) need = std::max(need, std::abs(D.centre(k) - sigma) + D.radius(k));
      if ((D.bound > 0 && g <= D.bound * (1 + 1e-8)) || reach >= need) {
        certified = true;
        break;
      }
    }
    if (!certified) info.relaxation_certified = false;
    gap = std::min(gap, g);
  }
  info.relaxation_method = arnoldi ? "eigenvalues (LAPACK) and shift-invert Arnoldi per sector"
                                   : "eigenvalues (LAPACK) per sector";
  return std::isfinite(gap) ? gap : 0.0;
}

}  // namespace

ResponseResult sector_linear_response(const Model& model, const cmat& V, const std::vector<cmat>& observables,
                                      const ResponseOptions& options) {
  check_inputs(model, V);
  const long d = model.hamiltonian.rows();
  const std::size_t nb = model.baths.size(), no = observables.size();
  {
    // Before anything large: the d x d operators in the eigenbasis (V, W, one per bath, per observable,
    // right-hand sides and their products) and the sector arrays (40 bytes per element).
    const auto dd = static_cast<std::size_t>(d) * static_cast<std::size_t>(d);
    check_memory((10 + 3 * nb + 2 * no) * dd * sizeof(cplx) + dd * 40,
                 "the linear response (" + std::to_string(d) + " levels: eigenbasis operators and Bohr-frequency sectors)",
                 "a smaller model would fit");
  }
  for (double t : options.times)
    if (!(t >= 0) || !std::isfinite(t)) throw MethodError("response-times", "--times must be finite and >= 0");

  GeneratorOptions go;
  go.method = Method::global;
  go.lamb_shift = options.lamb_shift;
  go.degeneracy_tolerance = options.degeneracy_tolerance;
  const SecularEquation eq(model, go, true);
  const Eigenbasis& basis = eq.basis();
  const HermitianBlocks& hb = eq.blocks();
  const int nc = hb.count();
  const auto unc = static_cast<std::size_t>(nc);
  const Clusters cl = clusters_of(eq);
  const auto& rep = eq.cluster_energies();
  const auto& channels = eq.channels();
  const auto& Kb = eq.dissipative_K();
  const auto& Hb = eq.total_hamiltonian();

  ResponseResult res;
  res.solver.engine = "sectors";
  for (const Bath& b : model.baths) res.bath_names.push_back(b.name);

  // pi0: the state `qheat ness --method global` solves.
  SteadyStateOptions so;
  const LinearProblem<double> zp = eq.steady_problem(so);
  const LinearSolution<double> ls = solve_steady(zp, so);
  if (ls.status == SteadyStatus::not_unique || ls.x.size() == 0)
    throw MethodError("response-not-unique", "the unperturbed generator has more than one steady state; "
                                             "linear response about it is not defined");
  const rvec& x0 = ls.x;
  std::vector<cmat> P0(unc);
  for (int c = 0; c < nc; ++c) hb.unpack(x0, c, P0[static_cast<std::size_t>(c)]);
  res.solver.zero_sector = hb.dim();

  const cmat Ve = flushed(basis.to_eigen(V));
  const std::vector<cmat>& Se = eq.bath_operators();  // round-off elements are below every threshold used
  res.regime = classify(model, eq, cl, Ve, Se, V, options.degeneracy_tolerance);
  const bool eigenvectors = res.regime.name == "eigenvectors";

  // Zero-sector pieces per bath: D0_a pi0 (blocks), the current functional q_a = D0_a^dag(H + H_LS)
  // (J_a(rho) = q_a . x for rho in the zero sector), and the gain G0 = sum_a kappa X pi0 X^dag.
  std::vector<std::vector<cmat>> D0pi(nb), Q(nb);
  std::vector<cmat> G0 = zero_blocks(hb);
  std::vector<rvec> q(nb);
  for (std::size_t a = 0; a < nb; ++a) {
    D0pi[a] = zero_blocks(hb);
    Q[a] = zero_blocks(hb);
    for (std::size_t c = 0; c < unc; ++c) {
      D0pi[a][c] = -(Kb[a][c] * P0[c] + P0[c] * Kb[a][c]);
      Q[a][c] = -(Kb[a][c] * Hb[c] + Hb[c] * Kb[a][c]);
    }
    for (const SecularChannel& ch : channels[a])
      for (const SecularEntry& e : ch.entries) {
        const auto B = eq.block_of(ch, e);
        const auto t = static_cast<std::size_t>(e.to), f = static_cast<std::size_t>(e.from);
        const cmat g = e.kappa * (B * P0[f] * B.adjoint());
        D0pi[a][t] += g;
        G0[t] += g;
        Q[a][f] += e.kappa * (B.adjoint() * Hb[t] * B);
      }
    q[a] = pack_blocks(hb, Q[a]);
  }

  // Right-hand sides L1 pi0 on the zero sector. Kubo: -i[V, pi0] inside the clusters (zero for
  // non-degenerate levels: pi0 is diagonal there).
  std::vector<cmat> bk_blocks = zero_blocks(hb);
  bool bk_zero = true;
  for (std::size_t c = 0; c < unc; ++c) {
    if (cl.idx[c].size() < 2) continue;
    const cmat Vc = Ve(cl.idx[c], cl.idx[c]);
    bk_blocks[c] = cplx(0.0, -1.0) * (Vc * P0[c] - P0[c] * Vc);
    if (max_abs(bk_blocks[c]) > 0) bk_zero = false;
  }
  const rvec bz_k = pack_blocks(hb, bk_blocks);
  // Dissipator part (eigenvector regime, Levy eqs. 13-17): with W_ab = V_ab / (e_a - e_b) between
  // clusters, P_k^(1) = [P_k, W] and S^(1)(w) = P_w([W, S]) - [W, S(w)]. Inside the clusters
  // D1_a pi0 = A_a + A_a^dag - {F_a + F_a^dag, pi0} with A_a = sum kappa C pi0 B^dag and
  // F_a = sum (kappa/2) B^dag C over the transition blocks B (C = [W, S] on the same block), and
  // H_LS1 = sum shift (B^dag C + C^dag B); outside them the terms with [W, .] (below, for observables).
  cmat W;
  std::vector<std::vector<cmat>> Z(nb, std::vector<cmat>());
  std::vector<cmat> Hs = zero_blocks(hb);
  rvec bz_d = rvec::Zero(hb.dim());
  if (eigenvectors) {
    W = cmat::Zero(d, d);
    for (long b = 0; b < d; ++b)
      for (long i = 0; i < d; ++i) {
        const int ci = cl.of[static_cast<std::size_t>(i)], cb = cl.of[static_cast<std::size_t>(b)];
        if (ci != cb && Ve(i, b) != cplx(0.0, 0.0))
          W(i, b) = Ve(i, b) / (rep[static_cast<std::size_t>(ci)] - rep[static_cast<std::size_t>(cb)]);
      }
    std::vector<cmat> bd_blocks = zero_blocks(hb);
    for (std::size_t a = 0; a < nb; ++a) {
      std::vector<cmat> A = zero_blocks(hb), F = zero_blocks(hb);
      for (std::size_t k = 0; k < channels[a].size(); ++k) {
        const SecularChannel& ch = channels[a][k];
        const cmat S = k == 0 ? Se[a] : cmat(Se[a].adjoint());  // exchange: A, then A^dag
        cmat C = W * S;
        C.noalias() -= S * W;
        auto add = [&](const SecularEntry& e) {
          const auto B = eq.block_of(ch, e);
          const auto t = static_cast<std::size_t>(e.to), f = static_cast<std::size_t>(e.from);
          const cmat Cb = C(cl.idx[t], cl.idx[f]);
          const cmat BC = B.adjoint() * Cb;
          A[t] += e.kappa * (Cb * P0[f] * B.adjoint());
          F[f] += 0.5 * e.kappa * BC;
          Hs[f] += e.shift * BC;
        };
        for (const SecularEntry& e : ch.entries) add(e);
        for (const SecularEntry& e : ch.lamb_only) add(e);
      }
      Z[a] = zero_blocks(hb);
      for (std::size_t c = 0; c < unc; ++c) {
        const cmat Fh = F[c] + F[c].adjoint();
        Z[a][c] = A[c] + A[c].adjoint() - (Fh * P0[c] + P0[c] * Fh);
        bd_blocks[c] += Z[a][c];
      }
    }
    for (std::size_t c = 0; c < unc; ++c) {
      Hs[c] = cmat(Hs[c] + Hs[c].adjoint());
      bd_blocks[c] += cplx(0.0, -1.0) * (Hs[c] * P0[c] - P0[c] * Hs[c]);
    }
    bz_d = pack_blocks(hb, bd_blocks);
  }

  // Zero-sector parts of rho1 = -L0^+ L1 pi0.
  const ZeroSector zero(zp);
  const rvec x1k = bk_zero ? rvec(rvec::Zero(hb.dim())) : zero.solve(-bz_k);
  const rvec x1d = eigenvectors ? zero.solve(-bz_d) : rvec(rvec::Zero(hb.dim()));

  // Heat currents J_a = Tr[(H + H_LS) D_a rho] and their response (Levy eq. 51 with the Lamb shift).
  res.currents0 = eq.currents(x0).currents;
  std::vector<double> jk_explicit(nb, 0.0), jd_explicit(nb, 0.0);
  for (std::size_t a = 0; a < nb; ++a) {
    for (std::size_t c = 0; c < unc; ++c) {
      jk_explicit[a] += re_trace(Ve(cl.idx[c], cl.idx[c]), D0pi[a][c]);
      if (eigenvectors) jd_explicit[a] += re_trace(Hs[c], D0pi[a][c]) + re_trace(Hb[c], Z[a][c]);
    }
    ResponseParts p{jk_explicit[a] + q[a].dot(x1k), jd_explicit[a] + q[a].dot(x1d), 0.0};
    p.total = p.kubo + p.dissipator;
    res.currents.push_back(p);
  }
  res.entropy_production = steady_entropy_production_response(res.currents, model.baths);

  // Observables: zero-sector functionals a_i (Re Tr[A rho] = a_i . x), eigenbasis Hermitian parts for the
  // coherence sectors.
  std::vector<cmat> Ah(no);
  std::vector<rvec> az(no);
  for (std::size_t i = 0; i < no; ++i) {
    const cmat Ae = basis.to_eigen(observables[i]);
    Ah[i] = 0.5 * (Ae + Ae.adjoint());
    std::vector<cmat> blocks(unc);
    for (std::size_t c = 0; c < unc; ++c) blocks[c] = Ah[i](cl.idx[c], cl.idx[c]);
    az[i] = pack_blocks(hb, blocks);
    res.observables0.push_back(az[i].dot(x0));
    res.observables.push_back(ResponseParts{az[i].dot(x1k), az[i].dot(x1d), 0.0});
  }

  // Time series: sorted times, results at the original positions.
  const std::vector<double>& times = options.times;
  std::vector<std::pair<double, std::size_t>> order;
  order.reserve(times.size());
  for (std::size_t i = 0; i < times.size(); ++i) order.emplace_back(times[i], i);
  std::sort(order.begin(), order.end());
  const std::size_t nt = times.size();
  res.times = times;
  std::vector<std::vector<ResponseParts>> obs_t(nt, std::vector<ResponseParts>(no)), phi_t = obs_t;
  ExpmvStats est;

  SectorGenerator G(eq);
  G.decompose();
  res.solver.sectors = G.sector_count();
  for (int s = 0; s < G.sector_count(); ++s) res.solver.largest_sector = std::max<long>(res.solver.largest_sector, G.sector_size(s));

  // Coherence sectors: only observables see them.
  if (no > 0) {
    // Off-cluster right-hand sides as d x d matrices. Kubo: -i[V, pi0]; dissipator (eigenvector regime):
    // -[W, G0] + G([W, pi0]) - {[K, W], pi0} - i[[H_LS, W], pi0] (K, H_LS: totals over baths).
    auto right_block = [&](const cmat& X, const std::vector<cmat>& blk) {  // X * blockdiag
      cmat Y = cmat::Zero(d, d);
      for (std::size_t c = 0; c < unc; ++c) Y(Eigen::all, cl.idx[c]) = X(Eigen::all, cl.idx[c]) * blk[c];
      return Y;
    };
    auto left_block = [&](const std::vector<cmat>& blk, const cmat& X) {  // blockdiag * X
      cmat Y = cmat::Zero(d, d);
      for (std::size_t c = 0; c < unc; ++c) Y(cl.idx[c], Eigen::all) = blk[c] * X(cl.idx[c], Eigen::all);
      return Y;
    };
    auto commutator_block = [&](const std::vector<cmat>& blk, const cmat& X) {  // [blockdiag, X]
      return cmat(left_block(blk, X) - right_block(X, blk));
    };
    cmat bk = cplx(0.0, 1.0) * commutator_block(P0, Ve);  // -i[V, pi0] = i[pi0, V]
    cmat bd;
    if (eigenvectors) {
      std::vector<cmat> Kt = zero_blocks(hb), Lt = zero_blocks(hb);
      for (std::size_t a = 0; a < nb; ++a)
        for (std::size_t c = 0; c < unc; ++c) {
          Kt[c] += Kb[a][c];
          Lt[c] += eq.lamb_shift_blocks()[a][c];
        }
      const cmat WP = cmat(-commutator_block(P0, W));  // [W, pi0]
      bd = commutator_block(G0, W);                     // -[W, G0]
      G.add_gain(WP, -1, bd);
      const cmat KW = commutator_block(Kt, W), LW = commutator_block(Lt, W);
      bd -= left_block(P0, KW) + right_block(KW, P0);
      bd += cplx(0.0, 1.0) * commutator_block(P0, LW);  // -i[LW, pi0]
    }
    // Sectors the right-hand sides reach: the largest element of each part per sector. A sector whose
    // right-hand side stays below kNegligible of the largest element is round-off of the basis change
    // (eigenvectors of levels a gap g apart carry errors ~eps ||H|| / g, which put elements into V_ab that
    // V does not have): it is not solved.
    std::vector<double> mk(static_cast<std::size_t>(G.sector_count()), 0.0), md = mk;
    double bk_max = 0.0, bd_max = 0.0;
    for (long b = 0; b < d; ++b)
      for (long i = 0; i < d; ++i) {
        if (cl.of[static_cast<std::size_t>(i)] == cl.of[static_cast<std::size_t>(b)]) continue;
        const auto s = static_cast<std::size_t>(G.sector_of(G.element(static_cast<int>(i), static_cast<int>(b))));
        const double vk = std::abs(bk(i, b)), vd = eigenvectors ? std::abs(bd(i, b)) : 0.0;
        mk[s] = std::max(mk[s], vk);
        md[s] = std::max(md[s], vd);
        bk_max = std::max(bk_max, vk);
        bd_max = std::max(bd_max, vd);
      }
    auto reached = [&](int s, bool kubo) {
      const auto us = static_cast<std::size_t>(s);
      return kubo ? mk[us] > kNegligible * bk_max : md[us] > kNegligible * bd_max;
    };
    for (int s = 0; s < G.sector_count(); ++s) {
      if (s == G.zero_sector()) continue;
      const bool use_k = reached(s, true), use_d = reached(s, false);
      if (!use_k && !use_d) {
        if (mk[static_cast<std::size_t>(s)] > 0 || md[static_cast<std::size_t>(s)] > 0) ++res.solver.negligible_sectors;
        continue;
      }
      const int ms = G.mirror(s);
      if (ms < s && (reached(ms, true) || reached(ms, false))) continue;  // its conjugate pair is solved once
      ++res.solver.solved_sectors;
      const int n = G.sector_size(s);
      const int* el = G.sector_elements(s);
      cvec rk(n), rd = cvec::Zero(n);
      for (int j = 0; j < n; ++j) {
        const int r = G.row(el[j]), c = G.col(el[j]);
        rk(j) = use_k ? bk(r, c) : cplx(0.0, 0.0);
        if (use_d) rd(j) = bd(r, c);
      }
      cvec xk, xd;
      spcmat L;
      cmat Ld;
      if (n == 1) {
        Ld = cmat::Constant(1, 1, G.diagonal(el[0]));
        xk = -rk / Ld(0, 0);
        xd = -rd / Ld(0, 0);
      } else {
        L = G.sector_matrix(s, 0.0);
        if (n <= options.dense_sector) {
          Ld = cmat(L);
          const Eigen::PartialPivLU<cmat> lu(Ld);
          const rvec piv = lu.matrixLU().diagonal().cwiseAbs();
          if (!(piv.minCoeff() > 1e-14 * piv.maxCoeff()))
            throw MethodError("response-not-unique", "a coherence sector of the unperturbed generator has a zero "
                                                     "eigenvalue; linear response about its steady state is not defined");
          xk = lu.solve(-rk);
          xd = eigenvectors ? cvec(lu.solve(-rd)) : cvec(cvec::Zero(n));
        } else {
          const cvec diag = L.diagonal();
          const LinearProblem<cplx>::Op A = [&](const cvec& x, cvec& y) { y = L * x; };
          const LinearProblem<cplx>::Op P = [&](const cvec& x, cvec& y) { y = x.cwiseQuotient(diag); };
          auto solve = [&](const cvec& rhs) {
            int it = 0;
            double rel = 0.0;
            cvec x = gmres<cplx>(A, P, rhs, std::min(n, 80), 4000, kGmresTolerance, it, rel);
            res.solver.gmres_iterations += it;
            res.solver.max_gmres_iterations = std::max(res.solver.max_gmres_iterations, it);
            if (!(rel <= 100 * kGmresTolerance)) {  // slow convergence: exact sparse LU instead
              Eigen::SparseLU<spcmat, Eigen::COLAMDOrdering<int>> lu;
              lu.compute(L);
              if (lu.info() != Eigen::Success)
                throw MethodError("response-not-unique", "a coherence sector of the unperturbed generator is singular; "
                                                         "linear response about its steady state is not defined");
              x = lu.solve(rhs);
              cvec y;
              A(x, y);
              rel = (y - rhs).norm() / std::max(rhs.norm(), 1e-300);
            }
            res.solver.max_residual = std::max(res.solver.max_residual, rel);
            return x;
          };
          xk = rk.norm() > 0 ? solve(-rk) : cvec(cvec::Zero(n));
          xd = rd.norm() > 0 ? solve(-rd) : cvec(cvec::Zero(n));
        }
      }
      // Tr[A rho] over the sector and its conjugate: 2 Re sum A_ba rho_ab.
      auto trace = [&](const cmat& A, const cvec& x) {
        cplx sum(0.0, 0.0);
        for (int j = 0; j < n; ++j) sum += A(G.col(el[j]), G.row(el[j])) * x(j);
        return 2.0 * sum.real();
      };
      for (std::size_t i = 0; i < no; ++i) {
        res.observables[i].kubo += trace(Ah[i], xk);
        res.observables[i].dissipator += trace(Ah[i], xd);
      }
      if (nt == 0) continue;
      // Phi(t) = x - exp(L0 t) x, phi(t) = -L0 exp(L0 t) x on the sector.
      const double nu = G.frequency(s);
      const spcmat* Lp = &L;
      KOp<cplx> op = [Lp, nu](const cvec& x, cvec& y) {
        y = *Lp * x;
        y += cplx(0.0, nu) * x;
      };
      const bool dense = n == 1 || n <= options.dense_sector;
      Propagator<cplx> prop(dense ? &Ld : nullptr, op, dense ? 0.0 : column_norm1(L, nu), nu);
      cvec uk = xk, ud = xd;
      double t_prev = 0.0;
      for (const auto& [t, idx] : order) {
        prop.step(t - t_prev, {&uk, &ud}, est);
        t_prev = std::max(t_prev, t);
        const cvec fk = dense ? cvec(-(Ld * uk)) : cvec(-(L * uk));
        const cvec fd = dense ? cvec(-(Ld * ud)) : cvec(-(L * ud));
        for (std::size_t i = 0; i < no; ++i) {
          obs_t[idx][i].kubo += trace(Ah[i], xk - uk);
          obs_t[idx][i].dissipator += trace(Ah[i], xd - ud);
          phi_t[idx][i].kubo += trace(Ah[i], fk);
          phi_t[idx][i].dissipator += trace(Ah[i], fd);
        }
      }
    }
  }
  for (ResponseParts& p : res.observables) p.total = p.kubo + p.dissipator;

  // Relaxation rate and the regime's delta scales.
  res.regime.relaxation_rate = relaxation_rate(G, zero, std::max(eq.energy_span(), zp.scale), options, res.solver);
  if (!eigenvectors && res.regime.bohr_splitting > 0) {
    res.regime.delta_local_max = options.local_below * res.regime.relaxation_rate / res.regime.bohr_splitting;
    res.regime.delta_global_min = options.global_above * res.regime.relaxation_rate / res.regime.bohr_splitting;
  }

  if (nt > 0) {
    // Zero sector: currents, entropy production and the observables' zero-sector parts.
    std::vector<cmat> logpi(unc);
    for (std::size_t c = 0; c < unc; ++c) {
      const Eigen::SelfAdjointEigenSolver<cmat> es(cmat(0.5 * (P0[c] + P0[c].adjoint())));
      const rvec ev = es.eigenvalues().cwiseMax(1e-300);
      logpi[c] = es.eigenvectors() * ev.array().log().matrix().asDiagonal() * es.eigenvectors().adjoint();
    }
    const rvec ell = pack_blocks(hb, logpi);
    const long nz = hb.dim();
    const LinearProblem<double>& p = zero.problem();
    const bool dense = p.dense && nz <= options.dense_sector;
    const KOp<double> op = [&zero](const rvec& x, rvec& y) { zero.apply(x, y); };
    Propagator<double> prop(dense ? &*p.dense : nullptr, op, dense ? 0.0 : zero.norm1(), 0.0);
    rvec uk = x1k, ud = x1d, fk(nz), fd(nz);
    double t_prev = 0.0;
    res.currents_t.assign(nt, {});
    res.entropy_production_t.assign(nt, {});
    for (const auto& [t, idx] : order) {
      std::vector<rvec*> vs;
      if (!bk_zero) vs.push_back(&uk);
      if (eigenvectors) vs.push_back(&ud);
      prop.step(t - t_prev, vs, est);
      t_prev = std::max(t_prev, t);
      zero.apply(uk, fk);
      zero.apply(ud, fd);
      fk = -fk;
      fd = -fd;
      const rvec Pk = x1k - uk, Pd = x1d - ud;
      std::vector<ResponseParts> cur;
      ResponseParts ent{-ell.dot(fk), -ell.dot(fd), 0.0};
      for (std::size_t a = 0; a < nb; ++a) {
        ResponseParts j{jk_explicit[a] + q[a].dot(Pk), jd_explicit[a] + q[a].dot(Pd), 0.0};
        j.total = j.kubo + j.dissipator;
        cur.push_back(j);
        const double T = model.baths[a].temperature;
        const double inv = T > 0 ? 1.0 / T : std::numeric_limits<double>::infinity();
        ent.kubo -= j.kubo * inv;
        ent.dissipator -= j.dissipator * inv;
      }
      ent.total = ent.kubo + ent.dissipator;
      res.currents_t[idx] = std::move(cur);
      res.entropy_production_t[idx] = ent;
      for (std::size_t i = 0; i < no; ++i) {
        obs_t[idx][i].kubo += az[i].dot(Pk);
        obs_t[idx][i].dissipator += az[i].dot(Pd);
        phi_t[idx][i].kubo += az[i].dot(fk);
        phi_t[idx][i].dissipator += az[i].dot(fd);
      }
    }
    for (auto* series : {&obs_t, &phi_t})
      for (auto& row : *series)
        for (ResponseParts& p2 : row) p2.total = p2.kubo + p2.dissipator;
    res.observables_t = std::move(obs_t);
    res.response_functions_t = std::move(phi_t);
  }
  res.solver.krylov_products = est.products;
  return res;
}

}  // namespace qheat::response_detail
