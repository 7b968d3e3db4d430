// `qheat sweep FILE --vary NAME=SPEC ...`: a grid of steady states as CSV, several methods per point,
// in parallel over points with rows in grid order (identical for any --jobs at the same --threads).
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "options.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/sweep/distributed.hpp"
#include "qheat/sweep/journal.hpp"
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
  bool resume = false;
  double progress_every = 10.0;
};

std::vector<Method> parse_methods(const std::string& list) {
  std::vector<Method> out;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {  // "redfield, global" as the Python package takes it
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    out.push_back(parse_method(item));
  }
  if (out.empty()) throw MethodError("unknown-method", "--method needs at least one method name");
  return out;
}

// Progress on stderr (rank 0 of an MPI job): a bar redrawn every 100 ms on a terminal, else one line
// every --progress-every seconds (default 10: batch jobs, mpirun's forwarded stderr). --quiet silences it.
class Progress {
public:
  Progress(bool enabled, double every_seconds)
      : enabled_(enabled), tty_(isatty(STDERR_FILENO) != 0), every_(every_seconds),
        start_(std::chrono::steady_clock::now()), last_(start_) {}
  // Rows already done when this run began (a resumed sweep's journal): the rate and ETA count this run's.
  void resumed_with(std::size_t rows) { base_ = rows; }
  void operator()(std::size_t done, std::size_t total) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    const auto every = tty_ ? std::chrono::duration<double>(0.1) : std::chrono::duration<double>(every_);
    // Batch logs: a line when a row (the last one included) finishes --progress-every seconds or more after the
    // start or the last line; a sweep shorter than that stays silent.
    if (now - last_ < every && (done < total || !tty_)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const std::string text = progress_text(done, total, elapsed, base_);
    if (tty_) {
      std::fprintf(stderr, "\r%s ", text.c_str());
      if (done == total) std::fprintf(stderr, "\n");
    } else {
      std::fprintf(stderr, "qheat sweep: %s\n", text.c_str());
    }
  }

private:
  bool enabled_, tty_;
  double every_;
  std::size_t base_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

std::string csv_title(const SweepArgs& args, const std::string& model_name) {
  std::string t = "qheat sweep of " + model_name + " (" + args.file + ")";
  for (const auto& s : args.sets) t += " --set " + s;
  return t;
}

// What decides the rows (the journal's identity): the model file and its contents, every option that
// changes a result, and the BLAS threads of a point's solve (`threads`, --threads or its default): OpenBLAS's
// threaded kernels and qheat's threaded products add in another order with another count, which moves the
// last digits (measured on the XX chain, N = 4-8: relative 1e-15 to 1e-11). Not --jobs, --quiet, --out or the
// number of MPI ranks.
SweepIdentity sweep_identity(const SweepArgs& args, int threads) {
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
    return s;
  };
  // The path as written too: error rows quote it ("[negative-temperature] chain.toml:34: ..."), so a resume
  // with the same file spelled otherwise would mix two spellings in one CSV.
  return {{"model", std::filesystem::absolute(args.file).lexically_normal().string()},
          {"model (as written)", args.file},
          {"model contents (FNV-1a)", file_hash(args.file)},
          {"--vary", join(args.vary)},
          {"--method", args.methods},
          {"--set", join(args.sets)},
          {"--lamb-shift", args.lamb_shift},
          {"--floquet-solver", args.floquet_solver},
          {"--heom-depth/terms/tol/decomposition/terminator", args.heom.depth + "/" + args.heom.terms + "/" +
                                                                  args.heom.tol + "/" + args.heom.decomposition + "/" +
                                                                  args.heom.terminator},
          {"--heom-schur", args.heom.schur},
          {"--observable", join(args.observables)},
          {"--reference", args.reference},
          {"BLAS threads per point (--threads)", std::to_string(threads)}};
}

void write_csv_file(const std::string& path, const SweepResult& r, const std::string& title) {
  // Written beside and renamed over the target: a kill leaves the old file or the new one, never half.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) throw Error("output", "cannot write '" + path + "'");
    write_sweep_csv(out, r, title);
    out.close();
    if (!out) throw Error("output", "writing '" + path + "' failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw Error("output", "cannot replace '" + path + "'");
}

// --plot is checked before the sweep runs, not after it (the rules of `qheat plot`: docs/conventions.md).
void check_plot_output(const std::string& plot, bool to_file) {
  if (!to_file) throw Error("plot", "--plot needs --out FILE.csv");
  std::string ext = std::filesystem::path(plot).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext != ".png" && ext != ".svg") throw Error("plot-format", "--plot must end in .png or .svg; got '" + plot + "'");
}

int run_sweep_command(const SweepArgs& args) {
  const bool to_file = !args.out.empty() && args.out != "-";
  const bool root = mpi_rank() == 0;
  std::vector<SweepAxis> axes;
  std::optional<ModelSource> source;
  std::vector<Override> fixed;
  SweepOptions opt;
  std::optional<SweepJournal> journal;
  Progress progress(!args.quiet && root, args.progress_every);
  std::exception_ptr setup_error;
  try {
    for (const auto& v : args.vary) axes.push_back(parse_vary(v));
    source = ModelSource::from_file(args.file);
    fixed = parse_overrides(args.sets);
    check_set_and_vary(fixed, axes);
    check_sweep_parameters(*source, fixed, axes, args.observables);
    if (!args.plot.empty()) check_plot_output(args.plot, to_file);
    opt.methods = parse_methods(args.methods);
    opt.lamb_shift = parse_lamb_shift_mode(args.lamb_shift);
    opt.floquet.solver = parse_floquet_solver(args.floquet_solver);
    opt.heom = heom_options(args.heom);
    if (!args.reference.empty()) opt.reference = parse_method(args.reference);
    opt.observables = args.observables;
    // Points in parallel (--jobs) times BLAS threads per point (--threads) stays within the cores unless
    // both are given.
    // Under MPI the launcher places (and binds) the ranks: one solver thread and one BLAS thread per rank
    // unless --jobs / --threads say otherwise.
    const bool ranks = mpi_size() > 1;
    const int jobs_given = count_value(args.jobs), threads_given = count_value(args.resources.threads);
    const SweepParallelism par = sweep_parallelism(jobs_given == 0 && ranks ? 1 : jobs_given,
                                                   threads_given == 0 && ranks ? 1 : threads_given);
    opt.jobs = par.jobs;
    apply_resources(args.resources, par.threads);
    const SweepResult skeleton = prepare_sweep(axes, opt);
    if (args.resume && !to_file) throw Error("resume", "--resume continues the journal of --out FILE; give --out");
    if (root && to_file) {
      const std::string jpath = journal_path(args.out);
      if (args.resume) {
        std::size_t dropped = 0;
        journal.emplace(SweepJournal::resume(jpath, sweep_identity(args, par.threads), skeleton, opt.known, dropped));
        // A point refused for memory is no result: whether it fits depends on the resources of that run
        // (--max-memory, --jobs, ranks per node), which may change on resume. It is solved again.
        const std::size_t refused = std::erase_if(opt.known, [](const auto& point) {
          return std::any_of(point.second.begin(), point.second.end(),
                             [](const SweepRow& row) { return row.error_rule == "memory-limit"; });
        });
        progress.resumed_with(opt.known.size() * opt.methods.size());
        const std::string cut = dropped == 0 ? ""
                                : dropped == 1 ? " (an incomplete last line was dropped)"
                                               : " (its last " + std::to_string(dropped) +
                                                     " lines, from the first damaged one on, were dropped)";
        if (!args.quiet)
          std::fprintf(stderr, "qheat sweep: resuming: %zu of %zu points are in the journal%s%s\n", opt.known.size(),
                       sweep_points(skeleton), cut.c_str(),
                       refused > 0 ? (" (" + std::to_string(refused) + " refused for memory are solved again)").c_str() : "");
      } else {
        if (std::filesystem::exists(jpath))
          throw Error("journal-exists", "'" + jpath + "' holds the points of an unfinished sweep to " + args.out +
                                            ": add --resume to continue it, or delete it to start over");
        journal.emplace(SweepJournal::create(jpath, sweep_identity(args, par.threads)));
      }
      if (!journal->unlocked().empty())  // said even with --quiet: nothing else guards the journal now
        std::fprintf(stderr,
                     "qheat sweep: note: the journal '%s' cannot be locked on this file system (%s); start no other "
                     "run with this --out while this one runs\n",
                     jpath.c_str(), journal->unlocked().c_str());
      opt.on_point = [&journal](std::size_t p, const std::vector<SweepRow>& rows) { journal->append(p, rows); };
    }
    opt.progress = [&progress](std::size_t done, std::size_t total) { progress(done, total); };
  } catch (...) {
    setup_error = std::current_exception();
  }
  if (!mpi_all_ok(!setup_error)) {
    if (setup_error) std::rethrow_exception(setup_error);
    throw Error("mpi", "another rank could not set up the sweep (its error is on its stderr)");
  }
  std::optional<SweepResult> result = run_sweep_distributed(file_point_model(*source, fixed, axes), axes, opt);
  if (!result) return 0;  // a worker rank: rank 0 writes the CSV
  SweepResult& r = *result;
  name_baths(r, *source, fixed);

  const std::string title = csv_title(args, source->source_name());
  if (!to_file) {
    write_sweep_csv(std::cout, r, title);
  } else {
    write_csv_file(args.out, r, title);
    if (journal) {  // the CSV is complete: the journal has done its work
      journal->close();
      std::filesystem::remove(journal->path());
    }
  }
  std::size_t failed = 0;
  for (const auto& row : r.rows) failed += row.status == "error" ? 1 : 0;
  if (failed > 0)
    std::cerr << "qheat sweep: " << failed << " of " << r.rows.size()
              << " rows failed; their status is 'error' and the message is in the 'error' column\n";
  if (!args.plot.empty()) return run_plot_script({args.out, "--out", args.plot});
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
  add_lamb_shift_option(cmd, args->lamb_shift);
  cmd->add_option("--floquet-solver", args->floquet_solver, "sambe | propagator (--method floquet; default sambe)")
      ->check(one_of("--floquet-solver", {"sambe", "propagator"}));
  add_heom_options(cmd, args->heom);
  cmd->add_option("--reference", args->reference,
                  "one of the --method list: add columns dev_<bath> = |J - J_ref| / |J_ref| (each bath's current "
                  "against this method's at the same point) and deviation = the largest (for `qheat plot --validity`)")
      ->check(method_name_check());
  cmd->add_option("--observable", args->observables, "steady-state <O>: named operator or expression (repeatable)");
  cmd->add_option("--jobs,-j", args->jobs,
                  "points solved in parallel (rows are identical for any value at the same --threads; default 1, or cores / --threads)")
      ->check(positive_count("--jobs", "jobs"));
  add_resource_options(cmd, args->resources, "BLAS threads of each point's solve (default: cores / --jobs)");
  cmd->add_option("--out,-o", args->out, "CSV file (default: standard output)");
  cmd->add_option("--plot", args->plot, "also draw the CSV with `qheat plot` to this PNG or SVG file");
  cmd->add_flag("--quiet,-q", args->quiet, "no progress on stderr");
  cmd->add_option("--progress-every", args->progress_every,
                  "seconds between progress lines when stderr is not a terminal (default 10)")
      ->check(positive_number("--progress-every", "seconds such as 10", "SECONDS"));
  cmd->add_flag("--resume", args->resume,
                "continue the sweep whose journal is --out FILE.journal (same arguments): solve only the missing points");
  cmd->callback([args, &exit_code]() { exit_code = run_sweep_command(*args); });
}

}  // namespace qheat::cli
