// `qheat ness` end to end: the JSON contract, and one clear error with a non-zero exit code for every
// class of bad input (conventions.md, "Command line and JSON").
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "../cli_support.hpp"

namespace {

using qheat::test::CliRun;
CliRun run(const std::string& args) { return qheat::test::run_cli(args); }

std::string write_model(const std::string& name, const std::string& text) {
  const auto p = qheat::test::scratch_dir() / (name + ".toml");
  std::ofstream(p) << text;
  return p.string();
}

const char* kGood = R"toml(name = "two qubits"
[parameters]
w = 1.0
T = 0.5
[sites]
q1 = "qubit"
q2 = "qubit"
[hamiltonian]
H = "0.5*w*sz(q1) + 0.4*sz(q2) + 0.1*sx(q1)*sx(q2)"
[[baths]]
name = "hot"
temperature = "2*T"
coupling = "hermitian"
operator = "sx(q1)"
spectral = { kind = "drude", gamma = 0.01, cutoff = 10.0 }
[[baths]]
name = "cold"
temperature = "T"
coupling = "hermitian"
operator = "sx(q2)"
spectral = { kind = "drude", gamma = 0.01, cutoff = 10.0 }
)toml";

// Replaces the first occurrence of `from` in the good model.
std::string mutate(const std::string& from, const std::string& to) {
  std::string s = kGood;
  const auto pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

void expect_error(const CliRun& r, const std::string& needle) {
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.code, 3) << "internal error instead of a typed one: " << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr was: " << r.err;
  EXPECT_EQ(r.out, "");
  // One message, not a stack of frames.
  EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 3) << r.err;
}

}  // namespace

TEST(Cli, NessJsonContract) {
  for (const char* method : {"local", "global", "redfield"}) {
    const CliRun r = run("ness " + write_model("good", kGood) + " --method " + method);
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    for (const char* key : {"method", "currents", "drive_power", "entropy_production", "first_law_residual",
                            "diagnostics"})
      EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_EQ(j["method"], method);
    EXPECT_TRUE(j["currents"].contains("hot"));
    EXPECT_TRUE(j["currents"].contains("cold"));
    EXPECT_GT(j["currents"]["hot"].get<double>(), 0.0);  // heat leaves the hotter bath
    EXPECT_EQ(j["drive_power"].get<double>(), 0.0);
  }
}

TEST(Cli, SetOverridesAParameterAndItsDependents) {
  const CliRun a = run("ness " + write_model("good", kGood) + " --set T=1.0");
  ASSERT_EQ(a.code, 0) << a.err;
  const auto j = nlohmann::json::parse(a.out);
  EXPECT_DOUBLE_EQ(j["temperatures"]["hot"].get<double>(), 2.0);  // hot = 2*T follows T
  EXPECT_DOUBLE_EQ(j["temperatures"]["cold"].get<double>(), 1.0);
}

TEST(Cli, TableFormat) {
  const CliRun r = run("ness " + write_model("good", kGood) + " --format table");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("J[hot]"), std::string::npos);
}

TEST(CliErrors, MissingFile) { expect_error(run("ness /nonexistent/model.toml"), "nonexistent"); }

TEST(CliErrors, UnknownMethod) {
  expect_error(run("ness " + write_model("good", kGood) + " --method magic"), "magic");
}

TEST(CliErrors, DrivenMethodOnStaticModel) {
  expect_error(run("ness " + write_model("good", kGood) + " --method ddme"), "method-needs-drive");
}

TEST(CliErrors, UnknownSetParameter) {
  expect_error(run("ness " + write_model("good", kGood) + " --set nope=1"), "nope");
}

TEST(CliErrors, BadSetSyntax) {
  expect_error(run("ness " + write_model("good", kGood) + " --set T"), "NAME=VALUE");
}

TEST(CliErrors, LambShiftOnWithFlatSpectralDensity) {
  const std::string flat = mutate("spectral = { kind = \"drude\", gamma = 0.01, cutoff = 10.0 }",
                                  "spectral = { kind = \"flat\", gamma = 0.01 }");
  expect_error(run("ness " + write_model("flat", flat) + " --lamb-shift on"), "Lamb shift");
}

TEST(CliErrors, NonHermitianHamiltonianNamesLineAndDeviation) {
  const CliRun r = run("ness " + write_model("nonherm", mutate("0.1*sx(q1)*sx(q2)", "0.1*sp(q1)*sx(q2)")));
  expect_error(r, "hermitian-hamiltonian");
  EXPECT_NE(r.err.find(":9:"), std::string::npos) << r.err;  // line of H
}

TEST(CliErrors, NegativeTemperature) {
  const CliRun r = run("ness " + write_model("negT", kGood) + " --set T=-1");
  expect_error(r, "negative-temperature");
}

TEST(CliErrors, UnknownKey) {
  const CliRun r = run("ness " + write_model("key", mutate("coupling = \"hermitian\"", "coupling = \"hermitian\"\ncolour = 3")));
  expect_error(r, "unknown-key");
  EXPECT_NE(r.err.find("colour"), std::string::npos);
}

TEST(CliErrors, BadExpression) {
  expect_error(run("ness " + write_model("expr", mutate("0.5*w*sz(q1)", "0.5*w*sz(q1))"))), "expression");
}

TEST(CliErrors, UnknownSite) {
  expect_error(run("ness " + write_model("site", mutate("operator = \"sx(q2)\"", "operator = \"sx(q9)\""))), "q9");
}

TEST(CliErrors, HermitianCouplingNeedsHermitianOperator) {
  expect_error(run("ness " + write_model("hc", mutate("operator = \"sx(q1)\"", "operator = \"sm(q1)\""))),
               "hermitian-coupling");
}

TEST(CliErrors, TomlSyntax) {
  expect_error(run("ness " + write_model("syntax", mutate("w = 1.0", "w = = 1.0"))), "toml-syntax");
}

TEST(CliErrors, NonUniqueSteadyStateIsAStatusNotACrash) {
  // q2 is decoupled from everything: the steady state is not unique.
  std::string s = mutate("0.1*sx(q1)*sx(q2)", "0*sx(q1)*sx(q2)");
  s = s.substr(0, s.rfind("[[baths]]"));
  const CliRun r = run("ness " + write_model("nonunique", s));
  EXPECT_EQ(r.code, 4) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["steady_state"]["status"], "not-unique");
  EXPECT_EQ(j["diagnostics"][0]["code"], "not-unique");
}

TEST(Cli, DrivenMethodsOnKongExample) {
  const std::string nesb = std::string(QHEAT_SOURCE_DIR) + "/examples/kong2026/nesb.toml";
  double pd = 0.0, pf = 0.0;
  for (const char* method : {"ddme", "dme", "floquet"}) {
    const CliRun r = run("ness " + nesb + " --method " + method);
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["method"], method);
    const double P = j["drive_power"].get<double>();
    // The drive closes the energy balance: currents + drive power = 0 to round-off of ~1e-3 flows.
    EXPECT_NEAR(j["currents"]["l"].get<double>() + j["currents"]["r"].get<double>() + P, 0.0, 1e-15);
    if (std::string(method) == "ddme") pd = P;
    if (std::string(method) == "floquet") pf = P;
  }
  EXPECT_NEAR(pd, pf, 1e-8 * std::abs(pf));  // dDME = FME for Kong's RWA drive
}

// JSON floquet.propagator_basis (conventions.md): which basis the propagator stepped in. Kong's Kerr resonator is
// sparse in its Fock basis (the model basis is cheaper there, bench/README.md); the cosine-driven qubit (d = 2) is
// not sparse enough; the extended-space solver has no such key.
TEST(Cli, FloquetPropagatorSaysItsBasis) {
  const std::string kong = std::string(QHEAT_SOURCE_DIR) + "/examples/kong2026/";
  struct Case {
    std::string args;
    const char* basis;  // nullptr: no key
  };
  const Case cases[] = {{kong + "kerr.toml --set nmax=30 --floquet-solver propagator", "model"},
                        {kong + "cosine_qubit.toml --floquet-solver propagator", "eigenbasis"},
                        {kong + "kerr.toml --set nmax=30", nullptr}};
  for (const Case& c : cases) {
    const CliRun r = run("ness " + c.args + " --method floquet");
    ASSERT_EQ(r.code, 0) << r.err;
    const auto fl = nlohmann::json::parse(r.out)["floquet"];
    if (c.basis == nullptr) {
      EXPECT_EQ(fl["solver"], "sambe") << c.args;
      EXPECT_FALSE(fl.contains("propagator_basis")) << c.args;
    } else {
      EXPECT_EQ(fl["solver"], "propagator") << c.args;
      EXPECT_EQ(fl["propagator_basis"], c.basis) << c.args;
      EXPECT_GT(fl["steps_per_period"].get<int>(), 0) << c.args;
    }
  }
}

TEST(CliErrors, DressedMethodNeedsExchangeCouplings) {
  const std::string cosine = std::string(QHEAT_SOURCE_DIR) + "/examples/kong2026/cosine_qubit.toml";
  expect_error(run("ness " + cosine + " --method ddme"), "dressed-coupling");
  const CliRun f = run("ness " + cosine + " --method floquet");
  EXPECT_EQ(f.code, 0) << f.err;
}
