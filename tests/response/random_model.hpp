// The random models of the linear-response tests (test_response.cpp, test_response_sectors.cpp).
#pragma once

#include <random>

#include "../support.hpp"

namespace qheat::test {

// A qubit and a three-level system with random Hamiltonian (optionally with degenerate levels), two baths
// (one hermitian, Drude; one exchange with a random operator, ohmic), random temperatures; Lamb shift on or
// off. (Ohmic densities: the random couplings have zero-frequency components, whose flat-density rate would
// be infinite.)
inline Model random_response_model(std::mt19937& rng, bool lamb_shift, bool degenerate) {
  std::uniform_real_distribution<double> U(0.0, 1.0);
  Space sp({make_qubit("q"), make_level("l", 3)});
  cmat H = random_hermitian(6, rng, 0.6);
  H += 2.0 * op(sp, "q", local_ops::sigma_z());
  if (degenerate) {
    // Levels {-2, -2, -0.7, 0.4, 0.4, 1.9} in a random basis: two degenerate pairs.
    const Eigenbasis e = diagonalize(random_hermitian(6, rng));
    rvec E(6);
    E << -2.0, -2.0, -0.7, 0.4, 0.4, 1.9;
    H = e.vectors * E.cast<cplx>().asDiagonal() * e.vectors.adjoint();
    H = 0.5 * (H + H.adjoint());
  }
  Bath a = bath(sp, "a", 0.5 + 3 * U(rng), CouplingKind::hermitian, "q", local_ops::sigma_x(),
                drude(0.02 + 0.05 * U(rng), 8.0));
  a.lamb_shift_default = lamb_shift;
  Bath b;
  b.name = "b";
  b.temperature = 0.2 + 2 * U(rng);
  b.coupling = CouplingKind::exchange;
  b.op = random_matrix(6, rng) * 0.3;
  b.sites = {0, 1};
  b.spectral = ohmic_exp(0.03, 6.0);
  // A random exchange operator has non-normal blocks inside degenerate levels, whose zero-frequency Lamb
  // shift diverges for an ohmic density: the Lamb shift of bath b only for non-degenerate H0.
  b.lamb_shift_default = lamb_shift && !degenerate;
  return model(sp, H, {a, b});
}

}  // namespace qheat::test
