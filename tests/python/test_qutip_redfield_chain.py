#!/usr/bin/env python3
"""Independent reference: qheat's Bloch-Redfield generator (no Lamb shift) on the disordered XX chain of
examples/chain/xx_chain.toml against QuTiP 4.7's bloch_redfield_tensor(..., use_secular=False), N = 2, 3, 4.

For each case the script runs `qheat ness examples/chain/xx_chain.toml --method redfield --lamb-shift off
--state --set N=n` and builds the same model with QuTiP:
  H = sum_k (omega + disorder d_k)/2 sz_k + J sum_{k<N} (sp_k sm_{k+1} + sm_k sp_{k+1}),
  hermitian couplings sx_1 (hot) and sx_N (cold), Drude kappa(w) = gamma w/(1 + (w/omega_D)^2), given to
  QuTiP as the noise-power spectrum kappa~(w) (tests/python/qutip_reference.py, shared with
  test_qutip_redfield.py);
and compares the steady state and the per-bath energy flows Tr[H R_a(rho)] (qheat's `bare_currents`).
Parameters (and the disorder pattern d) are read from the model file, and the values qheat reports are
checked against them. Cases: the file's defaults, and a clean (disorder = 0, degenerate many-body levels),
more strongly coupled chain. Exit code 0 when every case agrees.
"""
import argparse
import sys
import tomllib

import numpy as np
import qutip
from qutip_reference import example_path, redfield_reference, run_qheat, site_op

# QuTiP solves the 4^N-dimensional Redfield system by sparse LU; qheat by dense LU for N <= 3 (round-off:
# measured <= 3.5e-13 relative) and by preconditioned GMRES for N = 4 (dimension 16 > 8, docs/methods.md),
# which stops at a residual of 4e-14 (defaults) and 2e-12 (clean chain): measured 4.5e-12 and 5.1e-11
# relative on the currents. 1e-8 leaves room for the iterative solve's stopping rule, while an error in
# the tensor (a rate, a sign, a frequency) shows at 1e-4 or more.
TOL = 1e-8

CLEAN = dict(disorder=0.0, J=0.5, gamma=0.05, T_hot=4.0, T_cold=0.5)


def qutip_model(N, p, d):
    sz, sp, sm, sx = qutip.sigmaz(), qutip.sigmap(), qutip.sigmam(), qutip.sigmax()
    H = sum(0.5 * (p["omega"] + p["disorder"] * d[k]) * site_op(sz, k, N) for k in range(N))
    for k in range(N - 1):
        H += p["J"] * (site_op(sp, k, N) * site_op(sm, k + 1, N) + site_op(sm, k, N) * site_op(sp, k + 1, N))
    baths = [dict(name=name, op=site_op(sx, k, N), gamma=p["gamma"], wc=p["omega_D"], T=p[temp])
             for name, k, temp in (("hot", 0, "T_hot"), ("cold", N - 1, "T_cold"))]
    return H, baths


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qheat", required=True)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2, 3, 4])
    args = ap.parse_args()
    path = example_path("chain/xx_chain.toml")
    with open(path, "rb") as f:
        file_params = tomllib.load(f)["parameters"]
    d = file_params["d"]
    defaults = {k: float(v) for k, v in file_params.items() if k not in ("d", "N")}
    failures = 0
    cases = 0
    worst = {"state": 0.0, "current": 0.0}
    for label, params, sets in (("defaults", defaults, []), ("clean", {**defaults, **CLEAN}, list(CLEAN.items()))):
        for N in args.sizes:
            cases += 1
            try:
                res, rho_q = run_qheat(args.qheat, path, "redfield", [("N", N)] + sets, ["--lamb-shift", "off"])
            except RuntimeError as e:
                print(f"{label} N={N}: qheat failed: {e}")
                failures += 1
                continue
            problems = [f"qheat used {k} = {res['parameters'][k]}, expected {v}"
                        for k, v in params.items() if res["parameters"][k] != v]
            if res["steady_state"]["status"] != "converged":
                problems.append(f"steady state status {res['steady_state']['status']}")
            H, baths = qutip_model(N, params, d)
            rho_ref, flows_ref = redfield_reference(H, baths)
            flows_q = [res["bare_currents"][b["name"]] for b in baths]
            err_rho = np.max(np.abs(rho_q - rho_ref)) / np.max(np.abs(rho_ref))
            err_flow = max(abs(a - b) / abs(b) for a, b in zip(flows_q, flows_ref))
            worst["state"] = max(worst["state"], err_rho)
            worst["current"] = max(worst["current"], err_flow)
            if err_rho > TOL:
                problems.append(f"states differ by {err_rho:.2e} relative")
            if err_flow > TOL:
                problems.append(f"energy flows differ by {err_flow:.2e} relative")
            failures += 1 if problems else 0
            print(f"{label} N={N} ({res['steady_state']['solver']}): J_hot = {flows_q[0]:.12e} "
                  f"(QuTiP {flows_ref[0]:.12e}), rel. current error {err_flow:.2e}, rel. state error "
                  f"{err_rho:.2e} {'ok' if not problems else 'FAIL: ' + '; '.join(problems)}")
    print("worst relative deviations: " + ", ".join(f"{k} {v:.2e}" for k, v in worst.items())
          + f" (tolerance {TOL:g})")
    print(f"{cases - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
