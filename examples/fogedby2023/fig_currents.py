#!/usr/bin/python3
"""Fogedby 2023 (arXiv:2301.13544), heat currents through one qubit and two flip-flop-coupled qubits.

The paper's figures are schematic, so this gallery figure plots the closed forms themselves:
(a) single qubit, q^A vs T_A at T_B = 1 (eq. 3.14); (b) coupled qubits, q^A and its two channel parts
q^A_+ (at omega_+) and q^A_- (at omega_-) vs T_A at T_B = 1 (eqs. 3.52-3.54); (c) coupled qubits, q^A vs the
flip-flop coupling lambda at T_A = 2, T_B = 1. Lines: qheat's Davies generator (`--method global`);
markers/dashed: the printed closed forms, evaluated here. Fogedby's q^A is the heat from reservoir A into
the system, which is qheat's currents[A] (column J_A) with no sign change; g_{A,B} is qheat's kappa
(kind "flat").

    /usr/bin/python3 examples/fogedby2023/fig_currents.py [--quick]
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

SINGLE = "examples/fogedby2023/single_qubit.toml"
COUPLED = "examples/fogedby2023/coupled_qubits.toml"
# Model-file defaults (the closed forms below must use the same values).
W0, W1, W2, LAMBDA, GA, GB, TB = 1.0, 1.0, 0.8, 0.1, 0.01, 0.01, 1.0
TA_FIXED = 2.0


def bose(w, T):
    return 1.0 / math.expm1(w / T)


def q_single(TA, TB, w0=W0, gA=GA, gB=GB):
    """Eq. 3.14: heat from reservoir A into the qubit (flat g, so g_{A,B} = g_{A,B}(w0))."""
    nA, nB = bose(w0, TA), bose(w0, TB)
    return gA * gB * w0 / (gA * (1 + 2 * nA) + gB * (1 + 2 * nB)) * (nA - nB)


def q_coupled(TA, TB, lam, w1=W1, w2=W2, gA=GA, gB=GB):
    """Eqs. 3.29-3.33 and 3.52-3.54: (q^A_+, q^A_-), heat from A into the coupled qubits per channel."""
    wm, dw = 0.5 * (w1 + w2), 0.5 * (w1 - w2)
    root = math.hypot(dw, lam)
    wp, wn = wm + root, wm - root                                   # eqs. 3.32-3.33
    theta = math.atan2(2 * lam, w1 - w2)                            # eq. 3.31
    a2, b2 = math.cos(theta / 2) ** 2, math.sin(theta / 2) ** 2     # eqs. 3.29-3.30
    nAp, nBp, nAm, nBm = bose(wp, TA), bose(wp, TB), bose(wn, TA), bose(wn, TB)
    qp = a2 * b2 * gA * gB * wp / (a2 * gA * (1 + 2 * nAp) + b2 * gB * (1 + 2 * nBp)) * (nAp - nBp)  # 3.53
    qm = a2 * b2 * gA * gB * wn / (b2 * gA * (1 + 2 * nAm) + a2 * gB * (1 + 2 * nBm)) * (nAm - nBm)  # 3.54
    return qp, qm


def rel_dev(num, ref):
    """Largest |num - ref| / |ref| over points where the reference is not ~0 (the sign change at T_A = T_B)."""
    num, ref = np.asarray(num), np.asarray(ref)
    mask = np.abs(ref) > 1e-3 * np.max(np.abs(ref))
    return float(np.max(np.abs(num[mask] - ref[mask]) / np.abs(ref[mask])))


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    n_t, n_l = (9, 7) if args.quick else (60, 43)
    ta_spec = f"TA=0.1:5:{n_t}"
    lam_spec = f"lambda=0:0.84:{n_l}"

    single = run_sweep(args, SINGLE, [ta_spec], "global", sets=[f"TB={TB}"])
    coupled_t = run_sweep(args, COUPLED, [ta_spec], "global", sets=[f"TB={TB}", f"lambda={LAMBDA}"])
    coupled_l = run_sweep(args, COUPLED, [lam_spec], "global", sets=[f"TA={TA_FIXED}", f"TB={TB}"])

    fig, ax = plt.subplots(1, 3, figsize=(14, 4.2))
    mark = dict(ls="none", marker="o", ms=4, mfc="none")

    # (a) single qubit vs T_A
    ta = np.array(column(single, "TA"))
    q_num = np.array(column(single, "J_A"))
    q_ref = np.array([q_single(t, TB) for t in ta])
    qb_num = np.array(column(single, "J_B"))
    ax[0].plot(ta, q_num, "C0-", label=r"$q^A$ qheat (global)")
    ax[0].plot(ta, qb_num, "C1-", label=r"$q^B$ qheat (global)")
    ax[0].plot(ta, q_ref, color="k", label="eqs. (3.14), (3.15)", **mark)
    ax[0].plot(ta, -q_ref, color="k", **mark)
    ax[0].axvline(TB, color="0.7", lw=0.8, ls=":")
    ax[0].set(xlabel=r"$T_A$", ylabel="heat current into the qubit",
              title=rf"(a) single qubit, $\omega_0={W0:g}$, $g_A=g_B={GA:g}$, $T_B={TB:g}$")
    dev_single = max(rel_dev(q_num, q_ref), rel_dev(qb_num, -q_ref))

    # (b) coupled qubits vs T_A, with the two channel parts
    ta = np.array(column(coupled_t, "TA"))
    qc_num = np.array(column(coupled_t, "J_A"))
    parts = np.array([q_coupled(t, TB, LAMBDA) for t in ta])
    qc_ref = parts.sum(axis=1)
    ax[1].plot(ta, qc_num, "C0-", label=r"$q^A$ qheat (global)")
    ax[1].plot(ta, -np.array(column(coupled_t, "J_B")), "C1:", lw=2, label=r"$-q^B$ qheat (global)")
    ax[1].plot(ta, qc_ref, color="k", label=r"$q^A$ eqs. (3.52)-(3.54)", **mark)
    ax[1].plot(ta, parts[:, 0], "k--", lw=1, label=r"$q^A_+$ (3.53), at $\omega_+$")
    ax[1].plot(ta, parts[:, 1], "k-.", lw=1, label=r"$q^A_-$ (3.54), at $\omega_-$")
    ax[1].axvline(TB, color="0.7", lw=0.8, ls=":")
    ax[1].set(xlabel=r"$T_A$", ylabel=r"$q^A$",
              title=rf"(b) coupled qubits, $\omega_{{1,2}}={W1:g},{W2:g}$, $\lambda={LAMBDA:g}$, $T_B={TB:g}$")
    dev_coupled_t = max(rel_dev(qc_num, qc_ref), rel_dev(column(coupled_t, "J_B"), -qc_ref))

    # (c) coupled qubits vs lambda
    lam = np.array(column(coupled_l, "lambda"))
    ql_num = np.array(column(coupled_l, "J_A"))
    parts = np.array([q_coupled(TA_FIXED, TB, x) for x in lam])
    ql_ref = parts.sum(axis=1)
    ax[2].plot(lam, ql_num, "C0-", label=r"$q^A$ qheat (global)")
    ax[2].plot(lam, ql_ref, color="k", label=r"$q^A$ eqs. (3.52)-(3.54)", **mark)
    ax[2].plot(lam, parts[:, 0], "k--", lw=1, label=r"$q^A_+$ (3.53)")
    ax[2].plot(lam, parts[:, 1], "k-.", lw=1, label=r"$q^A_-$ (3.54)")
    ax[2].set(xlabel=r"$\lambda$", ylabel=r"$q^A$",
              title=rf"(c) coupled qubits, $T_A={TA_FIXED:g}$, $T_B={TB:g}$ ($\lambda<\sqrt{{\omega_1\omega_2}}$)")
    dev_coupled_l = max(rel_dev(ql_num, ql_ref), rel_dev(column(coupled_l, "J_B"), -ql_ref))

    for a in ax:
        a.axhline(0, color="0.5", lw=0.6)
        a.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        a.legend(fontsize=8)
    save(fig, args, "fogedby2023_currents")
    print(f"largest relative deviation qheat vs closed forms: single qubit {dev_single:.2e}, "
          f"coupled vs T_A {dev_coupled_t:.2e}, coupled vs lambda {dev_coupled_l:.2e}")


if __name__ == "__main__":
    main()
