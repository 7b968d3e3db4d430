// `qheat gibbs FILE`: the mean-force Gibbs state to second order in the system-bath coupling (order 2,
// default) or the Gibbs state of H_S (order 0), for a model whose baths share one temperature
// (docs/methods.md, "Mean-force Gibbs state (Zhang eq. 20)").
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.hpp"
#include "options.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/model/model.hpp"
#include "qheat/run/report.hpp"
#include "qheat/thermo/mean_force.hpp"

namespace qheat::cli {
namespace {

struct GibbsArgs {
  std::string file;
  std::vector<std::string> sets;
  int order = 2;
  std::vector<std::string> observables;
  std::string format = "json";
  bool state = true;
  ResourceArgs resources;
};

int run_gibbs(const GibbsArgs& args) {
  apply_resources(args.resources, args.resources.threads.empty() ? hardware_threads() : count_value(args.resources.threads));
  const Model model = load_model(args.file, parse_overrides(args.sets));
  for (const std::string& o : args.observables) (void)model_operator(model, o);  // before the computation
  MeanForceOptions opt;
  opt.order = args.order;
  print_json(gibbs_json(model, mean_force_gibbs(model, opt), args.observables, args.state));
  return 0;
}

}  // namespace

void register_gibbs(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<GibbsArgs>();
  CLI::App* cmd = app.add_subcommand(
      "gibbs", "mean-force Gibbs state to second order in the coupling (all baths at one temperature)");
  cmd->add_option("FILE", args->file, "TOML model file")->required()->check(existing_file("model file"));
  cmd->add_option("--set", args->sets, "override a parameter: NAME=VALUE (repeatable)");
  cmd->add_option("--order", args->order, "0: Gibbs state of H_S; 2: with the second-order correction (default)")
      ->check(one_of("--order", {"0", "2"}));
  cmd->add_option("--observable", args->observables,
                  "named operator or operator expression O; reports Tr[rho O] (repeatable)");
  cmd->add_option("--format", args->format, "json (the only format)")->check(one_of("--format", {"json"}));
  cmd->add_flag("!--no-state", args->state, "leave the density matrix out of the JSON (the observables only)");
  add_resource_options(cmd, args->resources,
                       "threads of the eigen-decomposition, the products and the S(w) evaluations (default: every core)");
  cmd->callback([args, &exit_code]() { exit_code = run_gibbs(*args); });
}

}  // namespace qheat::cli
