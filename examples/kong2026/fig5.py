#!/usr/bin/python3
"""Kong et al. 2026, Fig. 5: energy current J_r into the right reservoir of the driven Kerr resonator (eq. 15).

(a) vs the driving frequency omega_d at eta = 0.1, (b) vs the driving amplitude eta at omega_d = 0.5;
eps = 1, chi = 0.4, alpha = 0.001, omega_c = 10, T_l = 1.2, T_r = 0.4 (the model file's defaults).
Methods: dDME (`ddme`), traditional DME (`dme`), Floquet-Markov ME (`floquet`, on a coarser grid: it costs
~0.2 s a point here). Fock truncation nmax = 8 instead of the model file's 30: over both panels the currents
change by < 2e-8 of their maximum between nmax = 8 and nmax = 20-24 (docs/gallery/kong2026.md).
Kong's J_r is the energy INTO reservoir r: J_r(Kong) = -J_r(qheat) (docs/conventions.md).

    /usr/bin/python3 examples/kong2026/fig5.py [--quick]
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gallery_common import argument_parser, column, run_sweep, save  # noqa: E402

MODEL = "examples/kong2026/kerr.toml"
NMAX = 8
EPS, CHI = 1.0, 0.4
STYLE = {"ddme": dict(color="k", ls="-", label="dDME (ddme)"),
         "dme": dict(color="r", ls="--", label="DME (dme)"),
         "floquet": dict(color="C0", ls="none", marker="o", ms=4, mfc="none", label="FME (floquet)")}


def values(name, xs):
    return f"{name}=" + ",".join(f"{x:.6g}" for x in sorted(set(np.round(xs, 6))))


def kong_jr(rows, method):
    return -np.array(column(rows, "J_r", method=method))


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    sets = [f"nmax={NMAX}"]
    if args.quick:
        w_fine, w_coarse = np.linspace(0.05, 2.0, 14), np.linspace(0.05, 2.0, 6)
        e_fine, e_coarse = np.linspace(0.005, 0.5, 8), np.linspace(0.005, 0.5, 4)
    else:
        # Narrow multiphoton resonances: 0->2 at omega_d = eps + chi (width ~1e-2) and 0->3 at eps + 2 chi
        # (width ~1e-3, on top of the 1->2 line): refine around both.
        w_fine = np.concatenate([np.linspace(0.05, 2.0, 391), np.linspace(1.38, 1.42, 41),
                                 np.linspace(1.795, 1.805, 101)])
        w_coarse = np.concatenate([np.linspace(0.05, 2.0, 40), [1.395, 1.4, 1.405, 1.7995, 1.8005]])
        e_fine, e_coarse = np.linspace(0.005, 0.5, 100), np.linspace(0.005, 0.5, 23)

    w_fine, e_fine = np.concatenate([w_fine, w_coarse]), np.concatenate([e_fine, e_coarse])  # FME points too
    lines_w = run_sweep(args, MODEL, [values("omega_d", w_fine)], ["ddme", "dme"], sets=sets + ["eta=0.1"])
    fme_w = run_sweep(args, MODEL, [values("omega_d", w_coarse)], "floquet", sets=sets + ["eta=0.1"])
    lines_e = run_sweep(args, MODEL, [values("eta", e_fine)], ["ddme", "dme"], sets=sets + ["omega_d=0.5"])
    fme_e = run_sweep(args, MODEL, [values("eta", e_coarse)], "floquet", sets=sets + ["omega_d=0.5"])

    fig, ax = plt.subplots(1, 2, figsize=(11, 4.3))
    for m in ("ddme", "dme"):
        ax[0].plot(column(lines_w, "omega_d", method=m), kong_jr(lines_w, m), **STYLE[m])
        ax[1].plot(column(lines_e, "eta", method=m), kong_jr(lines_e, m), **STYLE[m])
    ax[0].plot(column(fme_w, "omega_d"), kong_jr(fme_w, "floquet"), **STYLE["floquet"])
    ax[1].plot(column(fme_e, "eta"), kong_jr(fme_e, "floquet"), **STYLE["floquet"])
    # Kerr resonances E_m - E_n = k omega_d of H_S, E_n = eps n + chi n(n-1): 0->1, 0->2 (two-photon),
    # 1->2 together with 0->3 (three-photon).
    for w, name in ((EPS, r"$0\to1$"), (EPS + CHI, r"$0\to2$"), (EPS + 2 * CHI, r"$1\to2$, $0\to3$")):
        ax[0].axvline(w, color="0.6", lw=0.7, ls=":")
        ax[0].text(w, 0.97, name, transform=ax[0].get_xaxis_transform(), ha="center", va="top", fontsize=8,
                   backgroundcolor="w")
    ax[0].set(xlabel=r"$\omega_d$", ylabel=r"$J_r$", title=r"(a) Kerr resonator, $\eta=0.1$, $\chi=0.4$")
    ax[1].set(xlabel=r"$\eta$", ylabel=r"$J_r$", title=r"(b) Kerr resonator, $\omega_d=0.5$, $\chi=0.4$")
    for a in ax:
        a.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        a.legend(loc="center left")
    save(fig, args, "kong2026_fig5")

    # dDME vs FME on the FME points (both grids contain them).
    for lines, fme, x in ((lines_w, fme_w, "omega_d"), (lines_e, fme_e, "eta")):
        d = dict(zip(np.round(column(lines, x, method="ddme"), 6), kong_jr(lines, "ddme")))
        f = kong_jr(fme, "floquet")
        dd = np.array([d[v] for v in np.round(column(fme, x), 6)])
        ratio = kong_jr(lines, "dme") / kong_jr(lines, "ddme")
        print(f"{x}: max |dDME - FME| / max|J_r| = {np.max(np.abs(dd - f)) / np.max(np.abs(dd)):.1e}; "
              f"DME / dDME {ratio[np.argmin(column(lines, x, method='ddme'))]:.3f} at the smallest {x}, "
              f"{ratio[np.argmax(column(lines, x, method='ddme'))]:.3f} at the largest")


if __name__ == "__main__":
    main()
