// qheat command line: one clear message and a non-zero exit code for every failure
// (docs/conventions.md, "Exit codes"): `qheat: error [RULE]: message` and exit code 2 for bad input,
// whether the command line (CLI11) or the model rejects it; 3 for an internal error.
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "commands.hpp"
#include "options.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/core/types.hpp"
#include "qheat/sweep/distributed.hpp"

namespace {

// Under MPI every rank meets the same bad input; rank 0 alone says so.
int fail(const std::string& rule, const std::string& message) {
  if (qheat::mpi_rank() == 0) std::cerr << "qheat: error [" << rule << "]: " << qheat::one_line(message) << "\n";
  return 2;
}
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
  // Only `sweep` spreads its work over MPI ranks; any other command would run once per rank and print its
  // output K times (K JSON documents on one stdout, K processes writing one PNG). Checked after parsing,
  // before the command runs, on every rank alike (docs/conventions.md, "Sweep journal, resume and MPI").
  app.parse_complete_callback([&app] {
    const int ranks = qheat::mpi_size();
    if (ranks <= 1) return;
    for (const CLI::App* sub : app.get_subcommands())
      if (sub->get_name() != "sweep")
        throw qheat::Error("mpi-ranks", "'qheat " + sub->get_name() + "' runs as one process, and under mpirun/srun each of the " +
                                            std::to_string(ranks) +
                                            " ranks would run it again: start it without mpirun/srun or with one rank "
                                            "(only 'qheat sweep' spreads its points over ranks; docs/cluster.md)");
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version: stdout, exit code 0
  } catch (const CLI::ParseError& e) {
    const qheat::cli::CliFailure f = qheat::cli::describe_parse_error(e, app);
    return fail(f.rule, f.message);
  } catch (const qheat::Error& e) {
    return fail(e.rule(), e.what());
  }
  // Output that could not be written (a full disk, > /dev/full) is a failure, not a silent success.
  std::cout.flush();
  if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout) != 0)
    return fail("output", "cannot write to standard output (a full disk or a closed pipe)");
  return exit_code;
}

// Before the shared libraries' own start-up (OpenBLAS starts its threads, Open MPI and the C++ library
// initialise): the restart with glibc's huge pages (core/resources.hpp) costs the process only its
// dynamic linking. glibc calls .preinit_array entries of the executable with argc, argv and envp.
void restart_early(int /*argc*/, char** argv, char** envp) { qheat::restart_with_huge_pages(argv, envp); }
[[gnu::used, gnu::section(".preinit_array")]] const auto g_restart_early = &restart_early;

}  // namespace

int main(int argc, char** argv) {
  qheat::keep_freed_memory();
  const qheat::MpiSession mpi(argc, argv);  // MPI only when started by mpirun/srun (docs/cluster.md)
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "qheat: internal error: " << qheat::one_line(e.what()) << "\n";
  } catch (...) {
    std::cerr << "qheat: internal error\n";
  }
  return 3;
}
