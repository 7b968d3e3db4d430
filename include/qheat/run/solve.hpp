// One model, one method: the steady state and its thermodynamics, for every method (the static and
// dressed generators, the Floquet-Markov solver and the HEOM hierarchy). `qheat ness`, `sweep` and `check` all call this.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "qheat/generators/equation.hpp"
#include "qheat/generators/floquet.hpp"
#include "qheat/generators/generator.hpp"
#include "qheat/hierarchy/heom.hpp"
#include "qheat/model/model.hpp"
#include "qheat/steady/steady_state.hpp"
#include "qheat/thermo/thermo.hpp"

namespace qheat {

struct Solution {
  std::string method;                // method name (conventions.md)
  bool lamb_shift = false;
  std::vector<std::string> bath_names;
  std::vector<double> temperatures;
  Thermodynamics thermo;             // currents, drive power, entropy production, diagnostics
  SteadyStatus status = SteadyStatus::converged;
  std::string solver;                // dense-lu, sparse-lu, gmres, floquet-pauli
  std::string structure;             // what the solve exploited (Pauli rates, sectors, matrix-free ...)
  double residual = 0.0, rcond = 0.0, trace = 1.0, hermiticity_error = 0.0, min_eigenvalue = 0.0;
  int iterations = 0;
  int dimension = 0;
  int harmonics = 0, steps_per_period = 0;  // Floquet only
  std::optional<FloquetResult> floquet;     // Floquet only: solver, error estimates, near-degenerate pairs
  std::optional<HeomResult> heom;           // HEOM only: hierarchy, expansions, convergence
  // Steady state in the site basis of the model (the lab frame; for dme/ddme the rotating frame's
  // stationary state). Empty for the Floquet-Markov method, whose state is periodic, and when not asked for
  // (SolveOptions::state).
  std::optional<cmat> rho;
};

// Reused between calls on one thread (sweeps): the last eigen-decomposition (taken again only when
// the Hamiltonian changed) and Lamb-shift values per (spectral density, temperature, frequency).
struct SolveWorkspace {
  GeneratorCache generator;
};

struct SolveOptions {
  LambShiftMode lamb_shift = LambShiftMode::automatic;
  bool state = true;            // fill Solution::rho (costs two dense products at large d)
  SteadyStateOptions steady;    // solver choices and the memory limit
  FloquetOptions floquet;       // how the floquet method finds its modes (--floquet-solver)
  HeomOptions heom;             // hierarchy of the heom method (--heom-depth, --heom-terms, --heom-tol, ...)
};

Solution solve(const Model& model, Method method, const SolveOptions& options, SolveWorkspace* workspace = nullptr);
Solution solve(const Model& model, Method method, LambShiftMode lamb_shift = LambShiftMode::automatic,
               SolveWorkspace* workspace = nullptr);

}  // namespace qheat
