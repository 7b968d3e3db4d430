#!/usr/bin/python3
"""Zhang, Liu, Yu 2025, Fig. 2: rho_14 and rho_23 of the Bloch-Redfield steady state and of the mean-force Gibbs state vs T.

T1 = T2 = T, gamma1 = 0.01, gamma2 = 0 (main panel; inset: gamma2 = 0.01), omega_D = 50, eps1 = 5, eps2 = 4,
g = 1. Lines: steady state of qheat.sweep(methods=["redfield"], lamb_shift="on") (Bloch-Redfield with Lamb
shift, Zhang eq. 8); markers: qheat.gibbs (`qheat gibbs`: second-order mean-force Gibbs state, Zhang eq. 20).
rho_ij = <s_i|rho|s_j> in Zhang's eigenbasis |s_1>..|s_4> (below their eq. 2, with their phases; their |1> is
the excited qubit state), read out with the observable O = |s_j><s_i| (Tr[rho O] = rho_ij), written with
sm/sp/proj.

    /usr/bin/python3 examples/zhang2025/fig2.py [--build build/release] [--out docs/gallery] [--quick]
"""
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gallery_common import argument_parser, column, load_model, qheat_package, run_sweep, save  # noqa: E402

MODEL = "examples/zhang2025/two_qubits.toml"
EPS1, EPS2, G, GAMMA1, OMEGA_D = 5.0, 4.0, 1.0, 0.01, 50.0


def observables(eps1=EPS1, eps2=EPS2, g=G):
    """O14 = |s4><s1| and O23 = |s3><s2| as operator expressions (Zhang's |1> = up = qheat index 0)."""
    phi, theta = math.atan2(2 * g, eps1 + eps2), math.atan2(2 * g, eps1 - eps2)
    c, s = math.cos(phi / 2), math.sin(phi / 2)
    ct, st = math.cos(theta / 2), math.sin(theta / 2)
    # |s4><s1| = (c|00> - s|11>)(s<00| + c<11|); |00><11| = sm sm, |11><00| = sp sp.
    o14 = (f"{c * s!r}*proj(q1,1,1)*proj(q2,1,1) + {c * c!r}*sm(q1)*sm(q2) - {s * s!r}*sp(q1)*sp(q2)"
           f" - {s * c!r}*proj(q1,0,0)*proj(q2,0,0)")
    # |s3><s2| = (-st|10> + ct|01>)(ct<10| + st<01|); |10><01| = sp(q1) sm(q2), |01><10| = sm(q1) sp(q2).
    o23 = (f"-{st * ct!r}*proj(q1,0,0)*proj(q2,1,1) - {st * st!r}*sp(q1)*sm(q2) + {ct * ct!r}*sm(q1)*sp(q2)"
           f" + {ct * st!r}*proj(q1,1,1)*proj(q2,0,0)")
    return o14, o23


def gibbs(args, T, gamma2, obs):
    """qheat.gibbs (`qheat gibbs`, order 2) at T1 = T2 = T: {observable text: complex value}."""
    qheat = qheat_package(args)
    model = load_model(args, MODEL, {"T1": T, "T2": "T1", "gamma1": GAMMA1, "gamma2": gamma2, "g": G,
                                     "eps1": EPS1, "eps2": EPS2, "omega_D": OMEGA_D})
    try:
        return qheat.gibbs(model, observables=obs).observables
    except qheat.Error as e:
        sys.exit(f"fig2: qheat.gibbs at T={T!r}, gamma2={gamma2} failed: [{e.rule}] {e.message}")


def panel(args, ax, gamma2, n_line, n_mark, t_lo, t_hi, legend):
    o14, o23 = observables()
    sets = ["T2=T1", f"gamma1={GAMMA1}", f"gamma2={gamma2}", f"g={G}", f"eps1={EPS1}", f"eps2={EPS2}",
            f"omega_D={OMEGA_D}"]
    rows = run_sweep(args, MODEL, [f"T1={t_lo}:{t_hi}:{n_line}"], "redfield", sets=sets,
                     observables=[o14, o23], lamb_shift="on")
    T = np.array(column(rows, "T1"))
    br14, br23 = np.array(column(rows, o14)), np.array(column(rows, o23))
    im = max(np.max(np.abs(column(rows, o14 + ".im"))), np.max(np.abs(column(rows, o23 + ".im"))))
    Tm = T[::(len(T) - 1) // (n_mark - 1)]  # markers on grid points: compared without interpolation
    mf = [gibbs(args, t, gamma2, [o14, o23]) for t in Tm]
    mf14, mf23 = np.array([m[o14].real for m in mf]), np.array([m[o23].real for m in mf])
    ax.plot(T, br14, "b-", label=r"$\rho_{14}$ BR steady state")
    ax.plot(T, br23, "r-", label=r"$\rho_{23}$ BR steady state")
    ax.plot(Tm, mf14, "bo", mfc="none", ms=5, label=r"$\rho_{14}$ mean-force Gibbs (eq. 20)")
    ax.plot(Tm, mf23, "rx", ms=6, label=r"$\rho_{23}$ mean-force Gibbs (eq. 20)")
    ax.axhline(0, color="0.6", lw=0.6)
    if legend:
        ax.legend(fontsize=8, loc="lower right")
    # Largest relative BR - MF difference at the marker temperatures.
    step = (len(T) - 1) // (n_mark - 1)
    dev = max(np.max(np.abs(br14[::step] - mf14) / np.abs(mf14)), np.max(np.abs(br23[::step] - mf23) / np.abs(mf23)))
    return dev, im, (mf14, mf23, Tm)


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    n_mark = 4 if args.quick else 14
    n_line = 3 * (n_mark - 1) + 1 if args.quick else 8 * (n_mark - 1) + 1
    t_lo, t_hi = 0.25, 20.0
    fig, ax = plt.subplots(figsize=(7.5, 5.2))
    dev, im, (mf14, mf23, Tm) = panel(args, ax, 0.0, n_line, n_mark, t_lo, t_hi, True)
    ax.set(xlabel=r"$T = T_1 = T_2$", ylabel=r"$\rho_{ij}$ (eigenbasis $|s_i\rangle$ of $H_S$)",
           title=rf"Zhang et al. Fig. 2: $\gamma_1={GAMMA1}$, $\gamma_2=0$, $\omega_D={OMEGA_D:g}$, "
                 rf"$\varepsilon_1={EPS1:g}$, $\varepsilon_2={EPS2:g}$, $g={G:g}$")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    inset = ax.inset_axes([0.52, 0.42, 0.44, 0.33])
    dev_i, im_i, _ = panel(args, inset, 0.01, n_line, n_mark, t_lo, t_hi, False)
    inset.set_title(r"inset: $\gamma_2=0.01$", fontsize=8)
    inset.tick_params(labelsize=7)
    inset.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    save(fig, args, "zhang2025_fig2")
    k14, k23 = int(np.argmin(mf14)), int(np.argmin(mf23))
    print(f"largest relative |BR - MF| at the markers: main {dev:.3g}, inset {dev_i:.3g}; "
          f"largest |Im rho_ij| of BR: main {im:.2g}, inset {im_i:.2g}; "
          f"MF minima: rho14 {mf14[k14]:.4g} at T={Tm[k14]:.3g}, rho23 {mf23[k23]:.4g} at T={Tm[k23]:.3g}")


if __name__ == "__main__":
    main()
