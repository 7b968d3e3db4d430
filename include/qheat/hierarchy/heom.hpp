// The hierarchical equations of motion (HEOM): the steady state of a static model coupled to Drude baths,
// exact in the system-bath coupling up to the truncation of the hierarchy, and the bath heat currents from
// the first-tier auxiliary density operators (docs/methods.md, "HEOM"; Kato & Tanimura, J. Chem. Phys. 145,
// 224105 (2016)). The hierarchy operator is handed to steady/ as a sparse linear problem.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "qheat/baths/spectral.hpp"
#include "qheat/core/types.hpp"
#include "qheat/model/model.hpp"
#include "qheat/steady/steady_state.hpp"

namespace qheat {

enum class HeomDecomposition { pade, matsubara };
std::string decomposition_name(HeomDecomposition d);
// "pade" or "matsubara"; throws MethodError("heom-decomposition") otherwise.
HeomDecomposition parse_heom_decomposition(const std::string& text);

// How the terms left out of the hierarchy enter (docs/methods.md eqs. H4, H4b): not at all, as Ishizaki and
// Tanimura's delta-function terminator -Delta [Q, [Q, .]] (the default, QuTiP's), or at second order with
// their full frequency dependence and the damping of each auxiliary operator.
enum class HeomTerminator { off, ishizaki_tanimura, second_order };
std::string terminator_name(HeomTerminator t);
// "ishizaki-tanimura" (also "on"), "second-order" or "off"; throws MethodError("heom-terminator") otherwise.
HeomTerminator parse_heom_terminator(const std::string& text);

// One term c e^{-nu t} of a bath correlation function C(t) = <B(t) B(0)>, t >= 0.
struct CorrelationTerm {
  cplx c;
  double nu = 0.0;
};

// C(t) of a Drude bath (kappa(w) = gamma w / (1 + (w/wD)^2), conventions.md) as the Drude pole plus
// `terms` Pade or Matsubara terms, and the terminator's weight Delta = sum of c_k/nu_k over the terms left
// out, whose remainder is approximated by 2 Delta delta(t) (docs/methods.md eqs. H2-H4), or taken at second
// order through its transform (eq. H4b).
struct CorrelationExpansion {
  std::vector<CorrelationTerm> terms;  // terms[0] is the Drude pole
  double reorganisation = 0.0;         // lambda = gamma wD / 4
  double terminator = 0.0;             // Delta
  double temperature = 0.0, cutoff = 0.0;
  std::vector<double> taylor_plus, taylor_minus;  // eq. H4b's Taylor coefficients about q = +-cutoff/2piT
  [[nodiscard]] double imaginary_at_zero() const;  // Im C(0+) = Im sum_k c_k = -lambda wD
  // int_0^inf C_res(t) e^{(i w - damping) t} dt of the left-out part C_res of C(t) (the exact Bose-pole sum
  // minus the kept Bose terms), eq. H4b; at w = damping = 0 it is the terminator's Delta.
  [[nodiscard]] cplx residual_transform(double w, double damping = 0.0) const;
};
// Throws MethodError("heom-spectral") for a spectral density that is not drude and
// MethodError("heom-temperature") for T <= 0 or a Matsubara frequency on the Drude pole.
CorrelationExpansion drude_correlation(const SpectralDensity& J, double T, HeomDecomposition decomposition, int terms);

// The Pade [N-1/N] spectrum decomposition of the Bose function (Hu, Xu, Yan, J. Chem. Phys. 134, 244106
// (2011)): 1/(1 - e^{-x}) ~ 1/x + 1/2 + sum_j 2 eta_j x / (x^2 + xi_j^2); xi ascending.
struct PadePoles {
  std::vector<double> xi, eta;
};
PadePoles pade_poles(int n);

// How ADO 0's preconditioner solves with its Schur complement B0 (docs/methods.md, "Above six qubits"): a
// dense LU of the d^2 x d^2 matrix (O(d^6) operations, d^4 numbers), or GMRES on B0 itself with B0's secular part
// as preconditioner (O(d^3) per iteration, no d^4 storage); automatic picks by the system's dimension.
enum class HeomSchurSolver { automatic, dense, iterative };
std::string schur_solver_name(HeomSchurSolver s);  // "auto", "dense", "iterative"
// "auto", "dense" or "iterative"; throws MethodError("heom-schur") otherwise.
HeomSchurSolver parse_heom_schur(const std::string& text);
struct HeomOptions {
  HeomDecomposition decomposition = HeomDecomposition::pade;
  // A fixed hierarchy when tolerance <= 0: depth (sum of the indices of an auxiliary operator) and the
  // number of Pade/Matsubara terms per bath beyond the Drude pole (QuTiP's Nk).
  int depth = 5;
  int terms = 4;  // 2 is 1-3 % off on Zhang's model (docs/methods.md, "HEOM convergence tables")
  // Automatic mode when tolerance > 0: starting at (depth, terms), raise each while raising it changes some
  // current by more than tolerance x the largest current (docs/methods.md, "HEOM convergence").
  double tolerance = 0.0;
  int max_depth = 16;
  int max_terms = 12;
  long max_ados = 200000;  // the automatic mode does not build larger hierarchies (a bound on its time)
  HeomTerminator terminator = HeomTerminator::ishizaki_tanimura;
  // ADO 0's preconditioner factorised in Hermitian coordinates (a real LU) when it preserves Hermiticity, as it does
  // for Drude baths; false keeps it complex (the same preconditioner, for comparison).
  bool real_schur = true;
  // The real preconditioner's factors in single precision (sgetrf: half the memory, 0.57x the time; its solves
  // refined to double precision) when that refinement contracts fast enough (TierGaussSeidel), else double; false: double (the same
  // preconditioner up to round-off, for comparison).
  bool single_schur = true;
  // Automatic mode: a hierarchy keeps the previous one's real factors of ADO 0's preconditioner when the refinement
  // against its own B0 contracts as fast as for fresh single-precision factors (TierGaussSeidel); false: every
  // hierarchy factorises its own (for comparison).
  bool reuse_schur = true;
  HeomSchurSolver schur_solver = HeomSchurSolver::automatic;
  // Automatic: dense factors while B0 has at most this many rows (d^2; 4096: up to six qubits), GMRES above.
  long schur_dense_rows = 4096;
  // The iterative solve's GMRES iterations per solve with B0, at most (automatic: a solve that does not converge
  // within them hands ADO 0 to the dense factors; iterative: the outer solve goes on with it).
  int schur_max_iterations = 600;
};

// What the user asked for (--heom-depth/--heom-terms/--heom-tol, Python's heom_depth/...): a fixed hierarchy
// when depth or terms is given without a tolerance (the other takes its default), else the automatic mode from
// depth 2 and 1 term (or the given ones) to the tolerance (default 1e-4). Throws Error("heom-depth" |
// "heom-terms" | "heom-tol") for values out of range (depth 0..max_depth, terms 0..max_terms, 0 < tol < 1).
struct HeomRequest {
  std::optional<int> depth, terms;
  std::optional<double> tolerance;
  HeomDecomposition decomposition = HeomDecomposition::pade;
  HeomTerminator terminator = HeomTerminator::ishizaki_tanimura;
  HeomSchurSolver schur = HeomSchurSolver::automatic;
};
HeomOptions heom_options(const HeomRequest& request);

// One solved hierarchy of the automatic mode.
struct HeomLevel {
  int depth = 0, terms = 0;
  long ados = 0;
  int factorisations = 0;  // of ADO 0's preconditioner (0: the previous hierarchy's factors)
  std::vector<double> currents;
};

struct HeomResult {
  SteadyStatus status = SteadyStatus::converged;
  std::string solver;                 // steady/'s solver of the last hierarchy
  double residual = 0.0, rcond = 0.0;
  int iterations = 0;
  bool real_schur = false;            // ADO 0's preconditioner was a real LU in Hermitian coordinates
  int schur_classes = 0;              // its blocks, one per charge class (1: H and the baths keep none)
  bool single_schur = false;          // its factors were single precision
  double schur_refinements = 0.0;     // then: refinement steps per solve with them (mean)
  bool schur_reused = false;          // its factors were the previous hierarchy's (automatic mode)
  int schur_factorisations = 0;       // ADO 0 factorisations of the whole run (automatic mode: of every hierarchy)
  bool iterative_schur = false;       // ADO 0 was solved by GMRES on B0 (HeomSchurSolver::iterative)
  bool schur_fallback = false;        // GMRES on B0 did not converge (automatic): the dense factors took over
  long schur_slow = 0;                // then: the elements its secular preconditioner keeps exactly
  double schur_iterations = 0.0;      // then: GMRES iterations per solve with B0 (mean)
  cmat rho;                           // reduced steady state rho_0 (site basis)
  std::vector<double> currents;       // bath heat currents -d<H_B>/dt, into the system (eq. H6)
  std::vector<double> system_currents;  // d<H_S>/dt per bath (eq. H7); equal to currents in the exact steady state
  HeomDecomposition decomposition = HeomDecomposition::pade;
  HeomTerminator terminator = HeomTerminator::ishizaki_tanimura;
  int depth = 0, terms = 0;
  long ados = 0, unknowns = 0, nonzeros = 0;
  std::vector<CorrelationExpansion> baths;
  // Automatic mode: the tolerance, whether it was met, the hierarchies solved and the changes of the
  // currents (relative, as the tolerance) when the depth or the number of terms was last raised.
  double tolerance = 0.0;
  bool converged = true;
  // What the changes measure: "currents" (relative, as above), or "state" when every bath has the same
  // temperature (the currents vanish exactly): max_ij |rho_ij - rho'_ij| of the reduced state.
  std::string measure;
  // Why the automatic mode stopped short: "max-depth", "max-terms", "max-ados", "memory-limit",
  // "solver-precision" (the changes fell below 10x the solve's own noise, |sum_a J_a| / max_a |J_a|, before
  // reaching the tolerance), "solve-failed".
  std::string stopped_by;
  std::optional<double> change_depth, change_terms;
  std::vector<HeomLevel> history;
};

// Throws MethodError for models the method does not cover (heom-drive, heom-coupling, heom-spectral,
// heom-temperature) and MemoryLimitError when the hierarchy does not fit.
HeomResult heom_steady_state(const Model& model, const HeomOptions& options, const SteadyStateOptions& steady = {});

// The relative change between two sets of currents, as the automatic mode measures it: max_a |J_a - J'_a|
// over max(max_a |J_a|, floor).
double current_change(const std::vector<double>& a, const std::vector<double>& b, double floor);

}  // namespace qheat
