// Google Benchmark programs (results in bench/README.md).
//  P1: the Zhang model, Bloch-Redfield with Lamb shift: NESS + currents per parameter point (qheat::solve, the
//      path `qheat ness` and `qheat sweep` take), and the same through the dense reference engine.
//  P2: examples/chain/xx_chain.toml with Bloch-Redfield for N = 3..10 (qheat::solve), and the Bloch-Redfield
//      Generator alone (eigenbasis, X and Lambda per bath, K_h, H_LS) for N = 8..11.
#include <benchmark/benchmark.h>

#include <string>

#include "qheat/generators/generator.hpp"
#include "qheat/model/model.hpp"
#include "qheat/run/solve.hpp"
#include "qheat/steady/steady_state.hpp"
#include "qheat/thermo/thermo.hpp"

namespace {

using namespace qheat;

// P1: one parameter point = build the generator (eigenbasis, rates, Lamb shifts), solve, currents.
// The model is loaded once; each iteration changes T1 so that nothing is reused between points.
void BM_P1_ZhangRedfieldLambShift(benchmark::State& state) {
  Model model = load_model(std::string(QHEAT_SOURCE_DIR) + "/examples/zhang2025/two_qubits.toml");
  SolveOptions opt;
  opt.lamb_shift = LambShiftMode::on;
  opt.state = false;
  double T1 = 10.0;
  double sink = 0.0;
  for (auto _ : state) {
    T1 = T1 > 200.0 ? 10.0 : T1 + 0.37;
    model.baths[0].temperature = T1;
    const Solution s = solve(model, Method::redfield, opt);
    sink += s.thermo.currents[0];
    benchmark::DoNotOptimize(sink);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_P1_ZhangRedfieldLambShift)->Unit(benchmark::kMicrosecond);

// P1 through the dense reference engine (Generator + dense LU of the 16 x 16 Liouvillian).
void BM_P1_ZhangRedfieldDenseEngine(benchmark::State& state) {
  Model model = load_model(std::string(QHEAT_SOURCE_DIR) + "/examples/zhang2025/two_qubits.toml");
  GeneratorOptions opt;
  opt.method = Method::redfield;
  opt.lamb_shift = LambShiftMode::on;
  double T1 = 10.0;
  double sink = 0.0;
  for (auto _ : state) {
    T1 = T1 > 200.0 ? 10.0 : T1 + 0.37;
    model.baths[0].temperature = T1;
    const Generator gen(model, opt);
    const SteadyStateResult ss = steady_state(gen);
    const Thermodynamics th = thermodynamics(gen, ss);
    sink += th.currents[0];
    benchmark::DoNotOptimize(sink);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_P1_ZhangRedfieldDenseEngine)->Unit(benchmark::kMicrosecond);

// P2: the disordered XX chain, Bloch-Redfield (Lamb shift on, Drude baths), N qubits.
void BM_P2_XXChainRedfield(benchmark::State& state) {
  const auto N = state.range(0);
  const Model model = load_model(std::string(QHEAT_SOURCE_DIR) + "/examples/chain/xx_chain.toml",
                                 {Override{"N", std::to_string(N)}});
  SolveOptions opt;
  opt.state = false;
  std::string solver;
  int iterations = 0;
  for (auto _ : state) {
    const Solution s = solve(model, Method::redfield, opt);
    benchmark::DoNotOptimize(s.thermo.currents[0]);
    solver = s.solver;
    iterations = s.iterations;
  }
  state.SetLabel(solver + " iterations=" + std::to_string(iterations));
}
BENCHMARK(BM_P2_XXChainRedfield)->DenseRange(3, 10)->Unit(benchmark::kMillisecond)->UseRealTime();

// P2's generator: what every static method builds before it solves (bench/README.md, "Basis changes by charge").
void BM_P2_XXChainRedfieldGenerator(benchmark::State& state) {
  const auto N = state.range(0);
  const Model model = load_model(std::string(QHEAT_SOURCE_DIR) + "/examples/chain/xx_chain.toml",
                                 {Override{"N", std::to_string(N)}});
  GeneratorOptions opt;
  opt.method = Method::redfield;
  for (auto _ : state) {
    const Generator gen(model, opt);
    benchmark::DoNotOptimize(gen.baths().front().K_h(0, 0));
  }
}
BENCHMARK(BM_P2_XXChainRedfieldGenerator)->DenseRange(8, 11)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
