#!/usr/bin/python3
"""Zhang, Liu, Yu 2025, Figs. 3 and 5 with the exact HEOM current: does Bloch-Redfield's NDTC survive?

Same parameters as fig3.py and fig5.py: T2 = 5, T1 = 5 + Delta T, gamma1 = gamma2 = 0.01, omega_D = 50.
(a) Fig. 3: eps1 = 5, eps2 = 4, g = 0.75, 0.5, 0.25 (solid, dashed, dotted), Delta T = 0-200: Lindblad (global,
blue), Bloch-Redfield with Lamb shift (redfield, red) and HEOM (black markers). (b) Fig. 5: symmetric qubits
eps1 = eps2 = eps = 4, 5, 6 (red, blue, black), g = 0.2, 0.1, 0.05 (solid, dashed, dotted), Delta T = 0-100:
Bloch-Redfield (lines) and HEOM (markers of the same colour). (c), (d): the relative deviation
(J - J_HEOM)/J_HEOM of Bloch-Redfield (and, in (c), of Lindblad) at the HEOM points.

HEOM: model.solve("heom", heom_depth=5, heom_terms=5, threads=1) (Pade, terminator on; 6188 ADOs; `qheat ness
--method heom`), two points at a time (--jobs 1: one) in threads of this process; the Markovian curves come from
qheat.sweep. The full run checks the hierarchy at the largest Delta T of every Fig. 3 curve and of the Fig. 5
curves with eps = 5: the relative change of J_1 when the depth, and separately the number of terms, is raised by
one (printed). --quick uses depth 3 with 2 terms on a few points (not converged: a smoke test of the script only).
J_1 = qheat's J_hot.

    /usr/bin/python3 examples/zhang2025/fig_ndtc_heom.py [--build build/release] [--out docs/gallery] [--quick]
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gallery_common import argument_parser, column, heom_currents, heom_point, heom_pool, run_sweep, save  # noqa: E402

MODEL = "examples/zhang2025/two_qubits.toml"
T2 = 5.0
COMMON = [f"T2={T2}", "gamma=0.01", "omega_D=50"]
FIG3_G = ((0.75, "-", "o"), (0.5, "--", "s"), (0.25, ":", "^"))
FIG5_EPS = ((4.0, "r"), (5.0, "b"), (6.0, "k"))
FIG5_G = ((0.2, "-", "o"), (0.1, "--", "s"), (0.05, ":", "^"))
DEPTH, TERMS = 5, 5
FIG3_DT = (1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 120, 140, 160, 180, 200)
FIG5_DT = (1, 2, 3, 4, 6, 8, 10, 12, 14, 16, 18, 20, 24, 28, 35, 45, 60, 80, 100)



def run_heom(args, pool, points, depth, terms):
    """J_hot at every point (a list of --set lists); reports failures, non-converged solves and diagnostics."""
    results = pool.map(heom_point, [(args, MODEL, sets, depth, terms, "hot") for sets in points])
    return heom_currents(results)


def peak(dt, j):
    """Delta T of the maximum of J(Delta T) sampled on dt: a parabola through the largest sample and its neighbours."""
    k = int(np.nanargmax(j))
    if 0 < k < len(j) - 1:
        x, y = dt[k - 1:k + 2], j[k - 1:k + 2]
        a, b, _ = np.polyfit(x, y, 2)
        if a < 0:
            return -b / (2 * a), k
    return dt[k], k


def convergence(args, pool, sets, label):
    """Relative change of J_hot when the depth, and separately the terms, are raised by one."""
    (j0, _), (jd, _), (jt, _) = pool.map(heom_point, [(args, MODEL, sets, d, k, "hot") for d, k in
                                                        ((DEPTH, TERMS), (DEPTH + 1, TERMS), (DEPTH, TERMS + 1))])
    print(f"convergence {label}: J_hot(D={DEPTH}, K={TERMS}) = {j0:.8g}; D={DEPTH + 1}: {abs(jd - j0) / abs(j0):.1e}, "
          f"K={TERMS + 1}: {abs(jt - j0) / abs(j0):.1e} relative")


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    depth, terms = (3, 2) if args.quick else (DEPTH, TERMS)
    fig3_dt = np.array((10, 100, 200) if args.quick else FIG3_DT, dtype=float)
    fig5_dt = np.array((5, 15, 50) if args.quick else FIG5_DT, dtype=float)
    n3, n5 = (9, 11) if args.quick else (101, 201)
    fig3 = run_sweep(args, MODEL, ["g=" + ",".join(str(g) for g, _, _ in FIG3_G), f"T1={T2}:{T2 + 200}:{n3}"],
                     ["global", "redfield"], sets=COMMON + ["eps1=5", "eps2=4"])
    fig5 = run_sweep(args, MODEL, ["eps1=" + ",".join(str(e) for e, _ in FIG5_EPS),
                                   "g=" + ",".join(str(g) for g, _, _ in FIG5_G), f"T1={T2}:{T2 + 100}:{n5}"],
                     ["global", "redfield"], sets=COMMON + ["eps2=eps1"])
    # the Markovian currents at the HEOM points themselves, for the deviations (c), (d)
    fig3_at = run_sweep(args, MODEL, ["g=" + ",".join(str(g) for g, _, _ in FIG3_G),
                                      "T1=" + ",".join(str(T2 + x) for x in fig3_dt)],
                        ["global", "redfield"], sets=COMMON + ["eps1=5", "eps2=4"])
    fig5_at = run_sweep(args, MODEL, ["eps1=" + ",".join(str(e) for e, _ in FIG5_EPS),
                                      "g=" + ",".join(str(g) for g, _, _ in FIG5_G),
                                      "T1=" + ",".join(str(T2 + x) for x in fig5_dt)],
                        ["global", "redfield"], sets=COMMON + ["eps2=eps1"])
    fig, axes = plt.subplots(2, 2, figsize=(13, 9), gridspec_kw={"height_ratios": (2.2, 1)}, sharex="col")
    (a, b), (c, d) = axes
    print(f"HEOM hierarchy: depth {depth}, {terms} Pade terms per bath (terminator on)")
    with heom_pool(args) as pool:
        # (a), (c): Fig. 3
        for g, ls, mk in FIG3_G:
            dT = np.array(column(fig3, "T1", method="global", g=g)) - T2
            jl = np.array(column(fig3, "J_hot", method="global", g=g))
            jbr = np.array(column(fig3, "J_hot", method="redfield", g=g))
            jh = run_heom(args, pool, [COMMON + ["eps1=5", "eps2=4", f"g={g}", f"T1={T2 + x}"] for x in fig3_dt],
                          depth, terms)
            a.plot(dT, jl, "b" + ls, lw=1.2, label=f"Lindblad (global), g={g}")
            a.plot(dT, jbr, "r" + ls, lw=1.2, label=f"Bloch-Redfield, g={g}")
            a.plot(fig3_dt, jh, "k" + ls + mk, ms=4, lw=0.8, mfc="none", label=f"HEOM, g={g}")
            jbr_at = np.array(column(fig3_at, "J_hot", method="redfield", g=g))
            jl_at = np.array(column(fig3_at, "J_hot", method="global", g=g))
            c.plot(fig3_dt, np.abs(jbr_at - jh) / jh, "r" + ls + mk, ms=4, mfc="none", label=f"BR, g={g}")
            c.plot(fig3_dt, np.abs(jl_at - jh) / jh, "b" + ls + mk, ms=4, mfc="none", label=f"Lindblad, g={g}")
            if np.any(jbr_at < jh) or np.any(jl_at < jh):
                print(f"Fig3 g={g}: BR below HEOM at dT = {fig3_dt[jbr_at < jh]}, Lindblad below HEOM at dT = "
                      f"{fig3_dt[jl_at < jh]}")
            pb, _ = peak(dT, jbr)
            ph, kh = peak(fig3_dt, jh)
            print(f"Fig3 g={g}: BR peak J={np.max(jbr):.5g} at dT~{pb:.1f}; HEOM peak J={np.nanmax(jh):.5g} at "
                  f"dT~{ph:.1f} (largest sample dT={fig3_dt[kh]:g}); at dT={fig3_dt[-1]:g}: J_HEOM={jh[-1]:.5g} = "
                  f"{jh[-1] / np.nanmax(jh):.3f} of its peak, J_BR={jbr_at[-1]:.5g} ({jbr[-1] / np.max(jbr):.3f}), J_L={jl_at[-1]:.5g}; "
                  f"(BR-HEOM)/HEOM from {np.nanmin((jbr_at - jh) / jh):+.2e} to {np.nanmax((jbr_at - jh) / jh):+.2e}, "
                  f"(L-HEOM)/HEOM at dT={fig3_dt[-1]:g}: {(jl_at[-1] - jh[-1]) / jh[-1]:+.3f}")
            if not args.quick:
                convergence(args, pool, COMMON + ["eps1=5", "eps2=4", f"g={g}", f"T1={T2 + fig3_dt[-1]}"],
                            f"Fig3 g={g} dT={fig3_dt[-1]:g}")
        # (b), (d): Fig. 5
        for eps, colour in FIG5_EPS:
            for g, ls, mk in FIG5_G:
                dT = np.array(column(fig5, "T1", method="redfield", eps1=eps, g=g)) - T2
                jbr = np.array(column(fig5, "J_hot", method="redfield", eps1=eps, g=g))
                jl = np.array(column(fig5, "J_hot", method="global", eps1=eps, g=g))
                jh = run_heom(args, pool, [COMMON + [f"eps1={eps}", "eps2=eps1", f"g={g}", f"T1={T2 + x}"]
                                           for x in fig5_dt], depth, terms)
                b.plot(dT, jbr, colour + ls, lw=1.2, label=rf"BR, $\varepsilon={eps:g}$, $g={g:g}$")
                b.plot(fig5_dt, jh, colour + mk, ms=4, mfc="none")
                jbr_at = np.array(column(fig5_at, "J_hot", method="redfield", eps1=eps, g=g))
                jl_at = np.array(column(fig5_at, "J_hot", method="global", eps1=eps, g=g))
                d.plot(fig5_dt, (jbr_at - jh) / jh, colour + ls + mk, ms=3, mfc="none", lw=0.8,
                       label=rf"$\varepsilon={eps:g}$, $g={g:g}$")
                pb, _ = peak(dT, jbr)
                ph, kh = peak(fig5_dt, jh)
                print(f"Fig5 eps={eps:g} g={g:g}: BR peak J={np.max(jbr):.5g} at dT~{pb:.1f}; HEOM peak "
                      f"J={np.nanmax(jh):.5g} at dT~{ph:.1f} (largest sample dT={fig5_dt[kh]:g}); at dT={fig5_dt[-1]:g}: "
                      f"J_HEOM = {jh[-1] / np.nanmax(jh):.3f} of its peak, BR {jbr[-1] / np.max(jbr):.3f}; "
                      f"(BR-HEOM)/HEOM from {np.nanmin((jbr_at - jh) / jh):+.2e} to {np.nanmax((jbr_at - jh) / jh):+.2e}; "
                      f"(global-HEOM)/HEOM at dT={fig5_dt[-1]:g}: {(jl_at[-1] - jh[-1]) / jh[-1]:+.3f}")
                if not args.quick and eps == 5.0:
                    convergence(args, pool, COMMON + [f"eps1={eps}", "eps2=eps1", f"g={g}", f"T1={T2 + fig5_dt[-1]}"],
                                f"Fig5 eps={eps:g} g={g:g} dT={fig5_dt[-1]:g}")
    a.set(ylabel=r"$\mathcal{J}_1$", title=r"(a) Fig. 3: $\varepsilon_1=5$, $\varepsilon_2=4$")
    a.legend(fontsize=7, ncol=3)
    b.set(ylabel=r"$\mathcal{J}_1$", title=r"(b) Fig. 5: $\varepsilon_1=\varepsilon_2=\varepsilon$; lines: BR, markers: HEOM")
    b.legend(fontsize=7, ncol=2)
    c.set(xlabel=r"$\Delta T$", ylabel=r"$|\mathcal{J}-\mathcal{J}_\mathrm{HEOM}|/\mathcal{J}_\mathrm{HEOM}$", yscale="log",
          title="(c) Fig. 3: deviation of Bloch-Redfield (red) and Lindblad (blue) from HEOM")
    c.legend(fontsize=7, ncol=3)
    d.set(xlabel=r"$\Delta T$", ylabel=r"$(\mathcal{J}_\mathrm{BR}-\mathcal{J}_\mathrm{HEOM})/\mathcal{J}_\mathrm{HEOM}$",
          title="(d) Fig. 5: Bloch-Redfield deviation from HEOM")
    d.axhline(0, color="0.6", lw=0.6)
    d.legend(fontsize=7, ncol=3, loc="lower center")
    fig.suptitle(r"Zhang et al. Figs. 3 and 5 with HEOM: $T_2=5$, $T_1=T_2+\Delta T$, $\gamma_{1,2}=0.01$, $\omega_D=50$; "
                 rf"HEOM: depth {depth}, {terms} Padé terms per bath", fontsize=11)
    save(fig, args, "zhang2025_ndtc_heom")


if __name__ == "__main__":
    main()
