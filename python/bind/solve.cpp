// One model, one method: qheat.Model.solve (the `qheat ness` computation) and qheat.gibbs.
#include <chrono>

#include "common.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/run/report.hpp"
#include "qheat/run/solve.hpp"

namespace qheat::python {
namespace {

// A solution and the Python object of its model (for the JSON document's name and parameters; a
// reference, not a copy: a copy of the parameters costs a tenth of a small model's solve).
struct PySolution {
  Solution solution;
  py::object model;
  [[nodiscard]] const Model& model_ref() const { return model.cast<const PyModel&>().model; }
};

SolveOptions solve_options(const std::string& lamb_shift, bool state, const std::string& floquet_solver,
                           const HeomOptions& heom) {
  SolveOptions o;
  o.lamb_shift = parse_lamb_shift_mode(lamb_shift);
  o.state = state;
  o.floquet.solver = parse_floquet_solver(floquet_solver);
  o.heom = heom;
  return o;
}

// threads > 0: BLAS threads from now on (process-wide, like qheat.set_threads); 0: keep the setting.
void apply_threads(int threads) {
  if (threads < 0) throw Error("threads", "threads must be a positive number; got " + std::to_string(threads));
  if (threads > 0 && thread_count() != threads) set_thread_count(threads);
}

PySolution solve_model(const py::object& model, const std::string& method, const std::string& lamb_shift, bool state,
                       const std::string& floquet_solver, const HeomOptions& heom, int threads) {
  const PyModel& pm = model.cast<const PyModel&>();
  const Method mth = parse_method(method);
  const SolveOptions o = solve_options(lamb_shift, state, floquet_solver, heom);
  apply_threads(threads);
  return PySolution{run_long([&] { return solve(pm.model, mth, o); }), model};
}

py::list diagnostics_of(const Thermodynamics& th) {
  py::list out;
  for (const Diagnostic& d : th.diagnostics) {
    py::dict e;
    e["level"] = d.level;
    e["code"] = d.code;
    e["message"] = d.message;
    out.append(e);
  }
  return out;
}

}  // namespace

void bind_solve(py::module_& m) {
  py::class_<PySolution>(m, "Solution", "The steady state of one model and method, and its thermodynamics.")
      .def_property_readonly("method", [](const PySolution& s) { return s.solution.method; })
      .def_property_readonly("lamb_shift", [](const PySolution& s) { return s.solution.lamb_shift; })
      .def_property_readonly("bath_names", [](const PySolution& s) { return s.solution.bath_names; })
      .def_property_readonly("temperatures", [](const PySolution& s) { return s.solution.temperatures; })
      .def_property_readonly("currents", [](const PySolution& s) { return s.solution.thermo.currents; })
      .def_property_readonly("current_map", [](const PySolution& s) {
        py::dict d;  // {bath: current}, built here: half the cost of zipping the two lists in Python
        for (std::size_t a = 0; a < s.solution.thermo.currents.size(); ++a)
          d[py::str(s.solution.bath_names[a])] = s.solution.thermo.currents[a];
        return d;
      })
      .def_property_readonly("bare_currents", [](const PySolution& s) { return s.solution.thermo.bare_currents; })
      .def_property_readonly("drive_power", [](const PySolution& s) { return s.solution.thermo.drive_power; })
      .def_property_readonly("entropy_production", [](const PySolution& s) { return s.solution.thermo.entropy_production; })
      .def_property_readonly("first_law_residual", [](const PySolution& s) { return s.solution.thermo.first_law_residual; })
      .def_property_readonly("diagnostics", [](const PySolution& s) { return diagnostics_of(s.solution.thermo); })
      .def_property_readonly("status", [](const PySolution& s) { return status_name(s.solution.status); })
      .def_property_readonly("solver", [](const PySolution& s) { return s.solution.solver; })
      .def_property_readonly("residual", [](const PySolution& s) { return s.solution.residual; })
      .def_property_readonly("has_state", [](const PySolution& s) { return s.solution.rho.has_value(); })
      .def_property_readonly("rho", [](const PySolution& s) -> py::object {
        if (!s.solution.rho) return py::none();
        return to_numpy(*s.solution.rho);
      })
      .def("json", [](const PySolution& s, bool with_state) { return solution_json(s.model_ref(), s.solution, with_state).dump(); },
           py::arg("with_state") = true, "The `qheat ness` JSON document of this solution (with --state).");

  m.def("solve", &solve_model, py::arg("model"), py::arg("method") = "global", py::arg("lamb_shift") = "auto",
        py::arg("state") = true, py::arg("floquet_solver") = "sambe", py::arg("heom") = HeomOptions{},
        py::arg("threads") = 0, "Steady state and thermodynamics (the computation of `qheat ness`).");

  m.def("gibbs", [](const PyModel& pm, int order, const std::vector<std::string>& observables, int threads) {
        if (order != 0 && order != 2)
          throw MethodError("mean-force-order", "order must be 0 or 2; got " + std::to_string(order));
        apply_threads(threads);
        for (const std::string& o : observables) (void)model_operator(pm.model, o);  // before the computation
        MeanForceOptions opt;
        opt.order = order;
        const MeanForceState s = run_long([&] { return mean_force_gibbs(pm.model, opt); });
        return py::make_tuple(gibbs_json(pm.model, s, observables, false).dump(), to_numpy(s.rho));
      }, py::arg("model"), py::arg("order") = 2, py::arg("observables") = std::vector<std::string>{},
      py::arg("threads") = 0, "The `qheat gibbs` document without rho (JSON text) and rho.");

  // The C++ call that model.solve() wraps, timed in this process (bench/python_overhead.py): the mean
  // seconds per call of `repeats` solves.
  m.def("_time_native_solve", [](const PyModel& pm, const std::string& method, int repeats) {
        const SolveOptions o = solve_options("auto", true, "sambe", HeomOptions{});
        const Method mth = parse_method(method);
        py::gil_scoped_release release;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < repeats; ++i) (void)solve(pm.model, mth, o);
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / std::max(1, repeats);
      }, py::arg("model"), py::arg("method"), py::arg("repeats"));
}

}  // namespace qheat::python
