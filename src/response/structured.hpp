// The sectors engine of linear_response (private to src/response/; docs/methods.md, "Linear response",
// "At scale").
#pragma once

#include <utility>
#include <vector>

#include "qheat/response/response.hpp"

namespace qheat::response_detail {

// Levy's regime from the driven transitions (w, dw): unperturbed Bohr frequency and its first-order shift
// per unit delta. nu^(1) is the largest |dw|, the splitting the largest |dw_j - dw_i| over transitions with
// |w_j - w_i| <= tol; shifts and splittings below 1e-10 vscale are round-off.
ResponseRegime regime_of_transitions(std::vector<std::pair<double, double>> tr, double tol, double vscale);

// Steady-state responses, regime, relaxation rate and time series of the global generator from its
// Bohr-frequency sectors in the eigenbasis of H0 (no initial_state: the steady state of L0 is used).
ResponseResult sector_linear_response(const Model& model, const cmat& V, const std::vector<cmat>& observables,
                                      const ResponseOptions& options);

}  // namespace qheat::response_detail
