// Rate equations dp/dt = W p: W(b, a) >= 0 is the rate of the jump a -> b (b != a) and the diagonal is minus
// the column sums. The Pauli equation of the global/Davies method, the population block that the Bloch-Redfield
// and local preconditioners invert, and the Floquet-Markov rate equation are such problems.
//
// They are solved by GTH state reduction (Grassmann, Taksar & Heyman, Oper. Res. 33, 1107 (1985)): Gaussian
// elimination of -W without pivoting in which each pivot is recomputed as the sum of the rates out of the state
// being eliminated. Every other operation adds terms of one sign, so each stationary probability comes out with a
// small relative error however widely the rates spread (O'Cinneide, Numer. Math. 65, 109 (1993)); partial
// pivoting on the bordered matrix lost that (a Kerr mode of 1001 levels, rates from 1e-1 to 1e-35: pivot ratio 0,
// reported not unique). Uniqueness is decided on the jump graph, not on pivots: the stationary state is unique
// exactly when the graph has one closed communicating class.
#pragma once

#include "qheat/core/types.hpp"

namespace qheat {

// Closed communicating classes of the jump graph a -> b for W(b, a) > 0 (the diagonal is ignored): strongly
// connected components with no jump to another component. Structural zeros of the rates must be exact zeros
// (the builders drop matrix elements below detail::element_threshold before forming rates).
int closed_classes(const rmat& W);

class RateEquation {
public:
  // What the factorisation serves: the stationary state only, or bordered solves as well (then it is done twice,
  // the second time eliminating the least populated states first; see solve_bordered).
  enum class Use { stationary, bordered_solves };
  // W's off-diagonal elements are the rates (negative ones, round-off, count as 0); its diagonal is not read.
  explicit RateEquation(const rmat& W, Use use = Use::bordered_solves);

  [[nodiscard]] long dim() const { return static_cast<long>(order_.size()); }
  [[nodiscard]] int closed_classes() const { return closed_; }
  [[nodiscard]] bool unique() const { return closed_ == 1; }
  // LinearProblem::preconditioner_rcond / LinearSolution::rcond of a rate equation: 1 when unique, else 0.
  [[nodiscard]] double uniqueness_indicator() const { return unique() ? 1.0 : 0.0; }
  // The stationary distribution, summing to 1 (with several closed classes: one on the class eliminated last).
  [[nodiscard]] const rvec& stationary() const { return pi_; }
  // z = (W + s u u^T)^{-1} r, u = (1, ..., 1): the bordered population block that GMRES's preconditioners invert,
  // by u^T z = u^T r / (s n), W z = r - u (u^T r) / n (consistent) and the kernel's direction. With several closed
  // classes every zero pivot but the last is replaced by s (a bounded preconditioner; the problem is not unique).
  void solve_bordered(const rvec& r, double s, rvec& z) const;
  void solve_bordered(const cvec& r, double s, cvec& z) const;

private:
  void factorise(const rmat& W);  // lu_ and pi_ for order_

  std::vector<long> order_;  // elimination order: order_[k] is the state eliminated k-th (the last in a closed class)
  rmat lu_;                  // -W permuted by order_, factorised: unit lower L below, U on and above the diagonal
  rvec pi_;
  int closed_ = 0;
};

}  // namespace qheat
