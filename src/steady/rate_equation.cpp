#include "qheat/steady/rate_equation.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <utility>
#include <vector>

namespace qheat {
namespace {

// Strongly connected components of the jump graph a -> b for W(b, a) > 0 (Kosaraju, O(d^2) on the dense
// matrix) and whether each is closed (no jump out of it).
struct Components {
  std::vector<int> of;       // component of each state
  std::vector<char> closed;  // per component
};

Components components(const rmat& W) {
  const long d = W.rows();
  auto edge = [&](long from, long to) { return from != to && W(to, from) > 0.0; };
  // First pass: finishing order of a depth-first search on the graph.
  std::vector<long> order;
  order.reserve(static_cast<std::size_t>(d));
  std::vector<char> seen(static_cast<std::size_t>(d), 0);
  std::vector<std::pair<long, long>> stack;  // (node, next neighbour to try)
  for (long s = 0; s < d; ++s) {
    if (seen[static_cast<std::size_t>(s)]) continue;
    seen[static_cast<std::size_t>(s)] = 1;
    stack.emplace_back(s, 0);
    while (!stack.empty()) {
      auto& [v, next] = stack.back();
      while (next < d && (seen[static_cast<std::size_t>(next)] || !edge(v, next))) ++next;
      if (next < d) {
        const long w = next++;
        seen[static_cast<std::size_t>(w)] = 1;
        stack.emplace_back(w, 0);
      } else {
        order.push_back(v);
        stack.pop_back();
      }
    }
  }
  // Second pass on the reversed graph in reverse finishing order: one component per tree.
  Components c;
  c.of.assign(static_cast<std::size_t>(d), -1);
  int nc = 0;
  std::vector<long> todo;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    if (c.of[static_cast<std::size_t>(*it)] >= 0) continue;
    todo.push_back(*it);
    c.of[static_cast<std::size_t>(*it)] = nc;
    while (!todo.empty()) {
      const long v = todo.back();
      todo.pop_back();
      for (long u = 0; u < d; ++u)
        if (c.of[static_cast<std::size_t>(u)] < 0 && edge(u, v)) {
          c.of[static_cast<std::size_t>(u)] = nc;
          todo.push_back(u);
        }
    }
    ++nc;
  }
  c.closed.assign(static_cast<std::size_t>(nc), 1);
  for (long a = 0; a < d; ++a)
    for (long b = 0; b < d; ++b)
      if (edge(a, b) && c.of[static_cast<std::size_t>(a)] != c.of[static_cast<std::size_t>(b)])
        c.closed[static_cast<std::size_t>(c.of[static_cast<std::size_t>(a)])] = 0;
  return c;
}

// Back substitution U x = x in place over the first m unknowns, column by column (each step adds terms of
// one sign when x and -U's off-diagonal part are non-negative, as in the stationary state). A zero pivot
// (another closed class) is replaced by `zero_pivot`; 0 there sets that unknown to 0. With `rescale`, the whole
// vector (solved and unsolved parts alike: linear in the right-hand side) is scaled down when an unknown grows
// past 1e250: the stationary state's ratios can exceed the double range (a Kerr mode whose last state is its top
// level: e^{2200}).
void back_substitute(const rmat& U, long m, double zero_pivot, rvec& x, bool rescale) {
  for (long k = m - 1; k >= 0; --k) {
    const double p = U(k, k) > 0.0 ? U(k, k) : zero_pivot;
    // The quotient itself can overflow when one step's ratio exceeds the room left above 1e250 (a Kerr mode of
    // 2801 levels: e^{140} between neighbouring top levels; x became inf, then NaN, reported as not-unique):
    // first scale the vector by a power of two that brings x(k)/p to ~2^830 (~1e250); exact but for entries
    // that fall below the double range, 1e-308 of the largest.
    if (rescale && p > 0.0 && x(k) > 0.0) {
      int ex = 0, ep = 0;
      (void)std::frexp(x(k), &ex);
      (void)std::frexp(p, &ep);
      if (ex - ep > 830) x *= std::ldexp(1.0, 830 - (ex - ep));
    }
    x(k) = p > 0.0 ? x(k) / p : 0.0;
    if (rescale && x(k) > 1e250) x *= 1e-250;
    if (k > 0 && x(k) != 0.0) x.head(k).noalias() -= x(k) * U.col(k).head(k);
  }
}

}  // namespace

int closed_classes(const rmat& W) {
  const Components c = components(W);
  return static_cast<int>(std::count(c.closed.begin(), c.closed.end(), 1));
}

RateEquation::RateEquation(const rmat& W, Use use) {
  const long n = W.rows();
  const Components c = components(W);
  closed_ = static_cast<int>(std::count(c.closed.begin(), c.closed.end(), 1));
  // First elimination: every state but one of a closed class (the one with the largest escape rate), then it.
  // The state eliminated last must be recurrent: a transient state eliminated after its class would find no
  // rate out of it left.
  long last = -1;
  double best = -1.0;
  for (long a = 0; a < n; ++a) {
    if (!c.closed[static_cast<std::size_t>(c.of[static_cast<std::size_t>(a)])]) continue;
    double out = 0.0;
    for (long b = 0; b < n; ++b)
      if (b != a) out += std::max(W(b, a), 0.0);
    if (out > best) {
      best = out;
      last = a;
    }
  }
  for (long a = 0; a < n; ++a)
    if (a != last) order_.push_back(a);
  if (last >= 0) order_.push_back(last);
  factorise(W);
  // The stationary state is accurate in any order; the bordered solves are not: eliminating a state divides by
  // its rates into the states left, and eliminating the well-populated states first leaves the rare ones to be
  // divided by their rates back up (a Kerr mode: ratios e^{-E/T}, 1e88 of round-off in z). Again, the least
  // populated states first (each then divided by its rates down, the scale of the exact inverse itself).
  if (use == Use::bordered_solves && n > 2) {
    std::stable_sort(order_.begin(), order_.end(), [this](long a, long b) { return pi_(a) < pi_(b); });
    factorise(W);
  }
}

void RateEquation::factorise(const rmat& W) {
  const long n = W.rows();
  // A = -W in that order, off-diagonal part only (the diagonal is recomputed as each pivot).
  lu_.resize(n, n);
  for (long j = 0; j < n; ++j)
    for (long i = 0; i < n; ++i)
      lu_(i, j) = i == j ? 0.0 : -std::max(W(order_[static_cast<std::size_t>(i)], order_[static_cast<std::size_t>(j)]), 0.0);
  // Right-looking blocked elimination: a panel of kb columns by rank-1 steps, then the rows to its right by a
  // unit-lower triangular solve and the trailing block by one product (BLAS-3). The off-diagonal elements of L
  // and U and of every Schur complement are <= 0 and only gain terms of their own sign; the diagonal ones, where
  // subtraction would occur, are never used: each pivot is minus the sum of its column below the diagonal
  // (the Schur complement of -W has zero column sums too).
  constexpr long kPanel = 64;
  for (long k0 = 0; k0 < n; k0 += kPanel) {
    const long kb = std::min(kPanel, n - k0);
    for (long k = k0; k < k0 + kb; ++k) {
      const long below = n - k - 1;
      const double pivot = below > 0 ? -lu_.col(k).tail(below).sum() : 0.0;
      lu_(k, k) = pivot;
      if (!(pivot > 0.0)) {  // no rate out of k to the states left: k closes a class (the last one, or another)
        lu_(k, k) = 0.0;
        if (below > 0) lu_.col(k).tail(below).setZero();
        continue;
      }
      lu_.col(k).tail(below) /= pivot;
      const long rest = k0 + kb - k - 1;
      if (rest > 0)
        lu_.block(k + 1, k + 1, below, rest).noalias() -= lu_.col(k).tail(below) * lu_.row(k).segment(k + 1, rest);
    }
    const long right = n - k0 - kb;
    if (right > 0) {
      lu_.block(k0, k0, kb, kb).triangularView<Eigen::UnitLower>().solveInPlace(lu_.block(k0, k0 + kb, kb, right));
      lu_.block(k0 + kb, k0 + kb, right, right).noalias() -= lu_.block(k0 + kb, k0, right, kb) * lu_.block(k0, k0 + kb, kb, right);
    }
  }

  // Stationary state: U pi = 0 with pi = 1 on the last state, by back substitution of non-negative terms.
  rvec x = rvec::Zero(n);
  if (n > 0) {
    x(n - 1) = 1.0;
    x.head(n - 1) = -lu_.col(n - 1).head(n - 1);
    back_substitute(lu_, n - 1, 0.0, x, true);
  }
  const double total = x.sum();
  pi_ = rvec::Zero(n);
  for (long k = 0; k < n; ++k) pi_(order_[static_cast<std::size_t>(k)]) = x(k) / total;
}

void RateEquation::solve_bordered(const rvec& r, double s, rvec& z) const {
  const long n = dim();
  z.resize(n);
  if (n == 0) return;
  const double t = r.sum();
  const double mean = t / static_cast<double>(n);
  // A y = -(r - u t / n) in elimination order (A = -W), y with 0 on the last state.
  rvec y(n);
  for (long k = 0; k < n; ++k) y(k) = -(r(order_[static_cast<std::size_t>(k)]) - mean);
  lu_.triangularView<Eigen::UnitLower>().solveInPlace(y);
  y(n - 1) = 0.0;  // u^T of the right-hand side is 0: the last row of L^{-1} is proportional to u^T
  back_substitute(lu_, n - 1, s, y, false);
  double sum = 0.0;
  for (long k = 0; k < n; ++k) {
    z(order_[static_cast<std::size_t>(k)]) = y(k);
    sum += y(k);
  }
  // u^T z = t / (s n): the kernel's direction fixes it.
  z += (t / (s * static_cast<double>(n)) - sum) * pi_;
}

void RateEquation::solve_bordered(const cvec& r, double s, cvec& z) const {
  rvec re, im;
  solve_bordered(rvec(r.real()), s, re);
  solve_bordered(rvec(r.imag()), s, im);
  z = re.cast<cplx>() + cplx(0.0, 1.0) * im.cast<cplx>();
}

}  // namespace qheat
