// TOML model files: the example files of the contract, parameter resolution and overrides, site
// kinds, and one test per class of bad input (exception type, rule, message and line).
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <unsupported/Eigen/KroneckerProduct>

#include "qheat/model/model.hpp"
#include "qheat/operators/expression.hpp"

namespace qheat {
namespace {

// Matrices built from a handful of products and sums of O(1..1000) numbers: rounding only.
constexpr double kTight = 1e-12;

std::string example(const std::string& rel) { return std::string(QHEAT_SOURCE_DIR) + "/examples/" + rel; }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// 1-based line of the nth (1-based) line of `text` containing `marker`.
int line_with(const std::string& text, const std::string& marker, int nth = 1) {
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find(marker) != std::string::npos && --nth == 0) return n;
  }
  ADD_FAILURE() << "marker not found: " << marker;
  return -1;
}

double hermitian_deviation(const cmat& m) { return (m - m.adjoint()).cwiseAbs().maxCoeff(); }

cmat kron(const cmat& a, const cmat& b) { return Eigen::kroneckerProduct(a, b).eval(); }

const Bath& bath(const Model& m, const std::string& name) {
  for (const auto& b : m.baths)
    if (b.name == name) return b;
  throw std::runtime_error("no bath " + name);
}

double param(const Model& m, const std::string& name) {
  const auto v = m.parameter(name);
  EXPECT_TRUE(v.has_value()) << name;
  return v.value_or(NAN);
}

// A valid two-qubit model; the error tests edit one line of it.
const std::string kBase = R"toml(name = "test"
[parameters]
eps = 1.0
g = 0.2
gamma = 0.01
T1 = 2.0
T2 = 1.0

[sites]
q1 = "qubit"
q2 = "qubit"

[hamiltonian]
H = "0.5*eps*(sz(q1) + sz(q2)) + g*sx(q1)*sx(q2)"

[[baths]]
name = "hot"
temperature = "T1"
coupling = "hermitian"
operator = "sx(q1)"
spectral = { kind = "drude", gamma = "gamma", cutoff = 10.0 }

[[baths]]
name = "cold"
temperature = "T2"
coupling = "hermitian"
operator = "sx(q2)"
spectral = { kind = "flat", gamma = "gamma" }
)toml";

std::string with(std::string text, const std::string& old_text, const std::string& new_text) {
  const auto pos = text.find(old_text);
  EXPECT_NE(pos, std::string::npos) << old_text;
  if (pos != std::string::npos) text.replace(pos, old_text.size(), new_text);
  return text;
}

ModelError load_error(const std::string& text, const std::vector<Override>& overrides = {}) {
  try {
    (void)load_model_from_string(text, "bad.toml", overrides);
  } catch (const ModelError& e) {
    return e;
  }
  ADD_FAILURE() << "no ModelError for:\n" << text;
  return ModelError("none", "none");
}

// Loads `text`, expects a ModelError with `rule` on the line containing `marker` (0 = no line)
// and a message containing `fragment`.
void expect_model_error(const std::string& text, const std::string& rule, const std::string& fragment,
                        const std::string& marker, const std::vector<Override>& overrides = {}) {
  const ModelError e = load_error(text, overrides);
  EXPECT_EQ(e.rule(), rule) << e.what();
  EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
      << "message '" << e.what() << "' lacks '" << fragment << "'";
  EXPECT_EQ(e.line(), marker.empty() ? 0 : line_with(text, marker)) << e.what();
  if (e.line() > 0) {
    EXPECT_EQ(e.file(), "bad.toml");
    EXPECT_EQ(std::string(e.what()).rfind("bad.toml:" + std::to_string(e.line()) + ": ", 0), 0u) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// Example files

struct ExampleCase {
  std::string file;
  int dim;
  std::vector<std::string> parameters;
  std::vector<std::string> sites;
  std::vector<std::pair<std::string, std::vector<int>>> baths;  // name, sites
  CouplingKind coupling;
};

TEST(ModelExamples, EveryExampleLoadsWithAHermitianHamiltonian) {
  const std::vector<ExampleCase> cases = {
      {"fogedby2023/single_qubit.toml",
       2,
       {"w0", "gA", "gB", "TA", "TB"},
       {"q"},
       {{"A", {0}}, {"B", {0}}},
       CouplingKind::exchange},
      {"fogedby2023/coupled_qubits.toml",
       4,
       {"w1", "w2", "lambda", "gA", "gB", "TA", "TB"},
       {"q1", "q2"},
       {{"A", {0}}, {"B", {1}}},
       CouplingKind::exchange},
      {"levy/two_qubits.toml",
       4,
       {"omega", "g", "gamma", "Ta", "Tb", "dOmega"},
       {"A", "B"},
       {{"a", {0}}, {"b", {1}}},
       CouplingKind::hermitian},
      {"levy/two_oscillators.toml",
       64,  // nmax = 7
       {"omega", "g", "eps", "gamma", "Ta", "Tb", "nmax"},
       {"a", "b"},
       {{"a", {0}}, {"b", {1}}},
       CouplingKind::hermitian},
      {"zhang2025/two_qubits.toml",
       4,
       {"eps1", "eps2", "g", "gamma", "gamma1", "gamma2", "omega_D", "T1", "T2"},
       {"q1", "q2"},
       {{"hot", {0}}, {"cold", {1}}},
       CouplingKind::hermitian},
      {"chain/xx_chain.toml",
       16,
       {"N", "omega", "J", "disorder", "gamma", "omega_D", "T_hot", "T_cold"},
       {"q1", "q2", "q3", "q4"},
       {{"hot", {0}}, {"cold", {3}}},
       CouplingKind::hermitian},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    const Model m = load_model(example(c.file));
    EXPECT_FALSE(m.name.empty());
    EXPECT_EQ(m.space.dim(), c.dim);
    ASSERT_EQ(m.hamiltonian.rows(), c.dim);
    // Built from Hermitian terms with real coefficients: exact up to rounding.
    EXPECT_LE(hermitian_deviation(m.hamiltonian),
              kTight * std::max(1.0, m.hamiltonian.cwiseAbs().maxCoeff()));
    for (const auto& p : c.parameters) EXPECT_TRUE(m.parameter(p).has_value()) << p;
    ASSERT_EQ(m.space.subsystems().size(), c.sites.size());
    for (std::size_t k = 0; k < c.sites.size(); ++k) EXPECT_EQ(m.space.subsystems()[k].name, c.sites[k]);
    ASSERT_EQ(m.baths.size(), c.baths.size());
    for (std::size_t k = 0; k < c.baths.size(); ++k) {
      EXPECT_EQ(m.baths[k].name, c.baths[k].first);
      EXPECT_EQ(m.baths[k].sites, c.baths[k].second);
      EXPECT_EQ(m.baths[k].coupling, c.coupling);
      EXPECT_GE(m.baths[k].temperature, 0.0);
    }
    EXPECT_NO_THROW(validate(m));
  }
}

TEST(ModelExamples, ZhangTwoQubitsMatchesThePaper) {
  const Model m = load_model(example("zhang2025/two_qubits.toml"));
  const cmat I = cmat::Identity(2, 2), sz = local_ops::sigma_z(), sx = local_ops::sigma_x();
  const cmat H = 0.5 * 5.0 * kron(sz, I) + 0.5 * 4.0 * kron(I, sz) + 0.5 * kron(sx, sx);
  EXPECT_TRUE(m.hamiltonian.isApprox(H, kTight));
  const Bath& hot = bath(m, "hot");
  EXPECT_EQ(hot.temperature, 10.0);
  EXPECT_EQ(bath(m, "cold").temperature, 5.0);
  EXPECT_TRUE(hot.op.isApprox(kron(sx, I), kTight));
  EXPECT_EQ(hot.spectral.kind, SpectralKind::ohmic_drude);
  EXPECT_DOUBLE_EQ(hot.spectral.gamma, 0.02);  // 4 ulp: 2*0.01 in one rounding (kappa = 2 J)
  EXPECT_EQ(hot.spectral.cutoff, 50.0);
  EXPECT_EQ(m.name, "zhang2025 two qubits");
}

TEST(ModelExamples, FogedbySingleQubitUsesExchangeWithSigmaMinus) {
  const Model m = load_model(example("fogedby2023/single_qubit.toml"));
  EXPECT_TRUE(m.hamiltonian.isApprox(0.5 * local_ops::sigma_z(), kTight));
  for (const auto& b : m.baths) {
    EXPECT_TRUE(b.op.isApprox(local_ops::sigma_minus(), kTight));
    EXPECT_EQ(b.spectral.kind, SpectralKind::flat);
    EXPECT_EQ(b.spectral.gamma, 0.01);
  }
}

TEST(ModelExamples, LevyTwoQubitsSpectrumAndPerturbations) {
  const Model m = load_model(example("levy/two_qubits.toml"));
  Eigen::SelfAdjointEigenSolver<cmat> es(m.hamiltonian);
  // H0 has the eigenvalues +-omega (|00>, |11>) and +-g (one excitation shared by the qubits).
  const std::vector<double> expected = {-1000.0, -200.0, 200.0, 1000.0};
  for (int k = 0; k < 4; ++k)
    EXPECT_NEAR(es.eigenvalues()(k), expected[static_cast<std::size_t>(k)],
                1e-9);  // eigensolver rounding on O(1000) entries
  ASSERT_EQ(m.operators.count("V_zz"), 1u);
  ASSERT_EQ(m.operators.count("V_xy"), 1u);
  EXPECT_TRUE(m.operators.at("V_zz").isApprox(kron(local_ops::sigma_z(), local_ops::sigma_z()), kTight));
  EXPECT_TRUE(m.operators.at("V_xy").isApprox(
      kron(local_ops::sigma_x(), local_ops::sigma_x()) - kron(local_ops::sigma_y(), local_ops::sigma_y()),
      kTight));
  const Model pert = load_model(example("levy/two_qubits.toml"), {{"dOmega", "5"}});
  EXPECT_TRUE((pert.hamiltonian - m.hamiltonian).isApprox(5.0 * m.operators.at("V_zz"), kTight));
  EXPECT_EQ(bath(m, "a").spectral.kind, SpectralKind::flat);
  EXPECT_EQ(bath(m, "a").spectral.gamma, 1.0);
  EXPECT_EQ(bath(m, "a").temperature, 60.0);
  EXPECT_EQ(bath(m, "b").temperature, 40.0);
}

TEST(ModelExamples, LevyTwoOscillators) {
  const Model m = load_model(example("levy/two_oscillators.toml"), {{"nmax", "4"}});
  EXPECT_EQ(m.space.dim(), 25);
  const Bath& a = bath(m, "a");
  EXPECT_EQ(a.spectral.kind, SpectralKind::power_law);
  EXPECT_DOUBLE_EQ(a.spectral.gamma, 0.1);  // 4 ulp: gamma / (omega - g) in one rounding
  EXPECT_EQ(a.spectral.s, 1.0);
  EXPECT_DOUBLE_EQ(a.spectral.cutoff, 1e8);  // 4 ulp: 1e6*omega in one rounding
  const cmat ad = local_ops::creation(4), an = local_ops::annihilation(4), I = cmat::Identity(5, 5);
  EXPECT_TRUE(a.op.isApprox(kron(an + ad, I), kTight));
  EXPECT_TRUE(m.operators.at("n_a").isApprox(kron(ad * an, I), kTight));
  const cmat X = kron(an + ad, I) - kron(I, an + ad);
  EXPECT_TRUE(m.operators.at("V_cubic").isApprox((10.0 / std::sqrt(8.0)) * X * X * X, kTight));
  const cmat H = 100.0 * (kron(ad * an, I) + kron(I, ad * an)) + 90.0 * (kron(ad, an) + kron(an, ad)) +
                 (5.0 / std::sqrt(2.0)) * (kron(an + ad, I) + kron(I, an + ad));
  EXPECT_TRUE(m.hamiltonian.isApprox(H, kTight));
}

TEST(ModelExamples, ChainFollowsNAndTheDisorderList) {
  const std::vector<double> d = {0.1925, 0.2007, -0.7980, 0.3696, -0.9701, -0.1531};
  for (int N : {2, 4, 6}) {
    SCOPED_TRACE(N);
    const Model m = load_model(example("chain/xx_chain.toml"), {{"N", std::to_string(N)}});
    ASSERT_EQ(m.space.dim(), 1 << N);
    cmat H = cmat::Zero(1 << N, 1 << N);
    for (int k = 0; k < N; ++k)
      H += 0.5 * (1.0 + 0.1 * d[static_cast<std::size_t>(k)]) * m.space.embed(k, local_ops::sigma_z());
    for (int k = 0; k + 1 < N; ++k) {
      const cmat hop =
          m.space.embed_many({k, k + 1}, kron(local_ops::sigma_plus(), local_ops::sigma_minus()));
      H += 0.2 * (hop + hop.adjoint());
    }
    EXPECT_TRUE(m.hamiltonian.isApprox(H, kTight));
    EXPECT_EQ(bath(m, "cold").sites, std::vector<int>{N - 1});
    EXPECT_TRUE(bath(m, "cold").op.isApprox(m.space.embed(N - 1, local_ops::sigma_x()), kTight));
  }
  // N = 12 (the length of the list, dimension 4096) is the largest chain.
  const std::string text = read_text(example("chain/xx_chain.toml"));
  expect_model_error(text, "dimension", "exceeds the limit 4096 at site 'q13'", "count = \"N\"",
                     {{"N", "13"}});
  // A chain longer than its disorder list runs off the list.
  const auto from = text.find("d = ["), to = text.find(']', from);
  const std::string short_list = text.substr(0, from) + "d = [0.1, 0.2]" + text.substr(to + 1);
  expect_model_error(short_list, "expression", "index 3 is out of range for 'd' (2 entries", "H = \"sum(",
                     {{"N", "3"}});
}

// ---------------------------------------------------------------------------------------------
// Parameters and overrides

TEST(ModelParameters, ResolvedInAnyOrderAndKeptInFileOrder) {
  const std::string text = with(kBase, "eps = 1.0\n", "eps = \"b*2\"\nb = \"c + 1\"\nc = 3\nv = [1, 2.5]\n");
  const Model m = load_model_from_string(text, "x.toml");
  EXPECT_EQ(param(m, "eps"), 8.0);
  EXPECT_EQ(param(m, "b"), 4.0);
  ASSERT_GE(m.parameters.size(), 3u);
  EXPECT_EQ(m.parameters[0].first, "eps");
  EXPECT_EQ(m.parameters[1].first, "b");
  EXPECT_EQ(m.parameters[2].first, "c");
  EXPECT_FALSE(m.parameter("v").has_value());  // arrays are not scalar parameters
}

TEST(ModelParameters, OverridesPropagateToDependentParameters) {
  const std::string zhang = example("zhang2025/two_qubits.toml");
  const Model m = load_model(zhang, {{"gamma", "0.02"}});
  EXPECT_EQ(param(m, "gamma1"), 0.02);
  EXPECT_EQ(param(m, "gamma2"), 0.02);
  EXPECT_DOUBLE_EQ(bath(m, "hot").spectral.gamma, 0.04);   // 4 ulp: 2 * 0.02 in one rounding
  EXPECT_DOUBLE_EQ(bath(m, "cold").spectral.gamma, 0.04);  // 4 ulp: 2 * 0.02 in one rounding

  // A parameter set itself keeps its value; the other still follows gamma.
  const Model m2 = load_model(zhang, {{"gamma", "0.02"}, {"gamma1", "0.03"}});
  EXPECT_EQ(param(m2, "gamma1"), 0.03);
  EXPECT_EQ(param(m2, "gamma2"), 0.02);

  // Override values are expressions and may use other parameters.
  const Model m3 = load_model(zhang, {{"T1", "2*T2 + 1"}});
  EXPECT_EQ(bath(m3, "hot").temperature, 11.0);
  const Model m4 = load_model(zhang, {{"eps2", "eps1"}});
  EXPECT_EQ(param(m4, "eps2"), 5.0);
}

TEST(ModelParameters, OverrideOfAnUnknownParameterIsAnError) {
  expect_model_error(kBase, "unknown-parameter",
                     "--set gama=0.1: the model has no parameter 'gama' (did you mean 'gamma'?)", "",
                     {{"gama", "0.1"}});
  expect_model_error(with(kBase, "eps = 1.0", "eps = 1.0\nv = [1, 2]"), "override",
                     "'v' is an array parameter", "", {{"v", "3"}});
  expect_model_error(kBase, "expression", "--set g=oops: unknown parameter 'oops'", "", {{"g", "oops"}});
}

// ---------------------------------------------------------------------------------------------
// Sites, operators, baths

TEST(ModelSites, KindsFamiliesAndSizesFromParameters) {
  const std::string text = R"toml(
[parameters]
N = 3
nmax = 4
[sites]
s = { kind = "spin", j = 1.5 }
c = { kind = "boson", nmax = "nmax" }
l = { kind = "level", dim = 3 }
q = { kind = "qubit", count = "N - 1" }
[sites.r]
kind = "qubit"
count = 2
[hamiltonian]
H = "Sz(s) + n(c) + proj(l, 2, 2) + sz(q1) + sz(q2)"
[[baths]]
name = "b"
temperature = 1
coupling = "exchange"
operator = "a(c)*Sm(s)"
spectral = { kind = "ohmic_exp", gamma = 0.1, cutoff = 5 }
)toml";
  const Model m = load_model_from_string(text, "sites.toml");
  std::vector<std::string> names;
  for (const auto& s : m.space.subsystems()) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"s", "c", "l", "q1", "q2", "r1", "r2"}));
  EXPECT_EQ(m.space.dim(), 4 * 5 * 3 * 2 * 2 * 2 * 2);
  EXPECT_EQ(m.baths[0].sites, (std::vector<int>{0, 1}));
  EXPECT_EQ(m.baths[0].spectral.kind, SpectralKind::ohmic_exp);
  EXPECT_EQ(m.name, "sites");  // from the source name
}

TEST(ModelOperators, NamedOperatorsCanBeUsedInHAndBathOperators) {
  const std::string text = with(
      with(kBase, "[hamiltonian]", "[operators]\nXX = \"sx(q1)*sx(q2)\"\nZ1 = \"sz(q1)\"\n\n[hamiltonian]"),
      "operator = \"sx(q2)\"", "operator = \"XX\"");
  const Model m = load_model_from_string(text, "ops.toml");
  EXPECT_EQ(bath(m, "cold").sites, (std::vector<int>{0, 1}));
  EXPECT_TRUE(bath(m, "cold").op.isApprox(m.operators.at("XX"), kTight));
  EXPECT_TRUE(model_operator(m, "Z1").isApprox(m.space.embed(0, local_ops::sigma_z()), kTight));
  EXPECT_TRUE(model_operator(m, "eps*Z1 + XX").isApprox(m.operators.at("Z1") + m.operators.at("XX"), kTight));
  EXPECT_THROW((void)model_operator(m, "sz(q7)"), ExpressionError);
}

TEST(ModelValidate, ProgrammaticModelsAreChecked) {
  Model m = load_model_from_string(kBase, "ok.toml");
  EXPECT_NO_THROW(validate(m));
  auto rule_of = [](const Model& model) {
    try {
      validate(model);
    } catch (const ModelError& e) {
      return e.rule();
    }
    return std::string("none");
  };
  Model bad = m;
  bad.hamiltonian(0, 1) += 0.5;
  EXPECT_EQ(rule_of(bad), "hermitian-hamiltonian");
  bad = m;
  bad.baths[0].temperature = -1;
  EXPECT_EQ(rule_of(bad), "negative-temperature");
  bad = m;
  bad.baths[1].name = "hot";
  EXPECT_EQ(rule_of(bad), "duplicate-bath");
  bad = m;
  bad.baths.clear();
  EXPECT_EQ(rule_of(bad), "no-baths");
  bad = m;
  bad.baths[0].op = m.space.embed(0, local_ops::sigma_plus());
  EXPECT_EQ(rule_of(bad), "hermitian-coupling");
  bad = m;
  bad.baths[0].op = cmat::Identity(2, 2);
  EXPECT_EQ(rule_of(bad), "dimension");
  bad = m;
  bad.baths[0].spectral.cutoff = 0;
  EXPECT_EQ(rule_of(bad), "spectral-density");
  bad = m;
  bad.hamiltonian(0, 0) = NAN;
  EXPECT_EQ(rule_of(bad), "non-finite");
}

// ---------------------------------------------------------------------------------------------
// Bad input: one test per class

TEST(ModelErrors, TomlSyntax) {
  expect_model_error(with(kBase, "g = 0.2", "g = = 0.2"), "toml-syntax", "TOML syntax error", "g = = 0.2");
}

TEST(ModelErrors, UnknownKeys) {
  expect_model_error(with(kBase, "name = \"test\"", "name = \"test\"\nhamiltonain = 1"), "unknown-key",
                     "unknown key 'hamiltonain' in the top level (did you mean 'hamiltonian'?)",
                     "hamiltonain");
  expect_model_error(with(kBase, "temperature = \"T2\"", "temprature = \"T2\""), "unknown-key",
                     "unknown key 'temprature' in [[baths]] entry 2 (did you mean 'temperature'?)",
                     "temprature");
  expect_model_error(with(kBase, "{ kind = \"flat\", gamma = \"gamma\" }",
                          "{ kind = \"flat\", gamma = \"gamma\", cutoff = 3 }"),
                     "unknown-key", "unknown key 'cutoff' in the spectral table of bath 'cold'",
                     "cutoff = 3");
  expect_model_error(with(kBase, "q2 = \"qubit\"", "q2 = { kind = \"qubit\", nmax = 3 }"), "unknown-key",
                     "unknown key 'nmax' in [sites] entry 'q2'", "nmax = 3");
  expect_model_error(with(kBase, "H = \"0.5", "E = \"1\"\nH = \"0.5"), "unknown-key",
                     "unknown key 'E' in [hamiltonian]", "E = \"1\"");
}

TEST(ModelErrors, MissingKeys) {
  const std::string text = with(kBase, "operator = \"sx(q2)\"\n", "");
  const ModelError e = load_error(text);
  EXPECT_EQ(e.rule(), "missing-key");
  EXPECT_NE(std::string(e.what()).find("[[baths]] entry 2 needs the key 'operator'"), std::string::npos)
      << e.what();
  EXPECT_EQ(e.line(), line_with(text, "name = \"cold\"") - 1);  // the [[baths]] header of entry 2
  expect_model_error(with(kBase, "{ kind = \"drude\", gamma = \"gamma\", cutoff = 10.0 }",
                          "{ kind = \"drude\", gamma = \"gamma\" }"),
                     "missing-key", "needs the key 'cutoff'", "kind = \"drude\"");
  expect_model_error(with(kBase, "H = \"0.5*eps*(sz(q1) + sz(q2)) + g*sx(q1)*sx(q2)\"", "H0 = \"0\""),
                     "unknown-key", "unknown key 'H0' in [hamiltonian]", "H0 =");
}

TEST(ModelErrors, NonHermitianHamiltonian) {
  const std::string text = with(kBase, "+ g*sx(q1)*sx(q2)", "+ g*sp(q1)*sx(q2)");
  expect_model_error(text, "hermitian-hamiltonian", "the Hamiltonian is not Hermitian: max|H - H^dag| = 0.2",
                     "H = ");
}

TEST(ModelErrors, NonHermitianEntryFoundAcrossTiles) {
  // 256 levels: the check walks 64 x 64 tiles. The largest deviation, 0.5 from sp(q1) P_down(q2), first appears
  // (column order, q1 the most significant bit, index 0 = up) at row 64, column 192: a tile off the diagonal;
  // the 0.3 of sp(q3) sx(q8) lies in earlier columns and must not be the one reported.
  const std::string text =
      "name = \"nh\"\n[sites]\nq = { kind = \"qubit\", count = 8 }\n[hamiltonian]\n"
      "H = \"sum(k, 1, 8, sz(q{k})) + 0.3*sp(q3)*sx(q8) + 0.5*sp(q1)*(1 - sz(q2))/2\"\n";
  expect_model_error(text, "hermitian-hamiltonian", "max|H - H^dag| = 0.5 at entry (64, 192)", "H = ");
}

TEST(ModelSource, ParametersAloneEqualTheInstantiatedModels) {
  // qheat check evaluates `expected` from the parameters alone at every grid point.
  const std::string text = with(kBase, "T2 = 1.0", "T2 = \"T1/2 + g\"");
  const ModelSource src = ModelSource::from_string(text, "p.toml");
  for (const std::vector<Override>& ov : std::vector<std::vector<Override>>{{}, {{"T1", "4"}}, {{"g", "eps/4"}, {"eps", "3"}}}) {
    const auto p = src.parameters(ov);
    EXPECT_EQ(p, src.instantiate(ov).parameters);
    ASSERT_EQ(p.size(), 5U);
  }
  EXPECT_EQ(src.parameters({{"T1", "4"}})[4], (std::pair<std::string, double>{"T2", 2.2}));
  try {
    (void)src.parameters({{"nope", "1"}});
    FAIL() << "no throw";
  } catch (const ModelError& e) {
    EXPECT_EQ(e.rule(), "unknown-parameter");
  }
}

TEST(ModelErrors, NegativeTemperature) {
  expect_model_error(with(kBase, "T2 = 1.0", "T2 = -1.0"), "negative-temperature",
                     "bath 'cold': temperature -1 is negative", "temperature = \"T2\"");
}

TEST(ModelErrors, BadSpectralDensities) {
  expect_model_error(with(kBase, "gamma = \"gamma\", cutoff = 10.0", "gamma = -0.1, cutoff = 10.0"),
                     "spectral-density", "bath 'hot': spectral density: gamma = -0.1 is negative",
                     "gamma = -0.1");
  expect_model_error(with(kBase, "cutoff = 10.0", "cutoff = 0"), "spectral-density",
                     "cutoff = 0 must be positive", "cutoff = 0");
  expect_model_error(with(kBase, "{ kind = \"drude\", gamma = \"gamma\", cutoff = 10.0 }",
                          "{ kind = \"power_law\", gamma = 1, s = 0, cutoff = 2 }"),
                     "spectral-density", "exponent s = 0 must be positive", "power_law");
  expect_model_error(with(kBase, "{ kind = \"flat\", gamma = \"gamma\" }",
                          "{ kind = \"tabulated\", w = [0, 2, 1], kappa = [0, 1, 2] }"),
                     "spectral-density", "w must be strictly increasing", "tabulated");
  expect_model_error(with(kBase, "{ kind = \"flat\", gamma = \"gamma\" }",
                          "{ kind = \"tabulated\", w = [0, 1, 2], kappa = [0, -1, 2] }"),
                     "spectral-density", "kappa[2] = -1 is negative", "tabulated");
  expect_model_error(with(kBase, "kind = \"flat\"", "kind = \"lorentzian\""), "spectral-kind",
                     "unknown kind 'lorentzian'", "lorentzian");
}

TEST(ModelErrors, HermitianCouplingNeedsHermitianOperator) {
  expect_model_error(with(kBase, "operator = \"sx(q1)\"", "operator = \"sm(q1)\""), "hermitian-coupling",
                     "bath 'hot': the coupling operator (coupling = \"hermitian\" needs a Hermitian S",
                     "sm(q1)");
}

TEST(ModelErrors, DuplicateBathNames) {
  const std::string text = with(kBase, "name = \"cold\"", "name = \"hot\"");
  const ModelError e = load_error(text);
  EXPECT_EQ(e.rule(), "duplicate-bath");
  const std::string first = std::to_string(line_with(text, "name = \"hot\"", 1));
  EXPECT_NE(std::string(e.what()).find("bath name 'hot' is used twice (first on line " + first + ")"),
            std::string::npos)
      << e.what();
  EXPECT_EQ(e.line(), line_with(text, "name = \"hot\"", 2));
}

TEST(ModelErrors, NoBaths) {
  const std::string text = kBase.substr(0, kBase.find("[[baths]]"));
  expect_model_error(text, "no-baths", "bad.toml has no baths", "");  // no line: the message names the file
  const std::string empty = with(text, "name = \"test\"", "name = \"test\"\nbaths = []");
  expect_model_error(empty, "no-baths", "the model has no baths", "baths = []");
}

TEST(ModelErrors, UnknownCouplingKind) {
  expect_model_error(with(kBase, "coupling = \"hermitian\"\noperator = \"sx(q2)\"",
                          "coupling = \"dipole\"\noperator = \"sx(q2)\""),
                     "coupling-kind", "bath 'cold': unknown coupling 'dipole'", "dipole");
}

TEST(ModelErrors, BadExpressions) {
  expect_model_error(with(kBase, "0.5*eps*", "0.5*eps3*"), "expression",
                     "hamiltonian.H = \"0.5*eps3*(sz(q1) + sz(q2)) + g*sx(q1)*sx(q2)\": unknown parameter "
                     "'eps3' (did you mean 'eps'?) at column 5",
                     "H = ");
  expect_model_error(with(kBase, "operator = \"sx(q2)\"", "operator = \"sx(q9)\""), "expression",
                     "bath 'cold': operator = \"sx(q9)\": unknown site 'q9'", "sx(q9)");
  expect_model_error(with(kBase, "g = 0.2", "g = \"2*(eps\""), "expression",
                     "parameter 'g' = \"2*(eps\": unexpected end of expression", "g = \"2*(eps");
  expect_model_error(with(kBase, "T1 = 2.0", "T1 = \"sqrt(-1)\""), "expression",
                     "expected a real number but the value is complex", "T1 = ");
}

TEST(ModelErrors, DimensionLimit) {
  expect_model_error(with(kBase, "q2 = \"qubit\"", "q2 = \"qubit\"\nr = { kind = \"qubit\", count = 11 }"),
                     "dimension", "the Hilbert-space dimension exceeds the limit 4096 at site 'r11'",
                     "count = 11");
}

TEST(ModelErrors, ParameterCycles) {
  expect_model_error(with(kBase, "eps = 1.0\ng = 0.2", "eps = \"2*g\"\ng = \"T1 + eps/2\""),
                     "parameter-cycle", "parameters are defined in a cycle: eps -> g -> eps", "eps = ");
  expect_model_error(kBase, "parameter-cycle", "parameters are defined in a cycle: gamma -> gamma", "",
                     {{"gamma", "2*gamma"}});
}

TEST(ModelErrors, NonNumericAndNonFiniteValues) {
  expect_model_error(with(kBase, "T1 = 2.0", "T1 = nan"), "non-finite", "parameter 'T1' is nan", "T1 = nan");
  expect_model_error(with(kBase, "T1 = 2.0", "T1 = inf"), "non-finite", "parameter 'T1' is inf", "T1 = inf");
  expect_model_error(
      with(kBase, "T1 = 2.0", "T1 = true"), "wrong-type",
      "parameter 'T1' must be a number, an expression string or an array of numbers, not a boolean",
      "T1 = true");
  expect_model_error(with(kBase, "temperature = \"T1\"", "temperature = [1]"), "wrong-type",
                     "bath 'hot': temperature must be a number or an expression string, not an array",
                     "temperature = [1]");
  expect_model_error(with(kBase, "T1 = 2.0", "T1 = \"exp(1000)\""), "expression", "not finite", "T1 = ");
  expect_model_error(with(kBase, "g = 0.2", "g = [1, \"x\"]"), "wrong-type",
                     "parameter 'g' entry 2 must be a number", "g = [1");
}

TEST(ModelErrors, SiteProblems) {
  expect_model_error(with(kBase, "q2 = \"qubit\"", "q2 = \"qbit\""), "site-kind",
                     "site 'q2': unknown kind 'qbit' (did you mean 'qubit'?)", "qbit");
  expect_model_error(with(kBase, "q2 = \"qubit\"", "q2 = \"boson\""), "missing-key",
                     "kind \"boson\" needs a table with its size", "q2 = \"boson\"");
  expect_model_error(with(kBase, "q2 = \"qubit\"", "q2 = { kind = \"boson\", nmax = 0 }"), "boson-nmax",
                     "nmax must be an integer in [1, 5000], got 0", "nmax = 0");
  expect_model_error(with(kBase, "q2 = \"qubit\"", "q2 = { kind = \"spin\", j = 0.7 }"), "spin-j",
                     "j must be a positive multiple of 1/2", "j = 0.7");
  expect_model_error(with(kBase, "q2 = \"qubit\"", "q2 = \"qubit\"\nq = { kind = \"qubit\", count = 2 }"),
                     "duplicate-site", "site 'q1' is defined twice", "count = 2");
  expect_model_error(with(kBase, "q1 = \"qubit\"\nq2 = \"qubit\"\n", ""), "no-sites",
                     "[sites] defines no site", "[sites]");
}

TEST(ModelErrors, NamesAndNamedOperators) {
  expect_model_error(with(kBase, "g = 0.2", "pi = 3"), "parameter-name", "'pi' is reserved", "pi = 3");
  expect_model_error(with(kBase, "g = 0.2", "\"g-2\" = 0.2"), "parameter-name", "'g-2' is not a valid name",
                     "g-2");
  expect_model_error(with(kBase, "[hamiltonian]", "[operators]\ng = \"sz(q1)\"\n[hamiltonian]"),
                     "duplicate-name", "'g' is both a parameter and a named operator", "g = \"sz(q1)\"");
  expect_model_error(
      with(kBase, "[hamiltonian]", "[operators]\nA = \"B + sz(q1)\"\nB = \"2*A\"\n[hamiltonian]"),
      "operator-cycle", "named operators are defined in a cycle: A -> B -> A", "A = \"B");
  expect_model_error(with(kBase, "operator = \"sx(q1)\"", "operator = \"2 + 0*eps\""), "bath-operator",
                     "bath 'hot': the coupling operator acts on no site", "2 + 0*eps");
  expect_model_error(with(kBase, "operator = \"sx(q1)\"", "operator = \"0*sx(q1)\""), "bath-operator",
                     "bath 'hot': the coupling operator is zero", "0*sx(q1)");
}

TEST(ModelErrors, DeepDefinitionsAreRejectedNotCrashing) {
  // Parameter p<k> defined as `wrap` applied `nest` times around p<k+1> (the last one around 1).
  // (std::string::append rather than "literal" + string: GCC 12 -O3 reports a false -Wrestrict.)
  auto definitions = [](int count, int nest) {
    std::string out = "[parameters]\n";
    for (int k = 0; k < count; ++k) {
      std::string e = k + 1 < count ? std::string("p").append(std::to_string(k + 1)) : std::string("1");
      for (int j = 0; j < nest; ++j) e = std::string("(1+").append(e).append(")");
      out.append("p").append(std::to_string(k)).append(" = \"").append(e).append(" + 1\"\n");
    }
    return out;
  };
  // 150 parameters, each nesting 90 parentheses around the next: too deep to evaluate.
  const ModelError e1 = load_error(with(kBase, "[parameters]\n", definitions(150, 90)));
  EXPECT_EQ(e1.rule(), "expression");
  EXPECT_NE(std::string(e1.what()).find("expressions nest too deeply"), std::string::npos) << e1.what();
  // A plain chain of 250 definitions exceeds the depth limit of parameter definitions.
  const ModelError e2 = load_error(with(kBase, "[parameters]\n", definitions(250, 0)));
  EXPECT_EQ(e2.rule(), "parameter-depth") << e2.what();
  // 150 levels are fine.
  const std::string ok = definitions(150, 0);
  const Model m = load_model_from_string(with(kBase, "[parameters]\n", ok), "ok.toml");
  EXPECT_EQ(param(m, "p0"), 151.0);
}

TEST(ModelErrors, RandomlyDamagedFilesOnlyRaiseModelErrors) {
  // Byte-level mutations of a valid file: every result loads or throws ModelError, nothing else.
  const std::string alphabet = "=\"'[]{}(),.#\n -+*/^0123456789eqgTsxzabcdijklmnoprtuvw_";
  std::mt19937 rng(2024);
  int loaded = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string text = kBase;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits; ++k) {
      const std::size_t pos = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text.erase(pos, 1 + rng() % 4);
          break;
        case 1:
          text.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          text[pos] = alphabet[rng() % alphabet.size()];
      }
    }
    try {
      (void)load_model_from_string(text, "fuzz.toml");
      ++loaded;
    } catch (const ModelError&) {
    } catch (const std::exception& other) {
      ADD_FAILURE() << "non-ModelError " << other.what() << " for:\n" << text;
    }
  }
  EXPECT_GT(loaded, 0);
}

TEST(ModelErrors, MissingFile) {
  try {
    (void)load_model(example("no/such/file.toml"));
    ADD_FAILURE() << "missing file accepted";
  } catch (const ModelError& e) {
    EXPECT_EQ(e.rule(), "file");
    EXPECT_NE(std::string(e.what()).find("cannot open model file"), std::string::npos);
  }
}

}  // namespace
}  // namespace qheat
