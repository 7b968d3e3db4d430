// Parameter sweeps: grids over model parameters, several methods per point, run by a pool of worker
// threads with results identical to the serial loop (docs/architecture.md, "Sweeps").
#pragma once

#include <cstddef>
#include <functional>
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
  std::vector<std::string> observables;  // names or expressions (model_operator); steady-state <O>
  int jobs = 1;                          // worker threads; rows come out in grid order regardless
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

struct SweepResult {
  std::vector<std::string> bath_names;  // from the model at the first grid point
  std::vector<SweepAxis> axes;
  std::vector<SweepRow> rows;           // grid order: last axis fastest, methods innermost
};

// The first axis varies slowest. Parameters named by axes override `fixed` ones.
SweepResult run_sweep(const ModelSource& source, const std::vector<Override>& fixed,
                      const std::vector<SweepAxis>& axes, const SweepOptions& options);

}  // namespace qheat
