// Floquet-Markov master equation (FME) for a periodically driven system with several baths, each at
// its own temperature (docs/methods.md, "Floquet-Markov").
#pragma once

#include <string>
#include <vector>

#include "qheat/core/types.hpp"
#include "qheat/model/model.hpp"
#include "qheat/steady/steady_state.hpp"

namespace qheat {

// How the Floquet modes are found (docs/methods.md, "Floquet-Markov at scale"): the extended-space (Sambe)
// eigenproblem on a few harmonics (default), or the interaction-picture one-period propagator.
enum class FloquetSolver { sambe, propagator };
// The basis the propagator steps in: H0's eigenbasis (an eigen-decomposition per step), the model's own basis
// (sparse products per step, when H0 and the drive are sparse there), or whichever its cost estimate favours.
enum class PropagatorBasis { automatic, eigenbasis, model };

struct FloquetOptions {
  FloquetSolver solver = FloquetSolver::sambe;  // sambe falls back to the propagator if it cannot select
  int sambe_harmonics = 0;         // 0: |q| <= M grown from 4 until the modes' edge weight <= 1e-20
  int steps_per_period = 0;        // 0: doubled until the quasienergy error estimate <= quasienergy_tolerance
  int max_harmonic = 0;            // 0: chosen automatically until the Fourier weight left out < 1e-12
  // Quasienergy differences equal within this times max(1, max|folded quasienergy|) (at least 10x their error
  // estimate and the round-off of eps - k w_d).
  double degeneracy_tolerance = 1e-9;
  double quasienergy_tolerance = 1e-10;  // target of the quasienergy error estimate (relative to w_d)
  PropagatorBasis propagator_basis = PropagatorBasis::automatic;  // model: only where H0 and the drive are sparse
};

// Two Floquet states whose quasienergies (mod w_d) are closer than ten times the larger of their decay rates.
struct QuasienergyPair {
  int a = 0, b = 0;  // indices into FloquetResult::quasienergies
  double splitting = 0.0;
};

struct FloquetResult {
  rvec quasienergies;               // in [-w_d/2, w_d/2)
  rvec populations;                 // steady-state occupations of the Floquet modes (Pauli equation)
  std::vector<double> currents;     // per bath, from the bath into the system (conventions.md)
  double drive_power = 0.0;         // from the drive into the system = -sum(currents)
  SteadyStatus status = SteadyStatus::converged;
  int harmonics_used = 0;           // |k| <= harmonics_used kept in the Fourier sums
  std::string solver;               // "sambe" or "propagator"
  std::string solver_fallback;      // why the propagator ran when the extended space was asked for ("" otherwise)
  int sambe_harmonics = 0;          // M of the extended space (sambe)
  int steps_per_period = 0;         // propagator steps (propagator)
  std::string propagator_basis;     // "eigenbasis" or "model" (propagator), "" (sambe)
  double smallest_quasienergy_splitting = 0.0;  // between distinct quasienergy differences (mod w_d)
  double largest_rate = 0.0;
  // Error estimates (absolute, energy units). Sambe: the residual of the modes in the untruncated extended
  // space plus the eigensolver's round-off; propagator: Richardson, max_a |eps_a(N) - eps_a(N/2)| / 15.
  // mode_error: the modes' amplitudes left out (Sambe, sqrt of the edge weight) or the propagator's largest
  // element error over the Fourier samples.
  double quasienergy_error = 0.0;
  double propagator_error = 0.0;  // the mode error described above
  std::vector<QuasienergyPair> near_degenerate;  // closest pairs first, at most 10
  // Jumps (a != b, resolved weight) whose Delta lies above the degeneracy tolerance but within what the
  // quasienergies resolve (their error estimate, the round-off of eps~ - k w_d): counted as zero-frequency
  // jumps, i.e. dropped from the currents; the largest such |Delta| (0 when none).
  int unresolved_jumps = 0;
  double largest_unresolved = 0.0;
  double resolution = 0.0;  // the larger of the two limits for k = 0
};

// "sambe" or "propagator"; MethodError("floquet-solver") otherwise.
FloquetSolver parse_floquet_solver(const std::string& text);

// Throws MethodError when the model has no drive.
FloquetResult floquet_steady_state(const Model& model, const FloquetOptions& options = {});

}  // namespace qheat
