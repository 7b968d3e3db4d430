#!/usr/bin/python3
"""Draws `qheat sweep` CSV files with matplotlib (called by `qheat plot` and `qheat sweep --plot`).

1-D sweeps: one curve per (file, method, quantity), legend, axis labels from the parameter symbols.
2-D sweeps: a colour map of one quantity per method (first varied parameter on the vertical axis).
--validity TOL (a CSV of `qheat sweep --reference METHOD`): where each other method's deviation from the
reference stays within TOL: a map per method over a 2-D grid, deviation curves with the tolerance line over a
1-D grid (docs/conventions.md, "qheat plot").
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


def reference_of(path, rows):
    """The reference method of a `qheat sweep --reference` CSV: its comment line, else the method whose
    deviations are all 0 or nan (the reference's own rows)."""
    with open(path, newline="") as f:
        for line in f:
            if not line.startswith("#"):
                break
            m = re.match(r"# reference method: ([\w-]+)", line)
            if m:
                return m.group(1)
    methods = list(dict.fromkeys(r["method"] for r in rows))
    zero = [m for m in methods
            if all(value(r.get("deviation")) == 0 or math.isnan(value(r.get("deviation"))) for r in rows
                   if r["method"] == m)]
    return zero[0] if len(zero) == 1 else None


def edges(values, log):
    """Cell edges around sorted grid values: midpoints (geometric on a logarithmic axis), the end cells
    symmetric about their value."""
    if log and all(v > 0 for v in values):
        return [math.exp(e) for e in edges([math.log(v) for v in values], False)]
    if len(values) == 1:
        h = 0.5 * abs(values[0]) if values[0] != 0 else 0.5
        return [values[0] - h, values[0] + h]
    mid = [(p + q) / 2 for p, q in zip(values, values[1:])]
    return [2 * values[0] - mid[0]] + mid + [2 * values[-1] - mid[-1]]


def method_grid(rows, axes, method, col, cell):
    """The 2-D grid (rows: values of axes[0], columns: values of axes[1]) of cell(value of col) for one method;
    nan where the method has no row."""
    vy = sorted({value(r[axes[0]]) for r in rows})
    vx = sorted({value(r[axes[1]]) for r in rows})
    grid = [[math.nan] * len(vx) for _ in vy]
    for r in rows:
        if r["method"] == method:
            grid[vy.index(value(r[axes[0]]))][vx.index(value(r[axes[1]]))] = cell(value(r[col]))
    return vy, vx, grid


def pyplot():
    """matplotlib's pyplot without a display (imported once the input is known to be good: it takes a second)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def validity(a, data):
    """--validity TOL: valid (deviation <= TOL), beyond TOL, missing (nan) per method other than the reference."""
    if len(data) != 1:
        fail("plot-input", f"--validity draws one CSV file; got {len(data)}")
    path, header, axes, rows = data[0]
    if len(a.y) > 1:
        fail("plot-column", f"--validity draws one deviation column; got --y {', '.join(a.y)}")
    col = a.y[0] if a.y else "deviation"
    if col not in header:
        fail("plot-column", f"no column '{col}' in '{path}': --validity needs the deviation columns of "
                            "`qheat sweep ... --reference METHOD`")
    if col != "deviation" and not col.startswith("dev_"):
        fail("plot-column", f"--validity draws a deviation column (deviation, dev_<bath>), not '{col}'")
    if len(axes) not in (1, 2):
        fail("plot-input", f"--validity draws 1-D and 2-D sweeps; '{path}' varies {len(axes)} parameters")
    tol = a.validity
    ref = reference_of(path, rows)
    methods = [m for m in dict.fromkeys(r["method"] for r in rows) if m != ref]
    if not methods:
        fail("plot-input", f"'{path}' has no method besides the reference '{ref}'")
    if col == "deviation":
        what = "\\mathrm{max}_\\alpha |\\Delta J_\\alpha|/|J_\\alpha|"
    else:
        what = f"|\\Delta J_{{\\mathrm{{{col[4:]}}}}}|/|J_{{\\mathrm{{{col[4:]}}}}}|"
    against = f" vs {ref}" if ref else ""
    maps = len(axes) == 2 and not a.x
    x = a.x or axes[0]
    if not maps and x not in header:
        fail("plot-column", f"no column '{x}' in '{path}'")
    plt = pyplot()

    if maps:
        from matplotlib.colors import ListedColormap
        from matplotlib.patches import Patch
        colours = ["#d62728", "#2ca02c"]  # beyond TOL, within TOL
        cmap = ListedColormap(colours)
        cmap.set_bad("0.85")
        fig, subs = plt.subplots(1, len(methods), figsize=(4.8 * len(methods), 4.4), squeeze=False)
        for ax, m in zip(subs[0], methods):
            vy, vx, grid = method_grid(rows, axes, m, col,
                                       lambda d: math.nan if math.isnan(d) else float(d <= tol))
            cells = [c for line in grid for c in line]
            n_ok = sum(1 for c in cells if c == 1.0)
            n_bad = sum(1 for c in cells if c == 0.0)
            n_nan = len(cells) - n_ok - n_bad
            ax.pcolormesh(edges(vx, a.logx), edges(vy, a.logy), grid, shading="flat", cmap=cmap, vmin=0, vmax=1)
            if len(vx) * len(vy) <= 64:  # small grids: the deviation in each cell
                for r in rows:
                    if r["method"] == m and not math.isnan(value(r[col])):
                        ax.text(value(r[axes[1]]), value(r[axes[0]]), f"{value(r[col]):.2g}", ha="center",
                                va="center", fontsize=7, color="white")
            ax.set_xlabel(symbol(axes[1]))
            ax.set_ylabel(symbol(axes[0]))
            ax.set_title(f"{m}{against}" if not a.title else f"{a.title} ({m}{against})")
            handles = [Patch(color=colours[1], label=f"${what} \\leq$ {tol:g} ({n_ok})"),
                       Patch(color=colours[0], label=f"$>$ {tol:g} ({n_bad})")]
            if n_nan:
                handles.append(Patch(color="0.85", label=f"missing ({n_nan})"))
            ax.legend(handles=handles, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16),
                      ncol=len(handles), frameon=False)
            if a.logx:
                ax.set_xscale("log")
            if a.logy:
                ax.set_yscale("log")
        return fig

    others = [c for c in axes if c != x]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    positive = False
    for m in methods:
        sel_m = [r for r in rows if r["method"] == m]
        keys = list(dict.fromkeys(tuple(r[c] for c in others) for r in sel_m))
        for key in keys:
            sel = [r for r in sel_m if tuple(r[c] for c in others) == key]
            ys = [value(r[col]) for r in sel]
            positive = positive or any(v > 0 for v in ys)
            label = m + "".join(f", {symbol(c)} = {v}" for c, v in zip(others, key))
            ax.plot([value(r[x]) for r in sel], ys, marker="." if len(sel) < 30 else None, label=label)
    ax.axhline(tol, color="k", ls="--", lw=0.9, label=f"tolerance {tol:g}")
    ax.set_xlabel(symbol(x))
    ax.set_ylabel(f"${what}${against}")
    if positive:
        ax.set_yscale("log")
    if a.logx:
        ax.set_xscale("log")
    ax.legend(fontsize=8)
    if a.title:
        ax.set_title(a.title)
    return fig


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("csv", nargs="+")
    ap.add_argument("--out", required=True)
    ap.add_argument("--x")
    ap.add_argument("--y", action="append", default=[])
    ap.add_argument("--title", default="")
    ap.add_argument("--logx", action="store_true")
    ap.add_argument("--logy", action="store_true")
    ap.add_argument("--validity", type=float)
    a = ap.parse_args()
    if os.path.splitext(a.out)[1].lower() not in (".png", ".svg"):
        fail("plot-format", "--out must end in .png or .svg")
    if a.validity is not None and not (math.isfinite(a.validity) and a.validity > 0):
        fail("cli-option", f"--validity expects a positive number (a relative tolerance such as 0.05); got '{a.validity}'")

    data = [(p,) + read(p) for p in a.csv]
    if a.validity is not None:
        fig = validity(a, data)
        fig.tight_layout()
        fig.savefig(a.out, dpi=130)
        return
    header, axes, rows = data[0][1], data[0][2], data[0][3]
    ys = a.y or [c for c in header if c.startswith("J_")] + (
        ["drive_power"] if any(abs(value(r["drive_power"])) > 0 for r in rows) else [])
    for _, h, _, _ in data:
        for y in ys:
            if y not in h:
                fail("plot-column", f"no column '{y}' (columns: {', '.join(h)})")
    plt = pyplot()

    if len(axes) == 2 and not a.x:
        methods = list(dict.fromkeys(r["method"] for r in rows))
        y = ys[0]
        fig, subs = plt.subplots(1, len(methods), figsize=(4.8 * len(methods), 4), squeeze=False)
        for ax, m in zip(subs[0], methods):
            vy, vx, grid = method_grid(rows, axes, m, y, lambda v: v)
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
