// Bloch-Redfield (and any Generator built in the eigenbasis) at scale: a matrix-free apply on Hermitian
// states in real coordinates, with as few products as the algebra allows, and the secular
// preconditioner (docs/methods.md, "Steady state").
//
// For Hermitian rho the Redfield form is L(rho) = Y + Y^dag with
//   Y = M rho + sum_t (Lambda_t rho) X_t^dag,   M = -i (H + H_LS) - sum_baths K_h,
// so one apply costs 1 + 2 (terms) products; an operator that is mostly zero in the eigenbasis (a mode
// whose H is diagonal in the Fock basis) is multiplied as a sparse matrix.
#include <Eigen/LU>
#include <Eigen/SparseCore>
#include <algorithm>
#include <cmath>

#include "qheat/core/linalg.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/generators/equation.hpp"
#include "qheat/operators/hermitian_blocks.hpp"
#include "qheat/thermo/thermo.hpp"

namespace qheat {
namespace {

using csparse = Eigen::SparseMatrix<cplx, Eigen::ColMajor, long>;

// An operator multiplied as dense (BLAS) or sparse, whichever its fill makes cheaper.
class Factor {
public:
  explicit Factor(const cmat& m) {
    const double thr = 1e-300;
    const long nnz = (m.array().abs() > thr).count();
    sparse_ = m.rows() >= 32 && static_cast<double>(nnz) <= 0.1 * static_cast<double>(m.size());
    if (sparse_) {
      S_ = m.sparseView();
      S_.makeCompressed();
      Sadj_ = S_.adjoint();
      Sadj_.makeCompressed();
    } else {
      D_ = m;
    }
  }
  // y = A x (assign) or y += A x.
  void left(const cmat& x, cmat& y, bool add) const {
    if (sparse_) {
      if (add) y += S_ * x; else y = S_ * x;
    } else {
      if (add) y.noalias() += D_ * x; else y.noalias() = D_ * x;
    }
  }
  // y += x A^dag.
  void right_adjoint_add(const cmat& x, cmat& y) const {
    if (sparse_) {
      y += x * Sadj_;
    } else {
      y.noalias() += x * D_.adjoint();
    }
  }
  [[nodiscard]] std::size_t bytes() const {
    return sparse_ ? 2 * static_cast<std::size_t>(S_.nonZeros()) * (sizeof(cplx) + sizeof(long))
                   : static_cast<std::size_t>(D_.size()) * sizeof(cplx);
  }

private:
  bool sparse_ = false;
  cmat D_;
  csparse S_, Sadj_;
};

class EigenbasisEquation final : public MasterEquation {
public:
  EigenbasisEquation(const Model& model, const GeneratorOptions& options) : gen_(model, options) {
    lamb_shift_ = gen_.lamb_shift();
    names_ = gen_.bath_names();
    temps_ = gen_.temperatures();
    const long d = gen_.dim();
    blocks_ = HermitianBlocks::full(static_cast<int>(d));
    cmat M = cplx(0.0, -1.0) * gen_.renormalized_hamiltonian();
    for (const auto& b : gen_.baths()) M -= b.K_h;
    M_ = std::make_unique<Factor>(M);
    for (const auto& b : gen_.baths())
      for (const auto& t : b.terms) terms_.push_back({Factor(t.Lambda), Factor(t.X)});
  }

  [[nodiscard]] Method method() const override { return gen_.method(); }
  [[nodiscard]] int dim() const override { return gen_.dim(); }

  [[nodiscard]] LinearProblem<double> steady_problem(const SteadyStateOptions& options) const override;
  [[nodiscard]] StateChecks checks(const rvec& x) const override {
    StateChecks c;
    const cmat rho = blocks_.to_matrix(x);
    c.trace = rho.trace().real();
    c.min_eigenvalue = linalg::hermitian_eigenvalues(rho).minCoeff();
    return c;
  }
  [[nodiscard]] EquationCurrents currents(const rvec& x) const override {
    const cmat rho = blocks_.to_matrix(x);
    return {heat_currents(gen_, rho), bare_heat_currents(gen_, rho)};
  }
  [[nodiscard]] cmat site_state(const rvec& x) const override { return gen_.basis().from_eigen(blocks_.to_matrix(x)); }
  [[nodiscard]] double largest_rate() const override { return gen_.largest_rate(); }
  [[nodiscard]] double energy_span() const override {
    const rvec& E = gen_.basis().energies;
    return E.size() > 0 ? E.maxCoeff() - E.minCoeff() : 0.0;
  }
  [[nodiscard]] double smallest_splitting() const override {
    return gen_.method() == Method::redfield ? std::numeric_limits<double>::infinity() : gen_.smallest_bohr_splitting();
  }
  [[nodiscard]] std::string structure() const override {
    return "eigenbasis, matrix-free (" + std::to_string(1 + 2 * terms_.size()) + " products per apply)";
  }

  // L(rho) for Hermitian rho: Y + Y^dag.
  void apply(const cmat& rho, cmat& Y, cmat& T) const {
    M_->left(rho, Y, false);
    for (const auto& [Lambda, X] : terms_) {
      Lambda.left(rho, T, false);
      X.right_adjoint_add(T, Y);
    }
  }

private:
  Generator gen_;
  HermitianBlocks blocks_;
  std::unique_ptr<Factor> M_;
  std::vector<std::pair<Factor, Factor>> terms_;  // (Lambda, X) per dissipator term
};

// The secular part of L in real coordinates: populations through the exact d x d rate block with the
// border, every coherence divided by its own diagonal element -i(E_a - E_b) + R_ab,ab (exact for Davies
// with a non-degenerate spectrum; for Bloch-Redfield the neglected non-secular couplings are
// O(rate / Bohr splitting)).
class SecularPreconditioner {
public:
  SecularPreconditioner(const Generator& gen, double border) : d_(gen.dim()) {
    const long d = d_;
    const cmat& H = gen.renormalized_hamiltonian();
    rmat pop = rmat::Constant(d, d, border);
    cmat diag(d, d);
    for (long b = 0; b < d; ++b)
      for (long a = 0; a < d; ++a) diag(a, b) = cplx(0.0, -1.0) * (H(a, a) - H(b, b));
    for (const auto& bath : gen.baths()) {
      for (const auto& t : bath.terms) {
        pop += 2.0 * (t.Lambda.cwiseProduct(t.X.conjugate())).real();
        const cvec lx = t.Lambda.diagonal(), xx = t.X.diagonal();
        diag += lx * xx.adjoint() + xx * lx.adjoint();
      }
      const rvec k = bath.K_h.diagonal().real();
      pop.diagonal() -= 2.0 * k;
      diag -= k.replicate(1, d).cast<cplx>() + k.transpose().replicate(d, 1).cast<cplx>();
    }
    lu_.compute(pop);
    const rvec piv = lu_.matrixLU().diagonal().cwiseAbs();
    pivot_ratio_ = piv.maxCoeff() > 0 ? piv.minCoeff() / piv.maxCoeff() : 0.0;
    // Inverse diagonal elements of the coherences a < b, in the order of the coordinates.
    inv_.resize(d * (d - 1) / 2);
    long k = 0;
    for (long b = 1; b < d; ++b)
      for (long a = 0; a < b; ++a, ++k) inv_(k) = std::abs(diag(a, b)) > 0 ? 1.0 / diag(a, b) : cplx(1.0, 0.0);
  }
  [[nodiscard]] double pivot_ratio() const { return pivot_ratio_; }
  void solve(const rvec& x, rvec& y) const {
    const long d = d_;
    y.resize(x.size());
    y.head(d) = lu_.solve(x.head(d));
    for (long k = 0; k < inv_.size(); ++k) {
      const cplx c = cplx(x(d + 2 * k), x(d + 2 * k + 1)) * inv_(k);
      y(d + 2 * k) = c.real();
      y(d + 2 * k + 1) = c.imag();
    }
  }

private:
  long d_;
  Eigen::PartialPivLU<rmat> lu_;
  cvec inv_;
  double pivot_ratio_ = 1.0;
};

LinearProblem<double> EigenbasisEquation::steady_problem(const SteadyStateOptions& options) const {
  const long d = dim();
  LinearProblem<double> p;
  p.dim = blocks_.dim();
  p.border = blocks_.trace_functional();
  p.scale = 2.0 * gen_.largest_rate() + 1e-300;
  const auto dd = static_cast<std::size_t>(d) * static_cast<std::size_t>(d);
  p.apply_workspace_bytes = 3 * dd * sizeof(cplx);
  p.operator_bytes = dd * (sizeof(double) + sizeof(cplx) / 2);  // preconditioner: population LU, coherence inverses
  for (const auto& [a, b] : terms_) p.operator_bytes += a.bytes() + b.bytes();
  p.operator_bytes += M_->bytes();
  struct Work {
    cmat rho, Y, T;
  };
  auto w = std::make_shared<Work>();  // one problem is solved by one thread
  p.apply = [this, w](const rvec& x, rvec& y) {
    blocks_.unpack(x, 0, w->rho);
    apply(w->rho, w->Y, w->T);
    w->Y += w->Y.adjoint().eval();
    y.resize(x.size());
    blocks_.pack(w->Y, 0, y);
  };
  if (d > options.dense_max_dim) {
    check_memory(plan_steady(p, options).bytes, "the " + method_name(method()) + " steady state (" + std::to_string(d) +
                                                    " levels, matrix-free)",
                 "--method global needs only the populations");
    auto P = std::make_shared<SecularPreconditioner>(gen_, p.scale);
    p.preconditioner_rcond = P->pivot_ratio();
    p.precondition = [P](const rvec& x, rvec& y) { P->solve(x, y); };
  }
  return p;
}

}  // namespace

std::unique_ptr<MasterEquation> make_eigenbasis_equation(const Model& model, const GeneratorOptions& options) {
  return std::make_unique<EigenbasisEquation>(model, options);
}

}  // namespace qheat
