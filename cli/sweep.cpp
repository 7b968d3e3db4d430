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

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

std::string csv_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

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
    const double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
    const double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0.0;
    constexpr int width = 30;
    const int filled = static_cast<int>(frac * width);
    std::fprintf(stderr, "\r[%-*s] %zu/%zu  %.1f s elapsed, ETA %.1f s ", width,
                 std::string(static_cast<std::size_t>(filled), '#').c_str(), done, total, elapsed, eta);
    if (done == total) std::fprintf(stderr, "\n");
  }

private:
  bool enabled_;
  std::chrono::steady_clock::time_point start_, last_{};
};

void write_csv(std::ostream& out, const SweepResult& r, const SweepArgs& args, const std::string& model_name) {
  out << "# qheat sweep of " << model_name << " (" << args.file << ")";
  for (const auto& s : args.sets) out << " --set " << s;
  out << "\n# units: energies, frequencies, temperatures and rates in the model file's unit (hbar = k_B = 1)\n"
         "# J_<bath>: heat current from that bath into the system (energy per unit time); drive_power: from the "
         "drive into the system\n"
         "# entropy_production = -sum J_<bath>/T_<bath>; first_law_residual = sum J + drive_power; <O>: Re Tr[rho O], "
         "<O>.im: Im Tr[rho O]\n";
  if (r.reference)
    out << "# reference method: " << method_name(*r.reference)
        << "; dev_<bath> = |J_<bath> - J_<bath>(reference)| / |J_<bath>(reference)| at the same point, deviation = "
           "the largest; nan where either row failed (error, not-converged, not-unique) or J_<bath>(reference) = 0\n";
  std::vector<std::string> header;
  for (const auto& ax : r.axes) header.push_back(ax.name);
  header.insert(header.end(), {"method", "lamb_shift", "status"});
  for (const auto& b : r.bath_names) header.push_back("J_" + b);
  header.insert(header.end(), {"drive_power", "entropy_production", "first_law_residual", "warnings", "diagnostics"});
  for (const auto& o : args.observables) {
    header.push_back(o);
    header.push_back(o + ".im");
  }
  if (r.reference) {
    for (const auto& b : r.bath_names) header.push_back("dev_" + b);
    header.emplace_back("deviation");
  }
  header.push_back("error");
  for (std::size_t i = 0; i < header.size(); ++i) out << (i ? "," : "") << csv_field(header[i]);
  out << "\n";
  const double nan = std::nan("");
  for (std::size_t k = 0; k < r.rows.size(); ++k) {
    const SweepRow& row = r.rows[k];
    std::vector<std::string> f;
    for (double v : row.point) f.push_back(csv_number(v));
    const bool ok = row.status != "error";
    const Thermodynamics& th = row.solution.thermo;
    f.push_back(method_name(row.method));
    f.push_back(ok && row.solution.lamb_shift ? "1" : "0");
    f.push_back(row.status);
    for (std::size_t b = 0; b < r.bath_names.size(); ++b)
      f.push_back(csv_number(ok && b < th.currents.size() ? th.currents[b] : nan));
    f.push_back(csv_number(ok ? th.drive_power : nan));
    f.push_back(csv_number(ok ? th.entropy_production : nan));
    f.push_back(csv_number(ok ? th.first_law_residual : nan));
    std::size_t warnings = 0;
    std::string codes;
    for (const auto& d : th.diagnostics) {
      if (d.level != "info") ++warnings;
      codes += (codes.empty() ? "" : ";") + d.code;
    }
    f.push_back(std::to_string(warnings));
    f.push_back(codes);
    for (std::size_t o = 0; o < args.observables.size(); ++o) {
      const cplx v = o < row.observables.size() ? row.observables[o] : cplx(nan, nan);
      f.push_back(csv_number(v.real()));
      f.push_back(csv_number(v.imag()));
    }
    if (r.reference) {
      const RowDeviation* d = k < r.deviations.size() ? &r.deviations[k] : nullptr;
      for (std::size_t b = 0; b < r.bath_names.size(); ++b)
        f.push_back(csv_number(d != nullptr && b < d->baths.size() ? d->baths[b] : nan));
      f.push_back(csv_number(d != nullptr ? d->largest : nan));
    }
    f.push_back(ok ? "" : "[" + row.error_rule + "] " + row.error);
    for (std::size_t i = 0; i < f.size(); ++i) out << (i ? "," : "") << csv_field(f[i]);
    out << "\n";
  }
}

int run_sweep_command(const SweepArgs& args) {
  std::vector<SweepAxis> axes;
  for (const auto& v : args.vary) axes.push_back(parse_vary(v));
  const ModelSource source = ModelSource::from_file(args.file);
  const std::vector<Override> fixed = parse_overrides(args.sets);
  // Check names and file before the grid runs: the model at the first grid point must name every
  // varied parameter (an unknown name is an error of the command, not a failed point).
  {
    std::vector<Override> probe = fixed;
    for (const auto& ax : axes) probe.push_back({ax.name, csv_number(ax.values.front())});
    try {
      (void)source.instantiate(probe);
    } catch (const ModelError& e) {
      if (e.rule() == "unknown-parameter" || e.rule() == "toml-syntax" || e.rule() == "file") throw;
    }
  }
  SweepOptions opt;
  opt.methods = parse_methods(args.methods);
  opt.lamb_shift = parse_lamb_shift_mode(args.lamb_shift);
  opt.floquet.solver = parse_floquet_solver(args.floquet_solver);
  opt.heom = heom_options(args.heom);
  if (!args.reference.empty()) opt.reference = parse_method(args.reference);
  opt.observables = args.observables;
  // Points in parallel (--jobs) times BLAS threads per point (--threads) stays within the cores unless
  // both are given.
  const int hardware = hardware_threads();
  const int threads_given = count_value(args.resources.threads);
  opt.jobs = count_value(args.jobs);
  if (opt.jobs == 0) opt.jobs = threads_given > 0 ? std::max(1, hardware / threads_given) : 1;
  apply_resources(args.resources, threads_given > 0 ? threads_given : std::max(1, hardware / opt.jobs));
  Progress progress(!args.quiet && isatty(STDERR_FILENO) != 0);
  opt.progress = [&progress](std::size_t done, std::size_t total) { progress(done, total); };
  const SweepResult r = run_sweep(source, fixed, axes, opt);

  const std::string& model_name = source.source_name();
  if (args.out.empty() || args.out == "-") {
    write_csv(std::cout, r, args, model_name);
  } else {
    std::ofstream out(args.out);
    if (!out) throw Error("output", "cannot write '" + args.out + "'");
    write_csv(out, r, args, model_name);
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
