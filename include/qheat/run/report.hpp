// The JSON documents of `qheat ness`, `qheat gibbs` and `qheat response` (docs/conventions.md, "JSON
// output"), built in one place so that the command line and the Python package (`Solution.as_dict()`)
// give the same document for the same computation.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "qheat/generators/generator.hpp"
#include "qheat/model/model.hpp"
#include "qheat/run/solve.hpp"
#include "qheat/thermo/mean_force.hpp"

namespace qheat {

// A finite number, or null (JSON has no inf/nan).
nlohmann::json json_number(double v);
// {"re": [[...]], "im": [[...]]}, row by row.
nlohmann::json matrix_json(const cmat& m);

// `qheat ness` (--format json): currents, thermodynamics, method details, diagnostics, the steady-state
// audit and the model's parameters; "rho" when `with_state` and the solution has a state.
nlohmann::json solution_json(const Model& model, const Solution& solution, bool with_state);

// `qheat gibbs`: the (mean-force) Gibbs state (`rho`, left out when !with_state) and Tr[rho O] of each
// observable (named operator or expression, model_operator), keyed by its text.
nlohmann::json gibbs_json(const Model& model, const MeanForceState& state, const std::vector<std::string>& observables,
                          bool with_state = true);

// What `qheat response` computes (conventions.md, "qheat response"): the perturbation and observables
// as operator names or expressions of the model.
struct ResponseRequest {
  std::string method = "global";   // the only one: Error("response-method") otherwise
  std::string perturbation;
  std::vector<std::string> observables;
  LambShiftMode lamb_shift = LambShiftMode::automatic;
  std::vector<double> times;        // Phi(t) at these t (empty: none)
  std::vector<double> delta_sweep;  // J(delta) of the linear response, global and Bloch-Redfield (empty: none)
  bool untruncated = false;         // bosonic modes without Fock truncation
  bool redfield_derivative = false; // the Bloch-Redfield derivative also for d > kMaxResponseDimension
};
// Runs the linear response of `model` and returns the `qheat response` JSON document.
nlohmann::json response_json(const Model& model, const ResponseRequest& request);

}  // namespace qheat
