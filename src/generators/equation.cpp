#include "qheat/generators/equation.hpp"

#include <algorithm>

#include "qheat/core/linalg.hpp"
#include "qheat/core/resources.hpp"
#include "qheat/operators/hermitian_blocks.hpp"

namespace qheat {

StateChecks block_state_checks(const HermitianBlocks& blocks, const rvec& x) {
  StateChecks c;
  c.trace = blocks.trace_functional().dot(x);
  c.min_eigenvalue = std::numeric_limits<double>::infinity();
  cmat blk;
  for (int b = 0; b < blocks.count(); ++b) {
    if (blocks.size(b) == 1) {
      c.min_eigenvalue = std::min(c.min_eigenvalue, x(blocks.offset(b)));
      continue;
    }
    blocks.unpack(x, b, blk);
    c.min_eigenvalue = std::min(c.min_eigenvalue, linalg::hermitian_eigenvalues(blk).minCoeff());
  }
  return c;
}

// Defined beside their classes.
std::unique_ptr<MasterEquation> make_secular_equation(const Model& model, const GeneratorOptions& options);
std::unique_ptr<MasterEquation> make_eigenbasis_equation(const Model& model, const GeneratorOptions& options);
std::unique_ptr<MasterEquation> make_local_equation(const Model& model, const GeneratorOptions& options);

std::unique_ptr<MasterEquation> make_equation(const Model& model, const GeneratorOptions& options) {
  switch (options.method) {
    case Method::global:
    case Method::dme:
    case Method::ddme: return make_secular_equation(model, options);
    case Method::redfield: {
      // Checked before anything is built: eigenvectors, H + H_LS, M, per channel X and Lambda, per bath
      // K_h and H_LS, three work matrices (complex d x d each), and the smallest Krylov basis (12 real
      // vectors of d^2).
      const auto dd = static_cast<std::size_t>(model.hamiltonian.rows()) * static_cast<std::size_t>(model.hamiltonian.rows());
      std::size_t channels = 0;
      for (const Bath& b : model.baths) channels += b.coupling == CouplingKind::hermitian ? 1 : 2;
      check_memory((6 + 2 * channels + 2 * model.baths.size()) * dd * sizeof(cplx) + 12 * dd * sizeof(double),
                   "the " + method_name(options.method) + " master equation (" + std::to_string(model.hamiltonian.rows()) +
                       " levels, eigenbasis)",
                   "--method global needs only the populations");
      return make_eigenbasis_equation(model, options);
    }
    case Method::local: return make_local_equation(model, options);
    case Method::floquet: break;
    case Method::heom:
      throw MethodError("heom-generator", "the HEOM method is solved by heom_steady_state(), not a master equation");
  }
  throw MethodError("floquet-generator", "the Floquet-Markov method is solved by floquet_steady_state(), not a master equation");
}

}  // namespace qheat
