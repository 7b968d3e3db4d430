// `qheat response FILE --perturbation V`: linear response of the steady state to H0 -> H0 + delta V
// (Levy, Rabani, Limmer; conventions.md "qheat response"), per unit delta.
#include <cmath>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "options.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/run/report.hpp"
#include "qheat/sweep/sweep.hpp"

namespace qheat::cli {
namespace {

struct ResponseArgs {
  std::string file;
  std::string perturbation;
  std::vector<std::string> observables;
  std::string method = "global";
  std::vector<std::string> sets;
  std::string lamb_shift = "auto";
  std::string times;
  std::string delta_sweep;
  bool untruncated = false;
  bool redfield_derivative = false;
  std::string format = "json";
  ResourceArgs resources;
};

// Values of a `--times` / `--delta-sweep` grid: the --vary syntax without a name.
std::vector<double> grid_values(const std::string& option, const std::string& spec) {
  try {
    return parse_vary("x=" + spec).values;
  } catch (const Error& e) {
    // The grid's own reason (e.g. the point count's limit) in this option's words.
    std::string why = e.what();
    const std::string as_vary = "--vary x=" + spec + ": ";
    why = why.rfind(as_vary, 0) == 0 ? "; " + why.substr(as_vary.size()) : std::string();
    throw Error(option.substr(2) + "-syntax",
                option + " expects START:STOP:NUM, log:START:STOP:NUM or V1,V2,...; got '" + spec + "'" + why);
  }
}

int run_response(const ResponseArgs& args) {
  apply_resources(args.resources, args.resources.threads.empty() ? hardware_threads() : count_value(args.resources.threads));
  const Model model = load_model(args.file, parse_overrides(args.sets));
  ResponseRequest request;
  request.method = args.method;
  request.perturbation = args.perturbation;
  request.observables = args.observables;
  request.lamb_shift = parse_lamb_shift_mode(args.lamb_shift);
  if (!args.times.empty()) request.times = grid_values("--times", args.times);
  if (!args.delta_sweep.empty()) request.delta_sweep = grid_values("--delta-sweep", args.delta_sweep);
  request.untruncated = args.untruncated;
  request.redfield_derivative = args.redfield_derivative;
  const nlohmann::json j = response_json(model, request);
  if (args.format == "table") {
    const nlohmann::json& details = j["regime_details"];
    auto number = [](const nlohmann::json& x) { return x.is_number() ? x.get<double>() : std::nan(""); };
    std::cout << std::setprecision(10) << "model    " << model.name << "\nregime   " << j["regime"].get<std::string>()
              << " (" << j["limit"].get<std::string>() << "), bohr_splitting/delta " << number(details["bohr_splitting_per_delta"])
              << ", relaxation rate " << number(details["relaxation_rate"]) << "\n";
    auto row = [&number](const std::string& label, const nlohmann::json& p) {
      const auto& v = number;
      std::cout << label << "   kubo " << v(p["kubo"]) << "   dissipator " << v(p["dissipator"]) << "   total "
                << v(p["total"]) << "\n";
    };
    for (const auto& o : args.observables) row("d<" + o + ">/d delta", j["observables"][o]);
    for (const auto& [bath, p] : j["currents"].items()) row("dJ[" + bath + "]/d delta", p);
    return 0;
  }
  print_json(j);
  return 0;
}

}  // namespace

void register_response(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ResponseArgs>();
  CLI::App* cmd = app.add_subcommand("response", "linear response of the steady state to H0 -> H0 + delta V");
  cmd->add_option("FILE", args->file, "TOML model file")->required()->check(existing_file("model file"));
  cmd->add_option("--perturbation", args->perturbation, "V: a named operator of the model or an expression")->required();
  cmd->add_option("--observable", args->observables, "observable A (named operator or expression; repeatable)");
  cmd->add_option("--method", args->method, "global (the Davies master equation of Levy et al.)");
  cmd->add_option("--set", args->sets, "override a parameter: NAME=VALUE (repeatable)");
  add_lamb_shift_option(cmd, args->lamb_shift);
  cmd->add_option("--times", args->times, "integrated response Phi(t) at these t (START:STOP:NUM or list)");
  cmd->add_option("--delta-sweep", args->delta_sweep,
                  "also J(delta): linear (J0 + delta J1), global and Bloch-Redfield generators of H0 + delta V");
  cmd->add_flag("--untruncated", args->untruncated,
                 "bosonic modes without Fock truncation (normal-ordered polynomials; docs/methods.md)");
  cmd->add_flag("--redfield-derivative", args->redfield_derivative,
                 "eigenvalue regime: also d rho/d delta of Bloch-Redfield (four solves; default only for d <= 48)");
  cmd->add_option("--format", args->format, "json | table")->check(one_of("--format", {"json", "table"}));
  add_resource_options(cmd, args->resources, "BLAS threads of the dense solve (default: every core)");
  cmd->callback([args, &exit_code]() { exit_code = run_response(*args); });
}

}  // namespace qheat::cli
