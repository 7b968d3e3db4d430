#include "qheat/steady/steady_state.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <Eigen/SparseLU>
#include <cmath>

namespace qheat {
namespace {

// Preconditioner for the bordered system: the secular part of L in the eigenbasis. Populations
// couple through the d x d rate block (solved exactly with the border); every coherence is divided
// by its own diagonal element -i(E_a - E_b) + R_ab,ab. Exact for Davies with a non-degenerate
// spectrum; for Bloch-Redfield the neglected non-secular couplings are O(rate / Bohr splitting).
class SecularPreconditioner {
public:
  SecularPreconditioner(const Generator& gen, double border) : d_(gen.dim()) {
    const long d = d_;
    const cmat& H = gen.renormalized_hamiltonian();
    cmat pop = cmat::Constant(d, d, border);
    diag_ = cmat::Zero(d, d);
    for (long a = 0; a < d; ++a)
      for (long b = 0; b < d; ++b) diag_(a, b) = cplx(0.0, -1.0) * (H(a, a) - H(b, b));
    for (const auto& bath : gen.baths()) {
      for (const auto& t : bath.terms) {
        for (long a = 0; a < d; ++a)
          for (long c = 0; c < d; ++c)
            pop(a, c) += t.Lambda(a, c) * std::conj(t.X(a, c)) + t.X(a, c) * std::conj(t.Lambda(a, c));
        const cvec lx = t.Lambda.diagonal(), xx = t.X.diagonal();
        for (long a = 0; a < d; ++a)
          for (long b = 0; b < d; ++b) diag_(a, b) += lx(a) * std::conj(xx(b)) + xx(a) * std::conj(lx(b));
      }
      for (long a = 0; a < d; ++a) {
        pop(a, a) -= 2.0 * bath.K_h(a, a);
        for (long b = 0; b < d; ++b) diag_(a, b) -= bath.K_h(a, a) + bath.K_h(b, b);
      }
    }
    pop_lu_.compute(pop);
    const rvec piv = pop_lu_.matrixLU().diagonal().cwiseAbs2().cwiseSqrt();
    pop_pivot_ratio_ = piv.maxCoeff() > 0 ? piv.minCoeff() / piv.maxCoeff() : 0.0;
  }
  // Smallest/largest pivot of the bordered population block: ~round-off when the secular rate
  // equations have more than one closed class (e.g. a subsystem no bath reaches), i.e. when the
  // steady state is not unique.
  [[nodiscard]] double population_pivot_ratio() const { return pop_pivot_ratio_; }
  // y = P^{-1} x on vec'd matrices.
  void solve(const cvec& x, cvec& y) const {
    const long d = d_;
    y.resize(x.size());
    cvec p(d);
    for (long a = 0; a < d; ++a) p(a) = x(a + d * a);
    const cvec q = pop_lu_.solve(p);
    for (long b = 0; b < d; ++b)
      for (long a = 0; a < d; ++a)
        y(a + d * b) = a == b ? q(a) : (std::abs(diag_(a, b)) > 0 ? x(a + d * b) / diag_(a, b) : x(a + d * b));
  }

private:
  long d_;
  cmat diag_;
  Eigen::PartialPivLU<cmat> pop_lu_;
  double pop_pivot_ratio_ = 1.0;
};

// Restarted GMRES with right preconditioning for A x = b, A given by a callable on vectors.
template <class Apply>
cvec gmres(const Apply& A, const SecularPreconditioner& P, const cvec& b, int restart, int max_iter,
           double tol, int& iterations, double& rel_residual) {
  const long n = b.size();
  cvec x = cvec::Zero(n);
  const double bnorm = b.norm();
  iterations = 0;
  rel_residual = 1.0;
  cvec tmp(n), z(n);
  while (iterations < max_iter) {
    cvec r = b - A(x);
    double beta = r.norm();
    rel_residual = beta / bnorm;
    if (rel_residual <= tol) break;
    cmat V(n, restart + 1);
    cmat Hh = cmat::Zero(restart + 1, restart);
    cvec g = cvec::Zero(restart + 1);
    std::vector<cplx> cs(static_cast<std::size_t>(restart)), sn(static_cast<std::size_t>(restart));
    V.col(0) = r / beta;
    g(0) = beta;
    int k = 0;
    for (; k < restart && iterations < max_iter; ++k, ++iterations) {
      P.solve(V.col(k), z);
      cvec w = A(z);
      for (int j = 0; j <= k; ++j) {  // modified Gram-Schmidt
        Hh(j, k) = V.col(j).dot(w);
        w -= Hh(j, k) * V.col(j);
      }
      Hh(k + 1, k) = w.norm();
      if (std::abs(Hh(k + 1, k)) > 0) V.col(k + 1) = w / Hh(k + 1, k);
      for (int j = 0; j < k; ++j) {  // apply previous Givens rotations
        const cplx h0 = Hh(j, k), h1 = Hh(j + 1, k);
        Hh(j, k) = std::conj(cs[static_cast<std::size_t>(j)]) * h0 + std::conj(sn[static_cast<std::size_t>(j)]) * h1;
        Hh(j + 1, k) = -sn[static_cast<std::size_t>(j)] * h0 + cs[static_cast<std::size_t>(j)] * h1;
      }
      const double nrm = std::hypot(std::abs(Hh(k, k)), std::abs(Hh(k + 1, k)));
      const cplx c = nrm > 0 ? Hh(k, k) / nrm : cplx(1.0), s = nrm > 0 ? Hh(k + 1, k) / nrm : cplx(0.0);
      cs[static_cast<std::size_t>(k)] = c;
      sn[static_cast<std::size_t>(k)] = s;
      Hh(k, k) = nrm;
      Hh(k + 1, k) = 0;
      g(k + 1) = -s * g(k);
      g(k) = std::conj(c) * g(k);
      rel_residual = std::abs(g(k + 1)) / bnorm;
      if (rel_residual <= tol) {
        ++k;
        ++iterations;
        break;
      }
    }
    // Solve the k x k upper-triangular system and update x.
    const cvec yk = Hh.topLeftCorner(k, k).triangularView<Eigen::Upper>().solve(g.head(k));
    tmp = V.leftCols(k) * yk;
    P.solve(tmp, z);
    x += z;
    if (rel_residual <= tol) break;
  }
  rel_residual = (b - A(x)).norm() / bnorm;
  return x;
}

}  // namespace

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
// Bordered system (L + s u u^T) x = s u with u = vec(1): since u^T L = 0 (trace preservation), its
// solution has Tr x = 1 and L x = 0, and the matrix is regular exactly when ker L is one-dimensional.
double border_scale(const spmat& L) {
  double s = 0.0;
  for (long k = 0; k < L.outerSize(); ++k)
    for (spmat::InnerIterator it(L, k); it; ++it)
      if (it.row() == it.col()) s = std::max(s, std::abs(it.value()));
  return s > 0.0 ? s : 1.0;
}

void finish(const Generator& gen, const cvec& x, SteadyStateResult& r) {
  const int d = gen.dim();
  cmat rho = Eigen::Map<const cmat>(x.data(), d, d);
  r.hermiticity_error = (rho - rho.adjoint()).cwiseAbs().maxCoeff();
  rho = 0.5 * (rho + rho.adjoint()).eval();
  r.trace = rho.trace().real();
  r.residual = gen.apply(rho).norm();
  Eigen::SelfAdjointEigenSolver<cmat> es(rho, Eigen::EigenvaluesOnly);
  r.min_eigenvalue = es.eigenvalues().minCoeff();
  r.rho = std::move(rho);
}
// Status of a direct solve from its condition estimate r.rcond (NaN when exactly singular).
void classify(const Generator& gen, const cvec& x, const SteadyStateOptions& options, double scale,
              SteadyStateResult& r) {
  const long d = gen.dim();
  if (x.allFinite()) {
    finish(gen, x, r);
  } else {
    r.rho = cmat::Zero(d, d);
  }
  if (!x.allFinite() || !(r.rcond >= options.singular_rcond)) {
    r.status = SteadyStatus::not_unique;
  } else if (r.rcond < options.ill_rcond || !(r.residual <= 1e-8 * scale) || std::abs(r.trace - 1.0) > 1e-8) {
    r.status = SteadyStatus::ill_conditioned;
  }
}

}  // namespace

SteadyStateResult steady_state(const Generator& gen, const SteadyStateOptions& options) {
  SteadyStateResult r;
  const long d = gen.dim();
  const long n = d * d;
  const bool matrix_free = gen.method() == Method::redfield && d > options.dense_max_dim;
  const bool dense = d <= options.dense_max_dim;
  const spmat L = matrix_free || dense ? spmat() : gen.liouvillian();
  cmat Ld = dense ? gen.dense_liouvillian() : cmat();
  const double s = matrix_free ? 2.0 * gen.largest_rate() + 1e-300
                   : dense     ? std::max(Ld.diagonal().cwiseAbs().maxCoeff(), 1e-300)
                               : border_scale(L);
  cvec u = cvec::Zero(n);
  for (long a = 0; a < d; ++a) u(a + d * a) = 1.0;
  const cvec rhs = s * u;

  if (gen.method() == Method::redfield && d > options.dense_max_dim) {
    // Matrix-free GMRES: the Redfield Liouvillian is dense in the eigenbasis (O(d^4) memory);
    // each apply costs O(d^3) (architecture note).
    const SecularPreconditioner P(gen, s);
    auto A = [&](const cvec& v) {
      const Eigen::Map<const cmat> m(v.data(), d, d);
      cmat out = gen.apply(m);
      const cplx tr = m.trace();
      for (long a = 0; a < d; ++a) out(a, a) += s * tr;
      return cvec(Eigen::Map<const cvec>(out.data(), n));
    };
    double rel = 0.0;
    const cvec x = gmres(A, P, rhs, options.gmres_restart, options.gmres_max_iterations,
                         options.gmres_tolerance, r.iterations, rel);
    r.solver = "gmres";
    r.rcond = P.population_pivot_ratio();
    if (x.allFinite()) finish(gen, x, r);
    if (!x.allFinite() || !(r.rcond >= options.singular_rcond)) {
      r.status = SteadyStatus::not_unique;
    } else if (!(rel <= 10 * options.gmres_tolerance)) {
      r.status = SteadyStatus::not_converged;
    }
    return r;
  }

  if (dense) {
    cmat& M = Ld;
    for (long a = 0; a < d; ++a)
      for (long b = 0; b < d; ++b) M(a + d * a, b + d * b) += s;
    Eigen::PartialPivLU<cmat> lu(M);
    r.solver = "dense-lu";
    // Condition indicator: ratio of the smallest to the largest pivot of the LU factors. A kernel of
    // L larger than one dimension makes the bordered matrix singular and a pivot fall to round-off;
    // Eigen's rcond() estimator costs as much as the factorisation itself at these sizes.
    const rvec piv = lu.matrixLU().diagonal().cwiseAbs2().cwiseSqrt();
    r.rcond = piv.maxCoeff() > 0 ? piv.minCoeff() / piv.maxCoeff() : 0.0;
    const cvec x = lu.solve(rhs);
    classify(gen, x, options, s, r);
    return r;
  }

  // Sparse LU: add the border to the population entries.
  std::vector<Eigen::Triplet<cplx, long>> trip;
  for (long a = 0; a < d; ++a)
    for (long b = 0; b < d; ++b) trip.emplace_back(a + d * a, b + d * b, s);
  spmat B(n, n);
  B.setFromTriplets(trip.begin(), trip.end());
  spmat M = L + B;
  M.makeCompressed();
  Eigen::SparseLU<spmat, Eigen::COLAMDOrdering<long>> lu;
  lu.compute(M);
  r.solver = "sparse-lu";
  if (lu.info() != Eigen::Success) {
    r.status = SteadyStatus::not_unique;
    r.rho = cmat::Zero(d, d);
    return r;
  }
  const cvec x = lu.solve(rhs);
  // Condition estimate from one extra solve with a fixed pseudo-random right-hand side:
  // ||M^-1|| >= ||M^-1 v|| / ||v||, so rcond <= ||v|| / (||M||_1 ||M^-1 v||).
  cvec v(n);
  for (long k = 0; k < n; ++k) v(k) = cplx(std::sin(1.0 + 0.7 * static_cast<double>(k)), std::cos(0.3 * static_cast<double>(k)));
  const cvec y = lu.solve(v);
  double norm1 = 0.0;
  for (long k = 0; k < M.outerSize(); ++k) {
    double col = 0.0;
    for (spmat::InnerIterator it(M, k); it; ++it) col += std::abs(it.value());
    norm1 = std::max(norm1, col);
  }
  r.rcond = y.allFinite() ? v.norm() / (norm1 * y.norm()) : 0.0;
  classify(gen, x, options, s, r);
  return r;
}

}  // namespace qheat
