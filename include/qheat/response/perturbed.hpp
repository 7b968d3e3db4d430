// Steady states of the perturbed generators whose delta-derivatives the linear responses are
// (response.hpp): used to validate them by finite differences, and for the regime classification.
#pragma once

#include <vector>

#include "qheat/response/response.hpp"

namespace qheat {

// Dense site-basis superoperators of dimension d^2: the response engine's limit on d.
inline constexpr long kMaxResponseDimension = 48;

enum class PerturbedKind {
  // Davies generator with H0 + delta V in the commutator and jump operators from the exact spectral
  // projectors of H0 + delta V, at the unperturbed Bohr frequencies (Levy Sec. III A; eigenvector regime).
  fixed_frequencies,
  // H0 + delta V in the commutator, the unperturbed dissipators D0 kept (local limit, Levy eq. 36).
  local
};

struct PerturbedState {
  cmat rho;                        // site basis
  std::vector<double> observables;  // Re Tr[A rho]
  std::vector<double> currents;     // Tr[(H0 + delta V + H_LS) D_a rho] per bath
};

PerturbedState perturbed_steady_state(const Model& model, const cmat& V, double delta, PerturbedKind kind,
                                      const std::vector<cmat>& observables, const ResponseOptions& options = {});

// First-order Bohr-frequency shifts of V (degenerate perturbation theory inside degenerate levels of H0)
// over the transitions a bath drives; name "eigenvectors" when they all vanish. relaxation_rate is
// left 0 (linear_response fills it from the spectrum of L0).
ResponseRegime classify_perturbation(const Model& model, const cmat& V, double degeneracy_tolerance = 1e-9);

}  // namespace qheat

namespace qheat {

// d/d delta at delta = 0 of the Bloch-Redfield steady state of H0 + delta V (central differences with
// one Richardson step): the weak-coupling reference for eigenvalue-changing perturbations, valid on both
// sides of nu ~ 1/tau because Bloch-Redfield makes no secular approximation. Observables Re Tr[A rho],
// currents per bath.
struct RedfieldDerivative {
  double step = 0.0;
  std::vector<double> observables, currents;
};
RedfieldDerivative redfield_derivative(const Model& model, const cmat& V, const std::vector<cmat>& observables,
                                       LambShiftMode lamb_shift = LambShiftMode::automatic);

}  // namespace qheat
