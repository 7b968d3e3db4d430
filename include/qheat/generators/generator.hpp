// Master-equation generators built in the eigenbasis of H: local Lindblad, global Davies (secular
// GKLS) and Bloch-Redfield. Every generator is L(rho) = -i[H + H_LS, rho] + sum_a D_a(rho), with
// D_a the dissipator of bath a *without* its Lamb-shift commutator (docs/methods.md).
#pragma once

#include <Eigen/SparseCore>
#include <map>
#include <string>
#include <vector>

#include "qheat/core/types.hpp"
#include "qheat/model/model.hpp"
#include "qheat/steady/steady_state.hpp"

namespace qheat {

// local, global, redfield: static models. dme, ddme: driven models in the rotating frame (Kong eqs. 4-9).
// floquet: driven models, Floquet-Markov (include/qheat/generators/floquet.hpp; not a Generator).
enum class Method { local, global, redfield, dme, ddme, floquet, heom };

std::string method_name(Method m);
Method parse_method(const std::string& name);  // throws MethodError("unknown-method")

enum class LambShiftMode { automatic, on, off };
// "on", "off", "auto" (the --lamb-shift argument); throws MethodError("lamb-shift-mode") otherwise.
LambShiftMode parse_lamb_shift_mode(const std::string& text);

// Which part of a bath's correlation function a coupling channel uses (conventions.md, "Baths").
enum class ChannelPart { full, emission, absorption };
// A coupling channel in the site basis: hermitian coupling S -> (S, full); exchange A -> (A, emission)
// and (A^dag, absorption).
struct CouplingChannel {
  cmat op;
  ChannelPart part;
};
std::vector<CouplingChannel> coupling_channels(const Bath& bath);
// Gamma(w) = kappa_part(w)/2 + i S_part(w) of a channel (Lamb shift S only when `with_shift`).
// `divergence_cancels`: the caller knows that separately infinite S_+(0), S_-(0) cancel (Davies).
cplx channel_gamma(const SpectralDensity& J, double T, ChannelPart part, bool with_shift, double w,
                   bool divergence_cancels = false);
// Whether a bath's Lamb shift is used under `mode` (automatic: finite and not switched off in the
// file). Throws MethodError("lamb-shift-infinite") for `on` with a flat spectral density.
bool lamb_shift_enabled(const Bath& bath, LambShiftMode mode);

// H = V diag(E) V^dag with E ascending.
// The transforms use the structure they find: real vectors (a real symmetric H) make them real
// products, a sparse site-basis operator is applied as sparse (O(nnz d) + one dense product).
struct Eigenbasis {
  rvec energies;
  cmat vectors;
  bool real = false;  // vectors have zero imaginary parts
  // When H conserves the excitation number Q modulo charge_modulus (0: exactly; operators/charge.hpp), each
  // eigenvector lies in one class of Q and charge[k] is the class of level k; otherwise charge is empty.
  std::vector<int> charge;
  int charge_modulus = 1;
  // With charge: the basis states (site_sectors) and the levels (level_sectors) of each class, classes in
  // increasing order; vectors is zero outside the blocks (site_sectors[s], level_sectors[s]), and to_eigen and
  // from_eigen multiply those blocks only (the blocks of the operator that are not exactly zero).
  std::vector<std::vector<int>> site_sectors, level_sectors;
  [[nodiscard]] cmat to_eigen(const cmat& op) const;
  [[nodiscard]] cmat from_eigen(const cmat& op) const;
};
Eigenbasis diagonalize(const cmat& hermitian);
// The same, block by block over the classes of a charge H conserves (q: the charge of each basis state),
// so that every eigenvector carries one class; a plain diagonalize() when H conserves none.
Eigenbasis diagonalize(const cmat& hermitian, const std::vector<int>& q);

// Work reused between generators built one after another on one thread (sweeps): the last
// eigen-decomposition, taken again only when the Hamiltonian to diagonalise differs, and the bath
// correlation values Gamma(w) per (spectral density, temperature, channel, Lamb shift on/off, w).
// Reuse gives bitwise the same generator as building without the cache.
struct GeneratorCache {
  cmat hamiltonian;
  std::vector<int> charges;  // of the basis states (diagonalize(H, q))
  Eigenbasis basis;
  std::map<std::vector<double>, cplx> gamma;
  std::size_t eigen_reused = 0, gamma_reused = 0;
};

struct GeneratorOptions {
  Method method = Method::global;
  LambShiftMode lamb_shift = LambShiftMode::automatic;
  // Bohr frequencies closer than this (absolute, in the model's energy unit, scaled by
  // max(1, max|E|)) are one frequency for the secular approximation of the Davies generator.
  double degeneracy_tolerance = 1e-9;
  GeneratorCache* cache = nullptr;  // optional; not owned
};

using spmat = Eigen::SparseMatrix<cplx, Eigen::ColMajor, long>;

// One term of a dissipator in "Redfield form" (architecture note):
//   D(rho) = Lambda rho X^dag + X rho Lambda^dag - {K_h, rho},   K = X^dag Lambda, K_h = (K + K^dag)/2,
// and its Lamb-shift Hamiltonian H_LS = (K - K^dag)/(2i).  All matrices in the eigenbasis of H.
struct DissipatorTerm {
  cmat X;
  cmat Lambda;
  // Energy the bath receives per jump beyond the frame Hamiltonian's: +w_d for an emission jump and
  // -w_d for an absorption jump in the rotating frame of the dressed methods (Kong eq. 9); 0 otherwise.
  double frame_energy = 0.0;
};

// The dissipator of one bath (without its Lamb-shift commutator) and its Lamb-shift Hamiltonian.
struct BathDissipator {
  std::vector<DissipatorTerm> terms;  // used by apply(); Davies stores one term per Bohr frequency
  cmat K_h;                           // sum of the terms' K_h
  cmat H_LS;                          // this bath's Lamb-shift Hamiltonian (zero when off)
  // Davies keeps one sparse term per Bohr frequency (up to d^2 of them): for it the explicit sparse
  // superoperator is cached and apply() uses it instead of the O(d^3)-per-term products.
  spmat cached;
  bool use_cached = false;
  [[nodiscard]] cmat apply(const cmat& rho) const;
  [[nodiscard]] spmat liouvillian() const;  // d^2 x d^2, column-stacked vec
  void cache_liouvillian();
};

class Generator {
public:
  Generator(const Model& model, const GeneratorOptions& options);

  [[nodiscard]] Method method() const noexcept { return method_; }
  [[nodiscard]] bool lamb_shift() const noexcept { return lamb_shift_; }
  [[nodiscard]] int dim() const noexcept { return static_cast<int>(basis_.energies.size()); }
  [[nodiscard]] const Eigenbasis& basis() const noexcept { return basis_; }
  [[nodiscard]] const std::vector<BathDissipator>& baths() const noexcept { return baths_; }
  [[nodiscard]] const std::vector<std::string>& bath_names() const noexcept { return names_; }
  [[nodiscard]] const std::vector<double>& temperatures() const noexcept { return temps_; }
  // H + H_LS in the eigenbasis (for dme/ddme: the static rotating-frame Hamiltonian, Kong eq. 4).
  [[nodiscard]] const cmat& renormalized_hamiltonian() const noexcept { return H_total_; }
  // True for the driven methods (dme, ddme): the drive delivers power = -sum of bath currents.
  [[nodiscard]] bool driven() const noexcept { return method_ == Method::dme || method_ == Method::ddme; }

  // Matrix-free L(rho), rho in the eigenbasis: O(d^3) per term.
  [[nodiscard]] cmat apply(const cmat& rho) const;
  // Explicit Liouvillian, eigenbasis, column-stacked vec (vec(rho)[a + d b] = rho_ab).
  [[nodiscard]] spmat liouvillian() const;
  [[nodiscard]] cmat dense_liouvillian() const;

  // Smallest splitting between distinct Bohr frequencies that carry a transition (infinity for Bloch-Redfield,
  // which makes no secular approximation), and the largest rate: the secular approximation needs splitting >> rate.
  [[nodiscard]] double smallest_bohr_splitting() const noexcept { return min_splitting_; }
  [[nodiscard]] double largest_rate() const noexcept;
  // Frees every bath's terms, K_h and H_LS and the renormalised H, for an equation that has taken what it
  // needs from them (EigenbasisEquation: its sector blocks; at N = 12 these are ~2 GB). Afterwards baths() holds
  // empty dissipators, renormalized_hamiltonian() is empty, and largest_rate() keeps its value.
  void release_operators();

private:
  Method method_;
  bool lamb_shift_ = false;
  Eigenbasis basis_;
  std::vector<BathDissipator> baths_;
  std::vector<std::string> names_;
  std::vector<double> temps_;
  cmat H_total_;
  double min_splitting_ = 0.0;
  bool released_ = false;
  double largest_rate_ = 0.0;  // after release_operators()
};

// Steady state of a Generator (the dense eigenbasis engine): rho in the eigenbasis of H and the
// checks of the solution. The linear problem it hands steady/: the explicit dense Liouvillian for
// d <= dense_max_dim, matrix-free Bloch-Redfield with the secular preconditioner beyond, the explicit
// sparse Liouvillian otherwise.
struct SteadyStateResult {
  cmat rho;                       // eigenbasis of H
  SteadyStatus status = SteadyStatus::converged;
  std::string solver;             // "dense-lu", "sparse-lu" or "gmres"
  double residual = 0.0;          // ||L rho||_F
  double rcond = 0.0;             // condition indicator: LU pivot ratio (dense), estimate from one
                                  // extra solve (sparse), population-block pivot ratio (GMRES)
  double trace = 0.0;             // Re Tr rho
  double hermiticity_error = 0.0; // max |rho - rho^dag|
  double min_eigenvalue = 0.0;    // smallest eigenvalue of (rho + rho^dag)/2
  int iterations = 0;             // 0 for direct solvers
  std::string note;               // LinearSolution::note
};

SteadyStateResult steady_state(const Generator& gen, const SteadyStateOptions& options = {});

}  // namespace qheat
