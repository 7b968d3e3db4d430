// Rate equations by GTH state reduction (steady/rate_equation.hpp): stationary probabilities to small relative
// error however widely the rates spread, bordered solves, and uniqueness from the jump graph.
#include <gtest/gtest.h>

#include <Eigen/LU>
#include <cmath>
#include <limits>
#include <memory>
#include <random>

#include "qheat/steady/rate_equation.hpp"
#include "qheat/steady/steady_state.hpp"

using namespace qheat;

namespace {

// Columns summing to zero (the diagonal from the off-diagonal rates).
rmat with_diagonal(rmat W) {
  for (long a = 0; a < W.rows(); ++a) {
    W(a, a) = 0.0;
    W(a, a) = -W.col(a).sum();
  }
  return W;
}

// The ladder of examples/kong2026/kerr.toml: Kerr transition n -> n-1 at w_n = eps + 2 chi (n - 1), exchanged with
// two ohmic-exponential baths (gamma(w) = pi alpha w e^{-w/w_c}, Bose factors at T_l, T_r). Down rates fall as
// e^{-w/w_c}, up rates as e^{-w/T}: from ~1e-1 to below 1e-300 over 1001 levels.
rmat kerr_ladder(long levels) {
  rmat W = rmat::Zero(levels, levels);
  const double pi = std::acos(-1.0);
  for (long n = 1; n < levels; ++n) {
    const double w = 1.0 + 0.8 * static_cast<double>(n - 1);
    const double g = pi * 1e-3 * w * std::exp(-w / 10.0) * static_cast<double>(n);
    const double nl = 1.0 / std::expm1(w / 1.2), nr = 1.0 / std::expm1(w / 0.4);
    W(n - 1, n) = g * (2.0 + nl + nr);  // down
    W(n, n - 1) = g * (nl + nr);        // up
  }
  return with_diagonal(W);
}

}  // namespace

// A birth-death chain's stationary state is known exactly: p_{n} / p_{n-1} = up_{n-1} / down_n (no net flow across
// any link). GTH reproduces every probability that is a normal double to 1e-12 relative -- the closed form's own
// round-off is ~n ulp after n ratios (2e-13 at n = 1000) -- from the ground state to p ~ 1e-290.
TEST(RateEquation, KerrLadderEveryProbabilityToRelativeAccuracy) {
  const long levels = 1001;
  const rmat W = kerr_ladder(levels);
  rvec exact(levels);
  exact(0) = 1.0;
  for (long n = 1; n < levels; ++n) exact(n) = exact(n - 1) * (W(n, n - 1) / W(n - 1, n));
  exact /= exact.sum();
  // Either elimination order: the first (the last state has the largest escape rate: here a high level, ratios
  // beyond the double range on the way down) and the second (least populated first).
  for (const auto use : {RateEquation::Use::stationary, RateEquation::Use::bordered_solves}) {
    const RateEquation eq(W, use);
    EXPECT_EQ(eq.closed_classes(), 1);
    long compared = 0;
    for (long n = 0; n < levels; ++n) {
      if (exact(n) < 1e-290) break;
      EXPECT_NEAR(eq.stationary()(n), exact(n), 1e-12 * exact(n)) << "level " << n;
      ++compared;
    }
    EXPECT_GT(compared, 20);  // the comparison reaches far up the ladder, not only the populated levels
    EXPECT_NEAR(eq.stationary().sum(), 1.0, 1e-15);
  }
}

// One step's ratio beyond the room the rescaling leaves (1e250 .. 1e308): down/up = e^{200} ~ 1e87 per level over
// 40 levels (the running value meets a step from above 1e221 within them), the last state eliminated (largest
// escape rate) at the top. The back substitution's x(k)/p overflowed to inf, the
// state became NaN and solve_steady called it not-unique (examples/bosons/kerr_mode.toml, global, nmax = 2800).
TEST(RateEquation, StepsBeyondTheDoubleRangeStayFinite) {
  const long levels = 40;
  rmat W = rmat::Zero(levels, levels);
  for (long n = 1; n < levels; ++n) {
    W(n - 1, n) = static_cast<double>(n);                       // down, growing: the top state escapes fastest
    W(n, n - 1) = static_cast<double>(n) * std::exp(-200.0);   // up
  }
  W = with_diagonal(W);
  const RateEquation eq(W, RateEquation::Use::stationary);
  ASSERT_TRUE(eq.stationary().allFinite());
  EXPECT_EQ(eq.closed_classes(), 1);
  // p_n = e^{-200 n} / Z: to 1e-12 relative (a few ulps of exp and of the products) while a normal double.
  for (long n = 0; n < levels && -200.0 * static_cast<double>(n) > -700.0; ++n)
    EXPECT_NEAR(eq.stationary()(n), std::exp(-200.0 * static_cast<double>(n)), 1e-12 * std::exp(-200.0 * static_cast<double>(n)))
        << "level " << n;
  EXPECT_NEAR(eq.stationary().sum(), 1.0, 1e-15);
}

// Through solve_steady: a rate equation (LinearProblem::rate_equation) is solved by GTH whatever form it comes
// in, and its uniqueness is not judged by pivots (a bordered LU's pivot ratio here is ~1e-38 and reported it
// not unique).
TEST(RateEquation, SolveSteadyTakesTheGthPathForEveryForm) {
  const rmat W = kerr_ladder(401);
  LinearProblem<double> p;
  p.dim = W.rows();
  p.border = rvec::Ones(p.dim);
  p.scale = W.diagonal().cwiseAbs().maxCoeff();
  p.rate_equation = true;
  p.apply = [&W](const rvec& x, rvec& y) { y = W * x; };  // matrix-free: made explicit for GTH
  const LinearSolution<double> s = solve_steady(p);
  EXPECT_EQ(s.solver, "gth");
  EXPECT_EQ(s.status, SteadyStatus::converged);
  const RateEquation eq(W);
  EXPECT_LE((s.x - eq.stationary()).cwiseAbs().maxCoeff(), 1e-15);  // the same state (flush of ~1e-15 tails)
  EXPECT_LE(s.residual, 1e-16 * p.scale);
}

// A generator with entries past the double range is bad input, not a numerical status: every method's problem
// passes through solve_steady, which refuses it (it came out as "not-unique", rcond 0, from the dense LU).
TEST(SteadySolve, NonFiniteGeneratorIsTheNonFiniteRule) {
  const double inf = std::numeric_limits<double>::infinity();
  for (const double bad : {inf, std::nan("")}) {
    rmat A(2, 2);
    A << -1.0, bad, 1.0, -bad;
    LinearProblem<double> p;
    p.dim = 2;
    p.border = rvec::Ones(2);
    p.scale = 1.0;
    p.dense = std::make_shared<const rmat>(A);
    try {
      (void)solve_steady(p);
      ADD_FAILURE() << "no error for " << bad;
    } catch (const ModelError& e) {
      EXPECT_EQ(e.rule(), "non-finite");
    }
  }
}

// The bordered solve z = (W + s u u^T)^{-1} r equals a dense LU's where the matrix is well conditioned (random
// rates of one order of magnitude: condition ~1e2, so 1e-12 covers both solves' round-off).
TEST(RateEquation, BorderedSolveEqualsDenseLu) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> U(0.1, 1.0);
  for (const long n : {2L, 7L, 150L}) {
    rmat W(n, n);
    for (long j = 0; j < n; ++j)
      for (long i = 0; i < n; ++i) W(i, j) = U(rng);
    W = with_diagonal(W);
    const double s = 2.0 * W.diagonal().cwiseAbs().maxCoeff();
    rvec r(n);
    for (long i = 0; i < n; ++i) r(i) = U(rng) - 0.5;
    const RateEquation eq(W);
    rvec z;
    eq.solve_bordered(r, s, z);
    const rmat M = W + s * rmat::Ones(n, n);
    const rvec ref = M.partialPivLu().solve(r);
    EXPECT_LE((z - ref).norm(), 1e-12 * ref.norm()) << "n = " << n;
    EXPECT_LE((W * eq.stationary()).norm(), 1e-14 * W.norm()) << "n = " << n;
    // The complex overload: real and imaginary parts alike.
    cvec zc;
    eq.solve_bordered(cvec(r.cast<cplx>() * cplx(0.0, 2.0)), s, zc);
    EXPECT_LE((zc - cplx(0.0, 2.0) * ref.cast<cplx>()).norm(), 2e-12 * ref.norm()) << "n = " << n;
  }
}

// Uniqueness is structural: a rate of 1e-200 still connects two levels; two chains that no rate joins are two
// closed classes; a transient level (rates out, none in) gets probability 0 and does not count.
TEST(RateEquation, ClosedClassesOfTheJumpGraph) {
  rmat W = rmat::Zero(4, 4);
  W(1, 0) = 1.0;
  W(0, 1) = 2.0;
  W(3, 2) = 1.0;
  W(2, 3) = 1.0;
  EXPECT_EQ(closed_classes(with_diagonal(W)), 2);
  EXPECT_FALSE(RateEquation(with_diagonal(W)).unique());
  W(2, 1) = 1e-200;  // 1 -> 2: the first pair now drains into the second
  const RateEquation one(with_diagonal(W));
  EXPECT_EQ(one.closed_classes(), 1);
  EXPECT_EQ(one.stationary()(0), 0.0);
  EXPECT_EQ(one.stationary()(1), 0.0);
  EXPECT_NEAR(one.stationary()(2), 0.5, 1e-16);
  rmat T = rmat::Zero(3, 3);  // level 0 transient: 0 -> 1, 1 <-> 2
  T(1, 0) = 1.0;
  T(2, 1) = 3.0;
  T(1, 2) = 1.0;
  const RateEquation t(with_diagonal(T));
  EXPECT_EQ(t.closed_classes(), 1);
  EXPECT_EQ(t.stationary()(0), 0.0);
  EXPECT_NEAR(t.stationary()(1), 0.25, 1e-16);
  EXPECT_NEAR(t.stationary()(2), 0.75, 1e-16);
  // Not unique through solve_steady either, and the solve does not throw or return non-finite numbers.
  LinearProblem<double> p;
  p.dim = 4;
  p.border = rvec::Ones(4);
  p.rate_equation = true;
  rmat two = rmat::Zero(4, 4);
  two(1, 0) = two(0, 1) = two(3, 2) = two(2, 3) = 1.0;
  p.dense = std::make_shared<const rmat>(with_diagonal(two));
  const LinearSolution<double> s = solve_steady(p);
  EXPECT_EQ(s.status, SteadyStatus::not_unique);
}
