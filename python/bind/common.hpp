// Shared pieces of the _qheat extension module (one bind file per area: model, solve, sweep, response,
// heom): array conversion with typed errors, and running long C++ work with the GIL released and Ctrl-C
// turned into KeyboardInterrupt (docs/python.md, "Long work").
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <utility>

#include "qheat/core/interrupt.hpp"
#include "qheat/core/types.hpp"
#include "qheat/hierarchy/heom.hpp"
#include "qheat/model/model.hpp"

namespace qheat::python {

namespace py = pybind11;

// A model as the Python package holds it: the validated model, and for models loaded from a file the
// parsed file and the overrides (so that sweeps vary its parameters exactly as `qheat sweep` does).
struct PyModel {
  Model model;
  std::optional<ModelSource> source;
  std::vector<Override> overrides;
  std::string path;
};

// A square 2-D array of numbers (NumPy array or anything np.asarray accepts) as a complex matrix.
// Throws ModelError "array-shape" (not 2-D, not square, or not `dim` x `dim` when dim > 0),
// "array-dtype" (not integer, real or complex) or "array-finite" (inf or nan), naming `what`.
cmat to_matrix(const py::handle& array, const std::string& what, long dim = 0);
// A real 1-D array of numbers; the same rules ("array-shape", "array-dtype", "array-finite").
std::vector<double> to_vector(const py::handle& array, const std::string& what);
// A complex matrix as a new NumPy array (C order).
py::array_t<cplx> to_numpy(const cmat& m);

// While alive, SIGINT requests an interrupt of the C++ work (qheat::request_interrupt) and still reaches
// Python's own handler (module.cpp). Nested guards count. Constructed and destroyed with the GIL held.
class SigintGuard {
public:
  SigintGuard();
  ~SigintGuard();
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;
};

// Raises KeyboardInterrupt (through Python's own SIGINT handler when it has one) after an Interrupted.
[[noreturn]] void raise_keyboard_interrupt();

// Runs f() with the GIL released and Ctrl-C enabled: returns f's value, or raises KeyboardInterrupt
// when SIGINT arrived (the C++ work stops at its next interruption point, within milliseconds for sweeps
// and iterative solvers). qheat::Error propagates (the module's translator turns it into qheat.Error).
template <class F>
auto run_long(F&& f) -> decltype(f()) {
  SigintGuard guard;
  try {
    py::gil_scoped_release release;
    return std::forward<F>(f)();
  } catch (const Interrupted&) {
    raise_keyboard_interrupt();
  }
}

// HEOM options from the keyword arguments of solve/sweep (None: not given); bind_heom.cpp.
HeomOptions heom_options_from(const py::object& depth, const py::object& terms, const py::object& tol,
                              const std::string& decomposition, const py::object& terminator,
                              const std::string& schur = "auto");

void bind_errors(py::module_& m);
void bind_model(py::module_& m);
void bind_solve(py::module_& m);
void bind_sweep(py::module_& m);
void bind_response(py::module_& m);
void bind_heom(py::module_& m);

}  // namespace qheat::python
