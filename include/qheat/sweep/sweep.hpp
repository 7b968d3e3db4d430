// Parameter sweeps: grids over model parameters, several methods per point, run by a pool of worker
// threads with results identical to the serial loop (docs/architecture.md, "Sweeps").
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <ostream>
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
  // Called from worker threads (serialised by the sweep) after each finished point: (done, total) rows.
  std::function<void(std::size_t, std::size_t)> progress;
  // Resume (docs/cluster.md): rows of grid points solved before, by point index (grid order, as
  // SweepResult::rows / methods.size()); these points are not solved again.
  std::map<std::size_t, std::vector<SweepRow>> known;
  // Called (serialised by the sweep) after each point solved by this call, with its rows in method order:
  // the journal of `qheat sweep --out` writes them here.
  std::function<void(std::size_t, const std::vector<SweepRow>&)> on_point;
};


// Relative deviation of one row's bath currents from the reference method's at the same grid point
// (docs/conventions.md, "Sweep CSV"): baths[b] = |J_b - J_b(ref)| / |J_b(ref)|, largest = the largest of
// them. NaN where either row has no usable currents (status "error", "not-converged" or "not-unique") or
// J_b(ref) is no scale: 0, round-off (|J_b(ref)| <= 1e-9 x the reference row's gross_flow), or any current of a
// static point whose baths all have one temperature (the reference row's temperatures and drive power), where
// the exact currents vanish; largest is NaN when any of baths is. The reference's own usable rows have 0.
struct RowDeviation {
  std::vector<double> baths;  // one per SweepResult::bath_names
  double largest = 0.0;
};

struct SweepResult {
  std::vector<std::string> bath_names;  // from the model at the first grid point
  std::vector<SweepAxis> axes;
  std::vector<Method> methods;          // SweepOptions::methods: the rows of one point, in this order
  std::vector<SweepRow> rows;           // grid order: last axis fastest, methods innermost
  std::vector<std::string> observables; // SweepOptions::observables: SweepRow::observables in this order
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

// A parameter both fixed (--set, a check's `set`) and varied: Error("vary-duplicate"), since the grid's values
// would silently replace the fixed one (the CLI and `qheat check`; Python's sweep varies a loaded model's
// parameters by design).
void check_set_and_vary(const std::vector<Override>& fixed, const std::vector<SweepAxis>& axes);

// Before a grid runs: the model at the first grid point must name every varied parameter, and every
// observable must be an operator of it. Rethrows the ModelError of an unknown parameter, a TOML syntax error
// or an unreadable file, and an observable's error under its rule (errors of the command,
// not failed points); other errors of the model at that point are left to the points.
void check_sweep_parameters(const ModelSource& source, const std::vector<Override>& fixed,
                            const std::vector<SweepAxis>& axes, const std::vector<std::string>& observables = {});

// Points in parallel (jobs) x BLAS threads per point (threads) stays within the cores unless both are
// given (0: not given): jobs defaults to 1, or cores / threads; threads to cores / jobs.
struct SweepParallelism {
  int jobs = 1, threads = 1;
};
SweepParallelism sweep_parallelism(int jobs, int threads);

// The model at one grid point (one value per axis, in axis order), for grids over models built in code
// (the Python package's qheat.sweep with a function). An Error thrown by it fails that point's rows;
// any other exception stops the sweep and is rethrown. Called from the worker threads.
using PointModel = std::function<Model(const std::vector<double>& point)>;
SweepResult run_sweep(const PointModel& model_at, const std::vector<SweepAxis>& axes, const SweepOptions& options);

// The model of each point of a sweep over a model file: the file with the fixed overrides (those not
// varied) and the point's values, printed with 17 digits.
PointModel file_point_model(const ModelSource& source, const std::vector<Override>& fixed,
                            const std::vector<SweepAxis>& axes);
// When every point failed, the bath names of the model with the fixed overrides (for the CSV's columns).
void name_baths(SweepResult& result, const ModelSource& source, const std::vector<Override>& fixed);

// ---- The pieces of run_sweep, for drivers that hand out points themselves (MPI: sweep/distributed.hpp) --
// Checks axes and options (the errors of run_sweep) and returns the result with its rows sized, unsolved.
SweepResult prepare_sweep(const std::vector<SweepAxis>& axes, const SweepOptions& options);
// Number of grid points (product of the axes' sizes).
std::size_t sweep_points(const SweepResult& skeleton);
// The rows of grid point p (one per method, in method order), solved as run_sweep solves them.
std::vector<SweepRow> solve_point(const PointModel& model_at, const SweepResult& skeleton, const SweepOptions& options,
                                  std::size_t p, SolveWorkspace& workspace);
// Copies the rows of SweepOptions::known into the skeleton; returns the points still to solve, in grid order.
std::vector<std::size_t> place_known_points(SweepResult& skeleton, const SweepOptions& options);
// When every row is in place: the bath names and, with a reference method, the deviations.
void finish_sweep(SweepResult& result, const SweepOptions& options);

// ---- The sweep as a table (docs/conventions.md, "Sweep CSV"): the CSV of `qheat sweep` and the
// structured array of the Python package are both made of these columns and fields.
enum class ColumnKind { number, integer, flag, text };
struct SweepColumn {
  std::string name;
  ColumnKind kind = ColumnKind::number;
};
// Axes, method, lamb_shift, status, J_<bath>..., drive_power, entropy_production, first_law_residual,
// warnings, diagnostics, <O> and <O>.im per observable, dev_<bath>... and deviation (with a reference), error.
std::vector<SweepColumn> sweep_columns(const SweepResult& result);
// The fields of row k in the order of sweep_columns: numbers as %.17g (exact round trip; nan, inf, -inf),
// flags 0/1, integers in decimal, text as it is (not CSV-quoted).
std::vector<std::string> sweep_fields(const SweepResult& result, std::size_t k);
// One progress line: "[####      ] 12/40 rows  3.9 rows/s  3.1 s elapsed, ETA 7.2 s" (the bar: 30 characters;
// the rate and the ETA count the rows solved in this run: done - base, where base rows were known at its start).
std::string progress_text(std::size_t done, std::size_t total, double elapsed_seconds, std::size_t base = 0);
// %.17g, or nan / inf / -inf.
std::string sweep_number(double v);
// `qheat sweep`'s CSV: `title` (one comment line, without '#') and the comment lines on units and
// columns, the header, one line per row.
void write_sweep_csv(std::ostream& out, const SweepResult& result, const std::string& title);

}  // namespace qheat
