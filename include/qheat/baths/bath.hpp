// A thermal bath coupled to the system (docs/conventions.md, "Baths").
#pragma once

#include <string>
#include <vector>

#include "qheat/baths/spectral.hpp"
#include "qheat/core/types.hpp"

namespace qheat {

enum class CouplingKind {
  hermitian,  // H_SB = S (x) sum_k g_k (b_k + b_k^dag), S Hermitian
  exchange    // H_SB = sum_k g_k (b_k^dag A + b_k A^dag), A arbitrary
};

struct Bath {
  std::string name;
  double temperature = 0.0;  // T >= 0
  CouplingKind coupling = CouplingKind::hermitian;
  cmat op;                   // S (hermitian) or A (exchange), full-space matrix
  std::vector<int> sites;    // subsystems the operator acts on (for the local master equation)
  SpectralDensity spectral;
  // Whether `--lamb-shift auto` includes this bath's Lamb shift (model-file key `lamb_shift`); a
  // model whose kappa is only meaningful below the Bohr frequencies (no physical cutoff) sets false.
  bool lamb_shift_default = true;
};

}  // namespace qheat
