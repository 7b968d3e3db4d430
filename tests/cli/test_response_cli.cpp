// `qheat response`: the JSON contract of conventions.md and one clear error for bad input.
#include <gtest/gtest.h>

#include <fstream>

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

TEST(ResponseCli, BeyondTheDenseLimit) {
  // d = 64: the sectors engine; the Bloch-Redfield derivative (four Bloch-Redfield solves) only when asked.
  const std::string chain = std::string(QHEAT_SOURCE_DIR) + "/examples/chain/xx_chain.toml --set N=6";
  const std::string bond = " --perturbation 'J*(sp(q3)*sm(q4) + sm(q3)*sp(q4))' --observable 'sz(q1)'";
  const auto r = qheat::test::run_cli("response " + chain + bond + " --times 0:100:3");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["regime"], "eigenvalues");
  EXPECT_EQ(j["solver"]["engine"], "sectors");
  EXPECT_TRUE(j["solver"]["relaxation_rate_certified"].get<bool>());
  EXPECT_GT(j["regime_details"]["relaxation_rate"].get<double>(), 0.0);
  for (const char* k : {"kubo", "dissipator", "total"}) {
    EXPECT_TRUE(j["observables"]["sz(q1)"][k].is_number()) << k;
    EXPECT_TRUE(j["currents"]["hot"][k].is_number()) << k;
    EXPECT_TRUE(j["entropy_production"][k].is_number()) << k;
  }
  EXPECT_EQ(j["series"]["sz(q1)"].size(), 3u);
  EXPECT_EQ(j["response_functions"]["sz(q1)"].size(), 3u);
  EXPECT_EQ(j["currents_series"]["cold"].size(), 3u);
  EXPECT_EQ(j["entropy_production_series"].size(), 3u);
  EXPECT_FALSE(j.contains("redfield_derivative"));
  EXPECT_NE(j["solver"]["redfield_derivative"].get<std::string>().find("skipped"), std::string::npos);
  const auto f = qheat::test::run_cli("response " + chain + bond + " --redfield-derivative");
  ASSERT_EQ(f.code, 0) << f.err;
  const auto jf = nlohmann::json::parse(f.out);
  EXPECT_TRUE(jf["redfield_derivative"]["currents"]["hot"].is_number());
  EXPECT_TRUE(jf["redfield_derivative"]["observables"]["sz(q1)"].is_number());
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

// Found by an independent cross-check: in the eigenvalue regime the Bloch-Redfield derivative, computed unasked for
// d <= 48, solves Bloch-Redfield at H0 +- h V, where V = sz + sx rotates the eigenbasis and gives sigma- a
// zero-frequency part, whose rate is infinite for these flat baths: the refusal ended the whole command (exit 2, no
// output) although the response itself (the local limit at delta = 0) is defined. Now it is recorded in the field;
// asked for with --redfield-derivative it is the command's error. The current: the cross-check's own numpy build of
// the local limit (rho1 = -L0^+(-i[V, pi0]), J1 = Tr[V D0 pi0] + Tr[H0 D0 rho1]) gave 2.4472847105e-3; tolerance
// 1e-9 relative (its 11 printed digits).
TEST(ResponseCli, ARefusedUnaskedRedfieldDerivativeKeepsTheResponse) {
  const std::string file = (qheat::test::scratch_dir() / "flat.toml").string();
  std::ofstream(file) << "[parameters]\neps = 1.0\ndelta = 0.0\n[sites]\nq = \"qubit\"\n[operators]\nV = \"sz(q) + sx(q)\"\n"
                         "[hamiltonian]\nH = \"0.5*eps*sz(q) + delta*V\"\n"
                         "[[baths]]\nname = \"A\"\ntemperature = 1.0\ncoupling = \"exchange\"\noperator = \"sm(q)\"\n"
                         "spectral = { kind = \"flat\", gamma = 0.01 }\n"
                         "[[baths]]\nname = \"B\"\ntemperature = 0.5\ncoupling = \"exchange\"\noperator = \"sm(q)\"\n"
                         "spectral = { kind = \"flat\", gamma = 0.01 }\n";
  const auto r = qheat::test::run_cli("response " + file + " --perturbation V");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["regime"], "eigenvalues");
  EXPECT_NEAR(j["currents"]["A"]["total"].get<double>(), 2.4472847105e-3, 1e-9 * 2.4472847105e-3);
  EXPECT_EQ(j["redfield_derivative"]["rule"], "zero-frequency-rate");
  EXPECT_FALSE(j["redfield_derivative"].contains("currents"));
  const auto asked = qheat::test::run_cli("response " + file + " --perturbation V --redfield-derivative");
  EXPECT_EQ(asked.code, 2);
  EXPECT_EQ(asked.err.rfind("qheat: error [zero-frequency-rate]", 0), 0u) << asked.err;
}
