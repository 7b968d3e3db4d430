#include "qheat/sweep/sweep.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "qheat/core/interrupt.hpp"
#include "qheat/core/linalg.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/operators/expression.hpp"
#include "qheat/thermo/thermo.hpp"

namespace qheat {
namespace {

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t") - a + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto pos = s.find(sep, start);
    out.push_back(trim(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start)));
    if (pos == std::string::npos) return out;
    start = pos + 1;
  }
}

double number_of(const std::string& text, const std::string& spec) {
  if (text.empty()) throw Error("vary-syntax", "--vary " + spec + ": an empty number");
  try {
    const double v = evaluate_real(text, EvalContext{});
    if (!std::isfinite(v)) throw Error("vary-syntax", "--vary " + spec + ": '" + text + "' is not finite");
    return v;
  } catch (const ExpressionError& e) {
    throw Error("vary-syntax", "--vary " + spec + ": '" + text + "' is not a number (" + e.what() + ")");
  }
}

// Grids larger than this are certainly a typo (10^7 points of the fastest model take minutes).
constexpr long long kMaxAxisPoints = 10000000;

long long count_of(const std::string& text, const std::string& spec) {
  const double n = number_of(text, spec);
  if (n < 1 || n > static_cast<double>(kMaxAxisPoints) || std::abs(n - std::round(n)) > 1e-9)
    throw Error("vary-syntax", "--vary " + spec + ": the number of points must be an integer from 1 to " +
                                   std::to_string(kMaxAxisPoints) + ", got '" + text + "'");
  return std::llround(n);
}

std::string format_value(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Position of `reference` among the methods of a point's rows (the first, when a method is listed twice).
std::size_t reference_index(const std::vector<Method>& methods, Method reference) {
  const auto it = std::find(methods.begin(), methods.end(), reference);
  if (it == methods.end()) {
    std::string names;
    for (const Method m : methods) names += (names.empty() ? "" : ",") + method_name(m);
    throw Error("sweep-reference", "the reference method '" + method_name(reference) +
                                       "' is not one of the sweep's methods (" + names + "); add it to --method");
  }
  return static_cast<std::size_t>(it - methods.begin());
}

}  // namespace

SweepAxis parse_vary(const std::string& spec) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos)
    throw Error("vary-syntax", "--vary expects NAME=START:STOP:NUM, NAME=log:START:STOP:NUM or NAME=V1,V2,...; got '" +
                                   spec + "'");
  SweepAxis axis;
  axis.name = trim(spec.substr(0, eq));
  if (!is_identifier(axis.name))
    throw Error("vary-syntax", "--vary " + spec + ": '" + axis.name + "' is not a parameter name");
  const std::string rhs = trim(spec.substr(eq + 1));
  if (rhs.find(':') != std::string::npos) {
    std::vector<std::string> parts = split(rhs, ':');
    const bool log = !parts.empty() && parts[0] == "log";
    if (log) parts.erase(parts.begin());
    if (parts.size() != 3)
      throw Error("vary-syntax", "--vary " + spec + ": a range is START:STOP:NUM or log:START:STOP:NUM");
    const double a = number_of(parts[0], spec), b = number_of(parts[1], spec);
    const long long n = count_of(parts[2], spec);
    if (log && (a <= 0 || b <= 0))
      throw Error("vary-syntax", "--vary " + spec + ": a log range needs START > 0 and STOP > 0");
    axis.values.reserve(static_cast<std::size_t>(n));
    // NumPy's linspace and logspace (start + k step, 10^(log10 start + k step)), so that 5:205:41 holds 60
    // exactly as numpy.linspace(5, 205, 41) does; the end points are START and STOP exactly.
    const double lo = log ? std::log10(a) : a, hi = log ? std::log10(b) : b;
    const double step = n > 1 ? (hi - lo) / static_cast<double>(n - 1) : 0.0;
    for (long long k = 0; k < n; ++k) {
      const double u = static_cast<double>(k) * step + lo;
      double v = log ? std::pow(10.0, u) : u;
      if (k == 0) v = a;
      if (k == n - 1 && n > 1) v = b;
      axis.values.push_back(v);
    }
  } else {
    for (const std::string& item : split(rhs, ',')) axis.values.push_back(number_of(item, spec));
  }
  return axis;
}

void check_set_and_vary(const std::vector<Override>& fixed, const std::vector<SweepAxis>& axes) {
  for (const Override& o : fixed)
    for (const SweepAxis& a : axes)
      if (o.name == a.name)
        throw Error("vary-duplicate", "parameter '" + a.name + "' is both fixed (" + o.option + " " + o.name + "=" +
                                          o.value + ") and varied (--vary); drop one");
}

void check_sweep_parameters(const ModelSource& source, const std::vector<Override>& fixed,
                            const std::vector<SweepAxis>& axes, const std::vector<std::string>& observables) {
  std::vector<Override> probe = fixed;
  for (const auto& ax : axes)
    if (!ax.values.empty()) probe.push_back({ax.name, format_value(ax.values.front()), "--vary"});
  std::optional<Model> model;
  try {
    model = source.instantiate(probe);
  } catch (const ModelError& e) {
    if (e.rule() == "unknown-parameter" || e.rule() == "toml-syntax" || e.rule() == "file") throw;
  }
  if (!model) return;
  for (const std::string& o : observables) {
    try {
      (void)model_operator(*model, o);
    } catch (const Error& e) {  // ExpressionError, or the ModelError of an unknown site
      throw Error(e.rule(), "--observable '" + o + "': " + e.what());
    }
  }
}

SweepParallelism sweep_parallelism(int jobs, int threads) {
  const int hardware = hardware_threads();
  SweepParallelism p;
  p.jobs = jobs > 0 ? jobs : (threads > 0 ? std::max(1, hardware / threads) : 1);
  p.threads = threads > 0 ? threads : std::max(1, hardware / p.jobs);
  return p;
}

PointModel file_point_model(const ModelSource& source, const std::vector<Override>& fixed,
                            const std::vector<SweepAxis>& axes) {
  // Overrides of one point: the fixed ones not shadowed by an axis, then the axis values.
  std::vector<Override> base;
  for (const auto& o : fixed) {
    const bool shadowed = std::any_of(axes.begin(), axes.end(), [&](const SweepAxis& ax) { return ax.name == o.name; });
    if (!shadowed) base.push_back(o);
  }
  std::vector<std::string> names;
  names.reserve(axes.size());
  for (const auto& ax : axes) names.push_back(ax.name);
  return [source, base, names](const std::vector<double>& point) {
    std::vector<Override> ov = base;
    for (std::size_t a = 0; a < names.size(); ++a) ov.push_back({names[a], format_value(point[a]), "--vary"});
    return source.instantiate(ov);
  };
}

void name_baths(SweepResult& result, const ModelSource& source, const std::vector<Override>& fixed) {
  if (!result.bath_names.empty() || result.rows.empty()) return;
  try {  // every point failed: name the baths anyway
    for (const Bath& b : source.instantiate(fixed).baths) result.bath_names.push_back(b.name);
  } catch (const Error&) {
    result.bath_names.clear();  // no names when the fixed model fails too; the rows carry the errors
  }
}

SweepResult run_sweep(const ModelSource& source, const std::vector<Override>& fixed,
                      const std::vector<SweepAxis>& axes, const SweepOptions& options) {
  SweepResult result = run_sweep(file_point_model(source, fixed, axes), axes, options);
  name_baths(result, source, fixed);
  return result;
}

SweepResult prepare_sweep(const std::vector<SweepAxis>& axes, const SweepOptions& options) {
  if (options.methods.empty()) throw Error("sweep-methods", "a sweep needs at least one method");
  // A name given twice would give rows (methods) or CSV columns and array fields (observables) twice.
  for (std::size_t a = 0; a < options.methods.size(); ++a)
    for (std::size_t b = 0; b < a; ++b)
      if (options.methods[a] == options.methods[b])
        throw Error("sweep-methods", "method '" + method_name(options.methods[a]) + "' is named twice");
  for (std::size_t a = 0; a < options.observables.size(); ++a)
    for (std::size_t b = 0; b < a; ++b)
      if (options.observables[a] == options.observables[b])
        throw Error("sweep-observables", "observable '" + options.observables[a] + "' is named twice");
  if (options.reference) (void)reference_index(options.methods, *options.reference);
  for (std::size_t a = 0; a < axes.size(); ++a) {
    if (axes[a].values.empty()) throw Error("vary-syntax", "--vary " + axes[a].name + " has no values");
    for (std::size_t b = 0; b < a; ++b)
      if (axes[a].name == axes[b].name)
        throw Error("vary-duplicate", "parameter '" + axes[a].name + "' is varied twice");
  }
  std::size_t points = 1;
  for (const auto& ax : axes) {
    if (points > static_cast<std::size_t>(kMaxAxisPoints) / ax.values.size())
      throw Error("sweep-size", "the grid has more than " + std::to_string(kMaxAxisPoints) + " points");
    points *= ax.values.size();
  }
  // The whole table is held (rows in grid order) and written at the end: its estimate is checked before it
  // is allocated. A row is sizeof(SweepRow) plus what a solved point adds (currents, status, message; 256 bytes
  // covers two baths' rows as measured: 10^6 points took 1.03 GB before the first point, 2026-12-05 audit).
  const std::size_t rows = points * options.methods.size();
  const std::size_t per_row =
      sizeof(SweepRow) + 256 + axes.size() * sizeof(double) + options.observables.size() * sizeof(cplx);
  check_memory(rows * per_row, "the sweep's table of " + std::to_string(rows) + " rows",
               "a coarser grid, or the grid in parts (several sweeps of slices of one axis)");
  SweepResult result;
  result.axes = axes;
  result.methods = options.methods;
  result.observables = options.observables;
  result.rows.resize(rows);
  return result;
}

std::size_t sweep_points(const SweepResult& r) {
  std::size_t points = 1;
  for (const auto& ax : r.axes) points *= ax.values.size();
  return points;
}

std::vector<SweepRow> solve_point(const PointModel& model_at, const SweepResult& skeleton, const SweepOptions& options,
                                  std::size_t p, SolveWorkspace& ws) {
  const std::vector<SweepAxis>& axes = skeleton.axes;
  std::vector<double> point(axes.size());
  for (std::size_t a = axes.size(), q = p; a-- > 0;) {
    point[a] = axes[a].values[q % axes[a].values.size()];
    q /= axes[a].values.size();
  }
  const std::size_t nm = options.methods.size();
  std::vector<SweepRow> rows(nm);
  for (std::size_t m = 0; m < nm; ++m) {
    rows[m].point = point;
    rows[m].method = options.methods[m];
  }
  std::optional<Model> model;
  std::vector<cmat> observables;
  throw_if_interrupted();
  try {
    model.emplace(model_at(point));
    observables = model_operators(*model, options.observables,
                                  std::to_string(options.observables.size()) + " observables");
  } catch (const Error& e) {
    for (SweepRow& row : rows) {
      row.status = "error";
      row.error_rule = e.rule();
      row.error = e.what();
    }
    return rows;
  }
  for (SweepRow& row : rows) {
    try {
      SolveOptions so;
      so.lamb_shift = options.lamb_shift;
      so.floquet = options.floquet;
      so.heom = options.heom;
      so.state = !observables.empty();
      row.solution = solve(*model, row.method, so, &ws);
      row.status = status_name(row.solution.status);
      if (row.solution.rho) {
        const cmat& rho = *row.solution.rho;
        for (const cmat& O : observables) row.observables.push_back(linalg::trace_of_product(rho, O));
      } else {
        row.observables.insert(row.observables.end(), observables.size(), cplx(std::nan(""), std::nan("")));
      }
    } catch (const Interrupted&) {
      throw;
    } catch (const Error& e) {
      row.status = "error";
      row.error_rule = e.rule();
      row.error = e.what();
    }
  }
  return rows;
}

void finish_sweep(SweepResult& result, const SweepOptions& options) {
  for (const SweepRow& row : result.rows)
    if (row.status != "error" && !row.solution.bath_names.empty()) {
      result.bath_names = row.solution.bath_names;
      break;
    }
  if (options.reference) {
    result.reference = options.reference;
    result.deviations = current_deviations(result, *options.reference);
  }
}

std::vector<std::size_t> place_known_points(SweepResult& result, const SweepOptions& options) {
  const std::size_t points = sweep_points(result), nm = options.methods.size();
  std::vector<std::size_t> todo;
  todo.reserve(points);
  for (std::size_t p = 0; p < points; ++p) {
    const auto it = options.known.find(p);
    if (it == options.known.end()) {
      todo.push_back(p);
    } else {
      if (it->second.size() != nm) throw Error("journal", "a known point has the wrong number of rows");
      std::copy(it->second.begin(), it->second.end(), result.rows.begin() + static_cast<long>(p * nm));
    }
  }
  return todo;
}

SweepResult run_sweep(const PointModel& model_at, const std::vector<SweepAxis>& axes, const SweepOptions& options) {
  SweepResult result = prepare_sweep(axes, options);
  const std::size_t points = sweep_points(result);
  const std::size_t nm = options.methods.size();
  const std::size_t total = points * nm;
  const std::vector<std::size_t> todo = place_known_points(result, options);

  const int jobs = std::max(1, std::min<int>(options.jobs, static_cast<int>(std::max<std::size_t>(todo.size(), 1))));
  // Contiguous chunks keep neighbouring points (which often share the Hamiltonian) on one worker.
  const std::size_t chunk = std::max<std::size_t>(1, todo.size() / (static_cast<std::size_t>(jobs) * 16));
  std::atomic<std::size_t> next{0};
  std::mutex mutex;  // progress, on_point, failure
  std::size_t done = (points - todo.size()) * nm;
  std::exception_ptr failure;
  // The workers' solves run at once: each checks its estimate against an equal share of the memory limit.
  const MemoryShare share(jobs);
  auto worker = [&]() {
    SolveWorkspace ws;
    try {
      while (true) {
        const std::size_t begin = next.fetch_add(chunk);
        if (begin >= todo.size()) return;
        const std::size_t end = std::min(todo.size(), begin + chunk);
        for (std::size_t i = begin; i < end; ++i) {
          const std::size_t p = todo[i];
          std::vector<SweepRow> rows = solve_point(model_at, result, options, p, ws);
          const std::lock_guard<std::mutex> lock(mutex);
          if (options.on_point) options.on_point(p, rows);
          std::move(rows.begin(), rows.end(), result.rows.begin() + static_cast<long>(p * nm));
          done += nm;
          if (options.progress) options.progress(done, total);
        }
      }
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mutex);
      if (!failure) failure = std::current_exception();
      next.store(todo.size());
    }
  };
  if (jobs == 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(static_cast<std::size_t>(jobs));
    for (int j = 0; j < jobs; ++j) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  if (failure) std::rethrow_exception(failure);
  finish_sweep(result, options);
  return result;
}

std::vector<RowDeviation> current_deviations(const SweepResult& result, Method reference) {
  const std::size_t ref = reference_index(result.methods, reference);
  const std::size_t nm = result.methods.size();
  const std::size_t nb = result.bath_names.size();
  if (result.rows.size() % nm != 0)
    throw Error("sweep-reference", "the sweep's rows are not whole grid points (" + std::to_string(result.rows.size()) +
                                       " rows, " + std::to_string(nm) + " methods)");
  const double nan = std::nan("");
  // A row's currents count when it has them and its steady state is the unique, converged one.
  auto usable = [](const SweepRow& row) {
    return row.status != "error" && row.solution.status != SteadyStatus::not_converged &&
           row.solution.status != SteadyStatus::not_unique;
  };
  auto current = [&](const SweepRow& row, std::size_t b) {
    const std::vector<double>& J = row.solution.thermo.currents;
    return usable(row) && b < J.size() ? J[b] : nan;
  };
  // A reference current within the round-off of the gross energy flows (audit_balance's 1e-9) is no scale: at
  // equal temperatures it is ~1e-17 and every deviation from it ~1.
  auto is_round_off = [](const SweepRow& row, double j) {
    return std::abs(j) <= 1e-9 * row.solution.thermo.gross_flow;
  };
  // Nor is any current of a static point whose baths all have one temperature: the exact currents vanish there,
  // and a reference's are its own error (HEOM's truncation residue, ~1e-8 on README's mine_h.toml at T_h = T_c).
  auto at_equilibrium = [](const SweepRow& row) {
    const std::vector<double>& T = row.solution.temperatures;
    return T.size() >= 2 && row.solution.thermo.drive_power == 0.0 && one_temperature(T);
  };
  std::vector<RowDeviation> out(result.rows.size());
  for (std::size_t i = 0; i < result.rows.size(); ++i) {
    const SweepRow& row = result.rows[i];
    const std::size_t m = i % nm;
    const SweepRow& reference_row = result.rows[i - m + ref];
    RowDeviation& d = out[i];
    d.baths.assign(nb, nan);
    for (std::size_t b = 0; b < nb; ++b) {
      const double j_ref = current(reference_row, b), j = current(row, b);
      if (!std::isfinite(j_ref) || !std::isfinite(j) || j_ref == 0.0 || is_round_off(reference_row, j_ref) ||
          at_equilibrium(reference_row))
        continue;
      d.baths[b] = m == ref ? 0.0 : std::abs(j - j_ref) / std::abs(j_ref);
    }
    d.largest = nb == 0 ? nan : 0.0;
    for (const double v : d.baths) d.largest = std::isnan(v) || std::isnan(d.largest) ? nan : std::max(d.largest, v);
  }
  return out;
}

}  // namespace qheat
