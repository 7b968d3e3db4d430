#include "qheat/run/report.hpp"

#include <cmath>

#include "qheat/core/linalg.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/response/bosonic.hpp"
#include "qheat/response/perturbed.hpp"
#include "qheat/response/response.hpp"

namespace qheat {

nlohmann::json json_number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

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

namespace {

// conventions.md, "heom": the hierarchy, the correlation expansions and the convergence of the currents.
nlohmann::json heom_json(const HeomResult& h, const std::vector<std::string>& names) {
  nlohmann::json o = {{"decomposition", decomposition_name(h.decomposition)},
                      {"terminator", terminator_name(h.terminator)},
                      {"depth", h.depth},
                      {"terms", h.terms},
                      {"ados", h.ados},
                      {"unknowns", h.unknowns},
                      {"nonzeros", h.nonzeros}};
  // How ADO 0's preconditioner solved with its Schur complement B0 (conventions.md, "heom").
  nlohmann::json schur = {{"solver", h.iterative_schur ? "iterative" : "dense"}, {"fallback", h.schur_fallback}};
  if (h.iterative_schur) {
    schur["slow_elements"] = h.schur_slow;
    schur["iterations_per_solve"] = json_number(h.schur_iterations);
  }
  o["schur"] = schur;
  o["system_currents"] = nlohmann::json::object();
  for (std::size_t a = 0; a < h.system_currents.size() && a < names.size(); ++a)
    o["system_currents"][names[a]] = json_number(h.system_currents[a]);
  o["baths"] = nlohmann::json::object();
  for (std::size_t a = 0; a < h.baths.size() && a < names.size(); ++a) {
    nlohmann::json terms = nlohmann::json::array();
    for (const CorrelationTerm& t : h.baths[a].terms)
      terms.push_back({{"c_re", json_number(t.c.real())}, {"c_im", json_number(t.c.imag())}, {"nu", json_number(t.nu)}});
    o["baths"][names[a]] = {{"reorganisation", json_number(h.baths[a].reorganisation)},
                            {"terminator", json_number(h.baths[a].terminator)},
                            {"terms", terms}};
  }
  if (h.tolerance > 0.0) {
    nlohmann::json a = {{"tolerance", h.tolerance}, {"converged", h.converged}, {"measure", h.measure}};
    a["change_depth"] = h.change_depth ? json_number(*h.change_depth) : nlohmann::json(nullptr);
    a["change_terms"] = h.change_terms ? json_number(*h.change_terms) : nlohmann::json(nullptr);
    if (!h.stopped_by.empty()) a["stopped_by"] = h.stopped_by;
    a["factorisations"] = h.schur_factorisations;
    a["history"] = nlohmann::json::array();
    for (const HeomLevel& l : h.history) {
      nlohmann::json c = nlohmann::json::object();
      for (std::size_t k = 0; k < l.currents.size() && k < names.size(); ++k) c[names[k]] = json_number(l.currents[k]);
      a["history"].push_back(
          {{"depth", l.depth}, {"terms", l.terms}, {"ados", l.ados}, {"factorisations", l.factorisations}, {"currents", c}});
    }
    o["automatic"] = a;
  }
  return o;
}

// conventions.md, "floquet": how the Floquet modes were found and how accurate they are.
nlohmann::json floquet_json(const FloquetResult& f) {
  nlohmann::json fl = {{"solver", f.solver},
                       {"quasienergy_error", json_number(f.quasienergy_error)},
                       {"mode_error", json_number(f.propagator_error)},
                       {"harmonics", f.harmonics_used}};
  if (f.solver == "sambe") fl["sambe_harmonics"] = f.sambe_harmonics;
  else {
    fl["steps_per_period"] = f.steps_per_period;
    fl["propagator_basis"] = f.propagator_basis;
  }
  std::vector<double> q(f.quasienergies.data(), f.quasienergies.data() + f.quasienergies.size());
  fl["quasienergies"] = q;
  fl["near_degenerate"] = nlohmann::json::array();
  for (const QuasienergyPair& p : f.near_degenerate)
    fl["near_degenerate"].push_back({{"a", p.a}, {"b", p.b}, {"splitting", json_number(p.splitting)}});
  return fl;
}

nlohmann::json steady_json(const Solution& sol) {
  nlohmann::json steady = {{"status", status_name(sol.status)}, {"solver", sol.solver}, {"dimension", sol.dimension}};
  if (sol.solver == "floquet-pauli") {
    steady["harmonics"] = sol.harmonics;
    steady["steps_per_period"] = sol.steps_per_period;
  } else {
    steady["residual"] = json_number(sol.residual);
    steady["rcond"] = json_number(sol.rcond);
    steady["trace"] = json_number(sol.trace);
    steady["hermiticity_error"] = json_number(sol.hermiticity_error);
    steady["min_eigenvalue"] = json_number(sol.min_eigenvalue);
    steady["iterations"] = sol.iterations;
    steady["structure"] = sol.structure;
  }
  return steady;
}

nlohmann::json parts_json(const ResponseParts& p) {
  return {{"kubo", json_number(p.kubo)}, {"dissipator", json_number(p.dissipator)}, {"total", json_number(p.total)}};
}

// Heat currents of the generator re-derived for H0 + delta V (global limit, Levy eqs. 44-46) and of
// Bloch-Redfield for H0 + delta V (no secular approximation: valid on both sides of nu ~ 1/tau).
nlohmann::json delta_sweep_json(const Model& model, const cmat& V, const ResponseResult& r,
                                const std::vector<double>& deltas, LambShiftMode mode) {
  nlohmann::json rows = nlohmann::json::array();
  for (double delta : deltas) {
    nlohmann::json row = {{"delta", delta}};
    nlohmann::json lin = nlohmann::json::object();
    for (std::size_t a = 0; a < r.bath_names.size(); ++a)
      lin[r.bath_names[a]] = json_number(r.currents0[a] + delta * r.currents[a].total);
    row["linear"] = lin;
    Model perturbed = model;
    perturbed.hamiltonian = model.hamiltonian + delta * V;
    for (const Method m : {Method::global, Method::redfield}) {
      nlohmann::json cur = nlohmann::json::object();
      try {
        const Solution s = solve(perturbed, m, mode);
        for (std::size_t a = 0; a < s.bath_names.size(); ++a) cur[s.bath_names[a]] = json_number(s.thermo.currents[a]);
      } catch (const Error& e) {
        cur["error"] = std::string(e.what());
        cur["rule"] = e.rule();
      }
      row[method_name(m)] = cur;
    }
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

nlohmann::json solution_json(const Model& model, const Solution& sol, bool with_state) {
  const std::vector<std::string>& names = sol.bath_names;
  const Thermodynamics& th = sol.thermo;
  nlohmann::json j;
  j["model"] = model.name;
  j["method"] = sol.method;
  j["lamb_shift"] = sol.lamb_shift;
  j["currents"] = nlohmann::json::object();
  j["temperatures"] = nlohmann::json::object();
  for (std::size_t a = 0; a < th.currents.size(); ++a) {
    j["currents"][names[a]] = json_number(th.currents[a]);
    j["temperatures"][names[a]] = sol.temperatures[a];
  }
  if (!th.bare_currents.empty()) {
    j["bare_currents"] = nlohmann::json::object();
    for (std::size_t a = 0; a < th.bare_currents.size(); ++a) j["bare_currents"][names[a]] = json_number(th.bare_currents[a]);
  }
  j["drive_power"] = json_number(th.drive_power);
  j["entropy_production"] = json_number(th.entropy_production);
  j["first_law_residual"] = json_number(th.first_law_residual);
  if (sol.floquet) j["floquet"] = floquet_json(*sol.floquet);
  if (sol.heom) j["heom"] = heom_json(*sol.heom, names);
  j["diagnostics"] = nlohmann::json::array();
  for (const auto& d : th.diagnostics)
    j["diagnostics"].push_back({{"level", d.level}, {"code", d.code}, {"message", d.message}});
  j["steady_state"] = steady_json(sol);
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, v] : model.parameters) params[k] = v;
  j["parameters"] = params;
  if (with_state && sol.rho) j["rho"] = matrix_json(*sol.rho);
  return j;
}

nlohmann::json gibbs_json(const Model& model, const MeanForceState& s, const std::vector<std::string>& observables,
                          bool with_state) {
  nlohmann::json obs = nlohmann::json::object();
  for (const std::string& text : observables) {
    const cmat O = model_operator(model, text);
    const cplx v = linalg::trace_of_product(s.rho, O);
    obs[text] = {{"re", json_number(v.real())}, {"im", json_number(v.imag())}};
  }
  nlohmann::json j;
  j["model"] = model.name;
  j["temperature"] = json_number(s.temperature);
  j["order"] = s.order;
  if (with_state) j["rho"] = matrix_json(s.rho);
  j["observables"] = obs;
  return j;
}

nlohmann::json response_json(const Model& model, const ResponseRequest& request) {
  if (request.method != "global")
    throw MethodError("response-method", "linear response is implemented for the global (Davies) master equation, "
                                         "the one Levy, Rabani and Limmer use; got method " + request.method);
  const std::vector<std::string>& names = request.observables;
  std::vector<std::string> texts{request.perturbation};  // the perturbation first, then the observables
  texts.insert(texts.end(), names.begin(), names.end());
  std::vector<cmat> obs = model_operators(
      model, texts, "the perturbation and " + std::to_string(request.observables.size()) + " observables");
  const cmat V = std::move(obs.front());
  obs.erase(obs.begin());
  ResponseOptions opt;
  opt.lamb_shift = request.lamb_shift;
  opt.times = request.times;
  const ResponseResult r =
      request.untruncated ? bosonic_linear_response(model, V, obs, opt) : linear_response(model, V, obs, opt);

  nlohmann::json j;
  j["model"] = model.name;
  j["method"] = "global";
  j["perturbation"] = request.perturbation;
  j["regime"] = r.regime.name;
  j["limit"] = r.regime.limit;
  j["regime_details"] = {{"bohr_shift_per_delta", json_number(r.regime.bohr_shift)},
                         {"bohr_splitting_per_delta", json_number(r.regime.bohr_splitting)},
                         {"relaxation_rate", json_number(r.regime.relaxation_rate)},
                         {"delta_local_max", json_number(r.regime.delta_local_max)},
                         {"delta_global_min", json_number(r.regime.delta_global_min)}};
  j["untruncated"] = request.untruncated;
  j["observables"] = nlohmann::json::object();
  j["unperturbed"] = {{"observables", nlohmann::json::object()}, {"currents", nlohmann::json::object()}};
  for (std::size_t i = 0; i < obs.size(); ++i) {
    j["observables"][names[i]] = parts_json(r.observables[i]);
    j["unperturbed"]["observables"][names[i]] = json_number(r.observables0[i]);
  }
  j["currents"] = nlohmann::json::object();
  for (std::size_t a = 0; a < r.bath_names.size(); ++a) {
    j["currents"][r.bath_names[a]] = parts_json(r.currents[a]);
    j["unperturbed"]["currents"][r.bath_names[a]] = json_number(r.currents0[a]);
  }
  j["entropy_production"] = parts_json(r.entropy_production);
  if (!request.untruncated) {
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
  // engine also runs (d <= 48), beyond with redfield_derivative.
  const bool redfield = request.redfield_derivative || model.hamiltonian.rows() <= kMaxResponseDimension;
  if (r.regime.name == "eigenvalues" && !request.untruncated && !redfield) {
    j["solver"]["redfield_derivative"] = "skipped (d = " + std::to_string(model.hamiltonian.rows()) + " > " +
                                         std::to_string(kMaxResponseDimension) +
                                         ": four Bloch-Redfield solves; --redfield-derivative computes it)";
  }
  if (r.regime.name == "eigenvalues" && !request.untruncated && redfield) {
    // The local limit keeps D0 and so misses the first-order change of the rates at the shifted Bohr
    // frequencies (docs/methods.md, "Levy eq. 43"); the Bloch-Redfield derivative is the reference.
    // Computed unasked (d <= 48), it must not cost the response its result: Bloch-Redfield at H0 +- delta V can be
    // refused where the response is not (the rotated eigenbasis gives sigma- a zero-frequency part, whose rate is
    // infinite for a flat bath), and the refusal is then recorded here, as --delta-sweep records it per row.
    nlohmann::json ref = {{"method", "redfield (central difference of the steady state of H0 + delta V)"}};
    try {
      const RedfieldDerivative rd = redfield_derivative(model, V, obs, opt.lamb_shift);
      ref["step"] = rd.step;
      ref["observables"] = nlohmann::json::object();
      ref["currents"] = nlohmann::json::object();
      for (std::size_t i = 0; i < obs.size(); ++i) ref["observables"][names[i]] = json_number(rd.observables[i]);
      for (std::size_t a = 0; a < r.bath_names.size(); ++a) ref["currents"][r.bath_names[a]] = json_number(rd.currents[a]);
    } catch (const Error& e) {
      if (request.redfield_derivative) throw;  // asked for: its refusal is the command's error
      ref["error"] = std::string(e.what());
      ref["rule"] = e.rule();
    }
    j["redfield_derivative"] = ref;
  }
  if (!r.times.empty()) {
    j["times"] = r.times;
    j["series"] = nlohmann::json::object();
    for (std::size_t i = 0; i < obs.size(); ++i) {
      nlohmann::json s = nlohmann::json::array();
      for (const auto& at : r.observables_t) s.push_back(parts_json(at[i]));
      j["series"][names[i]] = s;
    }
    if (!r.response_functions_t.empty()) {
      j["response_functions"] = nlohmann::json::object();
      for (std::size_t i = 0; i < obs.size(); ++i) {
        nlohmann::json s = nlohmann::json::array();
        for (const auto& at : r.response_functions_t) s.push_back(parts_json(at[i]));
        j["response_functions"][names[i]] = s;
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
  if (!request.delta_sweep.empty())
    j["delta_sweep"] = delta_sweep_json(model, V, r, request.delta_sweep, opt.lamb_shift);
  return j;
}

}  // namespace qheat
