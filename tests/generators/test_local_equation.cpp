// The local method at scale (src/generators/local_equation.cpp: site basis, sparse, charge blocks,
// matrix-free with the block secular preconditioner) against the dense eigenbasis Generator on random
// small models, the conserved charge of the XXZ chain, non-unique states and the typed errors.
#include <gtest/gtest.h>

#include "../support.hpp"
#include "qheat/core/linalg.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/generators/equation.hpp"
#include "qheat/run/solve.hpp"

namespace qheat {
// Today's dense-eigenbasis local path (src/generators/eigenbasis_equation.cpp), the reference for chains
// too large for the explicit Liouvillian of steady_state(Generator).
std::unique_ptr<MasterEquation> make_eigenbasis_equation(const Model& model, const GeneratorOptions& options);
}  // namespace qheat

using namespace qheat;
using namespace qheat::test;

namespace {

cmat lowering(int dim) {
  cmat a = cmat::Zero(dim, dim);
  for (int n = 1; n < dim; ++n) a(n - 1, n) = std::sqrt(static_cast<double>(n));
  return a;
}

struct Case {
  std::string name;
  Model model;
  bool lamb_shift = true;  // whether the Lamb shift is finite (else only `off` is compared)
};

// Random small models: random H on qubits or a qubit and a 3-level system, hot and cold baths of both
// coupling kinds, local spectra degenerate or not, a bath on two sites; Drude baths (finite Lamb shift,
// and rates at zero frequency for the degenerate spectra). An exchange operator's zero-frequency
// component of a degenerate local spectrum is not normal: its split Lamb shifts diverge with an ohmic
// onset (the error test below), so that case runs with the Lamb shift off only.
std::vector<Case> random_cases() {
  std::vector<Case> out;
  std::mt19937 rng(2024);
  for (CouplingKind kind : {CouplingKind::hermitian, CouplingKind::exchange}) {
    const bool herm = kind == CouplingKind::hermitian;
    const cmat S = herm ? local_ops::sigma_x() : local_ops::sigma_minus();
    const SpectralDensity J = drude(0.05, 20.0);
    const std::string k = herm ? "hermitian" : "exchange";
    for (int nq : {2, 3}) {
      const Space sp = qubits(nq);
      out.push_back({k + " random " + std::to_string(nq) + " qubits",
                     model(sp, random_hermitian(sp.dim(), rng),
                           {bath(sp, "hot", 2.0, kind, "q1", S, J),
                            bath(sp, "cold", 0.5, kind, "q" + std::to_string(nq), S, J)})});
    }
    {
      // Degenerate local spectrum on q1: H has no term acting on q1 alone, so H_loc = 0 there and every
      // Bohr component of the bath's operator is at zero frequency.
      const Space sp = qubits(3);
      const cmat xx = op(sp, "q1", local_ops::sigma_x()) * op(sp, "q2", local_ops::sigma_x());
      const cmat yy = op(sp, "q1", local_ops::sigma_y()) * op(sp, "q2", local_ops::sigma_y());
      const cmat H = 0.4 * (xx + yy) + 0.3 * op(sp, "q1", local_ops::sigma_z()) * op(sp, "q2", local_ops::sigma_z()) +
                     op(sp, "q2", local_ops::sigma_z()) + 1.3 * op(sp, "q3", local_ops::sigma_z()) +
                     0.2 * op(sp, "q2", local_ops::sigma_x()) * op(sp, "q3", local_ops::sigma_x());
      out.push_back({k + " degenerate local spectrum",
                     model(sp, H, {bath(sp, "hot", 2.0, kind, "q1", S, J), bath(sp, "cold", 0.5, kind, "q3", S, J)}),
                     herm});
    }
    {
      // A qubit and a 3-level system with two degenerate local levels (Bohr frequencies cluster).
      const Space sp({make_qubit("q"), make_level("l", 3)});
      const cmat Hl = (cmat(3, 3) << 0, 0, 0, 0, 1.1, 0, 0, 0, 1.1).finished();
      const cmat H = 0.9 * op(sp, "q", local_ops::sigma_z()) + op(sp, "l", Hl) + 0.1 * random_hermitian(sp.dim(), rng);
      const cmat Xl = herm ? random_hermitian(3, rng) : lowering(3);
      Bath b1 = bath(sp, "hot", 3.0, kind, "l", Xl, J);
      out.push_back({k + " qubit and 3-level", model(sp, H, {b1, bath(sp, "cold", 0.7, kind, "q", S, J)})});
    }
    {
      // One bath on two sites: sigma_- of both (or sigma_x of both) with the pair's local Hamiltonian.
      const Space sp = qubits(3);
      const cmat H = random_hermitian(sp.dim(), rng);
      Bath pair = bath(sp, "hot", 2.0, kind, "q1", S, J);
      pair.op = op(sp, "q1", S) + op(sp, "q2", S);
      pair.sites = {0, 1};
      out.push_back({k + " two-site bath", model(sp, H, {pair, bath(sp, "cold", 0.5, kind, "q3", S, J)})});
    }
  }
  return out;
}

struct Compared {
  double currents = 0.0, bare = 0.0, state = 0.0;  // relative differences
  Solution solution;
};

// The new path through qheat::solve against the dense eigenbasis Generator (today's local path) with
// its direct solver: currents and bare currents relative to the gross energy flow (largest rate x
// energy span: a current is a difference of such flows, so that is its round-off scale, as in the
// audit), the site-basis state relative to its largest element.
Compared compare(const Model& m, LambShiftMode ls, bool force_gmres) {
  GeneratorOptions go;
  go.method = Method::local;
  go.lamb_shift = ls;
  const Generator g(m, go);
  const SteadyStateResult ss = steady_state(g);
  const Thermodynamics th = thermodynamics(g, ss);
  const cmat rho = g.basis().from_eigen(ss.rho);

  SolveOptions so;
  so.lamb_shift = ls;
  if (force_gmres) so.steady.dense_max_problem = 0;
  Compared c;
  c.solution = solve(m, Method::local, so);
  const Solution& s = c.solution;
  EXPECT_EQ(ss.status, SteadyStatus::converged);
  EXPECT_EQ(s.status, SteadyStatus::converged);
  EXPECT_EQ(s.solver, force_gmres ? "gmres" : "dense-lu");
  if (s.thermo.currents.size() != th.currents.size() || !s.rho) {
    ADD_FAILURE() << "no currents or state";
    return c;
  }
  const rvec& E = g.basis().energies;
  double scale = g.largest_rate() * (E.maxCoeff() - E.minCoeff());
  for (double j : th.currents) scale = std::max(scale, std::abs(j));
  for (std::size_t a = 0; a < th.currents.size(); ++a) {
    c.currents = std::max(c.currents, std::abs(s.thermo.currents[a] - th.currents[a]) / scale);
    c.bare = std::max(c.bare, std::abs(s.thermo.bare_currents[a] - th.bare_currents[a]) / scale);
  }
  c.state = (*s.rho - rho).cwiseAbs().maxCoeff() / rho.cwiseAbs().maxCoeff();
  return c;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

Model xxz(int N, const std::vector<Override>& more = {}) {
  std::vector<Override> o{{"N", std::to_string(N)}};
  o.insert(o.end(), more.begin(), more.end());
  return load_model(std::string(QHEAT_SOURCE_DIR) + "/examples/chain/xxz_chain.toml", o);
}

}  // namespace

TEST(LocalEquation, EqualsDenseLocalGeneratorOnRandomModels) {
  for (const Case& c : random_cases())
    for (LambShiftMode ls : {LambShiftMode::off, LambShiftMode::on}) {
      if (ls == LambShiftMode::on && !c.lamb_shift) continue;
      SCOPED_TRACE(c.name + (ls == LambShiftMode::on ? ", Lamb shift on" : ", Lamb shift off"));
      // Direct solves on both sides (dense LU of the sector here; dense or sparse LU of the eigenbasis
      // Liouvillian there): they differ only by round-off of the basis changes and of the rates at
      // cluster means, amplified by the condition of the problems (<= 1e3 here): 1e-12.
      const Compared direct = compare(c.model, ls, false);
      EXPECT_LE(direct.currents, 1e-12);
      EXPECT_LE(direct.bare, 1e-12);
      EXPECT_LE(direct.state, 1e-12);
      // GMRES stops at a relative residual of 1e-12 of the bordered system; times the condition: 1e-9.
      const Compared gm = compare(c.model, ls, true);
      EXPECT_LE(gm.currents, 1e-9);
      EXPECT_LE(gm.bare, 1e-9);
      EXPECT_LE(gm.state, 1e-9);
      EXPECT_GT(gm.solution.iterations, 0);
      // Random H conserves no charge; the degenerate-spectrum chain's sx sx bonds conserve the parity of the
      // excitation number, and its jumps (sigma_-, sigma_+ components) shift it by fixed amounts: two blocks,
      // and the agreement above shows that nothing outside them was needed.
      if (contains(c.name, "degenerate")) {
        EXPECT_TRUE(contains(gm.solution.structure, "2 charge blocks (excitation number mod 2")) << gm.solution.structure;
      } else {
        EXPECT_TRUE(contains(gm.solution.structure, "no conserved charge")) << gm.solution.structure;
      }
    }
}

TEST(LocalEquation, LambShiftChangesTheState) {
  // Guards the comparison above against a Lamb shift that is silently zero.
  const Case c = random_cases().front();
  const Compared on = compare(c.model, LambShiftMode::on, false), off = compare(c.model, LambShiftMode::off, false);
  EXPECT_TRUE(on.solution.lamb_shift);
  EXPECT_FALSE(off.solution.lamb_shift);
  EXPECT_GT((*on.solution.rho - *off.solution.rho).cwiseAbs().maxCoeff(), 1e-6);
}

TEST(LocalEquation, ChargeBlocksOfTheXXZChain) {
  // Total excitation number is conserved by the XXZ chain and shifted by +-1 by every sigma_-/sigma_+
  // jump: N + 1 blocks, the largest C(N, N/2).
  const Model m = xxz(4, {{"J", "0.7"}, {"gamma", "0.3"}});
  const Compared direct = compare(m, LambShiftMode::off, false);
  EXPECT_EQ(direct.solution.structure, "site basis, sparse, 5 charge blocks (largest 6), matrix-free");
  // Direct on both sides (dense LU of 70 unknowns, sparse LU of 256): round-off, 1e-12 (as above).
  EXPECT_LE(direct.currents, 1e-12);
  EXPECT_LE(direct.bare, 1e-12);
  EXPECT_LE(direct.state, 1e-12);
  const Compared gm = compare(m, LambShiftMode::off, true);  // GMRES: 1e-9 (as above)
  EXPECT_LE(gm.currents, 1e-9);
  EXPECT_LE(gm.state, 1e-9);

  // A sigma_x field on q2 breaks the charge: one block of the whole space, same agreement.
  Model broken = m;
  broken.hamiltonian += 0.3 * broken.space.embed(broken.space.index("q2"), local_ops::sigma_x());
  const Compared bd = compare(broken, LambShiftMode::off, false);
  EXPECT_EQ(bd.solution.structure, "site basis, sparse, no conserved charge (one block of 16), matrix-free");
  EXPECT_LE(bd.currents, 1e-12);
  EXPECT_LE(bd.state, 1e-12);
  const Compared bg = compare(broken, LambShiftMode::off, true);
  EXPECT_LE(bg.currents, 1e-9);
  EXPECT_LE(bg.state, 1e-9);
}

TEST(LocalEquation, ChargeOfBosonsSpinsAndHermitianCouplings) {
  // A mode (n <= 3) and a spin 1 exchanging quanta (a S+ + a^dag S-): Q = n + m + j in 0..5 is conserved; exchange
  // baths on both. Then a qubit chain with hermitian sigma_x baths and a Drude Lamb shift: each bath's
  // sigma_x splits into sigma_-(+h) and sigma_+(-h), which shift the charge by -1 and +1.
  const Space sp({make_boson("a", 3), make_spin("s", 1.0)});
  const cmat a = op(sp, "a", local_ops::annihilation(3)), Sp = op(sp, "s", local_ops::spin_plus(1.0));
  const cmat H = 1.1 * a.adjoint() * a + 0.9 * op(sp, "s", local_ops::spin_z(1.0)) + 0.15 * (a * Sp + (a * Sp).adjoint());
  Bath mode = bath(sp, "hot", 1.5, CouplingKind::exchange, "a", local_ops::annihilation(3), drude(0.05, 20.0));
  Bath spin = bath(sp, "cold", 0.4, CouplingKind::exchange, "s", local_ops::spin_minus(1.0), drude(0.05, 20.0));
  const Space chain = qubits(4);
  cmat Hc = cmat::Zero(chain.dim(), chain.dim());
  for (int k = 1; k <= 4; ++k) Hc += (0.8 + 0.1 * k) * op(chain, "q" + std::to_string(k), local_ops::sigma_z());
  for (int k = 1; k < 4; ++k) {
    const cmat pm = op(chain, "q" + std::to_string(k), local_ops::sigma_plus()) *
                    op(chain, "q" + std::to_string(k + 1), local_ops::sigma_minus());
    Hc += 0.3 * (pm + pm.adjoint());
  }
  const std::vector<std::pair<Model, std::string>> cases{
      {model(sp, H, {mode, spin}), "site basis, sparse, 6 charge blocks (largest 3), matrix-free"},
      {model(chain, Hc, {bath(chain, "hot", 2.0, CouplingKind::hermitian, "q1", local_ops::sigma_x(), drude(0.05, 20.0)),
                         bath(chain, "cold", 0.5, CouplingKind::hermitian, "q4", local_ops::sigma_x(), drude(0.05, 20.0))}),
       "site basis, sparse, 5 charge blocks (largest 6), matrix-free"}};
  for (const auto& [m, structure] : cases)
    for (LambShiftMode ls : {LambShiftMode::off, LambShiftMode::on}) {
      SCOPED_TRACE(structure);
      const Compared direct = compare(m, ls, false);  // tolerances as in EqualsDenseLocalGeneratorOnRandomModels
      EXPECT_EQ(direct.solution.structure, structure);
      EXPECT_LE(direct.currents, 1e-12);
      EXPECT_LE(direct.bare, 1e-12);
      EXPECT_LE(direct.state, 1e-12);
      const Compared gm = compare(m, ls, true);
      EXPECT_LE(gm.currents, 1e-9);
      EXPECT_LE(gm.bare, 1e-9);
      EXPECT_LE(gm.state, 1e-9);
    }
}

TEST(LocalEquation, ChargeBlocksAreExactOnALargerChain) {
  // N = 6: GMRES on the 924 unknowns of the charge blocks against GMRES on the 4096 of the eigenbasis
  // equation (the dense local path in solve() before the site-basis one); both stop at a relative
  // residual of 1e-12, so they agree to 1e-9 (as above).
  const Model m = xxz(6, {{"J", "0.5"}});
  GeneratorOptions go;
  go.method = Method::local;
  const auto ref = make_eigenbasis_equation(m, go);
  const LinearSolution<double> ls = solve_steady(ref->steady_problem({}), {});
  ASSERT_EQ(ls.status, SteadyStatus::converged);
  const EquationCurrents J = ref->currents(ls.x);
  const cmat rho = ref->site_state(ls.x);
  const Solution s = qheat::solve(m, Method::local);
  EXPECT_EQ(s.structure, "site basis, sparse, 7 charge blocks (largest 20), matrix-free");
  EXPECT_EQ(s.solver, "gmres");
  ASSERT_TRUE(s.rho.has_value());
  const double scale = std::abs(J.currents[0]);
  for (std::size_t a = 0; a < 2; ++a) {
    EXPECT_LE(std::abs(s.thermo.currents[a] - J.currents[a]), 1e-9 * scale);
    EXPECT_LE(std::abs(s.thermo.bare_currents[a] - J.bare_currents[a]), 1e-9 * scale);
  }
  EXPECT_LE((*s.rho - rho).cwiseAbs().maxCoeff(), 1e-9 * rho.cwiseAbs().maxCoeff());
}

TEST(LocalEquation, NonUniqueSteadyStateIsReported) {
  // q3 touches no bath and no other qubit: any state of q3 is stationary. With a sigma_z field on q3
  // the excitation number is conserved (charge blocks), with a sigma_x field it is not (one block);
  // both by dense LU and by GMRES, whose preconditioner's population block then has two closed classes.
  const Space sp = qubits(3);
  const cmat coupling = op(sp, "q1", local_ops::sigma_plus()) * op(sp, "q2", local_ops::sigma_minus());
  const cmat H12 = op(sp, "q1", local_ops::sigma_z()) + 0.8 * op(sp, "q2", local_ops::sigma_z()) + 0.2 * (coupling + coupling.adjoint());
  for (const cmat& field : {op(sp, "q3", local_ops::sigma_z()), op(sp, "q3", local_ops::sigma_x())}) {
    const Model m = model(sp, H12 + 0.7 * field, {bath(sp, "a", 1.0, CouplingKind::hermitian, "q1", local_ops::sigma_x(), flat(0.1))});
    for (bool gmres : {false, true}) {
      SolveOptions so;
      if (gmres) so.steady.dense_max_problem = 0;
      const Solution s = solve(m, Method::local, so);
      EXPECT_EQ(s.status, SteadyStatus::not_unique) << s.structure << ", " << s.solver;
      ASSERT_FALSE(s.thermo.diagnostics.empty());
      EXPECT_EQ(s.thermo.diagnostics.front().code, "not-unique");
    }
  }
}

TEST(LocalEquation, ScalesOfTheAudit) {
  // XXZ chain: each bath has one Bohr frequency per channel (h and -h): nothing secular to separate.
  // The largest decay rate is that of |up...up>: gamma (1 + n(h, T_hot)) + gamma (1 + n(h, T_cold)).
  const Model m = xxz(5);
  GeneratorOptions go;
  go.method = Method::local;
  const auto eq = make_equation(m, go);
  EXPECT_EQ(eq->smallest_splitting(), std::numeric_limits<double>::infinity());
  const double gamma = 0.1, h = 1.0;
  EXPECT_NEAR(eq->largest_rate(), gamma * (2.0 + bose_n(h, 2.0) + bose_n(h, 0.5)), 1e-14);
  // Gershgorin bounds the spectrum: the span is at least the true one (dense eigenvalues).
  const rvec E = linalg::hermitian_eigenvalues(m.hamiltonian);
  EXPECT_GE(eq->energy_span(), E.maxCoeff() - E.minCoeff() - 1e-12);
  EXPECT_LE(eq->energy_span(), 3.0 * (E.maxCoeff() - E.minCoeff()));

  // A hermitian sigma_x bath on a qubit with splitting 2: components at +2 and -2, splitting 4.
  const Space sp = qubits(2);
  const Model m2 = model(sp, op(sp, "q1", local_ops::sigma_z()) + 0.5 * op(sp, "q2", local_ops::sigma_z()),
                         {bath(sp, "a", 1.0, CouplingKind::hermitian, "q1", local_ops::sigma_x(), flat(0.1))});
  EXPECT_NEAR(make_equation(m2, go)->smallest_splitting(), 4.0, 1e-12);
}

TEST(LocalEquation, ErrorsAreThoseOfTheDensePath) {
  auto rule_of = [](const auto& f) -> std::string {
    try {
      f();
    } catch (const MethodError& e) {
      return e.rule();
    }
    return "";
  };
  const Space sp = qubits(2);
  const cmat H = op(sp, "q1", local_ops::sigma_z()) + op(sp, "q2", local_ops::sigma_z());
  GeneratorOptions go;
  go.method = Method::local;
  // A bath without sites.
  Model m = model(sp, H, {bath(sp, "a", 1.0, CouplingKind::exchange, "q1", local_ops::sigma_minus(), flat(0.1))});
  m.baths[0].sites.clear();
  EXPECT_EQ(rule_of([&] { (void)make_equation(m, go); }), "local-sites");
  EXPECT_EQ(rule_of([&] { (void)Generator(m, go); }), "local-sites");
  // Lamb shift on with a flat spectral density.
  m.baths[0].sites = {0};
  go.lamb_shift = LambShiftMode::on;
  EXPECT_EQ(rule_of([&] { (void)make_equation(m, go); }), "lamb-shift-infinite");
  EXPECT_EQ(rule_of([&] { (void)Generator(m, go); }), "lamb-shift-infinite");
  // Exchange sigma_- on a site without local Hamiltonian: its zero-frequency component is sigma_-
  // itself, not normal, and the split shifts of an ohmic onset at T > 0 diverge.
  const cmat Hint = op(sp, "q1", local_ops::sigma_x()) * op(sp, "q2", local_ops::sigma_x()) + op(sp, "q2", local_ops::sigma_z());
  const Model z = model(sp, Hint, {bath(sp, "a", 1.0, CouplingKind::exchange, "q1", local_ops::sigma_minus(), drude(0.1, 10.0))});
  EXPECT_EQ(rule_of([&] { (void)make_equation(z, go); }), "lamb-shift-infinite");
  EXPECT_EQ(rule_of([&] { (void)Generator(z, go); }), "lamb-shift-infinite");
  // An operator that acts beyond the sites listed for its bath.
  go.lamb_shift = LambShiftMode::off;
  Model wide = m;
  wide.baths[0].op = op(sp, "q1", local_ops::sigma_minus()) * op(sp, "q2", local_ops::sigma_x());
  EXPECT_EQ(rule_of([&] { (void)make_equation(wide, go); }), "local-sites");
}

TEST(LocalEquation, MemoryLimitFailsAtOnceWithTheTypedError) {
  const Model m = xxz(8);
  set_memory_limit(200000);  // 200 kB: less than the sparse operators of 256 levels
  EXPECT_THROW((void)qheat::solve(m, Method::local), MemoryLimitError);
  // Enough for the operators but not for the solve: the plan's estimate fails before the
  // preconditioner and the Krylov basis are allocated.
  set_memory_limit(3000000);
  GeneratorOptions go;
  go.method = Method::local;
  EXPECT_NO_THROW((void)make_equation(m, go));
  EXPECT_THROW((void)qheat::solve(m, Method::local), MemoryLimitError);
  set_memory_limit(0);
  EXPECT_EQ(qheat::solve(m, Method::local).status, SteadyStatus::converged);
}

TEST(LocalEquation, GmresStopsOnThePhysicalResidualScale) {
  // Two coupled modes (Levy et al.) at nmax = 12, Ta = 20, Tb = 21: the fastest rate (a top level's) exceeds the gross
  // jump rate of the state by far, and a tolerance relative to it left the first-law residual at 1e-7 of J and the
  // currents dependent on --threads at 6e-8 (measured). With the gross jump rate as GMRES's residual scale
  // (LinearProblem::residual_scale), J_a + J_b = 0 holds to 1.4e-11 relative (measured); 1e-9 leaves a margin and
  // fails for the former tolerance.
  const Model m = load_model(std::string(QHEAT_SOURCE_DIR) + "/examples/levy/two_oscillators.toml",
                             {{"nmax", "12"}, {"Ta", "20"}, {"Tb", "21"}});
  SolveOptions so;
  so.state = false;
  const Solution s = qheat::solve(m, Method::local, so);
  ASSERT_EQ(s.status, SteadyStatus::converged);
  ASSERT_EQ(s.solver, "gmres");
  const double J = s.thermo.currents[0];
  EXPECT_GT(std::abs(J), 0.1);  // -0.917 when measured
  EXPECT_LE(std::abs(s.thermo.first_law_residual), 1e-9 * std::abs(J));
}

TEST(LocalEquation, JumpGroupsOnTwoThreadsGiveTheOneThreadApply) {
  // Two coupled modes at nmax = 10 (121 levels, one block, ~40 jumps of ~1300 elements): enough work for the
  // apply to split its jumps into one group per thread (half_apply_adjoint), which the workspace estimate counts.
  const Model m = load_model(std::string(QHEAT_SOURCE_DIR) + "/examples/levy/two_oscillators.toml",
                             {{"nmax", "10"}, {"Ta", "20"}, {"Tb", "21"}});
  GeneratorOptions go;
  go.method = Method::local;
  const auto eq = make_equation(m, go);
  const int before = thread_count();
  set_thread_count(1);
  const LinearProblem<double> one = eq->steady_problem({});
  rvec x(one.dim), y1, y2;
  for (long k = 0; k < one.dim; ++k) x(k) = std::sin(0.37 * static_cast<double>(k) + 1.0);
  one.apply(x, y1);
  set_thread_count(2);
  const LinearProblem<double> two = eq->steady_problem({});
  two.apply(x, y2);
  set_thread_count(before);
  EXPECT_GT(two.apply_workspace_bytes, one.apply_workspace_bytes);  // the second group's own Y^dag blocks
  // The same products summed in another order (the second group's Y^dag added at the end): round-off, ~1e-16 of
  // the largest terms; 1e-13 of max |y| leaves a margin and fails for any lost or doubled jump.
  ASSERT_EQ(y1.size(), y2.size());
  EXPECT_LE((y1 - y2).cwiseAbs().maxCoeff(), 1e-13 * y1.cwiseAbs().maxCoeff());
  EXPECT_GT(y1.norm(), 0.0);
}
