// Local Lindblad at scale: the whole equation in the site basis, sparse, restricted to the sectors of
// a conserved charge, with a matrix-free apply on Hermitian states in real coordinates and a secular
// preconditioner per charge block (docs/methods.md, "The local method at scale").
//
// Each bath sees the local Hamiltonian of its sites, H_loc = Tr_rest(H)/d_rest; its operator's local
// factor is split into Bohr components X(w) of H_loc (the Davies construction of generator.cpp on the
// bath's few sites), each with Gamma(w) of the bath. The jumps X(w) (x) 1_rest, the dissipative part
// K = sum kappa/2 X^dag X and the Lamb shift H_LS = sum S X^dag X are embedded into the full space as
// sparse matrices: no d x d dense matrix and no eigenbasis of H is formed. With M = -i(H + H_LS) - K,
// for Hermitian rho
//   L(rho) = Y + Y^dag,   Y = M rho + 1/2 sum_k kappa_k X_k rho X_k^dag,
// one apply costs O(nnz x block size).
#include <memory>
#include <Eigen/SparseCore>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <thread>
#include <tuple>

#include "detail.hpp"
#include "qheat/core/linalg.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/core/sparse_products.hpp"
#include "qheat/generators/equation.hpp"
#include "qheat/operators/charge.hpp"
#include "qheat/operators/hermitian_blocks.hpp"
#include "qheat/steady/rate_equation.hpp"

namespace qheat {
namespace {

using sparse = Eigen::SparseMatrix<cplx, Eigen::RowMajor, long>;
using Triplets = std::vector<Eigen::Triplet<cplx, long>>;

// Elements of a local Bohr component or Lamb-shift/decay matrix below this fraction of its largest are
// round-off of the local eigenbasis change (exact zeros of the site-basis operator): dropped, so that
// the sparse pattern, and the charge each jump shifts, are the operator's own.
constexpr double kLocalRoundoff = 1e-15;

std::size_t sparse_bytes(long nnz, long rows) {
  return static_cast<std::size_t>(nnz) * (sizeof(cplx) + sizeof(long)) + static_cast<std::size_t>(rows + 1) * sizeof(long);
}

// The sites of a bath inside the kron-ordered space (first subsystem most significant): the local index
// of a basis state and the part of its full index the local digits contribute.
class SiteSplit {
public:
  SiteSplit(const Space& space, std::vector<int> sites) : sites_(std::move(sites)) {
    std::sort(sites_.begin(), sites_.end());
    const auto& subs = space.subsystems();
    std::vector<long> stride(subs.size());
    long acc = 1;
    for (std::size_t k = subs.size(); k-- > 0;) {
      stride[k] = acc;
      acc *= subs[k].dim;
    }
    for (int s : sites_) {
      dims_.push_back(subs[static_cast<std::size_t>(s)].dim);
      strides_.push_back(stride[static_cast<std::size_t>(s)]);
      local_dim_ *= dims_.back();
    }
    rest_dim_ = acc / local_dim_;
    offset_.resize(static_cast<std::size_t>(local_dim_));
    for (int sub = 0; sub < local_dim_; ++sub) {
      long off = 0;
      int rem = sub;
      for (std::size_t k = dims_.size(); k-- > 0;) {
        off += (rem % dims_[k]) * strides_[k];
        rem /= dims_[k];
      }
      offset_[static_cast<std::size_t>(sub)] = off;
    }
  }
  [[nodiscard]] int local_dim() const { return local_dim_; }
  [[nodiscard]] long rest_dim() const { return rest_dim_; }
  [[nodiscard]] int sub_of(long i) const {
    int sub = 0;
    for (std::size_t k = 0; k < dims_.size(); ++k) sub = sub * dims_[k] + static_cast<int>((i / strides_[k]) % dims_[k]);
    return sub;
  }
  // Full index of the state with local index `sub` and the other sites as in full index i.
  [[nodiscard]] long with_sub(long i, int sub) const {
    return i - offset_[static_cast<std::size_t>(sub_of(i))] + offset_[static_cast<std::size_t>(sub)];
  }
  // Full index of the rest configuration of i with the local sites at 0 (a key for "same rest").
  [[nodiscard]] long rest_key(long i) const { return i - offset_[static_cast<std::size_t>(sub_of(i))]; }

  // Tr_rest(op)/d_rest of a full-space operator given by its non-zeros.
  template <class Visit>
  [[nodiscard]] cmat reduce(Visit&& visit) const {
    cmat out = cmat::Zero(local_dim_, local_dim_);
    visit([&](long i, long j, cplx v) {
      if (rest_key(i) == rest_key(j)) out(sub_of(i), sub_of(j)) += v;
    });
    return out / static_cast<double>(rest_dim_);
  }

  // op (x) 1_rest as a sparse matrix (elements below kLocalRoundoff x max dropped).
  [[nodiscard]] sparse embed(const sparse& local, long dim) const {
    double big = 0.0;
    for (long i = 0; i < local.outerSize(); ++i)
      for (sparse::InnerIterator it(local, i); it; ++it) big = std::max(big, std::abs(it.value()));
    const double thr = kLocalRoundoff * big;
    std::vector<std::pair<std::pair<int, int>, cplx>> nz;
    for (long i = 0; i < local.outerSize(); ++i)
      for (sparse::InnerIterator it(local, i); it; ++it)
        if (std::abs(it.value()) > thr) nz.push_back({{static_cast<int>(it.row()), static_cast<int>(it.col())}, it.value()});
    // by local column, so that each full column visits only its own
    std::sort(nz.begin(), nz.end(), [](const auto& x, const auto& y) { return x.first.second < y.first.second; });
    std::vector<std::size_t> col_begin(static_cast<std::size_t>(local_dim_) + 1, 0);
    for (const auto& e : nz) ++col_begin[static_cast<std::size_t>(e.first.second) + 1];
    for (std::size_t c = 0; c < static_cast<std::size_t>(local_dim_); ++c) col_begin[c + 1] += col_begin[c];
    Triplets trip;
    trip.reserve(nz.size() * static_cast<std::size_t>(rest_dim_));
    for (long col = 0; col < dim; ++col) {
      const auto sj = static_cast<std::size_t>(sub_of(col));
      for (std::size_t k = col_begin[sj]; k < col_begin[sj + 1]; ++k)
        trip.emplace_back(with_sub(col, nz[k].first.first), col, nz[k].second);
    }
    sparse S(dim, dim);
    S.setFromTriplets(trip.begin(), trip.end());
    S.makeCompressed();
    return S;
  }

private:
  std::vector<int> sites_;
  std::vector<int> dims_;
  std::vector<long> strides_;
  std::vector<long> offset_;
  int local_dim_ = 1;
  long rest_dim_ = 1;
};

// A jump of one bath between charge blocks: rows in block `to`, columns in block `from`.
struct BlockJump {
  int from = 0, to = 0;
  double rate = 0.0;  // kappa of its Bohr component
  sparse X;           // n_to x n_from
  csc_matrix Xdag;    // X^dag by columns, the right factor of the apply's products
};

// True when every stored element of X has a zero imaginary part.
bool is_real_sparse(const sparse& X) {
  const cplx* v = X.valuePtr();
  return std::all_of(v, v + X.nonZeros(), [](cplx z) { return z.imag() == 0.0; });
}

// An observable Tr[G rho] restricted to the blocks: (block, row, column, value).
struct BlockEntry {
  int block, row, col;
  cplx value;
};

class LocalEquation final : public MasterEquation {
public:
  LocalEquation(const Model& model, const GeneratorOptions& options);

  [[nodiscard]] Method method() const override { return Method::local; }
  [[nodiscard]] int dim() const override { return d_; }
  [[nodiscard]] LinearProblem<double> steady_problem(const SteadyStateOptions& options) const override;
  [[nodiscard]] StateChecks checks(const rvec& x) const override;
  [[nodiscard]] EquationCurrents currents(const rvec& x) const override;
  [[nodiscard]] cmat site_state(const rvec& x) const override { return blocks_.to_matrix(x); }
  [[nodiscard]] double largest_rate() const override { return largest_rate_; }
  [[nodiscard]] double energy_span() const override { return energy_span_; }
  [[nodiscard]] double smallest_splitting() const override { return min_splitting_; }
  [[nodiscard]] std::string structure() const override;

  // Workspaces of the apply: the unpacked blocks, their images Y^dag and packed copies, and per group of jumps
  // (one thread each) the products' U and T and, for every group after the first, Y^dag blocks of its own.
  struct JumpGroup {
    cmat U;
    PackedRows T;
    std::vector<cmat> Y;
    std::vector<char> written;  // per block: Y[b] holds this apply's sum
  };
  struct ApplyWork {
    std::vector<cmat> rho, Y;
    std::vector<PackedRows> packed;
    std::vector<JumpGroup> groups;
  };
  // Y^dag for Y = M rho + 1/2 sum_k kappa_k X_k rho X_k^dag on every block (w.rho: the unpacked blocks, Hermitian):
  // Y^dag = rho M^dag + 1/2 sum_k kappa_k (rho X_k^dag)^dag X_k^dag, every product with the sparse operator on the
  // right (dense_times_sparse: rho packed once per block, each element summed in registers). Eigen's sparse x
  // dense products in Y's own form took 1.1 GFLOP/s on two coupled modes (examples/levy/two_oscillators.toml,
  // 441 levels, 90 Bohr components). With several threads the jumps are split into groups of about equal work,
  // one thread each, each product on one thread: splitting every product over the threads instead made the
  // jump products' data move between the cores, and that model took 6.6-8.9 s with two threads against
  // 4.9 s with one.
  void half_apply_adjoint(ApplyWork& w) const;
  // How many groups `threads` threads make (one when the jumps' work is too small to share), and their memory.
  [[nodiscard]] long jump_groups(int threads) const;
  [[nodiscard]] std::size_t jump_group_bytes(int threads) const;

  [[nodiscard]] const HermitianBlocks& blocks() const { return blocks_; }
  [[nodiscard]] const std::vector<sparse>& hamiltonian_blocks() const { return Htot_blocks_; }
  [[nodiscard]] const std::vector<sparse>& decay_blocks() const { return K_blocks_; }
  [[nodiscard]] const std::vector<BlockJump>& jumps() const { return jumps_; }

private:
  [[nodiscard]] double trace_with(const std::vector<BlockEntry>& G, const rvec& x) const;

  int d_ = 0;
  HermitianBlocks blocks_;
  bool charge_ = false;
  int modulus_ = 1;  // of the charge blocks (0: Q itself)
  std::vector<sparse> M_blocks_, Htot_blocks_, K_blocks_;  // per charge block
  std::vector<csc_matrix> Mdag_blocks_;                   // M^dag by columns, per charge block
  std::vector<BlockJump> jumps_;
  std::vector<double> jump_work_;  // per jump, cumulative from 0: rows of rho x (2 nnz(X) + columns of X^dag)
  std::vector<std::vector<BlockEntry>> current_ops_, bare_ops_;  // per bath: D_a^dag(H + H_LS), bare
  std::size_t operator_bytes_ = 0;
  long operator_nnz_ = 0;
  double largest_rate_ = 0.0;
  double energy_span_ = 0.0;
  double min_splitting_ = std::numeric_limits<double>::infinity();
};

LocalEquation::LocalEquation(const Model& model, const GeneratorOptions& options) : d_(model.space.dim()) {
  const long d = d_;
  const cmat& Hd = model.hamiltonian;
  // Before anything is allocated: the sparse operators hold H's non-zeros a few times over (H + H_LS,
  // the blocks of M, the current observables) and the jumps a fraction of that.
  long nnz_h = 0;
  for (long j = 0; j < d; ++j)
    for (long i = 0; i < d; ++i) nnz_h += Hd(i, j) != cplx(0.0, 0.0) ? 1 : 0;
  // Each bath's construction holds dense d_loc x d_loc matrices of its sites' space: H_loc, the local factor
  // A (and A^dag for an exchange coupling), the local eigenbasis with diagonalize's work copy, A in it.
  std::size_t local_dense = 0;
  for (const Bath& bath : model.baths)
    if (!bath.sites.empty()) {
      const auto dl = static_cast<std::size_t>(SiteSplit(model.space, bath.sites).local_dim());
      local_dense = std::max(local_dense, 7 * dl * dl * sizeof(cplx));
    }
  check_memory(6 * sparse_bytes(nnz_h + d, d) * (1 + model.baths.size()) + local_dense,
               "the local master equation (" + std::to_string(d) +
                   " levels: sparse site-basis operators and each bath's dense local ones)",
               "");

  Triplets trip;
  trip.reserve(static_cast<std::size_t>(nnz_h));
  for (long j = 0; j < d; ++j)
    for (long i = 0; i < d; ++i)
      if (Hd(i, j) != cplx(0.0, 0.0)) trip.emplace_back(i, j, Hd(i, j));
  sparse H(d, d);
  H.setFromTriplets(trip.begin(), trip.end());
  H.makeCompressed();
  trip = Triplets();

  // Gershgorin: every eigenvalue of H lies in [min(H_ii - R_i), max(H_ii + R_i)], R_i the off-diagonal
  // row sum. Its largest |.| stands in for max|E| in the clustering tolerance (the dense path's
  // degeneracy_tolerance x max(1, max|E|)); the bound is at most a few times larger, and the
  // tolerance only separates round-off from physical splittings.
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (long i = 0; i < d; ++i) {
    double diag = 0.0, radius = 0.0;
    for (sparse::InnerIterator it(H, i); it; ++it) {
      if (it.col() == i) {
        diag = it.value().real();
      } else {
        radius += std::abs(it.value());
      }
    }
    lo = std::min(lo, diag - radius);
    hi = std::max(hi, diag + radius);
  }
  energy_span_ = d > 0 ? hi - lo : 0.0;
  const double tol = options.degeneracy_tolerance * std::max({1.0, std::abs(lo), std::abs(hi)});

  // Per bath: the local Davies construction, embedded.
  struct Jump {
    sparse X;
    double rate;
    int bath;
  };
  std::vector<Jump> jumps;
  sparse Htot = H, K(d, d);
  std::vector<sparse> H_LS(model.baths.size());
  bool any_shift = false;
  for (std::size_t a = 0; a < model.baths.size(); ++a) {
    const Bath& bath = model.baths[a];
    const bool shift = lamb_shift_enabled(bath, options.lamb_shift);
    any_shift = any_shift || shift;
    names_.push_back(bath.name);
    temps_.push_back(bath.temperature);
    if (bath.sites.empty())
      throw MethodError("local-sites", "bath '" + bath.name + "' acts on no site; the local method needs one");
    const SiteSplit split(model.space, bath.sites);
    const int dl = split.local_dim();
    const auto rest = static_cast<double>(split.rest_dim());

    // H_loc = Tr_rest(H)/d_rest on the bath's sites, and the local factor A of the bath operator
    // (op = A (x) 1_rest; anything else is an operator that acts beyond the bath's sites).
    const cmat H_loc = split.reduce([&](auto&& f) {
      for (long i = 0; i < d; ++i)
        for (sparse::InnerIterator it(H, i); it; ++it) f(it.row(), it.col(), it.value());
    });
    const cmat& op = bath.op;
    const cmat A = split.reduce([&](auto&& f) {
      for (long j = 0; j < d; ++j)
        for (long i = 0; i < d; ++i)
          if (op(i, j) != cplx(0.0, 0.0)) f(i, j, op(i, j));
    });
    {
      const double amax = std::max(A.size() > 0 ? A.cwiseAbs().maxCoeff() : 0.0, 1e-300);
      for (long j = 0; j < d; ++j)
        for (long i = 0; i < d; ++i) {
          const bool same_rest = split.rest_key(i) == split.rest_key(j);
          const cplx expect = same_rest ? A(split.sub_of(i), split.sub_of(j)) : cplx(0.0, 0.0);
          if (std::abs(op(i, j) - expect) > 1e-12 * amax)
            throw MethodError("local-sites", "bath '" + bath.name +
                                                 "': its operator acts beyond the sites listed for it; the local "
                                                 "method needs op = A (x) 1 on the bath's sites");
        }
    }
    const Eigenbasis local = diagonalize(H_loc);
    const cmat& V = local.vectors;
    const rvec& E = local.energies;

    std::vector<std::pair<cmat, ChannelPart>> channels;
    if (bath.coupling == CouplingKind::hermitian) {
      channels.emplace_back(A, ChannelPart::full);
    } else {
      channels.emplace_back(A, ChannelPart::emission);
      channels.emplace_back(A.adjoint(), ChannelPart::absorption);
    }
    // The local eigenbasis in sparse form: a diagonal H_loc (a Kerr mode, a spin in a field) has a
    // permutation as eigenvectors, and its Bohr components are then single elements; held as dense d_loc x d_loc
    // matrices, one per component, they took d_loc^3 memory and d_loc^4 time (a Kerr mode of 401 levels:
    // 1 GB, 32 s; 3001 levels: killed for memory).
    const sparse Vs = V.sparseView(0.0, 0.0);
    sparse K_loc(dl, dl), LS_loc(dl, dl);
    for (const auto& [X, part] : channels) {
      detail::GammaCache gamma(bath, part, shift, options.cache);
      // Bohr components in the local eigenbasis, grouped as generator.cpp's secular_terms groups them.
      // The operator in the local eigenbasis: by sparse products when V is sparse (two dense d_loc^3 complex
      // products were 80 % of a 1501-level Kerr mode's 20 s under perf), else dense. Its elements column by column,
      // as the dense loop visits them (the clusters' means then sum in the same order).
      std::vector<std::tuple<int, int, cplx>> elements;  // (n, m, <m|X|n>)
      double thr = 0.0;
      if (Vs.nonZeros() <= 4 * static_cast<long>(dl)) {
        const sparse Xe = sparse(Vs.adjoint()) * sparse(X.sparseView(0.0, 0.0)) * Vs;
        double largest = 0.0;
        for (long m = 0; m < Xe.outerSize(); ++m)
          for (sparse::InnerIterator it(Xe, m); it; ++it) {
            elements.emplace_back(static_cast<int>(it.col()), static_cast<int>(m), it.value());
            largest = std::max(largest, std::abs(it.value()));
          }
        std::sort(elements.begin(), elements.end(), [](const auto& x, const auto& y) {
          return std::get<0>(x) != std::get<0>(y) ? std::get<0>(x) < std::get<0>(y) : std::get<1>(x) < std::get<1>(y);
        });
        thr = detail::element_threshold(largest);
      } else {
        const cmat Xe = V.adjoint() * X * V;
        thr = detail::element_threshold(Xe);
        for (int n = 0; n < dl; ++n)
          for (int m = 0; m < dl; ++m)
            if (std::abs(Xe(m, n)) > thr) elements.emplace_back(n, m, Xe(m, n));
      }
      std::vector<double> freqs;
      std::vector<std::pair<int, int>> where;
      std::vector<cplx> values;
      for (const auto& [n, m, x] : elements)
        if (std::abs(x) > thr) {
          freqs.push_back(E(n) - E(m));
          where.emplace_back(m, n);
          values.push_back(x);
        }
      std::vector<int> cluster_of;
      const std::vector<double> reps = detail::cluster_values(freqs, tol, cluster_of);
      std::vector<Triplets> parts(reps.size());
      for (std::size_t k = 0; k < freqs.size(); ++k) {
        const auto [m, n] = where[k];
        parts[static_cast<std::size_t>(cluster_of[k])].emplace_back(m, n, values[k]);
      }
      std::vector<double> kept;
      for (std::size_t c = 0; c < reps.size(); ++c) {
        sparse P(dl, dl);
        P.setFromTriplets(parts[c].begin(), parts[c].end());
        parts[c] = Triplets();
        // The zero-frequency component's split Lamb shifts cancel when it is normal (generator.cpp,
        // channel_gamma); the embedded component's Frobenius norm is d_rest times the local one's.
        bool normal_zero = false;
        if (reps[c] == 0.0) {
          const sparse comm = sparse(P * P.adjoint()) - sparse(P.adjoint() * P);
          double worst = 0.0;
          for (long i = 0; i < comm.outerSize(); ++i)
            for (sparse::InnerIterator it(comm, i); it; ++it) worst = std::max(worst, std::abs(it.value()));
          normal_zero = worst <= 1e-12 * std::max(1.0, rest * P.squaredNorm());
        }
        const cplx g = gamma(reps[c], normal_zero);
        if (g == cplx(0.0, 0.0)) continue;
        kept.push_back(reps[c]);
        const sparse Xc = Vs * P * sparse(Vs.adjoint());  // back to the site basis
        const sparse XX = sparse(Xc.adjoint()) * Xc;
        K_loc += g.real() * XX;
        LS_loc += g.imag() * XX;
        if (g.real() != 0.0) jumps.push_back(Jump{split.embed(Xc, d), 2.0 * g.real(), static_cast<int>(a)});
      }
      // What the secular approximation of this channel separates: its distinct Bohr frequencies.
      for (std::size_t k = 1; k < kept.size(); ++k) min_splitting_ = std::min(min_splitting_, kept[k] - kept[k - 1]);
    }
    K += split.embed(K_loc, d);
    H_LS[a] = split.embed(LS_loc, d);
    Htot += H_LS[a];
  }
  lamb_shift_ = any_shift;
  K.makeCompressed();
  Htot.makeCompressed();

  // Largest decay rate: the largest diagonal element of sum_k kappa_k X_k^dag X_k = 2K.
  for (long i = 0; i < d; ++i) largest_rate_ = std::max(largest_rate_, 2.0 * K.coeff(i, i).real());

  // Conserved charge. If Q (excitation number) commutes with H + H_LS and with K and each jump
  // shifts it by a fixed integer s_k, then e^{i phi Q} X_k e^{-i phi Q} = e^{i phi s_k} X_k: the phases
  // cancel in X_k rho X_k^dag, so L commutes with rho -> e^{i phi Q} rho e^{-i phi Q} for every phi. A
  // unique steady state is then invariant under it, i.e. block diagonal in Q, and L maps the
  // block-diagonal operators to themselves: solving on the blocks alone is exact. When the steady
  // state is not unique the blocks still hold every steady state's block-diagonal part (the phase
  // average of a steady state is one); states with stationary coherences between charge sectors are
  // not represented, and uniqueness is judged within the sector (docs/methods.md).
  // Modulo m (0: exactly) the same argument holds with phi = 2 pi / m: if H + H_LS and K conserve the class
  // of Q mod m and each jump shifts it by one amount, the blocks are the classes of Q mod m (a transverse-field
  // Ising chain: the parity). m is the gcd of the shifts' differences (operators/charge.hpp).
  const std::vector<int> Q = excitation_numbers(model.space);
  int modulus = charge_modulus(K, Q, charge_modulus(Htot, Q, 0, true), true);
  for (const Jump& j : jumps) modulus = charge_modulus(j.X, Q, modulus, false);
  charge_ = modulus != 1;
  modulus_ = modulus;
  std::vector<int> block_of(static_cast<std::size_t>(d), 0), pos(static_cast<std::size_t>(d));
  {
    std::vector<std::vector<int>> members;
    if (charge_) {
      members = charge_sectors(charge_classes(Q, modulus));
      for (std::size_t b = 0; b < members.size(); ++b)
        for (std::size_t k = 0; k < members[b].size(); ++k) {
          block_of[static_cast<std::size_t>(members[b][k])] = static_cast<int>(b);
          pos[static_cast<std::size_t>(members[b][k])] = static_cast<int>(k);
        }
    } else {
      members.emplace_back(static_cast<std::size_t>(d));
      std::iota(members[0].begin(), members[0].end(), 0);
      std::iota(pos.begin(), pos.end(), 0);
    }
    blocks_ = HermitianBlocks(std::move(members), d_);
  }
  const int nb = blocks_.count();
  auto bsize = [&](int b) { return static_cast<long>(blocks_.size(b)); };

  // Block-diagonal parts of a full-space operator.
  auto diagonal_blocks = [&](const sparse& S) {
    std::vector<Triplets> t(static_cast<std::size_t>(nb));
    for (long i = 0; i < d; ++i)
      for (sparse::InnerIterator it(S, i); it; ++it) {
        const int b = block_of[static_cast<std::size_t>(it.row())];
        if (block_of[static_cast<std::size_t>(it.col())] != b) continue;
        t[static_cast<std::size_t>(b)].emplace_back(pos[static_cast<std::size_t>(it.row())],
                                                    pos[static_cast<std::size_t>(it.col())], it.value());
      }
    std::vector<sparse> out(static_cast<std::size_t>(nb));
    for (int b = 0; b < nb; ++b) {
      sparse& m = out[static_cast<std::size_t>(b)];
      m.resize(bsize(b), bsize(b));
      m.setFromTriplets(t[static_cast<std::size_t>(b)].begin(), t[static_cast<std::size_t>(b)].end());
      m.makeCompressed();
    }
    return out;
  };
  Htot_blocks_ = diagonal_blocks(Htot);
  K_blocks_ = diagonal_blocks(K);
  for (int b = 0; b < nb; ++b) {
    const auto ub = static_cast<std::size_t>(b);
    M_blocks_.push_back(cplx(0.0, -1.0) * Htot_blocks_[ub] - K_blocks_[ub]);
    Mdag_blocks_.emplace_back(M_blocks_.back().adjoint());
    Mdag_blocks_.back().makeCompressed();
    operator_nnz_ += 2 * M_blocks_.back().nonZeros();
  }
  // Jumps between blocks: with a charge each maps block q to block q + s_k (one block jump per
  // source block it reaches); without, one block.
  for (std::size_t k = 0; k < jumps.size(); ++k) {
    std::map<std::pair<int, int>, Triplets> parts;
    for (long i = 0; i < d; ++i)
      for (sparse::InnerIterator it(jumps[k].X, i); it; ++it)
        parts[{block_of[static_cast<std::size_t>(it.col())], block_of[static_cast<std::size_t>(it.row())]}].emplace_back(
            pos[static_cast<std::size_t>(it.row())], pos[static_cast<std::size_t>(it.col())], it.value());
    for (auto& [ft, t] : parts) {
      BlockJump bj;
      bj.from = ft.first;
      bj.to = ft.second;
      bj.rate = jumps[k].rate;
      bj.X.resize(bsize(bj.to), bsize(bj.from));
      bj.X.setFromTriplets(t.begin(), t.end());
      bj.X.makeCompressed();
      bj.Xdag = bj.X.adjoint();
      bj.Xdag.makeCompressed();
      operator_nnz_ += 2 * bj.X.nonZeros();
      jumps_.push_back(std::move(bj));
    }
  }

  // Current observables: J_a = Tr[(H + H_LS) D_a(rho)] = Tr[D_a^dag(H + H_LS) rho] and the bare
  // Tr[H (D_a(rho) - i[H_LS,a, rho])] = Tr[(D_a^dag(H) - i[H, H_LS,a]) rho], with
  // D_a^dag(G) = sum_k kappa_k (X_k^dag G X_k - 1/2 {X_k^dag X_k, G}); only their block-diagonal
  // parts meet a block-diagonal rho.
  std::vector<sparse> G(model.baths.size(), sparse(d, d)), B(model.baths.size(), sparse(d, d));
  for (const Jump& j : jumps) {
    const sparse Xa = j.X.adjoint();
    const sparse XX = Xa * j.X;
    const auto ua = static_cast<std::size_t>(j.bath);
    G[ua] += j.rate * (sparse(Xa * Htot * j.X) - 0.5 * sparse(XX * Htot + Htot * XX));
    B[ua] += j.rate * (sparse(Xa * H * j.X) - 0.5 * sparse(XX * H + H * XX));
  }
  for (std::size_t a = 0; a < model.baths.size(); ++a) {
    B[a] += cplx(0.0, -1.0) * (sparse(H * H_LS[a]) - sparse(H_LS[a] * H));
    const std::pair<const sparse*, std::vector<std::vector<BlockEntry>>*> targets[] = {{&G[a], &current_ops_},
                                                                                        {&B[a], &bare_ops_}};
    for (const auto& [S, out] : targets) {
      std::vector<BlockEntry> e;
      for (long i = 0; i < d; ++i)
        for (sparse::InnerIterator it(*S, i); it; ++it) {
          const int b = block_of[static_cast<std::size_t>(it.row())];
          if (block_of[static_cast<std::size_t>(it.col())] == b && it.value() != cplx(0.0, 0.0))
            e.push_back({b, pos[static_cast<std::size_t>(it.row())], pos[static_cast<std::size_t>(it.col())], it.value()});
        }
      out->push_back(std::move(e));
    }
  }
  // What the solve keeps: the blocks of M, H + H_LS and K (the latter two for the preconditioner), the
  // block jumps and the current observables.
  for (int b = 0; b < nb; ++b)
    operator_nnz_ += Htot_blocks_[static_cast<std::size_t>(b)].nonZeros() + K_blocks_[static_cast<std::size_t>(b)].nonZeros();
  operator_bytes_ = sparse_bytes(operator_nnz_, d + nb);
  jump_work_.assign(jumps_.size() + 1, 0.0);
  for (std::size_t k = 0; k < jumps_.size(); ++k) {
    const BlockJump& j = jumps_[k];
    jump_work_[k + 1] = jump_work_[k] + static_cast<double>(blocks_.size(j.from)) *
                                            (2.0 * static_cast<double>(j.Xdag.nonZeros()) + static_cast<double>(j.Xdag.cols()));
  }
  for (std::size_t a = 0; a < current_ops_.size(); ++a)
    operator_bytes_ += (current_ops_[a].size() + bare_ops_[a].size()) * sizeof(BlockEntry);
}

std::string LocalEquation::structure() const {
  std::string s = "site basis, sparse, ";
  if (charge_) {
    s += std::to_string(blocks_.count()) + " charge blocks (" + (modulus_ > 0 ? "excitation number mod " + std::to_string(modulus_) + ", " : std::string()) +
         "largest " + std::to_string(blocks_.largest_block()) + ")";
  } else {
    s += "no conserved charge (one block of " + std::to_string(d_) + ")";
  }
  return s + ", matrix-free";
}

void LocalEquation::half_apply_adjoint(ApplyWork& w) const {
  const int nb = blocks_.count();
  const int threads = thread_count();
  w.packed.resize(static_cast<std::size_t>(nb));
  for (int b = 0; b < nb; ++b) {
    const auto ub = static_cast<std::size_t>(b);
    w.packed[ub].pack(w.rho[ub]);
    dense_times_sparse(w.packed[ub], Mdag_blocks_[ub], w.Y[ub], false, threads);
  }
  // Groups of consecutive jumps with about equal work (jump_work_: the elements of rho X^dag and of the products).
  const auto nj = static_cast<long>(jumps_.size());
  const long groups = jump_groups(threads);
  std::vector<long> first(static_cast<std::size_t>(groups) + 1, nj);
  first[0] = 0;
  for (long g = 1, k = 0; g < groups; ++g) {
    const double target = jump_work_.back() * static_cast<double>(g) / static_cast<double>(groups);
    while (k < nj && jump_work_[static_cast<std::size_t>(k)] < target) ++k;
    first[static_cast<std::size_t>(g)] = k;
  }
  w.groups.resize(static_cast<std::size_t>(groups));
  auto run = [&](long g) {
    JumpGroup& grp = w.groups[static_cast<std::size_t>(g)];
    if (g > 0) {
      grp.Y.resize(static_cast<std::size_t>(nb));
      grp.written.assign(static_cast<std::size_t>(nb), 0);
    }
    for (long k = first[static_cast<std::size_t>(g)]; k < first[static_cast<std::size_t>(g) + 1]; ++k) {
      const BlockJump& j = jumps_[static_cast<std::size_t>(k)];
      const auto to = static_cast<std::size_t>(j.to);
      dense_times_sparse(w.packed[static_cast<std::size_t>(j.from)], j.Xdag, grp.U, false, 1);  // rho X^dag
      grp.T.pack_adjoint(grp.U, 0.5 * j.rate);  // (kappa/2) X rho, packed from U without a transposed copy
      if (g == 0) {
        dense_times_sparse(grp.T, j.Xdag, w.Y[to], true, 1);
      } else {
        dense_times_sparse(grp.T, j.Xdag, grp.Y[to], grp.written[to] != 0, 1);
        grp.written[to] = 1;
      }
    }
  };
  std::vector<std::thread> pool;
  for (long g = 1; g < groups; ++g) pool.emplace_back(run, g);
  run(0);
  for (auto& t : pool) t.join();
  for (long g = 1; g < groups; ++g) {
    const JumpGroup& grp = w.groups[static_cast<std::size_t>(g)];
    for (int b = 0; b < nb; ++b)
      if (grp.written[static_cast<std::size_t>(b)] != 0) w.Y[static_cast<std::size_t>(b)] += grp.Y[static_cast<std::size_t>(b)];
  }
}

long LocalEquation::jump_groups(int threads) const {
  // Below ~1e6 complex multiply-adds a thread costs more than it saves (as in dense_times_sparse).
  if (jump_work_.back() < 1e6) return 1;
  return std::max<long>(1, std::min<long>(threads, static_cast<long>(jumps_.size())));
}

std::size_t LocalEquation::jump_group_bytes(int threads) const {
  const auto blocks = static_cast<std::size_t>(blocks_.dim());  // sum of n_b^2: one Y^dag block set
  const auto big = static_cast<std::size_t>(blocks_.largest_block()) * static_cast<std::size_t>(blocks_.largest_block());
  const auto extra = static_cast<std::size_t>(jump_groups(threads) - 1);
  // Every group after the first: its Y^dag blocks; every group: U and T (one block each).
  return extra * blocks * sizeof(cplx) + (extra + 1) * 2 * big * sizeof(cplx);
}

double LocalEquation::trace_with(const std::vector<BlockEntry>& G, const rvec& x) const {
  double t = 0.0;
  for (const BlockEntry& e : G) t += (e.value * blocks_.element(x, e.block, e.col, e.row)).real();
  return t;
}

StateChecks LocalEquation::checks(const rvec& x) const { return block_state_checks(blocks_, x); }

EquationCurrents LocalEquation::currents(const rvec& x) const {
  EquationCurrents out;
  for (std::size_t a = 0; a < current_ops_.size(); ++a) {
    out.currents.push_back(trace_with(current_ops_[a], x));
    out.bare_currents.push_back(trace_with(bare_ops_[a], x));
  }
  return out;
}

// The secular part of L per charge block, in the eigenbasis of the block of H + H_LS (V unitary, real
// when the block is): populations through the exact rate matrix of all blocks with the border (the
// jumps connect blocks), every coherence divided by its own diagonal element
// -i(E_a - E_b) - (K~_aa + K~_bb) + sum_{k, s_k = 0} kappa_k X~_aa X~_bb^*. Exact when the local
// dissipator is secular in the eigenbasis of H (rates small against the level splittings of a block).
// Uniqueness: a closed class C of eigenstates under the jumps (no rate out of it) spans a subspace that
// H + H_LS and every jump keep, so a state on it stays on it and C holds a steady state of its own; two
// closed classes mean a non-unique steady state (e.g. a site no bath reaches). The preconditioner's
// indicator is 0 then, else 1 (steady/rate_equation.hpp). One closed class does not prove uniqueness:
// stationary coherences between degenerate levels (a decoherence-free subspace) are not seen by the rate matrix.
class BlockSecularPreconditioner {
public:
  BlockSecularPreconditioner(const LocalEquation& eq, double border) : B_(eq.blocks()) {
    const int nb = B_.count();
    offsets_.resize(static_cast<std::size_t>(nb));
    long d = 0;
    for (int b = 0; b < nb; ++b) {
      offsets_[static_cast<std::size_t>(b)] = d;
      d += B_.size(b);
    }
    V_.resize(static_cast<std::size_t>(nb));
    Vr_.resize(static_cast<std::size_t>(nb));
    inv_.resize(static_cast<std::size_t>(nb));
    real_ = true;
    std::vector<rvec> E(static_cast<std::size_t>(nb)), k(static_cast<std::size_t>(nb));
    for (int b = 0; b < nb; ++b) {
      const auto ub = static_cast<std::size_t>(b);
      const cmat Hb = cmat(eq.hamiltonian_blocks()[ub]);
      linalg::hermitian_eigen(Hb, E[ub], V_[ub]);
      real_ = real_ && linalg::is_real(V_[ub]);
      // K~_aa = (V^dag K V)_aa
      const cmat KV = eq.decay_blocks()[ub] * V_[ub];
      k[ub] = (V_[ub].conjugate().cwiseProduct(KV)).colwise().sum().real().transpose();
    }
    rmat pop = rmat::Zero(d, d);
    std::vector<cmat> diag(static_cast<std::size_t>(nb));
    for (int b = 0; b < nb; ++b) {
      const auto ub = static_cast<std::size_t>(b);
      const long n = B_.size(b);
      diag[ub].resize(n, n);
      for (long j = 0; j < n; ++j)
        for (long i = 0; i < n; ++i) diag[ub](i, j) = cplx(-(k[ub](i) + k[ub](j)), -(E[ub](i) - E[ub](j)));
    }
    if (real_)
      for (int b = 0; b < nb; ++b) Vr_[static_cast<std::size_t>(b)] = V_[static_cast<std::size_t>(b)].real();
    for (const BlockJump& j : eq.jumps()) {
      const auto uf = static_cast<std::size_t>(j.from), ut = static_cast<std::size_t>(j.to);
      // V^dag X V in real arithmetic when both are real (dgemm instead of zgemm: a quarter of the flops).
      cmat Xt;
      if (real_ && is_real_sparse(j.X)) {
        const Eigen::SparseMatrix<double, Eigen::RowMajor, long> Xr = j.X.real();
        const rmat XV = Xr * Vr_[uf];
        Xt = (Vr_[ut].transpose() * XV).cast<cplx>();
      } else {
        const cmat XV = j.X * V_[uf];
        Xt = V_[ut].adjoint() * XV;
      }
      // Elements below round-off of the basis change are structural zeros: no jump, whatever the rate.
      const double thr = detail::element_threshold(Xt);
      pop.block(offsets_[ut], offsets_[uf], Xt.rows(), Xt.cols()) +=
          j.rate * Xt.cwiseAbs2().unaryExpr([thr](double x2) { return x2 > thr * thr ? x2 : 0.0; });
      if (j.from == j.to) {
        const cvec x = Xt.diagonal();
        diag[uf] += j.rate * (x * x.adjoint());
      }
    }
    // Every coherence's inverse (the diagonal itself is not used: populations go through the LU).
    for (int b = 0; b < nb; ++b) {
      const auto ub = static_cast<std::size_t>(b);
      // A coherence with no decay and no rotation (a dark pair of levels) is stationary: a direction of the
      // kernel, where any finite value serves; 1/border keeps the preconditioner bounded.
      inv_[ub] = diag[ub].unaryExpr(
          [border](cplx z) { return std::abs(z) > 1e-14 * border ? 1.0 / z : cplx(1.0 / border, 0.0); });
      if (real_) V_[ub] = cmat();
    }
    // The rate matrix's diagonal (each population's loss) is not read: GTH takes it as minus the column sums.
    rates_ = std::make_unique<RateEquation>(pop);
    border_ = border;
    indicator_ = rates_->uniqueness_indicator();
  }
  // Non-uniqueness indicator for LinearProblem::preconditioner_rcond (see above).
  [[nodiscard]] double indicator() const { return indicator_; }

  void solve(const rvec& x, rvec& y) {
    const int nb = B_.count();
    y.resize(x.size());
    re_.resize(static_cast<std::size_t>(nb));
    full_.resize(static_cast<std::size_t>(nb));
    rvec p(rates_->dim());
    // To the eigenbasis: Y~ = V^dag Y V; when V is real, as V^T (S + A) V for Y = S + iA (hermitian_blocks.hpp:
    // two real products instead of four), its symmetric part Re Y~ and antisymmetric part Im Y~.
    for (int b = 0; b < nb; ++b) {
      const auto ub = static_cast<std::size_t>(b);
      const long n = B_.size(b);
      if (real_) {
        B_.unpack_real_sum(x, b, S_);
        T_.noalias() = S_ * Vr_[ub];
        re_[ub].noalias() = Vr_[ub].transpose() * T_;
        p.segment(offsets_[ub], n) = re_[ub].diagonal();
      } else {
        B_.unpack(x, b, C_);
        CT_.noalias() = C_ * V_[ub];
        full_[ub].noalias() = V_[ub].adjoint() * CT_;
        p.segment(offsets_[ub], n) = full_[ub].diagonal().real();
      }
    }
    rvec q;
    rates_->solve_bordered(p, border_, q);
    for (int b = 0; b < nb; ++b) {
      const auto ub = static_cast<std::size_t>(b);
      const long n = B_.size(b);
      const cmat& inv = inv_[ub];
      if (real_) {
        rmat& P = re_[ub];  // Re + Im of the eigenbasis form: P_ij + P_ji = 2 Re, P_ij - P_ji = 2 Im
        for (long j = 0; j < n; ++j) {
          for (long i = 0; i < j; ++i) {
            const cplx c = 0.5 * cplx(P(i, j) + P(j, i), P(i, j) - P(j, i)) * inv(i, j);
            P(i, j) = c.real() + c.imag();
            P(j, i) = c.real() - c.imag();
          }
          P(j, j) = q(offsets_[ub] + j);
        }
        T_.noalias() = Vr_[ub] * P;
        S_.noalias() = T_ * Vr_[ub].transpose();
        B_.pack_real_sum(S_, b, y);
      } else {
        cmat& Z = full_[ub];
        for (long j = 0; j < n; ++j) {
          for (long i = 0; i < j; ++i) {
            Z(i, j) *= inv(i, j);
            Z(j, i) = std::conj(Z(i, j));
          }
          Z(j, j) = q(offsets_[ub] + j);
        }
        CT_.noalias() = V_[ub] * Z;
        C_.noalias() = CT_ * V_[ub].adjoint();
        B_.pack(C_, b, y);
      }
    }
  }

  [[nodiscard]] static std::size_t bytes(const HermitianBlocks& B, long d) {
    const auto unknowns = static_cast<std::size_t>(B.dim());
    const auto big = static_cast<std::size_t>(B.largest_block()) * static_cast<std::size_t>(B.largest_block());
    // eigenvectors (complex while built), coherence inverses, the transformed blocks, the population
    // matrix and its LU, the block workspaces.
    return unknowns * (16 + 16 + 16) + 2 * static_cast<std::size_t>(d) * static_cast<std::size_t>(d) * 8 + 6 * big * 16;
  }

private:
  const HermitianBlocks& B_;
  std::vector<long> offsets_;
  bool real_ = true;
  std::vector<cmat> V_;
  std::vector<rmat> Vr_;
  std::vector<cmat> inv_;
  std::unique_ptr<RateEquation> rates_;  // the population block (GTH)
  double border_ = 1.0;
  double indicator_ = 1.0;
  // Workspaces (one problem is solved by one thread).
  std::vector<rmat> re_;
  std::vector<cmat> full_;
  rmat S_, T_;
  cmat C_, CT_;
};

LinearProblem<double> LocalEquation::steady_problem(const SteadyStateOptions& options) const {
  LinearProblem<double> p;
  p.dim = blocks_.dim();
  p.border = blocks_.trace_functional();
  p.scale = largest_rate_ + 1e-300;
  // The unpacked blocks, their images and their packed copies (3 x 16 bytes per unknown) and the jump groups'.
  p.apply_workspace_bytes = static_cast<std::size_t>(p.dim) * 48 + jump_group_bytes(thread_count());
  p.operator_bytes = operator_bytes_;
  // Blocks of one level each: the coordinates are the populations, the problem a rate equation.
  p.rate_equation = blocks_.largest_block() <= 1;
  // GMRES's physical residual scale (steady_state.hpp): the gross jump rate of the state, sum_i 2 K_ii |rho_ii|
  // (Tr[sum_k kappa_k X_k^dag X_k rho] on the populations); without it the tolerance is relative to the fastest
  // rate of any level (two coupled modes, examples/levy/two_oscillators.toml at nmax = 12, Ta = 20: first-law
  // residual 1e-7 of J).
  {
    std::vector<std::pair<long, double>> decay;  // (coordinate of rho_ii, 2 K_ii)
    const std::vector<long> at = blocks_.population_coordinates();
    for (int b = 0; b < blocks_.count(); ++b) {
      const auto& I = blocks_.indices(b);
      const sparse& K = K_blocks_[static_cast<std::size_t>(b)];
      for (long j = 0; j < static_cast<long>(I.size()); ++j)
        decay.emplace_back(at[static_cast<std::size_t>(I[static_cast<std::size_t>(j)])], 2.0 * K.coeff(j, j).real());
    }
    p.residual_scale = [decay = std::move(decay)](const rvec& x) {
      double sum = 0.0;
      for (const auto& [c, g] : decay) sum += g * std::abs(x(c));
      return sum;
    };
  }
  auto w = std::make_shared<ApplyWork>();  // one problem is solved by one thread
  p.apply = [this, w](const rvec& x, rvec& y) {
    const int nb = blocks_.count();
    w->rho.resize(static_cast<std::size_t>(nb));
    w->Y.resize(static_cast<std::size_t>(nb));
    for (int b = 0; b < nb; ++b) blocks_.unpack(x, b, w->rho[static_cast<std::size_t>(b)]);
    half_apply_adjoint(*w);
    y.resize(x.size());
    for (int b = 0; b < nb; ++b) blocks_.pack_plus_adjoint(w->Y[static_cast<std::size_t>(b)], b, y);
  };
  if (p.dim > options.dense_max_problem && plan_steady(p, options).solver != "gth") {
    p.operator_bytes += BlockSecularPreconditioner::bytes(blocks_, d_);
    check_memory(plan_steady(p, options).bytes,
                 "the local steady state (" + std::to_string(d_) + " levels, " + std::to_string(p.dim) +
                     " unknowns, matrix-free)",
                 "a smaller model would fit");
    auto P = std::make_shared<BlockSecularPreconditioner>(*this, p.scale);
    p.preconditioner_rcond = P->indicator();
    p.precondition = [P](const rvec& x, rvec& y) { P->solve(x, y); };
  }
  return p;
}

}  // namespace

std::unique_ptr<MasterEquation> make_local_equation(const Model& model, const GeneratorOptions& options) {
  return std::make_unique<LocalEquation>(model, options);
}

}  // namespace qheat
