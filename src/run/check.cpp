// `qheat check`: check files (examples/<paper>/checks.toml, docs/gallery.md "qheat check") evaluated row by row.
#include "qheat/run/check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <toml++/toml.h>

#include "qheat/operators/expression.hpp"
#include "qheat/sweep/sweep.hpp"

namespace qheat {
namespace {

struct CheckSpec {
  int line = 0;
  std::string ref, model, quantity, expected, reason, known_discrepancy;
  std::string method = "global", lamb_shift = "auto";
  std::vector<std::string> sets, vary;
  std::map<std::string, std::string> where;
  double rtol = 0.0, atol = 0.0;
};

[[noreturn]] void bad(const std::string& file, int line, const std::string& msg) {
  throw ModelError("check-file", msg, line, file);
}

std::string str(const toml::table& t, const std::string& key, const std::string& file, int line, bool required) {
  const toml::node* n = t.get(key);
  if (n == nullptr) {
    if (required) bad(file, line, "check needs '" + key + "'");
    return "";
  }
  if (!n->is_string()) bad(file, static_cast<int>(n->source().begin.line), "'" + key + "' must be a string");
  return **n->as_string();
}

double num(const toml::table& t, const std::string& key, const std::string& file) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return 0.0;
  if (const auto v = n->value<double>(); v && *v >= 0) return *v;
  bad(file, static_cast<int>(n->source().begin.line), "'" + key + "' must be a non-negative number");
}

std::vector<std::string> strings(const toml::table& t, const std::string& key, const std::string& file) {
  std::vector<std::string> out;
  const toml::node* n = t.get(key);
  if (n == nullptr) return out;
  const toml::array* a = n->as_array();
  if (a == nullptr) bad(file, static_cast<int>(n->source().begin.line), "'" + key + "' must be an array of strings");
  for (const auto& e : *a) {
    if (!e.is_string()) bad(file, static_cast<int>(e.source().begin.line), "'" + key + "' must hold strings");
    out.push_back(**e.as_string());
  }
  return out;
}

std::vector<CheckSpec> read_checks(const std::string& file) {
  toml::table root;
  try {
    root = toml::parse(read_toml_text(file, "check file"), file);
  } catch (const toml::parse_error& e) {
    throw ModelError("toml-syntax", "TOML syntax error: " + std::string(e.description()),
                     static_cast<int>(e.source().begin.line), file);
  }
  const toml::array* arr = root["check"].as_array();
  if (arr == nullptr || arr->empty()) bad(file, 1, "a check file needs [[check]] tables");
  std::vector<CheckSpec> out;
  const std::string dir = std::filesystem::path(file).parent_path().string();
  for (const auto& node : *arr) {
    const toml::table* t = node.as_table();
    const int line = static_cast<int>(node.source().begin.line);
    if (t == nullptr) bad(file, line, "'check' must be an array of tables");
    for (const auto& [k, v] : *t) {
      static const std::set<std::string> known{"ref", "model", "method", "lamb_shift", "set", "vary", "quantity",
                                               "expected", "where", "rtol", "atol", "reason", "known_discrepancy"};
      if (known.count(std::string(k.str())) == 0)
        bad(file, static_cast<int>(k.source().begin.line), "unknown key '" + std::string(k.str()) + "' in a check");
    }
    CheckSpec c;
    c.line = line;
    c.ref = str(*t, "ref", file, line, true);
    c.model = (std::filesystem::path(dir) / str(*t, "model", file, line, true)).string();
    c.quantity = str(*t, "quantity", file, line, true);
    c.expected = str(*t, "expected", file, line, true);
    c.reason = str(*t, "reason", file, line, true);
    c.known_discrepancy = str(*t, "known_discrepancy", file, line, false);
    if (const std::string m = str(*t, "method", file, line, false); !m.empty()) c.method = m;
    if (const std::string l = str(*t, "lamb_shift", file, line, false); !l.empty()) c.lamb_shift = l;
    c.sets = strings(*t, "set", file);
    c.vary = strings(*t, "vary", file);
    c.rtol = num(*t, "rtol", file);
    c.atol = num(*t, "atol", file);
    if (c.rtol == 0.0 && c.atol == 0.0) bad(file, line, "a check needs a tolerance (rtol and/or atol) and its reason");
    if (const toml::node* w = t->get("where")) {
      const toml::table* wt = w->as_table();
      if (wt == nullptr) bad(file, static_cast<int>(w->source().begin.line), "'where' must be a table of expressions");
      for (const auto& [k, v] : *wt) {
        if (!v.is_string()) bad(file, static_cast<int>(v.source().begin.line), "'where' values must be strings");
        c.where[std::string(k.str())] = **v.as_string();
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

// The expected value at one point: an expression of the model's parameters and the check's `where`
// definitions (which may use each other, in any order).
double expected_value(const CheckSpec& c, const std::vector<std::pair<std::string, double>>& parameters) {
  EvalContext ctx;
  for (const auto& [k, v] : parameters) ctx.symbols[k] = Binding{v, {}};
  std::map<std::string, Binding> done;
  std::set<std::string> active;
  std::function<const Binding*(const std::string&)> resolve = [&](const std::string& name) -> const Binding* {
    if (const auto it = done.find(name); it != done.end()) return &it->second;
    const auto w = c.where.find(name);
    if (w == c.where.end()) return nullptr;
    if (!active.insert(name).second) throw Error("check-file", "definition '" + name + "' refers to itself");
    const double v = evaluate_real(w->second, ctx);
    active.erase(name);
    return &done.emplace(name, Binding{v, {}}).first->second;
  };
  ctx.resolve = resolve;
  return evaluate_real(c.expected, ctx);
}

double computed_value(const CheckSpec& c, const SweepRow& row, const std::vector<std::string>& baths) {
  const Thermodynamics& th = row.solution.thermo;
  if (c.quantity.rfind("J_", 0) == 0) {
    for (std::size_t b = 0; b < baths.size(); ++b)
      if ("J_" + baths[b] == c.quantity) return th.currents.at(b);
    throw Error("check-file", "quantity '" + c.quantity + "': the model has no such bath");
  }
  if (c.quantity == "drive_power") return th.drive_power;
  if (c.quantity == "entropy_production") return th.entropy_production;
  if (c.quantity == "first_law_residual") return th.first_law_residual;
  if (c.quantity.size() > 2 && c.quantity.front() == '<' && c.quantity.back() == '>') return row.observables.at(0).real();
  throw Error("check-file", "unknown quantity '" + c.quantity +
                                "' (J_<bath>, drive_power, entropy_production, first_law_residual, <operator>)");
}

// A check parsed for its sweep: the model file read once, the grid, the overrides and the sweep's options.
struct PreparedCheck {
  ModelSource source;
  std::vector<SweepAxis> axes;
  std::vector<Override> fixed;
  SweepOptions options;
};

// Everything a check names, checked before any check runs: its method and Lamb-shift mode, its grid and
// overrides (the varied parameters exist), and, when its model builds at the first grid point, the quantity (a
// bath of that model, an operator of it) and the expected value there. An error that names no line of a model
// file gets the check's line.
PreparedCheck prepare_check(const CheckSpec& c, const std::string& file) {
  try {
    const bool observable = c.quantity.size() > 2 && c.quantity.front() == '<' && c.quantity.back() == '>';
    SweepOptions opt;
    opt.methods = {parse_method(c.method)};
    opt.lamb_shift = parse_lamb_shift_mode(c.lamb_shift);
    if (observable) opt.observables = {c.quantity.substr(1, c.quantity.size() - 2)};
    std::vector<SweepAxis> axes;
    axes.reserve(c.vary.size());
    for (const auto& v : c.vary) axes.push_back(parse_vary(v));
    std::vector<Override> fixed = parse_overrides(c.sets);
    PreparedCheck prepared{ModelSource::from_file(c.model), std::move(axes), std::move(fixed), std::move(opt)};
    const ModelSource& src = prepared.source;
    check_set_and_vary(prepared.fixed, prepared.axes);
    check_sweep_parameters(src, prepared.fixed, prepared.axes);
    std::vector<double> first;
    first.reserve(prepared.axes.size());
    for (const SweepAxis& a : prepared.axes) first.push_back(a.values.front());
    std::optional<Model> built;
    try {
      built.emplace(file_point_model(src, prepared.fixed, prepared.axes)(first));
    } catch (const Error&) {
      return prepared;  // the model fails at that point: its rows say so (FAIL), as a sweep's rows do
    }
    const Model& model = *built;
    if (c.quantity.rfind("J_", 0) == 0) {
      std::string names;
      bool found = false;
      for (const Bath& b : model.baths) {
        found = found || "J_" + b.name == c.quantity;
        names.append(names.empty() ? "" : ", ").append("J_" + b.name);
      }
      if (!found) throw Error("check-file", "quantity '" + c.quantity + "': the model has no such bath (" + names + ")");
    } else if (observable) {
      try {
        (void)model_operator(model, c.quantity.substr(1, c.quantity.size() - 2));
      } catch (const Error& e) {
        throw Error(e.rule(), "quantity '" + c.quantity + "': " + e.what());
      }
    } else if (c.quantity != "drive_power" && c.quantity != "entropy_production" &&
               c.quantity != "first_law_residual") {
      throw Error("check-file", "unknown quantity '" + c.quantity +
                                    "' (J_<bath>, drive_power, entropy_production, first_law_residual, <operator>)");
    }
    (void)expected_value(c, model.parameters);
    return prepared;
  } catch (const ModelError& e) {
    if (e.line() > 0) throw;  // a line of the model file
    throw ModelError(e.rule(), e.what(), c.line, file);
  } catch (const Error& e) {
    throw ModelError(e.rule(), e.what(), c.line, file);
  }
}

std::string point_text(const SweepResult& r, const SweepRow& row) {
  std::string s;
  for (std::size_t a = 0; a < r.axes.size(); ++a) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%s=%.6g", a ? " " : "", r.axes[a].name.c_str(), row.point[a]);
    s += buf;
  }
  return s;
}

}  // namespace

std::vector<std::string> find_check_files(const std::string& directory) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!std::filesystem::is_directory(directory, ec))
    throw Error("check-file", "no check files given and '" + directory + "' is not a directory");
  for (const auto& e : std::filesystem::recursive_directory_iterator(directory))
    if (e.path().filename() == "checks.toml") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

CheckReport run_checks(const std::vector<std::string>& files) {
  CheckReport report;
  report.files = files;
  std::vector<std::vector<std::pair<CheckSpec, PreparedCheck>>> checks;
  checks.reserve(files.size());
  for (const std::string& file : files) {
    std::vector<CheckSpec> specs = read_checks(file);
    auto& prepared = checks.emplace_back();
    prepared.reserve(specs.size());
    for (CheckSpec& c : specs) {
      PreparedCheck p = prepare_check(c, file);
      prepared.emplace_back(std::move(c), std::move(p));
    }
  }
  for (std::size_t f = 0; f < files.size(); ++f) {
    const std::string& file = files[f];
    for (const auto& [c, p] : checks[f]) {
      const std::vector<SweepAxis>& axes = p.axes;
      const std::vector<Override>& fixed = p.fixed;
      const SweepResult r = run_sweep(p.source, fixed, axes, p.options);
      for (const SweepRow& row : r.rows) {
        CheckRow out;
        out.file = file;
        out.ref = c.ref;
        out.quantity = c.quantity;
        out.point = point_text(r, row);
        out.first_of_check = &row == &r.rows.front();
        if (row.status == "error" || row.solution.status == SteadyStatus::not_unique) {
          out.result = "FAIL (" + (row.error.empty() ? row.status : row.error) + ")";
        } else {
          std::vector<Override> ov = fixed;
          for (std::size_t a = 0; a < axes.size(); ++a) ov.push_back({axes[a].name, sweep_number(row.point[a])});
          out.computed = computed_value(c, row, r.bath_names);
          out.expected = expected_value(c, p.source.parameters(ov));  // the model's operators are not needed
          const bool within = std::abs(out.computed - out.expected) <= c.atol + c.rtol * std::abs(out.expected);
          if (c.known_discrepancy.empty()) {
            out.result = within ? "pass" : "FAIL";
          } else {
            out.result = within ? "FAIL (documented discrepancy not reproduced)" : "differs as documented";
            out.discrepancy_reproduced = !within;
          }
        }
        out.failed = out.result.rfind("FAIL", 0) == 0;
        out.deviation = out.expected != 0.0 ? std::abs(out.computed - out.expected) / std::abs(out.expected) : std::nan("");
        report.failed += out.failed ? 1 : 0;
        report.discrepancies += out.discrepancy_reproduced ? 1 : 0;
        report.rows.push_back(std::move(out));
      }
    }
  }
  return report;
}

}  // namespace qheat
