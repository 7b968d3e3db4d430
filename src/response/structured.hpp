// The sectors engine of linear_response (private to src/response/; docs/methods.md, "Linear response",
// "At scale").
#pragma once

#include <vector>

#include "qheat/response/response.hpp"

namespace qheat::response_detail {

// Steady-state responses, regime, relaxation rate and time series of the global generator from its
// Bohr-frequency sectors in the eigenbasis of H0 (no initial_state: the steady state of L0 is used).
ResponseResult sector_linear_response(const Model& model, const cmat& V, const std::vector<cmat>& observables,
                                      const ResponseOptions& options);

}  // namespace qheat::response_detail
