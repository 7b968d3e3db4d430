// `qheat gibbs FILE`: the mean-force Gibbs state to second order in the system-bath coupling (order 2,
// default) or the Gibbs state of H_S (order 0), for a model whose baths share one temperature
// (docs/methods.md, "Mean-force Gibbs state (Zhang eq. 20)").
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.hpp"
#include "options.hpp"
#include "output.hpp"
#include "qheat/model/model.hpp"
#include "qheat/thermo/mean_force.hpp"

namespace qheat::cli {
namespace {

struct GibbsArgs {
  std::string file;
  std::vector<std::string> sets;
  int order = 2;
  std::vector<std::string> observables;
  std::string format = "json";
};

int run_gibbs(const GibbsArgs& args) {
  const Model model = load_model(args.file, parse_overrides(args.sets));
  MeanForceOptions opt;
  opt.order = args.order;
  const MeanForceState s = mean_force_gibbs(model, opt);
  nlohmann::json obs = nlohmann::json::object();
  for (const std::string& text : args.observables) {
    const cmat O = model_operator(model, text);
    const cplx v = (s.rho * O).trace();
    obs[text] = {{"re", number(v.real())}, {"im", number(v.imag())}};
  }
  nlohmann::json j;
  j["model"] = model.name;
  j["temperature"] = number(s.temperature);
  j["order"] = s.order;
  j["rho"] = matrix_json(s.rho);
  j["observables"] = obs;
  std::cout << j.dump(2) << "\n";
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
  cmd->callback([args, &exit_code]() { exit_code = run_gibbs(*args); });
}

}  // namespace qheat::cli
