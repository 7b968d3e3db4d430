// `qheat response`: the JSON contract of conventions.md and one clear error for bad input.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../cli_support.hpp"

namespace {

const std::string kLevy = std::string(QHEAT_SOURCE_DIR) + "/examples/levy/two_qubits.toml";

TEST(ResponseCli, JsonContractInBothRegimes) {
  const auto r = qheat::test::run_cli("response " + kLevy + " --perturbation V_xy --observable 'sz(A)' --times 0:5:6");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["regime"], "eigenvectors");
  for (const char* k : {"kubo", "dissipator", "total"}) {
    EXPECT_TRUE(j["observables"]["sz(A)"][k].is_number()) << k;
    EXPECT_TRUE(j["currents"]["a"][k].is_number()) << k;
    EXPECT_TRUE(j["currents"]["b"][k].is_number()) << k;
  }
  EXPECT_EQ(j["series"]["sz(A)"].size(), 6u);
  EXPECT_EQ(j["times"].size(), 6u);
  // total = kubo + dissipator
  const auto& o = j["observables"]["sz(A)"];
  EXPECT_NEAR(o["total"].get<double>(), o["kubo"].get<double>() + o["dissipator"].get<double>(), 1e-15);

  const auto e = qheat::test::run_cli("response " + kLevy + " --perturbation V_zz --delta-sweep 0,1");
  ASSERT_EQ(e.code, 0) << e.err;
  const auto je = nlohmann::json::parse(e.out);
  EXPECT_EQ(je["regime"], "eigenvalues");
  EXPECT_EQ(je["limit"], "local (nu << 1/tau)");
  EXPECT_TRUE(je["redfield_derivative"]["currents"]["a"].is_number());
  EXPECT_EQ(je["delta_sweep"].size(), 2u);
  EXPECT_NEAR(je["regime_details"]["bohr_splitting_per_delta"].get<double>(), 4.0, 1e-9);
}

TEST(ResponseCli, BadInputIsOneClearError) {
  struct Case {
    std::string args, rule;
  };
  for (const Case& c : std::vector<Case>{{"--perturbation nope_op", "expression"},
                                         {"--perturbation 'sp(A)'", "response-perturbation"},
                                         {"--perturbation V_zz --method local", "response-method"},
                                         {"--perturbation V_zz --times 1:2", "times-syntax"}}) {
    const auto r = qheat::test::run_cli("response " + kLevy + " " + c.args);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("qheat: error [", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(c.rule), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

}  // namespace
