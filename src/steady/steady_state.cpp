#include "qheat/steady/steady_state.hpp"

#include <Eigen/LU>
#include <Eigen/SVD>
#include <limits>
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "qheat/core/interrupt.hpp"
#include "qheat/core/linalg.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/core/sparse_lu.hpp"
#include "qheat/steady/rate_equation.hpp"

namespace qheat {

std::string status_name(SteadyStatus s) {
  switch (s) {
    case SteadyStatus::converged: return "converged";
    case SteadyStatus::not_unique: return "not-unique";
    case SteadyStatus::ill_conditioned: return "ill-conditioned";
    case SteadyStatus::not_converged: return "not-converged";
  }
  return "?";
}

namespace {
inline double conj_of(double x) { return x; }
inline cplx conj_of(cplx x) { return std::conj(x); }
}  // namespace

// Largest Krylov basis a thread keeps between GMRES calls (an 8-site chain's Bloch-Redfield basis, 65536 x 81, is 40.5 MiB).
constexpr std::size_t kKeptBasisBytes = std::size_t{128} << 20;

template <class Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, 1> gmres(const typename LinearProblem<Scalar>::Op& A,
                                               const typename LinearProblem<Scalar>::Op& P,
                                               const Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& b, int restart,
                                               int max_iterations, double tolerance, int& iterations,
                                               double& relative_residual,
                                               const Eigen::Matrix<Scalar, Eigen::Dynamic, 1>* x0) {
  using Vec = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
  using Mat = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  const long n = b.size();
  Vec x = x0 != nullptr ? *x0 : Vec::Zero(n);
  const double bnorm = b.norm();
  iterations = 0;
  relative_residual = 1.0;
  if (bnorm == 0.0) return x;
  Vec pin;  // the preconditioner's input (a basis column is a block expression, not a Vec)
  auto precondition = [&](const auto& in, Vec& out) {
    if (P) {
      pin = in;
      P(pin, out);
    } else {
      out = in;
    }
  };
  Vec z(n), w(n), tmp(n);
  // The Krylov basis is this thread's and outlives the call (up to kKeptBasisBytes): a sweep's points
  // solve problems of one size one after another, and a fresh basis of tens of MiB is a fresh mmap whose
  // pages fault in again at every solve (measured: most of a Bloch-Redfield sweep's page faults).
  thread_local Mat kept;
  Mat V = std::move(kept);
  V.resize(n, restart + 1);  // no reallocation when the size is the kept one
  struct Keep {
    Mat& basis;
    ~Keep() {
      if (static_cast<std::size_t>(basis.size()) * sizeof(Scalar) <= kKeptBasisBytes) kept = std::move(basis);
    }
  } keep{V};
  double previous = std::numeric_limits<double>::infinity();
  while (iterations < max_iterations) {
    A(x, w);
    Vec r = b - w;
    const double beta = r.norm();
    relative_residual = beta / bnorm;
    if (relative_residual <= tolerance) break;
    // Stagnation: a whole restart cycle gained less than 1% (round-off floor); more cycles cannot help.
    if (relative_residual > 0.99 * previous) break;
    previous = relative_residual;
    Mat Hh = Mat::Zero(restart + 1, restart);
    Vec g = Vec::Zero(restart + 1);
    std::vector<Scalar> cs(static_cast<std::size_t>(restart)), sn(static_cast<std::size_t>(restart));
    V.col(0) = r / beta;
    g(0) = beta;
    int k = 0;
    for (; k < restart && iterations < max_iterations; ++k, ++iterations) {
      throw_if_interrupted();
      precondition(V.col(k), z);
      A(z, w);
      {  // classical Gram-Schmidt, twice ("twice is enough": as stable as modified Gram-Schmidt), as two
         // matrix-vector products per pass (BLAS-2) instead of 2(k+1) vector operations
        const auto Vk = V.leftCols(k + 1);
        Vec h = Vk.adjoint() * w;
        w.noalias() -= Vk * h;
        const Vec h2 = Vk.adjoint() * w;
        w.noalias() -= Vk * h2;
        h += h2;
        Hh.col(k).head(k + 1) = h;
      }
      Hh(k + 1, k) = w.norm();
      if (std::abs(Hh(k + 1, k)) > 0) V.col(k + 1) = w / Hh(k + 1, k);
      for (int j = 0; j < k; ++j) {  // previous Givens rotations
        const auto uj = static_cast<std::size_t>(j);
        const Scalar h0 = Hh(j, k), h1 = Hh(j + 1, k);
        Hh(j, k) = conj_of(cs[uj]) * h0 + conj_of(sn[uj]) * h1;
        Hh(j + 1, k) = -sn[uj] * h0 + cs[uj] * h1;
      }
      const double nrm = std::hypot(std::abs(Hh(k, k)), std::abs(Hh(k + 1, k)));
      const Scalar c = nrm > 0 ? Scalar(Hh(k, k) / nrm) : Scalar(1.0);
      const Scalar s = nrm > 0 ? Scalar(Hh(k + 1, k) / nrm) : Scalar(0.0);
      cs[static_cast<std::size_t>(k)] = c;
      sn[static_cast<std::size_t>(k)] = s;
      Hh(k, k) = nrm;
      Hh(k + 1, k) = 0;
      g(k + 1) = -s * g(k);
      g(k) = conj_of(c) * g(k);
      relative_residual = std::abs(g(k + 1)) / bnorm;
      if (relative_residual <= tolerance) {
        ++k;
        ++iterations;
        break;
      }
    }
    const Vec yk = Hh.topLeftCorner(k, k).template triangularView<Eigen::Upper>().solve(g.head(k));
    tmp.noalias() = V.leftCols(k) * yk;
    precondition(tmp, z);
    x += z;
    if (relative_residual <= tolerance) break;
  }
  A(x, w);
  relative_residual = (b - w).norm() / bnorm;
  return x;
}

namespace {

template <class Scalar>
using Vec = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
template <class Scalar>
using Mat = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

// Explicit-matrix forms of the operator, for the residual and for GMRES on an explicit sparse problem.
template <class Scalar>
typename LinearProblem<Scalar>::Op operator_of(const LinearProblem<Scalar>& p) {
  if (p.apply) return p.apply;
  if (p.sparse) return [&p](const Vec<Scalar>& x, Vec<Scalar>& y) { y = *p.sparse * x; };
  return [&p](const Vec<Scalar>& x, Vec<Scalar>& y) { y.noalias() = *p.dense * x; };
}

// Status of a solution x from its condition indicator; residual and normalisation are filled here.
template <class Scalar>
void classify(const LinearProblem<Scalar>& p, const SteadyStateOptions& o, LinearSolution<Scalar>& r) {
  if (r.x.size() == 0 || !r.x.allFinite()) {
    r.x = Vec<Scalar>();
    r.status = SteadyStatus::not_unique;
    return;
  }
  // Components below flush_below x max|x| are round-off of the solve (its backward error is ~1e-16
  // relative), not state: set to zero. Left in, they sit on levels that carry no population and, times
  // those levels' large energies and rates, would make currents and the first law depend on the
  // truncation (measured on examples/bosons/kerr_mode.toml: first-law residual 9e-10 of J at nmax = 999
  // before, 1.5e-12 after).
  const double floor = o.flush_below * r.x.cwiseAbs().maxCoeff();
  for (long k = 0; k < r.x.size(); ++k)
    if (std::abs(r.x(k)) < floor) r.x(k) = Scalar(0);
  Vec<Scalar> y(p.dim);
  operator_of(p)(r.x, y);
  r.residual = y.norm();
  r.normalisation = std::real(p.border.dot(r.x));
  if (!(r.rcond >= o.singular_rcond)) {
    r.status = SteadyStatus::not_unique;
  } else if (r.solver == "gmres") {
    r.status = r.status == SteadyStatus::not_converged ? SteadyStatus::not_converged : SteadyStatus::converged;
  } else if (r.rcond < o.ill_rcond || !(r.residual <= 1e-8 * p.scale) || std::abs(r.normalisation - 1.0) > 1e-8) {
    r.status = SteadyStatus::ill_conditioned;
  }
}

template <class Scalar>
Mat<Scalar> explicit_dense(const LinearProblem<Scalar>& p) {
  if (p.dense) return *p.dense;
  if (p.sparse) return Mat<Scalar>(*p.sparse);
  Mat<Scalar> A(p.dim, p.dim);
  Vec<Scalar> e = Vec<Scalar>::Zero(p.dim), y(p.dim);
  for (long j = 0; j < p.dim; ++j) {
    throw_if_interrupted();
    e(j) = 1.0;
    p.apply(e, y);
    A.col(j) = y;
    e(j) = 0.0;
  }
  return A;
}

// The row of A replaced by the normalisation when the border is not added (dense rate equations, every sparse
// solve): the one
// with the largest diagonal element among u's support (a fast-decaying level; its balance equation is
// implied by the others, since u^T A = 0).
template <class Scalar, class Diag>
long replaced_row(const LinearProblem<Scalar>& p, const Diag& diag) {
  long row = -1;
  double best = -1.0;
  for (long k = 0; k < p.dim; ++k)
    if (p.border(k) != Scalar(0) && (row < 0 || std::abs(diag(k)) > best)) {  // NaN never wins over row 0
      best = std::abs(diag(k));
      row = k;
    }
  return std::max(row, 0L);
}

// Whether the dense solve borders with s u u^T (u has few non-zeros: the trace of a d x d operator in d^2
// coordinates) or replaces one equation by the normalisation (u = (1, ..., 1) of a rate equation). Bordering a rate
// equation would add s -- the fastest rate -- to every element and swamp the small rates of the populated
// levels (measured: 4e-8 relative error in the Kerr-mode currents at nmax = 999).
template <class Scalar>
bool use_border(const LinearProblem<Scalar>& p) {
  long nu = 0;
  for (long k = 0; k < p.dim; ++k) nu += p.border(k) != Scalar(0) ? 1 : 0;
  return nu < p.dim || p.dim == 1;
}

// The bytes a solve may use: SteadyStateOptions::max_memory, or the memory available on this machine.
std::size_t memory_budget(const SteadyStateOptions& o) { return o.max_memory > 0 ? o.max_memory : memory_limit(); }

// Dense LU by Eigen up to this size (the explicit problems of small models); beyond, by LAPACK.
constexpr long kEigenLuMax = 1024;
// The largest real problem a failed GMRES hands to dense LU (complex: 5/8 of it).
constexpr long kDenseFallbackMax = 16384;

template <class Scalar>
LinearSolution<Scalar> dense_lu(const LinearProblem<Scalar>& p, const SteadyStateOptions& o) {
  LinearSolution<Scalar> r;
  r.solver = "dense-lu";
  Mat<Scalar> M = explicit_dense(p);
  const double s = p.scale;
  Vec<Scalar> rhs;
  if (use_border(p)) {
    M.noalias() += s * p.border * p.border.transpose();
    rhs = s * p.border;
  } else {
    const long row = replaced_row(p, M.diagonal());
    M.row(row) = s * p.border.transpose();
    rhs = Vec<Scalar>::Zero(p.dim);
    rhs(row) = s;
  }
  // Condition indicator: smallest over largest pivot. A kernel of A of more than one dimension makes
  // the bordered matrix singular and a pivot fall to round-off; Eigen's rcond() estimator costs as much
  // as the factorisation at the sizes where this is used (but see the singular values below).
  if (p.dim <= kEigenLuMax) {
    Eigen::PartialPivLU<Mat<Scalar>> lu(M);
    const Eigen::VectorXd piv = lu.matrixLU().diagonal().cwiseAbs();
    r.rcond = piv.maxCoeff() > 0 ? piv.minCoeff() / piv.maxCoeff() : 0.0;
    r.x = lu.solve(rhs);
    // Pivots can miss a singular matrix by far more than round-off: a uniform XX chain's Davies sector (18 unknowns,
    // a two-dimensional kernel: singular values 2e-17 and 1e-17 of the largest) had a pivot ratio of 7.4e-14, above
    // singular_rcond, and was reported ill-conditioned with a state of eigenvalue -0.25. Below ill_rcond the
    // singular values decide (smallest over largest), at ~10x the LU's cost, only there.
    if (r.rcond < o.ill_rcond) {
      const Eigen::VectorXd sv = Eigen::BDCSVD<Mat<Scalar>>(M).singularValues();
      r.rcond = sv(0) > 0 ? sv(sv.size() - 1) / sv(0) : 0.0;
    }
  } else {  // the fallback's sizes: LAPACK's blocked getrf on --threads (core/linalg.hpp)
    const linalg::DenseLU<Scalar> lu(std::move(M));
    const auto [lo, hi] = lu.pivot_range();
    r.rcond = hi > 0 ? lo / hi : 0.0;
    Mat<Scalar> x = rhs;
    lu.solve_in_place(x);
    r.x = x.col(0);
  }
  classify(p, o, r);
  return r;
}

// Whether a matrix-free problem GMRES did not solve can be made explicit and solved by dense LU instead: up to
// kDenseFallbackMax unknowns (a real 12 870-unknown problem, the XXZ chain's Bloch-Redfield sectors at N = 8, is
// 1.3 GB and one getrf) and when the matrix fits in the memory limit beside what the problem holds. Returns what
// stands in the way, for the not-converged diagnostic; empty when nothing does.
template <class Scalar>
std::string dense_fallback_obstacle(const LinearProblem<Scalar>& p, const SteadyStateOptions& o) {
  const auto n = static_cast<std::size_t>(p.dim);
  const long most = std::is_same_v<Scalar, double> ? kDenseFallbackMax : kDenseFallbackMax * 5 / 8;  // 4x the flops
  const std::size_t bytes = p.operator_bytes + p.apply_workspace_bytes + (n * n + 8 * n) * sizeof(Scalar);
  if (p.dim > most)
    return "no dense LU after it: " + std::to_string(p.dim) + " unknowns, more than the " + std::to_string(most) +
           " it is tried for";
  if (bytes > memory_budget(o)) {
    const auto [est, lim] = format_bytes_apart(bytes, memory_budget(o));
    return "no dense LU after it: it needs an estimated " + est + ", more than the memory limit of " + lim;
  }
  return {};
}

// A rate equation's stationary state by GTH state reduction (steady/rate_equation.hpp): every probability to a
// small relative error, and uniqueness from the jump graph (the indicator is 1 or 0).
LinearSolution<double> rate_equation_solve(const LinearProblem<double>& p, const SteadyStateOptions& o) {
  LinearSolution<double> r;
  r.solver = "gth";
  const RateEquation eq(explicit_dense(p), RateEquation::Use::stationary);
  r.x = eq.stationary();
  r.x /= p.border.dot(r.x);
  r.rcond = eq.uniqueness_indicator();
  classify(p, o, r);
  return r;
}

// Rate equations up to this many states are solved densely by GTH, whatever form they come in (a matrix-free one
// is made explicit column by column: O(n) applies of O(n) work when every block is one level); beyond, the
// factorisation's O(n^3) time is the general solvers' again.
constexpr long kRateEquationDenseMax = 4096;

template <class Scalar>
bool solved_as_rate_equation(const LinearProblem<Scalar>& p) {
  return std::is_same_v<Scalar, double> && p.rate_equation && p.dim <= kRateEquationDenseMax;
}

template <class Scalar>
std::size_t sparse_bytes(const typename LinearProblem<Scalar>::Sparse& m) {
  return static_cast<std::size_t>(m.nonZeros()) * (sizeof(Scalar) + sizeof(long)) +
         static_cast<std::size_t>(m.outerSize() + 1) * sizeof(long);
}

template <class Scalar>
LinearSolution<Scalar> sparse_lu(const LinearProblem<Scalar>& p, const SteadyStateOptions& o) {
  using Sparse = typename LinearProblem<Scalar>::Sparse;
  LinearSolution<Scalar> r;
  r.solver = "sparse-lu";
  const long n = p.dim;
  // One equation replaced by the normalisation (regular exactly when ker A is 1-dimensional, since u^T A = 0 makes
  // any equation on u's support implied by the others): sparse, and the populated levels keep their own small
  // rates. Bordered with s u u^T instead, every population equation carries s -- the fastest rate -- and the
  // solution only a backward error relative to it (measured on the harmonic mode at nmax = 600, Bloch-Redfield:
  // first-law residual 6.3e-12 against J = 4.8e-3 bordered, 9e-16 with the equation replaced).
  std::vector<long> support;
  for (long k = 0; k < n; ++k)
    if (p.border(k) != Scalar(0)) support.push_back(k);
  const long row = replaced_row(p, Vec<Scalar>(p.sparse->diagonal()));
  std::vector<Eigen::Triplet<Scalar, long>> trip;
  trip.reserve(static_cast<std::size_t>(p.sparse->nonZeros()) + support.size());
  for (long c = 0; c < p.sparse->outerSize(); ++c)
    for (typename Sparse::InnerIterator it(*p.sparse, c); it; ++it)
      if (it.row() != row) trip.emplace_back(it.row(), it.col(), it.value());
  for (long k : support) trip.emplace_back(row, k, p.scale * p.border(k));
  Sparse M(n, n);
  M.setFromTriplets(trip.begin(), trip.end());
  Vec<Scalar> rhs = Vec<Scalar>::Zero(n);
  rhs(row) = p.scale;
  M.makeCompressed();
  linalg::SparseLU<Scalar> lu(M);  // UMFPACK (core/sparse_lu.hpp)
  // The analysis's estimate of the factors, against the memory limit, before they are allocated. A problem that
  // has a matrix-free form (the LU as GMRES's fallback) gets no solution instead.
  const std::size_t bytes = lu.estimated_bytes() + sparse_bytes<Scalar>(M) + 4 * static_cast<std::size_t>(n) * sizeof(Scalar);
  if (p.apply && bytes > memory_budget(o)) {
    r.status = SteadyStatus::not_converged;
    return r;
  }
  check_memory(bytes, "the sparse LU of the steady-state problem (" + std::to_string(n) + " unknowns)",
               "a matrix-free method would fit");
  if (!lu.factorize()) {
    r.rcond = 0.0;
    r.x = Vec<Scalar>();
    classify(p, o, r);
    return r;
  }
  r.x = lu.solve(rhs);
  // Condition estimate from one extra solve with a fixed pseudo-random right-hand side:
  // ||M^-1|| >= ||M^-1 v|| / ||v||, so rcond <= ||v|| / (||M||_1 ||M^-1 v||).
  Vec<Scalar> v(n);
  for (long k = 0; k < n; ++k) {
    if constexpr (std::is_same_v<Scalar, double>) {
      v(k) = std::sin(1.0 + 0.7 * static_cast<double>(k));
    } else {
      v(k) = Scalar(std::sin(1.0 + 0.7 * static_cast<double>(k)), std::cos(0.3 * static_cast<double>(k)));
    }
  }
  const Vec<Scalar> y = lu.solve(v);
  double norm1 = 0.0;
  for (long k = 0; k < M.outerSize(); ++k) {
    double col = 0.0;
    for (typename Sparse::InnerIterator it(M, k); it; ++it) col += std::abs(it.value());
    norm1 = std::max(norm1, col);
  }
  r.rcond = y.allFinite() && norm1 > 0 ? v.norm() / (norm1 * y.norm()) : 0.0;
  classify(p, o, r);
  return r;
}

template <class Scalar>
LinearSolution<Scalar> krylov(const LinearProblem<Scalar>& p, const SteadyStateOptions& o, int restart,
                              const Vec<Scalar>* x0 = nullptr, int done = 0) {
  LinearSolution<Scalar> r;
  r.solver = "gmres";
  r.krylov_dimension = restart;
  const auto A0 = operator_of(p);
  const double s = p.scale;
  const Vec<Scalar>& u = p.border;
  typename LinearProblem<Scalar>::Op A = [&](const Vec<Scalar>& x, Vec<Scalar>& y) {
    A0(x, y);
    y += (s * u.dot(x)) * u;  // u is real-valued in every problem qheat builds (a trace)
  };
  double rel = 0.0;
  const Vec<Scalar> b = s * u;
  r.x = gmres<Scalar>(A, p.precondition, b, restart, o.gmres_max_iterations - done, o.gmres_tolerance, r.iterations, rel,
                      x0);
  r.iterations += done;
  // Then to the tolerance relative to the physical residual scale at the solution (LinearProblem::
  // residual_scale): the border is re-weighted with that scale, so that ||b|| no longer carries the
  // fastest rate of the problem, and GMRES continues from x until ||b - A x|| <= tol x scale.
  // (When the first pass ran out of iterations, the residual is only measured on that scale: the caller may then
  // take the sparse LU or go on from x.)
  if (p.residual_scale && r.x.allFinite()) {
    const double s2 = p.residual_scale(r.x);
    if (s2 > 0 && s2 < s) {
      typename LinearProblem<Scalar>::Op A2 = [&](const Vec<Scalar>& x, Vec<Scalar>& y) {
        A0(x, y);
        y += (s2 * u.dot(x)) * u;
      };
      const Vec<Scalar> b2 = s2 * u;
      if (r.iterations < o.gmres_max_iterations) {
        const Vec<Scalar> x1 = r.x;
        int more = 0;
        const double tol = std::max(0.01 * o.gmres_tolerance / u.norm(), 1e-16);
        r.x = gmres<Scalar>(A2, p.precondition, b2, restart, std::max(1, o.gmres_max_iterations - r.iterations), tol,
                            more, rel, &x1);
        r.iterations += more;
      } else {
        Vec<Scalar> y(p.dim);
        A2(r.x, y);
        rel = (b2 - y).norm() / b2.norm();
      }
      rel *= u.norm();  // relative to the scale s2 of one equation
    }
  }
  r.rcond = p.preconditioner_rcond;
  r.status = rel <= std::max(10 * o.gmres_tolerance, o.gmres_accept) ? SteadyStatus::converged : SteadyStatus::not_converged;
  classify(p, o, r);
  return r;
}

}  // namespace

template <class Scalar>
SolvePlan plan_steady(const LinearProblem<Scalar>& p, const SteadyStateOptions& o) {
  const auto n = static_cast<std::size_t>(p.dim);
  const std::size_t vec = n * sizeof(Scalar);
  const std::size_t base = p.operator_bytes + p.apply_workspace_bytes + (p.sparse ? sparse_bytes<Scalar>(*p.sparse) : 0) +
                           (p.dense ? n * n * sizeof(Scalar) : 0) + 4 * vec;
  const std::size_t limit = memory_budget(o);
  SolvePlan plan;
  // A preconditioned matrix-free problem is made explicit only up to 64 unknowns: beyond, the n applies
  // that build it cost more than GMRES (measured, Redfield XX chain N = 4, 256 unknowns: 4.5 ms dense
  // against 1.1 ms GMRES).
  const long densify =
      p.precondition && !p.uniqueness_unproven ? std::min<long>(o.dense_max_problem, 64) : o.dense_max_problem;
  if (solved_as_rate_equation(p) || p.dense || (!p.sparse && p.dim <= densify)) {
    plan.solver = solved_as_rate_equation(p) ? "gth" : "dense-lu";
    plan.bytes = base + 2 * n * n * sizeof(Scalar);
    return plan;
  }
  if (p.sparse && !(p.prefer_krylov && p.precondition)) {
    // Fill of the sparse LU: not known before the symbolic analysis; estimated as 20x the entries of A
    // (measured fill of the Davies/local superoperators this path is used for: 3x to 12x).
    const std::size_t lu = 20 * sparse_bytes<Scalar>(*p.sparse);
    if (!p.apply || base + lu <= limit) {
      plan.solver = "sparse-lu";
      plan.bytes = base + lu;
      return plan;
    }
  }
  plan.solver = "gmres";
  // Krylov basis (restart + 1 vectors) and the preconditioned vector; the restart shrinks to fit.
  int restart = o.gmres_restart;
  // Never below 10: the smallest Krylov space qheat uses (the refusal's advice names it).
  while (restart > 10 && base + static_cast<std::size_t>(restart + 2) * vec > limit) restart = std::max(10, restart * 3 / 4);
  plan.krylov_dimension = restart;
  plan.bytes = base + static_cast<std::size_t>(restart + 2) * vec;
  return plan;
}

template <class Scalar>
LinearSolution<Scalar> solve_steady(const LinearProblem<Scalar>& p, const SteadyStateOptions& o) {
  // Rates or energies past the double range (gamma = 1e300, an operator 1e150 sx) make no generator: bad input,
  // not a numerical status (it was "not-unique" with rcond 0).
  if ((p.dense && !p.dense->allFinite()) || (p.sparse && !p.sparse->coeffs().allFinite()) || std::isnan(p.scale) ||
      std::isinf(p.scale))
    throw ModelError("non-finite", "the generator has entries that are not finite: rates or energies overflow the "
                                   "double range (a coupling strength or gamma near 1e150 or beyond?)");
  const SolvePlan plan = plan_steady(p, o);
  check_memory(plan.bytes, "the steady-state solve (" + plan.solver + ", " + std::to_string(p.dim) + " unknowns" +
                               (plan.solver == "gmres" ? ", Krylov space of " + std::to_string(plan.krylov_dimension) : "") + ")",
               plan.solver == "gmres" ? "even the smallest Krylov space qheat uses (10 vectors) does not fit; a smaller model would"
                                      : "a matrix-free method would fit");
  if constexpr (std::is_same_v<Scalar, double>) {
    if (plan.solver == "gth") return rate_equation_solve(p, o);
  }
  if (plan.solver == "dense-lu") return dense_lu(p, o);
  if (plan.solver == "sparse-lu") return sparse_lu(p, o);
  const bool has_direct = p.prefer_krylov && (p.sparse || p.assemble);
  // With a direct fallback GMRES gets gmres_direct_after iterations first; then the sparse LU, when its factors fit,
  // else GMRES goes on from where it stopped.
  SteadyStateOptions first = o;
  if (has_direct) first.gmres_max_iterations = std::min(o.gmres_max_iterations, o.gmres_direct_after);
  // GMRES can stall where the preconditioner misses much of L (a Bloch-Redfield generator with eigenvalues of
  // positive real part: a flat bath at Bohr frequencies near zero); a problem small enough is then solved exactly.
  std::string sparse_obstacle;  // set when a sparse LU was the fallback but its factors would not fit
  auto dense_after = [&](LinearSolution<Scalar> r) {
    if (r.status != SteadyStatus::not_converged) return r;
    if (p.apply && !p.dense && !p.sparse) {
      r.note = dense_fallback_obstacle(p, o);
      if (r.note.empty()) {
        LinearSolution<Scalar> d = dense_lu(p, o);
        d.iterations = r.iterations;
        return d;
      }
    }
    if (!sparse_obstacle.empty()) r.note = r.note.empty() ? sparse_obstacle : sparse_obstacle + "; " + r.note;
    return r;
  };
  LinearSolution<Scalar> r = krylov(p, first, plan.krylov_dimension);
  if (r.status != SteadyStatus::not_converged) return r;
  if (!has_direct) return dense_after(std::move(r));
  LinearProblem<Scalar> direct = p;
  direct.prefer_krylov = false;
  if (!direct.sparse) direct.sparse = p.assemble();  // null when it would not fit
  if (direct.sparse && plan_steady(direct, o).solver == "sparse-lu") {
    LinearSolution<Scalar> d = sparse_lu(direct, o);
    if (d.x.size() > 0 || d.status != SteadyStatus::not_converged) {  // else its factors would not fit
      d.iterations = r.iterations;
      return d;
    }
  }
  sparse_obstacle = "no sparse LU after it: its factors would not fit in the memory limit of " + format_bytes(memory_budget(o));
  if (r.iterations >= o.gmres_max_iterations || r.x.size() == 0) return dense_after(std::move(r));
  const Vec<Scalar> x0 = r.x;
  return dense_after(krylov(p, o, plan.krylov_dimension, &x0, r.iterations));
}

template Eigen::Matrix<double, Eigen::Dynamic, 1> gmres<double>(const LinearProblem<double>::Op&,
                                                                const LinearProblem<double>::Op&,
                                                                const Eigen::VectorXd&, int, int, double, int&,
                                                                double&, const Eigen::VectorXd*);
template Eigen::Matrix<cplx, Eigen::Dynamic, 1> gmres<cplx>(const LinearProblem<cplx>::Op&,
                                                            const LinearProblem<cplx>::Op&, const Eigen::VectorXcd&,
                                                            int, int, double, int&, double&, const Eigen::VectorXcd*);
template SolvePlan plan_steady<double>(const LinearProblem<double>&, const SteadyStateOptions&);
template SolvePlan plan_steady<cplx>(const LinearProblem<cplx>&, const SteadyStateOptions&);
template LinearSolution<double> solve_steady<double>(const LinearProblem<double>&, const SteadyStateOptions&);
template LinearSolution<cplx> solve_steady<cplx>(const LinearProblem<cplx>&, const SteadyStateOptions&);

}  // namespace qheat
