#include "qheat/operators/charge.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>

namespace qheat {

std::vector<int> excitation_numbers(const Space& space) {
  std::vector<int> q(static_cast<std::size_t>(space.dim()), 0);
  long stride = 1;
  const auto& subs = space.subsystems();
  for (std::size_t k = subs.size(); k-- > 0;) {
    const Subsystem& s = subs[k];
    for (long i = 0; i < space.dim(); ++i) {
      const int digit = static_cast<int>((i / stride) % s.dim);
      const bool top_first = s.kind == SubsystemKind::qubit || s.kind == SubsystemKind::spin;
      q[static_cast<std::size_t>(i)] += top_first ? s.dim - 1 - digit : digit;
    }
    stride *= s.dim;
  }
  return q;
}

int charge_modulus(const cmat& op, const std::vector<int>& q, int m, bool conserving) {
  if (m == 1 || op.size() == 0) return m;
  const double thr2 = 1e-28 * op.cwiseAbs2().maxCoeff();  // (1e-14 of the largest)^2: no hypot per element
  ShiftModulus f(m, conserving);
  for (long j = 0; j < op.cols() && f.modulus() != 1; ++j)
    for (long i = 0; i < op.rows(); ++i)
      if (std::norm(op(i, j)) > thr2) f.add(q[static_cast<std::size_t>(i)] - q[static_cast<std::size_t>(j)]);
  return f.modulus();
}

std::vector<int> charge_classes(const std::vector<int>& q, int m) {
  std::vector<int> c(q.size());
  std::transform(q.begin(), q.end(), c.begin(), [m](int v) { return m == 0 ? v : ((v % m) + m) % m; });
  return c;
}

std::vector<std::vector<int>> charge_sectors(const std::vector<int>& classes) {
  std::map<int, std::vector<int>> by_class;
  for (std::size_t i = 0; i < classes.size(); ++i) by_class[classes[i]].push_back(static_cast<int>(i));
  std::vector<std::vector<int>> out;
  out.reserve(by_class.size());
  for (auto& [c, members] : by_class) out.push_back(std::move(members));
  return out;
}

std::vector<int> sector_of(const std::vector<std::vector<int>>& sectors, std::size_t size) {
  std::vector<int> out(size, -1);
  for (std::size_t s = 0; s < sectors.size(); ++s)
    for (int i : sectors[s]) out[static_cast<std::size_t>(i)] = static_cast<int>(s);
  return out;
}

void add_adjoint_product_by_sectors(const cmat& A, const cmat& B, const std::vector<std::vector<int>>& sectors, cmat& out) {
  const std::size_t ns = sectors.size();
  if (ns < 2 || A.rows() < kMinSectorDim) {
    out.noalias() += A.adjoint() * B;
    return;
  }
  const std::vector<int> at = sector_of(sectors, static_cast<std::size_t>(A.rows()));
  const std::vector<std::vector<int>> a = nonzero_sector_blocks(A, at, at, ns), b = nonzero_sector_blocks(B, at, at, ns);
  // Block (i, j) collects A(r, i)^dag B(r, j) over the sectors r where both blocks are nonzero.
  for (std::size_t r = 0; r < ns; ++r) {
    const auto& R = sectors[r];
    for (int i : a[r]) {
      const cmat x = A(R, sectors[static_cast<std::size_t>(i)]);
      for (int j : b[r]) out(sectors[static_cast<std::size_t>(i)], sectors[static_cast<std::size_t>(j)]) += x.adjoint() * B(R, sectors[static_cast<std::size_t>(j)]);
    }
  }
}

}  // namespace qheat
