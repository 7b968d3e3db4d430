// HEOM: ADO 0's preconditioner by GMRES on its Schur complement B0 (HeomSchurSolver::iterative; docs/methods.md,
// "Above six qubits"), against the dense factors of the same B0, the automatic choice between the two and the
// hand-over to the dense factors when GMRES on B0 does not converge.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "../support.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/hierarchy/heom.hpp"

namespace qheat {
namespace {

const std::string kChain = std::string(QHEAT_SOURCE_DIR) + "/examples/chain/xx_chain.toml";
const std::string kKato = std::string(QHEAT_SOURCE_DIR) + "/examples/kato2016/two_qubits.toml";

HeomResult solve_with(const Model& m, HeomSchurSolver solver, int depth, int terms) {
  HeomOptions o;
  o.depth = depth;
  o.terms = terms;
  o.schur_solver = solver;
  return heom_steady_state(m, o);
}

TEST(HeomIterativeSchur, GivesTheDenseFactorsCurrentsAndState) {
  // Both paths precondition with the same B0 -- exactly (dense LU, refined to round-off) or by GMRES on B0 to a
  // relative residual of 1e-13 (round-off leaves up to 7e-11, measured at nine qubits) -- so the outer GMRES, which
  // stops at 1e-14 of the bordered residual, gives the same steady state: the currents to 1e-9 relative (measured:
  // within 3e-11 on every case here) and the state to 1e-10. Cases: the XX chain at N = 4 and 5 (weak coupling, B0's
  // secular part keeps the populations and the near-degenerate coherences), N = 5 at 30x the coupling (the slow set
  // grows: 568 of 1024 elements, 40 iterations per solve measured), and Kato's two qubits at lambda = 1 (every element
  // slow: GMRES on B0 converges at once).
  struct Case {
    std::string name;
    Model model;
    int depth, terms;
    double iterations;  // GMRES iterations per solve with B0, at most: 1.25 x those measured
  };
  const Case cases[] = {
      {"XX chain N = 4", load_model(kChain, {{"N", "4"}}), 3, 2, 1.25 * 12.5},
      {"XX chain N = 5", load_model(kChain, {{"N", "5"}}), 2, 2, 1.25 * 14.3},
      {"XX chain N = 5, gamma = 0.3", load_model(kChain, {{"N", "5"}, {"gamma", "0.3"}}), 3, 2, 1.25 * 40.2},
      {"Kato, lambda = 1", load_model(kKato, {{"lam", "1"}}), 5, 2, 1.0},
  };
  for (const Case& c : cases) {
    const HeomResult dense = solve_with(c.model, HeomSchurSolver::dense, c.depth, c.terms);
    const HeomResult iter = solve_with(c.model, HeomSchurSolver::iterative, c.depth, c.terms);
    ASSERT_EQ(dense.status, SteadyStatus::converged) << c.name;
    ASSERT_EQ(iter.status, SteadyStatus::converged) << c.name;
    EXPECT_FALSE(dense.iterative_schur) << c.name;
    ASSERT_TRUE(iter.iterative_schur) << c.name;
    EXPECT_FALSE(iter.schur_fallback) << c.name;
    EXPECT_GE(iter.schur_slow, iter.rho.rows()) << c.name << ": the populations are always slow";
    double worst = 0.0;
    for (std::size_t a = 0; a < dense.currents.size(); ++a) {
      EXPECT_NEAR(iter.currents[a], dense.currents[a], 1e-9 * std::abs(dense.currents[a])) << c.name << ", bath " << a;
      worst = std::max(worst, std::abs(iter.currents[a] - dense.currents[a]) / std::abs(dense.currents[a]));
    }
    EXPECT_LT((iter.rho - dense.rho).cwiseAbs().maxCoeff(), 1e-10) << c.name;
    // The secular part is a good preconditioner of B0: a wrong diagonal shows as more iterations (its dissipative
    // sums at a tenth: 18.8, 22.4 and 63.9 iterations in the first three cases, measured).
    EXPECT_LE(iter.schur_iterations, c.iterations) << c.name;
    std::printf("%s: %ld slow elements, %.1f iterations per solve with B0, outer %d / %d, currents within %.2g\n",
                c.name.c_str(), iter.schur_slow, iter.schur_iterations, iter.iterations, dense.iterations, worst);
  }
}

TEST(HeomIterativeSchur, AutomaticChoiceFollowsTheSizeOfB0) {
  // Automatic: dense factors while B0 has at most schur_dense_rows rows (d^2), GMRES on B0 above.
  const Model m = load_model(kChain, {{"N", "3"}});  // d^2 = 64
  HeomOptions o;
  o.depth = 2;
  o.terms = 1;
  EXPECT_FALSE(heom_steady_state(m, o).iterative_schur);
  o.schur_dense_rows = 63;
  EXPECT_TRUE(heom_steady_state(m, o).iterative_schur);
  o.schur_dense_rows = 64;
  EXPECT_FALSE(heom_steady_state(m, o).iterative_schur);
}

TEST(HeomIterativeSchur, HandsAdoZeroToTheDenseFactorsWhenGmresOnB0Fails) {
  // One iteration per solve with B0 cannot reach its tolerance: the automatic choice then factorises B0 and solves
  // again, with the dense path's result; asked for explicitly, the iterative path keeps its (poor) solves and the
  // outer GMRES goes on with them.
  const Model m = load_model(kChain, {{"N", "3"}});
  HeomOptions o;
  o.depth = 2;
  o.terms = 1;
  const HeomResult dense = heom_steady_state(m, o);
  o.schur_dense_rows = 0;
  o.schur_max_iterations = 1;
  const HeomResult fallback = heom_steady_state(m, o);
  EXPECT_TRUE(fallback.schur_fallback);
  EXPECT_FALSE(fallback.iterative_schur);
  ASSERT_EQ(fallback.status, SteadyStatus::converged);
  for (std::size_t a = 0; a < dense.currents.size(); ++a)
    EXPECT_NEAR(fallback.currents[a], dense.currents[a], 1e-12 * std::abs(dense.currents[a]));  // the same solve
  // When the dense factors do not fit either, the refusal says why they were needed. Seven qubits, depth 1, no Pade
  // terms: GMRES on B0 is estimated at ~0.28 GiB (B0 on at most 4096 slow elements: 256 MiB), its dense factors at
  // 0.5 GiB (two real single-precision blocks of 8192^2); a limit of 400 MiB admits the first only, and the single
  // GMRES iteration allowed fails at the first solve, before any dense factor is built.
  {
    const Model seven = load_model(kChain, {{"N", "7"}});
    HeomOptions small;
    small.depth = 1;
    small.terms = 0;
    small.schur_max_iterations = 1;
    set_memory_limit(std::size_t{400} << 20);
    try {
      (void)heom_steady_state(seven, small);
      ADD_FAILURE() << "the dense factors should not fit in 400 MiB";
    } catch (const MemoryLimitError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("GMRES on ADO 0's Schur complement did not converge, and the HEOM steady "
                                            "state", 0),
                0u)
          << e.what();
    }
    set_memory_limit(0);
  }
  o.schur_solver = HeomSchurSolver::iterative;
  const HeomResult forced = heom_steady_state(m, o);
  EXPECT_TRUE(forced.iterative_schur);
  EXPECT_FALSE(forced.schur_fallback);
  EXPECT_GT(forced.iterations, dense.iterations);
}

}  // namespace
}  // namespace qheat
