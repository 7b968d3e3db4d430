// `qheat ness FILE`: nonequilibrium steady state, per-bath currents and the audit (conventions.md).
#include <cmath>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "options.hpp"
#include "output.hpp"
#include "qheat/core/resources.hpp"
#include <optional>

#include "qheat/model/model.hpp"
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

// conventions.md, "heom": the hierarchy, the correlation expansions and the convergence of the currents.
nlohmann::json heom_json(const HeomResult& h, const std::vector<std::string>& names) {
  nlohmann::json o = {{"decomposition", decomposition_name(h.decomposition)},
                      {"depth", h.depth},
                      {"terms", h.terms},
                      {"ados", h.ados},
                      {"unknowns", h.unknowns},
                      {"nonzeros", h.nonzeros}};
  o["system_currents"] = nlohmann::json::object();
  for (std::size_t a = 0; a < h.system_currents.size() && a < names.size(); ++a)
    o["system_currents"][names[a]] = number(h.system_currents[a]);
  o["baths"] = nlohmann::json::object();
  for (std::size_t a = 0; a < h.baths.size() && a < names.size(); ++a) {
    nlohmann::json terms = nlohmann::json::array();
    for (const CorrelationTerm& t : h.baths[a].terms)
      terms.push_back({{"c_re", number(t.c.real())}, {"c_im", number(t.c.imag())}, {"nu", number(t.nu)}});
    o["baths"][names[a]] = {{"reorganisation", number(h.baths[a].reorganisation)},
                            {"terminator", number(h.baths[a].terminator)},
                            {"terms", terms}};
  }
  if (h.tolerance > 0.0) {
    nlohmann::json a = {{"tolerance", h.tolerance}, {"converged", h.converged}};
    a["change_depth"] = h.change_depth ? number(*h.change_depth) : nlohmann::json(nullptr);
    a["change_terms"] = h.change_terms ? number(*h.change_terms) : nlohmann::json(nullptr);
    if (!h.stopped_by.empty()) a["stopped_by"] = h.stopped_by;
    a["history"] = nlohmann::json::array();
    for (const HeomLevel& l : h.history) {
      nlohmann::json c = nlohmann::json::object();
      for (std::size_t k = 0; k < l.currents.size() && k < names.size(); ++k) c[names[k]] = number(l.currents[k]);
      a["history"].push_back({{"depth", l.depth}, {"terms", l.terms}, {"ados", l.ados}, {"currents", c}});
    }
    o["automatic"] = a;
  }
  return o;
}

int run_ness(const NessArgs& args) {
  apply_resources(args.resources, args.resources.threads.empty() ? hardware_threads() : count_value(args.resources.threads));
  const Model model = load_model(args.file, parse_overrides(args.sets));
  SolveOptions options;
  options.lamb_shift = parse_lamb_shift_mode(args.lamb_shift);
  options.floquet.solver = parse_floquet_solver(args.floquet_solver);
  options.heom = heom_options(args.heom);
  options.state = args.state;  // the site-basis state costs two dense products at large d
  const Solution sol = solve(model, parse_method(args.method), options);
  const std::string& method_label = sol.method;
  const bool lamb_shift = sol.lamb_shift;
  const std::vector<std::string>& names = sol.bath_names;
  const std::vector<double>& temps = sol.temperatures;
  const Thermodynamics& th = sol.thermo;
  const SteadyStatus status = sol.status;
  nlohmann::json steady = {{"status", status_name(sol.status)}, {"solver", sol.solver}, {"dimension", sol.dimension}};
  if (sol.solver == "floquet-pauli") {
    steady["harmonics"] = sol.harmonics;
    steady["steps_per_period"] = sol.steps_per_period;
  } else {
    steady["residual"] = number(sol.residual);
    steady["rcond"] = number(sol.rcond);
    steady["trace"] = number(sol.trace);
    steady["hermiticity_error"] = number(sol.hermiticity_error);
    steady["min_eigenvalue"] = number(sol.min_eigenvalue);
    steady["iterations"] = sol.iterations;
    steady["structure"] = sol.structure;
  }
  std::optional<cmat> rho;
  if (args.state) rho = sol.rho;

  if (args.format == "table") {
    std::cout << "model    " << model.name << "\nmethod   " << method_label
              << (lamb_shift ? " (Lamb shift on)" : " (Lamb shift off)") << "\nstatus   " << status_name(status)
              << "\n";
    std::cout << std::setprecision(10);
    for (std::size_t a = 0; a < th.currents.size(); ++a)
      std::cout << "J[" << names[a] << "]  " << th.currents[a] << "   (T = " << temps[a] << ")\n";
    std::cout << "drive_power          " << th.drive_power << "\nentropy_production   " << th.entropy_production
              << "\nfirst_law_residual   " << th.first_law_residual << "\n";
    for (const auto& d : th.diagnostics) std::cout << d.level << " [" << d.code << "] " << d.message << "\n";
  } else {
    nlohmann::json j;
    j["model"] = model.name;
    j["method"] = method_label;
    j["lamb_shift"] = lamb_shift;
    j["currents"] = nlohmann::json::object();
    j["temperatures"] = nlohmann::json::object();
    for (std::size_t a = 0; a < th.currents.size(); ++a) {
      j["currents"][names[a]] = number(th.currents[a]);
      j["temperatures"][names[a]] = temps[a];
    }
    if (!th.bare_currents.empty()) {
      j["bare_currents"] = nlohmann::json::object();
      for (std::size_t a = 0; a < th.bare_currents.size(); ++a) j["bare_currents"][names[a]] = number(th.bare_currents[a]);
    }
    j["drive_power"] = number(th.drive_power);
    j["entropy_production"] = number(th.entropy_production);
    j["first_law_residual"] = number(th.first_law_residual);
    if (sol.floquet) {
      // conventions.md, "floquet": how the Floquet modes were found and how accurate they are.
      const FloquetResult& f = *sol.floquet;
      nlohmann::json fl = {{"solver", f.solver},
                           {"quasienergy_error", number(f.quasienergy_error)},
                           {"mode_error", number(f.propagator_error)},
                           {"harmonics", f.harmonics_used}};
      if (f.solver == "sambe") fl["sambe_harmonics"] = f.sambe_harmonics;
      else fl["steps_per_period"] = f.steps_per_period;
      std::vector<double> q(f.quasienergies.data(), f.quasienergies.data() + f.quasienergies.size());
      fl["quasienergies"] = q;
      fl["near_degenerate"] = nlohmann::json::array();
      for (const QuasienergyPair& p : f.near_degenerate)
        fl["near_degenerate"].push_back({{"a", p.a}, {"b", p.b}, {"splitting", number(p.splitting)}});
      j["floquet"] = fl;
    }
    if (sol.heom) j["heom"] = heom_json(*sol.heom, names);
    j["diagnostics"] = nlohmann::json::array();
    for (const auto& d : th.diagnostics)
      j["diagnostics"].push_back({{"level", d.level}, {"code", d.code}, {"message", d.message}});
    j["steady_state"] = steady;
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [k, v] : model.parameters) params[k] = v;
    j["parameters"] = params;
    if (rho) j["rho"] = matrix_json(*rho);
    std::cout << j.dump(2) << "\n";
  }
  return status == SteadyStatus::not_unique ? 4 : 0;
}

}  // namespace

void register_ness(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<NessArgs>();
  CLI::App* cmd = app.add_subcommand("ness", "steady state, heat currents and audit of a model file");
  cmd->add_option("FILE", args->file, "TOML model file")->required()->check(existing_file("model file"));
  cmd->add_option("--method", args->method, "local | global | redfield | heom (static); dme | ddme | floquet (driven)")
      ->check(method_name_check());
  cmd->add_option("--set", args->sets, "override a parameter: NAME=VALUE (repeatable)");
  cmd->add_option("--lamb-shift", args->lamb_shift, "on | off (default: on where finite)")
      ->check(one_of("--lamb-shift", {"on", "off", "auto"}));
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
