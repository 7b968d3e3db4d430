#!/usr/bin/env python3
"""Independent reference: qheat's Floquet-Markov method (`--method floquet`, both `--floquet-solver sambe` and
`propagator`) on the cosine-driven qubit (examples/kong2026/cosine_qubit.toml) against QuTiP 4.7's Floquet
machinery, at the file's defaults (eta = 0.1, omega_d = 0.7) and at eta = 0.6, omega_d = 0.45.

Model: H(t) = (eps/2) sz + eta cos(omega_d t) sx, two baths ("l" at T_l, "r" at T_r) coupled through sx
(hermitian), each with kappa(w) = gamma w exp(-w/omega_c), gamma = pi alpha (conventions.md: kappa is the
rate function, emission rate kappa(w)(1 + n(w))|M|^2, absorption kappa(w) n(w)|M|^2, n = 1/(e^{w/T} - 1)).

QuTiP side: qutip.floquet_modes (ODE propagator over one period), qutip.floquet_modes_table on the grid
floquet_master_equation_rates integrates on, and qutip.floquet_master_equation_rates once per bath (QuTiP
takes one temperature per call), kmax = KMAX. From its Delta, Gamma and A this script builds the fully
secular Pauli equation for the Floquet populations, solves it, and computes each bath's current.

Mapping of conventions (derived from /usr/lib/python3/dist-packages/qutip/floquet.py, QuTiP 4.7.1):
  QuTiP:  X[a,b,k]     = (1/T) sum_{j=1..nT} dT <phi_a(t_j)|c|phi_b(t_j)> e^{-i k w_d t_j}
                         (periodic rectangle rule on nT = max(20 kmax, 100) points, modes looked up in the
                         table: the table must hold exactly nT + 1 points on [0, T], else the lookup returns
                         the nearest earlier sample),
          Delta[a,b,k] = eps_a - eps_b + k w_d,
          Gamma[a,b,k] = 2 pi theta(Delta) J_cb(Delta) |X[a,b,k]|^2     (J_cb only ever sees Delta > 0),
          A[a,b]       = sum_k (1 + n(|Delta|)) Gamma[a,b,k] + n(|Delta|) Gamma[b,a,-k],
  and floquet_master_equation_tensor gives d p_b/dt = sum_a A[a,b] p_a - (sum_a A[b,a]) p_b, so A[a,b] is
  the rate a -> b. In the interaction picture <psi_b(t)|c|psi_a(t)> = sum_k conj(X[a,b,k]) e^{-i Delta t}
  (c Hermitian): the jump a -> b through harmonic k hands the bath the energy Delta[a,b,k] (> 0: emission,
  < 0: absorption of |Delta|). Its rate in QuTiP is 2 pi J_cb(|Delta|)(1 + n)|X|^2 resp.
  2 pi J_cb(|Delta|) n |X|^2 (the second from Gamma[b,a,-k], |X[b,a,-k]| = |X[a,b,k]| for Hermitian c).
  qheat (methods.md): rate(b -> a) = sum_k kappa~(Delta)|X_ab(k)|^2 with the same X and Delta = eps_b - eps_a
  - k w_d, i.e. QuTiP's Delta[b,a,-k]; kappa~ = kappa (1 + n) for Delta > 0, kappa(|Delta|) n(|Delta|) for
  Delta < 0. Hence the two agree iff
          J_cb(w) = kappa(w) / (2 pi) for w > 0 (any value for w <= 0: QuTiP's Heaviside removes it),
  i.e. QuTiP's J_cb here is a spectral density without thermal factors and without the 2 pi, NOT the
  noise-power spectrum kappa~ that bloch_redfield_tensor takes (tests/python/qutip_reference.py); QuTiP
  adds n and n + 1 itself, with n_thermal(|Delta|, w_th), w_th = the bath's temperature.
  Currents: J_bath = -sum_{a,b,k} Delta[a,b,k] r_bath(a -> b, k) p_a (heat INTO the system from that bath),
  the a -> a terms with k != 0 included (they move energy between drive and bath without a jump); the
  drive power is -(J_l + J_r).
  Gauge: QuTiP's modes are phi_a(t) = U(t) phi_a(0) e^{i eps_a t} with eps_a folded into [-w_d/2, w_d/2];
  qheat unfolds eps_a by a multiple m_a w_d. That relabels k -> k + m_b - m_a in X_ab(k) and shifts Delta
  by the same multiple of w_d, so the set of (Delta, |X|^2) per pair, the rates and the currents do not
  change, and the quasienergies agree modulo w_d.

Checks: quasienergies modulo w_d to TOL_QUASI, both currents to TOL_CURRENT relative, and qheat's drive
power against -(J_l + J_r) of QuTiP to TOL_CURRENT of max|J|. The script also checks that its own use of
QuTiP's output is right (its per-harmonic rates summed over k reproduce QuTiP's A to 1e-12) and that the
comparison can discriminate: the a -> a sideband terms and the per-bath temperatures each move a current by
far more than the tolerance (printed, and required to exceed 100 TOL_CURRENT).
Exit code 0 when every case agrees.
"""
import argparse
import json
import math
import subprocess
import sys

import numpy as np
import qutip
from qutip_reference import example_path, pauli_currents

# Measured (QuTiP 4.7.1, atol = rtol = 1e-12, KMAX = 20; qheat's release build): currents agree to 2.6e-11
# relative with the Sambe modes and to 9.7e-10 with the propagator's (whose step control targets 1e-10 w_d
# in the quasienergies, methods.md); quasienergies to 3.4e-13 (Sambe) and 4.3e-11 (propagator). QuTiP's
# accuracy is set by its ODE tolerance: at atol = rtol = 1e-10 the currents move by 4e-9 relative, at 1e-12
# by ~1e-11. Its quadrature (nT = 20 KMAX = 400 points) is exact to round-off for these modes, whose Fourier
# weights fall off like (eta/omega_d)^(2|k|) (KMAX 20 -> 30 moves the currents by 5e-12). 1e-8 leaves a
# factor 10 over the worst measured deviation, while a wrong factor (2 pi, a thermal factor, a temperature,
# a missing sideband) changes a current by 1e-4 or more (measured: 2 pi 0.84, sidebands >= 0.11, swapped
# temperatures >= 0.07).
TOL_QUASI = 1e-8      # absolute, in the model's energy unit, modulo omega_d
TOL_CURRENT = 1e-8    # relative
KMAX = 20
ODE = dict(atol=1e-12, rtol=1e-12, nsteps=10**7)

FILE_PARAMS = dict(eps=1.0, eta=0.1, omega_d=0.7, alpha=0.001, omega_c=10.0, T_l=1.2, T_r=0.4)
CASES = (("defaults", {}), ("strong drive", {"eta": 0.6, "omega_d": 0.45}))


def run_qheat(exe, path, solver, sets):
    cmd = [exe, "ness", path, "--method", "floquet", "--floquet-solver", solver]
    for k, v in sets.items():
        cmd += ["--set", f"{k}={v!r}"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {out.returncode}: {out.stderr.strip()}")
    return json.loads(out.stdout)


def qutip_reference(p, kmax=KMAX):
    """Quasienergies (QuTiP's, folded), currents per bath and the discrimination checks for parameters p."""
    wd = p["omega_d"]
    T = 2 * math.pi / wd
    eta = p["eta"]
    H = [0.5 * p["eps"] * qutip.sigmaz(), [qutip.sigmax(), lambda t, args: eta * math.cos(wd * t)]]
    opts = qutip.Options(**ODE)
    f_modes_0, f_energies = qutip.floquet_modes(H, T, {}, options=opts)
    nT = max(20 * kmax, 100)  # the grid floquet_master_equation_rates integrates on; the table must match it
    table = qutip.floquet_modes_table(f_modes_0, f_energies, np.linspace(0, T, nT + 1), H, T, {}, options=opts)
    gamma = math.pi * p["alpha"]

    def J_cb(w):  # QuTiP's J_cb = kappa / (2 pi), w > 0 (see the docstring)
        return gamma * w * math.exp(-w / p["omega_c"]) / (2 * math.pi) if w > 0 else 0.0

    total = 0.0
    swapped_total = 0.0
    energy = {}          # bath -> sum_k Delta r(a -> b, k)
    energy_no_diag = {}  # the same without the a -> a sidebands
    energy_swapped = {}  # each bath at the other bath's temperature (what one temperature per call would risk)
    temps = {"l": p["T_l"], "r": p["T_r"]}
    for name, Tb in temps.items():
        Delta, X, Gamma, A = qutip.floquet_master_equation_rates(
            f_modes_0, f_energies, qutip.sigmax(), H, T, {}, J_cb, Tb, kmax, table)
        energy[name], rate_sum = energy_flow(Delta, Gamma, Tb)
        scale = np.max(np.abs(A))
        if np.max(np.abs(rate_sum - A)) > 1e-12 * scale:
            raise AssertionError(f"bath {name}: per-harmonic rates do not add up to QuTiP's A "
                                 f"({np.max(np.abs(rate_sum - A)):.2e}): the reading of QuTiP's A is wrong")
        total = total + A
        e = energy[name].copy()
        np.fill_diagonal(e, 0.0)
        energy_no_diag[name] = e
        # Gamma does not depend on the temperature: the same Gamma at the other bath's temperature
        energy_swapped[name], swapped_rate = energy_flow(Delta, Gamma, temps["r" if name == "l" else "l"])
        swapped_total = swapped_total + swapped_rate
    _, J = pauli_currents(total, energy)
    _, J_no_diag = pauli_currents(total, energy_no_diag)
    _, J_swapped = pauli_currents(swapped_total, energy_swapped)
    return np.array(f_energies), J, J_no_diag, J_swapped


def energy_flow(Delta, Gamma, Tb):
    """(sum_k Delta r(a -> b, k), sum_k r(a -> b, k)) from QuTiP's Delta and Gamma at temperature Tb:
    r(a -> b, k) = (1 + n) Gamma[a,b,k] + n Gamma[b,a,-k], n = n_thermal(|Delta[a,b,k]|, Tb) (QuTiP's own)."""
    n = np.vectorize(lambda x: qutip.n_thermal(abs(x), Tb))(Delta)
    rate = (1.0 + n) * Gamma + n * Gamma.transpose(1, 0, 2)[:, :, ::-1]
    return (Delta * rate).sum(axis=2), rate.sum(axis=2)


def folded_distance(x, y, wd):
    return abs((x - y + 0.5 * wd) % wd - 0.5 * wd)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qheat", required=True)
    args = ap.parse_args()
    path = example_path("kong2026/cosine_qubit.toml")
    failures = 0
    cases = 0
    worst = {"quasienergy": 0.0, "current": 0.0}
    for label, sets in CASES:
        p = dict(FILE_PARAMS, **sets)
        qe_ref, J_ref, J_no_diag, J_swapped = qutip_reference(p)
        jscale = max(abs(v) for v in J_ref.values())
        # The comparison must be able to tell the right answer from plausible wrong ones.
        power = {
            "a->a sidebands dropped": max(abs(J_no_diag[b] - J_ref[b]) / abs(J_ref[b]) for b in J_ref),
            "bath temperatures swapped": max(abs(J_swapped[b] - J_ref[b]) / abs(J_ref[b]) for b in J_ref),
        }
        print(f"{label} (eta = {p['eta']}, omega_d = {p['omega_d']}): QuTiP J_l = {J_ref['l']:.12e}, "
              f"J_r = {J_ref['r']:.12e}; quasienergies {np.sort(qe_ref)}; "
              + ", ".join(f"{k}: {v:.1e}" for k, v in power.items()))
        for name, v in power.items():
            cases += 1
            if v < 100 * TOL_CURRENT:
                print(f"  FAIL: '{name}' changes the currents by only {v:.1e}: the test cannot see it")
                failures += 1
        for solver in ("sambe", "propagator"):
            cases += 1
            problems = []
            try:
                res = run_qheat(args.qheat, path, solver, sets)
            except RuntimeError as e:
                print(f"  {solver}: qheat failed: {e}")
                failures += 1
                continue
            for name, value in p.items():
                if res["parameters"][name] != value:
                    problems.append(f"qheat used {name} = {res['parameters'][name]}, expected {value}")
            if res["steady_state"]["status"] != "converged":
                problems.append(f"steady state status {res['steady_state']['status']}")
            fl = res["floquet"]
            if fl["solver"] != solver:
                problems.append(f"floquet.solver = {fl['solver']}")
            qe = np.array(fl["quasienergies"])
            wd = p["omega_d"]
            if len(qe) != len(qe_ref):
                problems.append(f"{len(qe)} quasienergies, QuTiP {len(qe_ref)}")
                err_q = math.inf
            else:
                # one-to-one: each QuTiP quasienergy matched to a distinct qheat one
                err_q = 0.0
                unused = list(qe)
                for y in qe_ref:
                    j = min(range(len(unused)), key=lambda i: folded_distance(unused[i], y, wd))
                    err_q = max(err_q, folded_distance(unused.pop(j), y, wd))
                if any(not (-0.5 * wd <= x < 0.5 * wd) for x in qe):
                    problems.append("quasienergies not folded into [-w_d/2, w_d/2)")
            err_j = max(abs(res["currents"][b] - J_ref[b]) / abs(J_ref[b]) for b in J_ref)
            err_p = abs(res["drive_power"] + J_ref["l"] + J_ref["r"]) / jscale
            worst["quasienergy"] = max(worst["quasienergy"], err_q)
            worst["current"] = max(worst["current"], err_j, err_p)
            if err_q > TOL_QUASI:
                problems.append(f"quasienergies differ by {err_q:.2e}")
            if err_j > TOL_CURRENT:
                problems.append(f"currents differ by {err_j:.2e} relative")
            if err_p > TOL_CURRENT:
                problems.append(f"drive power differs from -(J_l + J_r) of QuTiP by {err_p:.2e} of max|J|")
            failures += 1 if problems else 0
            print(f"  {solver:10s} (harmonics {fl['harmonics']}): J_l = {res['currents']['l']:.12e}, "
                  f"J_r = {res['currents']['r']:.12e}; quasienergy error {err_q:.1e}, rel. current error "
                  f"{err_j:.1e}, drive power error {err_p:.1e} "
                  f"{'ok' if not problems else 'FAIL: ' + '; '.join(problems)}")
    print(f"worst deviations: quasienergy {worst['quasienergy']:.2e} (tolerance {TOL_QUASI:g}), current "
          f"{worst['current']:.2e} relative (tolerance {TOL_CURRENT:g})")
    print(f"{cases - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
