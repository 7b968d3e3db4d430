#include "sectors.hpp"

#include <algorithm>
#include <numeric>

#include "qheat/core/resources.hpp"

namespace qheat::response_detail {

SectorGenerator::SectorGenerator(const SecularEquation& eq) {
  const HermitianBlocks& blocks = eq.blocks();
  d_ = eq.dim();
  E_ = eq.basis().energies;
  const int nc = blocks.count();
  const auto ud = static_cast<std::size_t>(d_);
  cluster_of_.assign(ud, 0);
  pos_.assign(ud, 0);
  cluster_levels_.resize(static_cast<std::size_t>(nc));
  M_.resize(static_cast<std::size_t>(nc));
  for (int c = 0; c < nc; ++c) {
    const auto uc = static_cast<std::size_t>(c);
    cluster_levels_[uc] = blocks.indices(c);
    for (int k = 0; k < blocks.size(c); ++k) {
      const auto level = static_cast<std::size_t>(blocks.indices(c)[static_cast<std::size_t>(k)]);
      cluster_of_[level] = c;
      pos_[level] = k;
    }
    cmat K = cmat::Zero(blocks.size(c), blocks.size(c));
    for (const auto& bath : eq.dissipative_K()) K += bath[uc];
    M_[uc] = cplx(0.0, -1.0) * eq.total_hamiltonian()[uc] - K;
  }

  // Transitions, grouped by Bohr frequency per channel: frequencies of the transition blocks (between
  // cluster means) equal within the level tolerance, chained, are one group. Blocks inside a cluster
  // have frequency 0 exactly and no other block comes within the tolerance of 0 (clusters are further
  // apart than that), so the zero-frequency group is the in-cluster blocks alone.
  const double tol = eq.level_tolerance();
  const auto& rep = eq.cluster_energies();
  const auto& channels = eq.channels();
  for (std::size_t a = 0; a < channels.size(); ++a)
    for (const SecularChannel& ch : channels[a]) {
      const std::size_t ne = ch.entries.size();
      std::vector<double> w(ne);
      for (std::size_t i = 0; i < ne; ++i) {
        const SecularEntry& e = ch.entries[i];
        w[i] = e.to == e.from ? 0.0 : rep[static_cast<std::size_t>(e.from)] - rep[static_cast<std::size_t>(e.to)];
      }
      std::vector<std::size_t> order(ne);
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return w[i] < w[j]; });
      std::vector<int> gid(ne, 0);
      for (std::size_t k = 0; k < ne; ++k) {
        if (k == 0 || w[order[k]] - w[order[k - 1]] > tol) ++groups_;
        gid[order[k]] = groups_ - 1;
      }
      for (std::size_t i = 0; i < ne; ++i) {
        const SecularEntry& e = ch.entries[i];
        const auto B = eq.block_of(ch, e);
        const auto& rows = blocks.indices(e.to);
        const auto& cols = blocks.indices(e.from);
        for (long j = 0; j < B.cols(); ++j)
          for (long r = 0; r < B.rows(); ++r) {
            const cplx v = B(r, j);
            if (v == cplx(0.0, 0.0)) continue;
            Transition t;
            t.to = rows[static_cast<std::size_t>(r)];
            t.from = cols[static_cast<std::size_t>(j)];
            t.group = gid[i];
            t.bath = static_cast<int>(a);
            t.x = v;
            t.gamma = cplx(0.5 * e.kappa, e.shift);
            trans_.push_back(t);
          }
      }
    }
  // Members of each group, and the transitions leaving each level sorted by group.
  const std::size_t nt = trans_.size();
  group_offsets_.assign(static_cast<std::size_t>(groups_) + 1, 0);
  out_offsets_.assign(ud + 1, 0);
  for (const Transition& t : trans_) {
    ++group_offsets_[static_cast<std::size_t>(t.group) + 1];
    ++out_offsets_[static_cast<std::size_t>(t.from) + 1];
  }
  std::partial_sum(group_offsets_.begin(), group_offsets_.end(), group_offsets_.begin());
  std::partial_sum(out_offsets_.begin(), out_offsets_.end(), out_offsets_.begin());
  group_members_.resize(nt);
  out_members_.resize(nt);
  {
    std::vector<int> g = group_offsets_, o = out_offsets_;
    for (std::size_t i = 0; i < nt; ++i) {
      const Transition& t = trans_[i];
      group_members_[static_cast<std::size_t>(g[static_cast<std::size_t>(t.group)]++)] = static_cast<int>(i);
      out_members_[static_cast<std::size_t>(o[static_cast<std::size_t>(t.from)]++)] = static_cast<int>(i);
    }
  }
  for (std::size_t l = 0; l < ud; ++l)
    std::sort(out_members_.begin() + out_offsets_[l], out_members_.begin() + out_offsets_[l + 1],
              [&](int i, int j) { return trans_[static_cast<std::size_t>(i)].group < trans_[static_cast<std::size_t>(j)].group; });
}

// Every gain pair (t1, t2) of a group with its coefficient (Gamma_1 + conj Gamma_2) x_1 conj(x_2),
// source element (from1, from2), target (to1, to2). A pair whose source lies inside a level cluster and
// whose target does not (or the reverse) exists only when chained Bohr frequencies differ by more than
// the tolerance; it is dropped, as the zero-sector rate equation of the SecularEquation has it.
template <class F>
void SectorGenerator::for_each_pair(F&& f) const {
  for (int g = 0; g < groups_; ++g) {
    const int* begin = group_members_.data() + group_offsets_[static_cast<std::size_t>(g)];
    const int* end = group_members_.data() + group_offsets_[static_cast<std::size_t>(g) + 1];
    for (const int* p = begin; p != end; ++p) {
      const Transition& t1 = trans_[static_cast<std::size_t>(*p)];
      const int c_to1 = cluster(t1.to), c_from1 = cluster(t1.from);
      for (const int* q = begin; q != end; ++q) {
        const Transition& t2 = trans_[static_cast<std::size_t>(*q)];
        if ((c_from1 == cluster(t2.from)) != (c_to1 == cluster(t2.to))) continue;
        f(t1, t2, (t1.gamma + std::conj(t2.gamma)) * t1.x * std::conj(t2.x));
      }
    }
  }
}

void SectorGenerator::add_gain(const cmat& rho, int bath, cmat& out) const {
  for (int g = 0; g < groups_; ++g) {
    const int* begin = group_members_.data() + group_offsets_[static_cast<std::size_t>(g)];
    const int* end = group_members_.data() + group_offsets_[static_cast<std::size_t>(g) + 1];
    if (begin == end || (bath >= 0 && trans_[static_cast<std::size_t>(*begin)].bath != bath)) continue;
    for (const int* p = begin; p != end; ++p) {
      const Transition& t1 = trans_[static_cast<std::size_t>(*p)];
      const int c_to1 = cluster(t1.to), c_from1 = cluster(t1.from);
      for (const int* q = begin; q != end; ++q) {
        const Transition& t2 = trans_[static_cast<std::size_t>(*q)];
        const cplx r = rho(t1.from, t2.from);
        if (r == cplx(0.0, 0.0)) continue;
        if ((c_from1 == cluster(t2.from)) != (c_to1 == cluster(t2.to))) continue;
        out(t1.to, t2.to) += (t1.gamma + std::conj(t2.gamma)) * t1.x * std::conj(t2.x) * r;
      }
    }
  }
}

std::size_t SectorGenerator::decompose_bytes() const {
  const auto n = static_cast<std::size_t>(d_) * static_cast<std::size_t>(d_);
  return n * (4 * sizeof(int) + sizeof(cplx) + sizeof(double));
}

void SectorGenerator::decompose() {
  const long n = static_cast<long>(d_) * d_;
  const auto un = static_cast<std::size_t>(n);
  check_memory(decompose_bytes(), "the Bohr-frequency sectors of the response (" + std::to_string(d_) + " levels)",
               "a smaller model would fit");
  std::vector<int> parent(un);
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int x) {
    while (parent[static_cast<std::size_t>(x)] != x) {
      auto& p = parent[static_cast<std::size_t>(x)];
      p = parent[static_cast<std::size_t>(p)];
      x = p;
    }
    return x;
  };
  auto unite = [&](long x, long y) {
    const int rx = find(static_cast<int>(x)), ry = find(static_cast<int>(y));
    if (rx != ry) parent[static_cast<std::size_t>(std::max(rx, ry))] = std::min(rx, ry);
  };
  diag_.assign(un, cplx(0.0, 0.0));
  std::vector<double> colabs(un, 0.0);
  for (int b = 0; b < d_; ++b) {
    const cmat& Mb = M(cluster(b));
    const int pb = position(b);
    const auto& lb = cluster_levels_[static_cast<std::size_t>(cluster(b))];
    for (int a = 0; a < d_; ++a) {
      const cmat& Ma = M(cluster(a));
      const int pa = position(a);
      const long e = element(a, b);
      diag_[static_cast<std::size_t>(e)] = Ma(pa, pa) + std::conj(Mb(pb, pb));
      // (M rho)_{a'' b} <- M_{a'' a} rho_ab and (rho M^dag)_{a b''} <- rho_ab conj(M_{b'' b}).
      const auto& la = cluster_levels_[static_cast<std::size_t>(cluster(a))];
      if (la.size() > 1)
        for (std::size_t k = 0; k < la.size(); ++k)
          if (static_cast<int>(k) != pa) {
            unite(e, element(la[k], b));
            colabs[static_cast<std::size_t>(e)] += std::abs(Ma(static_cast<long>(k), pa));
          }
      if (lb.size() > 1)
        for (std::size_t k = 0; k < lb.size(); ++k)
          if (static_cast<int>(k) != pb) {
            unite(e, element(a, lb[k]));
            colabs[static_cast<std::size_t>(e)] += std::abs(Mb(static_cast<long>(k), pb));
          }
    }
  }
  for_each_pair([&](const Transition& t1, const Transition& t2, cplx v) {
    const long src = element(t1.from, t2.from), tgt = element(t1.to, t2.to);
    if (src == tgt) {
      diag_[static_cast<std::size_t>(src)] += v;
    } else {
      unite(src, tgt);
      colabs[static_cast<std::size_t>(src)] += std::sqrt(std::norm(v));
    }
  });
  // Sector ids in order of first element; elements grouped by sector.
  sector_.assign(un, -1);
  int count = 0;
  std::vector<int> id_of_root(un, -1);
  for (long e = 0; e < n; ++e) {
    const int r = find(static_cast<int>(e));
    int& id = id_of_root[static_cast<std::size_t>(r)];
    if (id < 0) id = count++;
    sector_[static_cast<std::size_t>(e)] = id;
  }
  std::vector<int>().swap(parent);
  std::vector<int>().swap(id_of_root);
  offsets_.assign(static_cast<std::size_t>(count) + 1, 0);
  for (long e = 0; e < n; ++e) ++offsets_[static_cast<std::size_t>(sector_[static_cast<std::size_t>(e)]) + 1];
  std::partial_sum(offsets_.begin(), offsets_.end(), offsets_.begin());
  elements_.resize(un);
  local_.resize(un);
  {
    std::vector<int> next(offsets_.begin(), offsets_.end() - 1);
    for (long e = 0; e < n; ++e) {
      const auto s = static_cast<std::size_t>(sector_[static_cast<std::size_t>(e)]);
      local_[static_cast<std::size_t>(e)] = next[s] - offsets_[s];
      elements_[static_cast<std::size_t>(next[s]++)] = static_cast<int>(e);
    }
  }
  bound_.assign(static_cast<std::size_t>(count), std::numeric_limits<double>::infinity());
  for (long e = 0; e < n; ++e) {
    double& b = bound_[static_cast<std::size_t>(sector_[static_cast<std::size_t>(e)])];
    b = std::min(b, -(diag_[static_cast<std::size_t>(e)].real() + colabs[static_cast<std::size_t>(e)]));
  }
  zero_ = sector_of(element(0, 0));
  for (int a = 0; a < d_; ++a)
    if (sector_of(element(a, a)) != zero_)
      throw MethodError("response-not-unique", "the unperturbed generator has more than one steady state (its rate "
                                               "equation falls apart); linear response about it is not defined");
}

int SectorGenerator::mirror(int s) const {
  const long e = sector_elements(s)[0];
  return sector_of(element(col(e), row(e)));
}

double SectorGenerator::frequency(int s) const {
  const int n = sector_size(s);
  const int* el = sector_elements(s);
  double sum = 0.0;
  for (int k = 0; k < n; ++k) sum += E_(row(el[k])) - E_(col(el[k]));
  return sum / n;
}

spcmat SectorGenerator::sector_matrix(int s, double nu) const {
  const int n = sector_size(s);
  const int* el = sector_elements(s);
  std::vector<Eigen::Triplet<cplx, int>> trip;
  trip.reserve(static_cast<std::size_t>(n) * 8);
  for (int j = 0; j < n; ++j) {
    const long e = el[j];
    const int a = row(e), b = col(e);
    trip.emplace_back(j, j, diag_[static_cast<std::size_t>(e)] + cplx(0.0, nu));
    const auto& la = cluster_levels_[static_cast<std::size_t>(cluster(a))];
    const auto& lb = cluster_levels_[static_cast<std::size_t>(cluster(b))];
    const cmat& Ma = M(cluster(a));
    const cmat& Mb = M(cluster(b));
    for (std::size_t k = 0; k < la.size() && la.size() > 1; ++k)
      if (static_cast<int>(k) != position(a) && Ma(static_cast<long>(k), position(a)) != cplx(0.0, 0.0))
        trip.emplace_back(local_index(element(la[k], b)), j, Ma(static_cast<long>(k), position(a)));
    for (std::size_t k = 0; k < lb.size() && lb.size() > 1; ++k)
      if (static_cast<int>(k) != position(b) && Mb(static_cast<long>(k), position(b)) != cplx(0.0, 0.0))
        trip.emplace_back(local_index(element(a, lb[k])), j, std::conj(Mb(static_cast<long>(k), position(b))));
    // Gain: transitions leaving a and leaving b in the same group (both lists sorted by group).
    const int* pa = out_members_.data() + out_offsets_[static_cast<std::size_t>(a)];
    const int* ea = out_members_.data() + out_offsets_[static_cast<std::size_t>(a) + 1];
    const int* pb = out_members_.data() + out_offsets_[static_cast<std::size_t>(b)];
    const int* eb = out_members_.data() + out_offsets_[static_cast<std::size_t>(b) + 1];
    const bool src_in = in_cluster(e);
    while (pa != ea && pb != eb) {
      const int ga = trans_[static_cast<std::size_t>(*pa)].group, gb = trans_[static_cast<std::size_t>(*pb)].group;
      if (ga < gb) {
        ++pa;
      } else if (gb < ga) {
        ++pb;
      } else {
        const int* qa = pa;
        while (qa != ea && trans_[static_cast<std::size_t>(*qa)].group == ga) ++qa;
        const int* qb = pb;
        while (qb != eb && trans_[static_cast<std::size_t>(*qb)].group == ga) ++qb;
        for (const int* i = pa; i != qa; ++i)
          for (const int* k = pb; k != qb; ++k) {
            const Transition& t1 = trans_[static_cast<std::size_t>(*i)];
            const Transition& t2 = trans_[static_cast<std::size_t>(*k)];
            const long tgt = element(t1.to, t2.to);
            if (tgt == e || in_cluster(tgt) != src_in) continue;
            trip.emplace_back(local_index(tgt), j, (t1.gamma + std::conj(t2.gamma)) * t1.x * std::conj(t2.x));
          }
        pa = qa;
        pb = qb;
      }
    }
  }
  spcmat A(n, n);
  A.setFromTriplets(trip.begin(), trip.end());
  A.makeCompressed();
  return A;
}

}  // namespace qheat::response_detail
