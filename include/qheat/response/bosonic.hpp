// Linear response of bosonic modes without Fock truncation (docs/response-bosonic.md).
//
// A model whose sites are all bosonic modes, whose H0 is quadratic (number-conserving) plus linear in
// the ladder operators and whose baths couple through operators linear in them has an exactly
// solvable global (Davies) master equation: independent displaced normal modes, a Gaussian steady
// state, and an adjoint generator L0^dag that maps normal-ordered polynomials of degree <= n into
// themselves. Levy, Rabani and Limmer's eigenvector response (Sec. III A) to a polynomial V is then a
// finite linear-algebra problem on polynomials, valid at any temperature (no n-bar << nmax condition).
//
// Definitions are those of qheat::linear_response (response.hpp): H0 -> H0 + delta V, per unit delta;
// L1 = -i[V, .] + sum_a D1^a, with D1 from the first-order change of the jump operators at fixed Bohr
// frequencies; with U = e^{delta W}, [W, H0] = V - V_diag, the perturbed jump operator of frequency w is
// U (U^dag S U)(w) U^dag, so S^(1)(w) = [W, S(w)] - ([W, S])(w), (X)(w) the frequency-w component.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "qheat/response/response.hpp"

namespace qheat {
namespace bosonic {

// Normal-ordered polynomial in the ladder operators of `modes` bosonic modes,
//   P = sum_key c_key prod_k (a_k^dag)^{p_k} prod_k a_k^{q_k},   key = (p_1..p_N, q_1..q_N).
// Coefficients are complex; products are normal ordered exactly (Wick: a^q a^dag^r =
// sum_j C(q,j) C(r,j) j! a^dag^{r-j} a^{q-j}).
class Polynomial {
public:
  using Key = std::vector<int>;

  Polynomial() = default;
  explicit Polynomial(int modes) : modes_(modes) {}
  static Polynomial constant(int modes, cplx c);
  static Polynomial annihilator(int modes, int k);  // a_k
  static Polynomial creator(int modes, int k);      // a_k^dag
  static Polynomial monomial(int modes, const Key& key, cplx c = 1.0);

  [[nodiscard]] int modes() const noexcept { return modes_; }
  [[nodiscard]] int degree() const;  // total degree; -1 for the zero polynomial
  [[nodiscard]] bool empty() const noexcept { return terms_.empty(); }
  [[nodiscard]] const std::map<Key, cplx>& terms() const noexcept { return terms_; }
  [[nodiscard]] cplx coefficient(const Key& key) const;
  [[nodiscard]] cplx constant_term() const;
  [[nodiscard]] double max_abs() const;  // largest |coefficient|, 0 for the zero polynomial
  void add(const Key& key, cplx c);       // adds c to the key's coefficient (exact zeros are removed)

  [[nodiscard]] Polynomial adjoint() const;
  // Drops coefficients with |c| <= tolerance.
  [[nodiscard]] Polynomial pruned(double tolerance) const;

  Polynomial& operator+=(const Polynomial& o);
  Polynomial& operator-=(const Polynomial& o);
  Polynomial& operator*=(cplx s);
  friend Polynomial operator+(Polynomial a, const Polynomial& b) { return a += b; }
  friend Polynomial operator-(Polynomial a, const Polynomial& b) { return a -= b; }
  friend Polynomial operator*(Polynomial a, cplx s) { return a *= s; }
  friend Polynomial operator*(cplx s, Polynomial a) { return a *= s; }
  friend Polynomial operator*(const Polynomial& a, const Polynomial& b);  // normal-ordered product

private:
  int modes_ = 0;
  std::map<Key, cplx> terms_;
};

Polynomial commutator(const Polynomial& a, const Polynomial& b);

// The polynomial with a_k -> images[k] and a_k^dag -> images[k]^dag (images: polynomials in another set
// of modes). Used for the linear change to displaced normal modes.
Polynomial substitute(const Polynomial& p, const std::vector<Polynomial>& images);

// Matrix elements <m|P|n> of the untruncated operator between the Fock states of `space` (every site a
// boson; site order = mode order). Not the product of truncated ladder matrices: P projected.
cmat to_matrix(const Polynomial& p, const Space& space);

// Recovers the normal-ordered polynomial of degree <= max_degree of an operator given as a truncated
// Fock matrix (products of truncated ladder matrices of degree <= max_degree are exact between Fock
// states with m_k + n_k + max_degree <= 2 nmax_k + 1; the coefficients are fitted there and the fit is
// verified on that whole region to 1e-10 of its largest entry). Throws MethodError
//   "bosonic-space"       a site is not a boson,
//   "bosonic-truncation"  some nmax_k < 2 max_degree (too few exact matrix elements to determine and
//                         verify the polynomial),
//   "bosonic-not-polynomial" the matrix is not such a polynomial on the exact region.
Polynomial extract_normal_ordered(const cmat& op, const Space& space, int max_degree);

// The same with the smallest degree 0 <= D <= min_k floor(nmax_k / 2) that verifies; throws
// "bosonic-not-polynomial" (naming `what` and the largest degree tried) when none does.
Polynomial extract_polynomial(const cmat& op, const Space& space, const std::string& what = "operator");

// One Davies term r(w) (S rho S^dag - 1/2 {S^dag S, rho}) of a bath channel, in normal modes.
struct Jump {
  int bath = 0;        // index of the bath
  double w = 0.0;      // Bohr frequency (energy given to the bath): +omega_k, -omega_k or 0
  double rate = 0.0;   // kappa~(w) (hermitian), kappa_+(w) (exchange A), kappa_-(w) (exchange A^dag)
  Polynomial S;        // S(w): u c_k, v c_k^dag, or a constant (w = 0)
  Polynomial channel;  // the whole channel operator X (S or A or A^dag) in normal modes
};

struct BathInput {
  std::string name;
  CouplingKind coupling = CouplingKind::hermitian;
  Polynomial op;  // in the site modes a_i, degree <= 1
  SpectralDensity spectral;
  double temperature = 0.0;
};

// The global (Davies) generator of H0 = sum_ij h_ij a_i^dag a_j + sum_i (f_i a_i + h.c.) + const with
// baths linear in the ladder operators. Normal modes: h = U diag(omega) U^dag (omega ascending),
// d_k = sum_i conj(U_ik) a_i, displaced c_k = d_k - beta_k with beta_k = -conj(phi_k)/omega_k,
// phi_k = sum_i f_i U_ik, so that H0 = sum_k omega_k c_k^dag c_k + const and a_i = sum_k U_ik c_k + alpha_i.
// Throws MethodError: "bosonic-not-quadratic" (degree > 2), "bosonic-anomalous" (a_i a_j or
// a_i^dag a_j^dag terms: Bogoliubov modes are not implemented), "bosonic-zero-frequency" (omega_k = 0 within
// tolerance: no Bohr frequency, free drift), "bosonic-unstable" (omega_k < 0: H0 unbounded below),
// "bosonic-degenerate-modes" (omega_k = omega_l: the Davies jump operators mix the degenerate modes and
// the steady state is no longer a product of thermal modes; not implemented), "bosonic-bath-operator"
// (a coupling of degree > 1), "bosonic-no-steady-state" (a normal mode no bath damps).
class QuadraticDavies {
public:
  QuadraticDavies(const Polynomial& H0, const std::vector<BathInput>& baths, double degeneracy_tolerance = 1e-9);

  [[nodiscard]] int modes() const noexcept { return modes_; }
  [[nodiscard]] const rvec& frequencies() const noexcept { return omega_; }  // omega_k, ascending
  [[nodiscard]] const cmat& mode_matrix() const noexcept { return U_; }      // a_i = sum_k U_ik (c_k + beta_k)
  [[nodiscard]] const cvec& displacement() const noexcept { return alpha_; } // alpha_i = <a_i>
  [[nodiscard]] const rvec& damping() const noexcept { return gamma_; }      // gamma_k: <c_k> ~ e^{-gamma_k t/2}
  [[nodiscard]] const rvec& occupations() const noexcept { return N_; }      // N_k = <c_k^dag c_k>
  [[nodiscard]] const std::vector<Jump>& jumps() const noexcept { return jumps_; }
  [[nodiscard]] const Polynomial& hamiltonian() const noexcept { return H_; }  // sum omega_k c_k^dag c_k + const
  [[nodiscard]] double frequency_tolerance() const noexcept { return tol_; }
  [[nodiscard]] int bath_count() const noexcept { return nbaths_; }

  // A polynomial in the site modes a_i rewritten in the normal modes c_k.
  [[nodiscard]] Polynomial to_normal(const Polynomial& site) const;
  // Energy released by a monomial of the normal modes: [H0, m] = -nu m, nu = sum_k omega_k (q_k - p_k).
  [[nodiscard]] double frequency(const Polynomial::Key& key) const;
  // The frequency-w component of a normal-mode polynomial (monomials with |nu - w| <= tolerance).
  [[nodiscard]] Polynomial component(const Polynomial& p, double w) const;

  // Heisenberg-picture generators on normal-mode polynomials: L0^dag X = i[H0, X] + sum D^dag X, and the
  // dissipator of one bath alone (bath < 0: all baths).
  [[nodiscard]] Polynomial adjoint_generator(const Polynomial& X) const;
  [[nodiscard]] Polynomial dissipator_adjoint(const Polynomial& X, int bath = -1) const;
  // Steady-state expectation (Gaussian: independent thermal c_k, <c^dag^p c^q> = delta_pq p! N^p).
  [[nodiscard]] cplx expectation(const Polynomial& X) const;

private:
  int modes_ = 0, nbaths_ = 0;
  rvec omega_, gamma_, N_;
  cmat U_;
  cvec beta_, alpha_;
  double tol_ = 0.0;
  std::vector<Polynomial> images_;
  std::vector<Jump> jumps_;
  Polynomial H_;
};

// First-order eigenvector change for a normal-mode polynomial V: V_diag = its zero-frequency part minus
// the constant (first-order level shifts; nonzero -> eigenvalue regime, W and S1 not computed),
// W = sum_m v_m / nu_m m over the other monomials ([W, H0] = V - V_diag - const), and per jump
// S^(1)(w) = [W, S(w)] - ([W, X])(w).
struct FirstOrder {
  Polynomial V, V_diag, W;
  std::vector<Polynomial> S1;  // per QuadraticDavies::jumps()
  bool eigenvectors = true;
};
FirstOrder first_order(const QuadraticDavies& sys, const Polynomial& V_normal);

// D1^dag X = sum_jumps r(w) (S0^dag X S1 + S1^dag X S0 - 1/2 {S1^dag S0 + S0^dag S1, X}) (eq. 17), for one
// bath or all (bath < 0). Zero in the eigenvalue regime.
Polynomial dissipator1_adjoint(const QuadraticDavies& sys, const FirstOrder& fo, const Polynomial& X, int bath = -1);

// The polynomials of degree <= n in the normal modes as a vector space (monomial basis), and the matrix
// of L0^dag on it (L0^dag does not raise the degree).
class PolynomialSpace {
public:
  PolynomialSpace(int modes, int max_degree);
  [[nodiscard]] long size() const noexcept { return static_cast<long>(keys_.size()); }
  [[nodiscard]] const std::vector<Polynomial::Key>& keys() const noexcept { return keys_; }
  [[nodiscard]] cvec to_vector(const Polynomial& p) const;  // throws if p has a monomial outside
  [[nodiscard]] Polynomial from_vector(const cvec& v) const;
  [[nodiscard]] cmat matrix(const QuadraticDavies& sys) const;

private:
  int modes_;
  std::vector<Polynomial::Key> keys_;
  std::map<Polynomial::Key, long> index_;
};

}  // namespace bosonic

// Levy's eigenvector response for a model whose sites are all bosons (see above): H0, the bath
// operators, V and the observables are recovered from the model's truncated matrices
// (bosonic::extract_polynomial; the file's nmax only has to hold 2 x the degree of each operator) and
// everything is computed without truncation at the model's temperatures. Same ResponseResult as
// linear_response; regime "eigenvectors" (or "eigenvalues" when V has a non-constant zero-frequency
// part: then only the Kubo part, D1 = 0, as linear_response does); relaxation_rate = min_k gamma_k / 2.
// Throws MethodError: the bosonic-* rules above, "response-driven", "response-perturbation" (V not
// Hermitian), "response-times", "bosonic-lamb-shift" (a bath with the Lamb shift on: it would renormalise
// the normal-mode frequencies; not implemented).
ResponseResult bosonic_linear_response(const Model& model, const cmat& V, const std::vector<cmat>& observables,
                                       const ResponseOptions& options = {});

}  // namespace qheat
