// Subcommands of the qheat command line (one file per subcommand).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace qheat::cli {

// Registers `qheat ness` on the app; the callback runs the command and sets the exit code.
void register_ness(CLI::App& app, int& exit_code);
void register_gibbs(CLI::App& app, int& exit_code);
void register_sweep(CLI::App& app, int& exit_code);
void register_plot(CLI::App& app, int& exit_code);
void register_check(CLI::App& app, int& exit_code);
void register_response(CLI::App& app, int& exit_code);

// Runs scripts/qheat_plot.py with python3 and these arguments; returns the exit code to use.
int run_plot_script(const std::vector<std::string>& script_args);

}  // namespace qheat::cli
