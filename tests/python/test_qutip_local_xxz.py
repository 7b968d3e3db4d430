#!/usr/bin/env python3
"""Independent reference: qheat's local Lindblad master equation on the boundary-driven XXZ chain
(examples/chain/xxz_chain.toml) against QuTiP 4.7's steadystate, N = 2..6, two parameter sets.

For each case the script runs `qheat ness examples/chain/xxz_chain.toml --method local --set N=.. --state`
and builds the same model with QuTiP:
  H = sum_k (h/2) sz_k + J sum_{k<N} (sx_k sx_{k+1} + sy_k sy_{k+1} + Delta sz_k sz_{k+1}),
  collapse operators of the local method (each bath sees its site's (h/2) sz alone, so its transitions
  have w = h; flat kappa = gamma): sqrt(gamma (1 + n(h, T))) sm_k and sqrt(gamma n(h, T)) sp_k for
  k = 1 (T_hot) and k = N (T_cold), n(w, T) = 1/(e^{w/T} - 1);
then qutip.steadystate(H, c_ops) (method 'direct') and the per-bath currents Tr[H D_bath(rho)], D_bath the
two dissipators of that bath (a flat kappa has no Lamb shift, so qheat's `currents` are these).
Checks: both currents and the state to 1e-8 relative, and the first law J_hot + J_cold = 0 to 1e-10 |J|
(to 1e-10 of the gross energy flow when qheat solved by GMRES, N = 6).
Exit code 0 when every case agrees.
"""
import argparse
import math
import sys

import numpy as np
import qutip
from qutip_reference import bose, example_path, lindblad_reference, run_qheat, site_op

# Up to N = 5 both sides are direct solves (qheat: dense LU of the charge sectors; QuTiP: sparse LU of the
# 4^N-dimensional system), so they agree to round-off (~1e-12; measured worst: currents 1.5e-11 relative
# where |J| is small, state 1e-14). At N = 6 qheat uses GMRES, stopped at a relative residual of 1e-12
# (measured worst 2.8e-9 relative in the current, 3.7e-11 in the state). 1e-8 leaves room for both,
# while an error in the model, the rates or the jump operators shows up at 1e-3 or more.
TOL = 1e-8
# Sum_a Tr[H D_a(rho)] = Tr[H L(rho)] = 0 for the exact steady state (Tr[H [H, rho]] = 0), so J_hot + J_cold
# measures the solve's residual: round-off of |J| for a direct solve (measured worst 6e-12 |J|); for
# GMRES the residual is 1e-12 of the bordered system, i.e. of the gross energy flow (largest rate x
# energy span, the scale the audit uses), of which |J| can be a small part (strong set at N = 6: |J| = 7e-3
# against a gross flow of 50; measured 2.4e-13 of it, 1.8e-9 of |J|).
TOL_FIRST_LAW = 1e-10

# The file's defaults (a weakly coupled reference case, see its comment), checked against what qheat
# reports, and a strongly coupled, anisotropic set. In the latter the local equation is outside its
# validity (J = 1 is not small against gamma = 0.5) and at N = 6 sends heat from the cold to the hot
# bath (J_hot < 0; qheat's audit says heat-cold-to-hot): QuTiP agrees, this is the local equation.
DEFAULTS = dict(h=1.0, J=0.25, Delta=0.5, gamma=0.1, T_hot=2.0, T_cold=0.5)
STRONG = dict(h=1.0, J=1.0, Delta=1.2, gamma=0.5, T_hot=3.0, T_cold=1.0)


def qutip_model(N, p):
    sx, sy, sz = qutip.sigmax(), qutip.sigmay(), qutip.sigmaz()
    H = sum(0.5 * p["h"] * site_op(sz, k, N) for k in range(N))
    for k in range(N - 1):
        H += p["J"] * (site_op(sx, k, N) * site_op(sx, k + 1, N) + site_op(sy, k, N) * site_op(sy, k + 1, N)
                       + p["Delta"] * site_op(sz, k, N) * site_op(sz, k + 1, N))
    baths = []
    for k, T in ((0, p["T_hot"]), (N - 1, p["T_cold"])):
        n = bose(p["h"], T)
        baths.append([math.sqrt(p["gamma"] * (1.0 + n)) * site_op(qutip.sigmam(), k, N),
                      math.sqrt(p["gamma"] * n) * site_op(qutip.sigmap(), k, N)])
    return H, baths


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qheat", required=True)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2, 3, 4, 5, 6])
    args = ap.parse_args()
    path = example_path("chain/xxz_chain.toml")
    failures = 0
    cases = 0
    worst = {"current": 0.0, "state": 0.0, "first law": 0.0}
    for label, params, sets in (("defaults", DEFAULTS, []), ("strong", STRONG, list(STRONG.items()))):
        for N in args.sizes:
            cases += 1
            try:
                res, rho_q = run_qheat(args.qheat, path, "local", [("N", N)] + sets)
            except RuntimeError as e:
                print(f"{label} N={N}: qheat failed: {e}")
                failures += 1
                continue
            problems = []
            for name, value in params.items():
                if res["parameters"][name] != value:
                    problems.append(f"qheat used {name} = {res['parameters'][name]}, expected {value}")
            if res["steady_state"]["status"] != "converged":
                problems.append(f"steady state status {res['steady_state']['status']}")
            H, baths = qutip_model(N, params)
            rho_ref, j_ref = lindblad_reference(H, baths)
            j_q = [res["currents"]["hot"], res["currents"]["cold"]]
            # Without a Lamb shift both definitions are the same trace, evaluated by two formulas: they
            # agree to round-off of the gross flows (~1e-15), i.e. 1e-12 of a current that is up to 1e3
            # times smaller than them.
            j_bare = [res["bare_currents"]["hot"], res["bare_currents"]["cold"]]
            if any(abs(a - b) > 1e-12 * abs(a) for a, b in zip(j_q, j_bare)):
                problems.append("currents differ from bare_currents without a Lamb shift")
            err_j = max(abs(a - b) / abs(b) for a, b in zip(j_q, j_ref))
            err_rho = np.max(np.abs(rho_q - rho_ref)) / np.max(np.abs(rho_ref))
            scale = abs(j_q[0])
            if res["steady_state"]["solver"] == "gmres":
                n_hot, n_cold = bose(params["h"], params["T_hot"]), bose(params["h"], params["T_cold"])
                rate = params["gamma"] * (2.0 + n_hot + n_cold)  # the largest decay rate (all spins up)
                E = H.eigenenergies()
                scale = max(scale, rate * (E[-1] - E[0]))
            first_law = abs(j_q[0] + j_q[1]) / scale
            worst["current"] = max(worst["current"], err_j)
            worst["state"] = max(worst["state"], err_rho)
            worst["first law"] = max(worst["first law"], first_law)
            if err_j > TOL:
                problems.append(f"currents differ by {err_j:.2e} relative")
            if err_rho > TOL:
                problems.append(f"states differ by {err_rho:.2e} relative")
            if first_law > TOL_FIRST_LAW:
                problems.append(f"J_hot + J_cold = {j_q[0] + j_q[1]:.2e}")
            failures += 1 if problems else 0
            print(f"{label} N={N}: J_hot = {j_q[0]:.12e} (QuTiP {j_ref[0]:.12e}), rel. current error "
                  f"{err_j:.2e}, rel. state error {err_rho:.2e}, |J_hot + J_cold|/scale = {first_law:.1e} "
                  f"{'ok' if not problems else 'FAIL: ' + '; '.join(problems)}")
    print("worst relative deviations: " + ", ".join(f"{k} {v:.2e}" for k, v in worst.items())
          + f" (tolerances {TOL:g}, {TOL:g}, {TOL_FIRST_LAW:g})")
    print(f"{cases - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
