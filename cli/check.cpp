// `qheat check [FILE.toml...]`: computed values next to published or closed-form ones, one row per
// (check, grid point); exit code 1 when a row fails. Check files: examples/<paper>/checks.toml
// (format in docs/gallery.md, "qheat check").
#include <cstdio>

#include "commands.hpp"
#include "options.hpp"
#include "qheat/run/check.hpp"

namespace qheat::cli {
namespace {

struct CheckArgs {
  std::vector<std::string> files;
  bool verbose = false;
};

int run_check_command(const CheckArgs& args) {
  const std::vector<std::string> files = args.files.empty() ? find_check_files(QHEAT_EXAMPLES_DIR) : args.files;
  const CheckReport report = run_checks(files);  // first: a bad check file is one error and no table
  std::printf("%-46s %-22s %-26s %15s %15s %9s  %s\n", "reference", "quantity", "point", "computed", "expected",
              "rel.dev", "result");
  for (const CheckRow& row : report.rows)
    if (args.verbose || row.result != "pass" || row.first_of_check)
      std::printf("%-46s %-22s %-26s %15.8g %15.8g %9.2e  %s\n", row.ref.c_str(), row.quantity.c_str(),
                  row.point.c_str(), row.computed, row.expected, row.deviation, row.result.c_str());
  std::printf("qheat check: %zu rows, %d failed, %d documented discrepancies reproduced (files: %zu)\n",
              report.rows.size(), report.failed, report.discrepancies, report.files.size());
  return report.failed > 0 ? 1 : 0;
}

}  // namespace

void register_check(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<CheckArgs>();
  CLI::App* cmd = app.add_subcommand("check", "computed values beside published and closed-form ones");
  cmd->add_option("FILES", args->files, "check files (default: every examples/*/checks.toml)")
      ->check(existing_file("check file"));
  cmd->add_flag("--verbose,-v", args->verbose, "print every row (default: the first row of each check and failures)");
  cmd->callback([args, &exit_code]() { exit_code = run_check_command(*args); });
}

}  // namespace qheat::cli
