#include "qheat/core/linalg.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <type_traits>
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
void zgees_(const char* jobvs, const char* sort, int (*select)(const std::complex<double>*), const int* n,
            std::complex<double>* a, const int* lda, int* sdim, std::complex<double>* w, std::complex<double>* vs,
            const int* ldvs, std::complex<double>* work, const int* lwork, double* rwork, int* bwork, int* info);
void dsbev_(const char* jobz, const char* uplo, const int* n, const int* kd, double* ab, const int* ldab, double* w,
            double* z, const int* ldz, double* work, int* info);
void zhbev_(const char* jobz, const char* uplo, const int* n, const int* kd, std::complex<double>* ab, const int* ldab,
            double* w, std::complex<double>* z, const int* ldz, std::complex<double>* work, double* rwork, int* info);
void dgbtrf_(const int* m, const int* n, const int* kl, const int* ku, double* ab, const int* ldab, int* ipiv, int* info);
void dgetrf_(const int* m, const int* n, double* a, const int* lda, int* ipiv, int* info);
void sgetrf_(const int* m, const int* n, float* a, const int* lda, int* ipiv, int* info);
void sgetrs_(const char* trans, const int* n, const int* nrhs, const float* a, const int* lda, const int* ipiv,
             float* b, const int* ldb, int* info);
void dgetrs_(const char* trans, const int* n, const int* nrhs, const double* a, const int* lda, const int* ipiv,
             double* b, const int* ldb, int* info);
void zgetrf_(const int* m, const int* n, std::complex<double>* a, const int* lda, int* ipiv, int* info);
void zgetrs_(const char* trans, const int* n, const int* nrhs, const std::complex<double>* a, const int* lda,
             const int* ipiv, std::complex<double>* b, const int* ldb, int* info);
void zgbtrf_(const int* m, const int* n, const int* kl, const int* ku, std::complex<double>* ab, const int* ldab,
             int* ipiv, int* info);
void dgbtrs_(const char* trans, const int* n, const int* kl, const int* ku, const int* nrhs, const double* ab,
             const int* ldab, const int* ipiv, double* b, const int* ldb, int* info);
void zgbtrs_(const char* trans, const int* n, const int* kl, const int* ku, const int* nrhs,
             const std::complex<double>* ab, const int* ldab, const int* ipiv, std::complex<double>* b, const int* ldb,
             int* info);
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

// LAPACK's divide-and-conquer eigensolvers with their workspace query: eigenvalues of the symmetric or
// Hermitian A into w (resized), and with jobz "V" its eigenvectors over A. Returns LAPACK's info.
int dsyevd(const char* jobz, rmat& A, rvec& w) {
  const int n = as_int(A.rows());
  w.resize(A.rows());
  int info = 0, lwork = -1, liwork = -1, iwq = 0;
  double wq = 0.0;
  dsyevd_(jobz, "L", &n, A.data(), &n, w.data(), &wq, &lwork, &iwq, &liwork, &info);
  lwork = static_cast<int>(wq);
  liwork = iwq;
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  dsyevd_(jobz, "L", &n, A.data(), &n, w.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  return info;
}

int zheevd(const char* jobz, cmat& A, rvec& w) {
  const int n = as_int(A.rows());
  w.resize(A.rows());
  int info = 0, lwork = -1, lrwork = -1, liwork = -1, iwq = 0;
  cplx wq;
  double rwq = 0.0;
  zheevd_(jobz, "L", &n, A.data(), &n, w.data(), &wq, &lwork, &rwq, &lrwork, &iwq, &liwork, &info);
  lwork = static_cast<int>(wq.real());
  lrwork = static_cast<int>(rwq);
  liwork = iwq;
  std::vector<cplx> work(static_cast<std::size_t>(lwork));
  std::vector<double> rwork(static_cast<std::size_t>(lrwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  zheevd_(jobz, "L", &n, A.data(), &n, w.data(), work.data(), &lwork, rwork.data(), &lrwork, iwork.data(), &liwork,
          &info);
  return info;
}

// LAPACK's workspace query for routines with one complex work array: call(work, lwork) once with lwork = -1
// (the size wanted comes back in work[0]), then with a workspace of that size.
template <class Call>
void with_workspace(Call&& call) {
  cplx query;
  int lwork = -1;
  call(&query, &lwork);
  lwork = static_cast<int>(query.real());
  std::vector<cplx> work(static_cast<std::size_t>(lwork));
  call(work.data(), &lwork);
}

}  // namespace

cplx trace_of_product(const cmat& A, const cmat& B) { return A.cwiseProduct(B.transpose()).sum(); }

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
  const int info = dsyevd("V", V, w);
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
  const int info = zheevd("V", V, w);
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
  int info = 0;
  if (is_real(H)) {
    rmat A = H.real();
    info = dsyevd("N", A, w);
  } else {
    cmat A = H;
    info = zheevd("N", A, w);
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
    int info = 0, one = 1;
    std::vector<double> rwork(static_cast<std::size_t>(2 * d));
    with_workspace([&](cplx* work, const int* lwork) {
      zgeev_("N", "V", &n, a.data(), &n, w.data(), nullptr, &one, V.data(), &n, work, lwork, rwork.data(), &info);
    });
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
  int info = 0, one = 1;
  std::vector<double> rwork(static_cast<std::size_t>(2 * d));
  with_workspace([&](cplx* work, const int* lwork) {
    zgeev_("N", "N", &n, a.data(), &n, w.data(), nullptr, &one, nullptr, &one, work, lwork, rwork.data(), &info);
  });
  if (info != 0) throw MethodError("eigensolver", "eigenvalues of a matrix failed (zgeev info " + std::to_string(info) + ")");
  return w;
}

void schur(const cmat& A, cvec& diagonal, cmat& Q) {
  const long d = A.rows();
  if (d < kLapackMinDim) {
    const Eigen::ComplexSchur<cmat> cs(A);
    if (cs.info() != Eigen::Success) throw MethodError("eigensolver", "Schur decomposition of a matrix failed");
    diagonal = cs.matrixT().diagonal();
    Q = cs.matrixU();
    return;
  }
  cmat a = A;
  diagonal.resize(d);
  Q.resize(d, d);
  const int n = as_int(d);
  int info = 0, sdim = 0;
  std::vector<double> rwork(static_cast<std::size_t>(d));
  with_workspace([&](cplx* work, const int* lwork) {
    zgees_("V", "N", nullptr, &n, a.data(), &n, &sdim, diagonal.data(), Q.data(), &n, work, lwork, rwork.data(), nullptr,
           &info);
  });
  if (info != 0) throw MethodError("eigensolver", "Schur decomposition of a matrix failed (zgees info " + std::to_string(info) + ")");
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

namespace qheat::linalg {

rvec band_eigenvalues(const rmat& ab) {
  rmat work_ab = ab;
  const int n = as_int(ab.cols()), kd = as_int(ab.rows() - 1), ld = kd + 1, one = 1;
  rvec w(n);
  std::vector<double> work(static_cast<std::size_t>(std::max(1, 3 * n - 2)));
  int info = 0;
  double z = 0.0;
  dsbev_("N", "L", &n, &kd, work_ab.data(), &ld, w.data(), &z, &one, work.data(), &info);
  if (info != 0) throw MethodError("eigensolver", "band eigenvalues failed (dsbev info " + std::to_string(info) + ")");
  return w;
}

rvec band_eigenvalues(const cmat& ab) {
  cmat work_ab = ab;
  const int n = as_int(ab.cols()), kd = as_int(ab.rows() - 1), ld = kd + 1, one = 1;
  rvec w(n);
  std::vector<cplx> work(static_cast<std::size_t>(n));
  std::vector<double> rwork(static_cast<std::size_t>(std::max(1, 3 * n - 2)));
  int info = 0;
  cplx z = 0.0;
  zhbev_("N", "L", &n, &kd, work_ab.data(), &ld, w.data(), &z, &one, work.data(), rwork.data(), &info);
  if (info != 0) throw MethodError("eigensolver", "band eigenvalues failed (zhbev info " + std::to_string(info) + ")");
  return w;
}

template <class Scalar>
bool ShiftedBandLU<Scalar>::factor(const Mat& ab, double sigma) {
  n_ = as_int(ab.cols());
  kd_ = as_int(ab.rows() - 1);
  const int ld = 3 * kd_ + 1;
  lu_.setZero(ld, n_);
  // General band storage of dgbtrf: A(i, j) at row 2 kd + i - j (kl = ku = kd, kd extra rows for fill-in).
  for (int j = 0; j < n_; ++j)
    for (int i = std::max(0, j - kd_); i <= std::min(n_ - 1, j + kd_); ++i) {
      Scalar a = i >= j ? ab(i - j, j) : Scalar(Eigen::numext::conj(ab(j - i, i)));
      if (i == j) a -= sigma;
      lu_(2 * kd_ + i - j, j) = a;
    }
  ipiv_.assign(static_cast<std::size_t>(n_), 0);
  int info = 0;
  if constexpr (std::is_same_v<Scalar, double>)
    dgbtrf_(&n_, &n_, &kd_, &kd_, lu_.data(), &ld, ipiv_.data(), &info);
  else
    zgbtrf_(&n_, &n_, &kd_, &kd_, lu_.data(), &ld, ipiv_.data(), &info);
  if (info < 0) throw MethodError("eigensolver", "band LU failed (info " + std::to_string(info) + ")");
  return info == 0;
}

template <class Scalar>
void ShiftedBandLU<Scalar>::solve(Vec& x) const {
  const int ld = 3 * kd_ + 1, one = 1;
  int info = 0;
  if constexpr (std::is_same_v<Scalar, double>)
    dgbtrs_("N", &n_, &kd_, &kd_, &one, lu_.data(), &ld, ipiv_.data(), x.data(), &n_, &info);
  else
    zgbtrs_("N", &n_, &kd_, &kd_, &one, lu_.data(), &ld, ipiv_.data(), x.data(), &n_, &info);
  if (info != 0) throw MethodError("eigensolver", "band solve failed (info " + std::to_string(info) + ")");
}

template class ShiftedBandLU<double>;
template class ShiftedBandLU<cplx>;

template <class Scalar>
DenseLU<Scalar>::DenseLU(Mat A) : lu_(std::move(A)) {
  const int n = as_int(lu_.rows());
  ipiv_.assign(static_cast<std::size_t>(n), 0);
  int info = 0;
  if constexpr (std::is_same_v<Scalar, double>)
    dgetrf_(&n, &n, lu_.data(), &n, ipiv_.data(), &info);
  else if constexpr (std::is_same_v<Scalar, float>)
    sgetrf_(&n, &n, lu_.data(), &n, ipiv_.data(), &info);
  else
    zgetrf_(&n, &n, lu_.data(), &n, ipiv_.data(), &info);
  if (info < 0) throw MethodError("linear-solve", "dense LU failed (getrf info " + std::to_string(info) + ")");
  // info > 0: an exactly zero pivot; the pivot ratio is then 0 and says so.
}

template <class Scalar>
std::pair<double, double> DenseLU<Scalar>::pivot_range() const {
  if (lu_.size() == 0) return {0.0, 0.0};
  const Eigen::VectorXd piv = lu_.diagonal().cwiseAbs().template cast<double>();
  return {piv.minCoeff(), piv.maxCoeff()};
}

template <class Scalar>
double DenseLU<Scalar>::pivot_ratio() const {
  const auto [low, high] = pivot_range();
  return high > 0 ? low / high : 0.0;
}

template <class Scalar>
void DenseLU<Scalar>::solve_in_place(Mat& B) const {
  const int n = as_int(lu_.rows());
  // Two right-hand sides one at a time: OpenBLAS 0.3.21's getrs packs the factor for its trsm/gemm blocks when
  // nrhs > 1, and for two columns that costs more than a second pass of trsv (bench/bench_dense_lu.cpp, n = 2048 and
  // 8192, one and two threads: sgetrs 0.66-23 ms as two calls against 1.5-27 ms as one, dgetrs 2.0-41 against
  // 3.5-70 ms; with three columns one call won at n = 8192 on two threads).
  const bool by_column = B.cols() == 2;
  const int nrhs = by_column ? 1 : as_int(B.cols());
  for (long c = 0; c < (by_column ? B.cols() : 1); ++c) {
    Scalar* b = B.data() + c * B.rows();
    int info = 0;
    if constexpr (std::is_same_v<Scalar, double>)
      dgetrs_("N", &n, &nrhs, lu_.data(), &n, ipiv_.data(), b, &n, &info);
    else if constexpr (std::is_same_v<Scalar, float>)
      sgetrs_("N", &n, &nrhs, lu_.data(), &n, ipiv_.data(), b, &n, &info);
    else
      zgetrs_("N", &n, &nrhs, lu_.data(), &n, ipiv_.data(), b, &n, &info);
    if (info != 0) throw MethodError("linear-solve", "dense LU solve failed (getrs info " + std::to_string(info) + ")");
  }
}

template class DenseLU<float>;
template class DenseLU<double>;
template class DenseLU<cplx>;

}  // namespace qheat::linalg
