// Hilbert space made of named subsystems, and the local operators that act on them.
#pragma once

#include <string>
#include <vector>

#include "qheat/core/types.hpp"

namespace qheat {

enum class SubsystemKind { qubit, spin, boson, level };

struct Subsystem {
  std::string name;
  SubsystemKind kind = SubsystemKind::qubit;
  double spin = 0.5;  // j for spins (qubit: 1/2)
  int nmax = 0;       // highest Fock number kept for bosons
  int dim = 2;        // local dimension
};

Subsystem make_qubit(std::string name);
Subsystem make_spin(std::string name, double j);      // dim 2j+1; throws unless 2j is a positive integer
Subsystem make_boson(std::string name, int nmax);     // dim nmax+1; throws unless nmax >= 1
Subsystem make_level(std::string name, int dim);      // generic d-level system, dim >= 2

// Ordered tensor product; the first subsystem is the most significant (kron order).
class Space {
public:
  Space() = default;
  explicit Space(std::vector<Subsystem> subsystems);

  [[nodiscard]] int dim() const noexcept { return dim_; }
  [[nodiscard]] const std::vector<Subsystem>& subsystems() const noexcept { return subs_; }
  [[nodiscard]] int index(const std::string& name) const;  // throws ModelError("unknown-site")
  [[nodiscard]] bool has(const std::string& name) const;
  [[nodiscard]] const Subsystem& subsystem(const std::string& name) const {
    return subs_[static_cast<std::size_t>(index(name))];
  }

  // Embed a local operator acting on subsystem `site` into the full space.
  [[nodiscard]] cmat embed(int site, const cmat& local) const;
  [[nodiscard]] cmat identity() const;

  // Partial trace keeping only the listed subsystems (kept in the order of the space).
  [[nodiscard]] cmat partial_trace_keep(const cmat& op, const std::vector<int>& keep) const;
  // Embed an operator on the listed subsystems (ordered as in the space) into the full space.
  [[nodiscard]] cmat embed_many(const std::vector<int>& sites, const cmat& op) const;

private:
  std::vector<Subsystem> subs_;
  int dim_ = 1;
};

// Local operators. Names are those accepted in model expressions.
namespace local_ops {
cmat identity(int dim);
cmat sigma_x();
cmat sigma_y();
cmat sigma_z();
cmat sigma_plus();   // |up><down| with up = index 0 (sz = +1), as in QuTiP
cmat sigma_minus();
cmat spin_x(double j);
cmat spin_y(double j);
cmat spin_z(double j);
cmat spin_plus(double j);
cmat spin_minus(double j);
cmat annihilation(int nmax);
cmat creation(int nmax);
cmat number(int nmax);
cmat projector(int dim, int k, int l);  // |k><l|
}  // namespace local_ops

// Named local operator on a subsystem of the given kind ("sx", "sm", "a", "n", "Sz", "proj", ...).
// Returns false when the name is not an operator for that subsystem kind.
bool local_operator(const Subsystem& sub, const std::string& name, cmat& out);

// Operators that a subsystem kind offers, for error messages.
std::string local_operator_names(const Subsystem& sub);

}  // namespace qheat
