// `qheat sweep FILE --vary NAME=SPEC ...`: a grid of steady states as CSV, several methods per point,
// in parallel over points with rows in grid order (identical for any --jobs).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "options.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/sweep/sweep.hpp"

namespace qheat::cli {
namespace {

struct SweepArgs {
  std::string file;
  std::vector<std::string> vary;
  std::string methods = "global";
  std::vector<std::string> sets;
  std::string lamb_shift = "auto";
  std::string floquet_solver = "sambe";
  HeomArgs heom;
  std::string reference;  // empty: no deviation columns
  std::vector<std::string> observables;
  std::string jobs;  // empty: 1, or hardware_threads() / --threads when --threads is given
  ResourceArgs resources;
  std::string out;
  std::string plot;
  bool quiet = false;
};

std::vector<Method> parse_methods(const std::string& list) {
  std::vector<Method> out;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(parse_method(item));
  if (out.empty()) throw MethodError("unknown-method", "--method needs at least one method name");
  return out;
}

// Progress bar with ETA on stderr (only when stderr is a terminal).
class Progress {
public:
  explicit Progress(bool enabled) : enabled_(enabled), start_(std::chrono::steady_clock::now()) {}
  void operator()(std::size_t done, std::size_t total) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\r%s ", progress_text(done, total, elapsed).c_str());
    if (done == total) std::fprintf(stderr, "\n");
  }

private:
  bool enabled_;
  std::chrono::steady_clock::time_point start_, last_{};
};

std::string csv_title(const SweepArgs& args, const std::string& model_name) {
  std::string t = "qheat sweep of " + model_name + " (" + args.file + ")";
  for (const auto& s : args.sets) t += " --set " + s;
  return t;
}

int run_sweep_command(const SweepArgs& args) {
  std::vector<SweepAxis> axes;
  for (const auto& v : args.vary) axes.push_back(parse_vary(v));
  const ModelSource source = ModelSource::from_file(args.file);
  const std::vector<Override> fixed = parse_overrides(args.sets);
  check_sweep_parameters(source, fixed, axes);
  SweepOptions opt;
  opt.methods = parse_methods(args.methods);
  opt.lamb_shift = parse_lamb_shift_mode(args.lamb_shift);
  opt.floquet.solver = parse_floquet_solver(args.floquet_solver);
  opt.heom = heom_options(args.heom);
  if (!args.reference.empty()) opt.reference = parse_method(args.reference);
  opt.observables = args.observables;
  // Points in parallel (--jobs) times BLAS threads per point (--threads) stays within the cores unless
  // both are given.
  const SweepParallelism par = sweep_parallelism(count_value(args.jobs), count_value(args.resources.threads));
  opt.jobs = par.jobs;
  apply_resources(args.resources, par.threads);
  Progress progress(!args.quiet && isatty(STDERR_FILENO) != 0);
  opt.progress = [&progress](std::size_t done, std::size_t total) { progress(done, total); };
  const SweepResult r = run_sweep(source, fixed, axes, opt);

  const std::string& model_name = source.source_name();
  if (args.out.empty() || args.out == "-") {
    write_sweep_csv(std::cout, r, csv_title(args, model_name));
  } else {
    std::ofstream out(args.out);
    if (!out) throw Error("output", "cannot write '" + args.out + "'");
    write_sweep_csv(out, r, csv_title(args, model_name));
    out.close();
    if (!out) throw Error("output", "writing '" + args.out + "' failed");
  }
  std::size_t failed = 0;
  for (const auto& row : r.rows) failed += row.status == "error" ? 1 : 0;
  if (failed > 0)
    std::cerr << "qheat sweep: " << failed << " of " << r.rows.size()
              << " rows failed; their status is 'error' and the message is in the 'error' column\n";
  if (!args.plot.empty()) {
    if (args.out.empty() || args.out == "-") throw Error("plot", "--plot needs --out FILE.csv");
    return run_plot_script({args.out, "--out", args.plot});
  }
  return 0;
}

}  // namespace

void register_sweep(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SweepArgs>();
  CLI::App* cmd = app.add_subcommand("sweep", "grid of steady states over model parameters, as CSV");
  cmd->add_option("FILE", args->file, "TOML model file")->required()->check(existing_file("model file"));
  cmd->add_option("--vary", args->vary,
                  "NAME=START:STOP:NUM | NAME=log:START:STOP:NUM | NAME=V1,V2,... (repeat for a 2-D grid; "
                  "the first varies slowest)")
      ->required();
  cmd->add_option("--method", args->methods,
                  "one method or a comma-separated list (local,global,redfield,dme,ddme,floquet,heom)");
  cmd->add_option("--set", args->sets, "override a parameter: NAME=VALUE (repeatable)");
  cmd->add_option("--lamb-shift", args->lamb_shift, "on | off | auto")->check(one_of("--lamb-shift", {"on", "off", "auto"}));
  cmd->add_option("--floquet-solver", args->floquet_solver, "sambe | propagator (--method floquet; default sambe)")
      ->check(one_of("--floquet-solver", {"sambe", "propagator"}));
  add_heom_options(cmd, args->heom);
  cmd->add_option("--reference", args->reference,
                  "one of the --method list: add columns dev_<bath> = |J - J_ref| / |J_ref| (each bath's current "
                  "against this method's at the same point) and deviation = the largest (for `qheat plot --validity`)")
      ->check(method_name_check());
  cmd->add_option("--observable", args->observables, "steady-state <O>: named operator or expression (repeatable)");
  cmd->add_option("--jobs,-j", args->jobs,
                  "points solved in parallel (rows are identical for any value; default 1, or cores / --threads)")
      ->check(positive_count("--jobs", "jobs"));
  add_resource_options(cmd, args->resources, "BLAS threads of each point's solve (default: cores / --jobs)");
  cmd->add_option("--out,-o", args->out, "CSV file (default: standard output)");
  cmd->add_option("--plot", args->plot, "also draw the CSV with `qheat plot` to this PNG or SVG file");
  cmd->add_flag("--quiet,-q", args->quiet, "no progress bar");
  cmd->callback([args, &exit_code]() { exit_code = run_sweep_command(*args); });
}

}  // namespace qheat::cli
