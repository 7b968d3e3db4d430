// The scale path (qheat::solve through a MasterEquation: the zero-frequency sector of Davies and the
// dressed methods, the matrix-free Hermitian Redfield apply) against the dense eigenbasis engine
// (Generator + steady_state + thermodynamics) where both run, and the exact identities on the scale path
// itself; results independent of the truncation of bosonic modes whose populated levels lie far below it.
#include <gtest/gtest.h>

#include <Eigen/SVD>
#include <cmath>
#include <limits>
#include <string>

#include "../support.hpp"
#include "qheat/generators/equation.hpp"
#include "qheat/run/solve.hpp"

using namespace qheat;
using namespace qheat::test;

namespace {

double max_abs_current(const std::vector<double>& J) {
  double s = 0.0;
  for (double j : J) s = std::max(s, std::abs(j));
  return s;
}

// Compares the two paths on one model: currents, bare currents (relative to the largest current, with
// an absolute floor at round-off of the gross flows), and the site-basis states.
void expect_same(const Model& m, Method method, LambShiftMode ls, double tol, const std::string& what,
                 SteadyStateOptions steady = {}) {
  SolveOptions o;
  o.lamb_shift = ls;
  o.steady = steady;
  const Solution a = qheat::solve(m, method, o);
  GeneratorOptions go;
  go.method = method;
  go.lamb_shift = ls;
  const Generator g(m, go);
  const SteadyStateResult ss = steady_state(g);
  const Thermodynamics th = thermodynamics(g, ss);
  ASSERT_EQ(a.status, ss.status) << what;
  if (ss.status == SteadyStatus::not_unique) return;
  // The dense reference's own forward error is ~n eps / rcond of its n = d^2 system (rcond, its pivot
  // ratio, down to 2e-5 for the super-ohmic exchange baths, whose small-frequency rates go as w^3): measured
  // against a full-pivoting refined solve, the scale path is the closer of the two there (7e-13 against
  // 2.8e-12). A random 3-qubit Redfield model (d^2 = 64, rcond 2.7e-3) differed by 1.6e-12 = 19 eps / rcond
  // with clang's rounding.
  const double n = std::pow(static_cast<double>(g.basis().energies.size()), 2);
  tol = std::max(tol, n * std::numeric_limits<double>::epsilon() / std::max(ss.rcond, 1e-300));
  // Currents are differences of gross flows (largest rate x energy span); round-off is relative to those.
  const rvec& E = g.basis().energies;
  const double scale = std::max(max_abs_current(th.currents), g.largest_rate() * (E.maxCoeff() - E.minCoeff()));
  for (std::size_t k = 0; k < th.currents.size(); ++k) {
    EXPECT_NEAR(a.thermo.currents[k], th.currents[k], tol * scale) << what << " bath " << k;
    EXPECT_NEAR(a.thermo.bare_currents[k], th.bare_currents[k], tol * scale) << what << " bath " << k;
  }
  ASSERT_TRUE(a.rho.has_value());
  EXPECT_LT((*a.rho - g.basis().from_eigen(ss.rho)).cwiseAbs().maxCoeff(), tol) << what;
  EXPECT_NEAR(a.thermo.entropy_production, th.entropy_production, tol * scale * 10) << what;
}

const CouplingKind kKinds[] = {CouplingKind::hermitian, CouplingKind::exchange};

}  // namespace

TEST(ScalePaths, DaviesSectorEqualsDenseDavies) {
  // Direct solves on both sides (dense LU of the Pauli matrix vs dense/sparse LU of the d^2 Liouvillian):
  // round-off of a 64 x 64 (or 4096 x 4096) solve, ~1e-14 of the gross flows -> 1e-12.
  std::mt19937 rng(101);
  for (CouplingKind k : kKinds)
    for (auto ls : {LambShiftMode::off, LambShiftMode::on})
      for (int nq : {2, 3, 4}) {
        const Model m = random_model(nq, rng, 2.0, 0.4, k, 0.03);
        expect_same(m, Method::global, ls, 1e-12, "random " + std::to_string(nq) + " qubits");
      }
}

TEST(ScalePaths, DaviesSectorWithDegenerateLevels) {
  // Three identical qubits with an XX coupling: H conserves the excitation number and has exactly
  // degenerate levels, so the zero-frequency sector has blocks larger than one (their coherences are kept).
  Space sp = qubits(3);
  cmat H = cmat::Zero(8, 8);
  for (int k = 1; k <= 3; ++k) H += 0.5 * op(sp, "q" + std::to_string(k), local_ops::sigma_z());
  // A ring: q1-q2, q2-q3, q3-q1 with equal couplings has degenerate one-excitation levels.
  const auto hop = [&](const std::string& a, const std::string& b) {
    const cmat t = op(sp, a, local_ops::sigma_plus()) * op(sp, b, local_ops::sigma_minus());
    return cmat(0.1 * (t + t.adjoint()));
  };
  H += hop("q1", "q2") + hop("q2", "q3") + hop("q3", "q1");
  for (CouplingKind k : kKinds)
    for (auto ls : {LambShiftMode::off, LambShiftMode::on}) {
      const cmat S = k == CouplingKind::hermitian ? local_ops::sigma_x() : local_ops::sigma_minus();
      const SpectralDensity J = k == CouplingKind::hermitian ? drude(0.02, 20.0) : super_ohmic(0.02, 20.0);
      const Model m = model(sp, H, {bath(sp, "hot", 1.5, k, "q1", S, J), bath(sp, "cold", 0.5, k, "q3", S, J)});
      const auto eq = make_equation(m, GeneratorOptions{Method::global, ls, 1e-9});
      EXPECT_NE(eq->structure().find("largest 2"), std::string::npos) << eq->structure();
      expect_same(m, Method::global, ls, 1e-12, "ring");
    }
}

TEST(ScalePaths, RedfieldMatrixFreeEqualsDense) {
  // GMRES to 1e-12 of the gross jump rate against a dense LU: the state agrees to ~1e-12 x the
  // condition of the preconditioned system (~1e2) -> 1e-9 (the Krylov tolerance).
  std::mt19937 rng(102);
  SteadyStateOptions krylov;
  krylov.dense_max_dim = 1;
  krylov.dense_max_problem = 0;  // force GMRES on the scale path even at d = 4, 8
  for (CouplingKind k : kKinds)
    for (auto ls : {LambShiftMode::off, LambShiftMode::on})
      for (int nq : {2, 3}) {
        const Model m = random_model(nq, rng, 2.0, 0.4, k, 0.03);
        expect_same(m, Method::redfield, ls, 1e-12, "dense LU on both sides");
        expect_same(m, Method::redfield, ls, 1e-9, "GMRES", krylov);
      }
}

// The apply without M needs each coupling's X_t^dag among its terms to round-off; a coupling S that the model
// accepts as Hermitian (to 1e-12) but is not to round-off (S = sigma_x + 3e-13 i) takes the apply with M, and
// both equal the dense engine (tolerances as in RedfieldMatrixFreeEqualsDense).
TEST(ScalePaths, RedfieldApplyWithAndWithoutM) {
  std::mt19937 rng(7);
  SteadyStateOptions krylov;
  krylov.dense_max_dim = 1;
  krylov.dense_max_problem = 0;
  Model m = random_model(3, rng, 2.0, 0.4, CouplingKind::hermitian, 0.03);
  GeneratorOptions go{Method::redfield, LambShiftMode::on, 1e-9};
  EXPECT_NE(make_equation(m, go)->structure().find("(4 products per apply)"), std::string::npos);
  expect_same(m, Method::redfield, LambShiftMode::on, 1e-9, "hermitian S, GMRES", krylov);
  m.baths[0].op += cmat::Identity(m.baths[0].op.rows(), m.baths[0].op.cols()) * cplx(0.0, 3e-13);
  EXPECT_NE(make_equation(m, go)->structure().find("(5 products per apply)"), std::string::npos);
  expect_same(m, Method::redfield, LambShiftMode::on, 1e-9, "S Hermitian to 6e-13, GMRES", krylov);
}

TEST(ScalePaths, RedfieldChargeSectorsEqualDense) {
  // Models whose Hamiltonian conserves the excitation number Q (exactly, or modulo 2) and whose couplings
  // shift it by fixed amounts: the scale path solves Bloch-Redfield on the charge sectors only (the blocks of
  // Q or Q mod 2), the dense reference on the whole Liouville space. The same state and currents prove that
  // the steady state has no coherence between sectors and that the sector apply is the whole generator.
  // Direct solves: these weakly coupled models have |largest| / |slowest| Liouvillian eigenvalue of 190-340
  // (hermitian couplings) and 1.3e4-1.7e4 (exchange: super-ohmic rates vanish at small frequencies), measured
  // with Eigen's eigensolver; eps x 1.7e4 = 4e-12 is the states' forward error (the pivot ratio, ~0.3, does not
  // see it; 3.6e-12 was the largest difference) -> 1e-11. GMRES as in RedfieldMatrixFreeEqualsDense (1e-9).
  using namespace local_ops;
  SteadyStateOptions krylov;
  krylov.dense_max_dim = 1;
  krylov.dense_max_problem = 0;
  const Space chain = qubits(4);
  cmat xx = cmat::Zero(16, 16), ising = cmat::Zero(16, 16);
  for (int k = 1; k <= 4; ++k) {
    const cmat z = op(chain, "q" + std::to_string(k), sigma_z());
    xx += 0.5 * (1.0 + 0.13 * k) * z;
    ising += 0.5 * (1.0 + 0.13 * k) * z;
  }
  for (int k = 1; k < 4; ++k) {
    const std::string a = "q" + std::to_string(k), b = "q" + std::to_string(k + 1);
    const cmat t = op(chain, a, sigma_plus()) * op(chain, b, sigma_minus());
    xx += 0.2 * (t + t.adjoint());
    ising += 0.2 * op(chain, a, sigma_x()) * op(chain, b, sigma_x());
  }
  // Quantum Rabi model (qubit + mode, nmax = 5): a sigma_x (a + a^dag) conserves only the parity of
  // sigma_+ sigma_- + a^dag a.
  const Space rabi({make_qubit("q"), make_boson("a", 5)});
  const cmat a = op(rabi, "a", annihilation(5));
  const cmat H_rabi = 0.5 * 1.1 * op(rabi, "q", sigma_z()) + a.adjoint() * a +
                      0.15 * op(rabi, "q", sigma_x()) * (a + a.adjoint());
  struct Case {
    std::string name;
    Model m;
    std::string sectors;  // what structure() says
    std::string products;  // and of the apply: 2 per dissipator term, no product with M (every term has a partner)
  };
  const SpectralDensity J = drude(0.02, 10.0), Jx = super_ohmic(0.02, 10.0);
  const cmat sx_z = sigma_x() + 0.3 * sigma_z();
  const std::vector<Case> cases{
      {"xx chain, sx couplings", model(chain, xx, {bath(chain, "hot", 2.0, CouplingKind::hermitian, "q1", sigma_x(), J),
                                                   bath(chain, "cold", 0.7, CouplingKind::hermitian, "q4", sigma_x(), J)}),
       "2 charge sectors (excitation number mod 2)", "(4 products per apply)"},
      {"xx chain, exchange couplings",
       model(chain, xx, {bath(chain, "hot", 2.0, CouplingKind::exchange, "q1", sigma_minus(), Jx),
                         bath(chain, "cold", 0.7, CouplingKind::exchange, "q4", sigma_minus(), Jx)}),
       "5 charge sectors (excitation number)", "(8 products per apply)"},
      {"ising chain, sx couplings",
       model(chain, ising, {bath(chain, "hot", 2.0, CouplingKind::hermitian, "q1", sigma_x(), J),
                            bath(chain, "cold", 0.7, CouplingKind::hermitian, "q4", sigma_x(), J)}),
       "2 charge sectors (excitation number mod 2)", "(4 products per apply)"},
      {"rabi, qubit and mode baths",
       model(rabi, H_rabi, {bath(rabi, "hot", 2.0, CouplingKind::hermitian, "q", sigma_x(), J),
                            bath(rabi, "cold", 0.7, CouplingKind::hermitian, "a", cmat(annihilation(5) + creation(5)), J)}),
       "2 charge sectors (excitation number mod 2)", "(4 products per apply)"},
      {"xx chain, sx + 0.3 sz on the hot end (no sectors)",
       model(chain, xx, {bath(chain, "hot", 2.0, CouplingKind::hermitian, "q1", sx_z, J),
                         bath(chain, "cold", 0.7, CouplingKind::hermitian, "q4", sigma_x(), J)}),
       "", "(4 products per apply)"},
  };
  for (const Case& c : cases) {
    const auto eq = make_equation(c.m, GeneratorOptions{Method::redfield, LambShiftMode::on, 1e-9});
    if (c.sectors.empty()) {
      EXPECT_EQ(eq->structure().find("charge sectors"), std::string::npos) << c.name << ": " << eq->structure();
    } else {
      EXPECT_NE(eq->structure().find(c.sectors), std::string::npos) << c.name << ": " << eq->structure();
    }
    EXPECT_NE(eq->structure().find(c.products), std::string::npos) << c.name << ": " << eq->structure();
    for (auto ls : {LambShiftMode::off, LambShiftMode::on}) {
      expect_same(c.m, Method::redfield, ls, 1e-11, c.name + ", dense LU on both sides");
      expect_same(c.m, Method::redfield, ls, 1e-9, c.name + ", GMRES", krylov);
    }
  }
}

TEST(ScalePaths, DressedMethodsEqualDense) {
  // Kong's three driven models, dDME and DME: direct solves on both sides (1e-12).
  const std::string dir = std::string(QHEAT_SOURCE_DIR) + "/examples/kong2026/";
  for (const std::string f : {"nesb.toml", "coupled_qubits.toml", "kerr.toml"})
    for (Method m : {Method::ddme, Method::dme})
      for (const std::string wd : {"0.3", "1.0"}) {
        std::vector<Override> o{{"omega_d", wd}};
        if (f == "kerr.toml") o.push_back({"nmax", "12"});
        expect_same(load_model(dir + f, o), m, LambShiftMode::off, 1e-12, f + " " + method_name(m) + " wd " + wd);
      }
}

TEST(ScalePaths, IdentitiesOnTheScalePath) {
  std::mt19937 rng(103);
  for (Method method : {Method::global, Method::redfield})
    for (CouplingKind k : kKinds) {
      // Equal temperatures: Davies gives zero current exactly (round-off of gross flows ~ gamma |E|);
      // Redfield at O(gamma^2) (tested on the dense engine), so only Davies is held to round-off here.
      const Model eq = random_model(3, rng, 1.3, 1.3, k, 0.05);
      const Solution s = qheat::solve(eq, method, LambShiftMode::on);
      ASSERT_EQ(s.status, SteadyStatus::converged);
      EXPECT_NEAR(s.trace, 1.0, 1e-12);
      EXPECT_LT(std::abs(s.thermo.first_law_residual), 1e-12);  // round-off of gross flows ~0.05 x 3
      if (method == Method::global) {
        for (double J : s.thermo.currents) EXPECT_LT(std::abs(J), 1e-13);
        EXPECT_GT(s.min_eigenvalue, -1e-14);
      }
    }
}

TEST(ScalePaths, NonUniqueSteadyStateIsReported) {
  // q2 touches no bath and does not interact: every state of q2 is stationary.
  Space sp = qubits(2);
  const cmat H = op(sp, "q1", local_ops::sigma_z()) + 0.7 * op(sp, "q2", local_ops::sigma_z());
  const Model m = model(sp, H, {bath(sp, "a", 1.0, CouplingKind::hermitian, "q1", local_ops::sigma_x(), flat(0.1))});
  for (Method method : {Method::global, Method::redfield}) {
    const Solution s = qheat::solve(m, method);
    EXPECT_EQ(s.status, SteadyStatus::not_unique) << method_name(method);
    ASSERT_FALSE(s.thermo.diagnostics.empty());
    EXPECT_EQ(s.thermo.diagnostics.front().code, "not-unique");
  }
}

namespace {
// Currents of a bosonic model at several truncations nmax: they must agree to <= 1e-9 relative, and the
// first-law residual must be <= 1e-10 of the current (issue 9's requirement), although the largest
// rate and energy grow with nmax (the populated levels lie far below it).
void expect_truncation_independent(const std::string& file, Method method, std::vector<Override> fixed,
                                   const std::string& bath) {
  std::vector<double> J;
  for (const std::string nmax : {"100", "200", "400"}) {
    std::vector<Override> o = fixed;
    o.push_back({"nmax", nmax});
    const Model m = load_model(std::string(QHEAT_SOURCE_DIR) + "/examples/" + file, o);
    SolveOptions so;
    so.state = false;
    const Solution s = qheat::solve(m, method, so);
    ASSERT_EQ(s.status, SteadyStatus::converged) << file << " nmax " << nmax;
    std::size_t k = 0;
    while (s.bath_names[k] != bath) ++k;
    J.push_back(s.thermo.currents[k]);
    if (s.thermo.drive_power == 0.0) {
      EXPECT_LT(std::abs(s.thermo.first_law_residual), 1e-10 * std::abs(J.back())) << file << " nmax " << nmax;
    }
  }
  EXPECT_NEAR(J[1], J[0], 1e-9 * std::abs(J[0])) << file << " " << method_name(method);
  EXPECT_NEAR(J[2], J[0], 1e-9 * std::abs(J[0])) << file << " " << method_name(method);
}
}  // namespace

TEST(ScalePaths, KerrModeIndependentOfTruncation) {
  expect_truncation_independent("bosons/kerr_mode.toml", Method::global, {}, "hot");
  expect_truncation_independent("bosons/kerr_mode.toml", Method::redfield, {}, "hot");
}

TEST(ScalePaths, KongKerrDdmeIndependentOfTruncation) {
  const std::vector<Override> p{{"omega_d", "0.63"}, {"eta", "0.13"}, {"chi", "0.27"}, {"T_l", "1.3"}, {"T_r", "0.45"}};
  expect_truncation_independent("kong2026/kerr.toml", Method::ddme, p, "r");
  // The independent Pauli-rate computation quoted in issue 9 (identical at nmax = 100 and 200):
  // J_r = -1.22131328e-3, given there to 9 digits.
  std::vector<Override> o = p;
  o.push_back({"nmax", "100"});
  const Solution s = qheat::solve(load_model(std::string(QHEAT_SOURCE_DIR) + "/examples/kong2026/kerr.toml", o),
                                  Method::ddme);
  EXPECT_NEAR(s.thermo.currents[1], -1.22131328e-3, 5e-12);
}

// A harmonic mode (chi = 0): every transition has the one Bohr frequency omega, so Bloch-Redfield couples the
// coherences rho_(n, n+k) of one k as strongly as the rates, and the secular preconditioner takes those
// couplings (eigenbasis_equation.cpp, coherence_blocks). With only each coherence's own diagonal element GMRES
// ran to its 2000-iteration cap from nmax = 200 on and stopped short (not-converged) from nmax = 600
// (bench/README.md). Here: the scale path equals the dense engine at nmax = 20 (GMRES forced; 1e-9 as in
// RedfieldMatrixFreeEqualsDense), and at nmax = 60 and 150 it converges within 400 iterations (45 at nmax = 100
// when measured) to currents equal to 1e-9 relative (populated levels far below: p_n ~ e^{-n/2} at T = 2).
TEST(ScalePaths, RedfieldHarmonicModeCoherenceCouplings) {
  const std::string file = std::string(QHEAT_SOURCE_DIR) + "/examples/bosons/kerr_mode.toml";
  SteadyStateOptions krylov;
  krylov.dense_max_dim = 1;
  krylov.dense_max_problem = 0;
  expect_same(load_model(file, {{"chi", "0"}, {"nmax", "20"}}), Method::redfield, LambShiftMode::on, 1e-9,
              "harmonic mode, nmax 20", krylov);
  std::vector<double> J;
  for (const std::string nmax : {"60", "150"}) {
    SolveOptions so;
    so.state = false;
    so.steady.gmres_max_iterations = 400;
    const Solution s = qheat::solve(load_model(file, {{"chi", "0"}, {"nmax", nmax}}), Method::redfield, so);
    ASSERT_EQ(s.status, SteadyStatus::converged) << "nmax " << nmax;
    J.push_back(s.thermo.currents[0]);
  }
  EXPECT_NEAR(J[1], J[0], 1e-9 * std::abs(J[0]));
}

// A Kerr mode of many levels (examples/kong2026/kerr.toml): one level per charge sector, so global, local (one site)
// and Bloch-Redfield are all the Pauli rate equation, solved by GTH (steady/rate_equation.hpp). The ohmic rates
// fall as e^{-w/w_c} up the ladder (1e-35 at 1001 levels); a bordered LU's pivot ratio fell to 0 there and every
// method reported `not-unique`, and local and Bloch-Redfield drifted 1e-5 and 9e-7 at 401 levels (bench/README.md).
// Populated levels lie far below 201 (p_n ~ e^{-n}), so the currents may not depend on the truncation: equal to
// 1e-12 relative across 201, 401 and 1001 levels and across the methods (a few ulp of J ~ 1e-3 per solve).
TEST(ScalePaths, KerrModeRateEquationsIndependentOfTruncation) {
  const std::string file = std::string(QHEAT_SOURCE_DIR) + "/examples/kong2026/kerr.toml";
  SolveOptions so;
  so.state = false;
  double reference = 0.0;
  for (const Method method : {Method::global, Method::local, Method::redfield})
    for (const std::string nmax : {"200", "400", "1000"}) {
      const Solution s = qheat::solve(load_model(file, {{"nmax", nmax}}), method, so);
      ASSERT_EQ(s.status, SteadyStatus::converged) << method_name(method) << ", nmax " << nmax;
      const double J = s.thermo.currents[0];
      if (reference == 0.0) reference = J;
      EXPECT_NEAR(J, reference, 1e-12 * std::abs(reference)) << method_name(method) << ", nmax " << nmax;
      EXPECT_NEAR(s.thermo.currents[1], -J, 1e-12 * std::abs(J)) << "no drive: J_l + J_r = 0";
    }
  EXPECT_GT(reference, 1e-4);  // heat flows from the hot bath l (1.04e-3 when measured)
}

// A harmonic mode (examples/bosons/kerr_mode.toml with chi = 0) under Bloch-Redfield: each Bohr frequency k omega is
// shared by the coherences |n + k><n|, whose non-secular couplings to k +- 2 grow with n past the splitting 2 omega,
// so the secular preconditioner leaves GMRES slow (nmax = 999: not converged after 2000 iterations). Every operator
// is sparse in the Fock basis; the problem then has an assembled sparse form, and the sparse LU takes over when
// GMRES has not converged after SteadyStateOptions::gmres_direct_after iterations.
TEST(ScalePaths, HarmonicModeRedfieldAssembledOperatorIsTheApply) {
  const std::string file = std::string(QHEAT_SOURCE_DIR) + "/examples/bosons/kerr_mode.toml";
  GeneratorOptions go;
  go.method = Method::redfield;
  // nmax = 80: two charge sectors (excitation number mod 2) of 40 and 41 levels, above the 32 from which the apply
  // keeps an operator sparse.
  const auto eq = make_equation(load_model(file, {{"nmax", "80"}, {"chi", "0"}}), go);
  const LinearProblem<double> p = eq->steady_problem({});
  ASSERT_TRUE(p.assemble);
  const auto A = p.assemble();
  ASSERT_TRUE(A);
  ASSERT_EQ(A->rows(), p.dim);
  rvec x(p.dim), y(p.dim);
  for (long k = 0; k < p.dim; ++k) x(k) = std::sin(0.37 * static_cast<double>(k) + 1.0);
  p.apply(x, y);
  const rvec z = (*A) * x;
  // The same sums in another order: round-off of the largest term, |A| |x| <= ||A||_inf max|x|.
  double norm_inf = 0.0;
  rvec row_sums = rvec::Zero(p.dim);
  for (long c = 0; c < A->outerSize(); ++c)
    for (LinearProblem<double>::Sparse::InnerIterator it(*A, c); it; ++it) row_sums(it.row()) += std::abs(it.value());
  norm_inf = row_sums.maxCoeff();
  EXPECT_LE((y - z).cwiseAbs().maxCoeff(), 1e-13 * norm_inf);
  EXPECT_GT(y.norm(), 1e-3 * norm_inf);  // not two zero vectors
  // Trace preservation of the assembled form: u^T A = 0.
  EXPECT_LE((p.border.transpose() * (*A)).cwiseAbs().maxCoeff(), 1e-13 * norm_inf);
}

TEST(ScalePaths, HarmonicModeRedfieldThroughTheSparseLUIndependentOfTruncation) {
  const std::string file = std::string(QHEAT_SOURCE_DIR) + "/examples/bosons/kerr_mode.toml";
  SolveOptions so;
  so.state = false;
  // GMRES alone (it converges at these sizes: 44 iterations at nmax = 100) ...
  const Solution g = qheat::solve(load_model(file, {{"nmax", "80"}, {"chi", "0"}}), Method::redfield, so);
  ASSERT_EQ(g.status, SteadyStatus::converged);
  ASSERT_EQ(g.solver, "gmres");
  const double reference = g.thermo.currents[0];
  EXPECT_GT(reference, 1e-3);  // heat flows from the hot bath (4.76e-3 when measured)
  // ... against the sparse LU after 10 iterations, at three truncations. Above n = 80 the thermal populations
  // (T <= 2) are below e^-40 ~ 4e-18, so the truncation itself changes nothing visible; what differs is round-off:
  // GMRES stops at a relative residual of 1e-12, and the direct solve's backward error is relative to the largest
  // rates of the empty high levels (gamma n ~ 2.4 at n = 240, against J ~ 5e-3). Measured: the currents within
  // 1.1e-10 relative of each other, J_hot + J_cold within 2.2e-10 of J; 1e-9 leaves a margin.
  so.steady.gmres_direct_after = 10;
  for (const std::string nmax : {"80", "160", "240"}) {
    const Solution s = qheat::solve(load_model(file, {{"nmax", nmax}, {"chi", "0"}}), Method::redfield, so);
    ASSERT_EQ(s.status, SteadyStatus::converged) << "nmax " << nmax;
    EXPECT_EQ(s.solver, "sparse-lu") << "nmax " << nmax;
    const double J = s.thermo.currents[0];
    EXPECT_NEAR(J, reference, 1e-9 * reference) << "nmax " << nmax;
    EXPECT_NEAR(s.thermo.currents[1], -J, 1e-9 * J) << "no drive: J_hot + J_cold = 0";
  }
}

namespace {
Model xxz_chain(std::vector<Override> o) {
  return load_model(std::string(QHEAT_SOURCE_DIR) + "/examples/chain/xxz_chain.toml", std::move(o));
}
}  // namespace

// The XXZ example's flat baths at its defaults (h = 1, J = 0.25: single-magnon energies down to 1 - cos(pi/7) = 0.1
// at N = 6, and many-body Bohr frequencies of sigma- closer to zero with Delta = 0.5) make kappa n(w) ~ kappa T / w
// large, and the Bloch-Redfield generator has eigenvalues of real part up to +1.5 (measured at N = 6 with a dense
// eigensolver): its steady state is still the unique kernel, but the secular preconditioner misses most of L and
// restarted GMRES stalls. Capped at 240 iterations (it needs 453 here), the scale path hands the problem to dense LU;
// the dense complex engine on all d^2 = 4096 unknowns (no charge sectors, another code) gives the same currents and
// state. Tolerance 1e-10: both are direct solves, n eps / rcond ~ 1e-10 for the reference's n = 4096 and pivot ratio
// 1.1e-2 (seen: 4e-13 relative in the currents, 1.5e-14 in rho).
TEST(ScalePaths, RedfieldDenseFallbackWhereGmresStalls) {
  const Model m = xxz_chain({{"N", "6"}});
  SolveOptions o;
  o.steady.gmres_max_iterations = 240;
  const Solution s = qheat::solve(m, Method::redfield, o);
  ASSERT_EQ(s.status, SteadyStatus::converged);
  EXPECT_EQ(s.solver, "dense-lu");
  GeneratorOptions go;
  go.method = Method::redfield;
  const Generator g(m, go);
  SteadyStateOptions dense;
  dense.dense_max_dim = 64;
  const SteadyStateResult ss = steady_state(g, dense);
  ASSERT_EQ(ss.status, SteadyStatus::converged);
  ASSERT_EQ(ss.solver, "dense-lu");
  const Thermodynamics th = thermodynamics(g, ss);
  for (std::size_t k = 0; k < th.currents.size(); ++k)
    EXPECT_NEAR(s.thermo.currents[k], th.currents[k], 1e-10 * std::abs(th.currents[k])) << k;
  ASSERT_TRUE(s.rho.has_value());
  EXPECT_LT((*s.rho - g.basis().from_eigen(ss.rho)).cwiseAbs().maxCoeff(), 1e-10);
  EXPECT_LT(s.min_eigenvalue, -1e-3);  // this generator's steady state is not a density matrix: reported, not hidden
}

// At N = 7 restarted GMRES stalls for good (no progress after 400 iterations; 3000 iterations with restart 500 did not
// converge either): the defaults must still give the kernel. Checked by what defines it: L rho = 0 to round-off of the
// gross rates, Tr rho = 1, and the first law (the currents are differences of gross flows of ~ rate x energy span).
TEST(ScalePaths, RedfieldStalledGmresStillGivesTheKernel) {
  const Model m = xxz_chain({{"N", "7"}});
  SolveOptions o;
  o.state = false;
  const Solution s = qheat::solve(m, Method::redfield, o);
  ASSERT_EQ(s.status, SteadyStatus::converged);
  EXPECT_EQ(s.solver, "dense-lu");
  EXPECT_NEAR(s.trace, 1.0, 1e-12);
  EXPECT_LT(s.residual, 1e-10);
  EXPECT_LT(std::abs(s.thermo.first_law_residual), 1e-12);
}

// A Bohr frequency within the degeneracy tolerance of zero is zero for Bloch-Redfield as for Davies. The XXZ chain at
// the isotropic point (Delta = 1) has degenerate levels that sigma- connects; with a flat bath the zero-frequency rate
// kappa n(0) is infinite, which both methods must refuse with the same rule. Before, Bloch-Redfield took the
// round-off (~1e-16) as the frequency: rates ~1e15 and a current of 3e23.
TEST(ScalePaths, RedfieldZeroBohrFrequencyIsZeroAsForDavies) {
  const Model m = xxz_chain({{"N", "4"}, {"Delta", "1.0"}, {"gamma", "0.01"}});
  for (Method method : {Method::global, Method::redfield}) {
    try {
      (void)qheat::solve(m, method);
      ADD_FAILURE() << method_name(method) << " accepted an infinite zero-frequency rate";
    } catch (const MethodError& e) {
      EXPECT_EQ(e.rule(), "zero-frequency-rate") << method_name(method);
    }
  }
}

// Found by an independent cross-check (a numpy implementation of docs/methods.md, 600 random models): a uniform XX
// chain has degenerate levels, and an exchange coupling sigma- + c sigma_z connects them. Bloch-Redfield took the
// round-off of E_n - E_m (~1e-16, either sign) as the frequency and so one side of Gamma's emission/absorption split
// for the exact zeros too; lamb-shift.md assigns w = 0 the symmetric limit (kappa_+(0) = [kappa(0+) + lim kappa n]/2).
// The currents then moved by 8 % and 25 % (baths b2, b3) when one field changed by one ulp. Now a frequency within the
// degeneracy tolerance is 0, and the two models agree to round-off (tolerance 1e-10 relative: the perturbation is
// 1e-16, the solves' forward error ~1e-13); both equal the independent reference values to 1e-9 (-5.458632388402069e-4,
// 3.842084285752860e-4, 1.616548102651847e-4; that reference's own quadrature-free rates agree with it to ~1e-15).
TEST(ScalePaths, RedfieldDegenerateLevelsDoNotDependOnRoundOff) {
  const std::string head = "[sites]\nq1 = \"qubit\"\nq2 = \"qubit\"\nq3 = \"qubit\"\nq4 = \"qubit\"\n[hamiltonian]\nH = \"";
  const std::string rest =
      "*sz(q1) + 0.5*sz(q2) + 0.5*sz(q3) + 0.5*sz(q4) + 0.17547708507702814*(sx(q1)*sx(q2) + sy(q1)*sy(q2) + "
      "sx(q2)*sx(q3) + sy(q2)*sy(q3) + sx(q3)*sx(q4) + sy(q3)*sy(q4))\"\n"
      "[[baths]]\nname = \"b1\"\ntemperature = 0\ncoupling = \"exchange\"\noperator = \"sm(q1)\"\n"
      "spectral = { kind = \"flat\", gamma = 0.0013107777484397192 }\n"
      "[[baths]]\nname = \"b2\"\ntemperature = 4.2260569671819219\ncoupling = \"exchange\"\noperator = \"sm(q4)\"\n"
      "spectral = { kind = \"drude\", gamma = 0.0026171859563138599, cutoff = 16.863312882441523 }\n"
      "[[baths]]\nname = \"b3\"\ntemperature = 3.3541688070105091\ncoupling = \"exchange\"\n"
      "operator = \"sm(q1) + 0.47313678165814899*sz(q1)\"\n"
      "spectral = { kind = \"ohmic_exp\", gamma = 0.035050691215740094, cutoff = 10.888364429507575 }\n";
  const double reference[] = {-5.458632388402069e-4, 3.842084285752860e-4, 1.616548102651847e-4};
  std::vector<std::vector<double>> J;
  for (const std::string field : {"0.5", "0.50000000000000011"}) {
    const Model m = load_model_from_string(head + field + rest, "chain");
    SolveOptions o;
    o.lamb_shift = LambShiftMode::off;
    o.state = false;
    const Solution s = qheat::solve(m, Method::redfield, o);
    ASSERT_EQ(s.status, SteadyStatus::converged) << field;
    J.push_back(s.thermo.currents);
    for (std::size_t k = 0; k < 3; ++k) EXPECT_NEAR(s.thermo.currents[k], reference[k], 1e-9 * std::abs(reference[k])) << field << " bath " << k;
  }
  for (std::size_t k = 0; k < 3; ++k) EXPECT_NEAR(J[1][k], J[0][k], 1e-10 * std::abs(J[0][k])) << "bath " << k;
}

// Found by the same cross-check: XX chains of four sites whose single-magnon energies pair up (e1 + e4 = e2 + e3, so
// two two-magnon levels are degenerate) with sigma- baths at the ends have a two-dimensional kernel, for Davies and
// for Bloch-Redfield (checked here on the dense engine's full d^2 x d^2 Liouvillian: two singular values at round-off,
// 2e-17 and 1e-17 of the largest (<= 1e-13 asked), the next 5e-3 and 1e-3 (>= 1e-5 asked)). The Davies sector's LU had
// a pivot ratio of 7.4e-14, above singular_rcond, and reported `ill-conditioned` with a state of eigenvalue -0.25;
// Bloch-Redfield's GMRES, whose population graph cannot see stationary coherences, reported `converged` with one
// arbitrary member of the kernel.
TEST(ScalePaths, TwoDimensionalKernelsAreNotUnique) {
  const std::string head = "[sites]\nq1 = \"qubit\"\nq2 = \"qubit\"\nq3 = \"qubit\"\nq4 = \"qubit\"\n[hamiltonian]\nH = \"";
  auto hopping = [](const std::string& J) {
    return J + "*(sx(q1)*sx(q2) + sy(q1)*sy(q2) + sx(q2)*sx(q3) + sy(q2)*sy(q3) + sx(q3)*sx(q4) + sy(q3)*sy(q4))\"\n";
  };
  auto exchange = [](const std::string& name, const std::string& T, const std::string& site, const std::string& spectral) {
    return "[[baths]]\nname = \"" + name + "\"\ntemperature = " + T + "\ncoupling = \"exchange\"\noperator = \"sm(" + site +
           ")\"\nspectral = " + spectral + "\n";
  };
  struct Case {
    std::string toml;
    std::vector<Method> methods;
  };
  // (The first model under Bloch-Redfield has a one-dimensional but traceless kernel: singular values 1e-17 and 9e-7
  // of the largest, and two eigenvalues within 5e-11 of zero whose right eigenvectors have trace 1e-5 of their norm in
  // an independent numpy build; its bordered problem is singular and it is reported not-unique as well.)
  const std::vector<Case> cases = {
      // uniform fields, baths at T = 0 and T = 1.15: Davies
      {head + "0.5*(sz(q1) + sz(q2) + sz(q3) + sz(q4)) + " + hopping("0.32192183355712967") +
           exchange("b1", "0", "q1", "{ kind = \"drude\", gamma = 0.043185567376047868, cutoff = 11.871885733413528 }") +
           exchange("b2", "1.148842877552952", "q4", "{ kind = \"flat\", gamma = 0.041086163548118664 }"),
       {Method::global}},
      // fields 1, 1.1, 0.95, 1.05, equal temperatures: both methods
      {head + "0.5*sz(q1) + 0.55*sz(q2) + 0.475*sz(q3) + 0.525*sz(q4) + " + hopping("0.31903443473654408") +
           exchange("b1", "1.6898542351880306", "q1", "{ kind = \"ohmic_exp\", gamma = 0.0057792819659005911, cutoff = 24.292145302506288 }") +
           exchange("b2", "1.6898542351880306", "q4", "{ kind = \"drude\", gamma = 0.0015809637432886692, cutoff = 13.073701021209985 }"),
       {Method::global, Method::redfield}},
  };
  for (const Case& c : cases) {
    const Model m = load_model_from_string(c.toml, "chain");
    for (const Method method : c.methods) {
      GeneratorOptions go;
      go.method = method;
      go.lamb_shift = LambShiftMode::off;
      const Generator g(m, go);
      const Eigen::VectorXd sv = Eigen::BDCSVD<cmat>(g.dense_liouvillian()).singularValues();
      const long n = sv.size();
      ASSERT_LT(sv(n - 2), 1e-13 * sv(0)) << method_name(method) << ": the reference kernel is not two-dimensional";
      ASSERT_GT(sv(n - 3), 1e-5 * sv(0)) << method_name(method);
      const Solution s = qheat::solve(m, method, LambShiftMode::off);
      EXPECT_EQ(s.status, SteadyStatus::not_unique) << method_name(method);
    }
  }
  EXPECT_EQ(qheat::solve(load_model_from_string(cases[0].toml, "chain"), Method::redfield, LambShiftMode::off).status,
            SteadyStatus::not_unique);
}
