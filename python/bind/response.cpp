// qheat.response (the `qheat response` computation: Levy, Rabani and Limmer's linear response) and
// qheat.check (the check files of `qheat check`).
#include "common.hpp"
#include "qheat/run/check.hpp"
#include "qheat/run/report.hpp"

namespace qheat::python {

void bind_response(py::module_& m) {
  m.def("response", [](const PyModel& pm, const std::string& perturbation, const std::vector<std::string>& observables,
                       const std::string& method, const std::string& lamb_shift, const py::object& times,
                       const py::object& delta_sweep, bool untruncated, bool redfield_derivative) {
        ResponseRequest r;
        r.method = method;
        r.perturbation = perturbation;
        r.observables = observables;
        r.lamb_shift = parse_lamb_shift_mode(lamb_shift);
        if (!times.is_none()) r.times = to_vector(times, "times");
        if (!delta_sweep.is_none()) r.delta_sweep = to_vector(delta_sweep, "delta_sweep");
        for (const double t : r.times)
          if (t < 0) throw Error("times-syntax", "times must be >= 0");
        r.untruncated = untruncated;
        r.redfield_derivative = redfield_derivative;
        return run_long([&] { return response_json(pm.model, r).dump(); });
      }, py::arg("model"), py::arg("perturbation"), py::arg("observables"), py::arg("method"), py::arg("lamb_shift"),
      py::arg("times"), py::arg("delta_sweep"), py::arg("untruncated"), py::arg("redfield_derivative"),
      "The `qheat response` document as JSON text.");

  m.def("check", [](const std::vector<std::string>& files, const std::string& examples) {
        const CheckReport rep = run_long([&] { return run_checks(files.empty() ? find_check_files(examples) : files); });
        py::list rows;
        for (const CheckRow& c : rep.rows) {
          py::dict d;
          d["file"] = c.file;
          d["ref"] = c.ref;
          d["quantity"] = c.quantity;
          d["point"] = c.point;
          d["computed"] = c.computed;
          d["expected"] = c.expected;
          d["deviation"] = c.deviation;
          d["result"] = c.result;
          d["failed"] = c.failed;
          rows.append(d);
        }
        return py::make_tuple(rep.files, rows, rep.failed, rep.discrepancies);
      }, py::arg("files"), py::arg("examples"), "Runs check files: (files, rows, failed, discrepancies).");
  m.attr("EXAMPLES_DIR") = QHEAT_EXAMPLES_DIR;
}

}  // namespace qheat::python
