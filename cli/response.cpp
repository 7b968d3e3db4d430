// `qheat response FILE --perturbation V`: linear response of the steady state to H0 -> H0 + delta V
// (Levy, Rabani, Limmer; conventions.md "qheat response"), per unit delta.
#include <cmath>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "options.hpp"
#include "output.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/response/bosonic.hpp"
#include "qheat/response/perturbed.hpp"
#include "qheat/response/response.hpp"
#include "qheat/run/solve.hpp"
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

nlohmann::json parts_json(const ResponseParts& p) {
  return {{"kubo", number(p.kubo)}, {"dissipator", number(p.dissipator)}, {"total", number(p.total)}};
}

// Values of a `--times` / `--delta-sweep` grid: the --vary syntax without a name.
std::vector<double> grid_values(const std::string& option, const std::string& spec) {
  try {
    return parse_vary("x=" + spec).values;
  } catch (const Error& e) {
    throw Error(option.substr(2) + "-syntax",
                option + " expects START:STOP:NUM, log:START:STOP:NUM or V1,V2,...; got '" + spec + "'");
  }
}

// Heat currents of the generator re-derived for H0 + delta V (global limit, Levy eqs. 44-46) and of
// Bloch-Redfield for H0 + delta V (no secular approximation: valid on both sides of nu ~ 1/tau).
nlohmann::json delta_sweep(const Model& model, const cmat& V, const ResponseResult& r, const std::vector<double>& deltas,
                           LambShiftMode mode) {
  nlohmann::json rows = nlohmann::json::array();
  for (double delta : deltas) {
    nlohmann::json row = {{"delta", delta}};
    nlohmann::json lin = nlohmann::json::object();
    for (std::size_t a = 0; a < r.bath_names.size(); ++a)
      lin[r.bath_names[a]] = number(r.currents0[a] + delta * r.currents[a].total);
    row["linear"] = lin;
    Model perturbed = model;
    perturbed.hamiltonian = model.hamiltonian + delta * V;
    for (const Method m : {Method::global, Method::redfield}) {
      nlohmann::json cur = nlohmann::json::object();
      try {
        const Solution s = solve(perturbed, m, mode);
        for (std::size_t a = 0; a < s.bath_names.size(); ++a) cur[s.bath_names[a]] = number(s.thermo.currents[a]);
      } catch (const Error& e) {
        cur["error"] = std::string(e.what());
      }
      row[method_name(m)] = cur;
    }
    rows.push_back(row);
  }
  return rows;
}

int run_response(const ResponseArgs& args) {
  apply_resources(args.resources, args.resources.threads.empty() ? hardware_threads() : count_value(args.resources.threads));
  if (args.method != "global")
    throw MethodError("response-method", "linear response is implemented for the global (Davies) master equation, "
                                         "the one Levy, Rabani and Limmer use; got --method " + args.method);
  const Model model = load_model(args.file, parse_overrides(args.sets));
  const cmat V = model_operator(model, args.perturbation);
  std::vector<cmat> obs;
  for (const auto& o : args.observables) obs.push_back(model_operator(model, o));
  ResponseOptions opt;
  opt.lamb_shift = parse_lamb_shift_mode(args.lamb_shift);
  if (!args.times.empty()) opt.times = grid_values("--times", args.times);
  const ResponseResult r = args.untruncated ? bosonic_linear_response(model, V, obs, opt) : linear_response(model, V, obs, opt);

  if (args.format == "table") {
    std::cout << std::setprecision(10) << "model    " << model.name << "\nregime   " << r.regime.name << " ("
              << r.regime.limit << "), bohr_splitting/delta " << r.regime.bohr_splitting << ", relaxation rate "
              << r.regime.relaxation_rate << "\n";
    for (std::size_t i = 0; i < obs.size(); ++i)
      std::cout << "d<" << args.observables[i] << ">/d delta   kubo " << r.observables[i].kubo << "   dissipator "
                << r.observables[i].dissipator << "   total " << r.observables[i].total << "\n";
    for (std::size_t a = 0; a < r.bath_names.size(); ++a)
      std::cout << "dJ[" << r.bath_names[a] << "]/d delta   kubo " << r.currents[a].kubo << "   dissipator "
                << r.currents[a].dissipator << "   total " << r.currents[a].total << "\n";
    return 0;
  }
  nlohmann::json j;
  j["model"] = model.name;
  j["method"] = "global";
  j["perturbation"] = args.perturbation;
  j["regime"] = r.regime.name;
  j["limit"] = r.regime.limit;
  j["regime_details"] = {{"bohr_shift_per_delta", number(r.regime.bohr_shift)},
                         {"bohr_splitting_per_delta", number(r.regime.bohr_splitting)},
                         {"relaxation_rate", number(r.regime.relaxation_rate)},
                         {"delta_local_max", number(r.regime.delta_local_max)},
                         {"delta_global_min", number(r.regime.delta_global_min)}};
  j["untruncated"] = args.untruncated;
  j["observables"] = nlohmann::json::object();
  j["unperturbed"] = {{"observables", nlohmann::json::object()}, {"currents", nlohmann::json::object()}};
  for (std::size_t i = 0; i < obs.size(); ++i) {
    j["observables"][args.observables[i]] = parts_json(r.observables[i]);
    j["unperturbed"]["observables"][args.observables[i]] = number(r.observables0[i]);
  }
  j["currents"] = nlohmann::json::object();
  for (std::size_t a = 0; a < r.bath_names.size(); ++a) {
    j["currents"][r.bath_names[a]] = parts_json(r.currents[a]);
    j["unperturbed"]["currents"][r.bath_names[a]] = number(r.currents0[a]);
  }
  j["entropy_production"] = parts_json(r.entropy_production);
  if (!args.untruncated) {
    const ResponseSolverInfo& si = r.solver;
    nlohmann::json solver = {{"engine", si.engine}, {"relaxation_rate", si.relaxation_method}};
    if (si.engine == "sectors") {
      solver["sectors"] = si.sectors;
      solver["largest_sector"] = si.largest_sector;
      solver["zero_sector_unknowns"] = si.zero_sector;
      solver["solved_sectors"] = si.solved_sectors;
      solver["negligible_sectors"] = si.negligible_sectors;
      solver["gmres_iterations"] = si.gmres_iterations;
      solver["max_gmres_iterations"] = si.max_gmres_iterations;
      solver["max_relative_residual"] = si.max_residual;
      solver["krylov_products"] = si.krylov_products;
      solver["spectrum_sectors"] = si.spectrum_sectors;
      solver["arnoldi_sectors"] = si.arnoldi_sectors;
      solver["relaxation_rate_certified"] = si.relaxation_certified;
    }
    j["solver"] = solver;
  }
  // The Bloch-Redfield derivative costs four Bloch-Redfield solves: by default only where the dense
  // engine also runs (d <= 48), beyond with --redfield-derivative.
  const bool redfield = args.redfield_derivative || model.hamiltonian.rows() <= kMaxResponseDimension;
  if (r.regime.name == "eigenvalues" && !args.untruncated && !redfield) {
    j["solver"]["redfield_derivative"] = "skipped (d = " + std::to_string(model.hamiltonian.rows()) + " > " +
                                         std::to_string(kMaxResponseDimension) +
                                         ": four Bloch-Redfield solves; --redfield-derivative computes it)";
  }
  if (r.regime.name == "eigenvalues" && !args.untruncated && redfield) {
    // The local limit keeps D0 and so misses the first-order change of the rates at the shifted Bohr
    // frequencies (docs/methods.md, "Levy eq. 43"); the Bloch-Redfield derivative is the reference.
    const RedfieldDerivative rd = redfield_derivative(model, V, obs, opt.lamb_shift);
    nlohmann::json ref = {{"method", "redfield (central difference of the steady state of H0 + delta V)"},
                          {"step", rd.step}, {"observables", nlohmann::json::object()}, {"currents", nlohmann::json::object()}};
    for (std::size_t i = 0; i < obs.size(); ++i) ref["observables"][args.observables[i]] = number(rd.observables[i]);
    for (std::size_t a = 0; a < r.bath_names.size(); ++a) ref["currents"][r.bath_names[a]] = number(rd.currents[a]);
    j["redfield_derivative"] = ref;
  }
  if (!r.times.empty()) {
    j["times"] = r.times;
    j["series"] = nlohmann::json::object();
    for (std::size_t i = 0; i < obs.size(); ++i) {
      nlohmann::json s = nlohmann::json::array();
      for (const auto& at : r.observables_t) s.push_back(parts_json(at[i]));
      j["series"][args.observables[i]] = s;
    }
    if (!r.response_functions_t.empty()) {
      j["response_functions"] = nlohmann::json::object();
      for (std::size_t i = 0; i < obs.size(); ++i) {
        nlohmann::json s = nlohmann::json::array();
        for (const auto& at : r.response_functions_t) s.push_back(parts_json(at[i]));
        j["response_functions"][args.observables[i]] = s;
      }
    }
    if (!r.currents_t.empty()) {
      j["currents_series"] = nlohmann::json::object();
      for (std::size_t a = 0; a < r.bath_names.size(); ++a) {
        nlohmann::json s = nlohmann::json::array();
        for (const auto& at : r.currents_t) s.push_back(parts_json(at[a]));
        j["currents_series"][r.bath_names[a]] = s;
      }
      nlohmann::json e = nlohmann::json::array();
      for (const auto& p : r.entropy_production_t) e.push_back(parts_json(p));
      j["entropy_production_series"] = e;
    }
  }
  if (!args.delta_sweep.empty()) j["delta_sweep"] = delta_sweep(model, V, r, grid_values("--delta-sweep", args.delta_sweep), opt.lamb_shift);
  std::cout << j.dump(2) << "\n";
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
  cmd->add_option("--lamb-shift", args->lamb_shift, "on | off | auto")->check(one_of("--lamb-shift", {"on", "off", "auto"}));
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
