#!/usr/bin/python3
"""Kong et al. 2026, Fig. 6: dDME energy currents of the driven Kerr resonator over (omega_d, chi).

(a) J_r, (b) J_l, (c) J_p as colour maps over the driving frequency omega_d and the Kerr nonlinearity chi;
eps = 1, eta = 0.1, alpha = 0.001, omega_c = 10, T_l = 1.2, T_r = 0.4. Method: dDME (`ddme`).
Fock truncation nmax = 12 instead of the model file's 30: for chi >= 0.05 the currents change by < 1e-7 of
their maximum between nmax = 12 and 20-24 (docs/gallery/kong2026.md). Small chi is excluded: at chi = 0.02 and
omega_d in [1, 1.2] nmax = 12 is off by 27% (nmax = 16 by 8e-6), and the resonantly driven harmonic
oscillator (chi = 0) needs an unbounded truncation. The dashed line marks omega_d = eps.
Kong's signs: J_mu(Kong) = -J_mu(qheat) (energy into reservoir mu), J_p = -drive_power (docs/conventions.md).

    /usr/bin/python3 examples/kong2026/fig6.py [--quick]
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

MODEL = "examples/kong2026/kerr.toml"
NMAX = 12
WD = (0.02, 1.2)   # past omega_d = eps, to show the resonance and the multiphoton lines omega_d = eps + k chi
CHI = (0.05, 1.0)


def colour_map(ax, fig, x, y, z, title):
    """Symmetric-log colour scale: the currents span a decade and more (the small-chi resonance at
    omega_d = eps), and J_l changes sign."""
    lin = 0.05 * np.max(np.abs(z))
    if z.min() < 0 < z.max():
        lim = np.max(np.abs(z))
        norm, cmap = mcolors.SymLogNorm(linthresh=lin, vmin=-lim, vmax=lim), "RdBu_r"
    else:
        norm, cmap = mcolors.SymLogNorm(linthresh=lin, vmin=z.min(), vmax=z.max()), "viridis"
    mesh = ax.pcolormesh(x, y, z, shading="nearest", cmap=cmap, norm=norm)
    fig.colorbar(mesh, ax=ax)
    if z.min() < 0 < z.max():
        ax.contour(x, y, z, levels=[0.0], colors="k", linewidths=0.8)
    ax.axvline(1.0, color="w", lw=0.8, ls="--")
    ax.set(xlabel=r"$\omega_d$", ylabel=r"$\chi$", title=title)


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    n_w, n_c = (12, 6) if args.quick else (119, 58)
    rows = run_sweep(args, MODEL, [f"chi={CHI[0]}:{CHI[1]}:{n_c}", f"omega_d={WD[0]}:{WD[1]}:{n_w}"], "ddme",
                     sets=[f"nmax={NMAX}", "eta=0.1"])
    wd = np.array(column(rows, "omega_d")).reshape(n_c, n_w)
    chi = np.array(column(rows, "chi")).reshape(n_c, n_w)
    jl = -np.array(column(rows, "J_l")).reshape(n_c, n_w)
    jr = -np.array(column(rows, "J_r")).reshape(n_c, n_w)
    jp = -np.array(column(rows, "drive_power")).reshape(n_c, n_w)

    fig, ax = plt.subplots(1, 3, figsize=(15, 4.3))
    colour_map(ax[0], fig, wd, chi, jr, r"(a) $J_r$ (dDME), $\eta=0.1$")
    colour_map(ax[1], fig, wd, chi, jl, r"(b) $J_l$ (dDME); black: $J_l=0$")
    colour_map(ax[2], fig, wd, chi, jp, r"(c) $J_p$ (dDME)")
    save(fig, args, "kong2026_fig6")
    for w in (0.3, 0.9, 1.0):
        i = np.argmin(np.abs(wd[0] - w))
        print(f"omega_d = {wd[0, i]:.2f}, chi = {chi[0, 0]:.2f} -> {chi[-1, 0]:.2f}: J_r {jr[0, i]:.3e} -> "
              f"{jr[-1, i]:.3e}, J_l {jl[0, i]:.3e} -> {jl[-1, i]:.3e}, J_p {jp[0, i]:.3e} -> {jp[-1, i]:.3e}")


if __name__ == "__main__":
    main()
