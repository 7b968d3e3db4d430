// Bloch-Redfield (and any Generator built in the eigenbasis) at scale: a matrix-free apply on Hermitian
// states in real coordinates, with as few products as the algebra allows, and the secular
// preconditioner (docs/methods.md, "Steady state").
//
// For Hermitian rho the Redfield form is L(rho) = Y + Y^dag with
//   Y = M rho + sum_t X_t (Lambda_t rho)^dag,   M = -i (H + H_LS) - sum_baths K_h,
// and Y^dag = rho M^dag + sum_t (Lambda_t rho) X_t^dag, with Lambda_t rho = (rho Lambda_t^dag)^dag. Since each bath's
// H_LS and K_h are the parts of K = sum_t X_t^dag Lambda_t (generator.hpp), M = -i diag(E) - sum_t X_t^dag Lambda_t,
// and with U_t = rho Lambda_t^dag and a partner term t' with X_t' = X_t^dag (a hermitian coupling: t itself)
//   Y^dag = i rho diag(E) + sum_t (U_t^dag - U_t') X_t^dag:
// 2 (terms) products, each with the operator on the right, and no product with M (whose fill is that of
// X^dag Lambda: ~N^2 elements a column for a free-fermion chain where X and Lambda have ~N). Without partners
// the apply multiplies by M: 1 + 2 (terms) products. An operator that is mostly zero in the
// eigenbasis (a mode whose H is diagonal in the Fock basis) is multiplied as a sparse matrix
// (dense_times_sparse: columns of the state times elements of the operator).
#include <Eigen/SparseCore>
#include <Eigen/SparseLU>
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <numeric>
#include <tuple>

#include "qheat/core/resources.hpp"
#include "qheat/core/sparse_products.hpp"
#include "qheat/generators/equation.hpp"
#include "qheat/operators/charge.hpp"
#include "qheat/operators/hermitian_blocks.hpp"
#include "qheat/steady/rate_equation.hpp"
#include "detail.hpp"

namespace qheat {
namespace {

// The left factor of the apply's products: a matrix, or the adjoint of one less another (T = U^dag - P, P
// optional), held as the matrix and, once a sparse product asks, packed (PackedRows; U^dag - P is packed
// straight from U and P).
class Operand {
public:
  Operand(const cmat& m, PackedRows& rows, cmat* adjoint = nullptr, const cmat* minus = nullptr)
      : m_(m), rows_(rows), adjoint_(adjoint), minus_(minus) {}
  const cmat& matrix() {
    if (adjoint_ == nullptr) return m_;
    if (!adjoint_made_) {
      if (minus_ == nullptr) *adjoint_ = m_.adjoint(); else *adjoint_ = m_.adjoint() - *minus_;
    }
    adjoint_made_ = true;
    return *adjoint_;
  }
  const PackedRows& packed() {
    if (!packed_) {
      if (adjoint_ == nullptr) {
        rows_.pack(m_);
      } else {
        rows_.pack_adjoint(m_, 1.0, minus_);
      }
    }
    packed_ = true;
    return rows_;
  }

private:
  const cmat& m_;
  PackedRows& rows_;
  cmat* adjoint_;
  const cmat* minus_;
  bool packed_ = false, adjoint_made_ = false;
};

// The round-off of a basis change V^dag A V of d levels (sums of d terms), relative to A's largest element:
// d eps, and at least 1e-14.
double basis_round_off(long d) { return std::max(1e-14, static_cast<double>(d) * std::numeric_limits<double>::epsilon()); }

// An operator A multiplied from the right as A^dag, y (+)= x A^dag, dense (BLAS) or sparse, whichever
// its fill makes cheaper.
class Factor {
public:
  // Elements below the round-off of the basis change that made them (basis_round_off of the largest, d the
  // levels) are structural zeros, left out of a sparse product. At N = 12 (d = 4096) the X of sigma_x on an
  // end site has 12 elements a column (a free-fermion chain) above 1e-11 of its largest, 13 above 1e-12 and
  // 67 above 1e-14 (bench/README.md, "the apply without M, and round-off in the sparse factors").
  Factor(const cmat& m, long d) {
    const double thr = m.size() > 0 ? basis_round_off(d) * std::sqrt(m.cwiseAbs2().maxCoeff()) : 0.0;
    const long nnz = (m.array().abs2() > thr * thr).count();
    const double fill = dense_times_sparse_vectorized() ? kSparseFillVectorized : kSparseFill;
    sparse_ = m.rows() >= 32 && static_cast<double>(nnz) <= fill * static_cast<double>(m.size());
    if (sparse_) {
      S_ = m.adjoint().sparseView(1.0, thr);
      S_.makeCompressed();
    } else {
      D_ = m.adjoint();
    }
  }
  // y = x A^dag (assign) or y += x A^dag; x as a matrix and, for a sparse A, packed (x.packed() packs it the
  // first time a product needs it, so that the products with one state pack it once).
  void right_adjoint(Operand& x, cmat& y, bool add) const {
    if (sparse_) {
      dense_times_sparse(x.packed(), S_, y, add, thread_count());
    } else {
      if (add) y.noalias() += x.matrix() * D_; else y.noalias() = x.matrix() * D_;
    }
  }
  [[nodiscard]] std::size_t bytes() const {
    return sparse_ ? static_cast<std::size_t>(S_.nonZeros()) * (sizeof(cplx) + sizeof(long))
                   : static_cast<std::size_t>(D_.size()) * sizeof(cplx);
  }
  [[nodiscard]] bool sparse() const noexcept { return sparse_; }
  // A itself, column by column (a sparse factor only).
  [[nodiscard]] csc_matrix columns() const { return S_.adjoint(); }

private:
  // Up to these fills the sparse product beats BLAS's one-thread zgemm (bench/README.md, "Bloch-Redfield
  // apply", panels: d = 256, zgemm 3.4-3.6 ms; the AVX2 kernel 2.2-2.4 ms at 40 % fill, the portable loop
  // 2.5-3.3 ms at 20 %).
  static constexpr double kSparseFill = 0.2, kSparseFillVectorized = 0.4;
  bool sparse_ = false;
  // A^dag stored, not formed in the product: GCC 12's code for Eigen's small x * A.adjoint() stalls on
  // store-to-load forwarding (d = 4: 657 ns against 149 ns for x * D; clang 14: 66 and 60 ns; bench/README.md,
  // "Compiler").
  cmat D_;
  csc_matrix S_;  // A^dag
};

// A block of an operator between two charge sectors (rows in sector `to`, columns in sector `from`).
struct SectorBlock {
  int from, to;
  Factor lambda, x;  // of one dissipator term: Lambda and X
  // The partner term's block from `to` to `from` (the file's comment; -1: none).
  int partner_term = -1, partner_block = -1;
};

struct BathFactors {
  std::vector<std::vector<SectorBlock>> terms;  // per dissipator term, its blocks
  std::vector<Factor> K_h;                      // per sector
};

// Charge sectors of the Bloch-Redfield steady state: the classes of the eigenbasis's charge modulo the largest
// m for which H + H_LS and every K_h conserve it and every term's X and Lambda shift it by one amount
// (operators/charge.hpp); all levels in one sector when there is no such m > 1.
std::vector<std::vector<int>> redfield_sectors(const Generator& gen, int& modulus) {
  const Eigenbasis& B = gen.basis();
  int m = B.charge.empty() ? 1 : B.charge_modulus;
  m = charge_modulus(gen.renormalized_hamiltonian(), B.charge, m, true);
  for (const auto& b : gen.baths()) {
    m = charge_modulus(b.K_h, B.charge, m, true);
    for (const auto& t : b.terms) m = charge_modulus(t.Lambda, B.charge, charge_modulus(t.X, B.charge, m, false), false);
  }
  modulus = m;
  if (m == 1) {
    std::vector<int> all(static_cast<std::size_t>(gen.dim()));
    std::iota(all.begin(), all.end(), 0);
    return {all};
  }
  return charge_sectors(charge_classes(B.charge, m));
}

// Pairs each term of each bath with the term whose X is its X^dag (to the round-off of the basis change,
// basis_round_off), and each of the term's blocks (s -> r) with the partner's block (r -> s), for the apply
// without M (the file's comment). False when a term or a block has no partner (a coupling S that the model
// file accepted as Hermitian to 1e-12 but is not to round-off: the apply then multiplies by M).
bool pair_terms(const Generator& gen, std::vector<BathFactors>& baths) {
  for (std::size_t a = 0; a < baths.size(); ++a) {
    const auto& terms = gen.baths()[a].terms;
    for (std::size_t t = 0; t < terms.size(); ++t) {
      const cmat& X = terms[t].X;
      const double tol = X.size() > 0 ? basis_round_off(X.rows()) * X.cwiseAbs().maxCoeff() : 0.0;
      int partner = -1;
      for (std::size_t k = 0; k < terms.size() && partner < 0; ++k) {
        const std::size_t u = (t + k) % terms.size();  // t itself first (a hermitian coupling)
        if ((terms[u].X - X.adjoint()).cwiseAbs().maxCoeff() <= tol) partner = static_cast<int>(u);
      }
      if (partner < 0) return false;
      const std::vector<SectorBlock>& other = baths[a].terms[static_cast<std::size_t>(partner)];
      for (SectorBlock& blk : baths[a].terms[t]) {
        for (std::size_t k = 0; k < other.size(); ++k)
          if (other[k].from == blk.to && other[k].to == blk.from) {
            blk.partner_term = partner;
            blk.partner_block = static_cast<int>(k);
          }
        if (blk.partner_term < 0) return false;
      }
    }
  }
  return true;
}

using detail::SecularParts;

// The secular part of L among the coherences of one non-zero Bohr frequency (docs/methods.md, "Bloch-Redfield
// at scale"): rho_cd -> L(rho)_ab with w_ab = w_cd, from the terms (Lambda rho X^dag + X rho Lambda^dag)_ab and,
// between degenerate levels, from M = -i(H + H_LS) - sum K_h (the apply's M, whole). The variables are rho_ab with w_ab > tol, each
// held by its coordinate pair (Re, Im) of rho_ab or, when the coordinates store rho_ba, its conjugate. Empty
// when no such coupling exists (a non-degenerate spectrum) or when there are more than kMaxCouplings per
// variable.
struct CoherenceBlocks {
  std::vector<long> coordinate;  // per variable: the first of its coordinate pair
  std::vector<char> conjugate;   // per variable: the coordinates store rho_ba
  Eigen::SparseMatrix<cplx> S;   // variables x variables, diagonal included
  [[nodiscard]] bool empty() const { return coordinate.empty(); }
};

constexpr std::size_t kMaxCouplings = 16;

CoherenceBlocks coherence_blocks(const Generator& gen, const cmat& M, const HermitianBlocks& blocks,
                                 const SecularParts& parts, double tol) {
  const rvec& E = gen.basis().energies;
  const long d = E.size();
  CoherenceBlocks out;
  // (a, b) -> variable (-1: none) through one n x n table of ints per block (n its size): a level's block, its place
  // in it, and where each block's table starts. The lookups are the construction's inner loop, and a hash map made
  // them 37 % of a 16-point sweep of the XX chain at N = 8 (bench/README.md); the tables hold sum n^2 ints, about
  // twice the coherences.
  std::vector<int> block_of(static_cast<std::size_t>(d)), place(static_cast<std::size_t>(d));
  std::vector<std::size_t> table(static_cast<std::size_t>(blocks.count()) + 1, 0);
  std::size_t coherences = 0;
  for (int blk = 0; blk < blocks.count(); ++blk) {
    const auto& I = blocks.indices(blk);
    const auto n = I.size();
    for (std::size_t i = 0; i < n; ++i) {
      block_of[static_cast<std::size_t>(I[i])] = blk;
      place[static_cast<std::size_t>(I[i])] = static_cast<int>(i);
    }
    table[static_cast<std::size_t>(blk) + 1] = table[static_cast<std::size_t>(blk)] + n * n;
    coherences += n * (n - 1) / 2;
  }
  // What the construction can hold at most: the tables, per coherence its place and pair (~40 bytes) and up to
  // kMaxCouplings triplets (24 bytes each). An optional refinement: above a quarter of the memory limit the
  // preconditioner keeps the diagonal elements alone.
  if (coherences == 0 ||
      table.back() * sizeof(int) + coherences * (40 + kMaxCouplings * sizeof(Eigen::Triplet<cplx>)) > memory_limit() / 4)
    return out;
  // An operator's elements in the eigenbasis by Bohr frequency w = E_row - E_col, as arrays (the loops below read
  // rows and columns of many entries per element).
  struct Entries {
    std::vector<double> w;
    std::vector<int> row, col;
    std::vector<int> row_block, row_place, col_block, col_place;  // block_of and place of row and col
    std::vector<cplx> v;
  };
  // Only operators sparse in the eigenbasis (a mode's a + a^dag: 2 d elements) are taken; a dense one
  // (many-body levels) would make d^2 entries and more products than the budget.
  bool dense = false;
  auto entries = [&](const cmat& A) {
    Entries e;
    const rmat a2 = A.cwiseAbs2();
    const double thr2 = a2.size() > 0 ? 1e-28 * a2.maxCoeff() : 0.0;  // 1e-14 of the largest, squared
    if (static_cast<std::size_t>((a2.array() > thr2).count()) > kMaxCouplings * static_cast<std::size_t>(d)) {
      dense = true;
      return e;
    }
    std::vector<std::tuple<double, int, int>> at;  // (w, column, row): a total order
    for (int j = 0; j < static_cast<int>(A.cols()); ++j)
      for (int i = 0; i < static_cast<int>(A.rows()); ++i)
        if (a2(i, j) > thr2) at.emplace_back(E(i) - E(j), j, i);
    std::sort(at.begin(), at.end());
    for (const auto& [w, j, i] : at) {
      e.w.push_back(w);
      e.row.push_back(i);
      e.col.push_back(j);
      e.row_block.push_back(block_of[static_cast<std::size_t>(i)]);
      e.row_place.push_back(place[static_cast<std::size_t>(i)]);
      e.col_block.push_back(block_of[static_cast<std::size_t>(j)]);
      e.col_place.push_back(place[static_cast<std::size_t>(j)]);
      e.v.push_back(A(i, j));
    }
    return e;
  };
  std::vector<std::pair<Entries, Entries>> terms;  // per dissipator term: Lambda, X
  for (const auto& bath : gen.baths())
    for (const auto& t : bath.terms) {
      terms.emplace_back(entries(t.Lambda), entries(t.X));
      if (dense) return {};
    }
  std::vector<int> var(table.back(), -1);
  // The row of a's table (find(a, b) = row_of(a)[place[b]] when b is in a's block).
  auto row_of = [&](long a) {
    const auto blk = static_cast<std::size_t>(block_of[static_cast<std::size_t>(a)]);
    return var.data() + table[blk] + static_cast<std::size_t>(place[static_cast<std::size_t>(a)]) * blocks.indices(static_cast<int>(blk)).size();
  };
  auto find = [&](long a, long b) {
    return block_of[static_cast<std::size_t>(a)] == block_of[static_cast<std::size_t>(b)]
               ? row_of(a)[place[static_cast<std::size_t>(b)]]
               : -1;
  };
  std::vector<std::pair<long, long>> pair_of;  // per variable: (hi, lo)
  pair_of.reserve(coherences);
  for (int blk = 0; blk < blocks.count(); ++blk) {
    const auto& I = blocks.indices(blk);
    const long n = static_cast<long>(I.size());
    for (long j = 1; j < n; ++j)
      for (long i = 0; i < j; ++i) {
        const long a = I[static_cast<std::size_t>(i)], b = I[static_cast<std::size_t>(j)];
        if (std::abs(E(a) - E(b)) <= tol) continue;
        const bool flip = E(a) < E(b);
        const long hi = flip ? b : a, lo = flip ? a : b;
        row_of(hi)[place[static_cast<std::size_t>(lo)]] = static_cast<int>(out.coordinate.size());
        pair_of.emplace_back(hi, lo);
        out.coordinate.push_back(blocks.coordinate(blk, i, j));
        out.conjugate.push_back(flip ? 1 : 0);
      }
  }
  const auto nv = out.coordinate.size();
  // (M rho + rho M^dag)_ab between degenerate levels: M_ac rho_cb and rho_ae conj(M_be)
  std::vector<std::vector<long>> partners(static_cast<std::size_t>(d));
  for (long a = 0; a < d; ++a)
    for (long c = 0; c < d; ++c)
      if (c != a && std::abs(E(a) - E(c)) <= tol && M(a, c) != cplx(0.0, 0.0))
        partners[static_cast<std::size_t>(a)].push_back(c);
  // Every coupling (rho_cd -> L(rho)_ab, both variables, off the diagonal) to emit(row, column, value), until
  // emit returns false.
  auto couplings = [&](auto&& emit) {
    bool go = true;
    auto add = [&](long a, long b, long c, long e, auto value) {
      if (a == c && b == e) return;  // the diagonal comes from SecularParts::coherence
      const int r = find(a, b), q = find(c, e);
      if (r >= 0 && q >= 0) go = emit(r, q, value);
    };
    // (L rho R^dag)_ab = sum_cd L_ac rho_cd conj(R_bd), secular when w_ac = w_bd
    auto products = [&](const Entries& L, const Entries& R) {
      std::size_t lo = 0;
      const std::size_t nr = R.w.size();
      for (std::size_t i = 0; i < L.w.size() && go; ++i) {
        const long a = L.row[i], c = L.col[i];
        while (lo < nr && R.w[lo] < L.w[i] - tol) ++lo;
        std::size_t hi = lo;
        while (hi < nr && R.w[hi] <= L.w[i] + tol) ++hi;
        const int* var_a = row_of(a);  // find(a, .) and find(c, .) within their blocks
        const int* var_c = row_of(c);
        const int block_a = L.row_block[i], block_c = L.col_block[i];
        for (std::size_t k = lo; k < hi && go; ++k) {
          if (R.row_block[k] != block_a || R.col_block[k] != block_c) continue;
          const int r = var_a[R.row_place[k]];
          if (r < 0) continue;
          const int q = var_c[R.col_place[k]];
          if (q < 0 || (a == c && R.row[k] == R.col[k])) continue;  // the diagonal: SecularParts::coherence
          go = emit(r, q, [&] { return L.v[i] * std::conj(R.v[k]); });
        }
      }
    };
    for (const auto& [lam, x] : terms) {
      products(lam, x);
      products(x, lam);
    }
    for (std::size_t v = 0; v < nv && go; ++v) {
      const long a = pair_of[v].first, b = pair_of[v].second;
      for (const long c : partners[static_cast<std::size_t>(a)]) add(a, b, c, b, [&] { return M(a, c); });
      for (const long e : partners[static_cast<std::size_t>(b)]) add(a, b, a, e, [&] { return std::conj(M(b, e)); });
    }
  };
  // Counted first, without storing: when there are more than the budget (the XX chain at N = 8: over 260 000 for
  // 16 256 coherences) the preconditioner keeps the diagonal, and the triplets would have been made for nothing.
  const std::size_t budget = kMaxCouplings * nv;
  std::size_t count = 0;
  couplings([&](int, int, auto) { return ++count <= budget; });
  if (count == 0 || count > budget) return {};
  std::vector<Eigen::Triplet<cplx>> trip;
  trip.reserve(count + nv);
  couplings([&](int r, int q, auto value) {
    trip.emplace_back(r, q, value());
    return true;
  });
  for (std::size_t v = 0; v < nv; ++v)
    trip.emplace_back(static_cast<int>(v), static_cast<int>(v), parts.coherence(pair_of[v].first, pair_of[v].second));
  out.S.resize(static_cast<long>(nv), static_cast<long>(nv));
  out.S.setFromTriplets(trip.begin(), trip.end());
  out.S.makeCompressed();
  return out;
}

class EigenbasisEquation final : public MasterEquation {
public:
  EigenbasisEquation(const Model& model, const GeneratorOptions& options) : gen_(model, options) {
    lamb_shift_ = gen_.lamb_shift();
    names_ = gen_.bath_names();
    temps_ = gen_.temperatures();
    const std::vector<std::vector<int>> sectors = redfield_sectors(gen_, modulus_);
    const auto ns = static_cast<int>(sectors.size());
    const std::vector<int> at = sector_of(sectors, static_cast<std::size_t>(gen_.dim()));
    blocks_ = HermitianBlocks(sectors, gen_.dim());
    cmat M = cplx(0.0, -1.0) * gen_.renormalized_hamiltonian();
    for (const auto& b : gen_.baths()) M -= b.K_h;
    // Factor has no noexcept move (Eigen's SparseMatrix): vectors of them get their room first, or growing
    // copies them.
    M_.reserve(static_cast<std::size_t>(ns));
    for (int s = 0; s < ns; ++s) M_.emplace_back(M(blocks_.indices(s), blocks_.indices(s)), gen_.dim());
    for (const auto& b : gen_.baths()) {
      BathFactors f;
      f.K_h.reserve(static_cast<std::size_t>(ns));
      for (int s = 0; s < ns; ++s) f.K_h.emplace_back(b.K_h(blocks_.indices(s), blocks_.indices(s)), gen_.dim());
      for (const auto& t : b.terms) {
        // The sector each sector's columns go to (a fixed shift of the charge: at most one).
        std::vector<int> to(static_cast<std::size_t>(ns), -1);
        for (const cmat* op : {&t.X, &t.Lambda}) {
          const double thr2 = op->size() > 0 ? 1e-28 * op->cwiseAbs2().maxCoeff() : 0.0;  // (1e-14 of the largest)^2
          for (long j = 0; j < op->cols(); ++j)
            for (long i = 0; i < op->rows(); ++i)
              if (std::norm((*op)(i, j)) > thr2) to[static_cast<std::size_t>(at[static_cast<std::size_t>(j)])] = at[static_cast<std::size_t>(i)];
        }
        std::vector<SectorBlock> blocks;
        blocks.reserve(static_cast<std::size_t>(ns));
        for (int s = 0; s < ns; ++s) {
          const int r = to[static_cast<std::size_t>(s)];
          if (r < 0) continue;
          const auto& I = blocks_.indices(r);
          const auto& J = blocks_.indices(s);
          blocks.push_back(SectorBlock{s, r, Factor(t.Lambda(I, J), gen_.dim()), Factor(t.X(I, J), gen_.dim())});
        }
        f.terms.push_back(std::move(blocks));
      }
      baths_.push_back(std::move(f));
    }
    for (const auto& b : baths_) n_terms_ += b.terms.size();
    factorised_ = pair_terms(gen_, baths_);
    if (factorised_) {
      const rvec& E = gen_.basis().energies;
      iE_.reserve(static_cast<std::size_t>(ns));
      for (int s = 0; s < ns; ++s) {
        const auto& I = blocks_.indices(s);
        cvec v(static_cast<long>(I.size()));
        for (std::size_t i = 0; i < I.size(); ++i) v(static_cast<long>(i)) = cplx(0.0, E(I[i]));
        iE_.push_back(std::move(v));
      }
      // M is then needed only by assemble(), which needs every factor sparse.
      if (std::any_of(M_.begin(), M_.end(), [](const Factor& f) { return !f.sparse(); })) M_.clear();
    }
    // What the currents and the preconditioner need, then the generator's d x d operators go.
    const cmat& Htot = gen_.renormalized_hamiltonian();
    Htot_s_.reserve(static_cast<std::size_t>(ns));
    for (int s = 0; s < ns; ++s) Htot_s_.emplace_back(Htot(blocks_.indices(s), blocks_.indices(s)));
    for (const auto& b : gen_.baths()) {
      std::vector<cmat> hls;
      hls.reserve(static_cast<std::size_t>(ns));
      for (int s = 0; s < ns; ++s) hls.emplace_back(b.H_LS(blocks_.indices(s), blocks_.indices(s)));
      HLS_s_.push_back(std::move(hls));
    }
    secular_ = detail::secular_parts(gen_);  // what the preconditioner needs
    {
      const rvec& E = gen_.basis().energies;
      const double scale = E.size() > 0 ? std::max(1.0, E.cwiseAbs().maxCoeff()) : 1.0;
      const double tol = options.degeneracy_tolerance * scale;
      coherence_ = coherence_blocks(gen_, M, blocks_, secular_, tol);
      for (int s = 0; s < blocks_.count() && !degenerate_; ++s) {
        std::vector<double> e;
        for (const int i : blocks_.indices(s)) e.push_back(E(i));
        std::sort(e.begin(), e.end());
        for (std::size_t k = 1; k < e.size(); ++k) degenerate_ = degenerate_ || e[k] - e[k - 1] <= tol;
      }
    }
    gen_.release_operators();
  }

  [[nodiscard]] Method method() const override { return gen_.method(); }
  [[nodiscard]] int dim() const override { return gen_.dim(); }

  [[nodiscard]] LinearProblem<double> steady_problem(const SteadyStateOptions& options) const override;
  // L in the coordinates of blocks_ as an explicit sparse matrix (for the sparse LU) when every operator is
  // sparse in the eigenbasis (a mode); null otherwise or when it would not fit in memory.
  [[nodiscard]] std::shared_ptr<const LinearProblem<double>::Sparse> assemble() const;
  [[nodiscard]] StateChecks checks(const rvec& x) const override { return block_state_checks(blocks_, x); }
  // With Y_a = sum_t X_t (Lambda_t rho)^dag - K_h,a rho, bath a's dissipator is D_a(rho) = Y_a + Y_a^dag,
  // so J_a = Tr[(H + H_LS) D_a] = 2 Re Tr[(H + H_LS) Y_a] and the bare current
  // Tr[H (D_a - i[H_LS,a, rho])] = sum_i E_i (2 Re (Y_a)_ii + 2 Im (H_LS,a rho)_ii): O(d^2) after the products.
  // Both need only Re Tr[(H + H_LS) Y_a] and Re (Y_a)_ii, which Y_a^dag (built like the apply's) has too; Y_a,
  // rho and H + H_LS are block diagonal over the charge sectors, so the traces run over the sectors.
  [[nodiscard]] EquationCurrents currents(const rvec& x) const override {
    const rvec& E = gen_.basis().energies;
    EquationCurrents out;
    Workspace w;
    std::vector<Operand> rho = unpack(x, w);
    for (std::size_t a = 0; a < baths_.size(); ++a) {
      for (int s = 0; s < blocks_.count(); ++s) {
        baths_[a].K_h[static_cast<std::size_t>(s)].right_adjoint(rho[static_cast<std::size_t>(s)], w.Yd[static_cast<std::size_t>(s)], false);
        w.Yd[static_cast<std::size_t>(s)] = -w.Yd[static_cast<std::size_t>(s)];
      }
      add_jumps(baths_[a], rho, w);
      double current = 0.0, bare = 0.0;
      for (int s = 0; s < blocks_.count(); ++s) {
        const auto& I = blocks_.indices(s);
        const cmat& Yd = w.Yd[static_cast<std::size_t>(s)];
        const cmat& r = w.rho[static_cast<std::size_t>(s)];
        current += 2.0 * (Htot_s_[static_cast<std::size_t>(s)].transpose().cwiseProduct(Yd)).sum().real();
        const cmat& hls = HLS_s_[a][static_cast<std::size_t>(s)];
        for (long i = 0; i < Yd.rows(); ++i)
          bare += E(I[static_cast<std::size_t>(i)]) *
                  (2.0 * Yd(i, i).real() + 2.0 * (hls.row(i).transpose().cwiseProduct(r.col(i))).sum().imag());
      }
      out.currents.push_back(current);
      out.bare_currents.push_back(bare);
    }
    // Rotating-frame jumps (dme, ddme) are not built by this equation.
    return out;
  }
  [[nodiscard]] cmat site_state(const rvec& x) const override { return gen_.basis().from_eigen(blocks_.to_matrix(x)); }
  [[nodiscard]] double largest_rate() const override { return gen_.largest_rate(); }
  [[nodiscard]] double energy_span() const override {
    const rvec& E = gen_.basis().energies;
    return E.size() > 0 ? E.maxCoeff() - E.minCoeff() : 0.0;
  }
  [[nodiscard]] double smallest_splitting() const override {
    return gen_.method() == Method::redfield ? std::numeric_limits<double>::infinity() : gen_.smallest_bohr_splitting();
  }
  [[nodiscard]] std::string structure() const override {
    std::string s = "eigenbasis, matrix-free (" + std::to_string((factorised_ ? 0 : 1) + 2 * n_terms_) + " products per apply)";
    if (blocks_.count() > 1)
      s += ", " + std::to_string(blocks_.count()) + " charge sectors (excitation number" +
           (modulus_ > 0 ? " mod " + std::to_string(modulus_) : std::string()) + ")";
    return s;
  }

  // The apply's matrices, per charge sector: rho and Y^dag (and rho packed for sparse products); U and
  // T = U^dag of one term's block at a time (T packed). Without M: U of every block of one bath's terms
  // (Ub[term][block]), and T = U^dag - U' in T.
  struct Workspace {
    std::vector<cmat> rho, Yd;
    std::vector<PackedRows> rho_packed;
    cmat U, T;
    PackedRows T_packed;
    std::vector<std::vector<cmat>> Ub;
  };
  // The sectors of rho from coordinates x, as operands of the products.
  std::vector<Operand> unpack(const rvec& x, Workspace& w) const {
    const auto ns = static_cast<std::size_t>(blocks_.count());
    w.rho.resize(ns);
    w.Yd.resize(ns);
    w.rho_packed.resize(ns);
    std::vector<Operand> rho;
    rho.reserve(ns);
    for (std::size_t s = 0; s < ns; ++s) {
      blocks_.unpack(x, static_cast<int>(s), w.rho[s]);
      rho.emplace_back(w.rho[s], w.rho_packed[s]);
    }
    return rho;
  }
  // Y^dag with L(rho) = Y + Y^dag for Hermitian rho (the file's comment), sector by sector: U = rho Lambda^dag
  // = (Lambda rho)^dag, T = U^dag, Y^dag += T X^dag, with each term's block from sector `from` to `to`.
  // Without M (factorised_): Y^dag = i rho diag(E) + sum_t (U_t^dag - U_t') X_t^dag, per block of each term.
  void apply(std::vector<Operand>& rho, Workspace& w) const {
    if (!factorised_) {
      for (std::size_t s = 0; s < M_.size(); ++s) M_[s].right_adjoint(rho[s], w.Yd[s], false);
      for (const auto& b : baths_) add_jumps(b, rho, w);
      return;
    }
    for (std::size_t s = 0; s < iE_.size(); ++s) w.Yd[s].noalias() = w.rho[s] * iE_[s].asDiagonal();
    for (const auto& b : baths_) {
      w.Ub.resize(b.terms.size());
      for (std::size_t t = 0; t < b.terms.size(); ++t) {
        w.Ub[t].resize(b.terms[t].size());
        for (std::size_t k = 0; k < b.terms[t].size(); ++k) {
          const SectorBlock& blk = b.terms[t][k];
          blk.lambda.right_adjoint(rho[static_cast<std::size_t>(blk.from)], w.Ub[t][k], false);
        }
      }
      for (std::size_t t = 0; t < b.terms.size(); ++t)
        for (std::size_t k = 0; k < b.terms[t].size(); ++k) {
          const SectorBlock& blk = b.terms[t][k];
          Operand W(w.Ub[t][k], w.T_packed, &w.T,
                    &w.Ub[static_cast<std::size_t>(blk.partner_term)][static_cast<std::size_t>(blk.partner_block)]);
          blk.x.right_adjoint(W, w.Yd[static_cast<std::size_t>(blk.to)], true);
        }
    }
  }
  void add_jumps(const BathFactors& b, std::vector<Operand>& rho, Workspace& w) const {
    for (const auto& term : b.terms)
      for (const SectorBlock& blk : term) {
        blk.lambda.right_adjoint(rho[static_cast<std::size_t>(blk.from)], w.U, false);
        Operand T(w.U, w.T_packed, &w.T);
        blk.x.right_adjoint(T, w.Yd[static_cast<std::size_t>(blk.to)], true);
      }
  }

private:
  Generator gen_;
  HermitianBlocks blocks_;
  int modulus_ = 1;
  std::vector<Factor> M_;  // per sector: -i(H + H_LS) - sum_a K_h,a (empty when factorised_ and one is dense)
  std::vector<BathFactors> baths_;
  std::size_t n_terms_ = 0;
  bool factorised_ = false;  // every term has a partner: the apply without M
  std::vector<cvec> iE_;     // per sector: i E (factorised_)
  std::vector<cmat> Htot_s_;             // H + H_LS on each sector
  std::vector<std::vector<cmat>> HLS_s_;  // per bath: its H_LS on each sector
  SecularParts secular_;
  CoherenceBlocks coherence_;
  bool degenerate_ = false;  // two levels of one block within the degeneracy tolerance
};

// The secular part of L in real coordinates: populations through the exact d x d rate block (GTH) with the
// border, every coherence divided by its own diagonal element -i(E_a - E_b) + R_ab,ab (exact for Davies
// with a non-degenerate spectrum; for Bloch-Redfield the neglected non-secular couplings are
// O(rate / Bohr splitting)). The coordinates are those of `blocks` (the charge sectors).
class SecularPreconditioner {
public:
  SecularPreconditioner(const SecularParts& parts, const HermitianBlocks& blocks, double border,
                        const CoherenceBlocks& coherence)
      : d_(parts.rates.rows()), border_(border), population_(blocks.population_coordinates()), rates_(parts.rates),
        coherence_(coherence) {
    if (!coherence_.empty()) {
      coherence_lu_.compute(coherence_.S);
      if (coherence_lu_.info() != Eigen::Success) coherence_ = CoherenceBlocks{};  // the diagonal elements then
    }
    // Inverse diagonal elements of the coherences a < b of each block, in the order of the coordinates.
    for (int blk = 0; blk < blocks.count(); ++blk) {
      const auto& I = blocks.indices(blk);
      const long n = static_cast<long>(I.size());
      runs_.emplace_back(blocks.offset(blk) + n, static_cast<long>(inv_.size()), n * (n - 1) / 2);
      for (long j = 1; j < n; ++j)
        for (long i = 0; i < j; ++i) {
          const long a = I[static_cast<std::size_t>(i)], b = I[static_cast<std::size_t>(j)];
          const cplx v = parts.coherence(a, b);
          inv_.push_back(std::abs(v) > 0 ? 1.0 / v : cplx(1.0, 0.0));
        }
    }
  }
  // 0 when the secular rate equations have several closed classes (the steady state is not unique), else 1.
  [[nodiscard]] double population_indicator() const { return rates_.uniqueness_indicator(); }
  [[nodiscard]] std::size_t bytes() const {
    return static_cast<std::size_t>(d_) * static_cast<std::size_t>(d_) * sizeof(double) + inv_.size() * sizeof(cplx);
  }
  void solve(const rvec& x, rvec& y) const {
    y.resize(x.size());
    rvec p(d_);
    for (long l = 0; l < d_; ++l) p(l) = x(population_[static_cast<std::size_t>(l)]);
    rvec q;
    rates_.solve_bordered(p, border_, q);
    for (long l = 0; l < d_; ++l) y(population_[static_cast<std::size_t>(l)]) = q(l);
    for (const auto& [at, first, count] : runs_)
      for (long k = 0; k < count; ++k) {
        const cplx c = cplx(x(at + 2 * k), x(at + 2 * k + 1)) * inv_[static_cast<std::size_t>(first + k)];
        y(at + 2 * k) = c.real();
        y(at + 2 * k + 1) = c.imag();
      }
    if (coherence_.empty()) return;
    const auto nv = static_cast<long>(coherence_.coordinate.size());
    Eigen::VectorXcd r(nv);
    for (long v = 0; v < nv; ++v) {
      const long at = coherence_.coordinate[static_cast<std::size_t>(v)];
      const cplx c(x(at), x(at + 1));
      r(v) = coherence_.conjugate[static_cast<std::size_t>(v)] != 0 ? std::conj(c) : c;
    }
    const Eigen::VectorXcd z = coherence_lu_.solve(r);
    for (long v = 0; v < nv; ++v) {
      const long at = coherence_.coordinate[static_cast<std::size_t>(v)];
      const cplx c = coherence_.conjugate[static_cast<std::size_t>(v)] != 0 ? std::conj(z(v)) : z(v);
      y(at) = c.real();
      y(at + 1) = c.imag();
    }
  }

private:
  long d_;
  double border_;
  std::vector<long> population_;  // coordinate of each level's population
  RateEquation rates_;            // the population block (GTH, steady/rate_equation.hpp)
  std::vector<cplx> inv_;
  std::vector<std::tuple<long, long, long>> runs_;  // per block: first coherence coordinate, first inverse, count
  CoherenceBlocks coherence_;
  Eigen::SparseLU<Eigen::SparseMatrix<cplx>> coherence_lu_;
};

// Column j of L is the coordinates of L(B_j), B_j the Hermitian basis element of coordinate j (e_aa, or
// (e_ab + e_ba)/sqrt2 and i(e_ab - e_ba)/sqrt2 for a < b: hermitian_blocks.hpp). L(B) = F + F^dag with the apply's
// F(B) = B M^dag + sum_t Lambda_t B X_t^dag (the file's comment), so F_ik = sum_ab B_ab (delta_ia conj(M_kb) +
// Lambda_t,ia conj(X_t,kb)), read through the columns of M, Lambda_t and X_t.
std::shared_ptr<const LinearProblem<double>::Sparse> EigenbasisEquation::assemble() const {
  using Sparse = LinearProblem<double>::Sparse;
  struct Jump {
    int from, to;
    csc_matrix lambda, x;
  };
  std::vector<csc_matrix> M;
  std::vector<Jump> jumps;
  if (M_.empty()) return nullptr;  // dropped: a dense block (factorised_)
  for (const Factor& f : M_) {
    if (!f.sparse()) return nullptr;
    M.push_back(f.columns());
  }
  for (const auto& b : baths_)
    for (const auto& term : b.terms)
      for (const SectorBlock& blk : term) {
        if (!blk.lambda.sparse() || !blk.x.sparse()) return nullptr;
        jumps.push_back({blk.from, blk.to, blk.lambda.columns(), blk.x.columns()});
      }
  // Entries per column at most: two elements of B, each giving a column of M and a column of Lambda times one of
  // X, each element of F two coordinates.
  auto widest = [](const csc_matrix& A) {
    long w = 0;
    for (long c = 0; c < A.outerSize(); ++c) w = std::max(w, A.outerIndexPtr()[c + 1] - A.outerIndexPtr()[c]);
    return w;
  };
  long per_column = 0;
  for (const csc_matrix& m : M) per_column = std::max(per_column, widest(m));
  for (const Jump& j : jumps) per_column += widest(j.lambda) * widest(j.x);
  per_column *= 4;
  const long n = blocks_.dim();
  const auto nnz = static_cast<std::size_t>(n) * static_cast<std::size_t>(per_column);
  if (nnz * (sizeof(double) + sizeof(long)) + static_cast<std::size_t>(n) * 24 > memory_limit() / 2) return nullptr;
  constexpr double kInvSqrt2 = HermitianBlocks::kInvSqrt2;
  std::vector<long> outer(static_cast<std::size_t>(n) + 1, 0), inner;
  std::vector<double> values;
  inner.reserve(nnz);
  values.reserve(nnz);
  rvec acc = rvec::Zero(n);
  std::vector<char> seen(static_cast<std::size_t>(n), 0);
  std::vector<long> touched;
  auto add = [&](long c, double v) {
    if (seen[static_cast<std::size_t>(c)] == 0) {
      seen[static_cast<std::size_t>(c)] = 1;
      touched.push_back(c);
    }
    acc(c) += v;
  };
  // F_ik += v in block r: its share of the coordinates of F + F^dag.
  auto add_element = [&](int r, long i, long k, cplx v) { blocks_.add_plus_adjoint_element(r, i, k, v, add); };
  struct Element {
    long a, b;
    cplx beta;
  };
  long col = 0;
  for (int s = 0; s < blocks_.count(); ++s) {
    const long ns = blocks_.size(s);
    auto column = [&](std::initializer_list<Element> elements) {
      for (const auto& [a, b, beta] : elements) {
        const csc_matrix& m = M[static_cast<std::size_t>(s)];
        for (csc_matrix::InnerIterator it(m, b); it; ++it) add_element(s, a, it.row(), beta * std::conj(it.value()));
        for (const Jump& j : jumps) {
          if (j.from != s) continue;
          for (csc_matrix::InnerIterator li(j.lambda, a); li; ++li)
            for (csc_matrix::InnerIterator xi(j.x, b); xi; ++xi)
              add_element(j.to, li.row(), xi.row(), beta * li.value() * std::conj(xi.value()));
        }
      }
      std::sort(touched.begin(), touched.end());
      for (const long c : touched) {
        if (acc(c) != 0.0) {
          inner.push_back(c);
          values.push_back(acc(c));
        }
        acc(c) = 0.0;
        seen[static_cast<std::size_t>(c)] = 0;
      }
      touched.clear();
      outer[static_cast<std::size_t>(++col)] = static_cast<long>(inner.size());
    };
    for (long a = 0; a < ns; ++a) column({{a, a, cplx(1.0, 0.0)}});
    for (long b = 1; b < ns; ++b)
      for (long a = 0; a < b; ++a) {
        column({{a, b, cplx(kInvSqrt2, 0.0)}, {b, a, cplx(kInvSqrt2, 0.0)}});
        column({{a, b, cplx(0.0, kInvSqrt2)}, {b, a, cplx(0.0, -kInvSqrt2)}});
      }
  }
  auto A = std::make_shared<Sparse>(n, n);
  A->resizeNonZeros(static_cast<long>(values.size()));
  std::copy(outer.begin(), outer.end(), A->outerIndexPtr());
  std::copy(inner.begin(), inner.end(), A->innerIndexPtr());
  std::copy(values.begin(), values.end(), A->valuePtr());
  return A;
}

LinearProblem<double> EigenbasisEquation::steady_problem(const SteadyStateOptions& options) const {
  const long d = dim();
  LinearProblem<double> p;
  p.dim = blocks_.dim();
  p.border = blocks_.trace_functional();
  p.scale = 2.0 * gen_.largest_rate() + 1e-300;
  // Workspace: rho, Y^dag and rho packed per sector; U, T and T packed for the largest term block.
  // Without M: also U of every block of one bath (the bath with the most).
  std::size_t sector_elements = 0, largest_pair = 0, bath_pairs = 0;
  for (int s = 0; s < blocks_.count(); ++s)
    sector_elements += static_cast<std::size_t>(blocks_.size(s)) * static_cast<std::size_t>(blocks_.size(s));
  for (const auto& b : baths_) {
    std::size_t pairs = 0;
    for (const auto& term : b.terms)
      for (const SectorBlock& blk : term) {
        const std::size_t pair = static_cast<std::size_t>(blocks_.size(blk.from)) * static_cast<std::size_t>(blocks_.size(blk.to));
        largest_pair = std::max(largest_pair, pair);
        pairs += pair;
      }
    bath_pairs = std::max(bath_pairs, pairs);
  }
  p.apply_workspace_bytes = (3 * (sector_elements + largest_pair) + (factorised_ ? bath_pairs : 0)) * sizeof(cplx);
  // Preconditioner: population LU, coherence inverses.
  p.operator_bytes = static_cast<std::size_t>(d) * static_cast<std::size_t>(d) * sizeof(double) +
                     (static_cast<std::size_t>(blocks_.dim()) - static_cast<std::size_t>(d)) / 2 * sizeof(cplx);
  for (const auto& b : baths_) {
    for (const auto& term : b.terms)
      for (const SectorBlock& blk : term) p.operator_bytes += blk.lambda.bytes() + blk.x.bytes();
    for (const Factor& f : b.K_h) p.operator_bytes += f.bytes();
  }
  for (const Factor& f : M_) p.operator_bytes += f.bytes();
  // The coherence couplings and their sparse LU: with them a harmonic mode at nmax = 400 (1.2 x 10^5
  // non-zeros, 2.4 MB) peaked 31 MB higher (106 -> 138 MB, whole process), 13 x the matrix; 16 x as the estimate.
  p.operator_bytes += 16 * static_cast<std::size_t>(coherence_.S.nonZeros()) * (sizeof(cplx) + sizeof(int));
  auto w = std::make_shared<Workspace>();  // one problem is solved by one thread
  p.apply = [this, w](const rvec& x, rvec& y) {
    std::vector<Operand> rho = unpack(x, *w);
    apply(rho, *w);
    y.resize(x.size());
    for (int s = 0; s < blocks_.count(); ++s) blocks_.pack_plus_adjoint(w->Yd[static_cast<std::size_t>(s)], s, y);
  };
  // Gross jump rate of the state: sum_a (decay rate of level a) p_a.
  const rvec decay = 2.0 * secular_.k;
  p.residual_scale = [decay, at = blocks_.population_coordinates()](const rvec& x) {
    double sum = 0.0;
    for (long l = 0; l < decay.size(); ++l) sum += decay(l) * std::abs(x(at[static_cast<std::size_t>(l)]));
    return sum;
  };
  // Sectors of one level each: the coordinates are the populations, the problem the Pauli rate equation.
  p.rate_equation = blocks_.largest_block() <= 1;
  const SolvePlan plan = plan_steady(p, options);
  if (d > options.dense_max_dim && plan.solver != "gth") {
    check_memory(plan.bytes, "the " + method_name(method()) + " steady state (" + std::to_string(d) +
                                                    " levels, matrix-free)",
                 "--method global needs only the populations");
    auto P = std::make_shared<SecularPreconditioner>(secular_, blocks_, p.scale, coherence_);
    p.preconditioner_rcond = P->population_indicator();
    p.uniqueness_unproven = degenerate_;
    p.precondition = [P](const rvec& x, rvec& y) { P->solve(x, y); };
    // GMRES first; the sparse LU of the assembled operator where GMRES is slow (steady_state.hpp).
    p.prefer_krylov = true;
    p.assemble = [this]() { return assemble(); };
  }
  return p;
}

}  // namespace

std::unique_ptr<MasterEquation> make_eigenbasis_equation(const Model& model, const GeneratorOptions& options) {
  return std::make_unique<EigenbasisEquation>(model, options);
}

}  // namespace qheat
