// The _qheat extension module: error translation, array conversion, Ctrl-C, and the areas' bindings.
#include <csignal>
#include <atomic>

#include "common.hpp"
#include "qheat/core/resources.hpp"

namespace qheat::python {
namespace {

// ---- SIGINT --------------------------------------------------------------------------------------
// Our handler is installed once (the first long call) in front of Python's own and stays; it requests an
// interrupt of the C++ work only while a long call runs, and always passes the signal on to Python. A
// solve of a small model takes microseconds, and a sigaction call costs ~1.5 us on this machine, so a call
// only compares Python's SIGINT handler object with the one seen at installation (signal.getsignal, no
// system call); when Python's handler was replaced (signal.signal), ours is put in front again.
struct sigaction g_previous {};
std::atomic<int> g_active{0};  // long calls running
bool g_installed = false;
PyObject* g_python_handler = nullptr;  // Python's handler object at installation (a strong reference)

void on_sigint(int signo, siginfo_t* info, void* context) {
  if (g_active.load(std::memory_order_relaxed) > 0) request_interrupt();
  // Python's handler marks the signal for the interpreter (it is async-signal-safe).
  if ((g_previous.sa_flags & SA_SIGINFO) != 0) {
    if (g_previous.sa_sigaction != nullptr) g_previous.sa_sigaction(signo, info, context);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN && g_previous.sa_handler != nullptr) {
    g_previous.sa_handler(signo);
  }
}

bool is_ours(const struct sigaction& a) {
  return (a.sa_flags & SA_SIGINFO) != 0 && a.sa_sigaction == on_sigint;
}

// With the GIL held.
void ensure_sigint_handler() {
  // _signal.getsignal, looked up once (importing per call goes through importlib: ~1 us) and never released.
  // Not signal.getsignal: that wrapper converts the result to an enum through a caught ValueError (1.7 us).
  static PyObject* const getsignal = py::object(py::module_::import("_signal").attr("getsignal")).release().ptr();
  const py::object handler = py::reinterpret_borrow<py::object>(getsignal)(static_cast<int>(SIGINT));
  if (g_installed && handler.ptr() == g_python_handler) return;
  struct sigaction current {};
  if (sigaction(SIGINT, nullptr, &current) != 0) return;
  Py_XDECREF(g_python_handler);
  g_python_handler = handler.inc_ref().ptr();
  if (is_ours(current)) {
    g_installed = true;
    return;
  }
  // Only in front of a real handler: SIG_IGN stays ignored, SIG_DFL keeps killing the process.
  const bool real = (current.sa_flags & SA_SIGINFO) != 0 ? current.sa_sigaction != nullptr
                                                         : current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN;
  if (!real) {
    g_installed = false;
    return;
  }
  struct sigaction mine {};
  mine.sa_sigaction = on_sigint;
  mine.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&mine.sa_mask);
  g_previous = current;
  g_installed = sigaction(SIGINT, &mine, nullptr) == 0;
}

// ---- errors --------------------------------------------------------------------------------------
void raise_error(const char* cls, const Error& e, int line, const std::string& file, py::dict extra = {}) {
  const py::object type = py::module_::import("qheat.errors").attr(cls);
  const py::object exc = type(std::string(e.what()), e.rule(), line, file, **extra);
  PyErr_SetObject(type.ptr(), exc.ptr());
}

}  // namespace

SigintGuard::SigintGuard() {
  ensure_sigint_handler();
  if (g_active.fetch_add(1) == 0) clear_interrupt();
}

SigintGuard::~SigintGuard() {
  if (g_active.fetch_sub(1) == 1) clear_interrupt();
}

void raise_keyboard_interrupt() {
  // Python's handler saw the signal too: let it run now (default: KeyboardInterrupt).
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  PyErr_SetNone(PyExc_KeyboardInterrupt);
  throw py::error_already_set();
}

namespace {
template <class Scalar>
py::array numeric_array(const py::handle& array, const std::string& what) {
  py::array a = py::module_::import("numpy").attr("asarray")(array);
  const char kind = a.dtype().kind();
  if (kind != 'i' && kind != 'u' && kind != 'f' && kind != 'c' && kind != 'b')
    throw ModelError("array-dtype", what + " must hold numbers (integer, real or complex); got dtype " +
                                        std::string(py::str(a.dtype())));
  if (kind == 'c' && std::is_same_v<Scalar, double>)
    throw ModelError("array-dtype", what + " must be real; got complex dtype " + std::string(py::str(a.dtype())));
  return a;
}

std::string shape_text(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}
}  // namespace

cmat to_matrix(const py::handle& array, const std::string& what, long dim) {
  const py::array a = numeric_array<cplx>(array, what);
  if (a.ndim() != 2 || a.shape(0) != a.shape(1) || a.shape(0) == 0)
    throw ModelError("array-shape", what + " must be a square 2-D array; got shape " + shape_text(a));
  if (dim > 0 && a.shape(0) != dim)
    throw ModelError("array-shape", what + " must be " + std::to_string(dim) + " x " + std::to_string(dim) +
                                        " (the Hilbert-space dimension); got shape " + shape_text(a));
  const auto c = py::array_t<cplx, py::array::c_style | py::array::forcecast>::ensure(a);
  const long n = static_cast<long>(a.shape(0));
  cmat m(n, n);
  const auto r = c.unchecked<2>();
  for (long i = 0; i < n; ++i)
    for (long j = 0; j < n; ++j) {
      m(i, j) = r(i, j);
      if (!std::isfinite(m(i, j).real()) || !std::isfinite(m(i, j).imag()))
        throw ModelError("array-finite", what + " has a non-finite entry at (" + std::to_string(i) + ", " +
                                             std::to_string(j) + ")");
    }
  return m;
}

std::vector<double> to_vector(const py::handle& array, const std::string& what) {
  const py::array a = numeric_array<double>(array, what);
  if (a.ndim() != 1) throw ModelError("array-shape", what + " must be a 1-D array; got shape " + shape_text(a));
  const auto c = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
  std::vector<double> v(c.data(), c.data() + c.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i])) throw ModelError("array-finite", what + " has a non-finite entry at " + std::to_string(i));
  return v;
}

py::array_t<cplx> to_numpy(const cmat& m) {
  py::array_t<cplx> a({m.rows(), m.cols()});
  auto w = a.mutable_unchecked<2>();
  for (long i = 0; i < m.rows(); ++i)
    for (long j = 0; j < m.cols(); ++j) w(i, j) = m(i, j);
  return a;
}

void bind_errors(py::module_& m) {
  // One Python exception per C++ error type (python/qheat/errors.py); nothing else reaches Python as a
  // C++ exception: any other std::exception becomes qheat.Error with rule "internal".
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const py::error_already_set&) {
      throw;
    } catch (const py::builtin_exception&) {
      throw;
    } catch (const Interrupted&) {
      PyErr_SetNone(PyExc_KeyboardInterrupt);
    } catch (const MemoryLimitError& e) {
      py::dict extra;
      extra["estimate"] = e.estimate();
      extra["limit"] = e.limit();
      raise_error("MemoryLimitError", e, 0, "", extra);
    } catch (const ModelError& e) {
      raise_error("ModelError", e, e.line(), e.file());
    } catch (const ExpressionError& e) {
      raise_error("ExpressionError", e, 0, "");
    } catch (const MethodError& e) {
      raise_error("MethodError", e, 0, "");
    } catch (const Error& e) {
      raise_error("Error", e, 0, "");
    } catch (const std::exception& e) {
      raise_error("Error", Error("internal", std::string("internal error: ") + e.what()), 0, "");
    }
  });
  m.def("_raise_for_test", [](const std::string& kind) {
    if (kind == "model") throw ModelError("test-rule", "a model error", 7, "file.toml");
    if (kind == "method") throw MethodError("test-rule", "a method error");
    if (kind == "memory") throw MemoryLimitError("too big", 2048, 1024);
    if (kind == "expression") throw ExpressionError("bad expression", 3);
    if (kind == "internal") throw std::runtime_error("boom");
    throw Error("test-rule", "an error");
  }, "Raises the C++ error of the given kind (for the test suite of the translation).");
}

}  // namespace qheat::python

PYBIND11_MODULE(_qheat, m) {
  m.doc() = "qheat's compiled core; use the package `qheat`, which wraps it.";
  qheat::settle_blas_workers();  // before any solve: idle BLAS workers sleep after 2^20 cycles (core/resources.hpp)
  namespace qp = qheat::python;
  qp::bind_errors(m);
  qp::bind_model(m);
  qp::bind_heom(m);
  qp::bind_solve(m);
  qp::bind_sweep(m);
  qp::bind_response(m);
  m.def("hardware_threads", &qheat::hardware_threads, "Cores of this machine (std::thread::hardware_concurrency).");
  m.def("set_threads", &qheat::set_thread_count, pybind11::arg("threads"), "BLAS threads of one dense solve (process-wide).");
  m.def("thread_count", &qheat::thread_count, "BLAS threads of one dense solve.");
  m.def("set_max_memory", [](const std::string& text) { qheat::set_memory_limit(text.empty() ? 0 : qheat::parse_memory_size(text)); },
        pybind11::arg("size"), "Memory limit of every solver's estimate ('12G', '512M'; '' = the available memory).");
  m.def("max_memory", &qheat::memory_limit, "The memory limit in bytes.");
}
