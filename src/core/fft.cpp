#include "qheat/core/fft.hpp"

#include <fftw3.h>

#include <mutex>

namespace qheat {

void fft_interleaved(std::vector<cplx>& data, int n) {
  if (n <= 1 || data.empty()) return;
  const int howmany = static_cast<int>(data.size() / static_cast<std::size_t>(n));
  auto* p = reinterpret_cast<fftw_complex*>(data.data());  // std::complex<double> is layout-compatible
  static std::mutex planner;  // FFTW's planner is not thread-safe; executing a plan is
  fftw_plan plan = nullptr;
  {
    const std::lock_guard<std::mutex> lock(planner);
    plan = fftw_plan_many_dft(1, &n, howmany, p, nullptr, howmany, 1, p, nullptr, howmany, 1, FFTW_FORWARD,
                              FFTW_ESTIMATE);
  }
  if (plan == nullptr) throw MethodError("fft", "FFTW could not plan a transform of length " + std::to_string(n));
  fftw_execute(plan);
  const std::lock_guard<std::mutex> lock(planner);
  fftw_destroy_plan(plan);
}

}  // namespace qheat
