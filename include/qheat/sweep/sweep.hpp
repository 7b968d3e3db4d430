// Parameter sweeps: grids over model parameters, several methods per point, run by a pool of worker
// threads with results identical to the serial loop (docs/architecture.md, "Sweeps").
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "qheat/generators/generator.hpp"
#include "qheat/model/model.hpp"
#include "qheat/run/solve.hpp"

namespace qheat {

// One axis of a grid, from `--vary NAME=SPEC`:
//   START:STOP:NUM       NUM >= 1 linearly spaced values, both ends included (NUM = 1: START)
//   log:START:STOP:NUM   NUM geometrically spaced values (START, STOP > 0)
//   V1,V2,...            an explicit list
// Every number may be an expression of numbers (e.g. 2*pi). Throws Error("vary-syntax", ...) naming
// what is wrong.
struct SweepAxis {
  std::string name;
  std::vector<double> values;
};
SweepAxis parse_vary(const std::string& spec);

struct SweepOptions {
  std::vector<Method> methods{Method::global};
  LambShiftMode lamb_shift = LambShiftMode::automatic;
  FloquetOptions floquet;                // --floquet-solver
  HeomOptions heom;                      // --heom-depth, --heom-terms, --heom-tol, ... (--method heom)
  std::vector<std::string> observables;  // names or expressions (model_operator); steady-state <O>
  int jobs = 1;                          // worker threads; rows come out in grid order regardless
  // --reference: the method every other method's currents are compared with (current_deviations); it must
  // be one of `methods` (else Error("sweep-reference") before any point is solved).
  std::optional<Method> reference;
  // Called from worker threads (serialised by the sweep) after each finished point: (done, total).
  std::function<void(std::size_t, std::size_t)> progress;
};

// One row: one grid point and one method. A point that fails (bad parameter value, method
// precondition, numerical failure) is a row with `status` = "error" and the message in `error`.
struct SweepRow {
  std::vector<double> point;  // one value per axis, in axis order
  Method method = Method::global;
  Solution solution;          // empty currents when status is "error"
  std::vector<cplx> observables;
  std::string status;         // steady-state status name, or "error"
  std::string error_rule;     // the Error::rule() of a failed point
  std::string error;          // its message
};

// Relative deviation of one row's bath currents from the reference method's at the same grid point
// (docs/conventions.md, "Sweep CSV"): baths[b] = |J_b - J_b(ref)| / |J_b(ref)|, largest = the largest of
// them. NaN where either row has no usable currents (status "error", "not-converged" or "not-unique") or
// J_b(ref) = 0; largest is NaN when any of baths is. The reference's own usable rows have 0.
struct RowDeviation {
  std::vector<double> baths;  // one per SweepResult::bath_names
  double largest = 0.0;
};

struct SweepResult {
  std::vector<std::string> bath_names;  // from the model at the first grid point
  std::vector<SweepAxis> axes;
  std::vector<Method> methods;          // SweepOptions::methods: the rows of one point, in this order
  std::vector<SweepRow> rows;           // grid order: last axis fastest, methods innermost
  // Filled by run_sweep when SweepOptions::reference is given: the reference method and one deviation per row.
  std::optional<Method> reference;
  std::vector<RowDeviation> deviations;
};

// One RowDeviation per row of `result` (same order) against `reference`. Throws
// Error("sweep-reference") when `reference` is not one of result.methods.
std::vector<RowDeviation> current_deviations(const SweepResult& result, Method reference);

// The first axis varies slowest. Parameters named by axes override `fixed` ones.
SweepResult run_sweep(const ModelSource& source, const std::vector<Override>& fixed,
                      const std::vector<SweepAxis>& axes, const SweepOptions& options);

}  // namespace qheat
