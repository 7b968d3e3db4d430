// Floquet-Markov pieces (issue 10): the Fourier step (FFTW against the hand-written radix-2 transform the
// solver used before, on the layout it needs: d^2 series of nf samples) and whole floquet_steady_state calls
// on the Kong Kerr resonator (examples/kong2026/kerr.toml) at growing truncation.
#include <benchmark/benchmark.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "qheat/core/fft.hpp"
#include "qheat/generators/floquet.hpp"
#include "qheat/model/model.hpp"

namespace {

using qheat::cplx;

// The former in-place radix-2 transform (src/generators/floquet.cpp before FFTW), kept here as the baseline.
void radix2(cplx* a, std::size_t n) {
  for (std::size_t i = 1, j = 0; i < n; ++i) {
    std::size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (std::size_t len = 2; len <= n; len <<= 1) {
    const double ang = -2.0 * std::numbers::pi / static_cast<double>(len);
    std::vector<cplx> tw(len / 2);
    for (std::size_t m = 0; m < len / 2; ++m) tw[m] = std::polar(1.0, ang * static_cast<double>(m));
    for (std::size_t i = 0; i < n; i += len)
      for (std::size_t m = 0; m < len / 2; ++m) {
        const cplx u = a[i + m], v = a[i + m + len / 2] * tw[m];
        a[i + m] = u + v;
        a[i + m + len / 2] = u - v;
      }
  }
}

std::vector<cplx> series(std::size_t count, std::size_t nf) {
  std::vector<cplx> v(count * nf);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = cplx(std::sin(0.37 * static_cast<double>(i)), std::cos(0.11 * static_cast<double>(i)));
  return v;
}

// d = 201 (Kerr nmax = 200): 40401 series of 64 samples.
void BM_FourierRadix2(benchmark::State& state) {
  const std::size_t d = static_cast<std::size_t>(state.range(0)), nf = 64;
  std::vector<cplx> v = series(d * d, nf);
  for (auto _ : state) {
    for (std::size_t p = 0; p < d * d; ++p) radix2(v.data() + p * nf, nf);
    benchmark::DoNotOptimize(v.data());
  }
}
BENCHMARK(BM_FourierRadix2)->Arg(101)->Arg(201)->Unit(benchmark::kMillisecond);

void BM_FourierFFTW(benchmark::State& state) {
  const std::size_t d = static_cast<std::size_t>(state.range(0)), nf = 64;
  std::vector<cplx> v = series(d * d, nf);
  for (auto _ : state) {
    qheat::fft_interleaved(v, static_cast<int>(nf));
    benchmark::DoNotOptimize(v.data());
  }
}
BENCHMARK(BM_FourierFFTW)->Arg(101)->Arg(201)->Unit(benchmark::kMillisecond);

void BM_KongKerrFloquet(benchmark::State& state) {
  const qheat::Model m = qheat::load_model(std::string(QHEAT_SOURCE_DIR) + "/examples/kong2026/kerr.toml",
                                           {{"nmax", std::to_string(state.range(0))}});
  for (auto _ : state) benchmark::DoNotOptimize(qheat::floquet_steady_state(m).currents);
}
BENCHMARK(BM_KongKerrFloquet)->Arg(30)->Arg(100)->Arg(200)->Unit(benchmark::kMillisecond)->UseRealTime();

// The propagator in each basis (src/generators/floquet.cpp, model_basis_cheaper): H0's eigenbasis (an
// eigen-decomposition per step) against the model's basis (sparse Chebyshev products per step). Args: model
// (0 Kong Kerr, nmax = range(1); 1 the driven XX chain of bench/driven_xx_chain.toml, N = range(1)), basis
// (0 eigenbasis, 1 model, 2 automatic). Counters: steps per period and which basis ran (1 = model).
void BM_PropagatorBasis(benchmark::State& state) {
  const bool kerr = state.range(0) == 0;
  const std::string file = kerr ? "/examples/kong2026/kerr.toml" : "/bench/driven_xx_chain.toml";
  const qheat::Model m = qheat::load_model(std::string(QHEAT_SOURCE_DIR) + file,
                                           {{kerr ? "nmax" : "N", std::to_string(state.range(1))}});
  qheat::FloquetOptions o;
  o.solver = qheat::FloquetSolver::propagator;
  o.propagator_basis = state.range(2) == 0   ? qheat::PropagatorBasis::eigenbasis
                       : state.range(2) == 1 ? qheat::PropagatorBasis::model
                                             : qheat::PropagatorBasis::automatic;
  qheat::FloquetResult r;
  for (auto _ : state) {
    r = qheat::floquet_steady_state(m, o);
    benchmark::DoNotOptimize(r.currents);
  }
  state.counters["steps"] = r.steps_per_period;
  state.counters["model_basis"] = r.propagator_basis == "model" ? 1 : 0;
}
BENCHMARK(BM_PropagatorBasis)
    ->ArgsProduct({{0}, {30, 60, 100}, {0, 1, 2}})
    ->ArgsProduct({{1}, {6, 7, 8, 9}, {0, 1, 2}})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
