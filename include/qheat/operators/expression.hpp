// Expression language of model files: complex scalars and operators on a Space
// (docs/model-format.md, "Expressions").
//
//   numbers 1, 2.5, 1e-3; names of parameters / named operators; i (imaginary unit); pi
//   + - * / ^ (also **), parentheses, unary minus
//   scalar functions   sqrt exp log sin cos tan cosh sinh tanh abs conj real imag
//   operator functions sx sy sz sp sm Sx Sy Sz Sp Sm a adag n x id (one site argument),
//                      proj(site, k, l) = |k><l|, dag(X), comm(A, B)
//   sums               sum(k, lo, hi, body)  (k an integer loop variable, lo..hi inclusive)
//   site names with computed parts: q{k}, q{k+1}, q{N}
//   array parameters   d[k]  (1-based)
//
// Every error is an ExpressionError whose message names the column (1-based) of the problem.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "qheat/core/types.hpp"
#include "qheat/operators/space.hpp"

namespace qheat {

// The result of an expression: a complex scalar or an operator on the full space.
class Value {
 public:
  Value() = default;
  Value(cplx scalar) : v_(scalar) {}             // NOLINT(google-explicit-constructor)
  Value(double scalar) : v_(cplx(scalar, 0)) {}  // NOLINT(google-explicit-constructor)
  Value(cmat op) : v_(std::move(op)) {}          // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool is_operator() const noexcept { return std::holds_alternative<cmat>(v_); }
  // Precondition: !is_operator() / is_operator().
  [[nodiscard]] cplx scalar() const { return std::get<cplx>(v_); }
  [[nodiscard]] const cmat& op() const { return std::get<cmat>(v_); }

 private:
  std::variant<cplx, cmat> v_{cplx(0, 0)};
};

// What a name can stand for: a real parameter, an array parameter (indexed as name[k], 1-based)
// or a named operator. `sites` lists the subsystems a named operator acts on; they are recorded
// in EvalContext::sites_used whenever the name is referenced.
struct Binding {
  std::variant<double, std::vector<double>, cmat> value;
  std::vector<int> sites;
};

struct EvalContext {
  // Space for operator functions; null (or a space without subsystems) for scalar-only
  // expressions such as parameter definitions.
  const Space* space = nullptr;
  // Names looked up first.
  std::map<std::string, Binding> symbols;
  // Consulted for names not in `symbols` (lazy resolution, e.g. parameters defined from other
  // parameters). Returns null for an unknown name. May throw (e.g. ModelError for a cycle); such
  // exceptions pass through evaluate() unchanged.
  std::function<const Binding*(const std::string&)> resolve;
  // Integer variables (sum() binds more of them while it runs); they shadow every other name.
  std::map<std::string, long long> variables;
  // If set, receives the index of every subsystem an operator function touches.
  std::set<int>* sites_used = nullptr;
  // Extra names offered in "did you mean" hints (those in `symbols` are always offered).
  std::vector<std::string> known_names;
};

// Limits that keep every input from exhausting the stack or the CPU.
inline constexpr int kMaxExpressionDepth = 200;          // nesting of (), unary ops, ^, calls
inline constexpr int kMaxEvaluationFrames = 2000;        // evaluation depth, over nested names
inline constexpr long long kMaxSumTerms = 100000;        // terms of one sum()
inline constexpr long long kMaxTotalSumTerms = 1000000;  // terms over all sums of one evaluation
inline constexpr int kMaxDenseDimension = 8192;          // operators returned as dense matrices

// Parses and evaluates `expr`. Throws ExpressionError (message includes the column).
Value evaluate(const std::string& expr, const EvalContext& ctx);

// A real number: error if the value is an operator or has a non-negligible imaginary part
// (|Im| > 1e-12 max(1, |Re|)).
double evaluate_real(const std::string& expr, const EvalContext& ctx);

// An integer: error unless the value is real and within 1e-9 of an integer in [lo, hi].
long long evaluate_integer(const std::string& expr, const EvalContext& ctx, long long lo = -1000000000LL,
                           long long hi = 1000000000LL);

// An operator on ctx.space (a scalar s becomes s * identity). Requires a space.
cmat evaluate_operator(const std::string& expr, const EvalContext& ctx);

// Names of the scalar and operator functions and constants the language reserves.
bool is_expression_function(const std::string& name);
bool is_reserved_name(const std::string& name);  // i, pi
bool is_identifier(const std::string& name);     // [A-Za-z_][A-Za-z0-9_]*

// The candidate closest to `name` by edit distance (at most 2, at most 1 for names of up to
// 3 characters), or "" if none is close; for "did you mean" hints.
std::string closest_name(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace qheat
