// Batched complex FFTs through FFTW 3 (Debian's libfftw3-dev).
#pragma once

#include <vector>

#include "qheat/core/types.hpp"

namespace qheat {

// In place, forward, unnormalised: each of the m = data.size() / n interleaved series of length n (series p
// at data[p + j m], j = 0 .. n - 1) becomes c_k = sum_j f_j e^{-2 pi i j k / n}, stored at data[p + k m].
// Thread-safe (FFTW's planner is serialised).
void fft_interleaved(std::vector<cplx>& data, int n);

}  // namespace qheat
