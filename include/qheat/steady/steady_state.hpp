// Steady state of a generator: L rho = 0, Tr rho = 1, with a status instead of a throw.
#pragma once

#include <string>

#include "qheat/generators/generator.hpp"

namespace qheat {

enum class SteadyStatus { converged, not_unique, ill_conditioned, not_converged };
std::string status_name(SteadyStatus s);

struct SteadyStateOptions {
  int dense_max_dim = 8;           // Hilbert dimension up to which the dense LU is used (measured:
                                   // at d = 16 GMRES/sparse LU are already faster than dense LU)
  double singular_rcond = 1e-14;   // reciprocal condition below which the kernel is not 1-dimensional
  double ill_rcond = 1e-11;        // below this the solution is reported ill-conditioned
  int gmres_restart = 80;          // Krylov dimension per restart (matrix-free Redfield, d > dense_max_dim)
  int gmres_max_iterations = 2000;
  double gmres_tolerance = 1e-12;  // relative residual of the bordered system
};

struct SteadyStateResult {
  cmat rho;                       // eigenbasis of H
  SteadyStatus status = SteadyStatus::converged;
  std::string solver;             // "dense-lu" or "sparse-lu"
  double residual = 0.0;          // ||L rho||_F
  double rcond = 0.0;             // condition indicator: LU pivot ratio (dense), estimate from one
                                  // extra solve (sparse), population-block pivot ratio (GMRES)
  double trace = 0.0;             // Re Tr rho
  double hermiticity_error = 0.0; // max |rho - rho^dag|
  double min_eigenvalue = 0.0;    // smallest eigenvalue of (rho + rho^dag)/2
  int iterations = 0;             // 0 for direct solvers
};

SteadyStateResult steady_state(const Generator& gen, const SteadyStateOptions& options = {});

}  // namespace qheat
