#!/usr/bin/python3
"""Kato & Tanimura 2016 two-qubit heat transport: J_left against the bath coupling lam, HEOM vs Markovian methods.

Model examples/kato2016/two_qubits.toml (README.md there: the mapping to Kato-Tanimura and QuTiP's HEOM example):
H_S = (eps/2)(sz1 + 1) + (eps/2)(sz2 + 1) + J12 (s+1 s-2 + h.c.), sigma_x-coupled Drude baths of reorganisation
energy lam and cutoff gamma_c = 2 eps, T_L,R = T (1 +- dT), eps = 1, T = 2, dT = 0.01. J12 = 0.01, 0.1, 0.5
(colours), lam = 1e-3 .. 1 (log). (a) J_left (heat from the hot left bath into the system): HEOM (markers),
Bloch-Redfield with Lamb shift (`redfield`, solid), global Davies (`global`, dashed), local Lindblad (`local`,
dotted); the Markovian curves from qheat.sweep(vary={"lam": "log:..."}). (b) |J - J_HEOM| / J_HEOM of each
Markovian method at the HEOM points.

HEOM: model.solve("heom", heom_depth=D, heom_terms=K, threads=1) (Pade, terminator on; `qheat ness --method heom`),
two points at a time (--jobs 1: one) in threads of this process, with a fixed hierarchy per range of lam taken from
the convergence tables (docs/methods.md, "HEOM convergence tables"; HIERARCHY below). --quick: three values of lam,
depth 2 with 1 term (not converged; a smoke test of the script only).

    /usr/bin/python3 examples/kato2016/fig_current_coupling.py [--build build/release] [--out docs/gallery] [--quick]
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gallery_common import argument_parser, column, heom_currents, heom_point, heom_pool, run_sweep, save  # noqa: E402

MODEL = "examples/kato2016/two_qubits.toml"
J12 = ((0.01, "tab:blue", "o"), (0.1, "tab:orange", "s"), (0.5, "tab:green", "^"))
METHODS = (("redfield", "-", "Bloch-Redfield"), ("global", "--", "global"), ("local", ":", "local"))
# (largest lam, depth, Pade terms), from docs/methods.md, "HEOM convergence tables": raising the depth or the terms by one
# changes J by <= 3e-5 relative for lam <= 0.1, 7e-5 at lam = 0.32 and 2e-4 (terms) at lam = 1
HIERARCHY = ((0.02, 4, 3), (0.12, 7, 3), (0.6, 9, 3), (1.0, 10, 3))
LAM_HEOM = 10.0 ** np.linspace(-3, 0, 13)


def hierarchy(lam, quick):
    if quick:
        return 2, 1
    for top, depth, terms in HIERARCHY:
        if lam <= top * (1 + 1e-9):
            return depth, terms
    raise ValueError(f"no hierarchy for lam = {lam}")



def run_heom(args, pool, jobs):
    """J_left of every job (sets, depth, terms); reports failures, non-converged solves and diagnostics."""
    results = pool.map(heom_point, [(args, MODEL, sets, d, k, "left") for sets, d, k in jobs])
    return heom_currents(results)


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    lam_heom = np.array((1e-3, 1e-2, 1e-1)) if args.quick else LAM_HEOM
    lam_text = [f"{x:.6g}" for x in lam_heom]
    j12_list = ",".join(str(j) for j, _, _ in J12)
    methods = [m for m, _, _ in METHODS]
    curves = run_sweep(args, MODEL, [f"J12={j12_list}", f"lam=log:1e-3:1:{9 if args.quick else 61}"], methods)
    at = run_sweep(args, MODEL, [f"J12={j12_list}", "lam=" + ",".join(lam_text)], methods)
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 5.5))
    with heom_pool(args) as pool:
        # the expensive (large lam) points first so that the pool stays busy
        jobs = [(j12, k) for k in reversed(range(len(lam_heom))) for j12, _, _ in J12]
        values = run_heom(args, pool, [([f"J12={j12}", f"lam={lam_text[k]}"],) + hierarchy(lam_heom[k], args.quick)
                                       for j12, k in jobs])
    heom = {(j12, k): v for (j12, k), v in zip(jobs, values)}
    for j12, colour, mk in J12:
        jh = np.array([heom[(j12, k)] for k in range(len(lam_heom))])
        lam = np.array(column(curves, "lam", method="redfield", J12=j12))
        a.plot(lam_heom, jh, color=colour, marker=mk, ls="none", ms=6, mfc="none")
        for m, ls, name in METHODS:
            a.plot(lam, column(curves, "J_left", method=m, J12=j12), color=colour, ls=ls, lw=1.2)
            jm = np.array(column(at, "J_left", method=m, J12=j12))
            dev = (jm - jh) / jh
            b.plot(lam_heom, np.abs(dev), color=colour, ls=ls, marker=mk, ms=4, mfc="none", lw=1.2)
            print(f"J12={j12} {name}: (J - J_HEOM)/J_HEOM = " +
                  ", ".join(f"{x:.3g}:{d:+.2e}" for x, d in zip(lam_heom, dev)))
        k = int(np.nanargmax(jh))
        print(f"J12={j12} HEOM: J_left = " + ", ".join(f"{x:.3g}:{v:.5e}" for x, v in zip(lam_heom, jh)) +
              f"; maximum {jh[k]:.4g} at lam = {lam_heom[k]:.3g}")
    a.set(xscale="log", yscale="log", xlabel=r"coupling $\lambda$", ylabel=r"$J_\mathrm{left}$",
          title=r"(a) Kato-Tanimura two qubits: $\varepsilon=1$, $\gamma_c=2$, $T=2(1\pm0.01)$" +
          ("" if args.quick else "\nHEOM (markers): depth 4/7/9/10 for $\\lambda\\leq$ 0.02/0.12/0.6/1, 3 Padé terms"))
    # one legend entry per J12 (colour, marker) and per method (line style)
    for j12, colour, mk in J12:
        for ax in (a, b):
            ax.plot([], [], color=colour, marker=mk, mfc="none", ls="none", label=f"$J_{{12}}={j12}$")
    a.plot([], [], "k", marker="o", mfc="none", ls="none", label="HEOM")
    for m, ls, name in METHODS:
        for ax in (a, b):
            ax.plot([], [], "k", ls=ls, label=name)
    a.legend(fontsize=8, ncol=2, loc="lower left")
    b.set(xscale="log", yscale="log", xlabel=r"coupling $\lambda$",
          ylabel=r"$|J - J_\mathrm{HEOM}| / J_\mathrm{HEOM}$",
          title="(b) relative deviation from HEOM")
    b.legend(fontsize=8, ncol=2, loc="upper left")
    save(fig, args, "kato2016_current_coupling")


if __name__ == "__main__":
    main()
