// One-period propagator of H(t) = H0 + sum_j A_j e^{i nu_j t} in the interaction picture of H0, with
// the oscillatory integrals of the fourth-order Magnus expansion done exactly (docs/methods.md,
// "Floquet-Markov at scale"), or in the model's own basis with sparse H0 and drive (commutator-free Magnus
// steps, Chebyshev exponentials). Works on operators only: the Floquet solver hands it H0's spectrum and the
// drive's terms in H0's eigenbasis, or the sparse matrices; and the extended-space (Sambe) modes.
#pragma once

#include <vector>

#include "qheat/core/sparse_products.hpp"
#include "qheat/core/types.hpp"

namespace qheat::floquet_detail {

struct OscillatingTerm {
  cmat A;           // in H0's eigenbasis
  double nu = 0.0;  // the term is A e^{i nu t}
};

// H(t) in H0's eigenbasis: diag(E) + sum_j A_j e^{i nu_j t}, Hermitian at every t (the terms come in
// adjoint pairs), period 2 pi / omega.
struct PeriodicHamiltonian {
  rvec E;
  std::vector<OscillatingTerm> terms;
  double omega = 0.0;
};

struct PeriodPropagation {
  cmat UT;                    // U(T, 0) in H0's eigenbasis
  std::vector<cmat> samples;  // U(j T / n, 0), j = 0 .. n - 1 (n = samples asked for)
  int steps = 0;
};

// Largest |E_m - E_n + nu_j| over the matrix elements the drive couples (it sets how many steps the
// propagator needs before its error falls as h^4).
double coupled_frequency_span(const PeriodicHamiltonian& H);

// `steps` Magnus steps over one period (a multiple of `n_samples`), storing U at n_samples equally spaced
// times. Each step: U <- e^{-i E h} exp(Omega1 + Omega2) U, Omega1/Omega2 the first two Magnus terms of the
// interaction-picture Hamiltonian over the step, integrated exactly.
PeriodPropagation propagate_period(const PeriodicHamiltonian& H, int steps, int n_samples);

// H(t) = H0 + sum_j A_j e^{i nu_j t} in the model's own basis, where operators built from local ones are
// sparse (terms in adjoint pairs, as above).
struct SparseOscillatingTerm {
  csc_matrix A;
  double nu = 0.0;
};
struct SparsePeriodicHamiltonian {
  csc_matrix H0;
  std::vector<SparseOscillatingTerm> terms;
  double omega = 0.0;
};

// The same propagation without H0's eigenbasis: `steps` fourth-order commutator-free Magnus steps, each two
// exponentials of sparse Hermitian matrices applied to the dense U by Chebyshev expansion; the work per step
// is sparse x dense products (nonzeros x d), no O(d^3) step. Same samples and U(T) as propagate_period.
PeriodPropagation propagate_period_sparse(const SparsePeriodicHamiltonian& H, int steps, int n_samples, int threads);

}  // namespace qheat::floquet_detail

namespace qheat::floquet_detail {

// Floquet modes from the extended-space (Sambe) Hamiltonian K_{pq} = H_{p-q} - p w delta_pq on harmonics
// |q| <= M (H(t) = sum_k H_k e^{-i k w t}), with the convention Phi(t) = sum_q c_q e^{-i q w t} and
// (H(t) - i d/dt) Phi = eps~ Phi. Of the d (2M + 1) eigenvectors, the d whose mean harmonic index lies in
// [-1/2, 1/2) are the Floquet modes in the unfolded gauge (one replica per mode).
struct SambeModes {
  rvec quasienergies;     // unfolded eps~_a, one per mode
  std::vector<cmat> C;    // C[q + M](n, a): component of mode a at harmonic q, H0's eigenbasis
  int M = 0;
  bool attempted = true;  // false: dense and above max_dense rows, nothing computed
  bool complete = false;  // exactly d modes selected
  double edge_weight = 0.0;  // largest weight of a selected mode on the outermost harmonics (|q| > M - kmax)
  double inner_weight = 0.0; // the same on the next shell inwards (edge / inner = decay per shell)
  double residual = 0.0;     // largest ||(K_untruncated - eps~) c|| of a selected mode (the rows |q| > M)
  double roundoff = 0.0;     // eigensolver's backward error scale, eps_mach * ||K||
  double refined_residual = 0.0;  // largest ||(K - eps~) c|| after the Rayleigh-quotient refinement
  double representation = 0.0;    // eps_mach |eps~|: the unfolded quasienergy's own rounding
};
// Band structure is used when the drive couples few levels; otherwise K is diagonalised densely, if it has at
// most max_dense rows (else attempted = false). Throws MemoryLimitError beyond the memory limit.
SambeModes sambe_floquet_modes(const PeriodicHamiltonian& H, int M, long max_dense);

}  // namespace qheat::floquet_detail
