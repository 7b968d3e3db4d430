// Model: Hilbert space, Hamiltonian, baths, named operators and parameters; validated on construction.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "qheat/baths/bath.hpp"
#include "qheat/core/types.hpp"
#include "qheat/operators/space.hpp"

namespace qheat {

// Periodic drive H(t) = H_S + sum_k (V_k e^{-i k w_d t} + V_k^dag e^{+i k w_d t}), k >= 1 (model-file
// table [drive]). Kong's drive -(eta/2)(e^{-i w t} A^dag + h.c.) is V_1 = -(eta/2) A^dag; a cosine
// drive eta cos(w t) sx is V_1 = (eta/2) sx.
struct DriveHarmonic {
  int k = 1;
  cmat V;
};
struct Drive {
  double frequency = 0.0;  // w_d > 0
  std::vector<DriveHarmonic> harmonics;
};

struct Model {
  std::string name;                                 // from the file's `name` key, or its stem
  Space space;
  std::vector<std::pair<std::string, double>> parameters;  // resolved values, in file order
  std::map<std::string, std::vector<double>> arrays;       // array parameters (d = [0.1, -0.2]; d[k] in expressions)
  cmat hamiltonian;                                 // H (Hermitian, validated)
  std::vector<Bath> baths;
  std::map<std::string, cmat> operators;            // named operators ([operators] table)
  std::optional<Drive> drive;                       // periodic drive ([drive] table), if any

  [[nodiscard]] std::optional<double> parameter(const std::string& pname) const {
    for (const auto& [k, v] : parameters)
      if (k == pname) return v;
    return std::nullopt;
  }
};

// Checks every rule a programmatic model can break (H Hermitian with the largest deviation
// reported, T >= 0, operator dimensions, Hermitian S for hermitian couplings, distinct bath names).
// Throws ModelError naming the rule.
void validate(const Model& model);

// Parameter override from the command line: NAME=VALUE (VALUE is an expression of numbers).
struct Override {
  std::string name;
  std::string value;
  std::string option = "--set";  // where it came from, for messages: "--set", "--vary" (a sweep's axis)
};

// Loads and validates a TOML model file (docs/model-format.md). Overrides replace parameter
// definitions before anything is evaluated; an override of an unknown parameter is an error.
// Throws ModelError with the file line of the offending entry.
Model load_model(const std::string& path, const std::vector<Override>& overrides = {});
Model load_model_from_string(const std::string& toml_text, const std::string& source_name,
                             const std::vector<Override>& overrides = {});

// The text of a TOML file (a model or a check file; `what` names it in messages), read for toml++: at most
// 16 MiB, keys of at most 100 dotted parts. Throws ModelError("file") or ModelError("toml-syntax").
std::string read_toml_text(const std::string& path, const std::string& what);

// `--set` arguments NAME=VALUE -> overrides; throws Error("set-syntax") for anything else.
std::vector<Override> parse_overrides(const std::vector<std::string>& sets);

// A model file parsed once and instantiated for many override sets (sweeps): the TOML is read and
// parsed by the constructor (ModelError for syntax errors), everything else per instantiate().
class ModelSource {
public:
  static ModelSource from_file(const std::string& path);
  static ModelSource from_string(const std::string& toml_text, const std::string& source_name);
  [[nodiscard]] Model instantiate(const std::vector<Override>& overrides = {}) const;
  // The scalar parameters (resolved, file order) that instantiate(overrides) would give, without building the
  // sites and operators (a 4096-level model's dense operators take seconds); the same errors for parameters.
  [[nodiscard]] std::vector<std::pair<std::string, double>> parameters(const std::vector<Override>& overrides = {}) const;
  [[nodiscard]] const std::string& source_name() const noexcept { return source_name_; }

  struct Parsed;  // the parsed TOML document (src/model/model.cpp)

private:
  ModelSource(std::shared_ptr<const Parsed> parsed, std::string source_name)
      : parsed_(std::move(parsed)), source_name_(std::move(source_name)) {}
  std::shared_ptr<const Parsed> parsed_;
  std::string source_name_;
};

// Limit on the Hilbert-space dimension of a model file (every operator is a dense matrix).
inline constexpr int kMaxModelDimension = 4096;

// A named operator of the model ([operators] table) or, if no operator has that name, an operator
// expression over the model's sites, scalar parameters and named operators (docs/model-format.md);
// for --perturbation / --observable, with array parameters as d[k]. Throws
// ExpressionError for an expression that cannot be evaluated.
cmat model_operator(const Model& model, const std::string& name_or_expression);

// model_operator for each of `names`, after check_memory refuses the names.size() dense d x d matrices
// beyond the memory limit ("holding <what> as dense operators"); for response and sweep observables.
std::vector<cmat> model_operators(const Model& model, const std::vector<std::string>& names, const std::string& what);

}  // namespace qheat
