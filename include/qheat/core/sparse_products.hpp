// Products of a dense matrix with a sparse one on its right, y (+)= x A, in blocks of x's rows packed
// next to each other so that the part of x a block needs stays in cache and y's elements are summed in
// registers. On CPUs with AVX2 and FMA (checked when the program runs; the build stays generic x86-64) the
// multiply-adds use them; elsewhere a portable two-double vector loop. Memory: x's packed copy. Against Eigen's sparse x
// dense product and BLAS's zgemm: bench/bench_sparse_products.cpp, bench/README.md "Bloch-Redfield apply".
#pragma once

#include <Eigen/SparseCore>
#include <vector>

#include "qheat/core/types.hpp"

namespace qheat {

using csc_matrix = Eigen::SparseMatrix<cplx, Eigen::ColMajor, long>;

// A dense matrix x in the layout dense_times_sparse reads: its rows in blocks of 8, each block's rows
// column after column. Packing once serves every product with the same x; pack_adjoint packs
// scale * u^dagger, or scale * u^dagger - v, straight from u (no transposed copy) and v (of u^dagger's shape).
class PackedRows {
public:
  void pack(const cmat& x);
  void pack_adjoint(const cmat& u, double scale = 1.0, const cmat* minus = nullptr);
  [[nodiscard]] long rows() const { return rows_; }
  [[nodiscard]] long cols() const { return cols_; }
  [[nodiscard]] const double* data() const { return data_.data(); }

private:
  std::vector<double> data_;
  long rows_ = 0, cols_ = 0;
};

// y = x A (add = false) or y += x A. A compressed; x.cols() == A.rows(); y is resized when add is false.
// With threads > 1 large products are split over blocks of y's columns (each thread writes its own).
// The cmat form packs x first (for a single product; the Bloch-Redfield apply packs each state once).
void dense_times_sparse(const PackedRows& x, const csc_matrix& A, cmat& y, bool add, int threads = 1);
void dense_times_sparse(const cmat& x, const csc_matrix& A, cmat& y, bool add, int threads = 1);

// Whether dense_times_sparse runs its AVX2/FMA kernel on this CPU. use_generic_dense_times_sparse(true)
// makes it take the portable loop instead, as on a CPU without AVX2 (for tests and benchmarks; not
// thread-safe against running products).
bool dense_times_sparse_vectorized();
void use_generic_dense_times_sparse(bool generic);

}  // namespace qheat
