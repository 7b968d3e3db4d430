// Steady states of linear problems: find x with A x = 0 and u.x = 1, given A as an operator
// (explicit dense, explicit sparse or matrix-free with a preconditioner). Every master equation -- the
// static and dressed generators, the Floquet rate equations, later the HEOM hierarchy -- hands steady/
// such a problem; steady/ knows nothing of the methods (docs/architecture.md).
#pragma once

#include <Eigen/SparseCore>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "qheat/core/types.hpp"

namespace qheat {

enum class SteadyStatus { converged, not_unique, ill_conditioned, not_converged };
std::string status_name(SteadyStatus s);

// The problem A x = 0, u^T x = 1 over Scalar = double (Hermitian states in real coordinates, rate
// equations) or std::complex<double> (general operators).
template <class Scalar>
struct LinearProblem {
  using Vec = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
  using Mat = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using Sparse = Eigen::SparseMatrix<Scalar, Eigen::ColMajor, long>;
  using Op = std::function<void(const Vec&, Vec&)>;

  long dim = 0;
  // u with u^T A = 0 (trace preservation in the problem's coordinates). The solver solves the bordered
  // system (A + s u u^T) x = s u, whose solution has A x = 0 and u^T x = 1 and which is regular exactly
  // when the kernel of A is one-dimensional.
  Vec border;
  // s: the magnitude of A (largest diagonal element or largest rate); border weight and residual scale.
  double scale = 1.0;
  // The operator in the forms the problem has (at least one). With several, the solver picks by size,
  // structure and memory: dense LU for small problems, sparse LU where its fill fits, else GMRES.
  // (Held by shared pointer: a problem is cheap to copy, and the matrices are never copied.)
  std::shared_ptr<const Mat> dense;
  std::shared_ptr<const Sparse> sparse;
  Op apply;         // y = A x (matrix-free)
  // Builds the explicit sparse form of a matrix-free problem on demand: only for the sparse-LU fallback
  // when GMRES fails (optional; returns null when it would not fit in memory).
  std::function<std::shared_ptr<const Sparse>()> assemble;
  Op precondition;  // y ~ (A + s u u^T)^{-1} x (right preconditioner for GMRES); optional
  // The size of a physically negligible residual at x, relative to which GMRES's tolerance is finally
  // checked (e.g. the gross jump rate sum_a decay_a p_a): the bordered system's own scale s|u| is set by
  // the fastest rate anywhere -- also of levels that carry no population -- and would make the tolerance
  // depend on the truncation. Optional.
  std::function<double(const Vec&)> residual_scale;
  // Non-uniqueness indicator the preconditioner can give (e.g. the pivot ratio of an exactly solved
  // population block: round-off when the rate equations have several closed classes); 1 when none.
  double preconditioner_rcond = 1.0;
  // That indicator cannot see every second steady state: stationary coherences between degenerate levels are
  // invisible to the rates. Such a problem is solved densely up to dense_max_problem unknowns (not only up to 64),
  // where the singular values decide.
  bool uniqueness_unproven = false;
  // Bytes the problem's operator data occupy (explicit matrices excluded) and what one apply needs
  // besides; part of the memory estimate.
  std::size_t operator_bytes = 0;
  std::size_t apply_workspace_bytes = 0;
  // The preconditioner is good enough that GMRES beats the sparse LU (measured for the problem's kind):
  // solve by GMRES first, and by the sparse LU (when `sparse` is given and fits) only if GMRES fails.
  bool prefer_krylov = false;
  // A is a transition-rate matrix (off-diagonal elements >= 0, columns summing to 0) with u = (1, ..., 1): the
  // dense form is solved by GTH state reduction and uniqueness read off the jump graph (steady/rate_equation.hpp).
  bool rate_equation = false;
};

struct SteadyStateOptions {
  // Hilbert-space dimension up to which a generator hands an explicit dense problem (measured: at
  // d = 16 GMRES/sparse LU are already faster than dense LU). Used by the problem builders.
  int dense_max_dim = 8;
  // Problem dimension up to which a matrix-free problem without an explicit form is made explicit
  // (by applying it to unit vectors) and solved by dense LU; at most 64 when it has a preconditioner.
  long dense_max_problem = 256;
  double singular_rcond = 1e-14;   // reciprocal condition below which the kernel is not 1-dimensional
  double ill_rcond = 1e-11;        // below this the solution is reported ill-conditioned
  int gmres_restart = 80;          // largest Krylov dimension per restart (reduced to fit the memory)
  int gmres_max_iterations = 2000;
  // A problem with a sparse form besides its matrix-free one (LinearProblem::prefer_krylov) goes to the sparse LU
  // when GMRES has not converged after this many iterations and the LU's factors fit.
  int gmres_direct_after = 240;
  double gmres_tolerance = 1e-12;  // relative residual of the bordered system
  // A final relative residual up to max(10 x gmres_tolerance, gmres_accept) counts as converged (a problem
  // that asks for a tolerance near round-off accepts a little more rather than fall back to a direct solve).
  double gmres_accept = 0.0;
  // Solution components below this x max|x| are set to zero (round-off of the solve, not state).
  double flush_below = 1e-15;
  // Bytes the solve may use; 0: the memory available on this machine (core/resources.hpp).
  std::size_t max_memory = 0;
};

template <class Scalar>
struct LinearSolution {
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> x;  // empty when no finite solution was found
  SteadyStatus status = SteadyStatus::converged;
  std::string solver;           // "dense-lu", "sparse-lu", "gmres", "gth" (rate equations)
  double rcond = 0.0;           // condition indicator (pivot ratio, one-solve estimate, preconditioner's)
  double residual = 0.0;        // ||A x||_2
  double normalisation = 0.0;   // u^T x (1 up to round-off)
  int iterations = 0;           // GMRES iterations (0 for direct solvers)
  int krylov_dimension = 0;     // GMRES restart length used
  std::string note;             // not-converged: why no direct solver took over (size or memory), else empty
};

// How a problem will be solved and what that needs, before anything is allocated.
struct SolvePlan {
  std::string solver;
  std::size_t bytes = 0;       // peak estimate: operator data, factors or Krylov basis, vectors
  int krylov_dimension = 0;    // GMRES restart length that fits (0 for direct solvers)
};
template <class Scalar>
SolvePlan plan_steady(const LinearProblem<Scalar>& problem, const SteadyStateOptions& options);

// Solves the problem; numerical failures are statuses. Throws MemoryLimitError (core/resources.hpp)
// when even the smallest plan exceeds the memory limit.
template <class Scalar>
LinearSolution<Scalar> solve_steady(const LinearProblem<Scalar>& problem, const SteadyStateOptions& options = {});

// Restarted GMRES with right preconditioning for A x = b (A and P as callables); shared by the steady-state
// solve and by other linear problems (e.g. the response's L0^+ solves). Returns x; sets the iteration
// count and the final relative residual ||b - A x|| / ||b||; starts from x0 when given.
template <class Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, 1> gmres(
    const typename LinearProblem<Scalar>::Op& A, const typename LinearProblem<Scalar>::Op& P,
    const Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& b, int restart, int max_iterations, double tolerance,
    int& iterations, double& relative_residual, const Eigen::Matrix<Scalar, Eigen::Dynamic, 1>* x0 = nullptr);

extern template SolvePlan plan_steady<double>(const LinearProblem<double>&, const SteadyStateOptions&);
extern template SolvePlan plan_steady<cplx>(const LinearProblem<cplx>&, const SteadyStateOptions&);
extern template LinearSolution<double> solve_steady<double>(const LinearProblem<double>&, const SteadyStateOptions&);
extern template LinearSolution<cplx> solve_steady<cplx>(const LinearProblem<cplx>&, const SteadyStateOptions&);

}  // namespace qheat
