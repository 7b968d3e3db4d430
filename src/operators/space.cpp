#include "qheat/operators/space.hpp"

#include <cmath>
#include <unordered_set>

namespace qheat {

Subsystem make_qubit(std::string name) {
  return Subsystem{std::move(name), SubsystemKind::qubit, 0.5, 0, 2};
}

Subsystem make_spin(std::string name, double j) {
  const double twice = 2.0 * j;
  if (!(j > 0.0) || std::abs(twice - std::round(twice)) > 1e-12 || twice > 200.0)
    throw ModelError("spin-j", "spin '" + name + "': j must be a positive multiple of 1/2 (<= 100)");
  return Subsystem{std::move(name), SubsystemKind::spin, j, 0, static_cast<int>(std::lround(twice)) + 1};
}

Subsystem make_boson(std::string name, int nmax) {
  if (nmax < 1 || nmax > 5000)
    throw ModelError("boson-nmax", "mode '" + name + "': nmax must be an integer in [1, 5000]");
  return Subsystem{std::move(name), SubsystemKind::boson, 0.0, nmax, nmax + 1};
}

Subsystem make_level(std::string name, int dim) {
  if (dim < 2 || dim > 5000)
    throw ModelError("level-dim", "level system '" + name + "': dim must be an integer in [2, 5000]");
  return Subsystem{std::move(name), SubsystemKind::level, 0.0, 0, dim};
}

Space::Space(std::vector<Subsystem> subsystems) : subs_(std::move(subsystems)) {
  std::unordered_set<std::string> seen;
  dim_ = 1;
  for (const auto& s : subs_) {
    if (!seen.insert(s.name).second)
      throw ModelError("duplicate-site", "site '" + s.name + "' is defined twice");
    if (static_cast<long long>(dim_) * s.dim > 65536)
      throw ModelError("dimension", "Hilbert space dimension exceeds 65536");
    dim_ *= s.dim;
  }
}

int Space::index(const std::string& name) const {
  for (std::size_t i = 0; i < subs_.size(); ++i)
    if (subs_[i].name == name) return static_cast<int>(i);
  throw ModelError("unknown-site", "unknown site '" + name + "'");
}

bool Space::has(const std::string& name) const {
  for (const auto& s : subs_)
    if (s.name == name) return true;
  return false;
}

cmat Space::identity() const { return cmat::Identity(dim_, dim_); }

cmat Space::embed(int site, const cmat& local) const { return embed_many({site}, local); }

namespace {
// Dimension of the subsystems before/after, used for index arithmetic on kron-ordered states.
struct Strides {
  std::vector<int> dims;
  std::vector<int> stride;  // stride[k] = product of dims after k
};
Strides strides_of(const std::vector<Subsystem>& subs) {
  Strides s;
  const std::size_t n = subs.size();
  s.dims.resize(n);
  s.stride.resize(n);
  int acc = 1;
  for (std::size_t k = n; k-- > 0;) {
    s.dims[k] = subs[k].dim;
    s.stride[k] = acc;
    acc *= subs[k].dim;
  }
  return s;
}
// For every full index: its index inside the listed sites and inside the rest (kron order kept).
struct SplitIndex {
  std::vector<int> sub_of, rest_of;
  int dsub = 1;
};
SplitIndex split_indices(const std::vector<Subsystem>& subs, int dim, const std::vector<int>& sites) {
  const Strides st = strides_of(subs);
  std::vector<bool> in(subs.size(), false);
  SplitIndex out;
  for (int s : sites) {
    in[static_cast<std::size_t>(s)] = true;
    out.dsub *= st.dims[static_cast<std::size_t>(s)];
  }
  out.sub_of.resize(static_cast<std::size_t>(dim));
  out.rest_of.resize(static_cast<std::size_t>(dim));
  for (int idx = 0; idx < dim; ++idx) {
    int sub = 0, rest = 0;
    for (std::size_t k = 0; k < subs.size(); ++k) {
      const int digit = (idx / st.stride[k]) % st.dims[k];
      if (in[k])
        sub = sub * st.dims[k] + digit;
      else
        rest = rest * st.dims[k] + digit;
    }
    out.sub_of[static_cast<std::size_t>(idx)] = sub;
    out.rest_of[static_cast<std::size_t>(idx)] = rest;
  }
  return out;
}
}  // namespace

cmat Space::embed_many(const std::vector<int>& sites, const cmat& op) const {
  const SplitIndex si = split_indices(subs_, dim_, sites);
  if (op.rows() != si.dsub || op.cols() != si.dsub)
    throw ModelError("dimension", "operator of dimension " + std::to_string(op.rows()) +
                                      " does not match the sites it acts on (dimension " +
                                      std::to_string(si.dsub) + ")");
  cmat out = cmat::Zero(dim_, dim_);
  for (std::size_t i = 0; i < si.sub_of.size(); ++i)
    for (std::size_t j = 0; j < si.sub_of.size(); ++j)
      if (si.rest_of[i] == si.rest_of[j]) out(static_cast<long>(i), static_cast<long>(j)) = op(si.sub_of[i], si.sub_of[j]);
  return out;
}

cmat Space::partial_trace_keep(const cmat& op, const std::vector<int>& keep) const {
  const SplitIndex si = split_indices(subs_, dim_, keep);
  cmat out = cmat::Zero(si.dsub, si.dsub);
  for (std::size_t i = 0; i < si.sub_of.size(); ++i)
    for (std::size_t j = 0; j < si.sub_of.size(); ++j)
      if (si.rest_of[i] == si.rest_of[j]) out(si.sub_of[i], si.sub_of[j]) += op(static_cast<long>(i), static_cast<long>(j));
  return out;
}

namespace local_ops {
cmat identity(int dim) { return cmat::Identity(dim, dim); }
cmat sigma_x() {
  cmat m(2, 2);
  m << 0, 1, 1, 0;
  return m;
}
cmat sigma_y() {
  cmat m(2, 2);
  m << 0, cplx(0, -1), cplx(0, 1), 0;
  return m;
}
cmat sigma_z() {
  cmat m(2, 2);
  m << 1, 0, 0, -1;
  return m;
}
cmat sigma_plus() {
  cmat m = cmat::Zero(2, 2);
  m(0, 1) = 1;
  return m;
}
cmat sigma_minus() { return sigma_plus().adjoint(); }

// Spin-j matrices in the basis m = j, j-1, ..., -j (index 0 is m = j).
cmat spin_z(double j) {
  const int d = static_cast<int>(std::lround(2 * j)) + 1;
  cmat m = cmat::Zero(d, d);
  for (int k = 0; k < d; ++k) m(k, k) = j - k;
  return m;
}
cmat spin_plus(double j) {
  const int d = static_cast<int>(std::lround(2 * j)) + 1;
  cmat m = cmat::Zero(d, d);
  for (int k = 1; k < d; ++k) {
    const double mz = j - k;  // raising |m> -> |m+1>, index k -> k-1
    m(k - 1, k) = std::sqrt(j * (j + 1) - mz * (mz + 1));
  }
  return m;
}
cmat spin_minus(double j) { return spin_plus(j).adjoint(); }
cmat spin_x(double j) { return 0.5 * (spin_plus(j) + spin_minus(j)); }
cmat spin_y(double j) { return cplx(0, -0.5) * (spin_plus(j) - spin_minus(j)); }

cmat annihilation(int nmax) {
  cmat m = cmat::Zero(nmax + 1, nmax + 1);
  for (int n = 1; n <= nmax; ++n) m(n - 1, n) = std::sqrt(static_cast<double>(n));
  return m;
}
cmat creation(int nmax) { return annihilation(nmax).adjoint(); }
cmat number(int nmax) {
  cmat m = cmat::Zero(nmax + 1, nmax + 1);
  for (int n = 0; n <= nmax; ++n) m(n, n) = n;
  return m;
}
cmat projector(int dim, int k, int l) {
  cmat m = cmat::Zero(dim, dim);
  m(k, l) = 1;
  return m;
}
}  // namespace local_ops

bool local_operator(const Subsystem& sub, const std::string& name, cmat& out) {
  using namespace local_ops;
  switch (sub.kind) {
    case SubsystemKind::qubit:
      if (name == "sx") out = sigma_x();
      else if (name == "sy") out = sigma_y();
      else if (name == "sz") out = sigma_z();
      else if (name == "sp" || name == "Sp") out = sigma_plus();
      else if (name == "sm" || name == "Sm") out = sigma_minus();
      else if (name == "Sx") out = 0.5 * sigma_x();
      else if (name == "Sy") out = 0.5 * sigma_y();
      else if (name == "Sz") out = 0.5 * sigma_z();
      else if (name == "id") out = identity(2);
      else return false;
      return true;
    case SubsystemKind::spin:
      if (name == "Sx") out = spin_x(sub.spin);
      else if (name == "Sy") out = spin_y(sub.spin);
      else if (name == "Sz") out = spin_z(sub.spin);
      else if (name == "Sp") out = spin_plus(sub.spin);
      else if (name == "Sm") out = spin_minus(sub.spin);
      else if (name == "id") out = identity(sub.dim);
      else return false;
      return true;
    case SubsystemKind::boson:
      if (name == "a") out = annihilation(sub.nmax);
      else if (name == "adag" || name == "ad") out = creation(sub.nmax);
      else if (name == "n" || name == "num") out = number(sub.nmax);
      else if (name == "x") out = annihilation(sub.nmax) + creation(sub.nmax);
      else if (name == "id") out = identity(sub.dim);
      else return false;
      return true;
    case SubsystemKind::level:
      if (name == "id") out = identity(sub.dim);
      else return false;
      return true;
  }
  return false;
}

std::string local_operator_names(const Subsystem& sub) {
  switch (sub.kind) {
    case SubsystemKind::qubit: return "sx, sy, sz, sp, sm, Sx, Sy, Sz, Sp, Sm, id, proj(site,k,l)";
    case SubsystemKind::spin: return "Sx, Sy, Sz, Sp, Sm, id, proj(site,k,l)";
    case SubsystemKind::boson: return "a, adag, n, x, id, proj(site,k,l)";
    case SubsystemKind::level: return "id, proj(site,k,l)";
  }
  return "";
}

}  // namespace qheat
