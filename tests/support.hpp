// Helpers shared by the tests: programmatic models and random Hermitian matrices (seeded).
#pragma once

#include <random>
#include <string>
#include <vector>

#include "qheat/generators/generator.hpp"
#include "qheat/model/model.hpp"
#include "qheat/steady/steady_state.hpp"
#include "qheat/thermo/thermo.hpp"

namespace qheat::test {

inline Space qubits(int n) {
  std::vector<Subsystem> s;
  for (int k = 1; k <= n; ++k) s.push_back(make_qubit("q" + std::to_string(k)));
  return Space(s);
}

inline cmat op(const Space& sp, const std::string& site, const cmat& local) {
  return sp.embed(sp.index(site), local);
}

inline SpectralDensity flat(double g) {
  SpectralDensity J;
  J.kind = SpectralKind::flat;
  J.gamma = g;
  return J;
}
inline SpectralDensity drude(double g, double wc) {
  SpectralDensity J;
  J.kind = SpectralKind::ohmic_drude;
  J.gamma = g;
  J.cutoff = wc;
  return J;
}
inline SpectralDensity ohmic_exp(double g, double wc) {
  SpectralDensity J;
  J.kind = SpectralKind::ohmic_exp;
  J.gamma = g;
  J.cutoff = wc;
  return J;
}

inline Bath bath(const Space& sp, std::string name, double T, CouplingKind kind, const std::string& site,
                 const cmat& local, SpectralDensity J) {
  Bath b;
  b.name = std::move(name);
  b.temperature = T;
  b.coupling = kind;
  b.op = op(sp, site, local);
  b.sites = {sp.index(site)};
  b.spectral = std::move(J);
  return b;
}

inline Model model(const Space& sp, const cmat& H, std::vector<Bath> baths) {
  Model m;
  m.name = "test";
  m.space = sp;
  m.hamiltonian = H;
  m.baths = std::move(baths);
  return m;
}

inline cmat random_hermitian(int d, std::mt19937& rng, double scale = 1.0) {
  std::normal_distribution<double> n(0.0, 1.0);
  cmat A(d, d);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j) A(i, j) = cplx(n(rng), n(rng));
  return scale * 0.5 * (A + A.adjoint());
}

inline cmat random_matrix(int d, std::mt19937& rng) {
  std::normal_distribution<double> n(0.0, 1.0);
  cmat A(d, d);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j) A(i, j) = cplx(n(rng), n(rng));
  return A;
}

struct Solved {
  SteadyStateResult ss;
  Thermodynamics th;
};
inline Solved solve(const Model& m, Method method, LambShiftMode ls = LambShiftMode::off) {
  GeneratorOptions o;
  o.method = method;
  o.lamb_shift = ls;
  const Generator g(m, o);
  Solved s{steady_state(g), {}};
  s.th = thermodynamics(g, s.ss);
  return s;
}

inline SpectralDensity super_ohmic(double gamma, double wc) {
  SpectralDensity J;
  J.kind = SpectralKind::power_law;
  J.gamma = gamma;
  J.s = 3.0;
  J.cutoff = wc;
  return J;
}

// nq qubits with a random Hamiltonian and one bath per end qubit (sigma_x hermitian / sigma_- exchange).
// Exchange: a super-ohmic density, because sigma_- of a random H has zero-frequency components whose
// separate emission/absorption Lamb shifts diverge for an ohmic onset at T > 0.
inline Model random_model(int nq, std::mt19937& rng, double T1, double T2, CouplingKind kind, double gamma) {
  Space sp = qubits(nq);
  const cmat H = random_hermitian(sp.dim(), rng);
  const cmat S = kind == CouplingKind::hermitian ? local_ops::sigma_x() : local_ops::sigma_minus();
  const SpectralDensity J = kind == CouplingKind::hermitian ? drude(gamma, 20.0) : super_ohmic(gamma, 20.0);
  std::vector<Bath> b{bath(sp, "hot", T1, kind, "q1", S, J),
                      bath(sp, "cold", T2, kind, "q" + std::to_string(nq), S, J)};
  return model(sp, H, b);
}

inline double bose_n(double w, double T) { return T > 0 ? 1.0 / std::expm1(w / T) : 0.0; }

}  // namespace qheat::test
