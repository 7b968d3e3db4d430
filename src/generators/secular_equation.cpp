// Global (Davies) and the dressed methods (dme, ddme) at scale: the steady state of a secular GKLS
// generator lives in its zero-frequency sector -- populations, plus coherences inside clusters of
// degenerate energies -- where the generator is a rate equation between cluster blocks
// (docs/methods.md, "The zero-frequency sector"). No d^2 x d^2 object is built: the rates come from
// |X_ab|^2 and Gamma(w) directly, one evaluation per distinct Bohr frequency.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "detail.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/generators/equation.hpp"
#include "qheat/operators/charge.hpp"
#include "qheat/operators/hermitian_blocks.hpp"
#include "secular_equation.hpp"

namespace qheat {
namespace {

// Levels closer than this relative to the largest |E| are round-off apart (LAPACK's eigenvalues are
// accurate to a small multiple of eps ||H||).
constexpr double kRoundoffLevels = 64.0 * std::numeric_limits<double>::epsilon();

using Entry = SecularEntry;
using ChannelData = SecularChannel;

}  // namespace

SecularEquation::SecularEquation(const Model& model, const GeneratorOptions& options, bool keep_operators)
    : method_(options.method) {
  const bool dressed = driven();
  if (dressed && options.lamb_shift == LambShiftMode::on)
    throw MethodError("lamb-shift-unsupported", "methods dme and ddme have no Lamb shift (Kong eqs. 6-7); use --lamb-shift off");
  {
    // Before anything large exists: H, its eigenvectors and one operator per bath in the eigenbasis.
    const auto dd = static_cast<std::size_t>(model.hamiltonian.rows()) * static_cast<std::size_t>(model.hamiltonian.rows());
    check_memory((3 + 2 * model.baths.size()) * dd * sizeof(cplx),
                 "the " + method_name(method_) + " master equation (" + std::to_string(model.hamiltonian.rows()) +
                     " levels: eigenvectors and coupling operators)",
                 "--method local works in the site basis without eigenvectors");
  }
  basis_ = detail::diagonalize_cached(dressed ? detail::rotating_frame_hamiltonian(model, method_) : model.hamiltonian,
                                      excitation_numbers(model.space), options.cache);
  const rvec& E = basis_.energies;
  const int d = dim();
  const double emax = d > 0 ? E.cwiseAbs().maxCoeff() : 0.0;

  // Operators in the eigenbasis, one per bath (the exchange channels A and A^dag share it).
  struct Chan {
    ChannelPart part;
    bool adjoint;
    double frame;
  };
  std::vector<cmat> X(model.baths.size());
  std::vector<std::vector<Chan>> chans(model.baths.size());
  std::vector<bool> shift(model.baths.size());
  for (std::size_t a = 0; a < model.baths.size(); ++a) {
    const Bath& bath = model.baths[a];
    shift[a] = lamb_shift_enabled(bath, dressed ? LambShiftMode::off : options.lamb_shift);
    lamb_shift_ = lamb_shift_ || shift[a];
    X[a] = basis_.to_eigen(bath.op);
    const double wd = dressed ? model.drive->frequency : 0.0;
    if (bath.coupling == CouplingKind::hermitian) {
      chans[a] = {Chan{ChannelPart::full, false, 0.0}};
    } else {
      // Emission jumps carry one quantum w_d more to the bath than the frame energy they release,
      // absorption jumps one less (Kong eq. 9).
      chans[a] = {Chan{ChannelPart::emission, false, wd}, Chan{ChannelPart::absorption, true, -wd}};
    }
    names_.push_back(bath.name);
    temps_.push_back(bath.temperature);
  }

  // Rates with the exact level energies, for the physical scale of the level tolerance: levels closer
  // than degeneracy_tolerance x (largest decay rate) -- a splitting no relaxation can resolve -- or
  // than the round-off of the eigenvalues are one level.
  std::vector<std::vector<std::pair<int, int>>> nz(model.baths.size());
  rvec decay = rvec::Zero(d);
  for (std::size_t a = 0; a < model.baths.size(); ++a) {
    const double thr = detail::element_threshold(X[a]);
    for (int n = 0; n < d; ++n)
      for (int m = 0; m < d; ++m)
        if (std::abs(X[a](m, n)) > thr) nz[a].emplace_back(m, n);
  }
  auto kappa_at = [&](std::size_t a, const Chan& ch, double w) {
    const Bath& b = model.baths[a];
    const double q = method_ == Method::ddme ? ch.frame : 0.0;
    switch (ch.part) {
      case ChannelPart::full: return kappa_thermal(b.spectral, b.temperature, w + q);
      case ChannelPart::emission: return kappa_emission(b.spectral, b.temperature, w + q);
      case ChannelPart::absorption: return kappa_absorption(b.spectral, b.temperature, w + q);
    }
    return 0.0;
  };
  {
    // Largest decay rate, from a coarse pass over the transitions with the exact energies.
    for (std::size_t a = 0; a < model.baths.size(); ++a)
      for (const Chan& ch : chans[a]) {
        std::vector<std::pair<double, double>> wx;  // (w, |X|^2) sorted by w: one kappa per distinct w
        wx.reserve(nz[a].size());
        for (auto [m, n] : nz[a]) {
          const cplx x = ch.adjoint ? std::conj(X[a](n, m)) : X[a](m, n);
          wx.emplace_back(E(n) - E(m), std::norm(x));
        }
        std::vector<std::size_t> order(wx.size());
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return wx[i].first < wx[j].first; });
        double last_w = std::numeric_limits<double>::quiet_NaN(), last_k = 0.0;
        for (std::size_t i : order) {
          const double w = wx[i].first;
          if (!(std::abs(w - last_w) <= 1e-13 * std::max(1.0, std::abs(w)))) {
            last_k = kappa_at(a, ch, w);
            last_w = w;
          }
          const auto [m, n] = nz[a][i];
          decay(n) += last_k * wx[i].second;
        }
      }
  }
  largest_rate_ = d > 0 ? decay.maxCoeff() : 0.0;
  level_tolerance_ = std::max(options.degeneracy_tolerance * largest_rate_, kRoundoffLevels * std::max(1.0, emax));

  // Clusters of degenerate levels (consecutive sorted energies within the tolerance).
  std::vector<std::vector<int>> clusters;
  std::vector<int> cluster_of(static_cast<std::size_t>(d));
  std::vector<double> rep;
  for (int i = 0; i < d; ++i) {
    if (i == 0 || E(i) - E(i - 1) > level_tolerance_) clusters.emplace_back();
    clusters.back().push_back(i);
    cluster_of[static_cast<std::size_t>(i)] = static_cast<int>(clusters.size()) - 1;
  }
  for (const auto& c : clusters) {
    double s = 0.0;
    for (int i : c) s += E(i);
    rep.push_back(s / static_cast<double>(c.size()));
  }
  blocks_ = HermitianBlocks(clusters, d);
  rep_ = rep;
  const int nc = blocks_.count();
  // Position of each level inside its cluster.
  std::vector<int> pos(static_cast<std::size_t>(d));
  for (int c = 0; c < nc; ++c)
    for (int k = 0; k < blocks_.size(c); ++k) pos[static_cast<std::size_t>(blocks_.indices(c)[static_cast<std::size_t>(k)])] = k;

  std::size_t bytes = 0;
  for (std::size_t a = 0; a < model.baths.size(); ++a) bytes += nz[a].size() * chans[a].size() * (sizeof(Entry) + sizeof(cplx));
  check_memory(bytes + static_cast<std::size_t>(d) * static_cast<std::size_t>(d) * 16,
               "the rates of the " + method_name(method_) + " master equation (" + std::to_string(d) + " levels)",
               "--method local works in the site basis without eigenvectors");

  // Entries per channel: group each bath's non-zero elements by cluster pair.
  baths_.resize(model.baths.size());
  K_.assign(model.baths.size(), std::vector<cmat>(static_cast<std::size_t>(nc)));
  H_LS_ = K_;
  for (std::size_t a = 0; a < model.baths.size(); ++a) {
    // Sort the non-zeros by (to cluster, from cluster) so that a block is contiguous.
    auto& list = nz[a];
    std::sort(list.begin(), list.end(), [&](const auto& p, const auto& q) {
      const int cp = cluster_of[static_cast<std::size_t>(p.first)], cq = cluster_of[static_cast<std::size_t>(q.first)];
      if (cp != cq) return cp < cq;
      return cluster_of[static_cast<std::size_t>(p.second)] < cluster_of[static_cast<std::size_t>(q.second)];
    });
    for (const Chan& ch : chans[a]) {
      ChannelData cd;
      cd.frame_energy = dressed ? ch.frame : 0.0;
      // Blocks of this channel: X itself, or X^dag (rows and columns exchanged).
      std::vector<std::pair<int, int>> elems = list;
      if (ch.adjoint) {
        for (auto& e : elems) std::swap(e.first, e.second);
        std::sort(elems.begin(), elems.end(), [&](const auto& p, const auto& q) {
          const int cp = cluster_of[static_cast<std::size_t>(p.first)], cq = cluster_of[static_cast<std::size_t>(q.first)];
          if (cp != cq) return cp < cq;
          return cluster_of[static_cast<std::size_t>(p.second)] < cluster_of[static_cast<std::size_t>(q.second)];
        });
      }
      for (std::size_t i = 0; i < elems.size();) {
        const int ct = cluster_of[static_cast<std::size_t>(elems[i].first)];
        const int cf = cluster_of[static_cast<std::size_t>(elems[i].second)];
        Entry e;
        e.to = ct;
        e.from = cf;
        e.x_offset = static_cast<long>(cd.values.size());
        const long rows = blocks_.size(ct), cols = blocks_.size(cf);
        cd.values.resize(cd.values.size() + static_cast<std::size_t>(rows * cols), cplx(0.0, 0.0));
        for (; i < elems.size() && cluster_of[static_cast<std::size_t>(elems[i].first)] == ct &&
               cluster_of[static_cast<std::size_t>(elems[i].second)] == cf;
             ++i) {
          const auto [m, n] = elems[i];
          const cplx v = ch.adjoint ? std::conj(X[a](n, m)) : X[a](m, n);
          cd.values[static_cast<std::size_t>(e.x_offset + pos[static_cast<std::size_t>(m)] +
                                             rows * pos[static_cast<std::size_t>(n)])] = v;
        }
        cd.entries.push_back(e);
      }
      // Gamma once per distinct Bohr frequency between cluster representatives.
      detail::GammaCache gamma(model.baths[a], ch.part, shift[a], options.cache);
      std::vector<std::size_t> order(cd.entries.size());
      std::iota(order.begin(), order.end(), 0);
      auto freq = [&](const Entry& e) { return rep[static_cast<std::size_t>(e.from)] - rep[static_cast<std::size_t>(e.to)]; };
      std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return freq(cd.entries[i]) < freq(cd.entries[j]); });
      // The zero-frequency part of an exchange channel: its separately infinite split Lamb shifts cancel
      // when it is normal (generator.cpp, channel_gamma).
      bool zero_normal = true;
      for (const Entry& e : cd.entries)
        if (e.to == e.from) {
          const auto B = block_of(cd, e);
          if ((B * B.adjoint() - B.adjoint() * B).cwiseAbs().maxCoeff() > 1e-12 * std::max(1.0, B.squaredNorm()))
            zero_normal = false;
        }
      double last_w = std::numeric_limits<double>::quiet_NaN();
      cplx g;
      for (std::size_t i : order) {
        Entry& e = cd.entries[i];
        const double w = e.to == e.from ? 0.0 : freq(e);
        if (!(std::abs(w - last_w) <= 1e-13 * std::max(1.0, std::abs(w)))) {
          const double q = method_ == Method::ddme ? ch.frame : 0.0;
          g = gamma(w + q, w == 0.0 && zero_normal && q == 0.0);
          last_w = w;
        }
        e.kappa = 2.0 * g.real();
        e.shift = g.imag();
      }
      // K and H_LS of the bath on each cluster: sum over transitions out of it of Gamma X^dag X.
      for (const Entry& e : cd.entries) {
        if (e.kappa == 0.0 && e.shift == 0.0) continue;
        cmat& K = K_[a][static_cast<std::size_t>(e.from)];
        cmat& L = H_LS_[a][static_cast<std::size_t>(e.from)];
        if (K.size() == 0) {
          K = cmat::Zero(blocks_.size(e.from), blocks_.size(e.from));
          L = K;
        }
        if (K.size() == 1 && blocks_.size(e.to) == 1) {
          const double x2 = std::norm(cd.values[static_cast<std::size_t>(e.x_offset)]);
          K(0, 0) += 0.5 * e.kappa * x2;
          L(0, 0) += e.shift * x2;
          continue;
        }
        const auto B = block_of(cd, e);
        const cmat XX = B.adjoint() * B;
        K += 0.5 * e.kappa * XX;
        L += e.shift * XX;
      }
      for (const Entry& e : cd.entries)
        if (e.kappa == 0.0 && e.shift != 0.0) cd.lamb_only.push_back(e);
      std::erase_if(cd.entries, [](const Entry& e) { return e.kappa == 0.0; });
      baths_[a].push_back(std::move(cd));
    }
  }
  H_total_.resize(static_cast<std::size_t>(nc));
  for (int c = 0; c < nc; ++c) {
    const auto uc = static_cast<std::size_t>(c);
    const int n = blocks_.size(c);
    cmat Hc = cmat::Zero(n, n);
    for (int k = 0; k < n; ++k) Hc(k, k) = E(blocks_.indices(c)[static_cast<std::size_t>(k)]);
    for (std::size_t a = 0; a < baths_.size(); ++a) {
      if (K_[a][uc].size() == 0) {
        K_[a][uc] = cmat::Zero(n, n);
        H_LS_[a][uc] = cmat::Zero(n, n);
      }
      Hc += H_LS_[a][uc];
    }
    H_total_[uc] = std::move(Hc);
  }

  if (keep_operators) operators_ = std::move(X);

  // Smallest splitting between distinct Bohr frequencies that carry a transition (secular audit).
  std::vector<double> w;
  for (const auto& bath : baths_)
    for (const auto& ch : bath)
      for (const Entry& e : ch.entries) w.push_back(rep[static_cast<std::size_t>(e.from)] - rep[static_cast<std::size_t>(e.to)]);
  std::sort(w.begin(), w.end());
  for (std::size_t k = 1; k < w.size(); ++k)
    if (w[k] - w[k - 1] > level_tolerance_) min_splitting_ = std::min(min_splitting_, w[k] - w[k - 1]);
}

std::string SecularEquation::structure() const {
  if (blocks_.largest_block() <= 1) return "Pauli rate equation over " + std::to_string(blocks_.count()) + " levels";
  return "zero-frequency sector: " + std::to_string(blocks_.count()) + " level clusters, largest " +
         std::to_string(blocks_.largest_block()) + ", " + std::to_string(blocks_.dim()) + " unknowns";
}

double SecularEquation::feed(const ChannelData& ch, const Entry& e, const rvec& x, std::vector<cmat>* out) const {
  if (blocks_.size(e.to) == 1 && blocks_.size(e.from) == 1) {
    const double r = e.kappa * std::norm(ch.values[static_cast<std::size_t>(e.x_offset)]) * x(blocks_.offset(e.from));
    if (out != nullptr) (*out)[static_cast<std::size_t>(e.to)](0, 0) += r;
    return r;
  }
  cmat src;
  blocks_.unpack(x, e.from, src);
  const auto B = block_of(ch, e);
  const cmat img = e.kappa * (B * src * B.adjoint());
  if (out != nullptr) (*out)[static_cast<std::size_t>(e.to)] += img;
  return img.trace().real();
}

void SecularEquation::dissipate(std::size_t a, const rvec& x, std::vector<cmat>& out) const {
  cmat rho;
  for (const auto& ch : baths_[a])
    for (const Entry& e : ch.entries) feed(ch, e, x, &out);
  for (int c = 0; c < blocks_.count(); ++c) {
    blocks_.unpack(x, c, rho);
    const cmat& K = K_[a][static_cast<std::size_t>(c)];
    out[static_cast<std::size_t>(c)].noalias() -= K * rho + rho * K;
  }
}

LinearProblem<double> SecularEquation::steady_problem(const SteadyStateOptions& /*options*/) const {
  LinearProblem<double> p;
  p.dim = blocks_.dim();
  p.border = blocks_.trace_functional();
  // Blocks of one level each: the coordinates are the populations and the problem is the Pauli rate equation.
  p.rate_equation = blocks_.largest_block() <= 1;
  const long n = p.dim;
  const int nc = blocks_.count();

  // The generator on the sector, column by column for each block: rho_c -> -i[H_c, rho_c] - {K_c, rho_c}
  // on its own block and -> kappa X rho_c X^dag on the blocks it feeds.
  std::vector<Eigen::Triplet<double, long>> trip;
  std::size_t count = 0;
  for (const auto& bath : baths_)
    for (const auto& ch : bath)
      for (const Entry& e : ch.entries)
        count += static_cast<std::size_t>(blocks_.size(e.to) * blocks_.size(e.to) * blocks_.size(e.from) * blocks_.size(e.from));
  for (int c = 0; c < nc; ++c) count += static_cast<std::size_t>(std::pow(blocks_.size(c), 4));
  // Dense LU up to n = 4096 (one model of 12 qubits; 0.13 GB, about a second with OpenBLAS) or when the
  // rates fill an eighth of the matrix: sparse LU of a Pauli matrix between many-body levels fills in
  // badly (measured 17 s at n = 4096 for the XX chain, whose transitions form a hypercube).
  const bool dense = n <= 4096 || static_cast<double>(count) > 0.125 * static_cast<double>(n) * static_cast<double>(n);
  check_memory(dense ? static_cast<std::size_t>(n * n) * 8 * 3 : count * 24 * 3,
               "the " + method_name(method_) + " rate matrix (" + std::to_string(n) + " unknowns)",
               "--method local works in the site basis without eigenvectors");
  rmat D;
  if (dense) D = rmat::Zero(n, n);
  auto add = [&](long r, long c, double v) {
    if (v == 0.0) return;
    if (dense) {
      D(r, c) += v;
    } else {
      trip.emplace_back(r, c, v);
    }
  };
  if (!dense) trip.reserve(count);

  double diag_max = 0.0;
  cmat unit, img;
  rvec col;
  for (int c = 0; c < nc; ++c) {
    const auto uc = static_cast<std::size_t>(c);
    const int m = blocks_.size(c);
    cmat Kc = cmat::Zero(m, m);
    for (std::size_t a = 0; a < baths_.size(); ++a) Kc += K_[a][uc];
    const cmat M = cplx(0.0, -1.0) * H_total_[uc] - Kc;
    if (m == 1) {
      add(blocks_.offset(c), blocks_.offset(c), 2.0 * M(0, 0).real());
      diag_max = std::max(diag_max, std::abs(2.0 * M(0, 0).real()));
      continue;
    }
    const long mm = static_cast<long>(m) * m;
    rvec xe = rvec::Zero(p.dim);
    col.resize(p.dim);
    for (long j = 0; j < mm; ++j) {
      xe(blocks_.offset(c) + j) = 1.0;
      blocks_.unpack(xe, c, unit);
      xe(blocks_.offset(c) + j) = 0.0;
      img = M * unit + unit * M.adjoint();
      blocks_.pack(img, c, col);
      for (long i = 0; i < mm; ++i) add(blocks_.offset(c) + i, blocks_.offset(c) + j, col(blocks_.offset(c) + i));
      diag_max = std::max(diag_max, std::abs(col(blocks_.offset(c) + j)));
    }
  }
  for (const auto& bath : baths_)
    for (const auto& ch : bath)
      for (const Entry& e : ch.entries) {
        const int mt = blocks_.size(e.to), mf = blocks_.size(e.from);
        if (mt == 1 && mf == 1) {
          add(blocks_.offset(e.to), blocks_.offset(e.from), e.kappa * std::norm(ch.values[static_cast<std::size_t>(e.x_offset)]));
          continue;
        }
        const auto B = block_of(ch, e);
        rvec xe = rvec::Zero(p.dim);
        col.resize(p.dim);
        for (long j = 0; j < static_cast<long>(mf) * mf; ++j) {
          xe(blocks_.offset(e.from) + j) = 1.0;
          blocks_.unpack(xe, e.from, unit);
          xe(blocks_.offset(e.from) + j) = 0.0;
          img = e.kappa * (B * unit * B.adjoint());
          blocks_.pack(img, e.to, col);
          for (long i = 0; i < static_cast<long>(mt) * mt; ++i)
            add(blocks_.offset(e.to) + i, blocks_.offset(e.from) + j, col(blocks_.offset(e.to) + i));
        }
      }
  p.scale = diag_max > 0 ? diag_max : 1.0;
  if (dense) {
    p.dense = std::make_shared<const rmat>(std::move(D));
  } else {
    Eigen::SparseMatrix<double, Eigen::ColMajor, long> S(n, n);
    S.setFromTriplets(trip.begin(), trip.end());
    S.makeCompressed();
    p.sparse = std::make_shared<const Eigen::SparseMatrix<double, Eigen::ColMajor, long>>(std::move(S));
  }
  return p;
}

StateChecks SecularEquation::checks(const rvec& x) const { return block_state_checks(blocks_, x); }

EquationCurrents SecularEquation::currents(const rvec& x) const {
  EquationCurrents out;
  const int nc = blocks_.count();
  cmat rho;
  for (std::size_t a = 0; a < baths_.size(); ++a) {
    std::vector<cmat> D(static_cast<std::size_t>(nc));
    for (int c = 0; c < nc; ++c) D[static_cast<std::size_t>(c)] = cmat::Zero(blocks_.size(c), blocks_.size(c));
    dissipate(a, x, D);
    double j = 0.0, bare = 0.0;
    for (int c = 0; c < nc; ++c) {
      const auto uc = static_cast<std::size_t>(c);
      const cmat& Hc = H_total_[uc];
      j += (Hc.transpose().cwiseProduct(D[uc])).sum().real();
      // Bare: Tr[H (D - i[H_LS,a, rho])] with H = diag(E) on the block.
      blocks_.unpack(x, c, rho);
      const cmat comm = H_LS_[a][uc] * rho - rho * H_LS_[a][uc];
      for (int k = 0; k < blocks_.size(c); ++k)
        bare += basis_.energies(blocks_.indices(c)[static_cast<std::size_t>(k)]) *
                (D[uc](k, k) - cplx(0.0, 1.0) * comm(k, k)).real();
    }
    // Rotating frame (dme, ddme): each jump also moves frame_energy = +-w_d to the bath (Kong eq. 9).
    for (const auto& ch : baths_[a]) {
      if (ch.frame_energy == 0.0) continue;
      double jumps = 0.0;
      for (const Entry& e : ch.entries) jumps += feed(ch, e, x, nullptr);
      j -= ch.frame_energy * jumps;
    }
    out.currents.push_back(j);
    out.bare_currents.push_back(bare);
  }
  return out;
}

std::unique_ptr<MasterEquation> make_secular_equation(const Model& model, const GeneratorOptions& options) {
  return std::make_unique<SecularEquation>(model, options);
}

}  // namespace qheat
