// Steady state of the dense eigenbasis Generator: it builds the linear problem (explicit dense,
// explicit sparse or matrix-free with the secular preconditioner) and hands it to steady/.
#include <Eigen/Eigenvalues>
#include <cmath>

#include "qheat/generators/generator.hpp"
#include "qheat/steady/rate_equation.hpp"
#include "detail.hpp"

namespace qheat {
namespace {

// Preconditioner for the bordered system: the secular part of L in the eigenbasis. Populations
// couple through the d x d rate block (solved exactly with the border, steady/rate_equation.hpp); every
// coherence is divided by its own diagonal element -i(E_a - E_b) + R_ab,ab. Exact for Davies with a
// non-degenerate spectrum; for Bloch-Redfield the neglected non-secular couplings are O(rate / Bohr splitting).
class SecularPreconditioner {
public:
  SecularPreconditioner(const Generator& gen, double border)
      : d_(gen.dim()), border_(border), parts_(detail::secular_parts(gen)), rates_(parts_.rates) {
    const long d = d_;
    diag_ = cmat(d, d);
    for (long b = 0; b < d; ++b)
      for (long a = 0; a < d; ++a) diag_(a, b) = parts_.coherence(a, b);
  }
  // 0 when the secular rate equations have more than one closed class (e.g. a subsystem no bath
  // reaches), i.e. when the steady state is not unique; else 1.
  [[nodiscard]] double population_indicator() const { return rates_.uniqueness_indicator(); }
  // y = P^{-1} x on vec'd matrices.
  void solve(const cvec& x, cvec& y) const {
    const long d = d_;
    y.resize(x.size());
    cvec p(d), q;
    for (long a = 0; a < d; ++a) p(a) = x(a + d * a);
    rates_.solve_bordered(p, border_, q);
    for (long b = 0; b < d; ++b)
      for (long a = 0; a < d; ++a)
        y(a + d * b) = a == b ? q(a) : (std::abs(diag_(a, b)) > 0 ? x(a + d * b) / diag_(a, b) : x(a + d * b));
  }

private:
  long d_;
  double border_;
  detail::SecularParts parts_;
  RateEquation rates_;
  cmat diag_;
};

// Largest diagonal element of a sparse matrix (the border weight of the explicit sparse problem).
double border_scale(const spmat& L) {
  double s = 0.0;
  for (long k = 0; k < L.outerSize(); ++k)
    for (spmat::InnerIterator it(L, k); it; ++it)
      if (it.row() == it.col()) s = std::max(s, std::abs(it.value()));
  return s > 0.0 ? s : 1.0;
}

}  // namespace

SteadyStateResult steady_state(const Generator& gen, const SteadyStateOptions& options) {
  const long d = gen.dim();
  LinearProblem<cplx> p;
  p.dim = d * d;
  p.border = cvec::Zero(p.dim);
  for (long a = 0; a < d; ++a) p.border(a + d * a) = 1.0;
  std::optional<SecularPreconditioner> P;
  if (d <= options.dense_max_dim) {
    p.dense = std::make_shared<const cmat>(gen.dense_liouvillian());
    p.scale = std::max(p.dense->diagonal().cwiseAbs().maxCoeff(), 1e-300);
  } else if (gen.method() == Method::redfield) {
    // Matrix-free: the Redfield Liouvillian is dense in the eigenbasis (O(d^4) memory); each apply
    // costs O(d^3) (architecture note).
    p.scale = 2.0 * gen.largest_rate() + 1e-300;
    p.apply = [&gen, d](const cvec& v, cvec& y) {
      const cmat out = gen.apply(Eigen::Map<const cmat>(v.data(), d, d));
      y = Eigen::Map<const cvec>(out.data(), d * d);
    };
    P.emplace(gen, p.scale);
    p.precondition = [&P](const cvec& x, cvec& y) { P->solve(x, y); };
    p.preconditioner_rcond = P->population_indicator();
    p.operator_bytes = 4 * static_cast<std::size_t>(d * d) * sizeof(cplx) * (gen.baths().size() + 1);
  } else {
    p.sparse = std::make_shared<const spmat>(gen.liouvillian());
    p.scale = border_scale(*p.sparse);
  }
  SteadyStateOptions o = options;
  o.dense_max_problem = 0;  // this engine's choice of form is made above
  const LinearSolution<cplx> sol = solve_steady(p, o);

  SteadyStateResult r;
  r.status = sol.status;
  r.solver = sol.solver;
  r.rcond = sol.rcond;
  r.iterations = sol.iterations;
  r.note = sol.note;
  if (sol.x.size() == 0) {
    r.rho = cmat::Zero(d, d);
    return r;
  }
  cmat rho = Eigen::Map<const cmat>(sol.x.data(), d, d);
  r.hermiticity_error = (rho - rho.adjoint()).cwiseAbs().maxCoeff();
  rho = 0.5 * (rho + rho.adjoint()).eval();
  r.trace = rho.trace().real();
  r.residual = gen.apply(rho).norm();
  Eigen::SelfAdjointEigenSolver<cmat> es(rho, Eigen::EigenvaluesOnly);
  r.min_eigenvalue = es.eigenvalues().minCoeff();
  r.rho = std::move(rho);
  return r;
}

}  // namespace qheat
