#!/usr/bin/python3
"""Draws `qheat sweep` CSV files with matplotlib (called by `qheat plot` and `qheat sweep --plot`).

1-D sweeps: one curve per (file, method, quantity), legend, axis labels from the parameter symbols.
2-D sweeps: a colour map of one quantity per method (first varied parameter on the vertical axis).
"""
import argparse
import csv
import math
import os
import re
import sys

GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eps", "zeta", "eta", "theta", "kappa", "lambda",
         "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega", "Omega", "Delta",
         "Gamma", "Lambda"}
FIXED = ["method", "lamb_shift", "status"]


def symbol(name):
    """Parameter name -> matplotlib mathtext: omega_d -> $\\omega_d$, T1 -> $T_1$, eps1 -> $\\varepsilon_1$."""
    m = re.fullmatch(r"([A-Za-z]+?)(\d*)(?:_(\w+))?", name)
    if not m:
        return name
    base, digits, sub = m.group(1), m.group(2), m.group(3)
    if base in ("eps", "epsilon"):
        base = r"\varepsilon"
    elif base in GREEK:
        base = "\\" + base
    elif len(base) > 1:
        return name.replace("_", r"\_")
    subscript = ",".join(s for s in (digits, sub) if s)
    return f"${base}_{{{subscript}}}$" if subscript else f"${base}$"


def quantity_label(col):
    if col.startswith("J_"):
        return f"$J_{{\\mathrm{{{col[2:]}}}}}$"
    return {"drive_power": "drive power", "entropy_production": "entropy production $\\dot\\sigma$"}.get(col, col)


def read(path):
    with open(path, newline="") as f:
        lines = [line for line in f if not line.startswith("#")]
    rows = list(csv.DictReader(lines))
    if not rows:
        fail("plot-input", f"'{path}' has no data rows")
    header = list(rows[0].keys())
    if "method" not in header:
        fail("plot-input", f"'{path}' is not a qheat sweep CSV (no 'method' column)")
    axes = header[: header.index("method")]
    return header, axes, rows


def fail(rule, message):
    """The command line's one error line (docs/conventions.md, "Exit codes"); `qheat plot` adds nothing."""
    sys.stderr.write(f"qheat: error [{rule}]: {message}\n")
    sys.exit(2)


def value(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return math.nan


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("csv", nargs="+")
    ap.add_argument("--out", required=True)
    ap.add_argument("--x")
    ap.add_argument("--y", action="append", default=[])
    ap.add_argument("--title", default="")
    ap.add_argument("--logx", action="store_true")
    ap.add_argument("--logy", action="store_true")
    a = ap.parse_args()
    if os.path.splitext(a.out)[1].lower() not in (".png", ".svg"):
        fail("plot-format", "--out must end in .png or .svg")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = [(p,) + read(p) for p in a.csv]
    header, axes, rows = data[0][1], data[0][2], data[0][3]
    ys = a.y or [c for c in header if c.startswith("J_")] + (
        ["drive_power"] if any(abs(value(r["drive_power"])) > 0 for r in rows) else [])
    for _, h, _, _ in data:
        for y in ys:
            if y not in h:
                fail("plot-column", f"no column '{y}' (columns: {', '.join(h)})")

    if len(axes) == 2 and not a.x:
        methods = list(dict.fromkeys(r["method"] for r in rows))
        y = ys[0]
        fig, subs = plt.subplots(1, len(methods), figsize=(4.8 * len(methods), 4), squeeze=False)
        vy = sorted({value(r[axes[0]]) for r in rows})
        vx = sorted({value(r[axes[1]]) for r in rows})
        for ax, m in zip(subs[0], methods):
            grid = [[math.nan] * len(vx) for _ in vy]
            for r in rows:
                if r["method"] == m:
                    grid[vy.index(value(r[axes[0]]))][vx.index(value(r[axes[1]]))] = value(r[y])
            norm = None
            if a.logy:
                from matplotlib.colors import LogNorm
                norm = LogNorm()
            mesh = ax.pcolormesh(vx, vy, grid, shading="nearest", norm=norm, cmap="viridis")
            fig.colorbar(mesh, ax=ax, label=quantity_label(y))
            ax.set_xlabel(symbol(axes[1]))
            ax.set_ylabel(symbol(axes[0]))
            ax.set_title(m if not a.title else f"{a.title} ({m})")
            if a.logx:
                ax.set_xscale("log")
    else:
        x = a.x or axes[0]
        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        for path, h, axs, rs in data:
            if x not in h:
                fail("plot-column", f"no column '{x}' in '{path}'")
            others = [c for c in axs if c != x]
            keys = list(dict.fromkeys((r["method"],) + tuple(r[c] for c in others) for r in rs))
            for key in keys:
                sel = [r for r in rs if (r["method"],) + tuple(r[c] for c in others) == key]
                for y in ys:
                    label = quantity_label(y) + f" ({key[0]}"
                    label += "".join(f", {symbol(c)} = {v}" for c, v in zip(others, key[1:]))
                    label += f", {os.path.basename(path)})" if len(data) > 1 else ")"
                    ax.plot([value(r[x]) for r in sel], [value(r[y]) for r in sel], marker="." if len(sel) < 30 else None,
                            label=label)
        ax.set_xlabel(symbol(x))
        ax.set_ylabel("heat current" if all(y.startswith("J_") for y in ys) else ", ".join(quantity_label(y) for y in ys))
        if a.logx:
            ax.set_xscale("log")
        if a.logy:
            ax.set_yscale("log")
        ax.axhline(0, color="0.7", lw=0.6)
        ax.legend(fontsize=8)
        if a.title:
            ax.set_title(a.title)
    fig.tight_layout()
    fig.savefig(a.out, dpi=130)


if __name__ == "__main__":
    main()
