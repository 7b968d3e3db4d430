// qheat command line: one clear message and a non-zero exit code for every failure.
#include <exception>
#include <iostream>

#include "commands.hpp"
#include "qheat/core/types.hpp"

namespace {
int run(int argc, char** argv) {
  CLI::App app{"qheat: heat transport in open quantum systems"};
  app.set_version_flag("--version", "qheat 0.1.0");
  app.require_subcommand(1);
  int exit_code = 0;
  qheat::cli::register_ness(app, exit_code);
  qheat::cli::register_gibbs(app, exit_code);
  qheat::cli::register_sweep(app, exit_code);
  qheat::cli::register_plot(app, exit_code);
  qheat::cli::register_check(app, exit_code);
  qheat::cli::register_response(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const qheat::Error& e) {
    std::cerr << "qheat: error [" << e.rule() << "]: " << qheat::one_line(e.what()) << "\n";
    return 2;
  }
  return exit_code;
}
}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "qheat: internal error: " << qheat::one_line(e.what()) << "\n";
  } catch (...) {
    std::cerr << "qheat: internal error\n";
  }
  return 3;
}
