// Levy's oscillators at finite occupation: the untruncated engine (docs/response-bosonic.md) against the
// dense engine on a truncated single damped mode, where truncation is harmless (n-bar ~ 1, nmax = 24), for
// both the Kubo and the dissipator parts. This is the independent check behind the finding that eqs. 32
// and 34 as printed are wrong for n-bar > 0: their dissipator factor (n-bar - 1) vanishes at n-bar = 1,
// while the exact response's does not.
#include <gtest/gtest.h>

#include <cmath>

#include "../support.hpp"
#include "qheat/response/bosonic.hpp"
#include "qheat/response/response.hpp"

using namespace qheat;
using namespace qheat::test;

TEST(LevyOscillators, UntruncatedEqualsTruncatedDenseAtFiniteOccupation) {
  const int nmax = 24;
  const double w = 1.0;
  Space sp({make_boson("m", nmax)});
  const cmat a = sp.embed(0, local_ops::annihilation(nmax));
  const cmat x = a + a.adjoint();
  auto mode_bath = [&](const std::string& name, double nbar, double kappa) {
    Bath b;
    b.name = name;
    b.temperature = w / std::log1p(1.0 / nbar);  // occupation nbar at frequency w
    b.coupling = CouplingKind::hermitian;
    b.op = x;
    b.sites = {0};
    b.spectral = flat(kappa);
    return b;
  };
  for (const double nbar_a : {0.8, 1.0}) {
    // gamma comparable to w: the dissipator part is not negligible (gamma^2 / (gamma^2 + 4 w^2) ~ 0.06).
    const Model m = model(sp, w * a.adjoint() * a, {mode_bath("a", nbar_a, 0.25), mode_bath("b", 1.2, 0.25)});
    const cmat V = x * x * x;
    const std::vector<cmat> obs{x, a.adjoint() * a};
    ResponseOptions opt;
    opt.times = {0.3, 2.0, 9.0};
    const ResponseResult dense = linear_response(m, V, obs, opt);
    const ResponseResult exact = bosonic_linear_response(m, V, obs, opt);
    ASSERT_EQ(dense.regime.name, "eigenvectors");
    // Scale: the <x> response (the <n> response vanishes by parity: V and x are odd, n is even).
    const double scale = std::abs(exact.observables[0].kubo) + std::abs(exact.observables[0].dissipator);
    for (std::size_t i = 0; i < obs.size(); ++i) {
      // Truncation at nmax = 24 with n-bar <= 1.2: thermal tail (1.2/2.2)^21 ~ 3e-6 at the states V reaches.
      EXPECT_NEAR(dense.observables[i].kubo, exact.observables[i].kubo, 1e-4 * scale) << i;
      EXPECT_NEAR(dense.observables[i].dissipator, exact.observables[i].dissipator, 1e-4 * scale) << i;
      for (std::size_t t = 0; t < opt.times.size(); ++t) {
        EXPECT_NEAR(dense.observables_t[t][i].kubo, exact.observables_t[t][i].kubo, 1e-4 * scale);
        EXPECT_NEAR(dense.observables_t[t][i].dissipator, exact.observables_t[t][i].dissipator, 1e-4 * scale);
      }
    }
    // The dissipator part of <x> is far from zero at n-bar ~ 1 (where eq. 32's factor n-bar - 1 would
    // make it vanish): at least 1 % of the Kubo part.
    EXPECT_GT(std::abs(exact.observables[0].dissipator), 1e-2 * std::abs(exact.observables[0].kubo));
  }
}
