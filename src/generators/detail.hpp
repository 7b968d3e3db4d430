// Pieces of the generators shared by the eigenbasis Generator and the scale equations (private to
// src/generators/).
#pragma once

#include <map>
#include <vector>

#include "qheat/generators/generator.hpp"

namespace qheat::detail {

// Caches Gamma(w) over the frequencies a channel needs; frequencies equal to round-off share a value.
class GammaCache {
public:
  GammaCache(const Bath& bath, ChannelPart part, bool shift, GeneratorCache* shared)
      : bath_(bath), part_(part), shift_(shift), shared_(shared) {
    if (shared_ != nullptr) {
      const SpectralDensity& J = bath.spectral;
      key_ = {static_cast<double>(J.kind), J.gamma, J.cutoff, J.s, bath.temperature,
              static_cast<double>(part), shift ? 1.0 : 0.0};
      key_.insert(key_.end(), J.table_w.begin(), J.table_w.end());
      key_.insert(key_.end(), J.table_kappa.begin(), J.table_kappa.end());
      key_.push_back(0.0);  // divergence_cancels (decides whether an infinite split shift is an error)
      key_.push_back(0.0);  // the frequency
    }
  }
  cplx operator()(double w, bool divergence_cancels = false) {
    const double key = std::abs(w) < 1e-300 ? 0.0 : w;
    auto it = cache_.lower_bound(key - 1e-13 * std::max(1.0, std::abs(key)));
    if (it != cache_.end() && std::abs(it->first - key) <= 1e-13 * std::max(1.0, std::abs(key)))
      return it->second;
    cplx g;
    if (shared_ != nullptr) {
      key_[key_.size() - 2] = divergence_cancels ? 1.0 : 0.0;
      key_.back() = key;
      if (const auto hit = shared_->gamma.find(key_); hit != shared_->gamma.end()) {
        g = hit->second;
        ++shared_->gamma_reused;
      } else {
        g = channel_gamma(bath_.spectral, bath_.temperature, part_, shift_, key, divergence_cancels);
        if (shared_->gamma.size() > kMaxShared) shared_->gamma.clear();
        shared_->gamma.emplace(key_, g);
      }
    } else {
      g = channel_gamma(bath_.spectral, bath_.temperature, part_, shift_, key, divergence_cancels);
    }
    cache_.emplace(key, g);
    return g;
  }

private:
  static constexpr std::size_t kMaxShared = 200000;  // bounds the memory of a long sweep
  const Bath& bath_;
  ChannelPart part_;
  bool shift_;
  GeneratorCache* shared_;
  std::vector<double> key_;
  std::map<double, cplx> cache_;
};


// gamma(w) for every w, evaluated once per group of frequencies equal within 1e-13 (relative; the
// tolerance of GammaCache): Gamma and the Lamb shift once per distinct Bohr frequency.
std::vector<cplx> gamma_at(GammaCache& gamma, const std::vector<double>& w);

// Elements of X below this are structural zeros (round-off of a basis change).
double element_threshold(const cmat& X);
double element_threshold(double largest);  // the same, from the largest |element|

// Clusters of values equal within `tol` (sorted, consecutive gaps <= tol). Returns the cluster
// representatives (means; 0 when within tol of 0) and the cluster of each value.
std::vector<double> cluster_values(const std::vector<double>& values, double tol, std::vector<int>& cluster_of);

// Kong eqs. 2-4: the static rotating-frame Hamiltonian H_S - w_d N_A + V + V^dag of a dressed method,
// with its preconditions checked (MethodError naming the failed one).
cmat rotating_frame_hamiltonian(const Model& model, Method method);

// Eigen-decomposition, reused from the cache when the Hamiltonian is bitwise the same.
Eigenbasis diagonalize_cached(const cmat& H, const std::vector<int>& q, GeneratorCache* cache);

// The secular part of a Generator's L in its eigenbasis (docs/methods.md, "Steady state"), what both secular
// preconditioners take: the population block without the border, rates = sum_t 2 Re(Lambda_t o conj X_t) - 2 diag
// K_h; each term's diagonals of Lambda and X; k = diag K_h summed over the baths; h = diag(H + H_LS).
struct SecularParts {
  rmat rates;
  std::vector<std::pair<cvec, cvec>> diagonals;
  rvec k;
  cvec h;
  // The diagonal element of L on the coherence |a><b|: -i(h_a - h_b) - k_a - k_b + sum_t (Lambda_aa conj X_bb + X_aa conj Lambda_bb).
  [[nodiscard]] cplx coherence(long a, long b) const;
};
SecularParts secular_parts(const Generator& gen);

}  // namespace qheat::detail
