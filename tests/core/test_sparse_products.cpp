// dense_times_sparse against Eigen's (BLAS) dense product, on both of its kernels.
#include <gtest/gtest.h>

#include <random>

#include "qheat/core/linalg.hpp"
#include "qheat/core/sparse_products.hpp"

namespace {

using qheat::cmat;
using qheat::cplx;

cmat random_sparse_dense(long rows, long cols, double fill, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  cmat A = cmat::Zero(rows, cols);
  for (long j = 0; j < cols; ++j)
    for (long i = 0; i < rows; ++i)
      if (0.5 * (u(g) + 1.0) < fill) A(i, j) = cplx(u(g), u(g));
  return A;
}

qheat::csc_matrix compressed(const cmat& A) {
  qheat::csc_matrix S = A.sparseView();
  S.makeCompressed();
  return S;
}

// Each element of x A is a sum of at most (column fill) products of numbers of order 1: its rounding error
// is a few eps times that count; 1e-13 relative to the norm leaves room for 50-term sums.
constexpr double kTol = 1e-13;

class DenseTimesSparse : public ::testing::TestWithParam<bool> {
protected:
  void SetUp() override { qheat::use_generic_dense_times_sparse(GetParam()); }
  void TearDown() override { qheat::use_generic_dense_times_sparse(false); }
};

// Odd sizes reach every remainder of the vector loop (4, 2, 1 complex numbers); an empty column too.
TEST_P(DenseTimesSparse, EqualsTheDenseProduct) {
  for (const long rows : {1L, 2L, 3L, 5L, 37L, 64L}) {
    cmat A = random_sparse_dense(70, 45, 0.1, 7);
    A.col(3).setZero();
    const cmat x = cmat::Random(rows, 70);
    const cmat exact = x * A;
    cmat y;
    qheat::dense_times_sparse(x, compressed(A), y, false);
    ASSERT_EQ(y.rows(), rows);
    ASSERT_EQ(y.cols(), 45);
    EXPECT_LE((y - exact).norm(), kTol * exact.norm()) << rows << " rows";
    EXPECT_EQ(y.col(3).norm(), 0.0);
    const cmat y0 = cmat::Random(rows, 45);
    cmat z = y0;
    qheat::dense_times_sparse(x, compressed(A), z, true);
    EXPECT_LE((z - (y0 + exact)).norm(), kTol * (y0 + exact).norm()) << rows << " rows, accumulating";
  }
}

// The product runs over runs of A's columns of at most 256 KiB of elements (10 922 elements): a
// 1200 x 1200 operator at 1 % fill (~14 400 elements) takes two runs, and a column with 12 000 elements is
// a run of its own; row counts around the 8-row blocks.
TEST_P(DenseTimesSparse, EqualsTheDenseProductAcrossColumnRuns) {
  const cmat A = random_sparse_dense(1200, 1200, 0.01, 5);
  ASSERT_GT(compressed(A).nonZeros(), 10922);
  cmat B = random_sparse_dense(12000, 3, 0.001, 9);
  B.col(1) = cmat::Random(12000, 1);
  for (const long rows : {7L, 8L, 17L}) {
    const cmat x = cmat::Random(rows, 1200);
    cmat y;
    qheat::dense_times_sparse(x, compressed(A), y, false);
    const cmat exact = x * A;
    EXPECT_LE((y - exact).norm(), kTol * exact.norm()) << rows << " rows";
    const cmat u = cmat::Random(rows, 12000);
    qheat::dense_times_sparse(u, compressed(B), y, false);
    // The long column sums 12 000 products: its rounding error is up to ~1e4 eps relative.
    EXPECT_LE((y - u * B).norm(), 1e-11 * (u * B).norm()) << rows << " rows, a column longer than a run";
  }
}

// One packing serves several products; pack_adjoint packs u^dagger (or scale u^dagger) from u (rectangular u,
// rows around the 8-row blocks, columns past its 64-column tiles), and the packed forms give the same bits as
// the matrix forms.
TEST_P(DenseTimesSparse, PackedOperandsEqualTheMatrixForms) {
  const cmat A = random_sparse_dense(70, 45, 0.1, 3), B = random_sparse_dense(70, 20, 0.2, 4);
  for (const long rows : {5L, 8L, 19L}) {
    const cmat x = cmat::Random(rows, 70), u = cmat::Random(70, rows);
    qheat::PackedRows px, pu;
    px.pack(x);
    pu.pack_adjoint(u);
    ASSERT_EQ(pu.rows(), rows);
    ASSERT_EQ(pu.cols(), 70);
    cmat y1, y2, z1, z2;
    qheat::dense_times_sparse(px, compressed(A), y1, false);
    qheat::dense_times_sparse(px, compressed(B), y2, false);
    qheat::dense_times_sparse(pu, compressed(A), z1, false);
    EXPECT_LE((y1 - x * A).norm(), kTol * (x * A).norm()) << rows << " rows";
    EXPECT_LE((y2 - x * B).norm(), kTol * (x * B).norm()) << rows << " rows";
    EXPECT_LE((z1 - u.adjoint() * A).norm(), kTol * (u.adjoint() * A).norm()) << rows << " rows";
    qheat::dense_times_sparse(cmat(u.adjoint()), compressed(A), z2, false);
    EXPECT_TRUE(z1 == z2) << rows << " rows";
    qheat::dense_times_sparse(x, compressed(A), z2, false);
    EXPECT_TRUE(y1 == z2) << rows << " rows";
    qheat::PackedRows ps;
    ps.pack_adjoint(u, 0.37);
    qheat::dense_times_sparse(ps, compressed(A), z1, false);
    qheat::dense_times_sparse(cmat(0.37 * u.adjoint()), compressed(A), z2, false);
    EXPECT_TRUE(z1 == z2) << rows << " rows, scaled";
    // u^dagger - v packed from u and v equals the packed matrix u^dagger - v (each element one subtraction,
    // the same bits; the zeros past the last row stay zero).
    const cmat v = cmat::Random(rows, 70);
    ps.pack_adjoint(u, 1.0, &v);
    qheat::dense_times_sparse(ps, compressed(A), z1, false);
    qheat::dense_times_sparse(cmat(u.adjoint() - v), compressed(A), z2, false);
    EXPECT_TRUE(z1 == z2) << rows << " rows, u^dagger - v";
  }
}

// Threads split the columns of y: the same operations per element, so the same bits.
TEST_P(DenseTimesSparse, ThreadsGiveTheSameBits) {
  const cmat A = random_sparse_dense(512, 300, 0.02, 11);
  const qheat::csc_matrix S = compressed(A);
  ASSERT_GT(static_cast<double>(S.nonZeros()) * 512.0, 1e6);  // large enough to be split
  const cmat x = cmat::Random(512, 512);
  cmat one, two;
  qheat::dense_times_sparse(x, S, one, false, 1);
  qheat::dense_times_sparse(x, S, two, false, 2);
  EXPECT_TRUE(one == two);
  EXPECT_LE((one - x * A).norm(), kTol * one.norm());
}

INSTANTIATE_TEST_SUITE_P(Kernels, DenseTimesSparse, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "Generic" : "Best"; });

// On this project's machines (x86-64 with AVX2 and FMA) the vectorised kernel is the one in use.
TEST(DenseTimesSparseKernel, VectorizedWhereTheCpuHasAvx2) {
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) GTEST_SKIP() << "CPU without AVX2/FMA";
  EXPECT_TRUE(qheat::dense_times_sparse_vectorized());
  qheat::use_generic_dense_times_sparse(true);
  EXPECT_FALSE(qheat::dense_times_sparse_vectorized());
  qheat::use_generic_dense_times_sparse(false);
  EXPECT_TRUE(qheat::dense_times_sparse_vectorized());
#else
  GTEST_SKIP() << "not x86-64";
#endif
}

}  // namespace

TEST(Linalg, TraceOfProductEqualsTraceOfTheProduct) {
  std::mt19937 rng(11);
  std::normal_distribution<double> g;
  for (const long d : {1L, 7L, 64L}) {
    qheat::cmat A(d, d), B(d, d);
    for (long j = 0; j < d; ++j)
      for (long i = 0; i < d; ++i) {
        A(i, j) = {g(rng), g(rng)};
        B(i, j) = {g(rng), g(rng)};
      }
    // Sums of d^2 terms of size ~1 in another order: rounding ~1e-15 d.
    EXPECT_LT(std::abs(qheat::linalg::trace_of_product(A, B) - (A * B).trace()), 1e-13 * static_cast<double>(d)) << d;
  }
}
