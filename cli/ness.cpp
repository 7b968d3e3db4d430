// `qheat ness FILE`: nonequilibrium steady state, per-bath currents and the audit (conventions.md).
#include <cmath>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include <optional>

#include "qheat/generators/floquet.hpp"
#include "qheat/generators/generator.hpp"
#include "qheat/model/model.hpp"
#include "qheat/steady/steady_state.hpp"
#include "qheat/thermo/thermo.hpp"

namespace qheat::cli {
namespace {

struct NessArgs {
  std::string file;
  std::string method = "global";
  std::vector<std::string> sets;
  std::string lamb_shift = "auto";
  std::string format = "json";
  bool state = false;
};

std::vector<Override> parse_overrides(const std::vector<std::string>& sets) {
  std::vector<Override> out;
  for (const auto& s : sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
      throw Error("set-syntax", "--set expects NAME=VALUE, got '" + s + "'");
    out.push_back({s.substr(0, eq), s.substr(eq + 1)});
  }
  return out;
}

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json matrix_json(const cmat& m) {
  nlohmann::json re = nlohmann::json::array(), im = nlohmann::json::array();
  for (long i = 0; i < m.rows(); ++i) {
    nlohmann::json r = nlohmann::json::array(), c = nlohmann::json::array();
    for (long j = 0; j < m.cols(); ++j) {
      r.push_back(m(i, j).real());
      c.push_back(m(i, j).imag());
    }
    re.push_back(r);
    im.push_back(c);
  }
  return {{"re", re}, {"im", im}};
}

int run_ness(const NessArgs& args) {
  const Model model = load_model(args.file, parse_overrides(args.sets));
  const Method method = parse_method(args.method);
  // One report for every method: the static and dressed generators, or the Floquet-Markov solver.
  std::string method_label = method_name(method);
  bool lamb_shift = false;
  std::vector<std::string> names;
  std::vector<double> temps;
  Thermodynamics th;
  nlohmann::json steady;
  std::optional<cmat> rho;
  SteadyStatus status = SteadyStatus::converged;
  if (method == Method::floquet) {
    if (args.lamb_shift == "on")
      throw MethodError("lamb-shift-unsupported", "the Floquet-Markov method has no Lamb shift; use --lamb-shift off");
    const FloquetResult fr = floquet_steady_state(model);
    for (const Bath& b : model.baths) {
      names.push_back(b.name);
      temps.push_back(b.temperature);
    }
    status = fr.status;
    th.currents = fr.currents;
    th.drive_power = fr.drive_power;
    double sum = fr.drive_power;
    for (double j : fr.currents) sum += j;
    th.first_law_residual = sum;
    th.entropy_production = entropy_production(th.currents, temps);
    if (fr.status == SteadyStatus::not_unique)
      th.diagnostics.push_back({"error", "not-unique", "the Floquet rate equations have more than one steady state"});
    const double span = fr.quasienergies.size() > 0 ? model.drive->frequency : 0.0;
    audit_balance(th, names, temps, fr.largest_rate * span);
    audit_secular(th.diagnostics, fr.smallest_quasienergy_splitting, fr.largest_rate, "quasienergy differences");
    steady = {{"status", status_name(fr.status)},
              {"solver", "floquet-pauli"},
              {"harmonics", fr.harmonics_used},
              {"steps_per_period", fr.steps_per_period},
              {"dimension", model.hamiltonian.rows()}};
  } else {
    GeneratorOptions gopt;
    gopt.method = method;
    if (args.lamb_shift == "on") gopt.lamb_shift = LambShiftMode::on;
    else if (args.lamb_shift == "off") gopt.lamb_shift = LambShiftMode::off;
    const Generator gen(model, gopt);
    const SteadyStateResult ss = steady_state(gen);
    th = thermodynamics(gen, ss);
    names = gen.bath_names();
    temps = gen.temperatures();
    lamb_shift = gen.lamb_shift();
    status = ss.status;
    steady = {{"status", status_name(ss.status)},
              {"solver", ss.solver},
              {"residual", number(ss.residual)},
              {"rcond", number(ss.rcond)},
              {"trace", number(ss.trace)},
              {"hermiticity_error", number(ss.hermiticity_error)},
              {"min_eigenvalue", number(ss.min_eigenvalue)},
              {"iterations", ss.iterations},
              {"dimension", gen.dim()}};
    if (args.state) rho = gen.basis().from_eigen(ss.rho);
  }

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
  cmd->add_option("FILE", args->file, "TOML model file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--method", args->method, "local | global | redfield (static); dme | ddme | floquet (driven)")
      ->check(CLI::IsMember({"local", "global", "redfield", "dme", "ddme", "floquet"}));
  cmd->add_option("--set", args->sets, "override a parameter: NAME=VALUE (repeatable)");
  cmd->add_option("--lamb-shift", args->lamb_shift, "on | off (default: on where finite)")
      ->check(CLI::IsMember({"on", "off", "auto"}));
  cmd->add_option("--format", args->format, "json | table")->check(CLI::IsMember({"json", "table"}));
  cmd->add_flag("--state", args->state, "include the steady-state density matrix (site basis) in the JSON");
  cmd->callback([args, &exit_code]() { exit_code = run_ness(*args); });
}

}  // namespace qheat::cli
