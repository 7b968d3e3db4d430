// qheat.sweep: grids of steady states over a model file's parameters (exactly `qheat sweep`) or over a
// Python function that builds the model of each point; the table comes back as typed columns.
#include <chrono>
#include <mutex>

#include "common.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/operators/expression.hpp"
#include "qheat/sweep/sweep.hpp"

namespace qheat::python {
namespace {

const char* kind_name(ColumnKind k) {
  switch (k) {
    case ColumnKind::number: return "number";
    case ColumnKind::integer: return "integer";
    case ColumnKind::flag: return "flag";
    case ColumnKind::text: return "text";
  }
  return "text";
}

// [(name, kind, [values...]), ...] in the order of the CSV's columns.
py::list columns_of(const SweepResult& r) {
  const std::vector<SweepColumn> cols = sweep_columns(r);
  std::vector<py::list> values(cols.size());
  for (std::size_t k = 0; k < r.rows.size(); ++k) {
    const std::vector<std::string> f = sweep_fields(r, k);
    for (std::size_t c = 0; c < cols.size(); ++c) {
      switch (cols[c].kind) {
        case ColumnKind::number: values[c].append(std::strtod(f[c].c_str(), nullptr)); break;
        case ColumnKind::integer: values[c].append(std::stoll(f[c])); break;
        case ColumnKind::flag: values[c].append(f[c] == "1"); break;
        case ColumnKind::text: values[c].append(f[c]); break;
      }
    }
  }
  py::list out;
  for (std::size_t c = 0; c < cols.size(); ++c) out.append(py::make_tuple(cols[c].name, kind_name(cols[c].kind), values[c]));
  return out;
}

// Progress on Python's sys.stderr (a terminal or a notebook), at most every 100 ms, from the workers.
class PythonProgress {
public:
  void operator()(std::size_t done, std::size_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const py::gil_scoped_acquire gil;
    const py::object err = py::module_::import("sys").attr("stderr");
    err.attr("write")("\r" + progress_text(done, total, elapsed) + (done == total ? "\n" : " "));
    err.attr("flush")();
  }

private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_{};
};

// The model of one point from a Python function of the varied parameters (keyword arguments). A
// qheat.Error raised by it fails that point (as a bad parameter value of a file does); any other
// exception stops the sweep.
PointModel python_point_model(const py::object& function, const std::vector<std::string>& names) {
  return [function, names](const std::vector<double>& point) -> Model {
    const py::gil_scoped_acquire gil;
    py::dict kwargs;
    for (std::size_t a = 0; a < names.size(); ++a) kwargs[py::str(names[a])] = point[a];
    try {
      py::object built = function(**kwargs);
      if (py::hasattr(built, "_native")) built = built.attr("_native");
      if (!py::isinstance<PyModel>(built))  // a programming error: stops the sweep (TypeError)
        throw py::type_error("the sweep's model function must return a qheat.Model; got " +
                             std::string(py::str(py::type::of(built).attr("__name__"))));
      return built.cast<const PyModel&>().model;
    } catch (py::error_already_set& e) {
      const py::object qheat_error = py::module_::import("qheat.errors").attr("Error");
      if (!e.matches(qheat_error)) throw;
      throw Error(py::str(e.value().attr("rule")), py::str(e.value().attr("message")));
    }
  };
}

py::dict sweep(const py::object& model, const py::object& function, const std::vector<std::string>& names,
               const std::vector<std::vector<double>>& values, const std::vector<std::string>& methods,
               const std::string& lamb_shift, const std::string& floquet_solver, const HeomOptions& heom,
               const std::vector<std::string>& observables, int jobs, int threads, const std::string& reference,
               bool progress) {
  std::vector<SweepAxis> axes;
  for (std::size_t a = 0; a < names.size(); ++a) {
    if (!is_identifier(names[a])) throw Error("vary-syntax", "vary: '" + names[a] + "' is not a parameter name");
    axes.push_back({names[a], values.at(a)});
  }
  SweepOptions opt;
  opt.methods.clear();
  for (const std::string& m : methods) opt.methods.push_back(parse_method(m));
  opt.lamb_shift = parse_lamb_shift_mode(lamb_shift);
  opt.floquet.solver = parse_floquet_solver(floquet_solver);
  opt.heom = heom;
  opt.observables = observables;
  if (!reference.empty()) opt.reference = parse_method(reference);
  if (jobs < 0 || threads < 0) throw Error("jobs", "jobs and threads must be positive");
  const SweepParallelism par = sweep_parallelism(jobs, threads);
  opt.jobs = par.jobs;
  // BLAS threads per point for this sweep only (as `qheat sweep`), then back to the process-wide setting.
  struct RestoreThreads {
    int n = thread_count();
    RestoreThreads(const RestoreThreads&) = delete;
    RestoreThreads& operator=(const RestoreThreads&) = delete;
    RestoreThreads() = default;
    ~RestoreThreads() { set_thread_count(n); }
  } restore;
  set_thread_count(par.threads);
  PythonProgress bar;
  if (progress) opt.progress = [&bar](std::size_t done, std::size_t total) { bar(done, total); };

  SweepResult r;
  if (!function.is_none()) {
    const PointModel model_at = python_point_model(function, names);
    r = run_long([&] { return run_sweep(model_at, axes, opt); });
  } else {
    const PyModel& pm = model.cast<const PyModel&>();
    if (!pm.source)
      throw Error("sweep-model", "a model built from arrays has no parameters to vary; pass a function of the varied "
                                 "parameters that returns the model, e.g. qheat.sweep(lambda T1: qheat.Model(...), vary=...)");
    check_sweep_parameters(*pm.source, pm.overrides, axes, opt.observables);
    r = run_long([&] { return run_sweep(*pm.source, pm.overrides, axes, opt); });
  }
  py::dict out;
  out["columns"] = columns_of(r);
  out["bath_names"] = r.bath_names;
  out["reference"] = r.reference ? method_name(*r.reference) : std::string();
  return out;
}

}  // namespace

void bind_sweep(py::module_& m) {
  m.def("sweep", &sweep, py::arg("model"), py::arg("function"), py::arg("names"), py::arg("values"),
        py::arg("methods"), py::arg("lamb_shift"), py::arg("floquet_solver"), py::arg("heom"), py::arg("observables"),
        py::arg("jobs"), py::arg("threads"), py::arg("reference"), py::arg("progress"),
        "A grid of steady states; columns as in `qheat sweep`'s CSV: [(name, kind, values), ...].");
  m.def("parse_vary", [](const std::string& spec) {
        const SweepAxis ax = parse_vary(spec);
        return py::make_tuple(ax.name, ax.values);
      }, py::arg("spec"), "NAME=START:STOP:NUM | NAME=log:START:STOP:NUM | NAME=V1,V2,... -> (name, values).");
}

}  // namespace qheat::python
