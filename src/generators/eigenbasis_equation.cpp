// Bloch-Redfield (and any Generator built in the eigenbasis) at scale: a matrix-free apply on Hermitian
// states in real coordinates, with as few products as the algebra allows, and the secular
// preconditioner (docs/methods.md, "Steady state").
//
// For Hermitian rho the Redfield form is L(rho) = Y + Y^dag with
//   Y = M rho + sum_t X_t (Lambda_t rho)^dag,   M = -i (H + H_LS) - sum_baths K_h,
// and the apply builds Y^dag = rho M^dag + sum_t (Lambda_t rho) X_t^dag, with Lambda_t rho = (rho Lambda_t^dag)^dag:
// 1 + 2 (terms) products, each with the operator on the right. An operator that is mostly zero in the
// eigenbasis (a mode whose H is diagonal in the Fock basis) is multiplied as a sparse matrix
// (dense_times_sparse: columns of the state times elements of the operator).
#include <Eigen/LU>
#include <Eigen/SparseCore>
#include <algorithm>
#include <cmath>

#include "qheat/core/resources.hpp"
#include "qheat/core/sparse_products.hpp"
#include "qheat/generators/equation.hpp"
#include "qheat/operators/hermitian_blocks.hpp"

namespace qheat {
namespace {

// The left factor of the apply's products: a matrix, or the adjoint of one (T = U^dag), held as the matrix
// and, once a sparse product asks, packed (PackedRows; U^dag is packed straight from U).
class Operand {
public:
  Operand(const cmat& m, PackedRows& rows, cmat* adjoint = nullptr) : m_(m), rows_(rows), adjoint_(adjoint) {}
  const cmat& matrix() {
    if (adjoint_ == nullptr) return m_;
    if (!adjoint_made_) *adjoint_ = m_.adjoint();
    adjoint_made_ = true;
    return *adjoint_;
  }
  const PackedRows& packed() {
    if (!packed_) {
      if (adjoint_ == nullptr) rows_.pack(m_); else rows_.pack_adjoint(m_);
    }
    packed_ = true;
    return rows_;
  }

private:
  const cmat& m_;
  PackedRows& rows_;
  cmat* adjoint_;
  bool packed_ = false, adjoint_made_ = false;
};

// An operator A multiplied from the right as A^dag, y (+)= x A^dag, dense (BLAS) or sparse, whichever
// its fill makes cheaper.
class Factor {
public:
  // Elements below 1e-14 of the largest are round-off of the basis change (structural zeros; the
  // Generator builds Lambda on the same threshold, detail::element_threshold).
  explicit Factor(const cmat& m) {
    const double thr = m.size() > 0 ? 1e-14 * std::sqrt(m.cwiseAbs2().maxCoeff()) : 0.0;
    const long nnz = (m.array().abs() > thr).count();
    const double fill = dense_times_sparse_vectorized() ? kSparseFillVectorized : kSparseFill;
    sparse_ = m.rows() >= 32 && static_cast<double>(nnz) <= fill * static_cast<double>(m.size());
    if (sparse_) {
      S_ = m.adjoint().sparseView(1.0, thr);
      S_.makeCompressed();
    } else {
      D_ = m.adjoint();
    }
  }
  // y = x A^dag (assign) or y += x A^dag; x as a matrix and, for a sparse A, packed (x.packed() packs it the
  // first time a product needs it, so that the products with one state pack it once).
  void right_adjoint(Operand& x, cmat& y, bool add) const {
    if (sparse_) {
      dense_times_sparse(x.packed(), S_, y, add, thread_count());
    } else {
      if (add) y.noalias() += x.matrix() * D_; else y.noalias() = x.matrix() * D_;
    }
  }
  [[nodiscard]] std::size_t bytes() const {
    return sparse_ ? static_cast<std::size_t>(S_.nonZeros()) * (sizeof(cplx) + sizeof(long))
                   : static_cast<std::size_t>(D_.size()) * sizeof(cplx);
  }

private:
  // Up to these fills the sparse product beats BLAS's one-thread zgemm (bench/README.md, "Bloch-Redfield
  // apply", panels: d = 256, zgemm 3.4-3.6 ms; the AVX2 kernel 2.2-2.4 ms at 40 % fill, the portable loop
  // 2.5-3.3 ms at 20 %).
  static constexpr double kSparseFill = 0.2, kSparseFillVectorized = 0.4;
  bool sparse_ = false;
  // A^dag stored, not formed in the product: GCC 12's code for Eigen's small x * A.adjoint() stalls on
  // store-to-load forwarding (d = 4: 657 ns against 149 ns for x * D; clang 14: 66 and 60 ns; bench/README.md,
  // "Compiler").
  cmat D_;
  csc_matrix S_;  // A^dag
};

struct BathFactors {
  std::vector<std::pair<Factor, Factor>> terms;  // (Lambda, X) per dissipator term
  std::unique_ptr<Factor> K_h;
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
    for (const auto& b : gen_.baths()) {
      BathFactors f{{}, std::make_unique<Factor>(b.K_h)};
      for (const auto& t : b.terms) f.terms.emplace_back(Factor(t.Lambda), Factor(t.X));
      baths_.push_back(std::move(f));
    }
    for (const auto& b : baths_) n_terms_ += b.terms.size();
  }

  [[nodiscard]] Method method() const override { return gen_.method(); }
  [[nodiscard]] int dim() const override { return gen_.dim(); }

  [[nodiscard]] LinearProblem<double> steady_problem(const SteadyStateOptions& options) const override;
  [[nodiscard]] StateChecks checks(const rvec& x) const override { return block_state_checks(blocks_, x); }
  // With Y_a = sum_t X_t (Lambda_t rho)^dag - K_h,a rho, bath a's dissipator is D_a(rho) = Y_a + Y_a^dag,
  // so J_a = Tr[(H + H_LS) D_a] = 2 Re Tr[(H + H_LS) Y_a] and the bare current
  // Tr[H (D_a - i[H_LS,a, rho])] = sum_i E_i (2 Re (Y_a)_ii + 2 Im (H_LS,a rho)_ii): O(d^2) after the products.
  // Both need only Re Tr[(H + H_LS) Y_a] and Re (Y_a)_ii, which Y_a^dag (built like the apply's) has too.
  [[nodiscard]] EquationCurrents currents(const rvec& x) const override {
    const cmat rho = blocks_.to_matrix(x);
    const cmat& Htot = gen_.renormalized_hamiltonian();
    const rvec& E = gen_.basis().energies;
    EquationCurrents out;
    Workspace w;
    Operand r(rho, w.rho_packed);
    for (std::size_t a = 0; a < baths_.size(); ++a) {
      baths_[a].K_h->right_adjoint(r, w.Yd, false);
      w.Yd = -w.Yd;
      add_jumps(baths_[a], r, w);
      const cmat& Yd = w.Yd;
      out.currents.push_back(2.0 * (Htot.transpose().cwiseProduct(Yd)).sum().real());
      const cmat& HLS = gen_.baths()[a].H_LS;
      double bare = 0.0;
      for (long i = 0; i < E.size(); ++i)
        bare += E(i) * (2.0 * Yd(i, i).real() + 2.0 * (HLS.row(i).transpose().cwiseProduct(rho.col(i))).sum().imag());
      out.bare_currents.push_back(bare);
    }
    // Rotating-frame jumps (dme, ddme) are not built by this equation.
    return out;
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
    return "eigenbasis, matrix-free (" + std::to_string(1 + 2 * n_terms_) + " products per apply)";
  }

  // The apply's matrices: Y^dag, U, T = U^dag (only for a dense X), rho and T packed for sparse products.
  struct Workspace {
    cmat rho, Yd, U, T;
    PackedRows rho_packed, T_packed;
  };
  // Y^dag with L(rho) = Y + Y^dag for Hermitian rho (the file's comment): U = rho Lambda^dag = (Lambda rho)^dag,
  // T = U^dag, Y^dag += T X^dag. w.rho holds rho.
  void apply(Workspace& w) const {
    Operand rho(w.rho, w.rho_packed);
    M_->right_adjoint(rho, w.Yd, false);
    for (const auto& b : baths_) add_jumps(b, rho, w);
  }
  void add_jumps(const BathFactors& b, Operand& rho, Workspace& w) const {
    for (const auto& [Lambda, X] : b.terms) {
      Lambda.right_adjoint(rho, w.U, false);
      Operand T(w.U, w.T_packed, &w.T);
      X.right_adjoint(T, w.Yd, true);
    }
  }

private:
  Generator gen_;
  HermitianBlocks blocks_;
  std::unique_ptr<Factor> M_;  // -i(H + H_LS) - sum_a K_h,a
  std::vector<BathFactors> baths_;
  std::size_t n_terms_ = 0;
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
  p.apply_workspace_bytes = 6 * dd * sizeof(cplx);  // Workspace: rho, Yd, U, T, rho and T packed
  p.operator_bytes = dd * (sizeof(double) + sizeof(cplx) / 2);  // preconditioner: population LU, coherence inverses
  for (const auto& b : baths_)
    for (const auto& [l, x] : b.terms) p.operator_bytes += l.bytes() + x.bytes();
  p.operator_bytes += M_->bytes();
  auto w = std::make_shared<Workspace>();  // one problem is solved by one thread
  p.apply = [this, w](const rvec& x, rvec& y) {
    blocks_.unpack(x, 0, w->rho);
    apply(*w);
    y.resize(x.size());
    blocks_.pack_plus_adjoint(w->Yd, 0, y);
  };
  // Gross jump rate of the state: sum_a (decay rate of level a) p_a.
  rvec decay = rvec::Zero(d);
  for (const auto& b : gen_.baths()) decay += 2.0 * b.K_h.diagonal().real();
  p.residual_scale = [decay](const rvec& x) { return decay.dot(x.head(decay.size()).cwiseAbs()); };
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
