// Floquet-Markov at scale (issue 10): the extended-space (Sambe) modes and the interaction-picture
// propagator against exact rotating-frame quasienergies (Kong's rotating-wave drives), against the dDME,
// against each other (two independent algorithms) on drives without a rotating frame, truncation
// independence, and the audit of near-degenerate quasienergies.
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <stdexcept>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../support.hpp"
#include "qheat/core/interrupt.hpp"
#include "qheat/core/linalg.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/generators/floquet.hpp"
#include "qheat/run/solve.hpp"

namespace qheat {
namespace {

using namespace qheat::test;
namespace lo = qheat::local_ops;

const std::string kKong = std::string(QHEAT_SOURCE_DIR) + "/examples/kong2026/";
const std::string kBosons = std::string(QHEAT_SOURCE_DIR) + "/examples/bosons/";

double circle(double x, double y, double w) {
  double r = std::fmod(std::abs(x - y), w);
  return std::min(r, w - r);
}

// Largest distance (mod w) from a computed quasienergy to the nearest exact one, and back.
double quasienergy_deviation(const rvec& computed, const rvec& exact, double w) {
  double worst = 0.0;
  for (int pass = 0; pass < 2; ++pass) {
    const rvec& x = pass == 0 ? computed : exact;
    const rvec& y = pass == 0 ? exact : computed;
    for (long i = 0; i < x.size(); ++i) {
      double best = w;
      for (long j = 0; j < y.size(); ++j) best = std::min(best, circle(x(i), y(j), w));
      worst = std::max(worst, best);
    }
  }
  return worst;
}

// Kong's drives raise the excitation number N by one: in the frame e^{-i w N t} the Hamiltonian is the
// static H - w N + V + V^dag (Kong eqs. 2-4), and U(T) = e^{-i H_rot T} because e^{-i w N T} = 1. Its
// eigenvalues folded into [-w/2, w/2) are the exact quasienergies.
// Computed in long double (Eigen's own solver, on the real matrix: all three models are real): a double
// eigensolver would carry eps ||H_rot|| ~ 1e-12 (E ~ 4000 at nmax = 100), as large as what is tested.
rvec rotating_frame_quasienergies(const Model& m, const cmat& N) {
  const cmat& V = m.drive->harmonics.front().V;
  const cmat Hrot = m.hamiltonian - m.drive->frequency * N + V + V.adjoint();
  using LMat = Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>;
  const LMat H = Hrot.real().cast<long double>();
  const Eigen::SelfAdjointEigenSolver<LMat> es(H, Eigen::EigenvaluesOnly);
  const double w = m.drive->frequency;
  rvec folded(H.rows());
  for (long i = 0; i < H.rows(); ++i) {  // fold in long double, then round once
    long double x = std::fmod(es.eigenvalues()(i) + 0.5L * w, static_cast<long double>(w));
    if (x < 0) x += w;
    folded(i) = static_cast<double>(x - 0.5L * w);
  }
  return folded;
}

cmat excitation_number(const Model& m, const std::string& file) {
  if (file == "kerr.toml") return m.space.embed(0, lo::number(m.space.subsystems()[0].nmax));
  cmat N = cmat::Zero(m.hamiltonian.rows(), m.hamiltonian.cols());
  const cmat n1 = lo::sigma_plus() * lo::sigma_minus();
  for (int s = 0; s < static_cast<int>(m.space.subsystems().size()); ++s) N += m.space.embed(s, n1);
  return N;
}

// The three Kong models: quasienergies equal the rotating-frame energies to 1e-10 w_d (the issue's
// requirement; measured ~1e-12 for the Kerr resonator, set by the eigensolver's round-off on levels up
// to E ~ 4000 at nmax = 100), and the error estimate reported covers the actual deviation.
TEST(FloquetScale, KongQuasienergiesAreTheRotatingFrameEnergies) {
  struct Case {
    std::string file;
    std::string nmax;
  };
  const Case cases[] = {{"nesb.toml", ""}, {"coupled_qubits.toml", ""}, {"kerr.toml", "30"}, {"kerr.toml", "60"},
                        {"kerr.toml", "100"}};
  for (const Case& c : cases) {
    std::vector<Override> ov;
    if (!c.nmax.empty()) ov.push_back({"nmax", c.nmax});
    const Model m = load_model(kKong + c.file, ov);
    const double w = m.drive->frequency;
    const FloquetResult f = floquet_steady_state(m);
    ASSERT_EQ(f.solver, "sambe") << c.file;
    const double dev = quasienergy_deviation(f.quasienergies, rotating_frame_quasienergies(m, excitation_number(m, c.file)), w);
    EXPECT_LT(dev, 1e-10 * w) << c.file << " nmax=" << c.nmax;
    EXPECT_LT(f.quasienergy_error, 1e-10 * w) << c.file;
    // The estimate bounds the actual error (up to the exact values' own round-off, 1e-13 w).
    EXPECT_LE(dev, f.quasienergy_error + 1e-13 * w) << c.file << " nmax=" << c.nmax;
    std::printf("%s nmax=%s: quasienergy deviation %.2e w_d, estimate %.2e w_d, M = %d\n", c.file.c_str(),
                c.nmax.c_str(), dev / w, f.quasienergy_error / w, f.sambe_harmonics);
  }
}

// The time-domain propagator in H0's eigenbasis on the same exact problem (Kong Kerr, nmax = 30): 1e-10 w_d as
// well. (Left to choose, the propagator steps this sparse model in its own basis: the test of that basis is
// ModelBasisPropagatorIsExactToToleranceAndFourthOrder below.)
TEST(FloquetScale, PropagatorQuasienergiesAreTheRotatingFrameEnergies) {
  const Model m = load_model(kKong + "kerr.toml", {{"nmax", "30"}});
  const double w = m.drive->frequency;
  FloquetOptions o;
  o.solver = FloquetSolver::propagator;
  o.propagator_basis = PropagatorBasis::eigenbasis;
  const FloquetResult f = floquet_steady_state(m, o);
  ASSERT_EQ(f.solver, "propagator");
  ASSERT_EQ(f.propagator_basis, "eigenbasis");
  const double dev = quasienergy_deviation(f.quasienergies, rotating_frame_quasienergies(m, excitation_number(m, "kerr.toml")), w);
  EXPECT_LT(dev, 1e-10 * w);
  // Richardson's estimate is of the right size: within a factor 10 of the deviation or below 1e-10 w.
  EXPECT_LT(f.quasienergy_error, 1e-10 * w);
  EXPECT_LT(dev, 10.0 * f.quasienergy_error + 1e-13 * w);
  std::printf("propagator, Kong Kerr nmax=30: %d steps, deviation %.2e w_d, estimate %.2e w_d\n", f.steps_per_period,
              dev / w, f.quasienergy_error / w);
}

// Kong's central identity at the sizes of issue 10: the FME currents equal the dDME's to 1e-8 relative
// at nmax = 30, 60, 100 (both converged in the truncation, KerrTruncation below).
TEST(FloquetScale, KongKerrFloquetEqualsDrivenDressed) {
  for (const char* nmax : {"30", "60", "100"}) {
    const Model m = load_model(kKong + "kerr.toml", {{"nmax", nmax}});
    const FloquetResult f = floquet_steady_state(m);
    // The library's solve (the structured dDME of issue 9), not the dense reference engine of support.hpp.
    const Solution d = qheat::solve(m, Method::ddme, LambShiftMode::off);
    ASSERT_EQ(f.status, SteadyStatus::converged);
    double scale = 0.0;
    for (double j : d.thermo.currents) scale = std::max(scale, std::abs(j));
    for (std::size_t k = 0; k < 2; ++k)
      EXPECT_NEAR(f.currents[k], d.thermo.currents[k], 1e-8 * scale) << "nmax=" << nmax;
    EXPECT_NEAR(f.drive_power, d.thermo.drive_power, 1e-8 * scale);
  }
}

// Two independent algorithms on drives with no rotating frame: the extended-space eigenproblem and the
// time-stepping propagator give the same currents to 1e-8 relative (each is accurate to ~1e-10 in the
// modes; measured differences ~1e-11).
TEST(FloquetScale, SambeAndPropagatorAgreeWithoutRotatingFrame) {
  struct Case {
    std::string file;
    std::vector<Override> ov;
  };
  const Case cases[] = {{kKong + "cosine_qubit.toml", {}},
                        {kKong + "cosine_qubit.toml", {{"eta", "0.6"}, {"omega_d", "0.45"}}},
                        {kBosons + "kerr_x_drive.toml", {{"nmax", "12"}}}};
  for (const Case& c : cases) {
    const Model m = load_model(c.file, c.ov);
    FloquetOptions po;
    po.solver = FloquetSolver::propagator;
    const FloquetResult s = floquet_steady_state(m), p = floquet_steady_state(m, po);
    ASSERT_EQ(s.solver, "sambe");
    ASSERT_EQ(p.solver, "propagator");
    double scale = 0.0;
    for (double j : s.currents) scale = std::max(scale, std::abs(j));
    for (std::size_t k = 0; k < s.currents.size(); ++k)
      EXPECT_NEAR(s.currents[k], p.currents[k], 1e-8 * scale) << c.file;
    EXPECT_NEAR(s.drive_power, p.drive_power, 1e-8 * scale) << c.file;
    EXPECT_LT(quasienergy_deviation(s.quasienergies, p.quasienergies, m.drive->frequency), 1e-10 * m.drive->frequency)
        << c.file;
  }
}

// The propagator converges with its step: doubling the steps moves the currents by < 1e-9 relative.
TEST(FloquetScale, PropagatorConvergesWithStep) {
  const Model m = load_model(kKong + "cosine_qubit.toml", {{"eta", "0.6"}, {"omega_d", "0.45"}});
  FloquetOptions o;
  o.solver = FloquetSolver::propagator;
  const FloquetResult a = floquet_steady_state(m, o);
  o.steps_per_period = 2 * a.steps_per_period;
  const FloquetResult b = floquet_steady_state(m, o);
  ASSERT_EQ(b.steps_per_period, 2 * a.steps_per_period);
  for (std::size_t k = 0; k < 2; ++k) EXPECT_NEAR(a.currents[k], b.currents[k], 1e-9 * std::abs(b.currents[k]));
}

// Truncation: populated levels far below nmax, so the currents do not depend on it (1e-9 relative) and the
// first law holds to 1e-10 of the current (issue 9's requirement for the Floquet side).
TEST(FloquetScale, KerrCurrentsIndependentOfTruncation) {
  struct Case {
    std::string file;
    std::vector<const char*> nmax;
  };
  const Case cases[] = {{kKong + "kerr.toml", {"60", "100", "140"}}, {kBosons + "kerr_x_drive.toml", {"30", "50"}}};
  for (const Case& c : cases) {
    std::vector<double> first;
    for (const char* n : c.nmax) {
      const FloquetResult f = floquet_steady_state(load_model(c.file, {{"nmax", n}}));
      ASSERT_EQ(f.status, SteadyStatus::converged) << c.file << " nmax=" << n;
      const double J = std::abs(f.currents[0]);
      double sum = f.drive_power;
      for (double j : f.currents) sum += j;
      EXPECT_LT(std::abs(sum), 1e-10 * J);
      if (first.empty()) first = f.currents;
      for (std::size_t k = 0; k < first.size(); ++k)
        EXPECT_NEAR(f.currents[k], first[k], 1e-9 * std::abs(first[k])) << c.file << " nmax=" << n;
    }
  }
}

// Two identical, uncoupled, identically driven qubits: the Floquet states |01> and |10> are exactly
// degenerate; the audit names the pair.
TEST(FloquetScale, DegenerateQuasienergiesAreNamed) {
  const Space sp = qubits(2);
  const cmat H = op(sp, "q1", 0.5 * lo::sigma_z()) + op(sp, "q2", 0.5 * lo::sigma_z());
  Model m = model(sp, H,
                  {bath(sp, "hot", 1.0, CouplingKind::hermitian, "q1", lo::sigma_x(), drude(0.01, 5.0)),
                   bath(sp, "cold", 0.5, CouplingKind::hermitian, "q2", lo::sigma_x(), drude(0.01, 5.0))});
  m.drive = Drive{0.7, {DriveHarmonic{1, 0.05 * (op(sp, "q1", lo::sigma_x()) + op(sp, "q2", lo::sigma_x()))}}};
  const FloquetResult f = floquet_steady_state(m);
  ASSERT_FALSE(f.near_degenerate.empty());
  const QuasienergyPair& p = f.near_degenerate.front();
  EXPECT_LT(p.splitting, 1e-10);
  EXPECT_NEAR(f.quasienergies(p.a), f.quasienergies(p.b), 1e-10);
}


// examples/chain/xx_chain.toml with its first site driven through sigma_x (0.05, w_d = 0.7): every level of the
// chain is mixed by the drive in H0's eigenbasis, while in the model's basis H0 and the drive are sparse.
Model driven_xx_chain(const std::string& sites) {
  std::ifstream in(std::string(QHEAT_SOURCE_DIR) + "/examples/chain/xx_chain.toml");
  std::stringstream text;
  text << in.rdbuf();
  std::string toml = text.str();
  const auto at = toml.find("[[baths]]");
  if (at == std::string::npos) throw std::runtime_error("xx_chain.toml has no [[baths]]");
  toml.insert(at, "[drive]\nfrequency = \"0.7\"\nharmonics = [ { k = 1, V = \"0.05*sx(q1)\" } ]\n\n");
  return load_model_from_string(toml, "driven xx chain", {{"N", sites}});
}

// A drive that mixes every level gives the extended space no band structure; above 6000 rows it is not
// diagonalised densely and the one-period propagator finds the modes, which the result says with the reason
// (JSON floquet.solver, info diagnostic floquet-propagator). The XX chain of three sites with its first site
// driven, the extended space forced to |q| <= 376: 8 x 753 = 6024 rows. Both solvers find the same modes: the
// propagator's quasienergies are Richardson-converged to 1e-10 w_d; measured, sambe against propagator on this model:
// 1.6e-10 relative in the hot current, 7.5e-11 in the power; 1e-9 leaves a margin.
TEST(FloquetScale, PropagatorTakesOverAboveTheDenseExtendedSpaceAndSaysWhy) {
  const Model m = driven_xx_chain("3");
  SolveOptions o;
  o.state = false;
  const Solution automatic = qheat::solve(m, Method::floquet, o);
  o.floquet.sambe_harmonics = 376;
  const Solution forced = qheat::solve(m, Method::floquet, o);
  ASSERT_TRUE(automatic.floquet.has_value() && forced.floquet.has_value());
  EXPECT_EQ(automatic.floquet->solver, "sambe");
  EXPECT_TRUE(automatic.floquet->solver_fallback.empty());
  EXPECT_EQ(forced.floquet->solver, "propagator");
  EXPECT_NE(forced.floquet->solver_fallback.find("6024 rows"), std::string::npos) << forced.floquet->solver_fallback;
  auto said = [](const Solution& s) {
    return std::any_of(s.thermo.diagnostics.begin(), s.thermo.diagnostics.end(),
                       [](const Diagnostic& d) { return d.code == "floquet-propagator" && d.level == "info"; });
  };
  EXPECT_FALSE(said(automatic));
  EXPECT_TRUE(said(forced));
  ASSERT_EQ(forced.thermo.currents.size(), 2U);
  for (std::size_t k = 0; k < 2; ++k)
    EXPECT_NEAR(forced.thermo.currents[k], automatic.thermo.currents[k], 1e-9 * std::abs(automatic.thermo.currents[k])) << k;
  EXPECT_NEAR(forced.thermo.drive_power, automatic.thermo.drive_power, 1e-9 * std::abs(automatic.thermo.drive_power));
  EXPECT_GT(std::abs(automatic.thermo.drive_power), 1e-6);  // the drive does work (not a trivial zero)
}

// The propagator in the model's basis (sparse H0 and drive, Chebyshev exponentials, commutator-free Magnus
// steps) against the one in H0's eigenbasis (an independent integrator: exact oscillatory integrals, dense
// exponentials) and the extended space, on three models sparse enough for the model basis and small enough
// for the extended space: the sigma_x-driven six-site XX chain with hermitian couplings (d = 64), the
// sigma_+-driven chain of bench/driven_xx_chain.toml with exchange couplings (non-Hermitian channel operators),
// and the Kerr mode under an x drive (no rotating frame; nmax = 40). Each propagator's quasienergies are
// Richardson-converged to 1e-10 w_d, the extended space's to ~1e-14, so the propagators agree within 2e-10 w_d
// and each with the extended space within 1e-10 w_d (measured up to 1.1e-10 w_d between the propagators); the
// modes to ~2e-9 (the model basis's mode error estimate on the chain), so 1e-8 relative on currents and power
// leaves a margin over the differences printed.
TEST(FloquetScale, ModelBasisPropagatorAgreesWithEigenbasisAndExtendedSpace) {
  const std::vector<std::pair<std::string, Model>> cases = {
      {"sx-driven chain N = 6", driven_xx_chain("6")},
      {"sp-driven chain N = 6, exchange", load_model(std::string(QHEAT_SOURCE_DIR) + "/bench/driven_xx_chain.toml", {{"N", "6"}})},
      {"Kerr x drive nmax = 40", load_model(kBosons + "kerr_x_drive.toml", {{"nmax", "40"}})}};
  for (const auto& [name, m] : cases) {
    const double w = m.drive->frequency;
    FloquetOptions o;
    o.solver = FloquetSolver::propagator;
    o.propagator_basis = PropagatorBasis::model;
    const FloquetResult sparse = floquet_steady_state(m, o);
    o.propagator_basis = PropagatorBasis::eigenbasis;
    const FloquetResult dense = floquet_steady_state(m, o);
    const FloquetResult sambe = floquet_steady_state(m);
    ASSERT_EQ(sparse.propagator_basis, "model") << name;
    ASSERT_EQ(dense.propagator_basis, "eigenbasis") << name;
    ASSERT_EQ(sambe.solver, "sambe") << name;
    EXPECT_TRUE(sambe.propagator_basis.empty());
    EXPECT_LT(quasienergy_deviation(sparse.quasienergies, dense.quasienergies, w), 2e-10 * w) << name;
    EXPECT_LT(quasienergy_deviation(sparse.quasienergies, sambe.quasienergies, w), 1e-10 * w) << name;
    double scale = 0.0;
    for (double j : sambe.currents) scale = std::max(scale, std::abs(j));
    for (const FloquetResult* other : {&dense, &sambe}) {
      for (std::size_t k = 0; k < sambe.currents.size(); ++k)
        EXPECT_NEAR(sparse.currents[k], other->currents[k], 1e-8 * scale) << name << " " << k;
      EXPECT_NEAR(sparse.drive_power, other->drive_power, 1e-8 * scale) << name;
    }
    EXPECT_GT(std::abs(sambe.drive_power), 1e-3 * scale) << name;  // the drive does work (not a trivial zero)
    std::printf("%s: model basis %d steps, eigenbasis %d steps; first current: model - eigenbasis %.2e, model - "
                "sambe %.2e (relative)\n",
                name.c_str(), sparse.steps_per_period, dense.steps_per_period, (sparse.currents[0] - dense.currents[0]) / scale,
                (sparse.currents[0] - sambe.currents[0]) / scale);
  }
}

// The model-basis propagator on Kong's Kerr resonator (diagonal H0, one-step ladder drive) against the exact
// rotating-frame quasienergies: 1e-10 w_d, as the eigenbasis propagator above. Its steps are fourth order: with
// the step count fixed, halving the step divides the quasienergy deviation by 2^4 = 16 (measured ratios are
// printed; > 10 separates fourth order from anything lower, for which it would be <= 8).
TEST(FloquetScale, ModelBasisPropagatorIsExactToToleranceAndFourthOrder) {
  const Model m = load_model(kKong + "kerr.toml", {{"nmax", "30"}});
  const double w = m.drive->frequency;
  const rvec exact = rotating_frame_quasienergies(m, excitation_number(m, "kerr.toml"));
  FloquetOptions o;
  o.solver = FloquetSolver::propagator;
  o.propagator_basis = PropagatorBasis::model;
  const FloquetResult f = floquet_steady_state(m, o);
  ASSERT_EQ(f.propagator_basis, "model");
  const double dev = quasienergy_deviation(f.quasienergies, exact, w);
  EXPECT_LT(dev, 1e-10 * w);
  EXPECT_LT(dev, 10.0 * f.quasienergy_error + 1e-13 * w);
  std::vector<double> deviations;
  for (int steps : {64, 128, 256}) {
    o.steps_per_period = steps;
    deviations.push_back(quasienergy_deviation(floquet_steady_state(m, o).quasienergies, exact, w));
  }
  std::printf("model basis, Kong Kerr nmax=30: %d steps, deviation %.2e w_d; fixed 64/128/256 steps: %.2e %.2e %.2e w_d\n",
              f.steps_per_period, dev / w, deviations[0] / w, deviations[1] / w, deviations[2] / w);
  EXPECT_GT(deviations[0] / deviations[1], 10.0);
  EXPECT_GT(deviations[1] / deviations[2], 10.0);
}

// Asked for the model basis where H0 is dense there (a random Hermitian H0): the eigenbasis runs, and says so.
TEST(FloquetScale, ModelBasisNeedsASparseHamiltonian) {
  const Space sp = qubits(2);
  std::mt19937 rng(3);
  Model m = model(sp, test::random_hermitian(4, rng),
                  {bath(sp, "hot", 1.0, CouplingKind::hermitian, "q1", lo::sigma_x(), drude(0.01, 5.0)),
                   bath(sp, "cold", 0.5, CouplingKind::hermitian, "q2", lo::sigma_x(), drude(0.01, 5.0))});
  m.drive = Drive{0.7, {DriveHarmonic{1, 0.05 * op(sp, "q1", lo::sigma_x())}}};
  FloquetOptions o;
  o.solver = FloquetSolver::propagator;
  o.propagator_basis = PropagatorBasis::model;
  EXPECT_EQ(floquet_steady_state(m, o).propagator_basis, "eigenbasis");
}

// Both propagators poll the interrupt flag (core/interrupt.hpp; Ctrl-C in the Python package) once per step: with
// the flag raised the solve stops with Interrupted (with the propagator asked for, nothing before the
// propagation polls), and runs to the end once it is cleared.
TEST(FloquetScale, PropagatorsStopOnInterrupt) {
  const Model m = load_model(kKong + "kerr.toml", {{"nmax", "30"}});
  FloquetOptions o;
  o.solver = FloquetSolver::propagator;
  for (PropagatorBasis basis : {PropagatorBasis::eigenbasis, PropagatorBasis::model}) {
    o.propagator_basis = basis;
    request_interrupt();
    EXPECT_THROW((void)floquet_steady_state(m, o), Interrupted);
    clear_interrupt();
    EXPECT_EQ(floquet_steady_state(m, o).status, SteadyStatus::converged);
  }
}

// Beyond the memory limit the Floquet solve is refused at once, naming what it estimated (the propagator's
// samples and the Fourier components: 16 d^2 (6 x 2^2 + 8 + 32 x 3) bytes = 8.4 MB for the six-site chain; its
// extended space, grown to 23 harmonics, then asks for 49.6 MiB, so 64 MB lets the whole solve run).
TEST(FloquetScale, MemoryLimitRefusesWithTheEstimate) {
  const Model m = driven_xx_chain("6");
  set_memory_limit(4000000);
  try {
    (void)floquet_steady_state(m);
    ADD_FAILURE() << "8.4 MB passed a 4 MB limit";
  } catch (const MemoryLimitError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("Floquet-Markov propagator and Fourier components (d = 64)"), std::string::npos) << what;
  }
  set_memory_limit(64000000);
  EXPECT_EQ(floquet_steady_state(m).status, SteadyStatus::converged);
  set_memory_limit(0);
}

}  // namespace
}  // namespace qheat
