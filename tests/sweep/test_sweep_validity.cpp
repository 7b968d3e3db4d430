// The method-validity map (issue 11, item 4): per-bath relative deviations of every method's currents from a
// reference method at the same grid point (current_deviations, `qheat sweep --reference`), and `qheat plot
// --validity` drawing where each method stays within a tolerance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "../cli_support.hpp"
#include "qheat/sweep/sweep.hpp"

namespace qheat {
namespace {

const std::string kKato = std::string(QHEAT_SOURCE_DIR) + "/examples/kato2016/two_qubits.toml";
const std::string kZhang = std::string(QHEAT_SOURCE_DIR) + "/examples/zhang2025/two_qubits.toml";

// One row of a sweep result with the given currents (empty: a failed row).
SweepRow row_of(Method m, std::vector<double> currents, SteadyStatus status = SteadyStatus::converged) {
  SweepRow r;
  r.method = m;
  r.solution.thermo.currents = std::move(currents);
  r.solution.status = status;
  r.status = r.solution.thermo.currents.empty() ? "error" : status_name(status);
  return r;
}

TEST(SweepValidity, DeviationsAreRelativeToTheReferenceAtTheSamePoint) {
  SweepResult r;
  r.bath_names = {"hot", "cold"};
  r.methods = {Method::redfield, Method::heom, Method::global};
  r.rows = {
      // point 0: everything converged
      row_of(Method::redfield, {1.1, -1.2}), row_of(Method::heom, {1.0, -1.0}), row_of(Method::global, {0.5, -0.5}),
      // point 1: the reference failed
      row_of(Method::redfield, {1.0, -1.0}), row_of(Method::heom, {}), row_of(Method::global, {1.0, -1.0}),
      // point 2: a zero reference current for one bath, a non-converged method
      row_of(Method::redfield, {2.0, -2.0}), row_of(Method::heom, {0.0, -1.0}),
      row_of(Method::global, {1.0, -1.0}, SteadyStatus::not_converged),
      // point 3: the reference is not unique; a failed method
      row_of(Method::redfield, {1.0, -1.0}), row_of(Method::heom, {1.0, -1.0}, SteadyStatus::not_unique),
      row_of(Method::global, {})};
  const std::vector<RowDeviation> d = current_deviations(r, Method::heom);
  ASSERT_EQ(d.size(), r.rows.size());
  for (const RowDeviation& x : d) ASSERT_EQ(x.baths.size(), 2u);
  EXPECT_EQ(d[0].baths, (std::vector<double>{std::abs(1.1 - 1.0) / 1.0, std::abs(-1.2 + 1.0) / 1.0}));
  EXPECT_EQ(d[0].largest, std::abs(-1.2 + 1.0) / 1.0);
  EXPECT_EQ(d[1].baths, (std::vector<double>{0.0, 0.0}));  // the reference's own row
  EXPECT_EQ(d[1].largest, 0.0);
  EXPECT_EQ(d[2].baths, (std::vector<double>{0.5, 0.5}));
  EXPECT_EQ(d[2].largest, 0.5);
  for (std::size_t i = 3; i < 6; ++i) {  // failed reference: nan everywhere, its own row included
    EXPECT_TRUE(std::isnan(d[i].baths[0]) && std::isnan(d[i].baths[1])) << i;
    EXPECT_TRUE(std::isnan(d[i].largest)) << i;
  }
  // J_hot(ref) = 0: nan for that bath, and the largest is nan (it cannot be bounded).
  EXPECT_TRUE(std::isnan(d[6].baths[0]));
  EXPECT_EQ(d[6].baths[1], 1.0);
  EXPECT_TRUE(std::isnan(d[6].largest));
  EXPECT_TRUE(std::isnan(d[7].baths[0]));
  EXPECT_EQ(d[7].baths[1], 0.0);
  EXPECT_TRUE(std::isnan(d[8].largest));  // not converged: its currents do not count
  for (std::size_t i = 9; i < 12; ++i) EXPECT_TRUE(std::isnan(d[i].largest)) << i;

  // Another reference from the same result.
  const std::vector<RowDeviation> g = current_deviations(r, Method::global);
  EXPECT_EQ(g[0].baths, (std::vector<double>{std::abs(1.1 - 0.5) / 0.5, std::abs(-1.2 + 0.5) / 0.5}));
  EXPECT_EQ(g[2].largest, 0.0);
}

// A reference current within the round-off of the gross energy flows (|J| <= 1e-9 x gross_flow) sets no scale:
// at equal temperatures it is ~1e-17 and every other method's deviation from it came out ~1 (or 1e3).
TEST(SweepValidity, RoundOffReferenceCurrentsGiveNoDeviation) {
  SweepResult r;
  r.bath_names = {"hot", "cold"};
  r.methods = {Method::redfield, Method::global};
  r.rows = {row_of(Method::redfield, {3e-17, -1e-17}), row_of(Method::global, {-2e-17, 4e-17}),
            row_of(Method::redfield, {1.1e-3, -1.1e-3}), row_of(Method::global, {1e-3, -1e-3})};
  for (SweepRow& row : r.rows) row.solution.thermo.gross_flow = 0.5;
  r.rows[3].solution.thermo.currents[1] = -4e-10;  // one bath at 0.8e-9 of the flows: round-off too
  const std::vector<RowDeviation> d = current_deviations(r, Method::global);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(std::isnan(d[i].baths[0]) && std::isnan(d[i].baths[1])) << i;
    EXPECT_TRUE(std::isnan(d[i].largest)) << i;
  }
  EXPECT_NEAR(d[2].baths[0], 0.1, 1e-12);  // 1.1e-3 against 1e-3: well above the round-off
  EXPECT_TRUE(std::isnan(d[2].baths[1]));
  // Without a known scale (gross_flow 0: rows built elsewhere) only an exact zero is excluded, as before.
  for (SweepRow& row : r.rows) row.solution.thermo.gross_flow = 0.0;
  EXPECT_NEAR(current_deviations(r, Method::global)[0].baths[0], 2.5, 1e-12);
}

// At a static point whose baths all have one temperature the exact currents vanish, and a reference's currents are
// its own error (HEOM's truncation residue, 8.6e-9 on README's mine_h.toml at T_h = T_c, where Bloch-Redfield's
// 7.9e-7 then came out as a deviation of 92): no scale, no deviation. A drive (power != 0) or one other temperature
// keeps the deviations.
TEST(SweepValidity, EquilibriumPointsGiveNoDeviation) {
  SweepResult r;
  r.bath_names = {"hot", "cold"};
  r.methods = {Method::redfield, Method::heom};
  r.rows = {row_of(Method::redfield, {7.9e-7, -7.9e-7}), row_of(Method::heom, {8.6e-9, -8.6e-9})};
  for (SweepRow& row : r.rows) row.solution.temperatures = {0.5, 0.5};
  std::vector<RowDeviation> d = current_deviations(r, Method::heom);
  for (const RowDeviation& x : d) EXPECT_TRUE(std::isnan(x.baths[0]) && std::isnan(x.baths[1]) && std::isnan(x.largest));
  r.rows[1].solution.thermo.drive_power = 1e-3;
  EXPECT_NEAR(current_deviations(r, Method::heom)[0].baths[0], 7.9e-7 / 8.6e-9 - 1.0, 1e-9);
  r.rows[1].solution.thermo.drive_power = 0.0;
  r.rows[1].solution.temperatures = {0.5, 0.25};
  EXPECT_NEAR(current_deviations(r, Method::heom)[0].baths[0], 7.9e-7 / 8.6e-9 - 1.0, 1e-9);
}

TEST(SweepValidity, ReferenceMustBeOneOfTheMethods) {
  SweepResult r;
  r.bath_names = {"hot"};
  r.methods = {Method::redfield, Method::global};
  r.rows = {row_of(Method::redfield, {1.0}), row_of(Method::global, {1.0})};
  try {
    (void)current_deviations(r, Method::heom);
    ADD_FAILURE() << "accepted a reference that is not a method of the sweep";
  } catch (const Error& e) {
    EXPECT_EQ(e.rule(), "sweep-reference");
    EXPECT_NE(std::string(e.what()).find("heom"), std::string::npos) << e.what();
  }
  // run_sweep refuses it before solving anything.
  SweepOptions opt;
  opt.methods = {Method::redfield};
  opt.reference = Method::local;
  try {
    (void)run_sweep(ModelSource::from_file(kZhang), {}, {parse_vary("T1=5,6")}, opt);
    ADD_FAILURE() << "run_sweep accepted a reference that is not a method of the sweep";
  } catch (const Error& e) {
    EXPECT_EQ(e.rule(), "sweep-reference");
  }
  // With a valid reference, run_sweep fills one deviation per row.
  opt.methods = {Method::redfield, Method::global};
  opt.reference = Method::redfield;
  const SweepResult s = run_sweep(ModelSource::from_file(kZhang), {}, {parse_vary("T1=6,7")}, opt);
  ASSERT_EQ(s.deviations.size(), s.rows.size());
  EXPECT_EQ(s.reference, Method::redfield);
  EXPECT_EQ(s.deviations[0].largest, 0.0);
  EXPECT_GT(s.deviations[1].largest, 0.0);
}

// CSV lines without the comment lines, split into fields (quoted fields as written by qheat sweep).
std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (c == '"') {
        if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
          f.back() += '"';
          ++i;
        } else {
          quoted = !quoted;
        }
      } else if (c == ',' && !quoted) {
        f.emplace_back();
      } else {
        f.back() += c;
      }
    }
    out.push_back(f);
  }
  return out;
}

double number(const std::string& s) { return s == "nan" ? std::nan("") : std::stod(s); }

TEST(SweepValidityCli, DeviationColumnsFollowFromTheCurrentColumns) {
  const auto dir = test::scratch_dir();
  const std::string base = "sweep " + kKato +
                           " --vary lam=0.01,0.1 --method redfield,heom --heom-depth 3 --heom-terms 1 --quiet";
  const auto with = test::run_cli(base + " --reference heom --out " + (dir / "ref.csv").string());
  ASSERT_EQ(with.code, 0) << with.err;
  const std::string text = test::slurp((dir / "ref.csv").string());
  EXPECT_NE(text.find("\n# reference method: heom;"), std::string::npos) << text;
  const auto rows = csv_rows(text);
  ASSERT_EQ(rows.size(), 1u + 2u * 2u);
  const std::vector<std::string>& h = rows[0];
  auto col = [&](const std::string& name) {
    const auto it = std::find(h.begin(), h.end(), name);
    EXPECT_NE(it, h.end()) << name;
    return static_cast<std::size_t>(it - h.begin());
  };
  // The deviation columns come last but for the error column.
  ASSERT_GE(h.size(), 4u);
  EXPECT_EQ((std::vector<std::string>(h.end() - 4, h.end())),
            (std::vector<std::string>{"dev_left", "dev_right", "deviation", "error"}));
  const std::size_t method = col("method"), status = col("status"), lam = col("lam");
  const std::vector<std::string> baths{"left", "right"};
  for (std::size_t p = 0; p < 2; ++p) {
    const auto& red = rows[1 + 2 * p];
    const auto& heom = rows[2 + 2 * p];
    ASSERT_EQ(red[method], "redfield");
    ASSERT_EQ(heom[method], "heom");
    EXPECT_EQ(red[lam], heom[lam]);
    ASSERT_EQ(red[status], "converged");
    ASSERT_EQ(heom[status], "converged");
    double largest = 0;
    for (const std::string& b : baths) {
      const double j = number(red[col("J_" + b)]), j_ref = number(heom[col("J_" + b)]);
      ASSERT_TRUE(std::isfinite(j) && std::isfinite(j_ref) && j_ref != 0.0);
      // 17 significant digits round-trip, so the CSV's currents give the very same quotient.
      const double expected = std::abs(j - j_ref) / std::abs(j_ref);
      EXPECT_EQ(number(red[col("dev_" + b)]), expected) << "lam = " << red[lam] << ", bath " << b;
      EXPECT_EQ(number(heom[col("dev_" + b)]), 0.0);
      largest = std::max(largest, expected);
    }
    EXPECT_EQ(number(red[col("deviation")]), largest);
    EXPECT_GT(largest, 0.0);
    EXPECT_EQ(number(heom[col("deviation")]), 0.0);
  }

  // Without --reference the CSV is the one of before: the same bytes but for the reference's comment line
  // and the deviation columns.
  const auto without = test::run_cli(base + " --out " + (dir / "plain.csv").string());
  ASSERT_EQ(without.code, 0) << without.err;
  const std::string plain = test::slurp((dir / "plain.csv").string());
  EXPECT_EQ(plain.find("dev_"), std::string::npos);
  EXPECT_EQ(plain.find("deviation"), std::string::npos);
  std::string stripped;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# reference method: ", 0) == 0) continue;
    if (!line.empty() && line[0] != '#') {
      // drop the three fields before the last (error) field
      std::size_t cut = line.size();
      for (int k = 0; k < 4; ++k) cut = line.rfind(',', cut - 1);
      const std::size_t last = line.rfind(',');
      line = line.substr(0, cut) + line.substr(last);
    }
    stripped += line + "\n";
  }
  EXPECT_EQ(stripped, plain);
}

TEST(SweepValidityCli, ReferenceOutsideTheMethodsIsOneError) {
  const auto r = test::run_cli("sweep " + kZhang + " --vary T1=5,6 --method redfield,global --reference local --quiet");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("qheat: error [sweep-reference]: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("'local'"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  const auto bad = test::run_cli("sweep " + kZhang + " --vary T1=5,6 --method redfield --reference nope --quiet");
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(bad.err.rfind("qheat: error [unknown-method]: ", 0), 0u) << bad.err;
}

TEST(SweepValidityCli, PlotDrawsAValidityMapPerMethod) {
  const auto dir = test::scratch_dir();
  const std::string csv = (dir / "map.csv").string();
  const auto s = test::run_cli("sweep " + kZhang +
                               " --vary g=0.05,0.5 --vary T1=5:25:3 --method redfield,global,local --reference redfield"
                               " --quiet --out " + csv);
  ASSERT_EQ(s.code, 0) << s.err;
  const auto m = test::run_cli("plot " + csv + " --validity 0.05 --out " + (dir / "map.png").string());
  ASSERT_EQ(m.code, 0) << m.err;
  const std::string png = test::slurp((dir / "map.png").string());
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
}

TEST(SweepValidityCli, PlotDrawsDeviationCurvesOfAOneParameterSweep) {
  const auto dir = test::scratch_dir();
  const std::string csv = (dir / "curve.csv").string();
  const auto s = test::run_cli("sweep " + kZhang + " --vary T1=5:25:5 --method redfield,local --reference redfield" +
                               " --quiet --out " + csv);
  ASSERT_EQ(s.code, 0) << s.err;
  const auto c = test::run_cli("plot " + csv + " --validity 0.1 --y dev_hot --out " + (dir / "c.svg").string());
  ASSERT_EQ(c.code, 0) << c.err;
  const std::string svg = test::slurp((dir / "c.svg").string());
  EXPECT_NE(svg.find("<svg"), std::string::npos);
}

TEST(SweepValidityCli, PlotValidityRefusesACsvWithoutDeviations) {
  const auto dir = test::scratch_dir();
  const std::string plain = (dir / "plain.csv").string(), with = (dir / "with.csv").string();
  ASSERT_EQ(test::run_cli("sweep " + kZhang + " --vary T1=5,6 --method redfield,local --quiet --out " + plain).code, 0);
  ASSERT_EQ(test::run_cli("sweep " + kZhang + " --vary T1=5,6 --method redfield,local --reference local --quiet --out " +
                          with).code,
            0);
  std::string two_files = with;  // --validity draws one file
  two_files += " --validity 0.05 ";
  two_files += plain;
  struct Case {
    std::string args, rule;
  };
  // The one error line with exit code 2 (no figure is drawn, so matplotlib is not even imported).
  for (const Case& k : std::vector<Case>{{plain + " --validity 0.05", "plot-column"},
                                         {with + " --validity 0.05 --y J_hot", "plot-column"},
                                         {two_files, "plot-input"},
                                         {with + " --validity=-1", "cli-option"},
                                         {with + " --validity abc", "cli-argument"}}) {
    const auto r = test::run_cli("plot " + k.args + " --out " + (dir / "x.png").string());
    EXPECT_EQ(r.code, 2) << k.args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("qheat: error [" + k.rule + "]: ", 0), 0u) << k.args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "x.png"));
}

}  // namespace
}  // namespace qheat
