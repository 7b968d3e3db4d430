#!/usr/bin/python3
"""Kerr resonator at nmax = 60: Floquet-Markov J_r and drive power over (omega_d, eta), 40 x 40 points.

A map that was impractical before issue 10: qheat.sweep (`qheat sweep`) of examples/kong2026/kerr.toml with
method floquet (extended-space / Sambe Floquet modes) at Fock truncation nmax = 60 (61 levels), over the
driving frequency omega_d in [0.42, 1.98] and amplitude eta in [0.01, 0.5], with eps = 1, chi = 0.4,
alpha = 0.001, omega_c = 10, T_l = 1.2, T_r = 0.4 (the model file's defaults). (a) J_r, the energy current
into the cold reservoir, (b) the drive power P = -J_p (energy from the drive into the resonator), both on a
log scale. The multiphoton resonances of H_S, omega_d = eps + k chi = 1.0 (0->1), 1.4 (0->2), 1.8 (1->2 and
0->3), are marked on the top axis; they widen with eta into tongues. The omega_d grid (step 0.04) passes them
at a distance of 0.02 on purpose: exactly on a resonance the fully secular FME gives a current that does not
go to its eta = 0 value as eta -> 0 (J_r = 2.48e-3, 6.21e-3, 1.32e-2 at omega_d = 1.0, 1.4, 1.8 for every
eta in [1e-4, 0.05], 1.05e-3 at eta = 0), because it mixes quasienergy-degenerate states completely however
small their splitting (~eta, eta^2/chi, eta^3/chi^2) is against the dissipative rates (1e-3 - 1e-2); on a grid
through the resonances these become single-column stripes that dominate the map (docs/gallery/kong2026.md).
Fock truncation: nmax = 30 and 60 agree to 3e-11 (relative) at omega_d = 1, 1.4, 1.8, 2 and eta = 0.01, 0.5,
so nmax = 60 is the issue's size, not a need of this model.
The sweep's wall-clock time, CPU time (this process, all threads) and point count are written on the figure;
points whose status is not `converged` are masked (grey) and counted in the title.
Kong's signs: J_r(Kong) = -J_r(qheat), J_p = -drive_power (docs/conventions.md).

    /usr/bin/python3 examples/kong2026/fig_kerr_map.py [--quick]   # --quick: 6 x 6 points at nmax = 30
"""
import os
import resource
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gallery_common import argument_parser, column, run_sweep, save  # noqa: E402

MODEL = "examples/kong2026/kerr.toml"
EPS, CHI = 1.0, 0.4
WD = (0.42, 1.98)  # 40 points: step 0.04, 0.02 away from eps + k chi (see above)
ETA = (0.01, 0.5)
RESONANCES = ((EPS, "0->1"), (EPS + CHI, "0->2"), (EPS + 2 * CHI, "1->2, 0->3"))


def colour_map(ax, fig, x, y, z, bad, title, label):
    """Log colour scale (P spans six decades, J_r one); masked points in grey."""
    z = np.ma.masked_array(z, mask=bad | ~np.isfinite(z))
    if z.count() and z.min() > 0:
        norm, cmap = mcolors.LogNorm(vmin=z.min(), vmax=z.max()), "viridis"
    else:  # not expected here (J_r > 0, P > 0), kept so that a sign change still draws
        lim = float(np.max(np.abs(z))) if z.count() else 1.0
        norm, cmap = mcolors.SymLogNorm(linthresh=1e-3 * lim, vmin=-lim, vmax=lim), "RdBu_r"
    cm = plt.get_cmap(cmap).copy()
    cm.set_bad("0.6")
    mesh = ax.pcolormesh(x, y, z, shading="nearest", cmap=cm, norm=norm)
    bar = fig.colorbar(mesh, ax=ax, label=label)
    if isinstance(norm, mcolors.LogNorm) and norm.vmax < 100 * norm.vmin:  # < 2 decades: label 1, 2, 5 x 10^k
        k = np.arange(np.floor(np.log10(norm.vmin)), np.ceil(np.log10(norm.vmax)) + 1)
        ticks = [m * 10**e for e in k for m in (1, 2, 5) if norm.vmin <= m * 10**e <= norm.vmax]
        bar.set_ticks(ticks, labels=[rf"${m:.0f}\times10^{{{e:.0f}}}$" for t in ticks
                                     for e in [np.floor(np.log10(t) + 1e-9)] for m in [t / 10**e]])
        bar.ax.yaxis.set_minor_formatter(mticker.NullFormatter())
    top = ax.secondary_xaxis("top")
    top.set_xticks([w for w, _ in RESONANCES], [name.replace("->", r"$\to$") for _, name in RESONANCES],
                   fontsize=8)
    ax.set(xlabel=r"$\omega_d$", ylabel=r"$\eta$", title=title)


def main():
    args = argument_parser(__doc__.splitlines()[0]).parse_args()
    n_w, n_e, nmax = (6, 6, 30) if args.quick else (40, 40, 60)
    start, cpu0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    rows = run_sweep(args, MODEL, [f"eta={ETA[0]}:{ETA[1]}:{n_e}", f"omega_d={WD[0]}:{WD[1]}:{n_w}"], "floquet",
                     sets=[f"nmax={nmax}"])
    wall, cpu1 = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)  # this process, all threads
    n = len(rows)
    wd = np.array(column(rows, "omega_d")).reshape(n_e, n_w)
    eta = np.array(column(rows, "eta")).reshape(n_e, n_w)
    jr = -np.array(column(rows, "J_r"), dtype=float).reshape(n_e, n_w)
    power = np.array(column(rows, "drive_power"), dtype=float).reshape(n_e, n_w)
    bad = np.array([r["status"] != "converged" for r in rows]).reshape(n_e, n_w)
    warned = sum(1 for r in rows if r["status"] == "converged" and r["warnings"] > 0)

    fig, ax = plt.subplots(1, 2, figsize=(12, 4.8))
    colour_map(ax[0], fig, wd, eta, jr, bad, r"(a) $J_r$ into the cold reservoir (FME)", r"$J_r$")
    colour_map(ax[1], fig, wd, eta, power, bad, r"(b) drive power $P=-J_p$ (FME)", r"$P$")
    masked = f"{int(bad.sum())} of {n} points not converged (grey)" if bad.any() else "all points converged"
    fig.suptitle(rf"Kerr resonator, $\varepsilon=1$, $\chi=0.4$, Floquet–Markov at nmax = {nmax}: {masked}" "\n"
                 f"qheat sweep --method floquet: {n_e} × {n_w} = {n} points in {wall:.1f} s wall clock "
                 f"(--jobs {args.jobs}); CPU time {cpu:.0f} s, {cpu / n:.2f} s per point", fontsize=11)
    save(fig, args, "kong2026_kerr_map")

    print(f"{n} points ({n_e} eta x {n_w} omega_d, nmax = {nmax}) in {wall:.1f} s with --jobs {args.jobs} "
          f"(CPU {cpu:.1f} s, load average {os.getloadavg()[0]:.1f}); "
          f"{int(bad.sum())} not converged; {warned} converged with warnings")
    ok = ~bad
    if not ok.any():
        return
    print(f"J_r in [{jr[ok].min():.3e}, {jr[ok].max():.3e}], P in [{power[ok].min():.3e}, {power[ok].max():.3e}]")
    for w, name in RESONANCES:
        i = np.argmin(np.abs(wd[0] - w))
        print(f"omega_d = {wd[0, i]:.3f} (next to {name} at {w:g}): J_r {jr[0, i]:.3e} (eta = {eta[0, 0]:.3f}) -> "
              f"{jr[-1, i]:.3e} (eta = {eta[-1, 0]:.3f})")


if __name__ == "__main__":
    main()
