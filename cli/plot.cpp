// `qheat plot CSV... --out FILE.png|svg`: draws sweeps with matplotlib (Debian's python3-matplotlib)
// through scripts/qheat_plot.py, so the figures come from a maintained plotting library.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "commands.hpp"
#include "options.hpp"
#include "qheat/core/types.hpp"

namespace qheat::cli {
namespace {

std::string plot_script() {
  if (const char* env = std::getenv("QHEAT_PLOT_SCRIPT"); env != nullptr && *env != '\0') return env;
  return QHEAT_PLOT_SCRIPT;  // scripts/qheat_plot.py of the source tree (CMake definition)
}

struct PlotArgs {
  std::vector<std::string> csv;
  std::string out;
  std::string x;
  std::vector<std::string> y;
  std::string title;
  std::string validity;  // empty: no validity map
  bool logx = false, logy = false;
};

}  // namespace

int run_plot_script(const std::vector<std::string>& script_args) {
  const std::string script = plot_script();
  std::error_code ec;
  if (!std::filesystem::exists(script, ec))
    throw Error("plot-script", "the plotting script '" + script + "' does not exist (set QHEAT_PLOT_SCRIPT)");
  const char* env_python = std::getenv("QHEAT_PYTHON");
  const std::string python = env_python != nullptr && *env_python != '\0' ? env_python : QHEAT_PYTHON;
  std::vector<std::string> argv_s{python, script};
  argv_s.insert(argv_s.end(), script_args.begin(), script_args.end());
  std::vector<char*> argv;
  argv.reserve(argv_s.size() + 1);
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::cout.flush();
  const pid_t pid = fork();
  if (pid < 0) throw Error("plot", "cannot start " + python + ": " + std::strerror(errno));
  if (pid == 0) {
    execvp(argv[0], argv.data());
    std::cerr << "qheat: error [plot]: cannot run " << python << " (scripts/bootstrap installs python3-matplotlib)\n";
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw Error("plot", "waiting for " + python + " failed: " + std::strerror(errno));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  // 2: the script rejected its input with the one error line; 127: the interpreter did not start (the
  // child printed the line).
  if (WIFEXITED(status) && (WEXITSTATUS(status) == 2 || WEXITSTATUS(status) == 127)) return 2;
  throw Error("plot", "the plotting script failed (its message is above)");
}

void register_plot(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PlotArgs>();
  CLI::App* cmd = app.add_subcommand(
      "plot", "draw sweep CSV files: curves for 1-D grids, colour maps for 2-D, method-validity maps (--validity)");
  cmd->add_option("CSV", args->csv, "CSV files written by qheat sweep (curves of several files share axes)")
      ->required()
      ->check(existing_file("CSV file"));
  cmd->add_option("--out,-o", args->out, "output file, .png or .svg")->required();
  cmd->add_option("--x", args->x, "column on the horizontal axis (default: the first varied parameter)");
  cmd->add_option("--y", args->y,
                  "columns to draw (default: every J_<bath> and drive_power if non-zero; with --validity: one "
                  "deviation column, default 'deviation')");
  cmd->add_option("--title", args->title, "figure title");
  cmd->add_option("--validity", args->validity,
                  "TOL: where each method stays within TOL of the reference method of a `qheat sweep --reference` "
                  "CSV (its deviation columns): a map per method over a 2-D grid (deviation <= TOL, > TOL, missing), "
                  "deviation curves with the tolerance line over a 1-D grid")
      ->check(positive_number("--validity", "a relative tolerance such as 0.05", "TOL"));
  cmd->add_flag("--logx", args->logx, "logarithmic horizontal axis");
  cmd->add_flag("--logy", args->logy, "logarithmic vertical axis (or colour scale; validity maps: vertical axis)");
  cmd->callback([args, &exit_code]() {
    std::vector<std::string> a = args->csv;
    a.insert(a.end(), {"--out", args->out});
    if (!args->x.empty()) a.insert(a.end(), {"--x", args->x});
    for (const auto& y : args->y) a.insert(a.end(), {"--y", y});
    if (!args->title.empty()) a.insert(a.end(), {"--title", args->title});
    if (!args->validity.empty()) a.insert(a.end(), {"--validity", args->validity});
    if (args->logx) a.emplace_back("--logx");
    if (args->logy) a.emplace_back("--logy");
    exit_code = run_plot_script(a);
  });
}

}  // namespace qheat::cli
