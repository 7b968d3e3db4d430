// Expression language: scalar arithmetic, operator algebra on embedded local operators, sums and
// site names with computed parts, array parameters, and the errors bad input must produce.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <unsupported/Eigen/KroneckerProduct>

#include "qheat/operators/expression.hpp"

namespace qheat {
namespace {

// Exact arithmetic on small integers and Pauli matrices: only rounding of a few operations.
constexpr double kTight = 1e-13;

Space qubits(int n) {
  std::vector<Subsystem> subs;
  for (int k = 1; k <= n; ++k) subs.push_back(make_qubit(std::string("q").append(std::to_string(k))));
  return Space(subs);
}

cplx scalar(const std::string& e, const EvalContext& ctx = {}) {
  const Value v = evaluate(e, ctx);
  EXPECT_FALSE(v.is_operator()) << e;
  return v.is_operator() ? cplx(NAN, NAN) : v.scalar();
}

cmat op(const std::string& e, const Space& s) {
  EvalContext ctx;
  ctx.space = &s;
  return evaluate_operator(e, ctx);
}

// Runs `e` and returns the ExpressionError it must throw.
ExpressionError error_of(const std::string& e, const EvalContext& ctx = {}) {
  try {
    (void)evaluate(e, ctx);
  } catch (const ExpressionError& err) {
    return err;
  }
  ADD_FAILURE() << "no ExpressionError for: " << e;
  return ExpressionError("none");
}

void expect_error(const std::string& e, const std::string& fragment, std::size_t column,
                  const EvalContext& ctx = {}) {
  const ExpressionError err = error_of(e, ctx);
  EXPECT_NE(std::string(err.what()).find(fragment), std::string::npos)
      << "message '" << err.what() << "' lacks '" << fragment << "'";
  EXPECT_EQ(err.column(), column) << err.what();
  EXPECT_EQ(err.rule(), "expression");
}

cmat kron(const cmat& a, const cmat& b) { return Eigen::kroneckerProduct(a, b).eval(); }

TEST(Expression, ScalarArithmeticAndPrecedence) {
  EXPECT_EQ(scalar("1 + 2*3"), cplx(7, 0));
  EXPECT_EQ(scalar("(1 + 2)*3"), cplx(9, 0));
  EXPECT_EQ(scalar("2^3^2"), cplx(512, 0));  // right associative
  EXPECT_EQ(scalar("2**3"), cplx(8, 0));
  EXPECT_EQ(scalar("-2^2"), cplx(-4, 0));  // unary minus binds looser than ^
  EXPECT_EQ(scalar("2^-1"), cplx(0.5, 0));
  EXPECT_EQ(scalar("8/4/2"), cplx(1, 0));  // left associative
  EXPECT_EQ(scalar("1 - 2 - 3"), cplx(-4, 0));
  EXPECT_EQ(scalar("--3"), cplx(3, 0));
  EXPECT_EQ(scalar("1e-3*1000"), cplx(1, 0));
  EXPECT_EQ(scalar(".5 + 2."), cplx(2.5, 0));
  EXPECT_EQ(scalar("i*i"), cplx(-1, 0));
  EXPECT_EQ(scalar("(1 + 2*i)*(1 - 2*i)"), cplx(5, 0));
  EXPECT_DOUBLE_EQ(scalar("pi").real(), std::numbers::pi);  // 4 ulp: the same constant
}

TEST(Expression, ScalarFunctions) {
  EXPECT_NEAR(scalar("exp(log(2))").real(), 2.0, kTight);
  EXPECT_EQ(scalar("sqrt(16)"), cplx(4, 0));
  EXPECT_EQ(scalar("sqrt(-4)"), cplx(0, 2));  // complex square root of a negative number
  EXPECT_EQ(scalar("abs(3 + 4*i)"), cplx(5, 0));
  EXPECT_EQ(scalar("conj(1 + 2*i)"), cplx(1, -2));
  EXPECT_EQ(scalar("real(1 + 2*i) + imag(1 + 2*i)"), cplx(3, 0));
  EXPECT_NEAR(scalar("sin(pi/6)").real(), 0.5, kTight);
  EXPECT_NEAR(scalar("cos(pi/3)").real(), 0.5, kTight);
  EXPECT_NEAR(scalar("tan(pi/4)").real(), 1.0, kTight);
  EXPECT_NEAR(scalar("cosh(1)^2 - sinh(1)^2").real(), 1.0, kTight);
  EXPECT_NEAR(scalar("tanh(0.3) - sinh(0.3)/cosh(0.3)").real(), 0.0, kTight);
  // exp(i pi) = -1 up to the rounding of pi.
  EXPECT_NEAR(std::abs(scalar("exp(i*pi) + 1")), 0.0, kTight);
}

TEST(Expression, ParametersArraysAndHelpers) {
  EvalContext ctx;
  ctx.symbols["eps"] = Binding{2.5, {}};
  ctx.symbols["d"] = Binding{std::vector<double>{0.1, -0.2, 0.3}, {}};
  ctx.variables["k"] = 2;
  EXPECT_EQ(scalar("2*eps", ctx), cplx(5, 0));
  EXPECT_EQ(scalar("d[1] + d[3]", ctx).real(), 0.1 + 0.3);
  EXPECT_EQ(scalar("d[k]", ctx), cplx(-0.2, 0));
  EXPECT_EQ(scalar("d[k+1]", ctx), cplx(0.3, 0));
  EXPECT_EQ(evaluate_real("eps^2", ctx), 6.25);
  EXPECT_EQ(evaluate_integer("2*k + 1", ctx), 5);

  // Lazy resolution through the callback.
  int calls = 0;
  Binding lazy{7.0, {}};
  ctx.resolve = [&](const std::string& n) -> const Binding* {
    ++calls;
    return n == "late" ? &lazy : nullptr;
  };
  EXPECT_EQ(scalar("late + eps", ctx), cplx(9.5, 0));
  EXPECT_EQ(calls, 1);

  expect_error("d[4]", "index 4 is out of range for 'd' (3 entries", 3, ctx);
  expect_error("d[0]", "index 0 is out of range", 3, ctx);
  expect_error("d[1.5]", "must be an integer", 3, ctx);
  expect_error("2*d", "'d' is an array parameter; index it as d[k]", 3, ctx);
  expect_error("eps[1]", "'eps' is not an array", 1, ctx);
  expect_error("1 + esp", "unknown parameter 'esp' (did you mean 'eps'?)", 5, ctx);
}

TEST(Expression, RealAndIntegerHelpersRejectWrongKinds) {
  EvalContext ctx;
  EXPECT_THROW((void)evaluate_real("1 + i", ctx), ExpressionError);
  EXPECT_EQ(evaluate_real("(1 + i)*(1 - i)", ctx), 2.0);
  EXPECT_THROW((void)evaluate_integer("2.5", ctx), ExpressionError);
  EXPECT_THROW((void)evaluate_integer("7", ctx, 1, 5), ExpressionError);
  const Space s = qubits(1);
  ctx.space = &s;
  try {
    (void)evaluate_real("sx(q1)", ctx);
    ADD_FAILURE() << "operator accepted as a real number";
  } catch (const ExpressionError& e) {
    EXPECT_NE(std::string(e.what()).find("is an operator"), std::string::npos);
  }
}

TEST(Expression, PauliAlgebraOnOneSite) {
  const Space s = qubits(1);
  const cmat sx = op("sx(q1)", s), sy = op("sy(q1)", s), sz = op("sz(q1)", s);
  const cplx I(0, 1);
  EXPECT_TRUE((sx * sy).isApprox(I * sz, kTight));
  EXPECT_TRUE(op("sx(q1)*sy(q1) - i*sz(q1)", s).isZero(kTight));
  EXPECT_TRUE(op("comm(sx(q1), sy(q1))", s).isApprox(2.0 * I * sz, kTight));
  EXPECT_TRUE(op("sx(q1)^2", s).isIdentity(kTight));
  EXPECT_TRUE(op("sz(q1)^0", s).isIdentity(kTight));
  EXPECT_TRUE(op("(sx(q1) + i*sy(q1))/2 - sp(q1)", s).isZero(kTight));
  EXPECT_TRUE(op("dag(sp(q1)) - sm(q1)", s).isZero(kTight));
  EXPECT_TRUE(op("proj(q1, 0, 1) - sp(q1)", s).isZero(kTight));
  EXPECT_TRUE(op("2*Sz(q1) - sz(q1)", s).isZero(kTight));
  EXPECT_TRUE(op("id(q1)", s).isIdentity(kTight));
  // sigma_+ raises: |up> = index 0 (sz = +1), as in QuTiP.
  EXPECT_EQ(op("sp(q1)", s)(0, 1), cplx(1, 0));
  EXPECT_EQ(op("sz(q1)", s)(0, 0), cplx(1, 0));
  // Scalars become multiples of the identity.
  EXPECT_TRUE(op("sz(q1) + 2", s).isApprox(sz + 2.0 * cmat::Identity(2, 2), kTight));
  EXPECT_TRUE(op("3", s).isApprox(3.0 * cmat::Identity(2, 2), kTight));
  EXPECT_TRUE(op("comm(2, sx(q1))", s).isZero(kTight));
}

TEST(Expression, BosonAndSpinAlgebra) {
  const int nmax = 6;
  const Space s({make_boson("c", nmax), make_spin("S", 1.0)});
  const cmat c = op("a(c)", s), cd = op("adag(c)", s);
  // [a, a^dag] = 1 on the kept Fock states except the truncation corner |nmax><nmax| = -nmax.
  cmat expected_local = cmat::Identity(nmax + 1, nmax + 1);
  expected_local(nmax, nmax) = -static_cast<double>(nmax);
  const cmat expected = kron(expected_local, cmat::Identity(3, 3));
  EXPECT_TRUE(op("comm(a(c), adag(c))", s).isApprox(expected, kTight));
  EXPECT_TRUE((cd * c).isApprox(op("n(c)", s), kTight));
  EXPECT_TRUE(op("x(c) - a(c) - adag(c)", s).isZero(kTight));
  // Spin 1: [Sx, Sy] = i Sz and S^2 = j(j+1) = 2.
  const cplx I(0, 1);
  EXPECT_TRUE(op("comm(Sx(S), Sy(S))", s).isApprox(I * op("Sz(S)", s), kTight));
  EXPECT_TRUE(op("Sx(S)^2 + Sy(S)^2 + Sz(S)^2", s).isApprox(2.0 * s.identity(), kTight));
  EXPECT_TRUE(op("proj(c, 2, 2)", s).isApprox(s.embed(0, local_ops::projector(nmax + 1, 2, 2)), kTight));
}

TEST(Expression, EmbeddingOrderFirstSiteMostSignificant) {
  const Space s = qubits(3);
  const cmat sz = local_ops::sigma_z(), sp = local_ops::sigma_plus(), sm = local_ops::sigma_minus();
  const cmat id2 = cmat::Identity(2, 2);
  // As QuTiP's tensor(sz, I, I): the first site is the most significant index.
  EXPECT_TRUE(op("sz(q1)", s).isApprox(kron(kron(sz, id2), id2), kTight));
  EXPECT_TRUE(op("sz(q3)", s).isApprox(kron(kron(id2, id2), sz), kTight));
  EXPECT_TRUE(op("sp(q1)*sm(q2)", s).isApprox(kron(kron(sp, sm), id2), kTight));
  // The same as Space::embed.
  EXPECT_TRUE(op("sm(q2)", s).isApprox(s.embed(1, sm), kTight));
  // sz(q1) = diag(1, 1, 1, 1, -1, -1, -1, -1).
  const cmat z1 = op("sz(q1)", s);
  EXPECT_EQ(z1(3, 3), cplx(1, 0));
  EXPECT_EQ(z1(4, 4), cplx(-1, 0));
}

TEST(Expression, SumsBuildAChainAndSiteNamesTakeExpressions) {
  const Space s = qubits(4);
  EvalContext ctx;
  ctx.space = &s;
  ctx.symbols["N"] = Binding{4.0, {}};
  ctx.symbols["J"] = Binding{0.3, {}};
  const cmat chain = evaluate_operator(
      "J*sum(k, 1, N-1, sp(q{k})*sm(q{k+1}) + sm(q{k})*sp(q{k+1})) + sum(k, 1, N, sz(q{k}))", ctx);
  cmat expected = cmat::Zero(16, 16);
  for (int k = 0; k < 3; ++k) {
    const cmat hop = s.embed_many({k, k + 1}, kron(local_ops::sigma_plus(), local_ops::sigma_minus()));
    expected += 0.3 * (hop + hop.adjoint());
  }
  for (int k = 0; k < 4; ++k) expected += s.embed(k, local_ops::sigma_z());
  EXPECT_TRUE(chain.isApprox(expected, kTight));
  EXPECT_TRUE(evaluate_operator("sx(q{N})", ctx).isApprox(s.embed(3, local_ops::sigma_x()), kTight));
  EXPECT_TRUE(evaluate_operator("sx(q{N/2 + 1})", ctx).isApprox(s.embed(2, local_ops::sigma_x()), kTight));
  // Nested sums and sums of scalars; an empty range is 0.
  EXPECT_EQ(scalar("sum(k, 1, 4, sum(j, 1, k, 1))"), cplx(10, 0));
  EXPECT_EQ(scalar("sum(k, 3, 2, k)"), cplx(0, 0));
  EXPECT_EQ(scalar("sum(k, 1, 100000, 1)"), cplx(100000, 0));
}

TEST(Expression, RecordsTheSitesUsed) {
  const Space s = qubits(3);
  std::set<int> used;
  EvalContext ctx;
  ctx.space = &s;
  ctx.sites_used = &used;
  ctx.symbols["V"] = Binding{s.embed(2, local_ops::sigma_z()), {2}};
  (void)evaluate_operator("sx(q1) + 0*sz(q2)", ctx);
  EXPECT_EQ(used, (std::set<int>{0, 1}));
  used.clear();
  (void)evaluate_operator("V + 1", ctx);
  EXPECT_EQ(used, (std::set<int>{2}));
}

TEST(Expression, SyntaxErrorsNameTheColumn) {
  expect_error("(1 + 2))", "unexpected ')'", 8);
  expect_error("1 + ", "unexpected end of expression", 5);
  expect_error("2 3", "expected an operator", 3);
  expect_error("2x", "unexpected name after the number '2'", 2);
  expect_error("1 # 2", "unexpected character '#'", 3);
  expect_error("1e", "malformed number '1e'", 1);
  expect_error("1e999", "out of range", 1);
  expect_error("foo(1)", "unknown function 'foo'", 1);
  expect_error("sqr(2)", "(did you mean 'sqrt'?)", 1);
  expect_error("sqrt(1, 2)", "sqrt takes one argument", 7);
  expect_error("sum(i, 1, 2, i)", "'i' is reserved", 5);
  expect_error("sum(k, 1, 2)", "expected ','", 12);
  expect_error("(1", "expected ')'", 3);
  expect_error("sqrt", "'sqrt' is a function", 1);
  expect_error("2[1]", "only an array parameter can be indexed", 2);
}

TEST(Expression, EvaluationErrors) {
  expect_error("1/0", "division by zero", 3);
  expect_error("0^-1", "0 raised to a negative power", 2);
  expect_error("log(0)", "log(0) is not finite", 1);
  expect_error("exp(1000)", "not finite", 1);
  expect_error("sum(k, 1, 200000, 1)", "exceeds the limit of 100000", 1);
  expect_error("sum(k, 1, 2000, sum(j, 1, 2000, 1))", "nested sums evaluate more than", 17);
  expect_error("sum(k, 1, 2.5, 1)", "upper bound of sum must be an integer", 11);
  expect_error("eps3 + 1", "unknown parameter 'eps3'", 1);
}

TEST(Expression, OperatorErrors) {
  const Space s({make_qubit("q1"), make_boson("c", 3)});
  EvalContext ctx;
  ctx.space = &s;
  expect_error("sz(q9)", "unknown site 'q9' (did you mean 'q1'?); sites: q1, c", 4, ctx);
  expect_error("1 + sx(c)",
               "operator sx needs a qubit site; 'c' is a boson (offers: a, adag, n, x, id, proj(site,k,l))",
               8, ctx);
  expect_error("a(q1)", "operator a needs a boson site; 'q1' is a qubit", 3, ctx);
  expect_error("Sx(c)", "needs a qubit or spin site", 4, ctx);
  expect_error("sx(q1)^-1", "integer power", 8, ctx);
  expect_error("sx(q1)^0.5", "integer power", 8, ctx);
  expect_error("2^sx(q1)", "exponent must be a scalar", 3, ctx);
  expect_error("1/sx(q1)", "cannot divide by an operator", 3, ctx);
  expect_error("sqrt(sx(q1))", "sqrt needs a scalar argument", 1, ctx);
  expect_error("proj(c, 0, 4)", "proj index 4 is out of range for 'c' (dimension 4, indices 0..3)", 12, ctx);
  expect_error("q1 + 1", "'q1' is a site, not a value", 1, ctx);
  expect_error("sx(q1, q2)", "sx takes one site argument", 6, ctx);
  expect_error("sx(1)", "expected a site name", 4, ctx);
  expect_error("sx(q{1.5})", "must be an integer", 6, ctx);
  // Without a space every operator function is an error.
  expect_error("2*sz(q1)", "cannot be used here", 3);
}

TEST(Expression, DeepNestingIsRejectedNotCrashing) {
  const std::string deep = std::string(100000, '(') + "1" + std::string(100000, ')');
  expect_error(deep, "nests too deeply", 201);
  const std::string minus(100000, '-');
  EXPECT_THROW((void)evaluate(minus + "1", {}), ExpressionError);
  std::string powers = "1";
  for (int k = 0; k < 50000; ++k) powers += "^1";
  EXPECT_THROW((void)evaluate(powers, {}), ExpressionError);
  // Long flat sums and products are fine (no recursion per term).
  std::string flat = "0";
  for (int k = 0; k < 100000; ++k) flat += "+1";
  EXPECT_EQ(scalar(flat), cplx(100000, 0));
  // Just below the limit works.
  const std::string ok = std::string(150, '(') + "2" + std::string(150, ')');
  EXPECT_EQ(scalar(ok), cplx(2, 0));
}

TEST(Expression, RandomInputsNeverCrash) {
  // Random token soup: every input must evaluate or throw ExpressionError, nothing else.
  const Space s({make_qubit("q1"), make_qubit("q2"), make_boson("c", 2)});
  EvalContext ctx;
  ctx.space = &s;
  ctx.symbols["g"] = Binding{0.5, {}};
  ctx.symbols["d"] = Binding{std::vector<double>{1.0, 2.0}, {}};
  const std::vector<std::string> pieces = {
      "1",  "2.5",   "1e-3",   "0",    "g",     "d",     "i",    "pi",   "k",   "+",   "-",  "*",  "/",  "^",
      "**", "(",     ")",      ",",    "[",     "]",     "{",    "}",    "sx(", "sz(", "a(", "q1", "q2", "c",
      "q{", "proj(", "sum(k,", "dag(", "comm(", "sqrt(", "log(", "exp(", " ",   "#",   "x",  "n(", "id("};
  std::mt19937 rng(12345);
  std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1), len(1, 14);
  int ok = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    std::string e;
    const std::size_t n = len(rng);
    for (std::size_t k = 0; k < n; ++k) e += pieces[pick(rng)];
    try {
      (void)evaluate(e, ctx);
      ++ok;
    } catch (const ExpressionError&) {
    } catch (const std::exception& other) {
      ADD_FAILURE() << "input '" << e << "' threw a non-ExpressionError: " << other.what();
    }
  }
  EXPECT_GT(ok, 0);
}

TEST(Expression, HelperNames) {
  EXPECT_TRUE(is_identifier("q_1"));
  EXPECT_FALSE(is_identifier("1q"));
  EXPECT_FALSE(is_identifier(""));
  EXPECT_FALSE(is_identifier("a-b"));
  EXPECT_TRUE(is_reserved_name("pi"));
  EXPECT_TRUE(is_expression_function("adag"));
  EXPECT_FALSE(is_expression_function("eps"));
  EXPECT_EQ(closest_name("temprature", {"name", "temperature"}), "temperature");
  EXPECT_EQ(closest_name("zzz", {"name", "temperature"}), "");
}

}  // namespace
}  // namespace qheat
