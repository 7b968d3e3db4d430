// JSON helpers shared by the subcommands' output.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>

#include "qheat/core/types.hpp"

namespace qheat::cli {

// A finite number, or null (JSON has no inf/nan).
inline nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

// {"re": [[...]], "im": [[...]]}, row by row.
inline nlohmann::json matrix_json(const cmat& m) {
  nlohmann::json re = nlohmann::json::array(), im = nlohmann::json::array();
  for (long i = 0; i < m.rows(); ++i) {
    nlohmann::json r = nlohmann::json::array(), c = nlohmann::json::array();
    for (long j = 0; j < m.cols(); ++j) {
      r.push_back(m(i, j).real());
      c.push_back(m(i, j).imag());
    }
    re.push_back(r);
    im.push_back(c);
  }
  return {{"re", re}, {"im", im}};
}

}  // namespace qheat::cli
