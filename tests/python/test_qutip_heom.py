#!/usr/bin/env python3
"""Independent reference: qheat's HEOM (`--method heom`) against QuTiP 4.7's HEOMSolver on identical
hierarchies -- the same exponents (Drude pole plus Nk Pade or Matsubara terms), the same depth and the same
terminator -- for the Kato-Tanimura two-qubit model (examples/kato2016/two_qubits.toml) and the Zhang model
(examples/zhang2025/two_qubits.toml).

Mapping (docs/methods.md eq. H1): qheat's drude bath kappa(w) = gamma w / (1 + (w/wD)^2) is QuTiP's
DrudeLorentz(Pade)Bath with lam = gamma wD / 4 and gamma_QuTiP = wD, Q the bath's operator S.

QuTiP side: steady state of HEOMSolver(liouvillian(H) + terminators, baths, max_depth).steady_state(); the
currents are computed here from QuTiP's own auxiliary operators with the bath heat current of Kato &
Tanimura (docs/methods.md eq. H6), heat into the system:
    J_a = -sum_k nu_k Tr[Q rho_k] + 2 Im C(0) Tr[Q^2 rho] + Delta Tr[[Q, [H, Q]] rho],
over the first-tier ADOs rho_k of bath a (QuTiP combines the Drude pole's real and imaginary parts into one
"RI" exponent c = ck + i ck2, like qheat's single complex term).
Also compared: the reduced state rho (max element difference) and the exponents themselves.

Tolerances: currents 1e-8 relative (the issue's target; both sides solve the same linear system, QuTiP by
SuperLU, qheat by GMRES to a 1e-14 relative residual -- measured agreement 1e-11 or better), rho 1e-10
absolute (its elements are O(0.1-1)).
"""
import argparse
import sys

import numpy as np
import qutip
from qutip.nonmarkov.heom import DrudeLorentzBath, DrudeLorentzPadeBath, HEOMSolver

from qutip_reference import example_path, run_qheat, site_op

TOL_CURRENT = 1e-8
TOL_RHO = 1e-10


def kato_model(p):
    sz, sp, sm, sx = qutip.sigmaz(), qutip.sigmap(), qutip.sigmam(), qutip.sigmax()
    I = qutip.qeye(2)
    eps, J12 = p["eps"], p["J12"]
    H = 0.5 * eps * (qutip.tensor(sz, I) + 1) + 0.5 * eps * (qutip.tensor(I, sz) + 1) + J12 * (
        qutip.tensor(sp, sm) + qutip.tensor(sm, sp))
    lam, wc, T, dT = p["lam"], 2 * eps, p["T"], p["dT"]
    return H, [("left", qutip.tensor(sx, I), lam, wc, T * (1 + dT)),
               ("right", qutip.tensor(I, sx), lam, wc, T * (1 - dT))]


def zhang_model(p):
    sz, sx = qutip.sigmaz(), qutip.sigmax()
    H = 0.5 * p["eps1"] * site_op(sz, 0, 2) + 0.5 * p["eps2"] * site_op(sz, 1, 2) + p["g"] * site_op(sx, 0, 2) * site_op(
        sx, 1, 2)
    wD = p["omega_D"]
    lam = 2 * p["gamma"] * wD / 4  # kappa gamma = 2 gamma_Zhang
    return H, [("hot", site_op(sx, 0, 2), lam, wD, p["T1"]), ("cold", site_op(sx, 1, 2), lam, wD, p["T2"])]


def qutip_heom(H, baths, depth, nk, decomposition, terminator):
    L = qutip.liouvillian(H)
    qbaths, deltas = [], []
    for name, Q, lam, wc, T in baths:
        cls = DrudeLorentzPadeBath if decomposition == "pade" else DrudeLorentzBath
        b = cls(Q, lam, wc, T, nk, tag=name)
        delta, term = b.terminator()
        deltas.append(delta)
        if terminator:
            L = L + term
        qbaths.append(b)
    solver = HEOMSolver(L, qbaths, max_depth=depth)
    rho, ados = solver.steady_state()
    currents = {}
    for (name, Q, lam, wc, T), delta in zip(baths, deltas):
        j = 0.0
        cI0 = 0.0
        for label in ados.filter(level=1, tags=[name]):
            [exp] = ados.exps(label)
            j -= exp.vk * (Q * ados.extract(label)).tr()
        for exp in [e for e in ados.exponents if e.tag == name]:
            if exp.type == exp.types.I:
                cI0 += exp.ck
            elif exp.type == exp.types.RI:
                cI0 += exp.ck2
        j += 2 * cI0 * (Q * Q * rho).tr()
        if terminator:
            dQ = qutip.commutator(Q, qutip.commutator(H, Q))
            j += np.real(delta) * (dQ * rho).tr()
        currents[name] = float(np.real(j))
    return rho.full(), currents, ados.exponents


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qheat", required=True)
    args = ap.parse_args()
    cases = [
        # (label, example, builder, parameters, sets, depth, Nk, decomposition, terminator)
        ("kato lam=0.1 J12=0.1", "kato2016/two_qubits.toml", kato_model,
         dict(eps=1.0, J12=0.1, lam=0.1, T=2.0, dT=0.01), (), 4, 2, "pade", True),
        ("kato lam=0.5 J12=0.5 matsubara", "kato2016/two_qubits.toml", kato_model,
         dict(eps=1.0, J12=0.5, lam=0.5, T=2.0, dT=0.01), (("lam", 0.5), ("J12", 0.5)), 4, 2, "matsubara", True),
        ("kato lam=0.02 no terminator", "kato2016/two_qubits.toml", kato_model,
         dict(eps=1.0, J12=0.01, lam=0.02, T=2.0, dT=0.01), (("lam", 0.02), ("J12", 0.01)), 3, 1, "pade", False),
        ("zhang fig3 point", "zhang2025/two_qubits.toml", zhang_model,
         dict(eps1=5.0, eps2=4.0, g=0.5, gamma=0.01, omega_D=50.0, T1=10.0, T2=5.0), (), 3, 1, "pade", True),
    ]
    failures = 0
    worst_j = worst_rho = 0.0
    for label, example, builder, p, sets, depth, nk, dec, term in cases:
        H, baths = builder(p)
        rho_q, J_q, _ = qutip_heom(H, baths, depth, nk, dec, term)
        extra = ["--heom-depth", str(depth), "--heom-terms", str(nk), "--heom-decomposition", dec,
                 "--heom-terminator", "ishizaki-tanimura" if term else "off"]
        # ADO 0's preconditioner both ways (--heom-schur: the dense factors these sizes get, and GMRES on B0 with its
        # secular part, which larger systems get): the same hierarchy, so the same tolerances against QuTiP.
        for schur in ("auto", "iterative"):
            res, rho = run_qheat(args.qheat, example_path(example), "heom", sets, extra + ["--heom-schur", schur])
            assert res["heom"]["schur"]["solver"] == {"auto": "dense"}.get(schur, schur)
            err_j = max(abs(res["currents"][b] - J_q[b]) / abs(J_q[b]) for b in J_q)
            err_rho = float(np.max(np.abs(rho - rho_q)))
            worst_j, worst_rho = max(worst_j, err_j), max(worst_rho, err_rho)
            ok = err_j <= TOL_CURRENT and err_rho <= TOL_RHO
            failures += 0 if ok else 1
            print(f"{label} ({res['heom']['schur']['solver']} B0): depth {depth}, Nk {nk} {dec}, ADOs {res['heom']['ados']}: "
                  + ", ".join(f"J[{b}] qheat {res['currents'][b]:.12e} QuTiP {J_q[b]:.12e}" for b in J_q)
                  + f"; rel. current error {err_j:.1e}, rho error {err_rho:.1e} {'ok' if ok else 'FAIL'}")
    print(f"worst: current {worst_j:.2e} relative (tolerance {TOL_CURRENT:g}), rho {worst_rho:.2e} "
          f"(tolerance {TOL_RHO:g})")
    print(f"{2 * len(cases) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
