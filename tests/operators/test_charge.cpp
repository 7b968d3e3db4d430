// Conserved charges (operators/charge.hpp): the modulus a Hamiltonian or a coupling operator leaves, and the
// eigen-decomposition taken class by class (generators/generator.hpp, diagonalize(H, q)).
#include <gtest/gtest.h>

#include <random>

#include "../support.hpp"
#include "qheat/generators/generator.hpp"
#include "qheat/operators/charge.hpp"

using namespace qheat;
using namespace qheat::test;
using namespace qheat::local_ops;

namespace {

cmat hop(const Space& sp, const std::string& a, const std::string& b) {
  const cmat t = op(sp, a, sigma_plus()) * op(sp, b, sigma_minus());
  return t + t.adjoint();
}

// XX chain with site disorder (conserves the excitation number exactly).
cmat xx_chain(const Space& sp, int n) {
  cmat H = cmat::Zero(sp.dim(), sp.dim());
  for (int k = 1; k <= n; ++k) H += 0.5 * (1.0 + 0.1 * k) * op(sp, "q" + std::to_string(k), sigma_z());
  for (int k = 1; k < n; ++k) H += 0.2 * hop(sp, "q" + std::to_string(k), "q" + std::to_string(k + 1));
  return H;
}

// Transverse-field Ising chain: sz fields and sx sx couplings conserve only the parity of the excitations.
cmat ising_chain(const Space& sp, int n) {
  cmat H = cmat::Zero(sp.dim(), sp.dim());
  for (int k = 1; k <= n; ++k) H += 0.5 * (1.0 + 0.1 * k) * op(sp, "q" + std::to_string(k), sigma_z());
  for (int k = 1; k < n; ++k)
    H += 0.3 * op(sp, "q" + std::to_string(k), sigma_x()) * op(sp, "q" + std::to_string(k + 1), sigma_x());
  return H;
}

}  // namespace

TEST(Charge, ExcitationNumbersCountQuantaPerSite) {
  // Qubits: index 0 is |up> (one quantum); a boson's index is its Fock number.
  const Space sp({make_qubit("q"), make_boson("a", 2)});
  EXPECT_EQ(excitation_numbers(sp), (std::vector<int>{1, 2, 3, 0, 1, 2}));
}

TEST(Charge, ModulusOfHamiltoniansAndCouplings) {
  const Space sp = qubits(3);
  const std::vector<int> q = excitation_numbers(sp);
  EXPECT_EQ(charge_modulus(xx_chain(sp, 3), q, 0, true), 0);     // U(1): every element conserves Q
  EXPECT_EQ(charge_modulus(ising_chain(sp, 3), q, 0, true), 2);  // sx sx changes Q by 0 or +-2
  EXPECT_EQ(charge_modulus(ising_chain(sp, 3) + op(sp, "q2", sigma_x()), q, 0, true), 1);  // a field along x: none
  // Coupling operators: one fixed shift keeps the modulus, shifts +-1 leave 2, shifts 0 and +-1 leave none.
  EXPECT_EQ(charge_modulus(op(sp, "q1", sigma_minus()), q, 0, false), 0);
  EXPECT_EQ(charge_modulus(op(sp, "q1", sigma_x()), q, 0, false), 2);
  EXPECT_EQ(charge_modulus(op(sp, "q1", sigma_x()), q, 2, false), 2);
  EXPECT_EQ(charge_modulus(cmat(op(sp, "q1", sigma_x()) + 0.3 * op(sp, "q1", sigma_z())), q, 0, false), 1);
  EXPECT_EQ(charge_modulus(cmat::Zero(8, 8), q, 2, false), 2);  // nothing to constrain it
  // The sparse form (the local method's site-basis operators) finds the same moduli.
  using Sparse = Eigen::SparseMatrix<cplx, Eigen::RowMajor, long>;
  EXPECT_EQ(charge_modulus(Sparse(xx_chain(sp, 3).sparseView()), q, 0, true), 0);
  EXPECT_EQ(charge_modulus(Sparse(ising_chain(sp, 3).sparseView()), q, 0, true), 2);
  EXPECT_EQ(charge_modulus(Sparse(op(sp, "q1", sigma_x()).sparseView()), q, 0, false), 2);
  EXPECT_EQ(charge_modulus(Sparse(cmat(op(sp, "q1", sigma_x()) + 0.3 * op(sp, "q1", sigma_z())).sparseView()), q, 0, false), 1);
  // Round-off (below 1e-14 of the largest element) does not count against the charge.
  cmat noisy = xx_chain(sp, 3);
  noisy(0, 1) = noisy(1, 0) = 1e-16;
  EXPECT_EQ(charge_modulus(noisy, q, 0, true), 0);
  EXPECT_EQ(charge_modulus(Sparse(noisy.sparseView()), q, 0, true), 0);
  noisy(0, 1) = noisy(1, 0) = 1e-6;
  EXPECT_EQ(charge_modulus(noisy, q, 0, true), 1);
  EXPECT_EQ(charge_classes({0, 1, 2, 3, -1}, 2), (std::vector<int>{0, 1, 0, 1, 1}));
  EXPECT_EQ(charge_sectors({1, 0, 1, 2}), (std::vector<std::vector<int>>{{1}, {0, 2}, {3}}));
}

TEST(Charge, DiagonalizeByClassEqualsTheFullDecomposition) {
  // The class-by-class decomposition is a decomposition of H: the same ascending energies as one LAPACK call
  // on the whole matrix (round-off of a d = 16 or 32 eigensolver, 1e-13 of |H| ~ 2), unitary vectors that
  // give back H to the same round-off, and every eigenvector inside one class of the charge.
  for (int which = 0; which < 3; ++which) {
    const int n = which == 2 ? 5 : 4;
    const Space sp = qubits(n);
    const std::vector<int> q = excitation_numbers(sp);
    // A random phase on the hoppings makes H complex; the Ising chain stays real.
    cmat H = which == 1 ? ising_chain(sp, n) : xx_chain(sp, n);
    if (which == 2) H += cplx(0.0, 0.05) * (op(sp, "q1", sigma_plus()) * op(sp, "q3", sigma_minus())) -
                         cplx(0.0, 0.05) * (op(sp, "q3", sigma_plus()) * op(sp, "q1", sigma_minus()));
    const Eigenbasis full = diagonalize(H), by_class = diagonalize(H, q);
    ASSERT_EQ(by_class.charge.size(), q.size());
    EXPECT_EQ(by_class.charge_modulus, which == 1 ? 2 : 0);
    EXPECT_LT((full.energies - by_class.energies).cwiseAbs().maxCoeff(), 1e-13);
    const cmat& V = by_class.vectors;
    const long d = V.rows();
    EXPECT_LT((V.adjoint() * V - cmat::Identity(d, d)).cwiseAbs().maxCoeff(), 1e-13);
    EXPECT_LT((V * by_class.energies.cast<cplx>().asDiagonal() * V.adjoint() - H).cwiseAbs().maxCoeff(), 1e-13);
    const std::vector<int> cls = charge_classes(q, by_class.charge_modulus);
    for (long k = 0; k < d; ++k)
      for (long i = 0; i < d; ++i)
        if (cls[static_cast<std::size_t>(i)] != by_class.charge[static_cast<std::size_t>(k)]) EXPECT_EQ(V(i, k), cplx(0.0, 0.0));
  }
  // No conserved charge: the plain decomposition, no classes.
  const Space sp = qubits(3);
  const Eigenbasis none = diagonalize(cmat(ising_chain(sp, 3) + op(sp, "q2", sigma_x())), excitation_numbers(sp));
  EXPECT_TRUE(none.charge.empty());
  EXPECT_EQ(none.charge_modulus, 1);
}

// The basis change by class blocks (Eigenbasis::to_eigen, from_eigen at d >= kMinSectorDim) equals the dense
// V^dag op V and V op V^dag for operators that keep, shift or ignore the charge, real and complex, with real
// and complex eigenvectors; and A^dag B by sectors equals the dense product. Tolerance 1e-12 of the result's
// largest element: the products sum at most d = 64 terms of O(1) in another order (round-off ~1e-15 each).
TEST(Charge, BasisChangeAndProductsBySectorsEqualDenseProducts) {
  const int n = 6;  // d = 64: above kMinSectorDim
  const Space sp = qubits(n);
  const std::vector<int> q = excitation_numbers(sp);
  std::mt19937 rng(7);
  std::normal_distribution<double> g;
  auto random_matrix = [&](long d, bool complex) {
    cmat m(d, d);
    for (long j = 0; j < d; ++j)
      for (long i = 0; i < d; ++i) m(i, j) = cplx(g(rng), complex ? g(rng) : 0.0);
    return m;
  };
  auto close = [](const cmat& a, const cmat& b) { return (a - b).cwiseAbs().maxCoeff() <= 1e-12 * std::max(1.0, b.cwiseAbs().maxCoeff()); };
  cmat Hc = xx_chain(sp, n);
  Hc += cplx(0.0, 0.05) * (op(sp, "q1", sigma_plus()) * op(sp, "q3", sigma_minus())) -
        cplx(0.0, 0.05) * (op(sp, "q3", sigma_plus()) * op(sp, "q1", sigma_minus()));
  for (const cmat& H : {xx_chain(sp, n), ising_chain(sp, n), Hc}) {
    const Eigenbasis b = diagonalize(H, q);
    ASSERT_GT(b.level_sectors.size(), 1U);
    ASSERT_EQ(b.site_sectors.size(), b.level_sectors.size());
    const cmat& V = b.vectors;
    const long d = V.rows();
    const cmat dense = random_matrix(d, true);
    const std::vector<cmat> ops = {op(sp, "q1", sigma_x()), op(sp, "q2", sigma_minus()), op(sp, "q3", sigma_z()),
                                   cmat(op(sp, "q1", sigma_y()) * op(sp, "q4", sigma_x())), dense, cmat(dense.real().cast<cplx>())};
    for (const cmat& A : ops) {
      EXPECT_TRUE(close(b.to_eigen(A), V.adjoint() * A * V));
      EXPECT_TRUE(close(b.from_eigen(A), V * A * V.adjoint()));
    }
    // Products of operators in the eigenbasis (as K = X^dag Lambda of a bath): a shifting X with a Lambda of
    // its pattern, a conserving pair, and dense ones (every block).
    const cmat X = b.to_eigen(op(sp, "q1", sigma_x())), Y = b.to_eigen(op(sp, "q2", sigma_plus()));
    cmat Lambda = X;
    for (long j = 0; j < d; ++j)
      for (long i = 0; i < d; ++i) Lambda(i, j) *= cplx(1.0 + 0.1 * static_cast<double>(i), 0.2 * static_cast<double>(j));
    for (const auto& [A, B] : std::vector<std::pair<cmat, cmat>>{{X, Lambda}, {Y, Y}, {X, Y}, {dense, X}, {dense, dense}})
    {
      cmat sum = dense;  // accumulates onto what is there
      add_adjoint_product_by_sectors(A, B, b.level_sectors, sum);
      EXPECT_TRUE(close(sum, dense + A.adjoint() * B));
      // A B over the nonzero blocks (the mean-force products), complex and, for real operands, real.
      EXPECT_TRUE(close(product_by_sectors(A, B, b.level_sectors), A * B));
      const rmat Ar = A.real(), Br = B.real();
      EXPECT_TRUE(close(product_by_sectors(Ar, Br, b.level_sectors).cast<cplx>(), (Ar * Br).cast<cplx>()));
    }
  }
}
