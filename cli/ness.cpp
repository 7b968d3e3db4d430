// `qheat ness FILE`: nonequilibrium steady state, per-bath currents and the audit (conventions.md).
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "options.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/model/model.hpp"
#include "qheat/run/report.hpp"
#include "qheat/run/solve.hpp"

namespace qheat::cli {
namespace {

struct NessArgs {
  std::string file;
  std::string method = "global";
  std::vector<std::string> sets;
  std::string lamb_shift = "auto";
  std::string floquet_solver = "sambe";
  HeomArgs heom;
  std::string format = "json";
  ResourceArgs resources;
  bool state = false;
};

int run_ness(const NessArgs& args) {
  apply_resources(args.resources, args.resources.threads.empty() ? hardware_threads() : count_value(args.resources.threads));
  // The options first: a bad one is refused before the model is built (a 4096-level mode takes ~10 s).
  SolveOptions options;
  options.lamb_shift = parse_lamb_shift_mode(args.lamb_shift);
  options.floquet.solver = parse_floquet_solver(args.floquet_solver);
  options.heom = heom_options(args.heom);
  options.state = args.state;  // the site-basis state costs two dense products at large d
  const Method method = parse_method(args.method);
  const Model model = load_model(args.file, parse_overrides(args.sets));
  const Solution sol = solve(model, method, options);
  const std::vector<std::string>& names = sol.bath_names;
  const Thermodynamics& th = sol.thermo;
  if (args.format == "table") {
    std::cout << "model    " << model.name << "\nmethod   " << sol.method
              << (sol.lamb_shift ? " (Lamb shift on)" : " (Lamb shift off)") << "\nstatus   " << status_name(sol.status)
              << "\n";
    std::cout << std::setprecision(10);
    for (std::size_t a = 0; a < th.currents.size(); ++a)
      std::cout << "J[" << names[a] << "]  " << th.currents[a] << "   (T = " << sol.temperatures[a] << ")\n";
    std::cout << "drive_power          " << th.drive_power << "\nentropy_production   " << th.entropy_production
              << "\nfirst_law_residual   " << th.first_law_residual << "\n";
    for (const auto& d : th.diagnostics) std::cout << d.level << " [" << d.code << "] " << d.message << "\n";
  } else {
    print_json(solution_json(model, sol, args.state));
  }
  return sol.status == SteadyStatus::not_unique ? 4 : 0;
}

}  // namespace

void register_ness(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<NessArgs>();
  CLI::App* cmd = app.add_subcommand("ness", "steady state, heat currents and audit of a model file");
  cmd->add_option("FILE", args->file, "TOML model file")->required()->check(existing_file("model file"));
  cmd->add_option("--method", args->method, "local | global | redfield | heom (static); dme | ddme | floquet (driven)")
      ->check(method_name_check());
  cmd->add_option("--set", args->sets, "override a parameter: NAME=VALUE (repeatable)");
  add_lamb_shift_option(cmd, args->lamb_shift);
  cmd->add_option("--floquet-solver", args->floquet_solver,
                  "sambe | propagator: how --method floquet finds the Floquet modes (default sambe)")
      ->check(one_of("--floquet-solver", {"sambe", "propagator"}));
  add_heom_options(cmd, args->heom);
  cmd->add_option("--format", args->format, "json | table")->check(one_of("--format", {"json", "table"}));
  cmd->add_flag("--state", args->state, "include the steady-state density matrix (site basis) in the JSON");
  add_resource_options(cmd, args->resources, "BLAS threads of the dense solve (default: every core)");
  cmd->callback([args, &exit_code]() { exit_code = run_ness(*args); });
}

}  // namespace qheat::cli
