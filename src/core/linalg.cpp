#include "qheat/core/linalg.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <vector>

// LAPACK (Fortran interface, from OpenBLAS).
extern "C" {
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work,
             const int* lwork, int* iwork, const int* liwork, int* info);
void zheevd_(const char* jobz, const char* uplo, const int* n, std::complex<double>* a, const int* lda, double* w,
             std::complex<double>* work, const int* lwork, double* rwork, const int* lrwork, int* iwork,
             const int* liwork, int* info);
void zgeev_(const char* jobvl, const char* jobvr, const int* n, std::complex<double>* a, const int* lda,
            std::complex<double>* w, std::complex<double>* vl, const int* ldvl, std::complex<double>* vr,
            const int* ldvr, std::complex<double>* work, const int* lwork, double* rwork, int* info);
void dgeev_(const char* jobvl, const char* jobvr, const int* n, double* a, const int* lda, double* wr, double* wi,
            double* vl, const int* ldvl, double* vr, const int* ldvr, double* work, const int* lwork, int* info);
}

namespace qheat::linalg {
namespace {
// Below this dimension Eigen's own solvers are faster than a LAPACK call (measured: equal near d = 24).
constexpr long kLapackMinDim = 24;

int as_int(long n) {
  if (n > 2000000000L) throw MethodError("eigensolver", "matrix too large for LAPACK's 32-bit indices");
  return static_cast<int>(n);
}
}  // namespace

bool is_real(const cmat& m) {
  const auto* p = reinterpret_cast<const double*>(m.data());
  const long n = m.size();
  for (long k = 0; k < n; ++k)
    if (p[2 * k + 1] != 0.0) return false;
  return true;
}

void symmetric_eigen(const rmat& H, rvec& w, rmat& V) {
  const long d = H.rows();
  if (d < kLapackMinDim) {
    Eigen::SelfAdjointEigenSolver<rmat> es(H);
    if (es.info() != Eigen::Success) throw MethodError("eigensolver", "diagonalisation of a symmetric matrix failed");
    w = es.eigenvalues();
    V = es.eigenvectors();
    return;
  }
  V = H;
  w.resize(d);
  const int n = as_int(d);
  int info = 0, lwork = -1, liwork = -1, iwq = 0;
  double wq = 0.0;
  dsyevd_("V", "L", &n, V.data(), &n, w.data(), &wq, &lwork, &iwq, &liwork, &info);
  lwork = static_cast<int>(wq);
  liwork = iwq;
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  dsyevd_("V", "L", &n, V.data(), &n, w.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  if (info != 0) throw MethodError("eigensolver", "diagonalisation of a symmetric matrix failed (dsyevd info " +
                                                      std::to_string(info) + ")");
}

void hermitian_eigen(const cmat& H, rvec& w, cmat& V) {
  const long d = H.rows();
  if (is_real(H)) {
    rmat Vr;
    symmetric_eigen(H.real(), w, Vr);
    V = Vr.cast<cplx>();
    return;
  }
  if (d < kLapackMinDim) {
    Eigen::SelfAdjointEigenSolver<cmat> es(H);
    if (es.info() != Eigen::Success) throw MethodError("eigensolver", "diagonalisation of the Hamiltonian failed");
    w = es.eigenvalues();
    V = es.eigenvectors();
    return;
  }
  V = H;
  w.resize(d);
  const int n = as_int(d);
  int info = 0, lwork = -1, lrwork = -1, liwork = -1, iwq = 0;
  cplx wq;
  double rwq = 0.0;
  zheevd_("V", "L", &n, V.data(), &n, w.data(), &wq, &lwork, &rwq, &lrwork, &iwq, &liwork, &info);
  lwork = static_cast<int>(wq.real());
  lrwork = static_cast<int>(rwq);
  liwork = iwq;
  std::vector<cplx> work(static_cast<std::size_t>(lwork));
  std::vector<double> rwork(static_cast<std::size_t>(lrwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  zheevd_("V", "L", &n, V.data(), &n, w.data(), work.data(), &lwork, rwork.data(), &lrwork, iwork.data(), &liwork,
          &info);
  if (info != 0) throw MethodError("eigensolver", "diagonalisation of the Hamiltonian failed (zheevd info " +
                                                      std::to_string(info) + ")");
}

rvec hermitian_eigenvalues(const cmat& H) {
  const long d = H.rows();
  rvec w(d);
  if (d < kLapackMinDim) {
    Eigen::SelfAdjointEigenSolver<cmat> es(H, Eigen::EigenvaluesOnly);
    return es.eigenvalues();
  }
  const int n = as_int(d);
  int info = 0, lwork = -1, liwork = -1, iwq = 0;
  if (is_real(H)) {
    rmat A = H.real();
    double wq = 0.0;
    dsyevd_("N", "L", &n, A.data(), &n, w.data(), &wq, &lwork, &iwq, &liwork, &info);
    lwork = static_cast<int>(wq);
    liwork = iwq;
    std::vector<double> work(static_cast<std::size_t>(lwork));
    std::vector<int> iwork(static_cast<std::size_t>(liwork));
    dsyevd_("N", "L", &n, A.data(), &n, w.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  } else {
    cmat A = H;
    int lrwork = -1;
    cplx wq;
    double rwq = 0.0;
    zheevd_("N", "L", &n, A.data(), &n, w.data(), &wq, &lwork, &rwq, &lrwork, &iwq, &liwork, &info);
    lwork = static_cast<int>(wq.real());
    lrwork = static_cast<int>(rwq);
    liwork = iwq;
    std::vector<cplx> work(static_cast<std::size_t>(lwork));
    std::vector<double> rwork(static_cast<std::size_t>(lrwork));
    std::vector<int> iwork(static_cast<std::size_t>(liwork));
    zheevd_("N", "L", &n, A.data(), &n, w.data(), work.data(), &lwork, rwork.data(), &lrwork, iwork.data(), &liwork,
            &info);
  }
  if (info != 0) throw MethodError("eigensolver", "eigenvalues of a Hermitian matrix failed (info " + std::to_string(info) + ")");
  return w;
}

void general_eigen(const cmat& A, cvec& w, cmat& V, cmat& V_inverse) {
  const long d = A.rows();
  if (d < kLapackMinDim) {
    Eigen::ComplexEigenSolver<cmat> es(A);
    if (es.info() != Eigen::Success) throw MethodError("eigensolver", "eigen-decomposition of a matrix failed");
    w = es.eigenvalues();
    V = es.eigenvectors();
  } else {
    cmat a = A;
    w.resize(d);
    V.resize(d, d);
    const int n = as_int(d);
    int info = 0, lwork = -1, one = 1;
    cplx wq;
    std::vector<double> rwork(static_cast<std::size_t>(2 * d));
    zgeev_("N", "V", &n, a.data(), &n, w.data(), nullptr, &one, V.data(), &n, &wq, &lwork, rwork.data(), &info);
    lwork = static_cast<int>(wq.real());
    std::vector<cplx> work(static_cast<std::size_t>(lwork));
    zgeev_("N", "V", &n, a.data(), &n, w.data(), nullptr, &one, V.data(), &n, work.data(), &lwork, rwork.data(),
           &info);
    if (info != 0) throw MethodError("eigensolver", "eigen-decomposition of a matrix failed (zgeev info " +
                                                        std::to_string(info) + ")");
  }
  V_inverse = Eigen::PartialPivLU<cmat>(V).inverse();
}

cvec general_eigenvalues(const cmat& A) {
  const long d = A.rows();
  if (d < kLapackMinDim) {
    Eigen::ComplexEigenSolver<cmat> es(A, false);
    if (es.info() != Eigen::Success) throw MethodError("eigensolver", "eigenvalues of a matrix failed");
    return es.eigenvalues();
  }
  cmat a = A;
  cvec w(d);
  const int n = as_int(d);
  int info = 0, lwork = -1, one = 1;
  cplx wq;
  std::vector<double> rwork(static_cast<std::size_t>(2 * d));
  zgeev_("N", "N", &n, a.data(), &n, w.data(), nullptr, &one, nullptr, &one, &wq, &lwork, rwork.data(), &info);
  lwork = static_cast<int>(wq.real());
  std::vector<cplx> work(static_cast<std::size_t>(lwork));
  zgeev_("N", "N", &n, a.data(), &n, w.data(), nullptr, &one, nullptr, &one, work.data(), &lwork, rwork.data(), &info);
  if (info != 0) throw MethodError("eigensolver", "eigenvalues of a matrix failed (zgeev info " + std::to_string(info) + ")");
  return w;
}

cvec general_eigenvalues(const rmat& A) {
  const long d = A.rows();
  if (d < kLapackMinDim) {
    Eigen::EigenSolver<rmat> es(A, false);
    if (es.info() != Eigen::Success) throw MethodError("eigensolver", "eigenvalues of a matrix failed");
    return es.eigenvalues();
  }
  rmat a = A;
  rvec wr(d), wi(d);
  const int n = as_int(d);
  int info = 0, lwork = -1, one = 1;
  double wq = 0.0;
  dgeev_("N", "N", &n, a.data(), &n, wr.data(), wi.data(), nullptr, &one, nullptr, &one, &wq, &lwork, &info);
  lwork = static_cast<int>(wq);
  std::vector<double> work(static_cast<std::size_t>(lwork));
  dgeev_("N", "N", &n, a.data(), &n, wr.data(), wi.data(), nullptr, &one, nullptr, &one, work.data(), &lwork, &info);
  if (info != 0) throw MethodError("eigensolver", "eigenvalues of a matrix failed (dgeev info " + std::to_string(info) + ")");
  cvec w(d);
  for (long i = 0; i < d; ++i) w(i) = cplx(wr(i), wi(i));
  return w;
}

}  // namespace qheat::linalg
