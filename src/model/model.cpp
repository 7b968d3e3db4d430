// Model validation and the TOML model-file loader (docs/model-format.md).
#include "qheat/model/model.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string_view>

#include "qheat/core/resources.hpp"
#include "qheat/operators/expression.hpp"

namespace qheat {

namespace {

// Largest |H_ij - conj(H_ji)| and where it occurs (the first in column order among equals); no temporaries of the
// matrix size. Tile by tile: m(j, i) walks a row, and a whole row's stride missed the cache at every element.
double hermitian_deviation(const cmat& m, Eigen::Index& row, Eigen::Index& col) {
  constexpr Eigen::Index kTile = 64;
  double worst = 0.0;  // squared
  row = col = 0;
  const Eigen::Index n = std::min(m.rows(), m.cols());
  for (Eigen::Index j0 = 0; j0 < n; j0 += kTile)
    for (Eigen::Index i0 = 0; i0 <= j0; i0 += kTile)
      for (Eigen::Index j = j0; j < std::min(n, j0 + kTile); ++j)
        for (Eigen::Index i = i0; i <= j && i < std::min(n, i0 + kTile); ++i) {
          const double d = std::norm(m(i, j) - std::conj(m(j, i)));
          if (d > worst || (d == worst && d > 0.0 && (j < col || (j == col && i < row)))) {
            worst = d;
            row = i;
            col = j;
          }
        }
  return std::sqrt(worst);
}

double max_abs(const cmat& m) { return m.size() == 0 ? 0.0 : std::sqrt(m.cwiseAbs2().maxCoeff()); }

std::string num(double x) {
  std::ostringstream os;
  os.precision(6);
  os << x;
  return os.str();
}

// Hermiticity with the tolerance 1e-12 * max(1, max|H_ij|) (rounding of sums of products).
void check_hermitian(const cmat& m, const std::string& rule, const std::string& what,
                     const std::string& symbol, int line, const std::string& file) {
  Eigen::Index r = 0, c = 0;
  const double dev = hermitian_deviation(m, r, c);
  const double tol = 1e-12 * std::max(1.0, max_abs(m));
  if (dev > tol)
    throw ModelError(rule,
                     what + " is not Hermitian: max|" + symbol + " - " + symbol + "^dag| = " + num(dev) +
                         " at entry (" + std::to_string(r) + ", " + std::to_string(c) + ") (tolerance " +
                         num(tol) + ")",
                     line, file);
}

void check_finite(const cmat& m, const std::string& what, int line, const std::string& file) {
  // Over the doubles (vectorised); Eigen's allFinite on complex matrices costs ~20x more at d = 4096.
  const Eigen::Map<const Eigen::ArrayXd> parts(reinterpret_cast<const double*>(m.data()), 2 * m.size());
  if (!parts.isFinite().all())
    throw ModelError("non-finite", what + " has entries that are NaN or infinite", line, file);
}

void check_square(const cmat& m, int dim, const std::string& what, int line, const std::string& file) {
  if (m.rows() != dim || m.cols() != dim)
    throw ModelError("dimension",
                     what + " is " + std::to_string(m.rows()) + "x" + std::to_string(m.cols()) +
                         " but the Hilbert space has dimension " + std::to_string(dim),
                     line, file);
}

void check_hamiltonian(const cmat& H, int dim, int line, const std::string& file) {
  check_square(H, dim, "the Hamiltonian", line, file);
  check_finite(H, "the Hamiltonian", line, file);
  check_hermitian(H, "hermitian-hamiltonian", "the Hamiltonian", "H", line, file);
}

using LineOf = std::function<int(const std::string& field)>;

void check_temperature(double T, const std::string& bath, int line, const std::string& file) {
  if (!std::isfinite(T))
    throw ModelError("non-finite", "bath '" + bath + "': the temperature is not finite", line, file);
  if (T < 0.0)
    throw ModelError("negative-temperature",
                     "bath '" + bath + "': temperature " + num(T) + " is negative (T >= 0 required)", line,
                     file);
}

void check_spectral(const SpectralDensity& J, const std::string& bath, const LineOf& line_of,
                    const std::string& file) {
  const std::string who = "bath '" + bath + "': spectral density: ";
  auto bad = [&](const std::string& field, const std::string& msg) {
    throw ModelError("spectral-density", who + msg, line_of(field), file);
  };
  if (J.kind != SpectralKind::tabulated) {
    if (!std::isfinite(J.gamma)) bad("gamma", "gamma is not finite");
    if (J.gamma < 0.0) bad("gamma", "gamma = " + num(J.gamma) + " is negative (gamma >= 0 required)");
  }
  if (J.kind == SpectralKind::ohmic_exp || J.kind == SpectralKind::ohmic_drude ||
      J.kind == SpectralKind::power_law) {
    if (!std::isfinite(J.cutoff) || J.cutoff <= 0.0)
      bad("cutoff", "cutoff = " + num(J.cutoff) + " must be positive and finite");
  }
  if (J.kind == SpectralKind::power_law && (!std::isfinite(J.s) || J.s <= 0.0))
    bad("s", "exponent s = " + num(J.s) + " must be positive");
  if (J.kind == SpectralKind::tabulated) {
    if (J.table_w.size() != J.table_kappa.size())
      bad("kappa", "w has " + std::to_string(J.table_w.size()) + " entries but kappa has " +
                       std::to_string(J.table_kappa.size()));
    if (J.table_w.size() < 2) bad("w", "a table needs at least 2 points");
    for (std::size_t k = 0; k < J.table_w.size(); ++k) {
      if (!std::isfinite(J.table_w[k]) || !std::isfinite(J.table_kappa[k]))
        bad("w", "table entry " + std::to_string(k + 1) + " is not finite");
      if (J.table_w[k] < 0.0)
        bad("w", "w[" + std::to_string(k + 1) + "] = " + num(J.table_w[k]) + " is negative");
      if (k > 0 && !(J.table_w[k] > J.table_w[k - 1]))
        bad("w", "w must be strictly increasing (w[" + std::to_string(k) + "] = " + num(J.table_w[k - 1]) +
                     ", w[" + std::to_string(k + 1) + "] = " + num(J.table_w[k]) + ")");
      if (J.table_kappa[k] < 0.0)
        bad("kappa", "kappa[" + std::to_string(k + 1) + "] = " + num(J.table_kappa[k]) + " is negative");
    }
  }
}

void check_bath_operator(const Bath& b, int dim, int line, const std::string& file) {
  const std::string what = "bath '" + b.name + "': the coupling operator";
  check_square(b.op, dim, what, line, file);
  check_finite(b.op, what, line, file);
  if (max_abs(b.op) == 0.0) throw ModelError("bath-operator", what + " is zero", line, file);
  // Rates are kappa |A_mn|^2: past the double range they are inf, and the methods lost the bath without a word
  // (an operator 1e200 sx gave J = 0 for its bath, converged). 1e300 leaves room for Bose factors and sums.
  const SpectralDensity& J = b.spectral;
  double kappa = J.kind == SpectralKind::tabulated ? 0.0 : std::abs(J.gamma);
  for (const double k : J.table_kappa) kappa = std::max(kappa, std::abs(k));
  const double a = b.op.cwiseAbs().maxCoeff();  // hypot: |A| = 1e200 squared would overflow
  if (!(a * a * std::max(kappa, 1.0) < 1e300))
    throw ModelError("non-finite", "bath '" + b.name + "': its rates, kappa |A|^2 with " +
                                       (kappa > 0.0 ? "kappa ~ " + num(kappa) + " and " : std::string()) + "|A| up to " +
                                       num(a) + ", pass the double range",
                     line, file);
  if (b.coupling == CouplingKind::hermitian)
    check_hermitian(b.op, "hermitian-coupling",
                    what +
                        " (coupling = \"hermitian\" needs a Hermitian S; use "
                        "coupling = \"exchange\" for a non-Hermitian A)",
                    "S", line, file);
}

// ---------------------------------------------------------------------------------------------
// Loader

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }
int line_of(const toml::key& k) { return static_cast<int>(k.source().begin.line); }

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date/time";
    default:
      return "nothing";
  }
}

// Concatenation without the temporaries of a chain of operator+ (error messages built in loops).
std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (const auto p : parts) out += p;
  return out;
}

std::string did_you_mean(const std::string& hint) {
  return hint.empty() ? std::string() : cat({" (did you mean '", hint, "'?)"});
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string quote_expr(const std::string& e) {
  if (e.size() > 120) return "";
  return " = \"" + e + "\"";
}

// Keys of a table in the order they appear in the file.
std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& t) {
  std::vector<std::pair<const toml::key*, const toml::node*>> out;
  for (auto it = t.begin(); it != t.end(); ++it) out.emplace_back(&it->first, &it->second);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    const auto& pa = a.first->source().begin;
    const auto& pb = b.first->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  return out;
}

struct Param {
  enum class Kind { number, expression, array } kind = Kind::number;
  std::string name;
  int line = 0;
  double number = 0.0;
  std::string text;    // expression
  std::string origin;  // "--set NAME=VALUE" (or --vary) when overridden
  int state = 0;       // 0 unresolved, 1 being resolved, 2 resolved
  Binding value;
};

struct NamedOp {
  std::string name;
  std::string text;
  int line = 0;
  int state = 0;
  Binding value;
};

class Loader {
 public:
  Loader(const toml::table& root, std::string file, const std::vector<Override>& overrides)
      : root_(root), file_(std::move(file)), overrides_(overrides) {}

  // The [parameters] table with the overrides applied, resolved (no sites or operators are built).
  void resolve_parameters(Model& model) {
    read_parameters();
    apply_overrides();
    for (auto& p : params_) resolve_param(p.name);
    for (const auto& p : params_)
      if (const auto* d = std::get_if<double>(&p.value.value)) model.parameters.emplace_back(p.name, *d);
      else if (const auto* a = std::get_if<std::vector<double>>(&p.value.value)) model.arrays[p.name] = *a;
  }

  Model load() {
    check_keys(root_,
               {"name", "description", "parameters", "sites", "hamiltonian", "operators", "baths", "drive"},
               "the top level");
    Model model;
    model.name = read_name();
    if (const auto* d = root_.get("description"); d != nullptr && !d->is_string())
      error("wrong-type", "'description' must be a string, not " + type_name(*d), line_of(*d));
    resolve_parameters(model);
    model.space = read_sites();
    space_ = &model.space;
    read_operators();
    for (auto& op : ops_) resolve_op(op.name);
    for (const auto& op : ops_) model.operators[op.name] = std::get<cmat>(op.value.value);
    model.hamiltonian = read_hamiltonian();
    model.baths = read_baths();
    model.drive = read_drive();
    validate(model);
    return model;
  }

 private:
  const toml::table& root_;
  std::string file_;
  const std::vector<Override>& overrides_;
  std::vector<Param> params_;
  std::vector<NamedOp> ops_;
  std::vector<std::string> stack_;  // names being resolved, for cycle messages
  const Space* space_ = nullptr;

  [[noreturn]] void error(const std::string& rule, const std::string& msg, int line) const {
    throw ModelError(rule, msg, line, file_);
  }

  void check_keys(const toml::table& t, const std::vector<std::string>& allowed,
                  const std::string& where) const {
    for (const auto& [k, v] : t) {
      const std::string key(k.str());
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      const std::string hint = closest_name(key, allowed);
      error("unknown-key",
            cat({"unknown key '", key, "' in ", where, did_you_mean(hint), "; allowed: ", join(allowed)}),
            line_of(k));
    }
  }

  const toml::node& require(const toml::table& t, const std::string& key, const std::string& where) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) error("missing-key", where + " needs the key '" + key + "'", line_of(t));
    return *n;
  }

  std::string read_name() const {
    if (const toml::node* n = root_.get("name")) {
      if (!n->is_string()) error("wrong-type", "'name' must be a string, not " + type_name(*n), line_of(*n));
      return n->as_string()->get();
    }
    return std::filesystem::path(file_).stem().string();
  }

  // ---- parameters -----------------------------------------------------------------------------

  double literal_number(const toml::node& n, const std::string& what) const {
    double x = 0.0;
    if (const auto* i = n.as_integer())
      x = static_cast<double>(i->get());
    else if (const auto* f = n.as_floating_point())
      x = f->get();
    else
      error("wrong-type", what + " must be a number, not " + type_name(n), line_of(n));
    if (!std::isfinite(x)) error("non-finite", what + " is " + num(x) + " (must be finite)", line_of(n));
    return x;
  }

  void read_parameters() {
    const toml::node* node = root_.get("parameters");
    if (node == nullptr) return;
    const toml::table* t = node->as_table();
    if (t == nullptr)
      error("wrong-type", "'parameters' must be a table, not " + type_name(*node), line_of(*node));
    for (const auto& [k, v] : in_file_order(*t)) {
      Param p;
      p.name = std::string(k->str());
      p.line = line_of(*v);
      if (!is_identifier(p.name))
        error("parameter-name",
              "parameter name '" + p.name +
                  "' is not a valid name (letters, digits, _; not starting with a digit)",
              line_of(*k));
      if (is_reserved_name(p.name))
        error("parameter-name", "'" + p.name + "' is reserved (i is the imaginary unit, pi is 3.14159...)",
              line_of(*k));
      const std::string what = "parameter '" + p.name + "'";
      if (v->is_string()) {
        p.kind = Param::Kind::expression;
        p.text = v->as_string()->get();
      } else if (const auto* arr = v->as_array()) {
        p.kind = Param::Kind::array;
        if (arr->empty()) error("wrong-type", what + " is an empty array", p.line);
        if (arr->size() > 100000) error("dimension", what + " has more than 100000 entries", p.line);
        std::vector<double> values;
        values.reserve(arr->size());
        for (std::size_t i = 0; i < arr->size(); ++i)
          values.push_back(literal_number((*arr)[i], what + " entry " + std::to_string(i + 1)));
        p.value.value = std::move(values);
        p.state = 2;
      } else if (v->is_integer() || v->is_floating_point()) {
        p.number = literal_number(*v, what);
      } else {
        error("wrong-type",
              what + " must be a number, an expression string or an array of numbers, not " + type_name(*v),
              p.line);
      }
      params_.push_back(std::move(p));
    }
  }

  Param* find_param(const std::string& name) {
    for (auto& p : params_)
      if (p.name == name) return &p;
    return nullptr;
  }

  std::vector<std::string> param_names() const {
    std::vector<std::string> out;
    out.reserve(params_.size());
    for (const auto& p : params_) out.push_back(p.name);
    return out;
  }

  void apply_overrides() {
    for (const auto& o : overrides_) {
      std::string name = o.name;
      name.erase(0, name.find_first_not_of(" \t"));
      name.erase(name.find_last_not_of(" \t") + 1);
      const std::string origin = cat({o.option, " ", name, "=", o.value});
      Param* p = find_param(name);
      if (p == nullptr) {
        const std::string hint = closest_name(name, param_names());
        const std::vector<std::string> names = param_names();
        throw ModelError("unknown-parameter",
                         cat({origin, ": the model has no parameter '", name, "'", did_you_mean(hint),
                              names.empty() ? "; it defines no parameters" : "; parameters: ", join(names)}),
                         0, file_);
      }
      if (p->kind == Param::Kind::array)
        throw ModelError("override",
                         cat({origin, ": '", name, "' is an array parameter and cannot be overridden"}), 0,
                         file_);
      p->kind = Param::Kind::expression;
      p->text = o.value;
      p->origin = origin;
      p->line = 0;
    }
  }

  std::string describe(const Param& p) const {
    if (!p.origin.empty()) return p.origin;
    return "parameter '" + p.name + "'" + quote_expr(p.text);
  }

  const Binding* resolve_param(const std::string& name) {
    Param* p = find_param(name);
    if (p == nullptr) return nullptr;
    if (p->state == 2) return &p->value;
    if (p->state == 1) {
      auto it = std::find(stack_.begin(), stack_.end(), name);
      std::string path;
      for (; it != stack_.end(); ++it) path += *it + " -> ";
      path += name;
      throw ModelError("parameter-cycle", "parameters are defined in a cycle: " + path, p->line, file_);
    }
    if (stack_.size() >= 200)
      error("parameter-depth", "parameter definitions nest more than 200 levels deep (at '" + name + "')",
            p->line);
    if (p->kind == Param::Kind::number) {
      p->value.value = p->number;
      p->state = 2;
      return &p->value;
    }
    p->state = 1;
    stack_.push_back(name);
    double v = 0.0;
    try {
      v = evaluate_real(p->text, scalar_context());
    } catch (const ExpressionError& e) {
      throw ModelError("expression", describe(*p) + ": " + e.what(), p->line, file_);
    }
    stack_.pop_back();
    p->value.value = v;
    p->state = 2;
    return &p->value;
  }

  EvalContext scalar_context() {
    EvalContext ctx;
    ctx.resolve = [this](const std::string& n) { return resolve_param(n); };
    ctx.known_names = param_names();
    return ctx;
  }

  // A number, or an expression string of the parameters.
  double number_field(const toml::node& n, const std::string& what) {
    if (const auto* s = n.as_string()) {
      try {
        return evaluate_real(s->get(), scalar_context());
      } catch (const ExpressionError& e) {
        error("expression", what + quote_expr(s->get()) + ": " + e.what(), line_of(n));
      }
    }
    if (!n.is_integer() && !n.is_floating_point())
      error("wrong-type", what + " must be a number or an expression string, not " + type_name(n),
            line_of(n));
    return literal_number(n, what);
  }

  long long integer_field(const toml::node& n, const std::string& what, const std::string& rule, long long lo,
                          long long hi) {
    const double x = number_field(n, what);
    if (std::abs(x - std::round(x)) > 1e-9 || x < static_cast<double>(lo) || x > static_cast<double>(hi))
      error(rule,
            what + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                num(x),
            line_of(n));
    return std::llround(x);
  }

  // ---- sites ----------------------------------------------------------------------------------

  Space read_sites() {
    const toml::node* node = root_.get("sites");
    if (node == nullptr) error("missing-key", "the model needs a [sites] table", 0);
    const toml::table* t = node->as_table();
    if (t == nullptr) error("wrong-type", "'sites' must be a table, not " + type_name(*node), line_of(*node));
    std::vector<Subsystem> subs;
    long long dim = 1;
    for (const auto& [k, v] : in_file_order(*t)) {
      const std::string name(k->str());
      const int line = line_of(*v);
      if (!is_identifier(name))
        error("site-name", "site name '" + name + "' is not a valid name (letters, digits, _)", line_of(*k));
      if (is_reserved_name(name))  // a single site of this name; with count the names are name1, name2, ...
        if (const toml::table* st = v->as_table(); st == nullptr || st->get("count") == nullptr)
          error("site-name", "site name '" + name + "' is reserved (i is the imaginary unit, pi is 3.14159...)",
                line_of(*k));
      const std::string where = "site '" + name + "'";
      std::string kind;
      const toml::table* spec = v->as_table();
      if (const auto* s = v->as_string()) {
        kind = s->get();
      } else if (spec != nullptr) {
        const toml::node& kn = require(*spec, "kind", "[sites] entry '" + name + "'");
        if (!kn.is_string()) error("wrong-type", where + ": kind must be a string", line_of(kn));
        kind = kn.as_string()->get();
      } else {
        error("wrong-type", where + " must be a kind string (\"qubit\") or a table, not " + type_name(*v),
              line);
      }
      const std::vector<std::string> kinds = {"qubit", "spin", "boson", "level"};
      if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
        const std::string hint = closest_name(kind, kinds);
        error("site-kind",
              cat({where, ": unknown kind '", kind, "'", did_you_mean(hint), "; kinds: ", join(kinds)}),
              spec != nullptr ? line_of(*spec->get("kind")) : line);
      }
      if (spec == nullptr && kind != "qubit")
        error("missing-key",
              cat({where, ": kind \"", kind, "\" needs a table with its size, e.g. { kind = \"", kind, "\", ",
                   kind == "spin"    ? "j = 1"
                   : kind == "boson" ? "nmax = 10"
                                     : "dim = 3",
                   " }"}),
              line);
      long long count = 0;  // 0: a single site
      double j = 0.5;
      long long size = 2;
      int size_line = line;
      if (spec != nullptr) {
        std::vector<std::string> allowed = {"kind", "count"};
        const std::string size_key = kind == "spin"    ? "j"
                                     : kind == "boson" ? "nmax"
                                     : kind == "level" ? "dim"
                                                       : "";
        if (!size_key.empty()) allowed.push_back(size_key);
        const std::string entry = cat({"[sites] entry '", name, "' (kind \"", kind, "\")"});
        check_keys(*spec, allowed, entry);
        if (const toml::node* c = spec->get("count"))
          count = integer_field(*c, where + ": count", "site-count", 1, 1000);
        if (!size_key.empty()) {
          const toml::node& sn = require(*spec, size_key, entry);
          size_line = line_of(sn);
          if (kind == "spin")
            j = number_field(sn, where + ": j");
          else if (kind == "boson")
            size = integer_field(sn, where + ": nmax", "boson-nmax", 1, 5000);
          else
            size = integer_field(sn, where + ": dim", "level-dim", 2, 5000);
        }
      }
      const long long n_sites = count == 0 ? 1 : count;
      for (long long m = 1; m <= n_sites; ++m) {
        const std::string sname = count == 0 ? name : name + std::to_string(m);
        Subsystem sub;
        try {
          if (kind == "qubit")
            sub = make_qubit(sname);
          else if (kind == "spin")
            sub = make_spin(sname, j);
          else if (kind == "boson")
            sub = make_boson(sname, static_cast<int>(size));
          else
            sub = make_level(sname, static_cast<int>(size));
        } catch (const ModelError& e) {
          error(e.rule(), e.what(), size_line);
        }
        for (const auto& other : subs)
          if (other.name == sname) error("duplicate-site", "site '" + sname + "' is defined twice", line);
        dim *= sub.dim;
        if (dim > kMaxModelDimension)
          error("dimension",
                "the Hilbert-space dimension exceeds the limit " + std::to_string(kMaxModelDimension) +
                    " at site '" + sname + "' (every operator is a dense matrix)",
                line);
        subs.push_back(std::move(sub));
      }
    }
    if (subs.empty()) error("no-sites", "[sites] defines no site", line_of(*t));
    return Space(std::move(subs));
  }

  // ---- operators ------------------------------------------------------------------------------

  void read_operators() {
    const toml::node* node = root_.get("operators");
    if (node == nullptr) return;
    const toml::table* t = node->as_table();
    if (t == nullptr)
      error("wrong-type", "'operators' must be a table, not " + type_name(*node), line_of(*node));
    for (const auto& [k, v] : in_file_order(*t)) {
      NamedOp op;
      op.name = std::string(k->str());
      op.line = line_of(*v);
      if (!is_identifier(op.name) || is_reserved_name(op.name))
        error("operator-name",
              "operator name '" + op.name + "' is not a valid name (letters, digits, _; not i or pi)",
              line_of(*k));
      if (find_param(op.name) != nullptr)
        error("duplicate-name", "'" + op.name + "' is both a parameter and a named operator", line_of(*k));
      if (!v->is_string())
        error("wrong-type", "operator '" + op.name + "' must be an expression string, not " + type_name(*v),
              op.line);
      op.text = v->as_string()->get();
      ops_.push_back(std::move(op));
    }
  }

  NamedOp* find_op(const std::string& name) {
    for (auto& o : ops_)
      if (o.name == name) return &o;
    return nullptr;
  }

  const Binding* resolve_op(const std::string& name) {
    NamedOp* op = find_op(name);
    if (op == nullptr) return nullptr;
    if (op->state == 2) return &op->value;
    if (op->state == 1) {
      auto it = std::find(stack_.begin(), stack_.end(), name);
      std::string path;
      for (; it != stack_.end(); ++it) path += *it + " -> ";
      path += name;
      error("operator-cycle", "named operators are defined in a cycle: " + path, op->line);
    }
    if (stack_.size() >= 200)
      error("operator-depth", "operator definitions nest more than 200 levels deep (at '" + name + "')",
            op->line);
    op->state = 1;
    stack_.push_back(name);
    std::set<int> sites;
    cmat m;
    try {
      m = evaluate_operator(op->text, operator_context(&sites));
    } catch (const ExpressionError& e) {
      error("expression", "operator '" + name + "'" + quote_expr(op->text) + ": " + e.what(), op->line);
    }
    check_finite(m, "operator '" + name + "'", op->line, file_);
    stack_.pop_back();
    op->value.value = std::move(m);
    op->value.sites.assign(sites.begin(), sites.end());
    op->state = 2;
    return &op->value;
  }

  EvalContext operator_context(std::set<int>* sites) {
    EvalContext ctx;
    ctx.space = space_;
    ctx.sites_used = sites;
    ctx.resolve = [this](const std::string& n) -> const Binding* {
      if (const Binding* b = resolve_param(n)) return b;
      return resolve_op(n);
    };
    ctx.known_names = param_names();
    for (const auto& o : ops_) ctx.known_names.push_back(o.name);
    return ctx;
  }

  cmat operator_field(const toml::node& n, const std::string& what, std::set<int>* sites) {
    if (!n.is_string())
      error("wrong-type", what + " must be an expression string, not " + type_name(n), line_of(n));
    const std::string& text = n.as_string()->get();
    try {
      return evaluate_operator(text, operator_context(sites));
    } catch (const ExpressionError& e) {
      error("expression", what + quote_expr(text) + ": " + e.what(), line_of(n));
    }
  }

  // ---- Hamiltonian ----------------------------------------------------------------------------

  cmat read_hamiltonian() {
    const toml::node* node = root_.get("hamiltonian");
    if (node == nullptr) error("missing-key", "the model needs a [hamiltonian] table with H = \"...\"", 0);
    const toml::table* t = node->as_table();
    if (t == nullptr)
      error("wrong-type", "'hamiltonian' must be a table with H = \"...\", not " + type_name(*node),
            line_of(*node));
    check_keys(*t, {"H"}, "[hamiltonian]");
    const toml::node& h = require(*t, "H", "[hamiltonian]");
    cmat H = operator_field(h, "hamiltonian.H", nullptr);
    check_hamiltonian(H, space_->dim(), line_of(h), file_);
    return H;
  }

  // ---- drive ----------------------------------------------------------------------------------

  std::optional<Drive> read_drive() {
    const toml::node* node = root_.get("drive");
    if (node == nullptr) return std::nullopt;
    const toml::table* t = node->as_table();
    if (t == nullptr)
      error("wrong-type", "'drive' must be a table with frequency and harmonics, not " + type_name(*node),
            line_of(*node));
    check_keys(*t, {"frequency", "harmonics"}, "[drive]");
    Drive d;
    const toml::node& f = require(*t, "frequency", "[drive]");
    d.frequency = number_field(f, "drive.frequency");
    if (!(d.frequency > 0.0))
      error("drive-frequency", "drive.frequency must be > 0, got " + num(d.frequency), line_of(f));
    const toml::node& h = require(*t, "harmonics", "[drive]");
    const toml::array* arr = h.as_array();
    if (arr == nullptr || arr->empty() || !arr->is_array_of_tables())
      error("wrong-type",
            "drive.harmonics must be a non-empty array of tables like { k = 1, V = \"-(eta/2)*sp(q)\" }",
            line_of(h));
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::table& ht = *(*arr)[i].as_table();
      const std::string where = "drive.harmonics entry " + std::to_string(i + 1);
      check_keys(ht, {"k", "V"}, where);
      DriveHarmonic dh;
      const toml::node& kn = require(ht, "k", where);
      const double k = number_field(kn, where + ": k");
      if (!(k >= 1.0) || k > 1000.0 || k != std::floor(k))
        error("drive-harmonic", where + ": k must be an integer in [1, 1000], got " + num(k), line_of(kn));
      dh.k = static_cast<int>(k);
      for (const auto& other : d.harmonics)
        if (other.k == dh.k)
          error("drive-harmonic", where + ": harmonic k = " + std::to_string(dh.k) + " is given twice", line_of(kn));
      dh.V = operator_field(require(ht, "V", where), where + ": V", nullptr);
      d.harmonics.push_back(std::move(dh));
    }
    return d;
  }

  // ---- baths ----------------------------------------------------------------------------------

  std::vector<Bath> read_baths() {
    const toml::node* node = root_.get("baths");
    if (node == nullptr)  // no line to point at: the file is named in the message
      error("no-baths", (file_.empty() ? std::string("the model") : file_) + " has no baths; add at least one [[baths]] entry", 0);
    const toml::array* arr = node->as_array();
    if (arr != nullptr && arr->empty())
      error("no-baths", "the model has no baths; add at least one [[baths]] entry", line_of(*node));
    if (arr == nullptr || !arr->is_array_of_tables())
      error("wrong-type", "'baths' must be an array of tables ([[baths]] entries)", line_of(*node));
    std::vector<Bath> baths;
    std::vector<int> name_lines;
    for (std::size_t b = 0; b < arr->size(); ++b) {
      const toml::table& t = *(*arr)[b].as_table();
      const std::string where = "[[baths]] entry " + std::to_string(b + 1);
      check_keys(t, {"name", "temperature", "coupling", "operator", "spectral", "lamb_shift"}, where);
      Bath bath;
      const toml::node& name = require(t, "name", where);
      if (!name.is_string() || name.as_string()->get().empty())
        error("bath-name", where + ": name must be a non-empty string", line_of(name));
      bath.name = name.as_string()->get();
      for (std::size_t o = 0; o < baths.size(); ++o)
        if (baths[o].name == bath.name)
          error("duplicate-bath",
                "bath name '" + bath.name + "' is used twice (first on line " +
                    std::to_string(name_lines[o]) + ")",
                line_of(name));
      const std::string who = "bath '" + bath.name + "'";
      const toml::node& temp = require(t, "temperature", where);
      bath.temperature = number_field(temp, who + ": temperature");
      check_temperature(bath.temperature, bath.name, line_of(temp), file_);

      const toml::node& coupling = require(t, "coupling", where);
      if (!coupling.is_string()) error("wrong-type", who + ": coupling must be a string", line_of(coupling));
      const std::string ck = coupling.as_string()->get();
      if (ck == "hermitian")
        bath.coupling = CouplingKind::hermitian;
      else if (ck == "exchange")
        bath.coupling = CouplingKind::exchange;
      else
        error(
            "coupling-kind",
            cat({who, ": unknown coupling '", ck,
                 "'; use \"hermitian\" (H_SB = S (x) B) or \"exchange\" (H_SB = A (x) b^dag + A^dag (x) b)"}),
            line_of(coupling));

      const toml::node& op = require(t, "operator", where);
      std::set<int> sites;
      bath.op = operator_field(op, who + ": operator", &sites);
      bath.sites.assign(sites.begin(), sites.end());
      if (bath.sites.empty())
        error("bath-operator",
              who + ": the coupling operator acts on no site (it is a multiple of the identity)",
              line_of(op));
      check_bath_operator(bath, space_->dim(), line_of(op), file_);

      const toml::node& spec = require(t, "spectral", where);
      bath.spectral = read_spectral(spec, bath.name);
      if (const toml::node* ls = t.get("lamb_shift")) {
        if (!ls->is_boolean())
          error("wrong-type", who + ": lamb_shift must be true or false (the default of --lamb-shift auto)",
                line_of(*ls));
        bath.lamb_shift_default = ls->as_boolean()->get();
      }
      baths.push_back(std::move(bath));
      name_lines.push_back(line_of(name));
    }
    return baths;
  }

  SpectralDensity read_spectral(const toml::node& node, const std::string& bath_name) {
    const std::string who = "bath '" + bath_name + "'";
    const toml::table* t = node.as_table();
    if (t == nullptr)
      error("wrong-type", who + ": spectral must be a table, e.g. { kind = \"flat\", gamma = 0.01 }",
            line_of(node));
    const std::string where = who + " spectral";
    const toml::node& kn = require(*t, "kind", where);
    if (!kn.is_string()) error("wrong-type", where + ": kind must be a string", line_of(kn));
    const std::string kind = kn.as_string()->get();
    SpectralDensity J;
    std::vector<std::string> keys;
    if (kind == "flat") {
      J.kind = SpectralKind::flat;
      keys = {"kind", "gamma"};
    } else if (kind == "ohmic_exp") {
      J.kind = SpectralKind::ohmic_exp;
      keys = {"kind", "gamma", "cutoff"};
    } else if (kind == "drude" || kind == "ohmic_drude") {
      J.kind = SpectralKind::ohmic_drude;
      keys = {"kind", "gamma", "cutoff"};
    } else if (kind == "power_law") {
      J.kind = SpectralKind::power_law;
      keys = {"kind", "gamma", "s", "cutoff"};
    } else if (kind == "tabulated") {
      J.kind = SpectralKind::tabulated;
      keys = {"kind", "w", "kappa"};
    } else {
      const std::vector<std::string> kinds = {"flat", "ohmic_exp", "drude", "power_law", "tabulated"};
      const std::string hint = closest_name(kind, kinds);
      error("spectral-kind",
            cat({where, ": unknown kind '", kind, "'", did_you_mean(hint), "; kinds: ", join(kinds)}),
            line_of(kn));
    }
    check_keys(*t, keys, cat({"the spectral table of ", who, " (kind \"", kind, "\")"}));
    const std::string entry = cat({where, " (kind \"", kind, "\")"});
    for (const auto& k : keys) (void)require(*t, k, entry);
    if (J.kind == SpectralKind::tabulated) {
      J.table_w = number_list(*t->get("w"), where + ": w");
      J.table_kappa = number_list(*t->get("kappa"), where + ": kappa");
    } else {
      J.gamma = number_field(*t->get("gamma"), where + ": gamma");
      if (const toml::node* c = t->get("cutoff")) J.cutoff = number_field(*c, where + ": cutoff");
      if (const toml::node* s = t->get("s")) J.s = number_field(*s, where + ": s");
    }
    check_spectral(
        J, bath_name,
        [&](const std::string& field) {
          const toml::node* f = t->get(field);
          return f != nullptr ? line_of(*f) : line_of(*t);
        },
        file_);
    return J;
  }

  std::vector<double> number_list(const toml::node& n, const std::string& what) {
    const toml::array* a = n.as_array();
    if (a == nullptr)
      error("wrong-type", what + " must be an array of numbers, not " + type_name(n), line_of(n));
    if (a->size() > 100000) error("dimension", what + " has more than 100000 entries", line_of(n));
    std::vector<double> out;
    out.reserve(a->size());
    for (std::size_t i = 0; i < a->size(); ++i)
      out.push_back(number_field((*a)[i], what + " entry " + std::to_string(i + 1)));
    return out;
  }
};

}  // namespace

void validate(const Model& model) {
  const std::string file;
  if (model.space.subsystems().empty()) throw ModelError("no-sites", "the model has no sites");
  const int dim = model.space.dim();
  check_hamiltonian(model.hamiltonian, dim, 0, file);
  if (model.baths.empty()) throw ModelError("no-baths", "the model has no baths");
  std::set<std::string> names;
  for (const auto& b : model.baths) {
    if (b.name.empty()) throw ModelError("bath-name", "a bath has an empty name");
    if (!names.insert(b.name).second)
      throw ModelError("duplicate-bath", "bath name '" + b.name + "' is used twice");
    check_temperature(b.temperature, b.name, 0, file);
    check_bath_operator(b, dim, 0, file);
    for (int s : b.sites)
      if (s < 0 || s >= static_cast<int>(model.space.subsystems().size()))
        throw ModelError("bath-sites",
                         "bath '" + b.name + "': site index " + std::to_string(s) + " is out of range");
    check_spectral(
        b.spectral, b.name, [](const std::string&) { return 0; }, file);
  }
  for (const auto& [name, op] : model.operators) {
    check_square(op, dim, "operator '" + name + "'", 0, file);
    check_finite(op, "operator '" + name + "'", 0, file);
  }
  for (const auto& [name, value] : model.parameters)
    if (!std::isfinite(value)) throw ModelError("non-finite", "parameter '" + name + "' is not finite");
  if (model.drive) {
    if (!(model.drive->frequency > 0.0) || !std::isfinite(model.drive->frequency))
      throw ModelError("drive-frequency", "the drive frequency must be > 0, got " + std::to_string(model.drive->frequency));
    if (model.drive->harmonics.empty()) throw ModelError("drive-harmonic", "the drive has no harmonics");
    std::set<int> ks;
    for (const DriveHarmonic& h : model.drive->harmonics) {
      if (h.k < 1 || h.k > 1000)
        throw ModelError("drive-harmonic", "drive harmonic k must be an integer in [1, 1000], got " + std::to_string(h.k));
      if (!ks.insert(h.k).second)
        throw ModelError("drive-harmonic", "drive harmonic k = " + std::to_string(h.k) + " is given twice");
      check_square(h.V, dim, "drive harmonic V_" + std::to_string(h.k), 0, file);
      check_finite(h.V, "drive harmonic V_" + std::to_string(h.k), 0, file);
    }
  }
}

struct ModelSource::Parsed {
  toml::table root;
};

namespace {
// Rethrows the ModelError being handled with its message and file made one line.
[[noreturn]] void rethrow_one_line(const ModelError& e) {
  const std::string what = e.what();
  if (!has_control_characters(what)) throw;
  std::string prefix;
  if (e.line() > 0)
    prefix = (e.file().empty() ? std::string("line ") : e.file() + ":") + std::to_string(e.line()) + ": ";
  const std::string msg = what.compare(0, prefix.size(), prefix) == 0 ? what.substr(prefix.size()) : what;
  throw ModelError(e.rule(), one_line(msg), e.line(), one_line(e.file()));
}
// Keys of more dotted parts than this are refused before toml++ sees them: its tables nest one level per
// part and are destroyed recursively, so a header [a.a.a...] of ~40 000 parts overflowed the stack (SIGSEGV).
constexpr int kMaxKeyParts = 100;
// The largest model file read (the examples are 1-10 KB).
constexpr std::size_t kMaxModelFileBytes = std::size_t{16} << 20;

// The dotted parts of every key and table header, counted outside quotes and outside multi-line strings.
void check_key_nesting(const std::string& text, const std::string& source_name) {
  const std::string_view basic = "\"\"\"", literal = "'''";
  bool in_basic = false, in_literal = false;  // inside a multi-line string
  int line_no = 0;
  for (std::size_t pos = 0; pos <= text.size();) {
    const std::size_t nl = std::min(text.find('\n', pos), text.size());
    const std::string_view line(text.data() + pos, nl - pos);
    ++line_no;
    pos = nl + 1;
    const bool was_in_string = in_basic || in_literal;
    for (std::size_t k = 0; k + 3 <= line.size(); ++k) {
      if (!in_literal && line.substr(k, 3) == basic) {
        in_basic = !in_basic;
        k += 2;
      } else if (!in_basic && line.substr(k, 3) == literal) {
        in_literal = !in_literal;
        k += 2;
      }
    }
    const std::size_t start = line.find_first_not_of(" \t");
    if (was_in_string || start == std::string_view::npos || line[start] == '#') continue;
    // A key is bare parts (letters, digits, _ and -), quoted parts and dots; anything else ('=', ']', ',') ends
    // it, so a continuation line of an array of numbers counts no more than its first number's dot.
    int dots = 0;
    char quote = 0;
    std::size_t k = start;
    while (k < line.size() && line[k] == '[') ++k;  // a table header [a.b] or [[a.b]]
    for (; k < line.size(); ++k) {
      const char c = line[k];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '.') {
        ++dots;
      } else if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_' && c != '-' && c != ' ' && c != '\t') {
        break;
      }
    }
    if (dots >= kMaxKeyParts)
      throw ModelError("toml-syntax",
                       "a key or table header of " + std::to_string(dots + 1) + " dotted parts; qheat reads at most " +
                           std::to_string(kMaxKeyParts),
                       line_no, one_line(source_name));
  }
}

}  // namespace

ModelSource ModelSource::from_string(const std::string& toml_text, const std::string& source_name) {
  check_key_nesting(toml_text, source_name);
  auto parsed = std::make_shared<Parsed>();
  try {
    parsed->root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    throw ModelError("toml-syntax", one_line("TOML syntax error: " + std::string(e.description())),
                     static_cast<int>(e.source().begin.line), one_line(source_name));
  }
  return {std::move(parsed), source_name};
}

std::string read_toml_text(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw ModelError("file", "'" + path + "' is a directory, not a " + what);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError("file", "cannot open " + what + " '" + path + "'");
  // At most kMaxModelFileBytes (+1 to see that there is more): /dev/zero, or a path to a large binary file by
  // mistake, is refused at once instead of filling the memory.
  std::string text;
  std::array<char, 65536> chunk{};
  while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxModelFileBytes) {
      std::string msg = what;
      msg.append(" '").append(path).append("' is larger than ").append(std::to_string(kMaxModelFileBytes >> 20));
      throw ModelError("file", msg.append(" MiB; it is a short text (docs/model-format.md)"));
    }
  }
  if (in.bad()) throw ModelError("file", "cannot read " + what + " '" + path + "'");
  check_key_nesting(text, path);
  return text;
}

ModelSource ModelSource::from_file(const std::string& path) { return from_string(read_toml_text(path, "model file"), path); }

Model ModelSource::instantiate(const std::vector<Override>& overrides) const {
  try {
    Loader loader(parsed_->root, source_name_, overrides);
    return loader.load();
  } catch (const ModelError& e) {
    rethrow_one_line(e);
  }
}

std::vector<std::pair<std::string, double>> ModelSource::parameters(const std::vector<Override>& overrides) const {
  try {
    Loader loader(parsed_->root, source_name_, overrides);
    Model model;
    loader.resolve_parameters(model);
    return model.parameters;
  } catch (const ModelError& e) {
    rethrow_one_line(e);
  }
}

Model load_model_from_string(const std::string& toml_text, const std::string& source_name,
                             const std::vector<Override>& overrides) {
  return ModelSource::from_string(toml_text, source_name).instantiate(overrides);
}

Model load_model(const std::string& path, const std::vector<Override>& overrides) {
  return ModelSource::from_file(path).instantiate(overrides);
}

std::vector<Override> parse_overrides(const std::vector<std::string>& sets) {
  std::vector<Override> out;
  for (const auto& s : sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
      throw Error("set-syntax", "--set expects NAME=VALUE, got '" + one_line(s) + "'");
    std::string name = s.substr(0, eq);  // "NAME = VALUE" (a check file's `set`) names NAME
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    if (name.empty()) throw Error("set-syntax", "--set expects NAME=VALUE, got '" + one_line(s) + "'");
    out.push_back({name, s.substr(eq + 1)});
  }
  return out;
}

cmat model_operator(const Model& model, const std::string& name_or_expression) {
  if (const auto it = model.operators.find(name_or_expression); it != model.operators.end())
    return it->second;
  EvalContext ctx;
  ctx.space = &model.space;
  for (const auto& [name, value] : model.parameters) ctx.symbols[name] = Binding{value, {}};
  for (const auto& [name, values] : model.arrays) ctx.symbols[name] = Binding{values, {}};
  for (const auto& [name, op] : model.operators) ctx.symbols[name] = Binding{op, {}};
  return evaluate_operator(name_or_expression, ctx);
}

std::vector<cmat> model_operators(const Model& model, const std::vector<std::string>& names, const std::string& what) {
  const auto d = static_cast<std::size_t>(model.hamiltonian.rows());
  check_memory(names.size() * d * d * sizeof(cplx), "holding " + what + " as dense operators",
               "fewer observables need less");
  std::vector<cmat> out;
  out.reserve(names.size());
  for (const std::string& name : names) out.push_back(model_operator(model, name));
  return out;
}

}  // namespace qheat
