// The hierarchy of auxiliary density operators, its steady state through steady/, the heat currents from
// the first tier and the automatic convergence in depth and terms (docs/methods.md, "HEOM").
#include "qheat/hierarchy/heom.hpp"

#include <Eigen/Dense>
#include <Eigen/SparseCore>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "qheat/core/interrupt.hpp"
#include "qheat/core/linalg.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/generators/generator.hpp"
#include "qheat/operators/charge.hpp"
#include "qheat/operators/hermitian_blocks.hpp"
#include "qheat/thermo/thermo.hpp"

namespace qheat {
namespace {

using Sparse = LinearProblem<cplx>::Sparse;
using Triplet = Eigen::Triplet<cplx, long>;

// Superoperators on column-stacked vec(X), X(i, j) at i + d j: vec(A X) = (I (x) A) vec(X),
// vec(X B) = (B^T (x) I) vec(X).
Sparse left_product(const cmat& A) {
  const long d = A.rows();
  std::vector<Triplet> t;
  for (long j = 0; j < d; ++j)
    for (long a = 0; a < d; ++a)
      for (long i = 0; i < d; ++i)
        if (A(i, a) != cplx(0)) t.emplace_back(i + d * j, a + d * j, A(i, a));
  Sparse S(d * d, d * d);
  S.setFromTriplets(t.begin(), t.end());
  return S;
}
Sparse right_product(const cmat& B) {
  const long d = B.rows();
  std::vector<Triplet> t;
  for (long j = 0; j < d; ++j)
    for (long b = 0; b < d; ++b)
      if (B(b, j) != cplx(0))
        for (long i = 0; i < d; ++i) t.emplace_back(i + d * j, i + d * b, B(b, j));
  Sparse S(d * d, d * d);
  S.setFromTriplets(t.begin(), t.end());
  return S;
}

// One exponent of the hierarchy: bath a, C_a(t) term c e^{-nu t}.
struct Mode {
  int bath = 0;
  cplx c;
  double nu = 0.0;
};

// The multi-indices n with |n| <= depth, level by level; each generated once by adding e_k with k at or
// after the last non-zero index.
struct Hierarchy {
  int modes = 0, depth = 0;
  std::vector<std::uint8_t> index;  // ados x modes
  std::unordered_map<std::string, long> rank;
  [[nodiscard]] long size() const { return modes == 0 ? 1 : static_cast<long>(index.size()) / modes; }
  [[nodiscard]] std::string key(long a) const {
    return {reinterpret_cast<const char*>(index.data()) + a * modes, static_cast<std::size_t>(modes)};
  }
};

long ado_count(int modes, int depth) {
  // C(modes + depth, depth), saturating
  double c = 1.0;
  for (int k = 1; k <= depth; ++k) c = c * (modes + k) / k;
  return c > 9e15 ? static_cast<long>(9e15) : static_cast<long>(std::llround(c));
}

Hierarchy build_hierarchy(int modes, int depth) {
  Hierarchy h;
  h.modes = modes;
  h.depth = depth;
  h.index.assign(static_cast<std::size_t>(modes), 0);
  h.rank.emplace(h.key(0), 0);
  long begin = 0, end = 1;
  for (int level = 1; level <= depth && modes > 0; ++level) {
    for (long a = begin; a < end; ++a) {
      int last = 0;
      for (int k = 0; k < modes; ++k)
        if (h.index[static_cast<std::size_t>(a * modes + k)] != 0) last = k;
      for (int k = last; k < modes; ++k) {
        const std::size_t at = h.index.size();
        h.index.insert(h.index.end(), h.index.begin() + a * modes, h.index.begin() + (a + 1) * modes);
        h.index[at + static_cast<std::size_t>(k)] += 1;
        h.rank.emplace(h.key(static_cast<long>(at) / modes), static_cast<long>(at) / modes);
      }
    }
    begin = end;
    end = h.size();
  }
  return h;
}

// The non-zeros (row, column, value) of a dd x dd superoperator, applied to one d x d block at a time.
struct Entries {
  std::vector<int> row, col;
  std::vector<cplx> val;
  Entries() = default;
  explicit Entries(const Sparse& S) {
    for (long c = 0; c < S.outerSize(); ++c)
      for (Sparse::InnerIterator it(S, c); it; ++it) {
        row.push_back(static_cast<int>(it.row()));
        col.push_back(static_cast<int>(c));
        val.push_back(it.value());
      }
  }
  // y += f S x
  void add(const cplx* x, cplx* y, cplx f) const {
    for (std::size_t i = 0; i < val.size(); ++i) y[row[i]] += f * val[i] * x[col[i]];
  }
};

// The residual's second-order kernel in H's eigenbasis (eq. H4b): an auxiliary operator damped at gamma sees
// G(X)_ij = Gamma_res(E_j - E_i + i gamma) X_ij; stored per bath as the d^2 values over column-stacked (i, j).
cvec residual_kernel(const rvec& E, const CorrelationExpansion& bath, double damping) {
  const long d = E.size();
  cvec g(d * d);
  for (long j = 0; j < d; ++j)
    for (long i = 0; i < d; ++i) g(i + d * j) = bath.residual_transform(E(j) - E(i), damping);
  return g;
}

// The hierarchy operator of eq. H5 on the scaled unknowns rho_n / prod_k sqrt(n_k! |c_k|^n_k) (couplings up
// and down the hierarchy of equal size sqrt(n_k |c_k|), which makes GMRES converge in fewer iterations;
// rho_0 unchanged), applied block by block without assembling it: the assembled matrix (fallback only) was
// 4-5x the time of the solve on Zhang's model at depth 4 with 9 terms (perf: triplets and page faults).
// Block (n, n): L0 - (n.nu) + the terminator's damping correction; (n, n + e_k): -i sqrt((n_k+1)|c_k|) [Q, .];
// (n, n - e_k): -i sqrt(n_k/|c_k|) (c_k Q . - c_k^* . Q).
class HierarchyOperator {
 public:
  long d = 0, dd = 0, N = 0;
  int K = 0;
  Hierarchy h;
  std::vector<Mode> modes;
  std::vector<double> weight;  // |c_k|
  Sparse L0;                   // L_S plus the terminators at zero damping
  std::vector<double> damping;  // n.nu per ADO
  std::vector<int> up, down;   // N x K neighbours n + e_k, n - e_k (-1: none)
  std::vector<Entries> comm, anti;  // per bath: [Q, .], {Q, .}
  std::vector<int> mode_begin;      // the modes of bath b are mode_begin[b] .. mode_begin[b + 1] - 1
  std::vector<std::vector<double>> up_coef, down_coef;  // per mode and occupation n: sqrt((n+1)|c|), sqrt(n/|c|)
  std::vector<Sparse> comm_sparse, lower_sparse;  // per bath [Q, .]; per mode -i (c Q . - c^* . Q)
  // Second-order terminator: per ADO the index of its damping correction (-1: none), and per correction the
  // kernels Gamma_res(.. + i gamma) - Gamma_res(..) of every bath in H's eigenbasis.
  std::vector<int> shift_of;
  std::vector<std::vector<cvec>> shift;
  rvec E;                     // H's eigenvalues and eigenvectors (each in one charge class when H conserves one)
  cmat U;
  Eigenbasis basis;           // the same, with the charge classes' blocks
  bool by_sectors = false;    // basis changes block by block over the classes (Eigenbasis::to_eigen)
  std::vector<int> level_charge;  // the charge class of each level (empty: none)
  // Per bath: its operator in H's eigenbasis, U^dag Q U, and the kernel g of its terminator -[Q, g o [Q, .]] there
  // (Ishizaki-Tanimura: g = Delta everywhere; second order: kernel0; empty: none) -- the preconditioner's terms.
  std::vector<cmat> Q_eigen;
  std::vector<cvec> terminator_eigen;
  std::vector<cvec> kernel0;  // per bath: the second-order kernel at zero damping (eq. H4b)
  mutable cmat work_z, work_w;  // apply's work arrays (one solve uses an operator from one thread)

  HierarchyOperator(const Model& model, const std::vector<CorrelationExpansion>& baths, int depth_, HeomTerminator term) {
    const cmat& H = model.hamiltonian;
    d = H.rows();
    dd = d * d;
    for (std::size_t a = 0; a < baths.size(); ++a)
      for (const CorrelationTerm& t : baths[a].terms) modes.push_back({static_cast<int>(a), t.c, t.nu});
    K = static_cast<int>(modes.size());
    for (const Mode& m : modes) weight.push_back(std::abs(m.c) > 0.0 ? std::abs(m.c) : 1.0);
    // L_S rho = -i[H, rho] (eq. H5) plus the terminators (eq. H4 or H4b at zero damping).
    L0 = cplx(0, -1) * (left_product(H) - right_product(H));
    basis = diagonalize(H, excitation_numbers(model.space));
    E = basis.energies;
    U = basis.vectors;
    level_charge = basis.charge;
    by_sectors = basis.level_sectors.size() > 1 && d >= kMinSectorDim;
    cmat terminator0;  // the second-order terminators at zero damping, summed over the baths
    for (std::size_t a = 0; a < baths.size(); ++a) {
      const cmat& Q = model.baths[a].op;
      const Sparse QL = left_product(Q), QR = right_product(Q);
      comm_sparse.push_back(QL - QR);
      comm.emplace_back(comm_sparse.back());
      anti.emplace_back(Sparse(QL + QR));
      Q_eigen.push_back(U.adjoint() * Q * U);
      terminator_eigen.emplace_back();
      if (term == HeomTerminator::ishizaki_tanimura && baths[a].terminator != 0.0) {
        L0 = L0 - baths[a].terminator * Sparse(comm_sparse.back() * comm_sparse.back());
        terminator_eigen.back() = cvec::Constant(dd, baths[a].terminator);
      } else if (term == HeomTerminator::second_order) {
        kernel0.push_back(residual_kernel(E, baths[a], 0.0));
        if (terminator0.size() == 0) terminator0 = cmat::Zero(dd, dd);
        add_second_order_block(a, kernel0.back(), terminator0);
        terminator_eigen.back() = kernel0.back();
      }
    }
    if (terminator0.size() > 0) L0 = L0 + Sparse(terminator0.sparseView(0.0, 0.0));
    terminator0.resize(0, 0);
    for (const Mode& m : modes) {
      const auto b = static_cast<std::size_t>(m.bath);
      const cmat& Q = model.baths[b].op;
      lower_sparse.push_back(cplx(0, -1) * (m.c * left_product(Q) - std::conj(m.c) * right_product(Q)));
    }
    h = build_hierarchy(K, depth_);
    N = h.size();
    for (std::size_t k = 0; k < modes.size(); ++k) {
      std::vector<double> u, dn;
      for (int n = 0; n <= depth_; ++n) {
        u.push_back(std::sqrt((n + 1) * weight[k]));
        dn.push_back(std::sqrt(n / weight[k]));
      }
      up_coef.push_back(std::move(u));
      down_coef.push_back(std::move(dn));
    }
    mode_begin.assign(1, 0);
    for (const CorrelationExpansion& e : baths) mode_begin.push_back(mode_begin.back() + static_cast<int>(e.terms.size()));
    damping.assign(static_cast<std::size_t>(N), 0.0);
    up.assign(static_cast<std::size_t>(N * K), -1);
    down.assign(static_cast<std::size_t>(N * K), -1);
    shift_of.assign(static_cast<std::size_t>(N), -1);
    std::map<double, int> shift_index;
    std::string nb;
    for (long a = 0; a < N; ++a) {
      if (a % 4096 == 0) throw_if_interrupted();
      int level = 0;
      double g = 0.0;
      for (int k = 0; k < K; ++k) {
        const int nk = occupation(a, k);
        g += nk * modes[static_cast<std::size_t>(k)].nu;
        level += nk;
      }
      damping[static_cast<std::size_t>(a)] = g;
      nb = h.key(a);
      for (int k = 0; k < K; ++k) {
        const int nk = occupation(a, k);
        if (level < depth_) {
          nb[static_cast<std::size_t>(k)] = static_cast<char>(nk + 1);
          up[static_cast<std::size_t>(a * K + k)] = static_cast<int>(h.rank.at(nb));
        }
        if (nk > 0) {
          nb[static_cast<std::size_t>(k)] = static_cast<char>(nk - 1);
          down[static_cast<std::size_t>(a * K + k)] = static_cast<int>(h.rank.at(nb));
        }
        nb[static_cast<std::size_t>(k)] = static_cast<char>(nk);
      }
      if (term == HeomTerminator::second_order && g != 0.0) {
        auto it = shift_index.find(g);
        if (it == shift_index.end()) {
          std::vector<cvec> ks;
          ks.reserve(baths.size());
          for (std::size_t b = 0; b < baths.size(); ++b) ks.push_back(residual_kernel(E, baths[b], g) - kernel0[b]);
          shift.push_back(std::move(ks));
          it = shift_index.emplace(g, static_cast<int>(shift.size()) - 1).first;
        }
        shift_of[static_cast<std::size_t>(a)] = it->second;
      }
    }
  }

  // T += -[Q_b, U (g o (U^-1 [Q_b, .] U)) U^-1] as a dense d^2 x d^2 block: the second-order terminator with
  // kernel g. Transient memory: three d^2 x d^2 matrices besides T.
  void add_second_order_block(std::size_t b, const cvec& g, cmat& T) const {
    cmat M = cmat::Identity(dd, dd), W;
    to_eigenbasis(M, W);
    M = g.asDiagonal() * M;
    from_eigenbasis(M, W);
    W.resize(0, 0);
    const Sparse& C = comm_sparse[b];
    const cmat MC = M * C;
    M.resize(0, 0);
    T.noalias() -= C * MC;
  }

  // X_a -> U^dag X_a U for every column a of X (a column-stacked d x d block): to H's eigenbasis. W: work.
  void to_eigenbasis(cmat& X, cmat& W) const {
    const long blocks = X.cols();
    if (by_sectors) {  // U is zero outside the classes' blocks: a fraction of the dense products' operations
      for (long a = 0; a < blocks; ++a) {
        Eigen::Map<cmat> Xa(X.data() + a * dd, d, d);
        Xa = basis.to_eigen(Xa);
      }
      return;
    }
    W.resize(dd, blocks);
    Eigen::Map<cmat>(W.data(), d, d * blocks).noalias() = U.adjoint() * Eigen::Map<const cmat>(X.data(), d, d * blocks);
    for (long a = 0; a < blocks; ++a)
      Eigen::Map<cmat>(X.data() + a * dd, d, d).noalias() = Eigen::Map<const cmat>(W.data() + a * dd, d, d) * U;
  }
  // X_a -> U X_a U^dag: back to the site basis.
  void from_eigenbasis(cmat& X, cmat& W) const {
    const long blocks = X.cols();
    if (by_sectors) {
      for (long a = 0; a < blocks; ++a) {
        Eigen::Map<cmat> Xa(X.data() + a * dd, d, d);
        Xa = basis.from_eigen(Xa);
      }
      return;
    }
    W.resize(dd, blocks);
    Eigen::Map<cmat>(W.data(), d, d * blocks).noalias() = U * Eigen::Map<const cmat>(X.data(), d, d * blocks);
    for (long a = 0; a < blocks; ++a)
      Eigen::Map<cmat>(X.data() + a * dd, d, d).noalias() =
          Eigen::Map<const cmat>(W.data() + a * dd, d, d) * U.adjoint();
  }

  [[nodiscard]] int occupation(long a, int k) const { return h.index[static_cast<std::size_t>(a * K + k)]; }

  // Bytes of the matrix-free operator and its workspace (neighbour tables, multi-indices and their hash map,
  // two d^2 x N work arrays).
  static std::size_t bytes(long nados, int modes, long dd) {
    const auto n = static_cast<std::size_t>(nados);
    return n * static_cast<std::size_t>(modes) * (2 * sizeof(int) + 1) + n * 96 +
           3 * n * static_cast<std::size_t>(dd) * sizeof(cplx);
  }

  // y = A x
  void apply(const cvec& x, cvec& y) const {
    y.resize(x.size());
    Eigen::Map<const cmat> X(x.data(), dd, N);
    Eigen::Map<cmat> Y(y.data(), dd, N);
    Y.noalias() = L0 * X;
    for (long a = 0; a < N; ++a) Y.col(a) -= damping[static_cast<std::size_t>(a)] * X.col(a);
    apply_shift(X, Y);
    // The couplings of bath b into ADO a: -i [Q, sum_up s_k X_{n+e_k} + sum_down f_k Re(c_k) X_{n-e_k}]
    // + {Q, sum_down f_k Im(c_k) X_{n-e_k}} (-i (c Q X - c^* X Q) = -i Re c [Q, X] + Im c {Q, X}): one
    // superoperator application per bath and kind instead of one per mode (perf: this loop was 37 % of an
    // automatic-mode run).
    cvec acc(dd), acc_im(dd);
    for (long a = 0; a < N; ++a) {
      cplx* ya = y.data() + a * dd;
      for (std::size_t b = 0; b + 1 < mode_begin.size(); ++b) {
        acc.setZero();
        bool any = false, any_im = false;
        for (int k = mode_begin[b]; k < mode_begin[b + 1]; ++k) {
          const auto kk = static_cast<std::size_t>(k);
          const auto nk = static_cast<std::size_t>(occupation(a, k));
          if (const int u = up[static_cast<std::size_t>(a) * static_cast<std::size_t>(K) + kk]; u >= 0) {
            acc += up_coef[kk][nk] * X.col(u);
            any = true;
          }
          if (const int dn = down[static_cast<std::size_t>(a) * static_cast<std::size_t>(K) + kk]; dn >= 0) {
            const double f = down_coef[kk][nk];
            acc += (f * modes[kk].c.real()) * X.col(dn);
            any = true;
            if (modes[kk].c.imag() != 0.0) {
              if (!any_im) acc_im.setZero();
              acc_im += (f * modes[kk].c.imag()) * X.col(dn);
              any_im = true;
            }
          }
        }
        if (any) comm[b].add(acc.data(), ya, cplx(0, -1));
        if (any_im) anti[b].add(acc_im.data(), ya, 1.0);
      }
    }
  }

  // r_a -= (couplings from the tier below) y for a in [a0, a1) (the preconditioner's Gauss-Seidel step).
  void subtract_lower(const cvec& y, cvec& r, long a0, long a1) const {
    Eigen::Map<const cmat> Yv(y.data(), dd, N);
    cvec acc(dd), acc_im(dd);
    for (long a = a0; a < a1; ++a)
      for (std::size_t b = 0; b + 1 < mode_begin.size(); ++b) {
        acc.setZero();
        acc_im.setZero();
        bool any = false;
        for (int k = mode_begin[b]; k < mode_begin[b + 1]; ++k) {
          const auto kk = static_cast<std::size_t>(k);
          const int dn = down[static_cast<std::size_t>(a) * static_cast<std::size_t>(K) + kk];
          if (dn < 0) continue;
          const double f = down_coef[kk][static_cast<std::size_t>(occupation(a, k))];
          acc += (f * modes[kk].c.real()) * Yv.col(dn);
          acc_im += (f * modes[kk].c.imag()) * Yv.col(dn);
          any = true;
        }
        if (!any) continue;
        comm[b].add(acc.data(), r.data() + a * dd, cplx(0, 1));
        anti[b].add(acc_im.data(), r.data() + a * dd, -1.0);
      }
  }

  // The damping correction of the second-order terminator: Y_a -= sum_b [Q_b, U (dg_ab o (U^-1 [Q_b, X_a]))].
  void apply_shift(const Eigen::Map<const cmat>& X, Eigen::Map<cmat>& Y) const {
    if (shift.empty()) return;
    // work arrays kept between calls: fresh ones cost page faults (a quarter of the time, perf)
    cmat& Z = work_z;
    cmat& W = work_w;
    Z.resize(dd, N);
    W.resize(dd, N);
    for (std::size_t b = 0; b < comm.size(); ++b) {
      Z.setZero();
      for (long a = 0; a < N; ++a) comm[b].add(X.col(a).data(), Z.col(a).data(), 1.0);
      to_eigenbasis(Z, W);
      for (long a = 0; a < N; ++a) {
        const int s = shift_of[static_cast<std::size_t>(a)];
        if (s < 0)
          Z.col(a).setZero();
        else
          Z.col(a).array() *= shift[static_cast<std::size_t>(s)][b].array();
      }
      from_eigenbasis(Z, W);
      for (long a = 0; a < N; ++a) comm[b].add(Z.col(a).data(), Y.col(a).data(), -1.0);
    }
  }

  // The assembled operator (for the sparse-LU fallback); null when it would not fit in memory.
  [[nodiscard]] std::shared_ptr<const Sparse> assemble() const {
    long per_ado = L0.nonZeros() + dd + (shift.empty() ? 0 : dd * dd);
    for (const Mode& m : modes) per_ado += 2 * comm_sparse[static_cast<std::size_t>(m.bath)].nonZeros();
    const auto nnz = static_cast<std::size_t>(N) * static_cast<std::size_t>(per_ado);
    if (nnz * (sizeof(Triplet) + sizeof(cplx) + sizeof(long)) > memory_limit()) return nullptr;
    std::vector<Triplet> trip;
    trip.reserve(nnz);
    auto emit = [&trip](const Sparse& S, long row0, long col0, cplx f) {
      for (long c = 0; c < S.outerSize(); ++c)
        for (Sparse::InnerIterator it(S, c); it; ++it) trip.emplace_back(row0 + it.row(), col0 + c, f * it.value());
    };
    std::vector<Sparse> shift_blocks;
    for (const std::vector<cvec>& ks : shift) {
      cmat T = cmat::Zero(dd, dd);
      for (std::size_t b = 0; b < ks.size(); ++b) add_second_order_block(b, ks[b], T);
      shift_blocks.emplace_back(T.sparseView(0.0, 0.0));
    }
    for (long a = 0; a < N; ++a) {
      const long r0 = a * dd;
      emit(L0, r0, r0, 1.0);
      const double g = damping[static_cast<std::size_t>(a)];
      if (g != 0.0)
        for (long i = 0; i < dd; ++i) trip.emplace_back(r0 + i, r0 + i, cplx(-g, 0.0));
      const int s = shift_of[static_cast<std::size_t>(a)];
      if (s >= 0) emit(shift_blocks[static_cast<std::size_t>(s)], r0, r0, 1.0);
      for (int k = 0; k < K; ++k) {
        const int nk = occupation(a, k);
        const auto b = static_cast<std::size_t>(modes[static_cast<std::size_t>(k)].bath);
        if (const int u = up[static_cast<std::size_t>(a * K + k)]; u >= 0)
          emit(comm_sparse[b], r0, u * dd, cplx(0, -1) * up_coef[static_cast<std::size_t>(k)][static_cast<std::size_t>(nk)]);
        if (const int dn = down[static_cast<std::size_t>(a * K + k)]; dn >= 0)
          emit(lower_sparse[static_cast<std::size_t>(k)], r0, dn * dd, down_coef[static_cast<std::size_t>(k)][static_cast<std::size_t>(nk)]);
      }
    }
    auto A = std::make_shared<Sparse>(N * dd, N * dd);
    A->setFromTriplets(trip.begin(), trip.end());
    A->makeCompressed();
    return A;
  }

  // Y_a for the ADO e_k, unscaled (rho_{e_k}).
  [[nodiscard]] cmat first_tier(const cvec& x, int k) const {
    std::string e(static_cast<std::size_t>(K), '\0');
    e[static_cast<std::size_t>(k)] = 1;
    const long at = h.rank.at(e);
    return std::sqrt(weight[static_cast<std::size_t>(k)]) * Eigen::Map<const cmat>(x.data() + at * dd, d, d);
  }
};

// The charge classes ADO 0's preconditioner keeps apart: when H conserves the excitation number q modulo m and each
// bath operator Q_b shifts it by one amount s_b (operators/charge.hpp; s_b = -s_b mod m as Q_b is Hermitian), every
// term of B0 -- L_S, elementwise kernels in H's eigenbasis, [Q_b, .] applied twice -- keeps the class of
// q_i - q_j of an element |i><j| (up to sign: the Hermitian coordinates pair |i><j| with |j><i|). m = 1: none.
int schur_modulus(const Model& model, const std::vector<int>& q) {
  if (static_cast<long>(q.size()) != model.hamiltonian.rows()) return 1;
  int m = charge_modulus(model.hamiltonian, q, 0, true);
  for (const Bath& b : model.baths)
    if (m != 1) m = charge_modulus(b.op, q, m, false);
  return m;
}

// The Hermitian coordinates (HermitianBlocks::full(d)) of each class of +-(c_i - c_k) modulo m (m = 0: exactly),
// classes by increasing key; one class holding every coordinate when m = 1 or there are no charges.
std::vector<std::vector<long>> schur_classes(const std::vector<int>& charge, int m, long d) {
  const HermitianBlocks coords = HermitianBlocks::full(static_cast<int>(d));
  const bool none = m == 1 || static_cast<long>(charge.size()) != d;
  std::map<int, std::vector<long>> by_key;
  for (long k = 0; k < d; ++k)
    for (long i = 0; i <= k; ++i) {
      int key = 0;
      if (!none) {
        const int delta = charge[static_cast<std::size_t>(i)] - charge[static_cast<std::size_t>(k)];
        const int r = m == 0 ? std::abs(delta) : ((delta % m) + m) % m;
        key = m == 0 ? r : std::min(r, m - r);
      }
      std::vector<long>& members = by_key[key];
      const long c = coords.coordinate(0, i, k);
      members.push_back(c);
      if (i != k) members.push_back(c + 1);
    }
  std::vector<std::vector<long>> classes;
  for (auto& [key, members] : by_key) {
    std::sort(members.begin(), members.end());
    classes.push_back(std::move(members));
  }
  return classes;
}

// Bytes of dense blocks of these sizes (elements each) at the peak of their construction: each once, and once more
// for those the heap keeps after they are freed (below kMappedBlockBytes; measured at five qubits, hierarchy_memory).
std::size_t dense_block_peak(const std::vector<std::size_t>& elements, std::size_t bytes_per_element) {
  std::size_t n = 0;
  for (std::size_t e : elements) {
    const std::size_t bytes = e * bytes_per_element;
    n += bytes < kMappedBlockBytes ? 2 * bytes : bytes;
  }
  return n;
}

// Largest residual one single-precision solve may leave of a generic right-hand side (relative) for the factors to
// be kept: each refinement step then gains at least two digits. Measured (XX chain N = 4, gamma 1e-2 ... 1e-6):
// 1.9e-5 ... 1.4e-2 with 3-6 steps per solve, and 0.24 at gamma = 1e-6, where the refinement stalled and GMRES,
// fed the unrefined solves, let the automatic mode run to 9.8 GB.
constexpr double kSingleSchurContraction = 1e-2;
// At most this many refinement steps per single-precision solve (each gains ~-log10(1e-7 x condition) digits).
constexpr int kMaxSchurRefinements = 8;
// The iterative solve of ADO 0's Schur complement: at most this many slow elements kept exactly, and GMRES's
// restart, iteration bound and relative tolerance (to round-off: the outer GMRES needs a fixed preconditioner).
constexpr long kSlowCap = 4096;
constexpr int kInnerRestart = 60;
constexpr double kInnerTolerance = 1e-13;
// A solve that ends above this relative residual (iteration bound, stagnation) is a failure (SchurNotConverged);
// round-off leaves up to ~1e-10 (solve_iterative).
constexpr double kInnerAccept = 1e-8;

// How TierGaussSeidel solves with ADO 0's Schur complement: GMRES on B0 (enabled) or dense factors.
struct IterativeSchur {
  bool enabled = false;
  int max_iterations = 600;
  bool fail_fast = false;  // throw SchurNotConverged when a solve does not reach kInnerAccept
};
struct SchurNotConverged {};

// Products with operators that are block sparse over H's charge classes in H's eigenbasis (a bath operator that shifts
// the charge: its blocks between classes it does not connect are exactly zero), on the levels ordered class by class:
// only the non-zero blocks are multiplied (apply_b0 at N = 9: ~1/3 of the dense products' operations).
struct ClassBlocks {
  std::vector<long> order;  // the levels class by class: position k holds level order[k]
  std::vector<long> start;  // each class's first position, then d
  std::vector<std::vector<std::pair<int, int>>> pairs;  // per operator: its non-zero blocks (row class, column class)
  std::vector<cmat> ops;                                // the operators in that order
  ClassBlocks(const Eigenbasis& basis, const std::vector<cmat>& operators) {
    start.push_back(0);
    for (const std::vector<int>& levels : basis.level_sectors) {
      for (const int k : levels) order.push_back(k);
      start.push_back(static_cast<long>(order.size()));
    }
    for (const cmat& Q : operators) {
      ops.push_back(Q(order, order));
      std::vector<std::pair<int, int>> nz;
      for (std::size_t s = 0; s + 1 < start.size(); ++s)
        for (std::size_t t = 0; t + 1 < start.size(); ++t)
          if (!block(ops.back(), s, t).isZero(0.0)) nz.emplace_back(static_cast<int>(s), static_cast<int>(t));
      pairs.push_back(std::move(nz));
    }
  }
  [[nodiscard]] long size(std::size_t s) const { return start[s + 1] - start[s]; }
  [[nodiscard]] Eigen::Block<const cmat> block(const cmat& Q, std::size_t s, std::size_t t) const {
    return Q.block(start[s], start[t], size(s), size(t));
  }
  // R += f Q X (Q: operator b) and R += f X Q, over Q's non-zero blocks. A one-level class by Eigen's own loops:
  // BLAS's gemv is OpenBLAS 0.3.21's zgemv_n_HASWELL, which reads past its operands (generator.cpp,
  // transform_by_sectors).
  void left(std::size_t b, const cmat& X, cmat& R, double f) const {
    for (const auto& [s, t] : pairs[b]) {
      const auto us = static_cast<std::size_t>(s), ut = static_cast<std::size_t>(t);
      auto out = R.middleRows(start[us], size(us));
      if (size(us) == 1 || size(ut) == 1)
        out += f * block(ops[b], us, ut).lazyProduct(X.middleRows(start[ut], size(ut)));
      else
        out.noalias() += f * (block(ops[b], us, ut) * X.middleRows(start[ut], size(ut)));
    }
  }
  void right(std::size_t b, const cmat& X, cmat& R, double f) const {
    for (const auto& [s, t] : pairs[b]) {
      const auto us = static_cast<std::size_t>(s), ut = static_cast<std::size_t>(t);
      auto out = R.middleCols(start[ut], size(ut));
      if (size(us) == 1 || size(ut) == 1)
        out += f * X.middleCols(start[us], size(us)).lazyProduct(block(ops[b], us, ut));
      else
        out.noalias() += f * (X.middleCols(start[us], size(us)) * block(ops[b], us, ut));
    }
  }
};

// ADO 0's real factors, handed from one hierarchy of the automatic mode to the next (TierGaussSeidel).
struct SchurFactors {
  long d = 0;
  std::vector<std::vector<long>> classes;
  std::vector<linalg::DenseLU<float>> single;
  std::vector<linalg::DenseLU<double>> real;
  double rcond = 1.0;
  [[nodiscard]] bool empty() const { return single.empty() && real.empty(); }
};

struct TierGaussSeidel {
  cvec w;  // -i (E_i - E_j) on the eigenbasis element |i><j| (column-stacked i + d j)
  // ADO 0's Schur complement in H's eigenbasis, factorised: real in Hermitian coordinates when it maps Hermitian
  // operators to Hermitian operators (sgetrf, or dgetrf when the refinement would not contract fast enough), else
  // complex (zgetrf).
  std::vector<linalg::DenseLU<float>> lu0_single;  // per charge class (schur_classes)
  std::vector<linalg::DenseLU<double>> lu0_real;   // the same in double precision
  std::vector<std::vector<long>> classes;         // the Hermitian coordinates of each class
  linalg::DenseLU<cplx> lu0;
  HermitianBlocks coordinates;  // one block: every Hermitian d x d operator (real path)
  bool real0 = false, single0 = false;
  bool reused0 = false;  // the factors are another hierarchy's (its solves refined against this B0, as single ones)
  // Iterative: ADO 0 by GMRES on B0 with its secular part (build_secular) as preconditioner.
  bool iterative0 = false;
  std::vector<long> slow;          // the elements B0 keeps exactly (column-stacked positions, ascending)
  linalg::DenseLU<cplx> slow_lu;   // B0 on them
  cvec fast_inverse;               // 1 / B0's diagonal on the others, 0 on the slow ones
  mutable long inner_iterations = 0, inner_solves = 0;
  IterativeSchur inner_;
  // apply_b0 by the charge classes' blocks when H conserves a charge (A.by_sectors): the operators, alpha, beta, w and
  // u0 in the classes' order.
  std::shared_ptr<const ClassBlocks> blocks_;
  std::vector<cmat> alphas_p_, betas_p_;
  cmat w_p_, u0_p_;
  int factorisations = 0;  // of B0 by this preconditioner (0 when reused; 2 when single precision did not do)
  double rcond0 = 1.0;
  // B0's terms (apply_b0): the border's weight and vector, and per bath alpha, beta (d x d column-stacked).
  double s_ = 0.0;
  cvec u0_;
  std::vector<cvec> alphas_, betas_;
  mutable long refinements = 0, refined_solves = 0;  // the refinement steps of the single-precision solves
  double first_contraction = 0.0;                    // refinement_contraction of the single-precision factors
  std::vector<long> tier_start;
  mutable cvec work_r;
  mutable cmat work_z, work_w;
  // The diagonal block of ADO n is L0 - (n.nu); the preconditioner inverts L_S - (n.nu) in its place, L_S =
  // -i[H, .] being diagonal in H's eigenbasis: (L_S - g)^-1 X = U [(U^dag X U) / (w - g)] U^dag, two d x d products
  // each way per operator. The terminators in L0 (and the second-order one's damping correction) are left to
  // GMRES. Against the exact eigen-decomposition of L0 (a d^2 x d^2 zgeev, d^6 time, and dense d^2 x d^2 basis
  // changes in every apply) this took GMRES the same iterations or a few more (bench/README.md, "HEOM
  // preconditioner in H's eigenbasis"). ADO 0's block alone is singular (every operator commuting with H is
  // stationary under L0): its preconditioner is the Schur complement over the first tier,
  // B0 = L0 + s u u^T - sum_k up_k (L_S - nu_k)^-1 down_k -- a second-order (Redfield-like) generator that is
  // regular when the steady state is unique -- by a dense LU in H's eigenbasis, where every term is
  // [Q, alpha o (Q X) - beta o (X Q)] per bath (the terminators too, -[Q, g o [Q, X]]) and costs O(d^2) per column.
  // With real exponents nu_k (Drude's Pade and Matsubara terms) and a terminator kernel with g_ij = conj(g_ji),
  // beta_ij = conj(alpha_ji): B0 maps Hermitian operators to Hermitian ones, so it is a real d^2 x d^2 matrix in
  // Hermitian coordinates, factorised with a quarter of zgetrf's operations in half its memory; a complex X = X1 +
  // i X2 (X1, X2 Hermitian) is then solved as two real right-hand sides.
  // Memory: B0's blocks (real: one per charge class, schur_classes), factorised in place, and the heap's freed
  // blocks (hierarchy_memory, dense_block_peak).
  // Single precision halves the real blocks' memory and sgetrf takes 0.57x dgetrf's time; the solves are refined to
  // double precision against B0 itself (solve_ado0).
  // allow_real: false keeps B0 complex, allow_single: false keeps it double (for comparison); check_memory_for(real,
  // single) throws MemoryLimitError when B0 in that form would not fit, and runs before a form the estimate did not
  // count is built (the estimate counts a real one, in single precision when allowed, when the exponents are real).
  // previous (may be null): the real factors of the automatic mode's previous hierarchy, taken when this B0's
  // refinement against them contracts as fast as for fresh single-precision factors (kSingleSchurContraction), and
  // emptied either way before any factorisation (their memory is this B0's in the estimate).
  TierGaussSeidel(const HierarchyOperator& A, double s, const cvec& u0, bool allow_real, bool allow_single, int modulus,
                  const std::function<void(bool, bool)>& check_memory_for, SchurFactors* previous,
                  const IterativeSchur& inner)
      : inner_(inner) {
    const long d = A.d, dd = A.dd;
    w.resize(dd);
    for (long j = 0; j < d; ++j)
      for (long i = 0; i < d; ++i) w(i + d * j) = cplx(0.0, -(A.E(i) - A.E(j)));
    // B0 in H's eigenbasis: L_S, the border (the trace is the same functional there), the terminators and the
    // first tier's Schur terms. With lower_k = -i (c_k Q. - c_k^* .Q), up_k = -i [Q, .] and the scalings,
    // sum over bath b's modes of up_k (L_S - nu_k)^-1 down_k = [Q, alpha o (Q .) - beta o (. Q)] with
    // alpha = sum_k a_k c_k / (w - nu_k), beta = sum_k a_k c_k^* / (w - nu_k), a_k = sqrt(|c_k|) sqrt(1/|c_k|).
    for (std::size_t b = 0; b < A.Q_eigen.size(); ++b) {
      cvec alpha = cvec::Zero(dd), beta = cvec::Zero(dd);
      for (int k = A.mode_begin[b]; k < A.mode_begin[b + 1] && A.h.depth > 0; ++k) {
        const Mode& m = A.modes[static_cast<std::size_t>(k)];
        const double ak = A.up_coef[static_cast<std::size_t>(k)][0] * A.down_coef[static_cast<std::size_t>(k)][1];
        for (long i = 0; i < dd; ++i) {
          const cplx inv = 1.0 / (w(i) - m.nu);
          alpha(i) += ak * m.c * inv;
          beta(i) += ak * std::conj(m.c) * inv;
        }
      }
      if (A.terminator_eigen[b].size() > 0) {
        alpha -= A.terminator_eigen[b];
        beta -= A.terminator_eigen[b];
      }
      alphas_.push_back(std::move(alpha));
      betas_.push_back(std::move(beta));
    }
    s_ = s;
    u0_ = u0;
    if (A.by_sectors) {
      blocks_ = std::make_shared<const ClassBlocks>(A.basis, A.Q_eigen);
      const std::vector<long>& o = blocks_->order;
      auto permuted = [&](const cvec& v) { return cmat(Eigen::Map<const cmat>(v.data(), d, d)(o, o)); };
      for (std::size_t b = 0; b < alphas_.size(); ++b) {
        alphas_p_.push_back(permuted(alphas_[b]));
        betas_p_.push_back(permuted(betas_[b]));
      }
      w_p_ = permuted(w);
      u0_p_ = permuted(u0_);
    }
    // The image of |i><j| under B0 (column i + d j), as a d x d matrix.
    auto column = [&](long i, long j, Eigen::Ref<cmat> C) {
      C = s * u0(i + d * j) * Eigen::Map<const cmat>(u0.data(), d, d);
      C(i, j) += w(i + d * j);
      for (std::size_t b = 0; b < alphas_.size(); ++b) add_commutator_column(A.Q_eigen[b], alphas_[b], betas_[b], i, j, C);
    };
    real0 = !inner.enabled && allow_real && preserves_hermiticity(d, alphas_, betas_, u0);
    if (inner.enabled) {  // GMRES on B0 (solve_ado0): no dense factors
      if (previous != nullptr) *previous = SchurFactors{};
      iterative0 = true;
      build_secular(A, column);
    } else if (real0) {
      // One real block per charge class: B0 keeps the classes apart, so the image of a class's basis operator has
      // coordinates in that class only.
      coordinates = HermitianBlocks::full(static_cast<int>(d));
      classes = schur_classes(A.level_charge, modulus, d);
      if (previous != nullptr && !previous->empty() && previous->d == d && previous->classes == classes) {
        lu0_single = std::move(previous->single);
        lu0_real = std::move(previous->real);
        single0 = !lu0_single.empty();
        const double c = refinement_contraction(A);
        if (c <= kSingleSchurContraction) {
          reused0 = true;
          first_contraction = c;
          rcond0 = previous->rcond;
        } else {
          lu0_single.clear();
          lu0_real.clear();
        }
      }
      if (previous != nullptr) *previous = SchurFactors{};
      if (!reused0) {
        // Single precision when its refinement contracts fast enough; else (and when asked) double, if that fits.
        double ratio = allow_single ? factor_real_blocks(A, column, lu0_single) : 0.0;
        factorisations = allow_single ? 1 : 0;
        single0 = allow_single;
        if (single0) first_contraction = refinement_contraction(A);
        single0 = single0 && first_contraction <= kSingleSchurContraction;
        if (allow_single && !single0) {
          try {
            check_memory_for(true, false);
          } catch (const MemoryLimitError&) {
            single0 = true;  // the single-precision factors stay: a weaker preconditioner rather than none
          }
        }
        if (!single0) {
          lu0_single.clear();
          ratio = factor_real_blocks(A, column, lu0_real);
          ++factorisations;
        }
        rcond0 = ratio;
      }
    } else {
      if (previous != nullptr) *previous = SchurFactors{};
      check_memory_for(false, false);
      cmat B0(dd, dd);
      for (long j = 0; j < d; ++j)
        for (long i = 0; i < d; ++i) column(i, j, Eigen::Map<cmat>(B0.col(i + d * j).data(), d, d));
      lu0 = linalg::DenseLU<cplx>(std::move(B0));  // factorised in place
      factorisations = 1;
      rcond0 = lu0.pivot_ratio();
    }
    tier_start.push_back(0);
    for (long a = 1; a < A.N; ++a) {
      int t = 0, tprev = 0;
      for (int k = 0; k < A.K; ++k) {
        t += A.occupation(a, k);
        tprev += A.occupation(a - 1, k);
      }
      if (t != tprev) tier_start.push_back(a);
    }
    tier_start.push_back(A.N);
  }
  // B0's real blocks in Hermitian coordinates (one per class of `classes`, scalars T), each factorised in place
  // into `lus`; returns the pivot ratio over all classes (as for one LU of the whole matrix). column(i, j, C):
  // B0's image of |i><j| as a d x d matrix. Column c of a block: the coordinates of B0's image of the c-th
  // Hermitian basis operator, |i><i| or (|i><k| + |k><i|)/sqrt2 and i (|i><k| - |k><i|)/sqrt2 for i < k.
  template <class T, class Column>
  double factor_real_blocks(const HierarchyOperator& A, const Column& column, std::vector<linalg::DenseLU<T>>& lus) {
    using Block = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    const long d = A.d, dd = A.dd;
    std::vector<int> class_of(static_cast<std::size_t>(dd));
    std::vector<long> slot(static_cast<std::size_t>(dd));
    std::vector<Block> R;
    for (std::size_t c = 0; c < classes.size(); ++c) {
      const auto n = static_cast<long>(classes[c].size());
      for (long p = 0; p < n; ++p) {
        class_of[static_cast<std::size_t>(classes[c][static_cast<std::size_t>(p)])] = static_cast<int>(c);
        slot[static_cast<std::size_t>(classes[c][static_cast<std::size_t>(p)])] = p;
      }
      R.emplace_back(n, n);
    }
    cmat Ca(d, d), Cb(d, d), Y(d, d);
    rvec x(dd);
    auto put = [&](const cmat& image, long c) {
      coordinates.pack(image, 0, x);
      const auto k = static_cast<std::size_t>(class_of[static_cast<std::size_t>(c)]);
      R[k].col(slot[static_cast<std::size_t>(c)]) = x(classes[k]).template cast<T>();
    };
    for (long k = 0; k < d; ++k) {
      column(k, k, Ca);
      put(Ca, coordinates.coordinate(0, k, k));
      for (long i = 0; i < k; ++i) {
        column(i, k, Ca);
        column(k, i, Cb);
        const long c = coordinates.coordinate(0, i, k);
        Y = (Ca + Cb) * HermitianBlocks::kInvSqrt2;
        put(Y, c);
        Y = (Ca - Cb) * cplx(0.0, HermitianBlocks::kInvSqrt2);
        put(Y, c + 1);
      }
    }
    double low = std::numeric_limits<double>::infinity(), high = 0.0;
    lus.clear();
    for (Block& block : R) {
      lus.emplace_back(std::move(block));  // factorised in place
      const auto [l, h] = lus.back().pivot_range();
      low = std::min(low, l);
      high = std::max(high, h);
    }
    return high > 0 ? low / high : 0.0;
  }
  // B0's diagonal in H's eigenbasis, element (i, j) at i + d j: w + the border's s u0 o u0 + per bath
  // (P alpha) + (beta P) - (q q^T) o (alpha + beta) with P = |Q|^2 elementwise and q = diag Q (the (i, j) element
  // of add_commutator_column's image of |i><j|).
  [[nodiscard]] cvec b0_diagonal(const HierarchyOperator& A) const {
    const long d = A.d;
    cvec diag = w + s_ * u0_.cwiseProduct(u0_);
    Eigen::Map<cmat> D(diag.data(), d, d);
    for (std::size_t b = 0; b < alphas_.size(); ++b) {
      const cmat& Q = A.Q_eigen[b];
      const rmat P = Q.cwiseAbs2();
      const cvec q = Q.diagonal();
      Eigen::Map<const cmat> al(alphas_[b].data(), d, d), be(betas_[b].data(), d, d);
      D.noalias() += P.cast<cplx>() * al;
      D.noalias() += be * P.cast<cplx>();
      D -= (q * q.transpose()).cwiseProduct(al + be);
    }
    return diag;
  }
  // The secular preconditioner of B0 for the iterative solve: B0 exactly on the slow elements (the populations
  // and the coherences |i><j| whose frequency |E_i - E_j| is within the populations' largest rate), its diagonal
  // on the others (dominated by the frequency), the couplings between the two left to GMRES.
  template <class Column>
  void build_secular(const HierarchyOperator& A, const Column& column) {
    const long d = A.d, dd = A.dd;
    const cvec diag = b0_diagonal(A);
    double rate = 0.0;
    for (long i = 0; i < d; ++i) rate = std::max(rate, std::abs(diag(i + d * i) - s_ * u0_(i + d * i) * u0_(i + d * i)));
    std::vector<std::pair<double, long>> near;
    for (long j = 0; j < d; ++j)
      for (long i = 0; i < d; ++i)
        if (i != j && std::abs(w(i + d * j)) <= rate) near.emplace_back(std::abs(w(i + d * j)), i + d * j);
    std::sort(near.begin(), near.end());
    const auto cap = static_cast<std::size_t>(std::max<long>(kSlowCap, d) - d);
    if (near.size() > cap) near.resize(cap);
    slow.clear();
    for (long i = 0; i < d; ++i) slow.push_back(i + d * i);
    for (const auto& [f, at] : near) slow.push_back(at);
    std::sort(slow.begin(), slow.end());
    const auto n = static_cast<long>(slow.size());
    std::vector<long> where(static_cast<std::size_t>(dd), -1);
    for (long k = 0; k < n; ++k) where[static_cast<std::size_t>(slow[static_cast<std::size_t>(k)])] = k;
    cmat S(n, n), C(d, d);
    for (long k = 0; k < n; ++k) {
      const long at = slow[static_cast<std::size_t>(k)];
      column(at % d, at / d, C);
      for (long m = 0; m < n; ++m) S(m, k) = C.data()[slow[static_cast<std::size_t>(m)]];
    }
    slow_lu = linalg::DenseLU<cplx>(std::move(S));
    rcond0 = slow_lu.pivot_ratio();
    fast_inverse = cvec::Zero(dd);
    for (long i = 0; i < dd; ++i)
      if (where[static_cast<std::size_t>(i)] < 0) fast_inverse(i) = 1.0 / diag(i);
  }
  // Z <- P^-1 Z with the secular preconditioner.
  void solve_secular(cvec& z) const {
    cmat zs(static_cast<long>(slow.size()), 1);
    for (std::size_t k = 0; k < slow.size(); ++k) zs(static_cast<long>(k), 0) = z(slow[k]);
    z.array() *= fast_inverse.array();
    slow_lu.solve_in_place(zs);
    for (std::size_t k = 0; k < slow.size(); ++k) z(slow[k]) = zs(static_cast<long>(k), 0);
  }
  // Z <- B0^-1 Z by GMRES on B0 (apply_b0) with the secular preconditioner, to round-off, so that the outer GMRES
  // sees a fixed linear preconditioner.
  void solve_iterative(const HierarchyOperator& A, cmat& Z) const {
    const long d = A.d;
    const cvec b = Eigen::Map<const cvec>(Z.data(), A.dd);
    LinearProblem<cplx>::Op apply = [&](const cvec& x, cvec& y) {
      y = Eigen::Map<const cvec>(apply_b0(A, Eigen::Map<const cmat>(x.data(), d, d)).data(), A.dd);
    };
    LinearProblem<cplx>::Op pre = [this](const cvec& x, cvec& y) {
      y = x;
      solve_secular(y);
    };
    // GMRES's true residual at the end can stay above its tolerance (round-off in B0's products: 1e-12 ... 7e-11
    // relative measured on the XX chain at N = 9, restarts from the result gaining nothing), hence kInnerAccept.
    int total = 0;
    double rel = 1.0;
    const cvec x = gmres<cplx>(apply, pre, b, kInnerRestart, inner_.max_iterations, kInnerTolerance, total, rel, nullptr);
    inner_iterations += total;
    ++inner_solves;
    if (inner_.fail_fast && !(rel <= kInnerAccept)) throw SchurNotConverged{};
    Eigen::Map<cvec>(Z.data(), A.dd) = x;
  }
  // Whether B0 maps Hermitian operators to Hermitian ones: L_S does; the border s u u^T X = s Tr(u X) u does for
  // u = u^dag (as d x d matrices; the trace functional); each bath's [Q, alpha o (Q X) - beta o (X Q)] does for
  // beta_ij = conj(alpha_ji) (Q Hermitian). Up to round-off in the sums that make alpha and beta.
  static bool preserves_hermiticity(long d, const std::vector<cvec>& alphas, const std::vector<cvec>& betas,
                                    const cvec& u0) {
    for (long j = 0; j < d; ++j)
      for (long i = 0; i < d; ++i)
        if (u0(i + d * j) != std::conj(u0(j + d * i))) return false;
    for (std::size_t b = 0; b < alphas.size(); ++b) {
      const double big = std::max(alphas[b].cwiseAbs().maxCoeff(), betas[b].cwiseAbs().maxCoeff());
      for (long j = 0; j < d; ++j)
        for (long i = 0; i < d; ++i)
          if (std::abs(betas[b](i + d * j) - std::conj(alphas[b](j + d * i))) > 1e-13 * big) return false;
    }
    return true;
  }
  // C += the image of X = |i><j| under X -> [Q, alpha o (Q X) - beta o (X Q)] (alpha, beta: d x d column-stacked):
  // M = x e_j^T - e_i y with x = alpha(:, j) o Q(:, i), y = beta(i, :) o Q(j, :), and
  // [Q, M] = (Q x) e_j^T - Q(:, i) y - x Q(j, :) + e_i (y Q).
  static void add_commutator_column(const cmat& Q, const cvec& alpha, const cvec& beta, long i, long j,
                                    Eigen::Ref<cmat> C) {
    const long d = Q.rows();
    Eigen::Map<const cmat> al(alpha.data(), d, d), be(beta.data(), d, d);
    const cvec x = al.col(j).cwiseProduct(Q.col(i));
    const Eigen::RowVectorXcd y = be.row(i).cwiseProduct(Q.row(j));
    C.col(j) += Q * x;
    C.noalias() -= Q.col(i) * y;
    C.noalias() -= x * Q.row(j);
    C.row(i) += y * Q;
  }
  // x1, x2 <- B0^-1 x1, B0^-1 x2 on one class's coordinates.
  template <class T>
  static void solve_class(const linalg::DenseLU<T>& lu, const std::vector<long>& members, rvec& x1, rvec& x2) {
    Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> X(static_cast<long>(members.size()), 2);
    X.col(0) = x1(members).template cast<T>();
    X.col(1) = x2(members).template cast<T>();
    lu.solve_in_place(X);
    x1(members) = X.col(0).template cast<double>();
    x2(members) = X.col(1).template cast<double>();
  }
  // M <- B0^-1 M (M: d x d in H's eigenbasis) with the real factors: M = M1 + i M2 with M1 = (M + M^dag)/2 and
  // M2 = (M - M^dag)/2i Hermitian, two real right-hand sides.
  void solve_real(Eigen::Ref<cmat> M) const {
    const cmat M1 = (M + M.adjoint()) * 0.5, M2 = (M - M.adjoint()) * cplx(0.0, -0.5);
    rvec x1(M.size()), x2(M.size());
    coordinates.pack(M1, 0, x1);
    coordinates.pack(M2, 0, x2);
    for (std::size_t c = 0; c < classes.size(); ++c) {
      if (single0) {
        solve_class(lu0_single[c], classes[c], x1, x2);
      } else {
        solve_class(lu0_real[c], classes[c], x1, x2);
      }
    }
    cmat Y1, Y2;
    coordinates.unpack(x1, 0, Y1);
    coordinates.unpack(x2, 0, Y2);
    M = Y1 + cplx(0.0, 1.0) * Y2;
  }
  // B0 X without its matrix (the terms `column` builds it from): s (u0 . X) U0 + w o X + sum_b [Q_b, alpha_b o (Q_b X)
  // - beta_b o (X Q_b)], four d x d products per bath.
  [[nodiscard]] cmat apply_b0(const HierarchyOperator& A, const cmat& X) const {
    const long d = A.d;
    if (blocks_) {  // the same terms in the classes' order, block by block
      const std::vector<long>& o = blocks_->order;
      const cmat Xp = X(o, o);
      cmat Yp = w_p_.cwiseProduct(Xp);
      Yp += (s_ * u0_p_.cwiseProduct(Xp).sum()) * u0_p_;
      cmat QX(d, d), XQ(d, d);
      for (std::size_t b = 0; b < alphas_p_.size(); ++b) {
        QX.setZero();
        XQ.setZero();
        blocks_->left(b, Xp, QX, 1.0);
        blocks_->right(b, Xp, XQ, 1.0);
        const cmat M = alphas_p_[b].cwiseProduct(QX) - betas_p_[b].cwiseProduct(XQ);
        blocks_->left(b, M, Yp, 1.0);
        blocks_->right(b, M, Yp, -1.0);
      }
      cmat Y(d, d);
      Y(o, o) = Yp;
      return Y;
    }
    Eigen::Map<const cmat> W(w.data(), d, d), U0(u0_.data(), d, d);
    cmat Y = W.cwiseProduct(X);
    Y += (s_ * U0.cwiseProduct(X).sum()) * U0;
    for (std::size_t b = 0; b < alphas_.size(); ++b) {
      const cmat& Q = A.Q_eigen[b];
      Eigen::Map<const cmat> al(alphas_[b].data(), d, d), be(betas_[b].data(), d, d);
      const cmat M = al.cwiseProduct(Q * X) - be.cwiseProduct(X * Q);
      Y.noalias() += Q * M;
      Y.noalias() -= M * Q;
    }
    return Y;
  }
  // How far one solve with the single-precision factors leaves B0 Y from X, relative to X, for a generic X (fixed
  // pseudo-random elements): the factor by which each refinement step shrinks the residual.
  [[nodiscard]] double refinement_contraction(const HierarchyOperator& A) const {
    const long d = A.d;
    cmat X(d, d);
    for (long j = 0; j < d; ++j)
      for (long i = 0; i < d; ++i)
        X(i, j) = cplx(std::sin(1.0 + 0.7 * static_cast<double>(i + d * j)), std::cos(0.3 * static_cast<double>(i + d * j)));
    cmat Y = X;
    solve_real(Y);
    return (X - apply_b0(A, Y)).norm() / X.norm();
  }
  // Z <- B0^-1 Z (Z: one d^2 column in H's eigenbasis). Single-precision factors, and the factors of another
  // hierarchy's B0, are refined in double against B0 itself (iterative refinement: Y += LU^-1 (Z - B0 Y), each step
  // gaining the digits the factors' precision, or their nearness to B0, allow) until the residual stops falling by
  // 4x: the solve is then as accurate as with B0's own double factors, and GMRES sees the same linear preconditioner.
  void solve_ado0(const HierarchyOperator& A, cmat& Z) const {
    if (iterative0) {
      solve_iterative(A, Z);
      return;
    }
    if (!real0) {
      lu0.solve_in_place(Z);
      return;
    }
    Eigen::Map<cmat> M(Z.data(), A.d, A.d);
    if (!single0 && !reused0) {
      solve_real(M);
      return;
    }
    const cmat X = M;
    solve_real(M);
    double last = X.norm();
    for (int step = 0; step < kMaxSchurRefinements; ++step) {
      cmat R = X - apply_b0(A, M);
      const double r = R.norm();
      if (!(r <= 0.25 * last)) break;  // at round-off (or not contracting: then the single-precision solve stands)
      last = r;
      solve_real(R);
      M += R;
      ++refinements;
    }
    ++refined_solves;
  }
  // Block Gauss-Seidel, tier by tier: y_t = D_t^-1 (x_t - A_{t,t-1} y_{t-1}), with D_a^-1 = (L_S - (n.nu))^-1
  // applied for a whole tier at once in H's eigenbasis (ADO 0: its Schur-complement LU). Against block Jacobi
  // (the same blocks, no couplings) it halves the GMRES iterations on Kato's model at depth 7 (lam = 0.1:
  // 40 -> 22, 0.5: 74 -> 41, 1: 128 -> 60) for about the same cost per iteration (bench/README.md, "Issue 11").
  void apply(const HierarchyOperator& A, const cvec& x, cvec& y) const {
    const long dd = A.dd;
    y.resize(x.size());
    cvec& r = work_r;  // kept between calls (page faults, as in HierarchyOperator::apply_shift)
    r = x;
    for (std::size_t t = 0; t + 1 < tier_start.size(); ++t) {
      const long a0 = tier_start[t], a1 = tier_start[t + 1];
      if (t > 0) A.subtract_lower(y, r, a0, a1);
      if (a0 == 0) {  // ADO 0: its LU in H's eigenbasis
        cmat& Z0 = work_z;
        Z0 = r.head(dd);
        A.to_eigenbasis(Z0, work_w);
        solve_ado0(A, Z0);
        A.from_eigenbasis(Z0, work_w);
        y.head(dd) = Z0;
        continue;
      }
      cmat& Z = work_z;
      Z = Eigen::Map<const cmat>(r.data() + a0 * dd, dd, a1 - a0);
      A.to_eigenbasis(Z, work_w);
      for (long a = a0; a < a1; ++a) {
        const double g = A.damping[static_cast<std::size_t>(a)];
        for (long i = 0; i < dd; ++i) {
          const cplx z = w(i) - g;  // Z /= z without the library's overflow-guarded complex division
          Z(i, a - a0) *= std::conj(z) / std::norm(z);
        }
      }
      A.from_eigenbasis(Z, work_w);
      Eigen::Map<cmat>(y.data() + a0 * dd, dd, a1 - a0) = Z;
    }
  }
};

struct HierarchyMemory {
  std::size_t peak = 0;  // while the operator and the preconditioner are built
  std::size_t kept = 0;  // what stays for the solve (the Krylov space not included)
};

// schur: the bytes of ADO 0's preconditioner (TierGaussSeidel): real blocks in Hermitian coordinates, one per charge
// class, or one complex d^2 x d^2 matrix; schur_peak: the same at the peak of its construction (dense_block_peak).
HierarchyMemory hierarchy_memory(long nados, int K, long dd, HeomTerminator terminator, std::size_t schur,
                                 std::size_t schur_peak) {
  const std::size_t n2 = static_cast<std::size_t>(dd) * static_cast<std::size_t>(dd);
  const std::size_t matrix = n2 * sizeof(cplx);
  // L0 with the second-order terminators holds a dense block in sparse form; building it takes the block
  // summed over the baths and three d^2 x d^2 matrices for one bath's (add_second_order_block).
  const std::size_t l0 = terminator == HeomTerminator::second_order ? n2 * (sizeof(cplx) + sizeof(long)) : 0;
  const std::size_t terminators = terminator == HeomTerminator::second_order ? 4 * matrix : 0;
  const std::size_t op = HierarchyOperator::bytes(nados, K, dd);
  // Measured peaks above a process without the HEOM (XX chain N = 5, depth 1, d^2 = 1024, 16 MiB a complex
  // matrix; glibc keeps such blocks in its heap, below qheat's 32 MiB mmap threshold), with ADO 0's preconditioner
  // in two real classes of 512 coordinates (4 MiB): 9.8-10.3 MiB with the Ishizaki-Tanimura terminator (estimate
  // 8.1; the rest is GMRES's Krylov space, which steady/ sizes itself), 65-67 MiB with the second-order one
  // (estimate 96.1), whose L0 holds 1.5 matrices more and whose construction (four matrices at once) leaves freed
  // blocks behind; with a complex preconditioner, 1.6 and 6.2 matrices. Blocks the allocator maps apart count once
  // (dense_block_peak): seven qubits, depth 1, two blocks of 512 MiB: 1.04 GiB for the whole process (estimate 1.0).
  const int extra = terminator == HeomTerminator::second_order ? 4 : 0;
  HierarchyMemory m;
  m.peak = op + std::max(terminators, l0 + extra * matrix + schur_peak);
  // The preconditioner keeps ADO 0's LU and three work arrays of the hierarchy's size.
  m.kept = op + l0 + schur + 3 * static_cast<std::size_t>(nados) * static_cast<std::size_t>(dd) * sizeof(cplx);
  return m;
}

// factors (may be null): the previous hierarchy's ADO 0 factors, offered to this one's preconditioner, and where
// this one's are left for the next.
HeomResult solve_hierarchy(const Model& model, const std::vector<CorrelationExpansion>& baths, int depth,
                           const HeomOptions& options, const SteadyStateOptions& steady, SchurFactors* factors) {
  const HeomTerminator terminator = options.terminator;
  const cmat& H = model.hamiltonian;
  const long d = H.rows(), dd = d * d;
  int K = 0;
  for (const CorrelationExpansion& e : baths) K += static_cast<int>(e.terms.size());
  const long nados = ado_count(K, depth);
  // Estimated before anything is built: the preconditioner's dense blocks outgrow the hierarchy itself once d is
  // larger than a few qubits (a ten-qubit chain: two real blocks of 2 TiB).
  // Drude's exponents are real, so ADO 0's preconditioner is real unless round-off says otherwise (TierGaussSeidel).
  const std::vector<int> q = excitation_numbers(model.space);
  const int modulus = schur_modulus(model, q);
  // The classes' sizes do not depend on the basis (H's eigenvectors keep the site basis's charges).
  const std::vector<std::vector<long>> classes = schur_classes(q, modulus, d);
  std::vector<std::size_t> class_elements(classes.size());
  for (std::size_t c = 0; c < classes.size(); ++c) class_elements[c] = classes[c].size() * classes[c].size();
  const std::size_t real_elements = std::accumulate(class_elements.begin(), class_elements.end(), std::size_t{0});
  HierarchyMemory mem;
  auto check_for = [&](std::size_t schur, std::size_t schur_peak, const std::string& what) {
    mem = hierarchy_memory(nados, K, dd, terminator, schur, schur_peak);
    check_memory(mem.peak,
                 "the HEOM steady state (a hierarchy of " + std::to_string(nados) + " auxiliary operators of " +
                     std::to_string(dd) + " elements, depth " + std::to_string(depth) + ", " + std::to_string(K) +
                     " exponents; ADO 0's preconditioner: " + what + ")",
                 "a smaller --heom-depth or --heom-terms would shrink the hierarchy; the preconditioner's size is set "
                 "by the system's dimension");
  };
  auto check = [&](bool real, bool single) {
    const std::size_t per = real ? (single ? sizeof(float) : sizeof(double)) : sizeof(cplx);
    const std::size_t elements = real ? real_elements : dd * dd;
    check_for(elements * per, dense_block_peak(real ? class_elements : std::vector<std::size_t>{elements}, per),
              real ? std::to_string(classes.size()) + " dense real block" + (classes.size() > 1 ? "s" : "") + ", " +
                         std::to_string(real_elements) + (single ? " single-precision" : "") + " numbers in all"
                   : "a dense " + std::to_string(dd) + " x " + std::to_string(dd) + " complex matrix");
  };
  // The iterative solve keeps B0 on at most max(kSlowCap, d) elements (a dense complex LU), GMRES's Krylov basis
  // over d^2 elements and apply_b0's d x d work matrices.
  auto check_iterative = [&] {
    const auto slow = static_cast<std::size_t>(std::min(dd, std::max(kSlowCap, d)));
    const std::size_t bytes = slow * slow * sizeof(cplx) +
                              static_cast<std::size_t>(kInnerRestart + 12) * static_cast<std::size_t>(dd) * sizeof(cplx);
    check_for(bytes, bytes, "GMRES on its Schur complement, at most " + std::to_string(slow) + " elements kept exactly");
  };
  const bool single = options.real_schur && options.single_schur;
  // GMRES on B0 when asked, or (automatic) when B0 has more elements than its secular preconditioner keeps exactly:
  // below, the dense factors are cheap and exact (bench/README.md, "HEOM on spin chains").
  const bool want_iterative = options.schur_solver == HeomSchurSolver::iterative ||
                              (options.schur_solver == HeomSchurSolver::automatic && dd > options.schur_dense_rows);
  // Double factors handed on from the previous hierarchy are held while this one is built: counted as such.
  auto check_dense = [&] { check(options.real_schur, single && (factors == nullptr || factors->real.empty())); };
  if (want_iterative) {
    check_iterative();
  } else {
    check_dense();
  }
  const auto op = std::make_shared<const HierarchyOperator>(model, baths, depth, terminator);
  const long N = op->N;

  LinearProblem<cplx> p;
  p.dim = N * dd;
  p.border = LinearProblem<cplx>::Vec::Zero(p.dim);
  for (long i = 0; i < d; ++i) p.border(i + d * i) = 1.0;  // Tr rho_0
  // The border weight: the largest diagonal element of the system block (the hierarchy's fastest damping
  // n.nu would swamp the physical rates).
  double s = 0.0;
  for (long i = 0; i < dd; ++i) s = std::max(s, std::abs(op->L0.coeff(i, i)));
  p.scale = s > 0 ? s : 1.0;
  p.apply = [op](const cvec& x, cvec& y) { op->apply(x, y); };
  p.assemble = [op]() { return op->assemble(); };
  p.apply_workspace_bytes = static_cast<std::size_t>(N * dd) * sizeof(cplx) * 2;
  p.prefer_krylov = true;
  // The currents are differences of tier-1 terms ~ lambda x the state: 1e-12 of the bordered residual left
  // 1e-9 relative errors in them (measured on examples/kato2016/two_qubits.toml); 1e-14 leaves 1e-12.
  SteadyStateOptions so = steady;
  so.gmres_tolerance = std::min(so.gmres_tolerance, 1e-14);
  so.gmres_accept = std::max(so.gmres_accept, 1e-11);  // round-off can stall GMRES above 1e-14 at strong coupling
  // Block Gauss-Seidel preconditioner over the tiers (measured, bench/README.md "Issue 11": GMRES with it
  // beats the sparse LU, whose fill grows fast with the depth).
  std::shared_ptr<TierGaussSeidel> pre;
  LinearSolution<cplx> ls;
  auto solve_with = [&](bool iterative) {
    IterativeSchur inner;
    inner.enabled = iterative;
    inner.max_iterations = options.schur_max_iterations;
    inner.fail_fast = options.schur_solver == HeomSchurSolver::automatic;  // then the dense factors take over
    pre = std::make_shared<TierGaussSeidel>(*op, p.scale, p.border.head(dd), options.real_schur, single, modulus, check,
                                            factors, inner);
    p.preconditioner_rcond = pre->rcond0;
    p.precondition = [pre = std::shared_ptr<const TierGaussSeidel>(pre), op](const cvec& x, cvec& y) { pre->apply(*op, x, y); };
    p.operator_bytes = mem.kept;
    ls = solve_steady(p, so);
  };
  bool fell_back = false;
  try {
    solve_with(want_iterative);
  } catch (const SchurNotConverged&) {
    // GMRES on B0 stopped short of round-off: the outer solve would see a changing preconditioner. The dense
    // factors instead, when they fit.
    p.precondition = nullptr;
    pre.reset();
    fell_back = true;
    try {
      check_dense();
    } catch (const MemoryLimitError& e) {
      throw MemoryLimitError(std::string("GMRES on ADO 0's Schur complement did not converge, and ") + e.what(),
                             e.estimate(), e.limit());
    }
    solve_with(false);
  }

  HeomResult r;
  r.status = ls.status;
  r.solver = ls.solver;
  r.residual = ls.residual;
  r.rcond = ls.rcond;
  r.iterations = ls.iterations;
  r.real_schur = pre->real0;
  r.single_schur = pre->single0;
  r.schur_refinements = pre->refined_solves > 0 ? static_cast<double>(pre->refinements) / static_cast<double>(pre->refined_solves) : 0.0;
  r.schur_classes = static_cast<int>(pre->classes.size());
  r.schur_reused = pre->reused0;
  r.schur_factorisations = pre->factorisations;
  r.iterative_schur = pre->iterative0;
  r.schur_slow = static_cast<long>(pre->slow.size());
  r.schur_fallback = fell_back;
  r.schur_iterations = pre->inner_solves > 0 ? static_cast<double>(pre->inner_iterations) / static_cast<double>(pre->inner_solves) : 0.0;
  if (factors != nullptr && pre->real0) {
    factors->d = d;
    factors->classes = pre->classes;
    factors->single = std::move(pre->lu0_single);
    factors->real = std::move(pre->lu0_real);
    factors->rcond = pre->rcond0;
  }
  r.depth = depth;
  r.ados = N;
  r.unknowns = p.dim;
  long per_ado = op->L0.nonZeros() + (op->shift.empty() ? 0 : dd * dd);
  for (int k = 0; k < K && depth > 0; ++k)
    per_ado += 2 * op->comm_sparse[static_cast<std::size_t>(op->modes[static_cast<std::size_t>(k)].bath)].nonZeros();
  r.nonzeros = N * per_ado;  // of the assembled operator (an upper bound at the deepest tier)
  r.baths = baths;
  r.terminator = terminator;
  if (ls.x.size() == 0 || ls.status == SteadyStatus::not_unique) return r;
  r.rho = Eigen::Map<const cmat>(ls.x.data(), d, d);
  // Bath heat currents (eq. H6) and system heat currents (eq. H7), into the system; the terminator's part:
  // Tr[[Q, H] G([Q, rho_0])] (eq. H4b; Delta Tr[[Q, [H, Q]] rho_0] for Ishizaki-Tanimura's).
  const std::size_t nb_baths = baths.size();
  r.currents.assign(nb_baths, 0.0);
  r.system_currents.assign(nb_baths, 0.0);
  std::vector<cplx> jb(nb_baths, 0.0), js(nb_baths, 0.0);
  const cmat& U = op->U;
  for (std::size_t a = 0; a < nb_baths; ++a) {
    const cmat& Q = model.baths[a].op;
    const cmat QH = Q * H - H * Q;  // [Q, H]
    jb[a] += 2.0 * baths[a].imaginary_at_zero() * (Q * Q * r.rho).trace();
    cplx t = 0.0;
    if (terminator == HeomTerminator::second_order) {
      const cmat X = U.adjoint() * (Q * r.rho - r.rho * Q) * U;
      const cvec& g = op->kernel0[a];
      const cmat Y = U * X.cwiseProduct(Eigen::Map<const cmat>(g.data(), d, d)) * U.adjoint();
      t = (QH * Y).trace();
    } else if (terminator == HeomTerminator::ishizaki_tanimura) {
      t = baths[a].terminator * (QH * (Q * r.rho - r.rho * Q)).trace();
    }
    jb[a] += t;
    js[a] += t;
  }
  for (int k = 0; k < K && depth > 0; ++k) {
    const Mode& m = op->modes[static_cast<std::size_t>(k)];
    const auto a = static_cast<std::size_t>(m.bath);
    const cmat rk = op->first_tier(ls.x, k);
    const cmat& Q = model.baths[a].op;
    jb[a] -= m.nu * (Q * rk).trace();
    js[a] += cplx(0, -1) * ((H * Q - Q * H) * rk).trace();
  }
  for (std::size_t a = 0; a < nb_baths; ++a) {
    r.currents[a] = jb[a].real();
    r.system_currents[a] = js[a].real();
  }
  return r;
}

}  // namespace

double current_change(const std::vector<double>& a, const std::vector<double>& b, double floor) {
  double big = floor, diff = 0.0;
  for (std::size_t k = 0; k < a.size() && k < b.size(); ++k) {
    big = std::max(big, std::abs(a[k]));
    diff = std::max(diff, std::abs(a[k] - b[k]));
  }
  return big > 0 ? diff / big : diff;
}

HeomResult heom_steady_state(const Model& model, const HeomOptions& options, const SteadyStateOptions& steady) {
  if (model.drive)
    throw MethodError("heom-drive", "the HEOM method solves static models; this model has a [drive] (use dme, ddme or "
                                    "floquet for driven models)");
  if (model.baths.empty()) throw MethodError("heom-baths", "the HEOM method needs at least one bath");
  for (const Bath& b : model.baths)
    if (b.coupling != CouplingKind::hermitian)
      throw MethodError("heom-coupling", "bath '" + b.name +
                                             "' has an exchange coupling; the HEOM method supports hermitian couplings "
                                             "H_SB = S (x) sum_k g_k (b_k + b_k^dag) only");
  if (options.depth < 0) throw MethodError("heom-depth", "--heom-depth must be >= 0");
  if (options.terms < 0) throw MethodError("heom-terms", "--heom-terms must be >= 0");
  auto expansions = [&](int terms) {
    std::vector<CorrelationExpansion> e;
    e.reserve(model.baths.size());
    for (const Bath& b : model.baths) e.push_back(drude_correlation(b.spectral, b.temperature, options.decomposition, terms));
    return e;
  };
  SchurFactors factors;  // the automatic mode's: from one hierarchy to the next
  int factorisations = 0;
  auto solve_at = [&](int depth, int terms) {
    const bool automatic = options.tolerance > 0.0 && options.reuse_schur;
    HeomResult r = solve_hierarchy(model, expansions(terms), depth, options, steady, automatic ? &factors : nullptr);
    r.terms = terms;
    r.decomposition = options.decomposition;
    factorisations += r.schur_factorisations;
    return r;
  };
  if (!(options.tolerance > 0.0)) return solve_at(options.depth, options.terms);

  // Automatic mode: the floor of the relative change is 1e-9 x lambda x the spread of H's spectrum (the
  // size of a current at weak coupling), for points where every current vanishes (equal temperatures).
  const rvec E = linalg::hermitian_eigenvalues(model.hamiltonian);
  double lam = 0.0;
  for (const Bath& b : model.baths) lam = std::max(lam, 0.25 * b.spectral.gamma * b.spectral.cutoff);
  const double floor = 1e-9 * lam * std::max(E.maxCoeff() - E.minCoeff(), 1e-300);
  // At one temperature every current vanishes in the exact steady state (the state is the mean-force Gibbs
  // state); a truncated hierarchy's currents are its truncation error (Zhang's two qubits at T1 = T2 = 5:
  // 2e-4 at depth 2 with one term, 7e-7 with nine), and their relative changes never settle. There the mode
  // converges the reduced state instead: max_ij |rho_ij - rho'_ij| (rho has trace 1).
  std::vector<double> temperatures;
  temperatures.reserve(model.baths.size());
  for (const Bath& b : model.baths) temperatures.push_back(b.temperature);
  const bool equilibrium = one_temperature(temperatures);
  auto change = [&](const HeomResult& up, const HeomResult& from) {
    if (!equilibrium) return current_change(up.currents, from.currents, floor);
    if (up.rho.size() == 0 || up.rho.rows() != from.rho.rows())  // a failed solve: taken on, then reported
      return std::numeric_limits<double>::infinity();
    return (up.rho - from.rho).cwiseAbs().maxCoeff();
  };
  int depth = options.depth, terms = options.terms;
  std::vector<HeomLevel> history;
  auto record = [&history](const HeomResult& r) {
    history.push_back({r.depth, r.terms, r.ados, r.schur_factorisations, r.currents});
  };
  HeomResult cur = solve_at(depth, terms);
  record(cur);
  std::optional<double> ch_depth, ch_terms;
  std::string stopped;
  auto too_big = [&](int dep, int ter) {
    return ado_count(static_cast<int>(cur.baths.size()) * (ter + 1), dep) > options.max_ados;
  };
  // One coordinate at a time: raise the terms while that changes the currents; then try the depth -- if it
  // changes them, raise it and go back to the terms; stop when neither changes them at the same (depth,
  // terms). The depth probe is the expensive solve (a deeper hierarchy of the most terms), so it is made
  // once per depth rather than at every number of terms.
  bool terms_settled = false;
  while (true) {
    throw_if_interrupted();
    if (cur.status == SteadyStatus::not_unique || cur.currents.empty()) {
      stopped = "solve-failed";
      break;
    }
    // The solve's own noise in the currents: their sum vanishes in the steady state up to the truncation
    // and the solve's round-off; changes below 10x it are not resolved.
    double sum = 0.0, big = floor;
    for (double j : cur.currents) {
      sum += j;
      big = std::max(big, std::abs(j));
    }
    const double resolved = equilibrium ? options.tolerance : std::max(options.tolerance, 10.0 * std::abs(sum) / big);
    try {
      if (!terms_settled) {
        if (terms + 1 > options.max_terms || too_big(depth, terms + 1)) {
          stopped = terms + 1 > options.max_terms ? "max-terms" : "max-ados";
          break;
        }
        HeomResult up_t = solve_at(depth, terms + 1);
        record(up_t);
        ch_terms = change(up_t, cur);
        if (*ch_terms > resolved) {
          terms += 1;
          cur = std::move(up_t);
          ch_depth.reset();
        } else {
          terms_settled = true;
        }
        continue;
      }
      if (depth + 1 > options.max_depth || too_big(depth + 1, terms)) {
        stopped = depth + 1 > options.max_depth ? "max-depth" : "max-ados";
        break;
      }
      HeomResult up_d = solve_at(depth + 1, terms);
      record(up_d);
      ch_depth = change(up_d, cur);
      if (*ch_depth > resolved) {
        depth += 1;
        cur = std::move(up_d);
        terms_settled = false;
        ch_terms.reset();
        continue;
      }
      if (resolved > options.tolerance && (*ch_depth > options.tolerance || (ch_terms && *ch_terms > options.tolerance)))
        stopped = "solver-precision";
      break;
    } catch (const MemoryLimitError&) {
      stopped = "memory-limit";
      break;
    }
  }
  cur.tolerance = options.tolerance;
  cur.measure = equilibrium ? "state" : "currents";
  cur.schur_factorisations = factorisations;
  cur.change_depth = ch_depth;
  cur.change_terms = ch_terms;
  cur.history = std::move(history);
  cur.stopped_by = stopped;
  cur.converged = stopped.empty() && ch_depth && ch_terms && *ch_depth <= options.tolerance &&
                  *ch_terms <= options.tolerance;
  if (!cur.converged && cur.status == SteadyStatus::converged) cur.status = SteadyStatus::not_converged;
  return cur;
}

std::string schur_solver_name(HeomSchurSolver s) {
  switch (s) {
    case HeomSchurSolver::automatic: return "auto";
    case HeomSchurSolver::dense: return "dense";
    case HeomSchurSolver::iterative: return "iterative";
  }
  return "?";
}

HeomSchurSolver parse_heom_schur(const std::string& text) {
  if (text == "auto") return HeomSchurSolver::automatic;
  if (text == "dense") return HeomSchurSolver::dense;
  if (text == "iterative") return HeomSchurSolver::iterative;
  throw MethodError("heom-schur", "--heom-schur expects auto, dense or iterative, got '" + text + "'");
}

HeomOptions heom_options(const HeomRequest& r) {
  HeomOptions o;
  o.decomposition = r.decomposition;
  o.terminator = r.terminator;
  o.schur_solver = r.schur;
  auto whole = [](const char* rule, const char* what, int v, int high) {
    if (v < 0 || v > high)
      throw Error(rule, std::string(what) + " expects a whole number from 0 to " + std::to_string(high) + "; got " +
                            std::to_string(v));
    return v;
  };
  if (r.depth) o.depth = whole("heom-depth", "the hierarchy depth", *r.depth, o.max_depth);
  if (r.terms) o.terms = whole("heom-terms", "the number of correlation terms", *r.terms, o.max_terms);
  const bool fixed = r.depth || r.terms;
  if (r.tolerance) {
    if (!(*r.tolerance > 0.0) || !(*r.tolerance < 1.0))
      throw Error("heom-tol", "the HEOM tolerance must lie between 0 and 1 (exclusive); got " + std::to_string(*r.tolerance));
    o.tolerance = *r.tolerance;
  } else if (!fixed) {
    o.tolerance = 1e-4;  // four digits: method differences are 1e-3 and up; 1e-6 can need 10+ terms (docs/methods.md)
  }
  if (o.tolerance > 0.0) {
    if (!r.depth) o.depth = 2;
    if (!r.terms) o.terms = 1;
  }
  return o;
}

}  // namespace qheat
