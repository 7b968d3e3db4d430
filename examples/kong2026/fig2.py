#!/usr/bin/python3
"""Kong et al. 2026, Fig. 2: energy current J_r into the right reservoir of the driven NESB model.

(a) vs the driving frequency omega_d at eta = 0.1, (b) vs the driving amplitude eta at omega_d = 0.7;
eps = 1, alpha_l = alpha_r = 0.001, omega_c = 10, T_l = 1.2, T_r = 0.4 (the model file's defaults).
Methods: dDME (Kong eq. 6, `ddme`), traditional DME (eq. 8, `dme`) and the Floquet-Markov ME (`floquet`).
Kong's J_r is the energy INTO reservoir r: J_r(Kong) = -J_r(qheat) (docs/conventions.md).
Panel (a) also shows Kong's closed form eq. (29) with its populations as printed (P_+ = Gamma_+/(Gamma_+ +
Gamma_-)); with the populations that balance eq. 29's own rates it coincides with the dDME
(docs/methods.md, "Kong eq. 29 (NESB closed form) checked"); the script prints both deviations.

    /usr/bin/python3 examples/kong2026/fig2.py [--quick]
"""
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gallery_common import argument_parser, column, run_sweep, save  # noqa: E402

MODEL = "examples/kong2026/nesb.toml"
METHODS = ["ddme", "dme", "floquet"]
STYLE = {"ddme": dict(color="k", ls="-", label="dDME (ddme)"),
         "dme": dict(color="r", ls="--", label="DME (dme)"),
         "floquet": dict(color="C0", ls="none", marker="o", ms=4, mfc="none", label="FME (floquet)")}


EPS, ALPHA, OMEGA_C, T_L, T_R = 1.0, 0.001, 10.0, 1.2, 0.4   # nesb.toml's defaults


def eq29_jr(wd, eta, printed):
    """Kong eq. 29b (J_r into reservoir r) with the rates of eqs. 27-28. theta = atan2(eta, Delta) in (0, pi),
    the branch that makes |phi_+> the eigenvector of E_+ also for Delta = eps - omega_d < 0."""
    delta = EPS - wd
    lam, th = math.hypot(delta, eta), math.atan2(eta, delta)
    c4, s4, sc = math.cos(th / 2) ** 4, math.sin(th / 2) ** 4, (math.sin(th / 2) * math.cos(th / 2)) ** 2

    def gam(x):  # gamma_mu(w) = pi alpha theta(w) w exp(-w / omega_c)
        return math.pi * ALPHA * x * math.exp(-x / OMEGA_C) if x > 0 else 0.0

    def down(x, T):  # Gamma_-: gamma (1 + n)
        return gam(x) * (1 + 1 / math.expm1(x / T)) if x > 0 else 0.0

    def up(x, T):  # Gamma_+: gamma n
        return gam(x) / math.expm1(x / T) if x > 0 else 0.0

    def rates(T):  # (-, wd+L), (+, wd+L), (-, wd-L), (+, wd-L), (-, wd), (+, wd)
        return (c4 * down(wd + lam, T), c4 * up(wd + lam, T), s4 * down(wd - lam, T), s4 * up(wd - lam, T),
                sc * down(wd, T), sc * up(wd, T))
    rl, rr = rates(T_L), rates(T_R)
    if printed:  # P_+ = Gamma_+ / (Gamma_+ + Gamma_-), Gamma_+- summed over mu and the channels wd +- Lambda
        gp = rl[1] + rl[3] + rr[1] + rr[3]
        gm = rl[0] + rl[2] + rr[0] + rr[2]
    else:        # balance of the rates eq. 29's currents use: into |phi_+> through Gamma_+(wd+L), Gamma_-(wd-L)
        gp = rl[1] + rl[2] + rr[1] + rr[2]
        gm = rl[0] + rl[3] + rr[0] + rr[3]
    pp, pm = gp / (gp + gm), gm / (gp + gm)
    r = rr
    return ((wd + lam) * (r[0] * pp - r[1] * pm) + (wd - lam) * (r[2] * pm - r[3] * pp) + wd * (r[4] - r[5]))


def kong(rows, bath, method):
    """Kong's J_mu (energy into reservoir mu) = -qheat's J_mu."""
    return -np.array(column(rows, "J_" + bath, method=method))


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    n_w, n_e = (12, 10) if args.quick else (116, 100)
    rows_w = run_sweep(args, MODEL, [f"omega_d=0.05:1.2:{n_w}"], METHODS, sets=["eta=0.1"])
    rows_e = run_sweep(args, MODEL, [f"eta=0.005:0.5:{n_e}"], METHODS, sets=["omega_d=0.7"])

    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    for m in METHODS:
        every = dict(markevery=max(1, n_w // 40)) if m == "floquet" else {}
        ax[0].plot(column(rows_w, "omega_d", method=m), kong(rows_w, "r", m), **STYLE[m], **every)
        every = dict(markevery=max(1, n_e // 40)) if m == "floquet" else {}
        ax[1].plot(column(rows_e, "eta", method=m), kong(rows_e, "r", m), **STYLE[m], **every)
    wds = np.array(column(rows_w, "omega_d", method="ddme"))
    printed = np.array([eq29_jr(w, 0.1, True) for w in wds])
    balanced = np.array([eq29_jr(w, 0.1, False) for w in wds])
    ax[0].plot(wds, printed, color="0.5", ls=":", lw=1.5, label="eq. (29) as printed")
    ax[0].set(xlabel=r"$\omega_d$", ylabel=r"$J_r$", title=r"(a) NESB, $\eta=0.1$")
    ax[1].set(xlabel=r"$\eta$", ylabel=r"$J_r$", title=r"(b) NESB, $\omega_d=0.7$")
    for a in ax:
        a.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        a.legend()
    save(fig, args, "kong2026_fig2")
    for rows, name in ((rows_w, "(a)"), (rows_e, "(b)")):
        dd, dme, fme = (kong(rows, "r", m) for m in METHODS)
        print(f"{name} max |dDME - FME| / max J_r = {np.max(np.abs(dd - fme)) / np.max(np.abs(dd)):.1e}; "
              f"DME / dDME ranges {np.min(dme / dd):.3f} .. {np.max(dme / dd):.3f}")
    dd = kong(rows_w, "r", "ddme")
    print(f"(a) dDME peak at omega_d = {wds[np.argmax(dd)]:.3f}; eq. 29 balanced vs dDME: "
          f"{np.max(np.abs(balanced - dd) / np.abs(dd)):.1e}; eq. 29 printed / dDME: "
          f"{np.min(printed / dd):.3f} .. {np.max(printed / dd):.3f} (at omega_d = {wds[np.argmax(printed / dd)]:.2f}), "
          f"= 1 within 1e-9 up to omega_d = {wds[np.argmax(np.abs(printed / dd - 1) > 1e-9) - 1]:.2f}")


if __name__ == "__main__":
    main()
