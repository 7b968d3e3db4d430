// Krylov tools of the response engine (private to src/response/): the action of exp(t A) on a vector
// with local error control (Sidje's Expokit scheme), and the eigenvalues of A nearest a shift from
// Arnoldi on (A - sigma)^{-1}. A is given as a callable y = A x.
#pragma once

#include <Eigen/Dense>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <unsupported/Eigen/MatrixFunctions>
#include <vector>

#include "qheat/core/types.hpp"

namespace qheat::response_detail {

template <class Scalar>
using KVec = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
template <class Scalar>
using KMat = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
template <class Scalar>
using KOp = std::function<void(const KVec<Scalar>&, KVec<Scalar>&)>;

struct ExpmvStats {
  int steps = 0, rejected = 0, products = 0;
  double error = 0.0;  // sum of the local error estimates (absolute, in the norm of the vector)
};

// w = exp(t A) v. `anorm` estimates ||A|| (a 1-norm); `tol` bounds the accumulated local error relative
// to ||v||. Krylov dimension m (reduced for small n).
template <class Scalar>
KVec<Scalar> expmv(const KOp<Scalar>& A, const KVec<Scalar>& v, double t, double anorm, double tol, ExpmvStats& st,
                   int m = 30) {
  const long n = v.size();
  KVec<Scalar> w = v;
  if (t <= 0.0 || n == 0) return w;
  const double vnorm = v.norm();
  if (vnorm == 0.0) return w;
  m = static_cast<int>(std::min<long>(m, n));
  anorm = std::max(anorm, 1e-300);
  constexpr double kDelta = 1.2, kGamma = 0.9;
  const double btol = 1e-14 * vnorm;  // happy breakdown
  const double fact = std::pow((m + 1) / std::exp(1.0), m + 1) * std::sqrt(2 * std::numbers::pi * (m + 1));
  double t_now = 0.0;
  double beta = vnorm;
  double t_new = (1.0 / anorm) * std::pow((fact * tol) / (4.0 * anorm), 1.0 / m);
  {
    const double s = std::pow(10.0, std::floor(std::log10(t_new)) - 1);
    t_new = std::ceil(t_new / s) * s;
  }
  KMat<Scalar> V(n, m + 1);
  KVec<Scalar> p(n);
  while (t_now < t) {
    ++st.steps;
    double t_step = std::min(t - t_now, t_new);
    V.col(0) = w / beta;
    KMat<Scalar> H = KMat<Scalar>::Zero(m + 2, m + 2);
    int mb = m, k1 = 2;
    double avnorm = 0.0;
    for (int j = 0; j < m; ++j) {
      A(V.col(j), p);
      ++st.products;
      // Classical Gram-Schmidt twice (matrix-vector products; orthogonal to round-off).
      for (int pass = 0; pass < 2; ++pass) {
        const KVec<Scalar> h = V.leftCols(j + 1).adjoint() * p;
        p.noalias() -= V.leftCols(j + 1) * h;
        H.col(j).head(j + 1) += h;
      }
      const double s = p.norm();
      if (s < btol) {  // the Krylov space is invariant: the step is exact to round-off
        k1 = 0;
        mb = j + 1;
        t_step = t - t_now;
        break;
      }
      H(j + 1, j) = s;
      V.col(j + 1) = p / s;
    }
    if (k1 != 0) {
      H(m + 1, m) = 1.0;
      A(V.col(m), p);
      ++st.products;
      avnorm = p.norm();
    }
    KMat<Scalar> F;
    double err = 0.0, xm = 1.0 / m;
    for (int reject = 0;; ++reject) {
      const int mx = mb + k1;
      F = KMat<Scalar>(t_step * H.topLeftCorner(mx, mx)).exp();
      if (k1 == 0) {
        err = btol;
        break;
      }
      const double phi1 = std::abs(beta * F(m, 0)), phi2 = std::abs(beta * F(m + 1, 0) * avnorm);
      if (phi1 > 10 * phi2) {
        err = phi2;
        xm = 1.0 / m;
      } else if (phi1 > phi2) {
        err = phi1 * phi2 / (phi1 - phi2);
        xm = 1.0 / m;
      } else {
        err = phi1;
        xm = 1.0 / std::max(1, m - 1);
      }
      if (err <= kDelta * (t_step / t) * tol * vnorm || reject >= 20) break;
      ++st.rejected;
      t_step = kGamma * t_step * std::pow((t_step / t) * tol * vnorm / err, xm);
      const double s = std::pow(10.0, std::floor(std::log10(t_step)) - 1);
      t_step = std::ceil(t_step / s) * s;
    }
    const int mx = mb + std::max(0, k1 - 1);
    w = V.leftCols(mx) * (beta * F.col(0).head(mx));
    beta = w.norm();
    t_now += t_step;
    st.error += err;
    if (k1 == 0) break;
    t_new = kGamma * t_step * std::pow((t_step / t) * tol * vnorm / std::max(err, 1e-300), xm);
    const double s = std::pow(10.0, std::floor(std::log10(t_new)) - 1);
    t_new = std::ceil(t_new / s) * s;
    if (beta == 0.0) break;
  }
  return w;
}

struct ArnoldiResult {
  std::vector<cplx> theta;     // converged Ritz values of (A - sigma)^{-1}, largest |theta| first
  std::vector<double> residual;  // their residual estimates relative to |theta|
  int dimension = 0;           // Krylov dimension used
  bool converged = false;      // the nev largest converged
};

namespace arnoldi_impl {
inline void ritz(const KMat<double>& H, cvec& values, cmat& vectors) {
  Eigen::EigenSolver<KMat<double>> es(H);
  values = es.eigenvalues();
  vectors = es.eigenvectors();
}
inline void ritz(const KMat<cplx>& H, cvec& values, cmat& vectors) {
  Eigen::ComplexEigenSolver<KMat<cplx>> es(H);
  values = es.eigenvalues();
  vectors = es.eigenvectors();
}
}  // namespace arnoldi_impl

// The nev eigenvalues of largest modulus of the operator `inv` (= (A - sigma)^{-1}, i.e. the
// eigenvalues of A nearest sigma): Arnoldi from a fixed pseudo-random start, Krylov dimension doubled
// (from 2 nev + 20, up to `max_dim` or n) until the nev Ritz values of largest modulus have relative
// residual estimates below `tol`.
template <class Scalar>
ArnoldiResult arnoldi_largest(const KOp<Scalar>& inv, long n, int nev, double tol, int max_dim = 240) {
  ArnoldiResult out;
  const int cap = static_cast<int>(std::min<long>(n, max_dim));
  KVec<Scalar> v0(n);
  for (long i = 0; i < n; ++i) v0(i) = Scalar(1.0 + 0.5 * std::sin(0.7 * static_cast<double>(i) + 0.3));
  int m = std::min(cap, 2 * nev + 20);
  KMat<Scalar> V(n, cap + 1);
  KMat<Scalar> H = KMat<Scalar>::Zero(cap + 1, cap);
  V.col(0) = v0 / v0.norm();
  int built = 0;  // Arnoldi steps done
  KVec<Scalar> p(n);
  for (;;) {
    bool breakdown = false;
    for (; built < m; ++built) {
      inv(V.col(built), p);
      const double pnorm = p.norm();
      for (int pass = 0; pass < 2; ++pass) {  // classical Gram-Schmidt twice: orthogonality to round-off
        const KVec<Scalar> h = V.leftCols(built + 1).adjoint() * p;
        p.noalias() -= V.leftCols(built + 1) * h;
        H.col(built).head(built + 1) += h;
      }
      const double s = p.norm();
      H(built + 1, built) = s;
      if (s <= 1e-13 * pnorm) {  // the Krylov space is invariant: its Ritz values are eigenvalues
        ++built;
        breakdown = true;
        break;
      }
      V.col(built + 1) = p / s;
    }
    const int k = built;
    cvec values;
    cmat vectors;
    arnoldi_impl::ritz(KMat<Scalar>(H.topLeftCorner(k, k)), values, vectors);
    std::vector<int> order(static_cast<std::size_t>(k));
    for (int i = 0; i < k; ++i) order[static_cast<std::size_t>(i)] = i;
    std::sort(order.begin(), order.end(), [&](int i, int j) { return std::abs(values(i)) > std::abs(values(j)); });
    const double hlast = breakdown ? 0.0 : std::abs(H(k, k - 1));
    out.theta.clear();
    out.residual.clear();
    for (int i : order) {
      const double r = hlast * std::abs(vectors(k - 1, i)) / std::max(vectors.col(i).norm(), 1e-300) /
                       std::max(std::abs(values(i)), 1e-300);
      if (r <= tol) {
        out.theta.push_back(values(i));
        out.residual.push_back(r);
      }
      if (static_cast<int>(out.theta.size()) >= nev) break;
    }
    // Converged when the nev Ritz values of largest modulus all are (the first nev in `order`).
    bool all = true;
    for (int i = 0; i < std::min(nev, k); ++i) {
      const int j = order[static_cast<std::size_t>(i)];
      const double r = hlast * std::abs(vectors(k - 1, j)) / std::max(vectors.col(j).norm(), 1e-300) /
                       std::max(std::abs(values(j)), 1e-300);
      if (r > tol) all = false;
    }
    out.dimension = k;
    if (all || breakdown || m >= cap) {
      out.converged = all || breakdown;
      return out;
    }
    m = std::min(cap, 2 * m);
  }
}

}  // namespace qheat::response_detail
