#!/usr/bin/python3
"""Kong et al. 2026, Fig. 3: dDME energy currents of the driven NESB model over (omega_d, eta).

(a) J_r, (b) J_l, (c) J_p as colour maps over the driving frequency omega_d and amplitude eta; (d) the three
currents vs omega_d at eta = 0.1, shaded by the paper's regimes: pink, |J_p| < |J_l| (the two reservoirs
carry the transport, J_p ~ 0); blue, |J_p| > |J_l| with J_l < 0 (the pumped flux surpasses J_l and feeds
J_r together with it); green, J_l > 0 (the pump feeds both reservoirs, against the bias into the hot one).
eps = 1, alpha = 0.001, omega_c = 10, T_l = 1.2, T_r = 0.4. Kong's signs: J_mu is the energy into
reservoir mu, J_mu(Kong) = -J_mu(qheat), and J_p = -drive_power (docs/conventions.md).

    /usr/bin/python3 examples/kong2026/fig3.py [--quick]
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gallery_common import argument_parser, column, run_sweep, save  # noqa: E402

MODEL = "examples/kong2026/nesb.toml"
WD = (0.02, 1.0)   # the paper restricts itself to omega_d < eps after Fig. 2
ETA = (0.01, 0.5)


def kong_currents(rows, **where):
    """(J_l, J_r, J_p) in Kong's sign convention."""
    jl = -np.array(column(rows, "J_l", **where))
    jr = -np.array(column(rows, "J_r", **where))
    jp = -np.array(column(rows, "drive_power", **where))
    return jl, jr, jp


def colour_map(ax, fig, x, y, z, title):
    if z.min() < 0 < z.max():
        norm, cmap = mcolors.TwoSlopeNorm(vmin=z.min(), vcenter=0.0, vmax=z.max()), "RdBu_r"
    else:
        norm, cmap = None, "viridis"
    mesh = ax.pcolormesh(x, y, z, shading="nearest", cmap=cmap, norm=norm)
    cb = fig.colorbar(mesh, ax=ax)
    cb.formatter.set_powerlimits((-2, 2))
    cb.update_ticks()
    if z.min() < 0 < z.max():
        ax.contour(x, y, z, levels=[0.0], colors="k", linewidths=0.8)
    ax.set(xlabel=r"$\omega_d$", ylabel=r"$\eta$", title=title)


def regimes(wd, jl, jp):
    """Pink / blue / green regimes of Fig. 3(d) as (start, stop, colour) intervals on the omega_d grid."""
    kind = np.where(jl > 0, 2, np.where(np.abs(jp) > np.abs(jl), 1, 0))
    colours = ["#f4c2d7", "#bcd4f0", "#c4e8c0"]
    edges = np.concatenate([[wd[0]], 0.5 * (wd[1:] + wd[:-1]), [wd[-1]]])
    spans, start = [], 0
    for i in range(1, len(wd) + 1):
        if i == len(wd) or kind[i] != kind[start]:
            spans.append((edges[start], edges[i], colours[kind[start]]))
            start = i
    return spans


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    n_w, n_e, n_line = (12, 8, 30) if args.quick else (140, 80, 400)
    grid = run_sweep(args, MODEL, [f"eta={ETA[0]}:{ETA[1]}:{n_e}", f"omega_d={WD[0]}:{WD[1]}:{n_w}"], "ddme")
    line = run_sweep(args, MODEL, [f"omega_d={WD[0]}:{WD[1]}:{n_line}"], "ddme", sets=["eta=0.1"])

    wd = np.array(column(grid, "omega_d")).reshape(n_e, n_w)
    eta = np.array(column(grid, "eta")).reshape(n_e, n_w)
    jl, jr, jp = (j.reshape(n_e, n_w) for j in kong_currents(grid))

    fig = plt.figure(figsize=(12, 8.5))
    axes = [fig.add_subplot(2, 2, k) for k in (1, 2, 3, 4)]
    colour_map(axes[0], fig, wd, eta, jr, r"(a) $J_r$ (dDME)")
    colour_map(axes[1], fig, wd, eta, jl, r"(b) $J_l$ (dDME); black: $J_l=0$")
    colour_map(axes[2], fig, wd, eta, jp, r"(c) $J_p$ (dDME)")

    ax = axes[3]
    w = np.array(column(line, "omega_d"))
    l1, r1, p1 = kong_currents(line)
    for a, b, c in regimes(w, l1, p1):
        ax.axvspan(a, b, color=c, lw=0)
    ax.plot(w, r1, "C3-", label=r"$J_r$ (dDME)")
    ax.plot(w, l1, "C0-", label=r"$J_l$ (dDME)")
    ax.plot(w, p1, "k--", label=r"$J_p$ (dDME)")
    ax.axhline(0, color="0.4", lw=0.6)
    ax.set(xlabel=r"$\omega_d$", ylabel=r"$J_\mu$", title=r"(d) $\eta=0.1$", xlim=(w[0], w[-1]))
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    ax.legend(loc="upper left")
    save(fig, args, "kong2026_fig3")
    bounds = [f"{a:.3f}-{b:.3f} {c}" for a, b, c in regimes(w, l1, p1)]
    print("regimes at eta = 0.1 (omega_d):", ", ".join(bounds))


if __name__ == "__main__":
    main()
