// Linear response of bosonic modes without truncation: normal-ordered polynomial algebra, the quadratic
// Davies generator, Levy's eigenvector response on polynomials (include/qheat/response/bosonic.hpp,
// docs/response-bosonic.md).
#include "qheat/response/bosonic.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <sstream>
#include <unsupported/Eigen/MatrixFunctions>

#include "qheat/baths/spectral.hpp"
#include "qheat/generators/generator.hpp"

namespace qheat {
namespace bosonic {
namespace {

using Key = Polynomial::Key;

Key zero_key(int modes) { return Key(static_cast<std::size_t>(2 * modes), 0); }

int key_degree(const Key& k) {
  int d = 0;
  for (int e : k) d += e;
  return d;
}

double binomial(int n, int k) {
  double r = 1.0;
  for (int i = 1; i <= k; ++i) r = r * static_cast<double>(n - k + i) / static_cast<double>(i);
  return r;
}

double factorial(int n) {
  double r = 1.0;
  for (int i = 2; i <= n; ++i) r *= static_cast<double>(i);
  return r;
}

// sqrt(n! / (n - k)!)
double sqrt_falling(int n, int k) {
  double r = 1.0;
  for (int i = 0; i < k; ++i) r *= static_cast<double>(n - i);
  return std::sqrt(r);
}

std::string fmt(double x) {
  std::ostringstream s;
  s.precision(6);
  s << x;
  return s.str();
}

// Every key of total degree <= max_degree in 2N exponents, ordered by degree.
std::vector<Key> keys_up_to(int modes, int max_degree) {
  std::vector<Key> out;
  const int nvar = 2 * modes;
  for (int deg = 0; deg <= max_degree; ++deg) {
    Key k(static_cast<std::size_t>(nvar), 0);
    std::function<void(int, int)> rec = [&](int var, int left) {
      if (var == nvar - 1) {
        k[static_cast<std::size_t>(var)] = left;
        out.push_back(k);
        return;
      }
      for (int e = left; e >= 0; --e) {
        k[static_cast<std::size_t>(var)] = e;
        rec(var + 1, left - e);
      }
    };
    if (nvar == 0) {
      if (deg == 0) out.push_back(k);
      continue;
    }
    rec(0, deg);
  }
  return out;
}

// The Fock layout of a space of boson sites: occupations of a basis index (first site most significant).
struct Fock {
  std::vector<int> nmax;
  std::vector<long> stride;
  long dim = 1;
  explicit Fock(const Space& space) {
    for (const Subsystem& s : space.subsystems()) {
      if (s.kind != SubsystemKind::boson)
        throw MethodError("bosonic-space", "the untruncated bosonic treatment needs every site to be a boson; '" +
                                               s.name + "' is not");
      nmax.push_back(s.nmax);
    }
    const std::size_t n = nmax.size();
    stride.assign(n, 1);
    for (std::size_t k = n; k-- > 0;) {
      stride[k] = dim;
      dim *= nmax[k] + 1;
    }
  }
  [[nodiscard]] std::vector<int> occupations(long index) const {
    std::vector<int> occ(nmax.size());
    for (std::size_t k = 0; k < nmax.size(); ++k) occ[k] = static_cast<int>((index / stride[k]) % (nmax[k] + 1));
    return occ;
  }
  [[nodiscard]] long index(const std::vector<int>& occ) const {
    long i = 0;
    for (std::size_t k = 0; k < occ.size(); ++k) i += occ[k] * stride[k];
    return i;
  }
};

// <m|key|n> for occupation vectors; 0 when the monomial does not connect them.
double monomial_element(const Key& key, const std::vector<int>& m, const std::vector<int>& n) {
  const std::size_t N = n.size();
  double v = 1.0;
  for (std::size_t k = 0; k < N; ++k) {
    const int p = key[k], q = key[N + k];
    if (n[k] < q || m[k] != n[k] - q + p) return 0.0;
    v *= sqrt_falling(n[k], q) * sqrt_falling(m[k], p);
  }
  return v;
}

// Exact region of truncated products of degree <= D: m_k + n_k + D <= 2 nmax_k + 1 for every mode.
bool exact_pair(const Fock& f, const std::vector<int>& m, const std::vector<int>& n, int D) {
  for (std::size_t k = 0; k < n.size(); ++k)
    if (m[k] + n[k] + D > 2 * f.nmax[k] + 1) return false;
  return true;
}

}  // namespace

// ---- Polynomial -------------------------------------------------------------------------------------

Polynomial Polynomial::constant(int modes, cplx c) {
  Polynomial p(modes);
  p.add(zero_key(modes), c);
  return p;
}
Polynomial Polynomial::annihilator(int modes, int k) {
  Key key = zero_key(modes);
  key[static_cast<std::size_t>(modes) + static_cast<std::size_t>(k)] = 1;
  return monomial(modes, key);
}
Polynomial Polynomial::creator(int modes, int k) {
  Key key = zero_key(modes);
  key[static_cast<std::size_t>(k)] = 1;
  return monomial(modes, key);
}
Polynomial Polynomial::monomial(int modes, const Key& key, cplx c) {
  Polynomial p(modes);
  p.add(key, c);
  return p;
}

int Polynomial::degree() const {
  int d = -1;
  for (const auto& [k, c] : terms_) d = std::max(d, key_degree(k));
  return d;
}
cplx Polynomial::coefficient(const Key& key) const {
  const auto it = terms_.find(key);
  return it == terms_.end() ? cplx(0, 0) : it->second;
}
cplx Polynomial::constant_term() const { return coefficient(zero_key(modes_)); }
double Polynomial::max_abs() const {
  double m = 0.0;
  for (const auto& [k, c] : terms_) m = std::max(m, std::abs(c));
  return m;
}
void Polynomial::add(const Key& key, cplx c) {
  if (c == cplx(0, 0)) return;
  auto [it, inserted] = terms_.emplace(key, c);
  if (!inserted) {
    it->second += c;
    if (it->second == cplx(0, 0)) terms_.erase(it);
  }
}
Polynomial Polynomial::adjoint() const {
  Polynomial out(modes_);
  const std::size_t N = static_cast<std::size_t>(modes_);
  for (const auto& [k, c] : terms_) {
    Key a(k.size());
    for (std::size_t i = 0; i < N; ++i) {
      a[i] = k[N + i];
      a[N + i] = k[i];
    }
    out.add(a, std::conj(c));
  }
  return out;
}
Polynomial Polynomial::pruned(double tolerance) const {
  Polynomial out(modes_);
  for (const auto& [k, c] : terms_)
    if (std::abs(c) > tolerance) out.terms_.emplace(k, c);
  return out;
}
Polynomial& Polynomial::operator+=(const Polynomial& o) {
  if (modes_ == 0) modes_ = o.modes_;
  for (const auto& [k, c] : o.terms_) add(k, c);
  return *this;
}
Polynomial& Polynomial::operator-=(const Polynomial& o) {
  if (modes_ == 0) modes_ = o.modes_;
  for (const auto& [k, c] : o.terms_) add(k, -c);
  return *this;
}
Polynomial& Polynomial::operator*=(cplx s) {
  if (s == cplx(0, 0)) {
    terms_.clear();
    return *this;
  }
  for (auto& [k, c] : terms_) c *= s;
  return *this;
}

Polynomial operator*(const Polynomial& a, const Polynomial& b) {
  const int modes = std::max(a.modes(), b.modes());
  const std::size_t N = static_cast<std::size_t>(modes);
  Polynomial out(modes);
  Key res(2 * N);
  for (const auto& ta : a.terms())
    for (const auto& tb : b.terms()) {
      // (named references: clang < 16 cannot capture structured bindings in the lambda below)
      const Key& ka = ta.first;
      const Key& kb = tb.first;
      const cplx ca = ta.second, cb = tb.second;
      // (a^dag^pa a^qa)(a^dag^pb a^qb) = sum_j C(qa,j) C(pb,j) j! a^dag^{pa+pb-j} a^{qa+qb-j}, mode by mode.
      std::function<void(std::size_t, double)> rec = [&](std::size_t k, double w) {
        if (k == N) {
          out.add(res, ca * cb * w);
          return;
        }
        const int pa = ka[k], qa = ka[N + k], pb = kb[k], qb = kb[N + k];
        for (int j = 0; j <= std::min(qa, pb); ++j) {
          res[k] = pa + pb - j;
          res[N + k] = qa + qb - j;
          rec(k + 1, w * binomial(qa, j) * binomial(pb, j) * factorial(j));
        }
      };
      rec(0, 1.0);
    }
  return out;
}

Polynomial commutator(const Polynomial& a, const Polynomial& b) { return a * b - b * a; }

Polynomial substitute(const Polynomial& p, const std::vector<Polynomial>& images) {
  const std::size_t N = static_cast<std::size_t>(p.modes());
  if (images.size() != N) throw MethodError("bosonic-substitute", "substitute: one image per mode is needed");
  const int new_modes = images.empty() ? 0 : images.front().modes();
  std::vector<Polynomial> dag;
  dag.reserve(images.size());
  for (const Polynomial& im : images) dag.push_back(im.adjoint());
  Polynomial out(new_modes);
  for (const auto& [k, c] : p.terms()) {
    Polynomial term = Polynomial::constant(new_modes, c);
    for (std::size_t i = 0; i < N; ++i)
      for (int e = 0; e < k[i]; ++e) term = term * dag[i];
    for (std::size_t i = 0; i < N; ++i)
      for (int e = 0; e < k[N + i]; ++e) term = term * images[i];
    out += term;
  }
  return out;
}

cmat to_matrix(const Polynomial& p, const Space& space) {
  const Fock f(space);
  if (static_cast<std::size_t>(p.modes()) != f.nmax.size())
    throw MethodError("bosonic-space", "the polynomial has " + std::to_string(p.modes()) + " modes, the space " +
                                           std::to_string(f.nmax.size()) + " boson sites");
  const std::size_t N = f.nmax.size();
  cmat M = cmat::Zero(f.dim, f.dim);
  for (long n = 0; n < f.dim; ++n) {
    const std::vector<int> occ = f.occupations(n);
    for (const auto& [k, c] : p.terms()) {
      std::vector<int> m(N);
      bool ok = true;
      for (std::size_t i = 0; i < N && ok; ++i) {
        m[i] = occ[i] - k[N + i] + k[i];
        ok = occ[i] >= k[N + i] && m[i] <= f.nmax[i];
      }
      if (!ok) continue;
      M(f.index(m), n) += c * monomial_element(k, m, occ);
    }
  }
  return M;
}

Polynomial extract_normal_ordered(const cmat& op, const Space& space, int max_degree) {
  const Fock f(space);
  const int N = static_cast<int>(f.nmax.size());
  if (op.rows() != f.dim || op.cols() != f.dim)
    throw MethodError("bosonic-space", "operator of dimension " + std::to_string(op.rows()) + " on a space of dimension " +
                                           std::to_string(f.dim));
  if (max_degree < 0) throw MethodError("bosonic-truncation", "max_degree must be >= 0");
  for (std::size_t k = 0; k < f.nmax.size(); ++k)
    if (f.nmax[k] < 2 * max_degree)
      throw MethodError("bosonic-truncation",
                        "recovering a polynomial of degree " + std::to_string(max_degree) + " from truncated Fock matrices "
                        "needs nmax >= 2 x degree = " + std::to_string(2 * max_degree) + " on every mode (rule: products "
                        "of truncated ladder operators of degree D are exact only between Fock states with "
                        "m + n + D <= 2 nmax + 1); site '" + space.subsystems()[k].name + "' has nmax = " +
                        std::to_string(f.nmax[k]));
  const std::vector<Key> keys = keys_up_to(N, max_degree);
  // Fit on the Fock states with every occupation <= D (all inside the exact region since nmax >= 2D).
  std::vector<long> low;
  for (long i = 0; i < f.dim; ++i) {
    const auto occ = f.occupations(i);
    if (std::all_of(occ.begin(), occ.end(), [&](int x) { return x <= max_degree; })) low.push_back(i);
  }
  std::vector<std::pair<long, long>> rows;
  for (long m : low)
    for (long n : low) {
      const auto om = f.occupations(m), on = f.occupations(n);
      int dist = 0;
      for (int k = 0; k < N; ++k) dist += std::abs(om[static_cast<std::size_t>(k)] - on[static_cast<std::size_t>(k)]);
      if (dist <= max_degree) rows.emplace_back(m, n);
    }
  cmat A = cmat::Zero(static_cast<long>(rows.size()), static_cast<long>(keys.size()));
  cvec b(static_cast<long>(rows.size()));
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto om = f.occupations(rows[r].first), on = f.occupations(rows[r].second);
    for (std::size_t j = 0; j < keys.size(); ++j)
      A(static_cast<long>(r), static_cast<long>(j)) = monomial_element(keys[j], om, on);
    b(static_cast<long>(r)) = op(rows[r].first, rows[r].second);
  }
  const Eigen::ColPivHouseholderQR<cmat> qr(A);
  const cvec x = qr.solve(b);
  Polynomial p(N);
  for (std::size_t j = 0; j < keys.size(); ++j) p.add(keys[j], x(static_cast<long>(j)));
  p = p.pruned(1e-12 * std::max(1.0, p.max_abs()));
  // Verify on the whole exact region.
  const cmat R = to_matrix(p, space);
  double scale = 0.0, err = 0.0;
  long worst_m = 0, worst_n = 0;
  std::vector<std::vector<int>> occ(static_cast<std::size_t>(f.dim));
  for (long i = 0; i < f.dim; ++i) occ[static_cast<std::size_t>(i)] = f.occupations(i);
  for (long m = 0; m < f.dim; ++m)
    for (long n = 0; n < f.dim; ++n) {
      if (!exact_pair(f, occ[static_cast<std::size_t>(m)], occ[static_cast<std::size_t>(n)], max_degree)) continue;
      scale = std::max(scale, std::abs(op(m, n)));
      const double e = std::abs(op(m, n) - R(m, n));
      if (e > err) {
        err = e;
        worst_m = m;
        worst_n = n;
      }
    }
  if (!(err <= 1e-10 * std::max(1.0, scale))) {
    auto occ_text = [&](long i) {
      std::string s = "|";
      for (std::size_t k = 0; k < occ[static_cast<std::size_t>(i)].size(); ++k)
        s += (k ? "," : "") + std::to_string(occ[static_cast<std::size_t>(i)][k]);
      return s + ">";
    };
    throw MethodError("bosonic-not-polynomial",
                      "the operator is not a normal-ordered polynomial of degree <= " + std::to_string(max_degree) +
                          " in the ladder operators: the best fit misses the matrix element <" +
                          occ_text(worst_m).substr(1) + "..." + occ_text(worst_n) + " by " + fmt(err) +
                          " (largest element " + fmt(scale) + ")");
  }
  return p;
}

Polynomial extract_polynomial(const cmat& op, const Space& space, const std::string& what) {
  const Fock f(space);
  int dmax = std::numeric_limits<int>::max();
  for (int n : f.nmax) dmax = std::min(dmax, n / 2);
  if (f.nmax.empty()) dmax = 0;
  std::string last;
  for (int D = 0; D <= dmax; ++D) {
    try {
      return extract_normal_ordered(op, space, D);
    } catch (const MethodError& e) {
      if (e.rule() != "bosonic-not-polynomial") throw;
      last = e.what();
    }
  }
  throw MethodError("bosonic-not-polynomial",
                    what + " is not a polynomial of degree <= " + std::to_string(dmax) +
                        " in the ladder operators (the smallest nmax, " +
                        std::to_string(f.nmax.empty() ? 0 : *std::min_element(f.nmax.begin(), f.nmax.end())) +
                        ", allows degree <= nmax/2; raise nmax to 2 x the degree): " + last);
}

// ---- Quadratic Davies generator ---------------------------------------------------------------------

QuadraticDavies::QuadraticDavies(const Polynomial& H0, const std::vector<BathInput>& baths, double degeneracy_tolerance)
    : modes_(H0.modes()), nbaths_(static_cast<int>(baths.size())) {
  const int N = modes_;
  const std::size_t n = static_cast<std::size_t>(N);
  if (N == 0) throw MethodError("bosonic-space", "no bosonic modes");
  const double hscale = std::max(1.0, H0.max_abs());
  const Polynomial H = H0.pruned(1e-12 * hscale);
  if (H.degree() > 2)
    throw MethodError("bosonic-not-quadratic",
                      "the Hamiltonian has degree " + std::to_string(H.degree()) +
                          " in the ladder operators; the untruncated treatment needs H0 quadratic + linear");
  cmat h = cmat::Zero(N, N);
  cvec f = cvec::Zero(N);
  for (const auto& [k, c] : H.terms()) {
    int cre = 0, ann = 0;
    for (std::size_t i = 0; i < n; ++i) {
      cre += k[i];
      ann += k[n + i];
    }
    if (cre + ann == 2 && cre != 1)
      throw MethodError("bosonic-anomalous",
                        "the Hamiltonian has a_i a_j or a_i^dag a_j^dag terms (squeezing); Bogoliubov normal modes "
                        "are not implemented");
    if (cre == 1 && ann == 1) {
      long i = 0, j = 0;
      for (std::size_t m = 0; m < n; ++m) {
        if (k[m] == 1) i = static_cast<long>(m);
        if (k[n + m] == 1) j = static_cast<long>(m);
      }
      h(i, j) += c;
    } else if (cre == 0 && ann == 1) {
      for (std::size_t m = 0; m < n; ++m)
        if (k[n + m] == 1) f(static_cast<long>(m)) += c;
    }
  }
  h = 0.5 * (h + h.adjoint()).eval();
  const Eigen::SelfAdjointEigenSolver<cmat> es(h);
  omega_ = es.eigenvalues();
  U_ = es.eigenvectors();
  const double wscale = std::max(1.0, omega_.cwiseAbs().maxCoeff());
  tol_ = degeneracy_tolerance * wscale;
  for (long k = 0; k < N; ++k) {
    if (std::abs(omega_(k)) <= tol_)
      throw MethodError("bosonic-zero-frequency",
                        "normal mode " + std::to_string(k) + " has zero frequency: it has no Bohr frequency for the "
                        "Davies generator and a linear term would displace it without bound");
    if (omega_(k) < 0)
      throw MethodError("bosonic-unstable", "normal mode " + std::to_string(k) + " has negative frequency " +
                                                fmt(omega_(k)) + ": H0 is not bounded below");
    if (k > 0 && omega_(k) - omega_(k - 1) <= tol_)
      throw MethodError("bosonic-degenerate-modes",
                        "normal modes " + std::to_string(k - 1) + " and " + std::to_string(k) + " have equal frequencies (" +
                            fmt(omega_(k)) + "): the Davies jump operators mix them; not implemented");
  }
  beta_ = cvec(N);
  for (long k = 0; k < N; ++k) {
    cplx phi = 0.0;
    for (long i = 0; i < N; ++i) phi += f(i) * U_(i, k);
    beta_(k) = -std::conj(phi) / omega_(k);
  }
  alpha_ = U_ * beta_;
  for (long i = 0; i < N; ++i) {
    Polynomial im = Polynomial::constant(N, alpha_(i));
    for (int k = 0; k < N; ++k) im += Polynomial::annihilator(N, k) * U_(i, k);
    images_.push_back(im);
  }
  // H0 in normal modes must be sum omega_k c_k^dag c_k + const (internal check of the transformation).
  const Polynomial Hn = to_normal(H).pruned(1e-12 * hscale);
  H_ = Polynomial::constant(N, Hn.constant_term());
  for (int k = 0; k < N; ++k) H_ += Polynomial::creator(N, k) * Polynomial::annihilator(N, k) * omega_(k);
  if ((Hn - H_).max_abs() > 1e-9 * hscale)
    throw MethodError("bosonic-not-quadratic", "internal: the normal-mode transformation does not diagonalise H0");

  // Jumps: the frequency components of every channel operator.
  for (std::size_t b = 0; b < baths.size(); ++b) {
    const BathInput& in = baths[b];
    const Polynomial op = in.op.pruned(1e-12 * std::max(1.0, in.op.max_abs()));
    if (op.degree() > 1)
      throw MethodError("bosonic-bath-operator", "the operator of bath '" + in.name + "' has degree " +
                                                     std::to_string(op.degree()) +
                                                     "; the untruncated treatment needs couplings linear in the ladder operators");
    if (op.empty()) continue;
    const Polynomial X = to_normal(op);
    std::vector<std::pair<Polynomial, ChannelPart>> channels;
    if (in.coupling == CouplingKind::hermitian)
      channels.emplace_back(X, ChannelPart::full);
    else {
      channels.emplace_back(X, ChannelPart::emission);
      channels.emplace_back(X.adjoint(), ChannelPart::absorption);
    }
    const double xthr = 1e-14 * std::max(1.0, X.max_abs());
    for (const auto& channel : channels) {
      const Polynomial& ch = channel.first;  // named: clang < 16 cannot capture structured bindings
      const ChannelPart part = channel.second;
      auto rate_at = [&](double w) {
        switch (part) {
          case ChannelPart::full: return kappa_thermal(in.spectral, in.temperature, w);
          case ChannelPart::emission: return kappa_emission(in.spectral, in.temperature, w);
          case ChannelPart::absorption: return kappa_absorption(in.spectral, in.temperature, w);
        }
        return 0.0;
      };
      auto push = [&](double w, const Polynomial& S) {
        if (S.max_abs() <= xthr) return;
        const double r = rate_at(w);
        if (!(r > 0)) return;
        if (!std::isfinite(r))
          throw MethodError("bosonic-bath-operator", "bath '" + in.name + "': infinite rate at frequency " + fmt(w));
        jumps_.push_back(Jump{static_cast<int>(b), w, r, S, ch});
      };
      for (int k = 0; k < N; ++k) {
        push(omega_(k), Polynomial::annihilator(N, k) * ch.coefficient(Polynomial::annihilator(N, k).terms().begin()->first));
        push(-omega_(k), Polynomial::creator(N, k) * ch.coefficient(Polynomial::creator(N, k).terms().begin()->first));
      }
      // Zero frequency: S(0) = constant. It adds nothing to D0; for a hermitian channel its D1 term is
      // (s/2)[S1(0) - S1(0)^dag, rho] = 0 (S1(0) Hermitian, s real), so only exchange channels keep it.
      if (part != ChannelPart::full) push(0.0, Polynomial::constant(N, ch.constant_term()));
    }
  }
  gamma_ = rvec::Zero(N);
  N_ = rvec::Zero(N);
  rvec up = rvec::Zero(N), down = rvec::Zero(N);
  for (const Jump& j : jumps_) {
    if (j.w == 0.0) continue;
    const auto& [key, c] = *j.S.terms().begin();
    for (std::size_t k = 0; k < n; ++k) {
      if (key[n + k] == 1) down(static_cast<long>(k)) += j.rate * std::norm(c);
      if (key[k] == 1) up(static_cast<long>(k)) += j.rate * std::norm(c);
    }
  }
  for (long k = 0; k < N; ++k) {
    gamma_(k) = down(k) - up(k);
    if (!(down(k) > 0) || !(gamma_(k) > 1e-14 * down(k)))
      throw MethodError("bosonic-no-steady-state",
                        "normal mode " + std::to_string(k) + " (frequency " + fmt(omega_(k)) +
                            ") is not damped by the baths (emission rate " + fmt(down(k)) + ", absorption rate " +
                            fmt(up(k)) + "): no unique steady state");
    N_(k) = up(k) / gamma_(k);
  }
}

Polynomial QuadraticDavies::to_normal(const Polynomial& site) const { return substitute(site, images_); }

double QuadraticDavies::frequency(const Key& key) const {
  const std::size_t n = static_cast<std::size_t>(modes_);
  double nu = 0.0;
  for (std::size_t k = 0; k < n; ++k) nu += omega_(static_cast<long>(k)) * static_cast<double>(key[n + k] - key[k]);
  return nu;
}

Polynomial QuadraticDavies::component(const Polynomial& p, double w) const {
  Polynomial out(modes_);
  for (const auto& [k, c] : p.terms())
    if (std::abs(frequency(k) - w) <= tol_ * (1.0 + key_degree(k))) out.add(k, c);
  return out;
}

Polynomial QuadraticDavies::dissipator_adjoint(const Polynomial& X, int bath) const {
  Polynomial out(modes_);
  for (const Jump& j : jumps_) {
    if (bath >= 0 && j.bath != bath) continue;
    const Polynomial Sd = j.S.adjoint();
    const Polynomial SdS = Sd * j.S;
    out += (Sd * X * j.S - 0.5 * (SdS * X + X * SdS)) * j.rate;
  }
  return out;
}

Polynomial QuadraticDavies::adjoint_generator(const Polynomial& X) const {
  Polynomial out = dissipator_adjoint(X, -1);
  for (const auto& [k, c] : X.terms()) out.add(k, cplx(0.0, -frequency(k)) * c);  // i[H0, m] = -i nu m
  return out;
}

cplx QuadraticDavies::expectation(const Polynomial& X) const {
  const std::size_t n = static_cast<std::size_t>(modes_);
  cplx s = 0.0;
  for (const auto& [k, c] : X.terms()) {
    double v = 1.0;
    for (std::size_t i = 0; i < n && v != 0.0; ++i) {
      if (k[i] != k[n + i]) v = 0.0;
      else v *= factorial(k[i]) * std::pow(N_(static_cast<long>(i)), k[i]);
    }
    s += c * v;
  }
  return s;
}

FirstOrder first_order(const QuadraticDavies& sys, const Polynomial& V_normal) {
  FirstOrder fo;
  const int N = sys.modes();
  fo.V = V_normal.pruned(1e-12 * std::max(1.0, V_normal.max_abs()));
  fo.V_diag = Polynomial(N);
  fo.W = Polynomial(N);
  const double tol = sys.frequency_tolerance();
  for (const auto& [k, c] : fo.V.terms()) {
    const double nu = sys.frequency(k);
    if (std::abs(nu) <= tol * (1.0 + key_degree(k))) {
      if (key_degree(k) > 0) fo.V_diag.add(k, c);
    } else {
      fo.W.add(k, c / nu);  // [m, H0] = nu m
    }
  }
  fo.eigenvectors = fo.V_diag.empty();
  for (const Jump& j : sys.jumps()) {
    if (!fo.eigenvectors) {
      fo.S1.emplace_back(N);
      continue;
    }
    fo.S1.push_back(commutator(fo.W, j.S) - sys.component(commutator(fo.W, j.channel), j.w));
  }
  return fo;
}

Polynomial dissipator1_adjoint(const QuadraticDavies& sys, const FirstOrder& fo, const Polynomial& X, int bath) {
  Polynomial out(sys.modes());
  if (!fo.eigenvectors) return out;
  const auto& jumps = sys.jumps();
  for (std::size_t i = 0; i < jumps.size(); ++i) {
    const Jump& j = jumps[i];
    if (bath >= 0 && j.bath != bath) continue;
    const Polynomial& S1 = fo.S1[i];
    if (S1.empty()) continue;
    const Polynomial S0d = j.S.adjoint(), S1d = S1.adjoint();
    const Polynomial K = S1d * j.S + S0d * S1;
    out += (S0d * X * S1 + S1d * X * j.S - 0.5 * (K * X + X * K)) * j.rate;
  }
  return out;
}

PolynomialSpace::PolynomialSpace(int modes, int max_degree) : modes_(modes), keys_(keys_up_to(modes, max_degree)) {
  for (std::size_t i = 0; i < keys_.size(); ++i) index_[keys_[i]] = static_cast<long>(i);
}
cvec PolynomialSpace::to_vector(const Polynomial& p) const {
  cvec v = cvec::Zero(size());
  for (const auto& [k, c] : p.terms()) {
    const auto it = index_.find(k);
    if (it == index_.end()) throw MethodError("bosonic-space", "internal: monomial outside the polynomial space");
    v(it->second) = c;
  }
  return v;
}
Polynomial PolynomialSpace::from_vector(const cvec& v) const {
  Polynomial p(modes_);
  for (long i = 0; i < size(); ++i) p.add(keys_[static_cast<std::size_t>(i)], v(i));
  return p;
}
cmat PolynomialSpace::matrix(const QuadraticDavies& sys) const {
  cmat M(size(), size());
  for (long j = 0; j < size(); ++j)
    M.col(j) = to_vector(sys.adjoint_generator(Polynomial::monomial(modes_, keys_[static_cast<std::size_t>(j)])));
  return M;
}

}  // namespace bosonic

// ---- Entry point ------------------------------------------------------------------------------------

namespace {

using bosonic::Polynomial;

double max_abs(const cmat& m) { return m.size() > 0 ? m.cwiseAbs().maxCoeff() : 0.0; }

// Everything about one Heisenberg-picture observable B (normal modes): <B>, and the functionals of the
// response, X = -(L0^dag)^{-1}(B - <B>) with <X> = 0 (steady state) and int_0^t e^{L0^dag tau} B dtau.
struct ObservableResponse {
  const bosonic::QuadraticDavies& sys;
  const bosonic::FirstOrder& fo;
  const Polynomial& B;
  bosonic::PolynomialSpace space;
  cmat M;
  cvec b, kubo_f, diss_f;
  ObservableResponse(const bosonic::QuadraticDavies& s, const bosonic::FirstOrder& f, const Polynomial& obs)
      : sys(s), fo(f), B(obs), space(s.modes(), std::max(0, obs.degree())) {
    M = space.matrix(sys);
    b = space.to_vector(B);
    // Linear functionals X -> <i[V, X]> and X -> <D1^dag X> on the basis (constants give 0 exactly).
    kubo_f = cvec::Zero(space.size());
    diss_f = cvec::Zero(space.size());
    for (long j = 0; j < space.size(); ++j) {
      const auto& key = space.keys()[static_cast<std::size_t>(j)];
      if (std::all_of(key.begin(), key.end(), [](int e) { return e == 0; })) continue;
      const Polynomial m = Polynomial::monomial(sys.modes(), key);
      kubo_f(j) = sys.expectation(bosonic::commutator(fo.V, m) * cplx(0, 1));
      diss_f(j) = sys.expectation(bosonic::dissipator1_adjoint(sys, fo, m));
    }
  }
  [[nodiscard]] cplx mean() const { return sys.expectation(B); }
  // X with L0^dag X = -(B - <B>), <X> = 0.
  [[nodiscard]] cvec steady() const {
    const long n = space.size();
    cvec e(n);
    for (long j = 0; j < n; ++j)
      e(j) = sys.expectation(Polynomial::monomial(sys.modes(), space.keys()[static_cast<std::size_t>(j)]));
    const double s = std::max(1.0, max_abs(M));
    cmat A(n + 1, n);
    A.topRows(n) = M;
    A.row(n) = s * e.transpose() / std::max(1.0, e.cwiseAbs().maxCoeff());
    cvec rhs = cvec::Zero(n + 1);
    rhs.head(n) = -b;
    rhs(0) += mean();  // the constant monomial is the first key
    const Eigen::ColPivHouseholderQR<cmat> qr(A);
    cvec x = qr.solve(rhs);
    const double res = (A * x - rhs).cwiseAbs().maxCoeff();
    if (!(res <= 1e-8 * std::max(1.0, rhs.cwiseAbs().maxCoeff()) * std::max(1.0, x.cwiseAbs().maxCoeff())))
      throw MethodError("bosonic-solve", "the steady-state response equation L0^dag X = -(A - <A>) has no solution "
                                         "(residual " + std::to_string(res) + ")");
    return x;
  }
  // int_0^t e^{M tau} b dtau: the top-right column of exp(t [[M, b], [0, 0]]).
  [[nodiscard]] cvec integrated(double t) const {
    const long n = space.size();
    cmat G = cmat::Zero(n + 1, n + 1);
    G.topLeftCorner(n, n) = M * t;
    G.block(0, n, n, 1) = b * t;
    const cmat E = G.exp();
    return E.block(0, n, n, 1);
  }
  [[nodiscard]] ResponseParts parts(const cvec& x) const {
    ResponseParts p;
    p.kubo = kubo_f.cwiseProduct(x).sum().real();  // sum_j f_j x_j
    p.dissipator = diss_f.cwiseProduct(x).sum().real();
    p.total = p.kubo + p.dissipator;
    return p;
  }
};

}  // namespace

ResponseResult bosonic_linear_response(const Model& model, const cmat& V, const std::vector<cmat>& observables,
                                       const ResponseOptions& options) {
  if (model.drive)
    throw MethodError("response-driven", "linear response is implemented for static models (no [drive])");
  const long d = model.hamiltonian.rows();
  if (V.rows() != d || V.cols() != d) throw MethodError("response-perturbation", "the perturbation has the wrong dimension");
  if (max_abs(V - V.adjoint()) > 1e-12 * std::max(1.0, max_abs(V)))
    throw MethodError("response-perturbation", "the perturbation V must be Hermitian (max |V - V^dag| = " +
                                                   std::to_string(max_abs(V - V.adjoint())) + ")");
  for (double t : options.times)
    if (!(t >= 0) || !std::isfinite(t)) throw MethodError("response-times", "--times must be finite and >= 0");
  for (const Bath& bath : model.baths)
    if (lamb_shift_enabled(bath, options.lamb_shift))
      throw MethodError("bosonic-lamb-shift", "bath '" + bath.name +
                                                  "' has its Lamb shift on; the untruncated bosonic response has no "
                                                  "Lamb shift (it would renormalise the normal-mode frequencies): use --lamb-shift off");

  const Space& space = model.space;
  const Polynomial H0 = bosonic::extract_polynomial(model.hamiltonian, space, "the Hamiltonian");
  std::vector<bosonic::BathInput> inputs;
  inputs.reserve(model.baths.size());
  for (const Bath& bath : model.baths)
    inputs.push_back(bosonic::BathInput{bath.name, bath.coupling,
                                        bosonic::extract_polynomial(bath.op, space, "the operator of bath '" + bath.name + "'"),
                                        bath.spectral, bath.temperature});
  const bosonic::QuadraticDavies sys(H0, inputs, options.degeneracy_tolerance);
  const Polynomial Vn = sys.to_normal(bosonic::extract_polynomial(V, space, "the perturbation"));
  const bosonic::FirstOrder fo = bosonic::first_order(sys, Vn);

  ResponseResult res;
  for (const Bath& b : model.baths) res.bath_names.push_back(b.name);
  res.regime.relaxation_rate = 0.5 * sys.damping().minCoeff();
  if (fo.eigenvectors) {
    res.regime.name = "eigenvectors";
    res.regime.limit = "linear";
  } else {
    res.regime.name = "eigenvalues";
    res.regime.limit = "local (nu << 1/tau)";
    // First-order Bohr shifts: V_diag = sum_k v_k c_k^dag c_k shifts mode k's transitions by v_k; any other
    // zero-frequency monomial gives shifts that grow with the occupation (unbounded).
    double nu = 0.0;
    const std::size_t n = static_cast<std::size_t>(sys.modes());
    for (const auto& [k, c] : fo.V_diag.terms()) {
      int ones = 0, total = 0;
      bool number = true;
      for (std::size_t i = 0; i < n; ++i) {
        total += k[i] + k[n + i];
        if (k[i] != k[n + i]) number = false;
        if (k[i] == 1) ++ones;
      }
      if (number && total == 2 && ones == 1) nu = std::max(nu, std::abs(c));
      else nu = std::numeric_limits<double>::infinity();
    }
    res.regime.bohr_shift = nu;
    if (nu > 0 && std::isfinite(nu)) {
      res.regime.delta_local_max = options.local_below * res.regime.relaxation_rate / nu;
      res.regime.delta_global_min = options.global_above * res.regime.relaxation_rate / nu;
    }
  }

  res.times = options.times;
  res.observables_t.assign(options.times.size(), {});
  for (std::size_t a = 0; a < observables.size(); ++a) {
    const Polynomial An =
        sys.to_normal(bosonic::extract_polynomial(observables[a], space, "observable " + std::to_string(a + 1)));
    const ObservableResponse r(sys, fo, An);
    res.observables0.push_back(r.mean().real());
    res.observables.push_back(r.parts(r.steady()));
    for (std::size_t i = 0; i < options.times.size(); ++i)
      res.observables_t[i].push_back(r.parts(r.integrated(options.times[i])));
  }

  // Heat currents J_a = <D_a^dag H0> and eq. 51: dJ_a = <D0_a^dag V> (kubo) + <D1_a^dag H0> (dissipator)
  // + Tr[(D0_a^dag H0) rho_1] split by the part of L1 that drives rho_1.
  const Polynomial& Hn = sys.hamiltonian();
  for (int a = 0; a < static_cast<int>(model.baths.size()); ++a) {
    const Polynomial B = sys.dissipator_adjoint(Hn, a);
    const ObservableResponse r(sys, fo, B);
    res.currents0.push_back(r.mean().real());
    ResponseParts p = r.parts(r.steady());
    p.kubo += sys.expectation(sys.dissipator_adjoint(fo.V, a)).real();
    p.dissipator += sys.expectation(bosonic::dissipator1_adjoint(sys, fo, Hn, a)).real();
    p.total = p.kubo + p.dissipator;
    res.currents.push_back(p);
  }
  res.entropy_production = steady_entropy_production_response(res.currents, model.baths);
  return res;
}

}  // namespace qheat
