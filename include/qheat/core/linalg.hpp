// Dense linear algebra that goes to LAPACK (OpenBLAS's) where it pays: Hermitian and general
// eigen-decompositions. Eigen's matrix products already go to OpenBLAS's BLAS (EIGEN_USE_BLAS).
#pragma once

#include "qheat/core/types.hpp"

namespace qheat::linalg {

// True when every element's imaginary part is exactly zero.
bool is_real(const cmat& m);

// Hermitian H = V diag(w) V^dag, w ascending. Real symmetric H goes to dsyevd (a quarter of the
// work), complex to zheevd; small matrices stay with Eigen. Throws MethodError("eigensolver").
void hermitian_eigen(const cmat& H, rvec& w, cmat& V);
// Eigenvalues only (ascending).
rvec hermitian_eigenvalues(const cmat& H);
// Real symmetric version (dsyevd), V real.
void symmetric_eigen(const rmat& H, rvec& w, rmat& V);

// General A = V diag(w) V^{-1} (zgeev); also returns V^{-1}. Throws MethodError("eigensolver").
void general_eigen(const cmat& A, cvec& w, cmat& V, cmat& V_inverse);
// Eigenvalues only of a general complex (zgeev) or real (dgeev) matrix, unordered.
cvec general_eigenvalues(const cmat& A);
cvec general_eigenvalues(const rmat& A);

}  // namespace qheat::linalg
