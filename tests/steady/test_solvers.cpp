// The three steady-state solvers (dense LU, sparse LU, matrix-free GMRES) give the same state.
#include <gtest/gtest.h>

#include "../support.hpp"

using namespace qheat;
using namespace qheat::test;

namespace {
// Disordered XX chain of N qubits with sigma_x Drude baths on the ends (examples/chain in code).
Model chain(int N) {
  Space sp = qubits(N);
  cmat H = cmat::Zero(sp.dim(), sp.dim());
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> U(-0.1, 0.1);
  for (int k = 1; k <= N; ++k) H += 0.5 * (1.0 + U(rng)) * op(sp, "q" + std::to_string(k), local_ops::sigma_z());
  for (int k = 1; k < N; ++k) {
    const cmat hop = op(sp, "q" + std::to_string(k), local_ops::sigma_plus()) *
                     op(sp, "q" + std::to_string(k + 1), local_ops::sigma_minus());
    H += 0.2 * (hop + hop.adjoint());
  }
  return model(sp, H,
               {bath(sp, "hot", 2.0, CouplingKind::hermitian, "q1", local_ops::sigma_x(), drude(0.01, 10.0)),
                bath(sp, "cold", 1.0, CouplingKind::hermitian, "q" + std::to_string(N), local_ops::sigma_x(),
                     drude(0.01, 10.0))});
}
}  // namespace

TEST(Solvers, GmresMatchesDenseLuForRedfield) {
  const Generator g(chain(5), GeneratorOptions{Method::redfield, LambShiftMode::on, 1e-9});
  SteadyStateOptions iterative;  // d = 32 > dense_max_dim: GMRES
  SteadyStateOptions dense;
  dense.dense_max_dim = 64;
  const SteadyStateResult a = steady_state(g, iterative), b = steady_state(g, dense);
  EXPECT_EQ(a.solver, "gmres");
  EXPECT_EQ(b.solver, "dense-lu");
  EXPECT_EQ(a.status, SteadyStatus::converged);
  EXPECT_GT(a.iterations, 0);
  // GMRES stops at relative residual 1e-12 of the bordered system; the state error is that times the
  // condition number of the preconditioned system (~1e2 here).
  EXPECT_LT((a.rho - b.rho).cwiseAbs().maxCoeff(), 1e-10);
  const auto Ja = heat_currents(g, a.rho), Jb = heat_currents(g, b.rho);
  EXPECT_NEAR(Ja[0], Jb[0], 1e-10 * std::abs(Jb[0]) + 1e-14);  // same bound, relative to J ~ 1e-3
}

TEST(Solvers, GmresKeepsItsBasisWithoutCarryingState) {
  // GMRES keeps its Krylov basis per thread between calls (steady_state.cpp, kKeptBasisBytes). A solve
  // after solves of another size, and the same solve repeated, give bit-identical results: nothing of
  // the previous problem's basis enters the next.
  auto problem = [](long n) {
    rmat A = rmat::Random(n, n) + 4.0 * static_cast<double>(n) * rmat::Identity(n, n);
    return A;
  };
  const rmat A = problem(300), B = problem(120);
  const rvec bA = rvec::Random(300), bB = rvec::Random(120);
  auto run = [](const rmat& M, const rvec& rhs) {
    const LinearProblem<double>::Op op = [&M](const rvec& x, rvec& y) { y = M * x; };
    int it = 0;
    double rel = 0.0;
    return gmres<double>(op, nullptr, rhs, 20, 500, 1e-13, it, rel);
  };
  const rvec first = run(A, bA);
  const rvec other = run(B, bB);
  const rvec again = run(A, bA);
  EXPECT_EQ((first - again).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_LT((A * first - bA).norm(), 1e-11 * bA.norm());  // tolerance 1e-13 x the condition (~1e2)
  EXPECT_LT((B * other - bB).norm(), 1e-11 * bB.norm());
}

TEST(Solvers, SparseLuMatchesDenseLuForDavies) {
  const Generator g(chain(5), GeneratorOptions{Method::global, LambShiftMode::on, 1e-9});
  SteadyStateOptions sparse;
  SteadyStateOptions dense;
  dense.dense_max_dim = 64;
  const SteadyStateResult a = steady_state(g, sparse), b = steady_state(g, dense);
  EXPECT_EQ(a.solver, "sparse-lu");
  EXPECT_EQ(a.status, SteadyStatus::converged);
  EXPECT_GT(a.rcond, 1e-11);                                   // the estimate sees a regular system
  EXPECT_LT((a.rho - b.rho).cwiseAbs().maxCoeff(), 1e-12);     // two direct solves: round-off
}

namespace {
// Five qubits, the bath touches only q1 and nothing couples q2..q5: many steady states.
Model decoupled_five_qubits() {
  Space sp = qubits(5);
  cmat H = cmat::Zero(32, 32);
  for (int k = 1; k <= 5; ++k) H += (0.3 + 0.2 * k) * op(sp, "q" + std::to_string(k), local_ops::sigma_z());
  return model(sp, H, {bath(sp, "a", 1.0, CouplingKind::hermitian, "q1", local_ops::sigma_x(), drude(0.1, 5.0))});
}
}  // namespace

TEST(Solvers, SparseLuReportsNonUniqueSteadyState) {
  const Generator g(decoupled_five_qubits(), GeneratorOptions{Method::global, LambShiftMode::off, 1e-9});
  const SteadyStateResult r = steady_state(g);
  EXPECT_EQ(r.solver, "sparse-lu");
  EXPECT_EQ(r.status, SteadyStatus::not_unique);
}

TEST(Solvers, GmresReportsNonUniqueSteadyState) {
  // As above with Bloch-Redfield: the matrix-free path must not return one of many states silently.
  const Generator g(decoupled_five_qubits(), GeneratorOptions{Method::redfield, LambShiftMode::off, 1e-9});
  const SteadyStateResult r = steady_state(g);
  EXPECT_EQ(r.solver, "gmres");
  EXPECT_EQ(r.status, SteadyStatus::not_unique);
}
