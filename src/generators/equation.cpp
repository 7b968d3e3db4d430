#include "qheat/generators/equation.hpp"

namespace qheat {

// Defined beside their classes.
std::unique_ptr<MasterEquation> make_secular_equation(const Model& model, const GeneratorOptions& options);
std::unique_ptr<MasterEquation> make_eigenbasis_equation(const Model& model, const GeneratorOptions& options);
std::unique_ptr<MasterEquation> make_local_equation(const Model& model, const GeneratorOptions& options);

std::unique_ptr<MasterEquation> make_equation(const Model& model, const GeneratorOptions& options) {
  switch (options.method) {
    case Method::global:
    case Method::dme:
    case Method::ddme: return make_secular_equation(model, options);
    case Method::redfield: return make_eigenbasis_equation(model, options);
    case Method::local: return make_local_equation(model, options);
    case Method::floquet: break;
  }
  throw MethodError("floquet-generator", "the Floquet-Markov method is solved by floquet_steady_state(), not a master equation");
}

}  // namespace qheat
