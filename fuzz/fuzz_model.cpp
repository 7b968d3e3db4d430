// libFuzzer target (scripts/fuzz): the bytes are a model file for load_model_from_string; a model that
// loads and is small is solved once; short inputs are also split into lines and used as `--set`
// arguments (parse_overrides, then applied to a small built-in model) and as `--vary` specs
// (parse_vary). Every input must give a result or a qheat::Error: any other exception escapes and
// libFuzzer reports it (std::terminate), as it reports crashes, sanitizer findings, leaks and hangs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qheat/core/types.hpp"
#include "qheat/generators/generator.hpp"
#include "qheat/model/model.hpp"
#include "qheat/run/solve.hpp"
#include "qheat/sweep/sweep.hpp"

namespace {

// Dimension up to which a model that loads is also solved (dense LU: cheap).
constexpr long kMaxSolveDim = 8;
// Inputs up to this size are also tried as --set / --vary arguments.
constexpr std::size_t kMaxArgumentInput = 512;

const char* const kSmallModel = R"toml(name = "fuzz"
[parameters]
eps = 1.0
g = 0.1
T = 1.0
gamma = 0.01
nmax = 2
N = 2
d = [0.1, -0.2]
[sites]
q = { kind = "qubit", count = "N" }
c = { kind = "boson", nmax = "nmax" }
[hamiltonian]
H = "eps*sz(q1) + 0.8*eps*sz(q2) + g*sx(q1)*sx(q2) + n(c) + g*x(c)*sx(q1)"
[[baths]]
name = "hot"
temperature = "2*T"
coupling = "hermitian"
operator = "sx(q1)"
spectral = { kind = "drude", gamma = "gamma", cutoff = 10 }
[[baths]]
name = "cold"
temperature = "T"
coupling = "exchange"
operator = "a(c) + d[1]*sm(q2)"
spectral = { kind = "ohmic_exp", gamma = "gamma", cutoff = 10 }
)toml";

void solve_small(const qheat::Model& model) {
  if (model.hamiltonian.rows() > kMaxSolveDim) return;
  try {
    (void)qheat::solve(model, model.drive ? qheat::Method::ddme : qheat::Method::global);
  } catch (const qheat::Error&) {
  }
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == '\n') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    solve_small(qheat::load_model_from_string(text, "fuzz.toml"));
  } catch (const qheat::Error&) {
  }
  if (size > kMaxArgumentInput) return 0;
  const std::vector<std::string> args = lines_of(text);
  try {
    const std::vector<qheat::Override> overrides = qheat::parse_overrides(args);
    solve_small(qheat::load_model_from_string(kSmallModel, "small.toml", overrides));
  } catch (const qheat::Error&) {
  }
  for (const std::string& a : args) {
    try {
      (void)qheat::parse_vary(a);
    } catch (const qheat::Error&) {
    }
  }
  return 0;
}
