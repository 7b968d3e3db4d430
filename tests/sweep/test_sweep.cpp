// Sweeps: grid syntax, rows equal to independent `solve` calls, work reuse that changes nothing,
// failed points as rows, and --jobs N giving the same bytes as --jobs 1.
#include <gtest/gtest.h>

#include <cmath>
#include <mutex>
#include <string>

#include "../cli_support.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/sweep/sweep.hpp"

namespace qheat {
namespace {

const std::string kZhang = std::string(QHEAT_SOURCE_DIR) + "/examples/zhang2025/two_qubits.toml";

TEST(Sweep, ParsesLinearLogAndListAxes) {
  const SweepAxis lin = parse_vary("T1=5:10:6");
  EXPECT_EQ(lin.name, "T1");
  ASSERT_EQ(lin.values.size(), 6u);
  // 5 + k exactly: the grid is numpy.linspace's a + k (b - a)/(n - 1), exact in binary for these values.
  for (int k = 0; k < 6; ++k) EXPECT_EQ(lin.values[k], 5.0 + k);
  // ... and 60 exactly at k = 11 of 5:205:41, where a + (k/(n-1)) (b - a) gave 60.000000000000007.
  EXPECT_EQ(parse_vary("T1=5:205:41").values[11], 60.0);
  const SweepAxis lg = parse_vary("g=log:1e-3:1e1:5");
  ASSERT_EQ(lg.values.size(), 5u);
  // 10^(k step + log10 a) as numpy.logspace: pow's rounding, within 2 ulps of each decade value.
  for (int k = 0; k < 5; ++k) EXPECT_NEAR(lg.values[k], std::pow(10.0, k - 3), 4.5e-16 * std::pow(10.0, k - 3));
  EXPECT_EQ(lg.values.front(), 1e-3);  // end points exact by construction
  EXPECT_EQ(lg.values.back(), 10.0);
  const SweepAxis list = parse_vary("eps1 = 1, 2*pi, 0.5");
  EXPECT_EQ(list.name, "eps1");
  ASSERT_EQ(list.values.size(), 3u);
  EXPECT_DOUBLE_EQ(list.values[1], 2 * M_PI);
  EXPECT_EQ(parse_vary("x=3:7:1").values, std::vector<double>{3.0});
}

TEST(Sweep, RejectsMalformedAxesWithTheRule) {
  for (const char* bad : {"T1", "=1:2:3", "T1=1:2", "T1=1:2:0", "T1=1:2:2.5", "T1=log:0:1:3", "T1=a:2:3",
                          "T1=1,,2", "T1=1:2:1e9", "1x=1:2:3", "T1=1:inf:2", "T1=1:2:3:4"}) {
    try {
      (void)parse_vary(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.rule(), "vary-syntax") << bad;
    }
  }
}

TEST(Sweep, RowsEqualIndependentSolvesInGridOrder) {
  const ModelSource src = ModelSource::from_file(kZhang);
  SweepOptions opt;
  opt.methods = {Method::redfield, Method::global};
  const std::vector<SweepAxis> axes{parse_vary("g=0.25,0.5"), parse_vary("T1=5:25:3")};
  const SweepResult r = run_sweep(src, {{"T2", "5"}}, axes, opt);
  ASSERT_EQ(r.rows.size(), 2u * 3u * 2u);
  EXPECT_EQ(r.bath_names, (std::vector<std::string>{"hot", "cold"}));
  std::size_t i = 0;
  for (double g : {0.25, 0.5})
    for (double T1 : {5.0, 15.0, 25.0})
      for (Method m : {Method::redfield, Method::global}) {
        const SweepRow& row = r.rows[i++];
        EXPECT_EQ(row.point, (std::vector<double>{g, T1}));
        EXPECT_EQ(row.method, m);
        const Model model = load_model(kZhang, {{"T2", "5"}, {"g", std::to_string(g)}, {"T1", std::to_string(T1)}});
        const Solution ref = solve(model, m);
        // The sweep reuses eigen-decompositions and Gamma values; reuse returns the very same numbers.
        ASSERT_EQ(row.solution.thermo.currents.size(), 2u);
        for (int b = 0; b < 2; ++b) EXPECT_EQ(row.solution.thermo.currents[b], ref.thermo.currents[b]);
      }
}

TEST(Sweep, ReuseAcrossTemperaturesIsExact) {
  // Only T1 changes: the eigen-decomposition is reused at every point after the first, and the cold
  // bath's Gamma values too; the result must be bitwise that of a fresh build.
  const ModelSource src = ModelSource::from_file(kZhang);
  SolveWorkspace ws;
  for (double T1 : {5.0, 6.0, 7.0}) {
    const Model m = src.instantiate({{"T1", std::to_string(T1)}});
    const Solution a = solve(m, Method::redfield, LambShiftMode::automatic, &ws);
    const Solution b = solve(m, Method::redfield);
    EXPECT_EQ(a.thermo.currents, b.thermo.currents);
    EXPECT_EQ(*a.rho, *b.rho);
  }
  EXPECT_EQ(ws.generator.eigen_reused, 2u);
  EXPECT_GT(ws.generator.gamma_reused, 0u);
}

TEST(Sweep, FailedPointIsARowNotAnAbort) {
  const ModelSource src = ModelSource::from_file(kZhang);
  SweepOptions opt;
  opt.methods = {Method::redfield};
  // T1 = -1 breaks the rule T >= 0 at one point only.
  const SweepResult r = run_sweep(src, {}, {parse_vary("T1=5,-1,7")}, opt);
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0].status, "converged");
  EXPECT_EQ(r.rows[1].status, "error");
  EXPECT_FALSE(r.rows[1].error.empty());
  EXPECT_EQ(r.rows[2].status, "converged");
  // A method whose precondition fails (dme needs a drive) is an error row too.
  opt.methods = {Method::global, Method::ddme};
  const SweepResult r2 = run_sweep(src, {}, {parse_vary("T1=5,6")}, opt);
  EXPECT_EQ(r2.rows[0].status, "converged");
  EXPECT_EQ(r2.rows[1].status, "error");
  EXPECT_EQ(r2.rows[1].error_rule, "method-needs-drive");
}

// Points solved at once share the memory limit (docs/conventions.md, "--max-memory"): with --jobs 2 every
// solve sees half of it, with one job the whole; after the sweep the whole again.
TEST(Sweep, JobsShareTheMemoryLimit) {
  const ModelSource src = ModelSource::from_file(kZhang);
  const std::vector<SweepAxis> axes{parse_vary("T1=5:15:4")};
  const PointModel file_model = file_point_model(src, {}, axes);
  std::mutex mutex;
  std::vector<std::size_t> seen;
  const PointModel model_at = [&](const std::vector<double>& point) {
    const std::lock_guard<std::mutex> lock(mutex);
    seen.push_back(memory_limit());
    return file_model(point);
  };
  set_memory_limit(std::size_t{2} << 30);
  for (int jobs : {2, 1}) {
    seen.clear();
    SweepOptions opt;
    opt.jobs = jobs;
    const SweepResult r = run_sweep(model_at, axes, opt);
    EXPECT_EQ(r.rows.size(), 4u);
    ASSERT_EQ(seen.size(), 4u);
    for (std::size_t limit : seen) EXPECT_EQ(limit, (std::size_t{2} << 30) / static_cast<std::size_t>(jobs)) << jobs;
  }
  EXPECT_EQ(memory_limit(), std::size_t{2} << 30);
  set_memory_limit(0);
}

TEST(Sweep, ObservablesAreSteadyStateExpectations) {
  const ModelSource src = ModelSource::from_file(kZhang);
  SweepOptions opt;
  opt.methods = {Method::redfield};
  opt.observables = {"sz(q1)", "sm(q1)*sm(q2)"};
  const SweepResult r = run_sweep(src, {}, {parse_vary("T1=10")}, opt);
  const Solution& s = r.rows[0].solution;
  const Model m = src.instantiate({{"T1", "10"}});
  const cmat O = model_operator(m, "sz(q1)");
  EXPECT_EQ(r.rows[0].observables[0], (*s.rho * O).trace());
  // <sz> of a density matrix lies in [-1, 1] and is real.
  EXPECT_LE(std::abs(r.rows[0].observables[0].real()), 1.0);
  EXPECT_LT(std::abs(r.rows[0].observables[0].imag()), 1e-12);
}

TEST(SweepCli, JobsTwoGivesByteIdenticalCsv) {
  const auto dir = test::scratch_dir();
  const std::string base = "sweep " + kZhang + " --vary g=0.2:0.6:5 --vary T1=5:45:9 --method redfield,local --quiet";
  const auto one = test::run_cli(base + " --jobs 1 --out " + (dir / "one.csv").string());
  const auto two = test::run_cli(base + " --jobs 2 --out " + (dir / "two.csv").string());
  ASSERT_EQ(one.code, 0) << one.err;
  ASSERT_EQ(two.code, 0) << two.err;
  const std::string a = test::slurp((dir / "one.csv").string()), b = test::slurp((dir / "two.csv").string());
  EXPECT_EQ(a, b);
  // 45 points x 2 methods, a header line and four comment lines.
  EXPECT_EQ(std::count(a.begin(), a.end(), '\n'), 90 + 1 + 4);
  EXPECT_NE(a.find("g,T1,method,lamb_shift,status,J_hot,J_cold,drive_power"), std::string::npos);
}

TEST(SweepCli, BadArgumentsGiveOneClearError) {
  struct Case {
    std::string args, rule;
  };
  for (const Case& c : std::vector<Case>{{"--vary nope=1:2:3", "unknown-parameter"},
                                         {"--vary T1=1:2", "vary-syntax"},
                                         {"--vary T1=1:2:3 --set T2", "set-syntax"},
                                         {"--vary T1=1:2:3 --method nope", "unknown-method"},
                                         {"--vary T1=1:2:3 --vary T1=4,5", "vary-duplicate"},
                                         // The grid's values would replace the --set one, which the CSV title shows.
                                         {"--set T1=7 --vary T1=1:2:3", "vary-duplicate"},
                                         // Twice the rows of one method; twice the columns of one observable.
                                         {"--vary T1=1:2:3 --method global,redfield,global", "sweep-methods"},
                                         {"--vary T1=1:2:3 --observable 'sz(q1)' --observable 'sz(q1)'", "sweep-observables"},
                                         {"--vary T1=1:2:3 --jobs 0", "jobs"}}) {
    const auto r = test::run_cli("sweep " + kZhang + " " + c.args + " --quiet");
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("qheat: error [" + c.rule + "]", 0), 0u) << c.args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(SweepCli, PlotWritesPngAndSvg) {
  const auto dir = test::scratch_dir();
  const std::string csv = (dir / "s.csv").string();
  const auto r = test::run_cli("sweep " + kZhang + " --vary T1=5:25:5 --method redfield,local --quiet --out " + csv +
                               " --plot " + (dir / "s.png").string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto r2 = test::run_cli("plot " + csv + " --out " + (dir / "s.svg").string());
  ASSERT_EQ(r2.code, 0) << r2.err;
  const std::string png = test::slurp((dir / "s.png").string()), svg = test::slurp((dir / "s.svg").string());
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  // The script's errors are the command line's one line with exit code 2.
  const auto bad = test::run_cli("plot " + csv + " --out x.pdf");
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(bad.err.rfind("qheat: error [plot-format]: ", 0), 0u) << bad.err;
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  const auto badcol = test::run_cli("plot " + csv + " --y nope --out " + (dir / "t.png").string());
  EXPECT_EQ(badcol.code, 2);
  EXPECT_EQ(badcol.err.rfind("qheat: error [plot-column]: no column 'nope'", 0), 0u) << badcol.err;
  EXPECT_EQ(std::count(badcol.err.begin(), badcol.err.end(), '\n'), 1) << badcol.err;
}

}  // namespace
// The rate and the ETA of a progress line count the rows of this run: a resumed sweep with 48 of 60 rows in
// its journal that solved 6 more in 2.4 s goes at 2.5 rows/s and has 2.4 s left (it said 22.5 rows/s, ETA 0.3 s).
TEST(Sweep, ProgressRateCountsTheRowsOfThisRun) {
  const std::string resumed = progress_text(54, 60, 2.4, 48);
  EXPECT_NE(resumed.find("54/60 rows  2.5 rows/s  2.4 s elapsed, ETA 2.4 s"), std::string::npos) << resumed;
  const std::string fresh = progress_text(6, 60, 2.4);
  EXPECT_NE(fresh.find("6/60 rows  2.5 rows/s  2.4 s elapsed, ETA 21.6 s"), std::string::npos) << fresh;
}

}  // namespace qheat
