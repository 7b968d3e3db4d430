// The HEOM method's options (docs/conventions.md, "HEOM"): Python's heom_depth, heom_terms, heom_tol,
// heom_decomposition, heom_terminator and heom_schur, with the rules of --heom-depth/--heom-terms/--heom-tol.
#include "common.hpp"

namespace qheat::python {

HeomOptions heom_options_from(const py::object& depth, const py::object& terms, const py::object& tol,
                              const std::string& decomposition, const py::object& terminator, const std::string& schur) {
  HeomRequest r;
  r.decomposition = parse_heom_decomposition(decomposition);
  r.schur = parse_heom_schur(schur);
  // True/False (on/off) or the name of a terminator, as --heom-terminator.
  if (py::isinstance<py::bool_>(terminator))
    r.terminator = terminator.cast<bool>() ? HeomTerminator::ishizaki_tanimura : HeomTerminator::off;
  else if (py::isinstance<py::str>(terminator))
    r.terminator = parse_heom_terminator(terminator.cast<std::string>());
  else
    throw MethodError("heom-terminator", "heom_terminator expects True, False, 'ishizaki-tanimura', 'second-order' or "
                                         "'off'; got " + std::string(py::repr(terminator)));
  auto whole = [](const py::object& v, const char* rule, const char* name) -> std::optional<int> {
    if (v.is_none()) return std::nullopt;
    if (!py::isinstance<py::int_>(v) || py::isinstance<py::bool_>(v))
      throw Error(rule, std::string(name) + " expects a whole number; got " + std::string(py::repr(v)));
    const long long n = v.cast<long long>();
    if (n < -1 || n > 1000) throw Error(rule, std::string(name) + " is out of range; got " + std::to_string(n));
    return static_cast<int>(n);
  };
  r.depth = whole(depth, "heom-depth", "heom_depth");
  r.terms = whole(terms, "heom-terms", "heom_terms");
  if (!tol.is_none()) {
    if (!py::isinstance<py::float_>(tol) && !py::isinstance<py::int_>(tol))
      throw Error("heom-tol", "heom_tol expects a number between 0 and 1 (exclusive); got " + std::string(py::repr(tol)));
    r.tolerance = tol.cast<double>();
  }
  return heom_options(r);
}

void bind_heom(py::module_& m) {
  py::class_<HeomOptions>(m, "HeomOptions", "The hierarchy asked for (fixed, or automatic to a tolerance).")
      .def_readonly("depth", &HeomOptions::depth)
      .def_readonly("terms", &HeomOptions::terms)
      .def_readonly("tolerance", &HeomOptions::tolerance)
      .def_property_readonly("terminator", [](const HeomOptions& o) { return terminator_name(o.terminator); })
      .def_property_readonly("decomposition", [](const HeomOptions& o) { return decomposition_name(o.decomposition); })
      .def_property_readonly("schur", [](const HeomOptions& o) { return schur_solver_name(o.schur_solver); });
  m.def("heom_options", &heom_options_from, py::arg("depth") = py::none(), py::arg("terms") = py::none(),
        py::arg("tol") = py::none(), py::arg("decomposition") = "pade", py::arg("terminator") = py::bool_(true), py::arg("schur") = "auto",
        "The HEOM options of solve/sweep, checked by the rules of --heom-depth, --heom-terms and --heom-tol.");
}

}  // namespace qheat::python
