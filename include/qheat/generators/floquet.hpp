// Floquet-Markov master equation (FME) for a periodically driven system with several baths, each at
// its own temperature (docs/methods.md, "Floquet-Markov").
#pragma once

#include <string>
#include <vector>

#include "qheat/core/types.hpp"
#include "qheat/model/model.hpp"
#include "qheat/steady/steady_state.hpp"

namespace qheat {

struct FloquetOptions {
  int steps_per_period = 0;        // 0: chosen automatically from ||H|| / w_d (integrator accuracy ~1e-12)
  int max_harmonic = 0;            // 0: chosen automatically until the Fourier weight left out < 1e-12
  double degeneracy_tolerance = 1e-9;  // quasienergy differences equal within this (relative to w_d)
};

struct FloquetResult {
  rvec quasienergies;               // in [-w_d/2, w_d/2)
  rvec populations;                 // steady-state occupations of the Floquet modes (Pauli equation)
  std::vector<double> currents;     // per bath, from the bath into the system (conventions.md)
  double drive_power = 0.0;         // from the drive into the system = -sum(currents)
  SteadyStatus status = SteadyStatus::converged;
  int harmonics_used = 0;           // |k| <= harmonics_used kept in the Fourier sums
  int steps_per_period = 0;
  double smallest_quasienergy_splitting = 0.0;  // between distinct quasienergy differences (mod w_d)
  double largest_rate = 0.0;
};

// Throws MethodError when the model has no drive.
FloquetResult floquet_steady_state(const Model& model, const FloquetOptions& options = {});

}  // namespace qheat
