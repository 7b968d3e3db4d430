// Robustness of the front door (issue #4 item 6): the model-file parser, `--set NAME=VALUE` and
// `--vary NAME=SPEC` must never crash. Every input gives a result or one typed qheat::Error; any other
// exception, a crash or a hang is a bug. Seeded mutations (std::mt19937, one fixed seed per case) of
// every examples/**/*.toml file are loaded in-process, small models that load are solved, random
// strings go through parse_overrides / parse_vary and overrides, and a smaller sample goes through the
// real CLI (`qheat ness FILE --method ...`: exit 0, 2 or 4; for 2 exactly one line `qheat: error [`).
//
// A failure prints the case's seed and the mutated text; `RobustMutation.Reproduce` below re-runs one
// seed: QHEAT_ROBUST_SEED=<seed> build/.../qheat_tests --gtest_filter='RobustMutation.Reproduce'.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <typeinfo>
#include <vector>

#include "qheat/core/resources.hpp"
#include "qheat/core/types.hpp"
#include "qheat/generators/generator.hpp"
#include "qheat/model/model.hpp"
#include "qheat/run/solve.hpp"
#include "qheat/sweep/sweep.hpp"

namespace {

namespace fs = std::filesystem;

// Fewer cases under AddressSanitizer (the same seeds, a prefix of them).
constexpr int kScale = qheat::kAddressSanitizer ? 4 : 1;

// QHEAT_ROBUST_MULTIPLIER=k runs k times as many in-process cases (new seeds after the usual ones).
int multiplier() {
  const char* env = std::getenv("QHEAT_ROBUST_MULTIPLIER");
  const long k = env != nullptr ? std::strtol(env, nullptr, 10) : 1;
  return k >= 1 && k <= 10000 ? static_cast<int>(k) : 1;
}

constexpr int kMaxSolveDim = 16;
constexpr int kMaxReportedFailures = 10;

struct Example {
  std::string name;  // path relative to examples/
  std::string text;
};

const std::vector<Example>& examples() {
  static const std::vector<Example> all = [] {
    std::vector<Example> out;
    const fs::path root = fs::path(QHEAT_SOURCE_DIR) / "examples";
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (!e.is_regular_file() || e.path().extension() != ".toml") continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::string text(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>{});
      // Model files only (examples/*/checks.toml are `qheat check` tables).
      if (text.find("[hamiltonian]") == std::string::npos) continue;
      out.push_back({fs::relative(e.path(), root).string(), std::move(text)});
    }
    std::sort(out.begin(), out.end(), [](const Example& a, const Example& b) { return a.name < b.name; });
    // The format's features the examples do not use: spins, levels, the [sites.x] table form,
    // tabulated and power-law densities, named operators built from each other, several harmonics.
    out.push_back({"(built-in) feature_tour.toml", R"toml(name = "feature tour"
description = "every site kind and spectral density"
[parameters]
w = 1.0
J = 0.15
T = 0.7
gamma = 0.02
M = 1
table = [0.0, 0.5, 1.0, 2.0, 4.0]
[sites]
s = { kind = "spin", j = 1 }
l = { kind = "level", dim = 2 }
[sites.q]
kind = "qubit"
count = "M"
[hamiltonian]
H = "w*Sz(s) + 0.7*w*proj(l, 1, 1) + 1.3*w*sz(q1)/2 + J*(Sp(s)*proj(l, 0, 1) + dag(Sp(s)*proj(l, 0, 1))) + V"
[operators]
V = "J*comm(Sx(s), Sy(s))^2 / 4 + J*sum(k, 1, M, sx(q{k})*Sx(s))"
W = "dag(V) + V"
[drive]
frequency = "1.1*w"
harmonics = [ { k = 1, V = "0.05*Sx(s)" }, { k = 2, V = "0.01*sx(q1)" } ]
[[baths]]
name = "hot"
temperature = "3*T"
coupling = "hermitian"
operator = "Sx(s) + 0*W"
spectral = { kind = "tabulated", w = ["table[1]", 0.5, 1.0, 2.0, 4.0], kappa = [0, "gamma", 0.03, 0.02, 0] }
[[baths]]
name = "cold"
temperature = "T"
coupling = "exchange"
operator = "proj(l, 0, 1)"
spectral = { kind = "power_law", gamma = "gamma", s = 3, cutoff = 5 }
lamb_shift = false
[[baths]]
name = "zero"
temperature = 0
coupling = "hermitian"
operator = "sx(q1)"
spectral = { kind = "ohmic_drude", gamma = 0.01, cutoff = 8 }
)toml"});
    return out;
  }();
  return all;
}

// ---------------------------------------------------------------------------------------------------
// The mutator.

const std::vector<std::string>& extreme_numbers() {
  static const std::vector<std::string> v = {
      "0",     "-1",   "1e308", "-1e308", "1e-308", "5e-324", "nan",   "-nan", "inf",  "-inf",
      "+inf",  "1e999", "-1e999", "100000", "-100000", "0.0", "-0.0", "-2",   "-273.15", "1e-300",
      "2147483647", "2147483648", "-2147483649", "9223372036854775807", "99999999999999999999",
      "1.5",   "0.5",  "1e9",   "5001",   "4097",   "1001",  "0x10", "0b1",  "1_000", "3.0e",
      "1e+",   ".",    "-",     "1e308*1e308", "1/0", "0/0", "-1e-320", "7", "2"};
  return v;
}

const std::vector<std::string>& random_tokens() {
  static const std::vector<std::string> v = {
      "[", "]", "{", "}", "\"", "'", "\"\"\"", "'''", "=", "\n", ",", "#", "\\", "\\u0000", "\\uD800",
      "\\U0010FFFF", "[[baths]]\n", "[sites]\n", "[drive]\n", "[parameters]\n", "[operators]\n",
      "[hamiltonian]\n", "\xc3\xa9", "\xe2\x88\x9e", "\xff\xfe", std::string("\0", 1), "\t", "\r", "\r\n",
      "(", ")", "((((((((((", "))))", "^", "**", "^-1", "/0", "*", "+", "-", "sum(k,1,100000,",
      "sum(k, 1, 1000000, sz(q1))", "sum(k,1,N,", "q{", "{k}", "{N+1}", "d[0]", "d[13]", "d[-1]", "d[1e9]",
      "1e308", "nan", "inf", "pi", "i", "dag(", "comm(", "proj(q1,0,5)", "proj(q,0,1)", "id(", "sqrt(-1)",
      "log(0)", "0^-1", "0^0", "sz(q1)^1000000", "sz(q1)^-1", "(-1)^0.5", "true", "false",
      "1979-05-27", "1979-05-27T07:32:00Z", "x = 1\n", "name = \"dup\"\n", "\n[[baths]]\nname=\"x\"\n",
      "\n[sites]\nz = { kind = \"boson\", nmax = 100000 }\n", "count = 1000", "nmax = 5000", "j = 100",
      "dim = 5000", "k = 0", "k = 1001", "V = \"sx(q)\"", "harmonics = []", "frequency = 0",
      "kind = \"tabulated\", w = [0, 1], kappa = [1, 1]", "w = [1, 0]", "kappa = [-1]",
      std::string(300, '('), std::string(250, '-'), std::string(1000, 'a'), "a.b.c = 1\n", "[a.b]\n"};
  return v;
}

const std::vector<std::string>& random_keys() {
  static const std::vector<std::string> v = {
      "name", "description", "temperature", "coupling", "operator", "spectral", "kind", "gamma", "cutoff",
      "s", "w", "kappa", "lamb_shift", "frequency", "harmonics", "k", "V", "H", "nmax", "dim", "j", "count",
      "temprature", "a b", "1x", "i", "pi", "\"quoted key\"", "''", "q1", "N", "sites", "baths", "drive",
      "parameters", "hamiltonian", "operators", "\xc3\xa9", "x.y", "T_l", "eps", "omega_d", "d"};
  return v;
}

const std::vector<std::string>& random_values() {
  static const std::vector<std::string> v = {
      "\"qubit\"", "\"boson\"", "\"spin\"", "\"level\"", "\"hermitian\"", "\"exchange\"", "\"drude\"",
      "\"flat\"", "\"tabulated\"", "\"power_law\"", "\"ohmic_exp\"", "\"ohmic_drude\"", "\"\"", "\"sx(q1)\"",
      "\"0\"", "\"0*sx(q1)\"", "\"id(q1)\"", "\"sm(q1)\"", "\"a(c)\"", "\"nmax\"", "\"N\"", "true", "[]",
      "[1, 2]", "[[1]]", "{}", "{ kind = \"spin\", j = 0.5 }", "{ kind = \"spin\", j = 0.25 }",
      "{ kind = \"boson\", nmax = 0 }", "{ kind = \"level\", dim = 1 }", "{ kind = \"qubit\", count = 0 }",
      "{ kind = \"flat\", gamma = -1 }", "{ kind = \"drude\", gamma = 1, cutoff = 0 }",
      "{ kind = \"power_law\", gamma = 1, s = 0, cutoff = 1 }",
      "{ kind = \"tabulated\", w = [0, 1, 1], kappa = [0, 1, 2] }",
      "{ kind = \"tabulated\", w = [0], kappa = [1] }", "1979-05-27", "nan", "inf", "-1", "0", "1e308",
      "\"1e308*1e308\"", "\"-1\"", "\"i\"", "\"pi\"", "[ { k = 1, V = \"sx(q1)\" }, { k = 1, V = \"0\" } ]",
      "[ { k = 0, V = \"1\" } ]", "[ { k = 2 } ]", "\"a = \\\"b\\\"\""};
  return v;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::string cur;
  for (char c : text) {
    if (c == '\n') {
      lines.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  lines.push_back(cur);
  return lines;
}

// Indices of the lines that assign a key (contain '=' and are not comments).
std::vector<std::size_t> keyed_lines(const std::vector<std::string>& lines) {
  std::vector<std::size_t> keyed;
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i].find('=') != std::string::npos && lines[i][0] != '#') keyed.push_back(i);
  return keyed;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += '\n';
    out += lines[i];
  }
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Number tokens: [start, end) of maximal runs of digits, '.', and exponents.
std::vector<std::pair<std::size_t, std::size_t>> number_spans(const std::string& t) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t i = 0;
  while (i < t.size()) {
    const bool starts = is_digit(t[i]) || (t[i] == '.' && i + 1 < t.size() && is_digit(t[i + 1]));
    if (!starts) {
      ++i;
      continue;
    }
    const std::size_t b = i;
    while (i < t.size() && (is_digit(t[i]) || t[i] == '.' || t[i] == 'e' || t[i] == 'E' ||
                            ((t[i] == '-' || t[i] == '+') && (t[i - 1] == 'e' || t[i - 1] == 'E'))))
      ++i;
    out.emplace_back(b, i);
  }
  return out;
}

class Mutator {
public:
  explicit Mutator(std::uint32_t seed) : rng_(seed) {}

  std::size_t pick(std::size_t n) {
    if (n == 0) return 0;
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  template <class T>
  const T& choose(const std::vector<T>& v) {
    return v[pick(v.size())];
  }
  std::mt19937& rng() { return rng_; }

  // One to three mutations; `log` describes them.
  std::string mutate(std::string text, std::string& log) {
    const std::size_t n = 1 + pick(3);
    for (std::size_t m = 0; m < n; ++m) text = mutate_once(std::move(text), log);
    return text;
  }

private:
  std::string mutate_once(std::string t, std::string& log) {
    switch (pick(12)) {
      case 0: {  // flip a bit
        if (t.empty()) return t;
        const std::size_t p = pick(t.size());
        t[p] = static_cast<char>(static_cast<unsigned char>(t[p]) ^ (1U << pick(8)));
        log += "flip-bit@" + std::to_string(p) + " ";
        return t;
      }
      case 1: {  // replace a byte by a random byte
        if (t.empty()) return t;
        const std::size_t p = pick(t.size());
        t[p] = static_cast<char>(pick(256));
        log += "byte@" + std::to_string(p) + " ";
        return t;
      }
      case 2: {  // delete a line
        auto lines = split_lines(t);
        const std::size_t p = pick(lines.size());
        lines.erase(lines.begin() + static_cast<long>(p));
        log += "delete-line " + std::to_string(p + 1) + " ";
        return join_lines(lines);
      }
      case 3: {  // duplicate a line
        auto lines = split_lines(t);
        const std::size_t p = pick(lines.size());
        lines.insert(lines.begin() + static_cast<long>(p), lines[p]);
        log += "dup-line " + std::to_string(p + 1) + " ";
        return join_lines(lines);
      }
      case 4: {  // swap two lines
        auto lines = split_lines(t);
        const std::size_t a = pick(lines.size()), b = pick(lines.size());
        std::swap(lines[a], lines[b]);
        log += "swap-lines " + std::to_string(a + 1) + "," + std::to_string(b + 1) + " ";
        return join_lines(lines);
      }
      case 5:
      case 6: {  // replace a number by an extreme value
        const auto spans = number_spans(t);
        if (spans.empty()) return t;
        const auto [b, e] = spans[pick(spans.size())];
        const std::string& v = choose(extreme_numbers());
        t.replace(b, e - b, v);
        log += "number@" + std::to_string(b) + "=" + v + " ";
        return t;
      }
      case 7: {  // truncate
        const std::size_t p = pick(t.size() + 1);
        t.resize(p);
        log += "truncate@" + std::to_string(p) + " ";
        return t;
      }
      case 8:
      case 9: {  // insert a random token
        const std::size_t p = pick(t.size() + 1);
        const std::string& v = choose(random_tokens());
        t.insert(p, v);
        log += "insert@" + std::to_string(p) + " ";
        return t;
      }
      case 10: {  // change a key
        auto lines = split_lines(t);
        const std::vector<std::size_t> keyed = keyed_lines(lines);
        if (keyed.empty()) return t;
        const std::size_t li = keyed[pick(keyed.size())];
        std::string& l = lines[li];
        const std::size_t eq = l.find('=');
        l = choose(random_keys()) + " " + l.substr(eq);
        log += "key@line" + std::to_string(li + 1) + " ";
        return join_lines(lines);
      }
      default: {  // change a value
        auto lines = split_lines(t);
        const std::vector<std::size_t> keyed = keyed_lines(lines);
        if (keyed.empty()) return t;
        const std::size_t li = keyed[pick(keyed.size())];
        std::string& l = lines[li];
        l = l.substr(0, l.find('=') + 1) + " " + choose(random_values());
        log += "value@line" + std::to_string(li + 1) + " ";
        return join_lines(lines);
      }
    }
  }

  std::mt19937 rng_;
};

// Random operator/scalar expressions for override values and bath-operator strings.
std::string random_expression(Mutator& m, std::size_t max_tokens = 12) {
  static const std::vector<std::string> atoms = {
      "1", "0", "-1", "2.5", "1e308", "1e-308", "1e999", ".5", "5e-324", "pi", "i", "eps", "g", "N", "nmax",
      "T_l", "gamma", "d[1]", "d[0]", "d[100]", "sx(q1)", "sz(q)", "a(c)", "n(a)", "id(q1)", "proj(q1,0,1)",
      "proj(q1,2,0)", "sp(q{1})", "sm(q{N})", "sx(q{N+1})", "V_zz", "k", "x", "2x", "q1", "sum(k,1,3,k)",
      "sum(k,1,100000,k)", "sum(k,1,1e12,k)", "sum(i,1,2,1)", "sum(k,3,1,sz(q1))"};
  static const std::vector<std::string> ops = {"+", "-", "*", "/", "^", "**", "^-", ",", ""};
  static const std::vector<std::string> funcs = {"sqrt(", "exp(", "log(", "sin(", "cos(", "tan(", "cosh(",
                                                 "sinh(", "tanh(", "abs(", "conj(", "real(", "imag(",
                                                 "dag(", "comm(", "(", "sum(", "unknown("};
  std::string s;
  const std::size_t n = 1 + m.pick(max_tokens);
  int open = 0;
  for (std::size_t k = 0; k < n; ++k) {
    switch (m.pick(6)) {
      case 0:
        s += m.choose(funcs);
        ++open;
        break;
      case 1:
        if (open > 0) {
          s += ")";
          --open;
        }
        break;
      case 2:
        s += m.choose(ops);
        break;
      default:
        s += m.choose(atoms);
        if (k + 1 < n) s += m.choose(ops);
        break;
    }
  }
  if (m.pick(4) != 0)
    while (open-- > 0) s += ")";
  return s;
}

// Mostly well-formed expressions from the grammar of docs/model-format.md over the sites q1, q2 (qubits)
// and c (boson) of the model in RandomExpressionsInModelFiles; `scalar_only` leaves out operators.
std::string grammar_expression(Mutator& m, int depth, bool scalar_only, bool in_sum = false) {
  static const std::vector<std::string> numbers = {"1", "0", "2.5", ".5", "1e-3", "3", "1e308", "1e-308",
                                                   "5e-324", "1e300", "0.0", "7", "1e6", "2"};
  static const std::vector<std::string> scalars = {"eps", "g", "N", "nmax", "T_l", "gamma", "d[1]", "d[2]",
                                                   "pi", "i", "d[N]"};
  static const std::vector<std::string> operators = {
      "sx(q1)", "sy(q2)", "sz(q{2})", "sp(q1)", "sm(q{N})", "Sx(q1)", "Sp(q2)", "a(c)", "adag(c)",
      "ad(c)", "n(c)", "num(c)", "x(c)", "id(c)", "id(q1)", "proj(c,0,2)", "proj(q1,1,0)", "proj(c,2,2)",
      "V_zz"};
  static const std::vector<std::string> functions = {"sqrt", "exp", "log", "sin", "cos", "tan", "cosh",
                                                     "sinh", "tanh", "abs", "conj", "real", "imag"};
  static const std::vector<std::string> binary = {" + ", " - ", "*", "/"};
  const std::size_t choice = depth <= 0 ? m.pick(3) : m.pick(11);
  switch (choice) {
    case 0:
      return m.choose(numbers);
    case 1:
      if (in_sum && m.pick(2) == 0) return "k";
      return m.choose(scalars);
    case 2:
      if (scalar_only) return m.choose(scalars);
      if (in_sum && m.pick(2) == 0) return m.pick(2) == 0 ? "sz(q{k})" : "sp(q{k})*sm(q{k+1})";
      return m.choose(operators);
    case 3:
    case 4:
      return grammar_expression(m, depth - 1, scalar_only, in_sum) + m.choose(binary) +
             grammar_expression(m, depth - 1, scalar_only, in_sum);
    case 5:
      return m.choose(functions) + "(" + grammar_expression(m, depth - 1, true, in_sum) + ")";
    case 6:
      return "(" + grammar_expression(m, depth - 1, scalar_only, in_sum) + ")";
    case 7:
      return "-" + grammar_expression(m, depth - 1, scalar_only, in_sum);
    case 8: {
      static const std::vector<std::string> exps = {"2", "0", "3", "-1", "0.5", "1000000", "2^-1", "i"};
      return "(" + grammar_expression(m, depth - 1, scalar_only, in_sum) + ")" + (m.pick(2) == 0 ? "^" : "**") +
             m.choose(exps);
    }
    case 9: {
      static const std::vector<std::string> bounds = {"1", "N", "N-1", "0", "3", "2*N", "100000", "-5"};
      return "sum(k, " + m.choose(bounds) + ", " + m.choose(bounds) + ", " +
             grammar_expression(m, depth - 1, scalar_only, true) + ")";
    }
    default:
      if (scalar_only) return "conj(" + grammar_expression(m, depth - 1, true, in_sum) + ")";
      return m.pick(2) == 0 ? "dag(" + grammar_expression(m, depth - 1, false, in_sum) + ")"
                            : "comm(" + grammar_expression(m, depth - 1, false, in_sum) + ", " +
                                  grammar_expression(m, depth - 1, false, in_sum) + ")";
  }
}

// A grammar expression, sometimes corrupted by one mutation, sometimes plain token soup.
std::string fuzz_expression(Mutator& m, bool scalar_only) {
  const std::size_t kind = m.pick(10);
  if (kind < 2) return random_expression(m);
  std::string e = grammar_expression(m, 1 + static_cast<int>(m.pick(4)), scalar_only);
  if (kind < 4) {
    std::string log;
    Mutator inner(static_cast<std::uint32_t>(m.pick(1U << 30)));
    e = inner.mutate(e, log);
  }
  return e;
}

// Random bytes with a bias towards the characters the parsers care about.
std::string random_string(Mutator& m, std::size_t max_len) {
  static const std::string special = "=:,.-+*/^()[]{}eE0123456789 \t\"'\\log";
  std::string s;
  const std::size_t n = m.pick(max_len + 1);
  for (std::size_t k = 0; k < n; ++k) {
    switch (m.pick(4)) {
      case 0:
        s += static_cast<char>(m.pick(256));
        break;
      case 1:
        s += static_cast<char>('a' + m.pick(26));
        break;
      default:
        s += special[m.pick(special.size())];
        break;
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------
// Outcomes: a result, a typed qheat::Error, or a failure (anything else).

struct Outcome {
  bool loaded = false;
  std::string rule;     // Error::rule() when a qheat::Error was thrown
  std::string failure;  // non-empty: a bug
};

template <class F>
Outcome guarded(F&& f) {
  Outcome o;
  try {
    f();
    o.loaded = true;
  } catch (const qheat::Error& e) {
    o.rule = e.rule();
    if (e.rule().empty()) o.failure = "qheat::Error with an empty rule: " + std::string(e.what());
    else if (std::string(e.what()).empty()) o.failure = "qheat::Error [" + e.rule() + "] with an empty message";
  } catch (const std::exception& e) {
    o.failure = std::string("non-qheat exception ") + typeid(e).name() + ": " + e.what();
  } catch (...) {
    o.failure = "non-std exception";
  }
  return o;
}

// One model, one method: steady state and thermodynamics (the path of `qheat ness`).
// The Floquet-Markov solver integrates one drive period with about |H| T / 4 steps, doubled until
// converged and capped at 2^20 (then 2^21 for the error estimate): a legitimate but minute-long
// computation for |H| T >> 10^4, so such models are solved with the other methods only.
bool floquet_is_cheap(const qheat::Model& model) {
  if (!model.drive || !(model.drive->frequency > 0.0)) return true;  // an error, fast
  double spread = 2.0 * model.hamiltonian.norm();
  for (const auto& h : model.drive->harmonics) spread += 4.0 * h.V.norm();
  return spread * (2.0 * 3.141592653589793 / model.drive->frequency) < 4.0 * 4096.0;
}

void solve_one(const qheat::Model& model, qheat::Method method) {
  if (method == qheat::Method::floquet && !floquet_is_cheap(model)) return;
  const qheat::Solution s = qheat::solve(model, method);
  (void)s;
}

std::vector<qheat::Method> methods_for(const qheat::Model& model, Mutator& m) {
  using qheat::Method;
  static const std::vector<Method> stat = {Method::global, Method::redfield, Method::local};
  static const std::vector<Method> driven = {Method::ddme, Method::dme, Method::floquet, Method::global};
  const auto& pool = model.drive ? driven : stat;
  std::vector<Method> out{m.choose(pool)};
  if (m.pick(2) == 0) out.push_back(m.choose(pool));
  return out;
}

struct Failures {
  int count = 0;
  void report(const std::string& what, std::uint32_t seed, const std::string& source, const std::string& log,
              const std::string& text) {
    ++count;
    if (count > kMaxReportedFailures) return;
    ADD_FAILURE() << what << "\n  seed " << seed << ", source " << source << ", mutations: " << log
                  << "\n  reproduce: QHEAT_ROBUST_SEED=" << seed
                  << " qheat_tests --gtest_filter=RobustMutation.Reproduce"
                  << "\n--- mutated text ---\n"
                  << text << "\n--- end ---";
  }
};

// The mutated text of case `seed`: the example is chosen by the seed as well.
struct Case {
  std::uint32_t seed = 0;
  const Example* example = nullptr;
  std::string text;
  std::string log;
};

Case make_case(std::uint32_t seed) {
  Case c;
  c.seed = seed;
  Mutator m(seed);
  c.example = &examples()[m.pick(examples().size())];
  c.text = m.mutate(c.example->text, c.log);
  return c;
}

// Loads the case in-process and, for small models that load, solves it with one or two methods.
struct CaseStats {
  int loaded = 0, errors = 0, solved = 0;
};
void run_case(const Case& c, Failures& fail, CaseStats& stats) {
  std::optional<qheat::Model> model;
  const Outcome o = guarded([&] { model = qheat::load_model_from_string(c.text, c.example->name); });
  if (!o.failure.empty()) {
    fail.report("load_model_from_string: " + o.failure, c.seed, c.example->name, c.log, c.text);
    return;
  }
  if (!o.loaded) {
    ++stats.errors;
    return;
  }
  ++stats.loaded;
  if (model->hamiltonian.rows() > kMaxSolveDim) return;
  Mutator m(c.seed ^ 0x9e3779b9U);
  for (const qheat::Method method : methods_for(*model, m)) {
    const Outcome s = guarded([&] { solve_one(*model, method); });
    if (!s.failure.empty())
      fail.report("solve --method " + qheat::method_name(method) + ": " + s.failure, c.seed, c.example->name,
                  c.log, c.text);
    else if (s.loaded)
      ++stats.solved;
  }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ---------------------------------------------------------------------------------------------------
// In-process: mutated example files.

constexpr std::uint32_t kMutationSeed0 = 1000000;
constexpr std::uint32_t kCliSeed0 = 5000000;

TEST(RobustMutation, ExamplesAreFound) {
  ASSERT_GE(examples().size(), 5U) << "examples/**/*.toml not found under " << QHEAT_SOURCE_DIR;
  for (const Example& e : examples())
    EXPECT_NO_THROW((void)qheat::load_model_from_string(e.text, e.name)) << e.name;
}

TEST(RobustMutation, MutatedExamplesLoadOrFailTyped) {
  const int n = 20000 / kScale * multiplier();
  const auto t0 = std::chrono::steady_clock::now();
  Failures fail;
  CaseStats stats;
  for (int k = 0; k < n; ++k) run_case(make_case(kMutationSeed0 + static_cast<std::uint32_t>(k)), fail, stats);
  std::printf("[ robust ] %d mutated files: %d loaded (%d solves), %d typed errors, %d failures, %.1f s\n", n,
              stats.loaded, stats.solved, stats.errors, fail.count, seconds_since(t0));
  EXPECT_EQ(fail.count, 0);
  // The mutator must leave a fair share of files loadable, or the solvers are not exercised.
  EXPECT_GT(stats.loaded, n / 20);
}

// Re-runs one case: QHEAT_ROBUST_SEED=<seed> (in-process seeds and CLI seeds alike).
TEST(RobustMutation, Reproduce) {
  const char* env = std::getenv("QHEAT_ROBUST_SEED");
  if (env == nullptr) GTEST_SKIP() << "set QHEAT_ROBUST_SEED to re-run one case";
  const Case c = make_case(static_cast<std::uint32_t>(std::strtoul(env, nullptr, 10)));
  std::printf("source %s, mutations: %s\n--- text ---\n%s\n--- end ---\n", c.example->name.c_str(),
              c.log.c_str(), c.text.c_str());
  Failures fail;
  CaseStats stats;
  run_case(c, fail, stats);
  EXPECT_EQ(fail.count, 0);
}

// Expressions in every position of a small model: Hamiltonian, bath operator, temperature, spectral
// parameter, site size, drive.
TEST(RobustMutation, RandomExpressionsInModelFiles) {
  const std::string base = R"toml(name = "fuzz"
[parameters]
eps = 1.0
g = 0.1
N = 2
nmax = 2
T_l = 1.0
gamma = 0.01
d = [0.1, -0.2]
[sites]
q = { kind = "qubit", count = "N" }
c = { kind = "boson", nmax = "@SIZE@" }
[hamiltonian]
H = "@H@"
[operators]
V_zz = "@OP@"
[drive]
frequency = "@WD@"
harmonics = [ { k = 1, V = "@V@" } ]
[[baths]]
name = "hot"
temperature = "@T@"
coupling = "@KIND@"
operator = "@S@"
spectral = { kind = "drude", gamma = "@GAMMA@", cutoff = "10" }
[[baths]]
name = "cold"
temperature = "0.5"
coupling = "hermitian"
operator = "sx(q2)"
spectral = { kind = "ohmic_exp", gamma = "gamma", cutoff = "10" }
)toml";
  const std::vector<std::pair<std::string, std::string>> defaults = {
      {"@SIZE@", "nmax"}, {"@H@", "eps*sz(q1) + eps*sz(q2) + g*sx(q1)*sx(q2) + n(c)"}, {"@OP@", "sz(q1)*sz(q2)"},
      {"@WD@", "0.7"},    {"@V@", "0.05*sx(q1)"},  {"@T@", "T_l"},  {"@KIND@", "hermitian"},
      {"@S@", "sx(q1) + x(c)"}, {"@GAMMA@", "gamma"}};
  // (The slowest cases: sums and powers of operators; halved again under the sanitizers.)
  const int n = 3000 / (kScale == 1 ? 1 : 2 * kScale) * multiplier();
  const auto t0 = std::chrono::steady_clock::now();
  Failures fail;
  CaseStats stats;
  for (int k = 0; k < n; ++k) {
    const std::uint32_t seed = 2000000U + static_cast<std::uint32_t>(k);
    Mutator m(seed);
    std::string text = base;
    std::string log;
    const std::size_t target = m.pick(defaults.size());
    for (std::size_t p = 0; p < defaults.size(); ++p) {
      std::string value = defaults[p].second;
      if (p == target) {
        const bool scalar = defaults[p].first == "@SIZE@" || defaults[p].first == "@WD@" ||
                            defaults[p].first == "@T@" || defaults[p].first == "@GAMMA@";
        value = fuzz_expression(m, scalar);
        if (defaults[p].first == "@KIND@") value = m.pick(2) == 0 ? "exchange" : value;
        log = defaults[p].first + " = " + value;
      }
      // Keep the TOML string valid: the expression goes inside a basic string.
      std::string escaped;
      for (char ch : value) {
        if (ch == '"' || ch == '\\') escaped += '\\';
        escaped += ch;
      }
      text.replace(text.find(defaults[p].first), defaults[p].first.size(), escaped);
    }
    Case c{seed, &examples().front(), text, log};
    // Use the model text itself as the source name of failures.
    static const Example self{"RandomExpressionsInModelFiles", ""};
    c.example = &self;
    run_case(c, fail, stats);
  }
  std::printf("[ robust ] %d random expressions: %d loaded (%d solves), %d typed errors, %.1f s\n", n,
              stats.loaded, stats.solved, stats.errors, seconds_since(t0));
  EXPECT_EQ(fail.count, 0);
  EXPECT_GT(stats.loaded, 0);
  EXPECT_GT(stats.errors, 0);
}

// ---------------------------------------------------------------------------------------------------
// Regressions: bugs the mutation tests found.

// Error messages quote the input; a newline in it (a multi-line TOML string, a quoted key, a --set
// value) made `qheat: error [...]` span several lines. Control characters are now escaped.
TEST(RobustRegression, ErrorMessagesQuotingTheInputStayOneLine) {
  const std::string tail = R"toml(
[[baths]]
name = "b"
temperature = 1
coupling = "hermitian"
operator = "sx(q1)"
spectral = { kind = "flat", gamma = 1 }
)toml";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[sites]\nq1 = \"qubit\"\n[hamiltonian]\nH = \"\"\"sx(q1)\n + foo\"\"\"\n" + tail, "expression"},
      {"[sites]\n\"a\\nb\" = \"qubit\"\n[hamiltonian]\nH = \"0\"\n" + tail, "site-name"},
      {"[sites]\nq1 = \"qubit\"\n\"x\\u0001y\" = 1\n[hamiltonian]\nH = \"sz(q1)\"\n" + tail, "site-name"},
      {"[sites]\nq1 = \"qu\\nbit\"\n[hamiltonian]\nH = \"sz(q1)\"\n" + tail, "site-kind"}};
  for (const auto& [text, rule] : cases) {
    try {
      (void)qheat::load_model_from_string(text, "multi.toml");
      ADD_FAILURE() << "no error for\n" << text;
    } catch (const qheat::ModelError& e) {
      const std::string what = e.what();
      EXPECT_EQ(e.rule(), rule) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
      EXPECT_EQ(what.find('\x01'), std::string::npos) << what;
    }
  }
  // --set values and malformed --set arguments.
  const std::string model = "[parameters]\nw = 1\n[sites]\nq1 = \"qubit\"\n[hamiltonian]\nH = \"w*sz(q1)\"\n" + tail;
  for (const std::string& set : {std::string("w=1\n+ x"), std::string("nope\n=1"), std::string("w\r=2")}) {
    try {
      (void)qheat::load_model_from_string(model, "m.toml", qheat::parse_overrides({set}));
      ADD_FAILURE() << "no error for --set " << set;
    } catch (const qheat::Error& e) {
      EXPECT_EQ(std::string(e.what()).find_first_of("\n\r"), std::string::npos) << e.what();
    }
  }
  try {
    (void)qheat::parse_overrides({"no\nequals"});
    ADD_FAILURE();
  } catch (const qheat::Error& e) {
    EXPECT_EQ(e.rule(), "set-syntax");
    EXPECT_EQ(std::string(e.what()), "--set expects NAME=VALUE, got 'no\\nequals'");
  }
}

// Regression (found by the mutation tests): for |H| T ~ 10^7 the Floquet-Markov solver used to double its
// steps up to the 2^20 cap and compute 2^21 more (minutes) although it could not converge. It now refuses
// with MethodError("floquet-steps") before propagating. The mutation tests still skip floquet for large
// |H| T (floquet_is_cheap) to keep their run time bounded.
TEST(RobustRegression, FloquetBeyondTheStepCapIsATypedError) {
  const std::string text = R"toml(
[parameters]
eps = 1e6
[sites]
q = { kind = "qubit", count = 2 }
c = { kind = "boson", nmax = 2 }
[hamiltonian]
H = "eps*sz(q1) + sz(q2) + 0.1*sx(q1)*sx(q2) + n(c)"
[drive]
frequency = 0.7
harmonics = [ { k = 1, V = "0.05*sx(q1)" } ]
[[baths]]
name = "hot"
temperature = 1
coupling = "hermitian"
operator = "sx(q1) + x(c)"
spectral = { kind = "drude", gamma = 0.01, cutoff = 10 }
[[baths]]
name = "cold"
temperature = 0.5
coupling = "hermitian"
operator = "sx(q2)"
spectral = { kind = "ohmic_exp", gamma = 0.01, cutoff = 10 }
)toml";
  const qheat::Model model = qheat::load_model_from_string(text, "floquet_large.toml");
  // The drive couples levels 2e6 apart: 2e6 x period ~ 2e7 propagator steps per period, above the 2^20 cap:
  // the time-domain solver must refuse before propagating (it used to run 2^21 steps for minutes).
  qheat::SolveOptions time_domain;
  time_domain.floquet.solver = qheat::FloquetSolver::propagator;
  try {
    (void)qheat::solve(model, qheat::Method::floquet, time_domain);
    ADD_FAILURE() << "the Floquet propagator accepted a propagation beyond its step cap";
  } catch (const qheat::MethodError& e) {
    EXPECT_EQ(e.rule(), "floquet-steps");
  }
  // The extended-space solver (the default) does not care about the static energy scale: it solves the
  // same model with its modes converged.
  const qheat::Solution s = qheat::solve(model, qheat::Method::floquet);
  ASSERT_TRUE(s.floquet.has_value());
  EXPECT_EQ(s.floquet->solver, "sambe");
  EXPECT_NE(s.status, qheat::SteadyStatus::not_converged);
}

// ---------------------------------------------------------------------------------------------------
// --set NAME=VALUE

TEST(RobustOverrides, ParseOverridesOnRandomStrings) {
  const int n = 20000 / kScale;
  Failures fail;
  for (int k = 0; k < n; ++k) {
    const std::uint32_t seed = 3000000U + static_cast<std::uint32_t>(k);
    Mutator m(seed);
    std::vector<std::string> sets;
    const std::size_t count = m.pick(4);
    for (std::size_t j = 0; j < count; ++j) sets.push_back(random_string(m, 24));
    std::vector<qheat::Override> out;
    const Outcome o = guarded([&] { out = qheat::parse_overrides(sets); });
    std::string joined;
    for (const auto& s : sets) joined += "--set '" + s + "' ";
    if (!o.failure.empty()) {
      fail.report("parse_overrides: " + o.failure, seed, "random", "", joined);
    } else if (o.loaded) {
      // NAME=VALUE, split at the first '=', both parts non-empty; NAME without surrounding spaces and tabs.
      bool ok = out.size() == sets.size();
      for (std::size_t j = 0; ok && j < out.size(); ++j) {
        const std::string& s = sets[j];
        const std::size_t eq = s.find('=');
        std::string name = s.substr(0, eq);
        name.erase(0, name.find_first_not_of(" \t"));
        name.erase(name.find_last_not_of(" \t") + 1);
        ok = eq != std::string::npos && !out[j].name.empty() && !out[j].value.empty() && out[j].name == name &&
             out[j].value == s.substr(eq + 1);
      }
      if (!ok) fail.report("parse_overrides returned a malformed override", seed, "random", "", joined);
    } else if (o.rule != "set-syntax") {
      fail.report("parse_overrides threw rule '" + o.rule + "', expected set-syntax", seed, "random", "", joined);
    }
  }
  EXPECT_EQ(fail.count, 0);
}

// Random override values (and names) applied to every example: the value is evaluated in place of
// the parameter's definition.
TEST(RobustOverrides, RandomOverrideValuesOnExamples) {
  const int n = 5000 / kScale * multiplier();
  const auto t0 = std::chrono::steady_clock::now();
  Failures fail;
  int loaded = 0, errors = 0;
  for (int k = 0; k < n; ++k) {
    const std::uint32_t seed = 4000000U + static_cast<std::uint32_t>(k);
    Mutator m(seed);
    const Example& ex = examples()[m.pick(examples().size())];
    // Parameter names of the example, from a clean load.
    const qheat::Model clean = qheat::load_model_from_string(ex.text, ex.name);
    std::vector<std::string> sets;
    const std::size_t count = 1 + m.pick(2);
    for (std::size_t j = 0; j < count; ++j) {
      std::string name = "nope";
      if (!clean.parameters.empty() && m.pick(8) != 0) name = m.choose(clean.parameters).first;
      else if (m.pick(2) == 0) name = random_string(m, 6);
      std::string value = m.pick(3) == 0 ? m.choose(extreme_numbers()) : fuzz_expression(m, true);
      if (m.pick(6) == 0) value = random_string(m, 12);
      sets.push_back(name + "=" + value);
    }
    std::string shown;
    for (const auto& s : sets) shown += "--set '" + s + "' ";
    std::optional<qheat::Model> model;
    const Outcome o = guarded([&] { model = qheat::load_model_from_string(ex.text, ex.name, qheat::parse_overrides(sets)); });
    if (!o.failure.empty()) {
      fail.report("overrides: " + o.failure, seed, ex.name, shown, "(unchanged example)");
      continue;
    }
    if (!o.loaded) {
      ++errors;
      continue;
    }
    ++loaded;
    if (model->hamiltonian.rows() > kMaxSolveDim) continue;
    for (const qheat::Method method : methods_for(*model, m)) {
      const Outcome s = guarded([&] { solve_one(*model, method); });
      if (!s.failure.empty())
        fail.report("solve --method " + qheat::method_name(method) + ": " + s.failure, seed, ex.name, shown,
                    "(unchanged example)");
    }
  }
  std::printf("[ robust ] %d override sets: %d loaded, %d typed errors, %.1f s\n", n, loaded, errors,
              seconds_since(t0));
  EXPECT_EQ(fail.count, 0);
}

// ---------------------------------------------------------------------------------------------------
// --vary NAME=SPEC

std::string random_vary_spec(Mutator& m) {
  static const std::vector<std::string> forms = {"0:1:5", "log:1:10:3", "1,2,3", "0:1:1", "2*pi:4*pi:3",
                                                 "log:1e-3:1e3:7", "0.5", "1:0:4", "log:0:1:3", "log:-1:1:3",
                                                 "0:1:0", "0:1:-1", "0:1:2.5", "0:1:1e9", "0:1:100000000000000000000",
                                                 "0:nan:3", "inf:1:3", "1,,2", ",", ":", "::", ":::", "log:",
                                                 "1:2:3:4:5", "log:1:2", "sqrt(2),pi", "1e308:1e308*10:3",
                                                 "0:1:2147483648", "0:1:nmax", "(1,2)", "1:(2:3)"};
  std::string spec = m.choose(forms);
  if (m.pick(2) == 0) {
    std::string log;
    Mutator inner(static_cast<std::uint32_t>(m.pick(1U << 30)));
    spec = inner.mutate(spec, log);
  }
  if (m.pick(5) == 0) spec = random_string(m, 20);
  const std::string name = m.pick(6) == 0 ? random_string(m, 4) : std::string("g");
  switch (m.pick(8)) {
    case 0:
      return spec;  // no '='
    case 1:
      return "=" + spec;
    case 2:
      return name + "=";
    default:
      return name + "=" + spec;
  }
}

TEST(RobustVary, ParseVaryOnRandomStrings) {
  const int n = 20000 / kScale;
  Failures fail;
  for (int k = 0; k < n; ++k) {
    const std::uint32_t seed = 6000000U + static_cast<std::uint32_t>(k);
    Mutator m(seed);
    const std::string spec = random_vary_spec(m);
    qheat::SweepAxis axis;
    const Outcome o = guarded([&] { axis = qheat::parse_vary(spec); });
    if (!o.failure.empty()) fail.report("parse_vary: " + o.failure, seed, "random", "", spec);
    else if (o.loaded && (axis.name.empty() || axis.values.empty()))
      fail.report("parse_vary returned an axis without name or values", seed, "random", "", spec);
  }
  EXPECT_EQ(fail.count, 0);
}

// ---------------------------------------------------------------------------------------------------
// The real binary.

struct CliRun {
  int code = -1;    // exit code, or -1 for a signal
  int signal = 0;
  std::string err;
};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

CliRun run_cli(const fs::path& dir, const std::string& args) {
  const fs::path out = dir / "out", err = dir / "err";
  // `timeout` turns a hang into exit 124 (137 after the KILL) and reports a signal as 128 + n.
  const std::string cmd = "timeout -k 5 120 " + std::string(QHEAT_CLI) + " " + args + " >" +
                          shell_quote(out.string()) + " 2>" + shell_quote(err.string());
  const int status = std::system(cmd.c_str());
  CliRun r;
  if (WIFEXITED(status)) {
    r.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  r.err = slurp(err);
  return r;
}

TEST(RobustCli, MutatedExamplesThroughTheBinary) {
  const int n = 300 / kScale;
  const fs::path dir = fs::temp_directory_path() / ("qheat_robust_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto t0 = std::chrono::steady_clock::now();
  Failures fail;
  int ran = 0, skipped = 0;
  int codes[5] = {0, 0, 0, 0, 0};
  static const std::vector<std::string> static_methods = {"global", "redfield", "local", "global"};
  static const std::vector<std::string> driven_methods = {"ddme", "floquet", "dme", "global"};
  for (int k = 0; k < n; ++k) {
    const Case c = make_case(kCliSeed0 + static_cast<std::uint32_t>(k));
    // In-process first: the binary must agree (same rule), and models too big to solve quickly are
    // skipped (the levy oscillators at dimension 64 take seconds per dense solve).
    std::optional<qheat::Model> model;
    const Outcome o = guarded([&] { model = qheat::load_model_from_string(c.text, c.example->name); });
    if (!o.failure.empty()) {
      fail.report("load_model_from_string: " + o.failure, c.seed, c.example->name, c.log, c.text);
      continue;
    }
    if (o.loaded && model->hamiltonian.rows() > kMaxSolveDim) {
      ++skipped;
      continue;
    }
    Mutator m(c.seed ^ 0x5bd1e995U);
    const bool driven = o.loaded ? model->drive.has_value() : m.pick(2) == 0;
    const std::string method = m.choose(driven ? driven_methods : static_methods);
    const fs::path file = dir / ("case_" + std::to_string(c.seed) + ".toml");
    {
      std::ofstream f(file, std::ios::binary);
      f << c.text;
    }
    std::string args = "ness " + shell_quote(file.string()) + " --method " + method;
    if (m.pick(8) == 0) args += " --format table";
    if (m.pick(8) == 0) args += " --lamb-shift " + std::string(m.pick(2) == 0 ? "on" : "off");
    const CliRun r = run_cli(dir, args);
    ++ran;
    std::string what;
    if (r.signal != 0) {
      what = "killed by signal " + std::to_string(r.signal);
    } else if (r.code == 124 || r.code == 137) {
      what = "timed out (hang)";
    } else if (r.code != 0 && r.code != 2 && r.code != 4) {
      what = "exit code " + std::to_string(r.code);
    } else if (r.code == 2) {
      const bool one_line = std::count(r.err.begin(), r.err.end(), '\n') == 1 && r.err.back() == '\n';
      if (r.err.rfind("qheat: error [", 0) != 0 || !one_line)
        what = "exit 2 without exactly one 'qheat: error [' line";
      else if (!o.loaded && r.err.rfind("qheat: error [" + o.rule + "]", 0) != 0)
        what = "the binary's rule differs from load_model_from_string's [" + o.rule + "]";
    } else if (!o.loaded) {
      what = "the binary accepted a file load_model_from_string rejects [" + o.rule + "]";
    }
    if (r.code >= 0 && r.code <= 4) ++codes[r.code];
    if (!what.empty())
      fail.report("qheat " + args + ": " + what + "\n  stderr: " + r.err, c.seed, c.example->name, c.log, c.text);
    fs::remove(file);
  }
  std::printf("[ robust ] %d CLI runs (%d skipped as too large): exit 0: %d, 2: %d, 4: %d, %.1f s\n", ran,
              skipped, codes[0], codes[2], codes[4], seconds_since(t0));
  std::error_code ec;
  fs::remove_all(dir, ec);
  EXPECT_EQ(fail.count, 0);
  EXPECT_GT(ran, n / 2);
}

// `--set` through the binary: bad syntax and bad values are exit 2 with one line.
TEST(RobustCli, RandomSetArgumentsThroughTheBinary) {
  const int n = 100 / kScale;
  const fs::path dir = fs::temp_directory_path() / ("qheat_robust_set_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "model.toml";
  const Example* ex = nullptr;
  for (const Example& e : examples())
    if (e.name.find("zhang2025") != std::string::npos) ex = &e;
  ASSERT_NE(ex, nullptr);
  {
    std::ofstream f(file, std::ios::binary);
    f << ex->text;
  }
  Failures fail;
  for (int k = 0; k < n; ++k) {
    const std::uint32_t seed = 7000000U + static_cast<std::uint32_t>(k);
    Mutator m(seed);
    std::string set;
    if (m.pick(3) == 0) {
      set = random_string(m, 16);
    } else {
      static const std::vector<std::string> names = {"eps1", "eps2", "g", "gamma", "omega_D", "T1", "T2", "x"};
      set = m.choose(names) + "=" + (m.pick(2) == 0 ? m.choose(extreme_numbers()) : fuzz_expression(m, true));
    }
    // The shell cannot pass NUL bytes, and CLI11 treats a leading '-' as an option.
    set.erase(std::remove(set.begin(), set.end(), '\0'), set.end());
    if (!set.empty() && set[0] == '-') set.insert(0, "x");
    const std::string args = "ness " + shell_quote(file.string()) + " --method global --set=" + shell_quote(set);
    const CliRun r = run_cli(dir, args);
    std::string what;
    if (r.signal != 0 || r.code == 124 || r.code == 137) what = "signal or hang";
    // An empty --set value is a command-line error: exit code 2 and one line like the others.
    else if (r.code != 0 && r.code != 2 && r.code != 4)
      what = "exit code " + std::to_string(r.code);
    else if (r.code == 2 && (r.err.rfind("qheat: error [", 0) != 0 ||
                             std::count(r.err.begin(), r.err.end(), '\n') != 1))
      what = "exit 2 without exactly one 'qheat: error [' line";
    if (!what.empty()) fail.report("qheat " + args + ": " + what + "\n  stderr: " + r.err, seed, "zhang2025", "", set);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  EXPECT_EQ(fail.count, 0);
}

}  // namespace
