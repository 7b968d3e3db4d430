// `qheat gibbs FILE`: the JSON contract of the mean-force Gibbs state and its errors.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "../cli_support.hpp"

namespace {

using GibbsRun = qheat::test::CliRun;
GibbsRun run_gibbs(const std::string& args) { return qheat::test::run_cli("gibbs " + args); }

const std::string kZhang = std::string(QHEAT_SOURCE_DIR) + "/examples/zhang2025/two_qubits.toml";

}  // namespace

TEST(GibbsCli, JsonContractAndObservables) {
  const GibbsRun r = run_gibbs(kZhang + " --set T1=T2 --observable 'sz(q1)' --observable 'sm(q1)*sm(q2)'");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["model"], "zhang2025 two qubits");
  EXPECT_DOUBLE_EQ(j["temperature"].get<double>(), 5.0);
  EXPECT_EQ(j["order"].get<int>(), 2);
  const auto& re = j["rho"]["re"];
  const auto& im = j["rho"]["im"];
  ASSERT_EQ(re.size(), 4U);
  double trace = 0.0;
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(re[i].size(), 4U);
    trace += re[i][i].get<double>();
    for (int k = 0; k < 4; ++k) {  // Hermitian to rounding (entries <= 1)
      EXPECT_NEAR(re[i][k].get<double>(), re[k][i].get<double>(), 1e-15);
      EXPECT_NEAR(im[i][k].get<double>(), -im[k][i].get<double>(), 1e-15);
    }
  }
  EXPECT_NEAR(trace, 1.0, 1e-14);
  // Site basis, q1 most significant, index 0 = up: sz(q1) = diag(1, 1, -1, -1); sm(q1)sm(q2) = |dd><uu|,
  // so Tr[rho sm sm] = rho(uu, dd) = rho[0][3]. Both to the rounding of a 4-term sum.
  const double sz1 = re[0][0].get<double>() + re[1][1].get<double>() - re[2][2].get<double>() - re[3][3].get<double>();
  EXPECT_NEAR(j["observables"]["sz(q1)"]["re"].get<double>(), sz1, 1e-15);
  EXPECT_NEAR(j["observables"]["sz(q1)"]["im"].get<double>(), 0.0, 1e-15);
  EXPECT_NEAR(j["observables"]["sm(q1)*sm(q2)"]["re"].get<double>(), re[0][3].get<double>(), 1e-17);
  // The sigma_x sigma_x coupling (g = 0.5) and the baths give this coherence a nonzero value.
  EXPECT_GT(std::abs(re[0][3].get<double>()), 1e-3);
}

TEST(GibbsCli, OrderZeroIsTheGibbsStateOfHs) {
  // g = 0: the Gibbs state is the product of the qubits' thermal states, diagonal in the site basis.
  const GibbsRun r = run_gibbs(kZhang + " --set T1=T2 --set T2=2 --set g=0 --order 0");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["order"].get<int>(), 0);
  EXPECT_TRUE(j["observables"].empty());
  const double T = 2.0, e1 = 5.0, e2 = 4.0;
  const double p1 = 1.0 / (1.0 + std::exp(e1 / T)), p2 = 1.0 / (1.0 + std::exp(e2 / T));  // P(up)
  const double expect[4] = {p1 * p2, p1 * (1 - p2), (1 - p1) * p2, (1 - p1) * (1 - p2)};
  for (int i = 0; i < 4; ++i)
    for (int k = 0; k < 4; ++k)  // rounding of exp and the normalisation, entries <= 1
      EXPECT_NEAR(j["rho"]["re"][i][k].get<double>(), i == k ? expect[i] : 0.0, 1e-15) << i << "," << k;
}

TEST(GibbsCli, Errors) {
  // The file's default temperatures differ (T1 = 10, T2 = 5): a typed error, exit code 2.
  GibbsRun r = run_gibbs(kZhang);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("mean-force-temperature"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  r = run_gibbs(kZhang + " --set T1=T2 --order 1");  // a command-line error: the same format and exit code
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("qheat: error [cli-option]: --order", 0), 0u) << r.err;
  r = run_gibbs(kZhang + " --set T1=T2 --observable 'sz(q9)'");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("q9"), std::string::npos) << r.err;
  r = run_gibbs(kZhang + " --set T1=T2 --set nope=1");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("nope"), std::string::npos) << r.err;
}

TEST(GibbsCli, ChainWithoutStateThreadsAndMemoryLimit) {
  // An 8-site chain (256 levels, the sector path): --no-state leaves rho out and keeps the observables,
  // --threads 1 and 2 give the same numbers (S(w) once per distinct frequency; products to rounding),
  // and --max-memory below the estimate is refused at once with it.
  const std::string chain = std::string(QHEAT_SOURCE_DIR) + "/examples/chain/xx_chain.toml --set N=8 --set T_hot=1";
  const GibbsRun one = run_gibbs(chain + " --no-state --observable 'sz(q1)' --observable 'sx(q1)*sx(q2)' --threads 1");
  const GibbsRun two = run_gibbs(chain + " --no-state --observable 'sz(q1)' --observable 'sx(q1)*sx(q2)' --threads 2");
  ASSERT_EQ(one.code, 0) << one.err;
  ASSERT_EQ(two.code, 0) << two.err;
  const auto a = nlohmann::json::parse(one.out), b = nlohmann::json::parse(two.out);
  EXPECT_FALSE(a.contains("rho"));
  for (const char* o : {"sz(q1)", "sx(q1)*sx(q2)"})  // expectation values <= 1: rounding of 256-term sums
    EXPECT_NEAR(a["observables"][o]["re"].get<double>(), b["observables"][o]["re"].get<double>(), 1e-14) << o;
  // The flip-flop coupling J = 0.2 correlates neighbours: <sx sx> is not zero.
  EXPECT_GT(std::abs(a["observables"]["sx(q1)*sx(q2)"]["re"].get<double>()), 1e-3);
  const GibbsRun full = run_gibbs(chain + " --observable 'sz(q1)' --threads 2");
  ASSERT_EQ(full.code, 0) << full.err;
  const auto f = nlohmann::json::parse(full.out);
  ASSERT_EQ(f["rho"]["re"].size(), 256U);
  EXPECT_EQ(f["observables"]["sz(q1)"], b["observables"]["sz(q1)"]);  // the same computation
  const GibbsRun tight = run_gibbs(chain + " --max-memory 1M");
  EXPECT_EQ(tight.code, 2);
  EXPECT_EQ(tight.err.rfind("qheat: error [memory-limit]: the mean-force Gibbs state of 256 levels needs an estimated", 0), 0u)
      << tight.err;
  EXPECT_EQ(tight.out, "");
  // A bad observable is refused before the computation: before the memory estimate too.
  const GibbsRun bad = run_gibbs(chain + " --max-memory 1M --observable 'sz(q9)'");
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(bad.err.rfind("qheat: error [expression]: unknown site 'q9'", 0), 0u) << bad.err;
}
