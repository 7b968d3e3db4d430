// The mean-force Gibbs state rho_MF = Tr_B exp(-beta H_tot) / Z to second order in the system-bath
// coupling (docs/methods.md, "Mean-force Gibbs state (Zhang eq. 20)").
//
// Covered: any number of baths at one common temperature T > 0 (T = 0 only for order 0), hermitian and
// exchange couplings, every spectral density with a finite Lamb shift (not `flat`). Contributions of
// different baths add (their operators are independent and have zero mean). Not covered: an exchange
// coupling whose operator has a zero-frequency component where S_+/S_- diverge separately
// (MethodError "mean-force-zero-frequency"; its Lamb shift is infinite too, docs/lamb-shift.md section 6).
#pragma once

#include <cstddef>

#include "qheat/core/types.hpp"
#include "qheat/generators/generator.hpp"
#include "qheat/model/model.hpp"

namespace qheat {

struct MeanForceOptions {
  int order = 2;  // 0: Gibbs state of H_S; 2: plus the second-order correction
  // Energies closer than tolerance * max(1, max|E|) are one level (the derivative formula is used);
  // the same convention as GeneratorOptions::degeneracy_tolerance.
  double degeneracy_tolerance = 1e-9;
};

struct MeanForceState {
  double temperature = 0.0;
  int order = 2;
  Eigenbasis basis;        // eigenbasis of H_S (energies ascending)
  cmat gibbs_eigen;        // tau = exp(-H_S/T)/Z, eigenbasis (diagonal)
  cmat correction_eigen;   // second-order correction rho^(2): traceless, Hermitian, linear in kappa; 0 for order 0
  cmat rho;                // tau + rho^(2), site basis (the layout of `qheat ness --state`)
  [[nodiscard]] cmat rho_eigen() const { return gibbs_eigen + correction_eigen; }
};

// Evaluations of S and S' are spread over thread_count() threads; Ctrl-C (interrupt.hpp) stops them.
// Throws MethodError("mean-force-temperature") when the baths' temperatures differ (relative 1e-12) or
// T = 0 with order 2, MethodError("mean-force-order") for an order other than 0 or 2, and the Lamb-shift
// errors of include/qheat/baths/spectral.hpp (e.g. "lamb-shift-infinite" for a flat density).
MeanForceState mean_force_gibbs(const Model& model, const MeanForceOptions& options = {});

// The peak memory of mean_force_gibbs (bytes, bounded by operators in the eigenbasis with no zero element);
// mean_force_gibbs refuses with MemoryLimitError when it exceeds memory_limit().
std::size_t mean_force_bytes(const Model& model, const MeanForceOptions& options = {});

// S'(w) = dS/dw for the Lamb-shift parts. part: 0 = S (total), +1 = S_+ (emission), -1 = S_- (absorption).
// lamb_shift_slope (one quadrature per part) where it applies and S has no closed form; otherwise Ridders'
// extrapolated central differences (relative accuracy ~1e-10 for the closed forms).
double lamb_shift_derivative(const SpectralDensity& J, double T, double w, int part = 0);

}  // namespace qheat
