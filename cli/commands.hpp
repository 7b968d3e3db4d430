// Subcommands of the qheat command line (one file per subcommand).
#pragma once

#include <CLI/CLI.hpp>

namespace qheat::cli {

// Registers `qheat ness` on the app; the callback runs the command and sets the exit code.
void register_ness(CLI::App& app, int& exit_code);

}  // namespace qheat::cli
