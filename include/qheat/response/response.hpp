// Linear response of a nonequilibrium steady state to a Hamiltonian perturbation H0 -> H0 + delta V
// (Levy, Rabani, Limmer): the Kubo term phi^(1,1) and the dissipator's own response phi^(1,2), the
// heat-current response (eq. 51), the entropy-production response, and the regime (eigenvectors or
// eigenvalues changed at first order). docs/methods.md, "Linear response".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "qheat/generators/generator.hpp"
#include "qheat/model/model.hpp"

namespace qheat {

// One response split as in Levy eq. 24: kubo = from -i[V, .], dissipator = from D1 (the rotation of
// the jump operators), total = kubo + dissipator. Per unit delta.
struct ResponseParts {
  double kubo = 0.0;
  double dissipator = 0.0;
  double total = 0.0;
};

// Which implementation computes the response (docs/methods.md, "Linear response", "At scale").
//   sectors: the global generator on its Bohr-frequency sectors in the eigenbasis of H0 (any dimension);
//   dense:   dense d^2 x d^2 site-basis superoperators (d <= kMaxResponseDimension; the reference);
//   automatic: sectors, or dense when an initial state is given.
enum class ResponseEngine { automatic, sectors, dense };

struct ResponseOptions {
  ResponseEngine engine = ResponseEngine::automatic;
  LambShiftMode lamb_shift = LambShiftMode::automatic;
  double degeneracy_tolerance = 1e-9;  // levels of H0 equal within this x max(1, max|E|)
  std::vector<double> times;           // t >= 0 for the integrated response Phi(t) (eq. 33); may be empty
  // Bohr shift nu = |delta| * max|nu^(1)| against the relaxation rate 1/tau: below `local_below` x 1/tau the
  // local limit (eq. 36) holds, above `global_above` x 1/tau the global one (eqs. 44-46).
  double local_below = 0.1, global_above = 10.0;
  // Sectors engine: sectors of L0 up to dense_sector elements are solved and propagated densely (LU, Pade
  // exponential; larger: GMRES with a diagonal preconditioner, Krylov exponentials); coherence sectors up
  // to dense_spectrum elements and the zero sector up to dense_spectrum_zero unknowns get all their
  // eigenvalues from LAPACK for 1/tau (larger: shift-invert Arnoldi).
  int dense_sector = 96, dense_spectrum = 256, dense_spectrum_zero = 1024;
  // Start from this state instead of the steady state of L0 (site basis; e.g. a Gibbs state of a closed
  // system, whose L0 has no unique steady state). Then only the time series Phi(t) is computed; the
  // steady-state responses are NaN.
  std::optional<cmat> initial_state;
};

struct ResponseRegime {
  std::string name;          // "eigenvectors" (Bohr frequencies unchanged at first order) or "eigenvalues"
  double bohr_shift = 0.0;      // max |w^(1)| per unit delta: first-order shift of a Bohr frequency a bath drives
  // Levy's nu^(1) per unit delta: the largest first-order splitting between driven transitions that share an
  // unperturbed Bohr frequency (it decides the secular approximation of the perturbed generator).
  double bohr_splitting = 0.0;
  double relaxation_rate = 0.0;  // 1/tau: smallest |Re lambda| over the nonzero eigenvalues of L0
  // For "eigenvalues": delta below which nu << 1/tau (local limit) and above which nu >> 1/tau (global);
  // 0 for "eigenvectors".
  double delta_local_max = 0.0, delta_global_min = 0.0;  // 0 when no splitting (then the local limit holds
                                                        // up to the smooth shift of the rates)
  std::string limit;         // "linear" (eigenvectors), or "local (nu << 1/tau)" for eigenvalue perturbations
};

// How the response was computed (the JSON's `solver`).
struct ResponseSolverInfo {
  std::string engine;               // "sectors" or "dense"
  long sectors = 0;                 // Bohr-frequency sectors of L0 (sectors engine)
  long largest_sector = 0;          // elements of the largest one
  long zero_sector = 0;             // unknowns of the zero-frequency sector (real coordinates)
  long solved_sectors = 0;          // coherence sectors solved for the observables (one per conjugate pair)
  long negligible_sectors = 0;      // reached by L1 pi0 only at round-off level (< 1e-11 of it): not solved
  long gmres_iterations = 0;        // summed over the sectors solved by GMRES
  int max_gmres_iterations = 0;
  double max_residual = 0.0;        // largest relative residual of a sector solve
  long krylov_products = 0;         // operator products of the time propagation (exp(L0 t) by Krylov)
  // 1/tau: "eigenvalues" (every sector's spectrum that could hold it, by LAPACK), or with "arnoldi" when a
  // sector was too large; certified = every sector not computed exactly was bounded (Gershgorin) or its
  // Arnoldi eigenvalue met that bound.
  std::string relaxation_method;
  long spectrum_sectors = 0;        // sectors whose eigenvalues were computed for 1/tau
  long arnoldi_sectors = 0;         // of which by shift-invert Arnoldi
  bool relaxation_certified = true;
};

struct ResponseResult {
  ResponseSolverInfo solver;
  ResponseRegime regime;
  std::vector<std::string> bath_names;
  std::vector<double> observables0;           // <A> in the unperturbed steady state
  std::vector<double> currents0;              // unperturbed heat currents (from bath into system)
  std::vector<ResponseParts> observables;     // steady-state response d<A>/d delta (t -> infinity)
  std::vector<ResponseParts> currents;        // d J_alpha / d delta, eq. 51 (kubo/dissipator: which L1 part
                                              // drives rho_1; the explicit <D1^dag H0> and <D0^dag V> terms
                                              // go to dissipator and kubo respectively)
  ResponseParts entropy_production;           // d sigma / d delta = -sum_alpha dJ_alpha/d delta / T_alpha
  std::vector<double> times;
  std::vector<std::vector<ResponseParts>> observables_t;  // [time][observable]: Phi(t) of eq. 33
  // [time][observable]: the response functions phi^(1,1)(t), phi^(1,2)(t) themselves (eqs. 23-24),
  // phi(t) = Tr[A e^{L0 t} L1 pi0] = dPhi/dt (may be empty: the untruncated engine gives Phi only).
  std::vector<std::vector<ResponseParts>> response_functions_t;
  // [time][bath]: J1^alpha(t) of eq. 51 after the perturbation is switched on at t = 0 (may be empty).
  std::vector<std::vector<ResponseParts>> currents_t;
  // [time]: sigma_1(t) = dS_1/dt - sum_alpha J1^alpha(t) / T_alpha (eq. D11; S_1 = -Tr[rho_1 ln pi0], eq. 52).
  std::vector<ResponseParts> entropy_production_t;
};

// Steady-state entropy-production response -sum_alpha J1^alpha / T_alpha (Levy eq. 47 with dS_1/dt = 0,
// eq. D11), split like the currents.
ResponseParts steady_entropy_production_response(const std::vector<ResponseParts>& currents,
                                                 const std::vector<Bath>& baths);

// Global (Davies) master equation of the model, perturbation V (site basis, Hermitian), observables
// (site basis). Throws MethodError for a non-Hermitian V, a driven model, a non-unique steady state of L0
// (or, dense engine, a model too large for it), MemoryLimitError when the structures would not fit.
ResponseResult linear_response(const Model& model, const cmat& V, const std::vector<cmat>& observables,
                               const ResponseOptions& options = {});

}  // namespace qheat
