"""Shared pieces of the gallery scripts (examples/<paper>/fig*.py): arguments, running `qheat sweep`,
reading its CSV. Each figure script stays a short description of what the paper plots."""
import argparse
import csv
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def argument_parser(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--qheat", default=os.path.join(ROOT, "build", "release", "qheat"),
                    help="qheat binary (default: build/release/qheat)")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "gallery"), help="output directory for the PNG")
    ap.add_argument("--quick", action="store_true", help="coarse grids (seconds; used by the test suite)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="qheat sweep --jobs")
    return ap


def qheat_path(args):
    if not os.access(args.qheat, os.X_OK):
        sys.exit(f"gallery: no qheat binary at {args.qheat} (build with: cmake --preset release && "
                 "cmake --build --preset release)")
    return args.qheat


def model_path(relative):
    """A model file of the repository, e.g. 'examples/kong2026/nesb.toml'."""
    return os.path.join(ROOT, relative)


def _number(s):
    try:
        return float(s)
    except ValueError:
        return s


def read_csv(path):
    """Rows of a qheat sweep CSV as dicts; numeric fields as float, others (method, status, ...) as str."""
    with open(path, newline="") as f:
        lines = [line for line in f if not line.startswith("#")]
    return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(lines)]


def run_sweep(args, model, vary, methods="global", sets=(), observables=(), extra=()):
    """Runs `qheat sweep` on a repository model file and returns its rows (read_csv).

    vary: list of NAME=SPEC strings; methods: one name or a list; sets: NAME=VALUE strings."""
    if isinstance(vary, str):
        vary = [vary]
    if not isinstance(methods, str):
        methods = ",".join(methods)
    cmd = [qheat_path(args), "sweep", model_path(model), "--method", methods, "--jobs", str(args.jobs), "--quiet"]
    for v in vary:
        cmd += ["--vary", v]
    for s in sets:
        cmd += ["--set", s]
    for o in observables:
        cmd += ["--observable", o]
    cmd += list(extra)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "sweep.csv")
        r = subprocess.run(cmd + ["--out", out], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"gallery: {' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}")
        rows = read_csv(out)
    bad = [row for row in rows if row["status"] not in ("converged",)]
    if bad:
        print(f"gallery: {len(bad)} of {len(rows)} points not converged, first: {bad[0]}", file=sys.stderr)
    return rows


def column(rows, name, **where):
    """Values of one column over the rows that match every where-condition (e.g. method='redfield')."""
    return [r[name] for r in rows if all(r[k] == v for k, v in where.items())]


def save(fig, args, name):
    """Saves the figure as <out>/<name>.png and prints the path."""
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, name + ".png")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    print(path)
    return path


def heom_currents(results):
    """The current of every (J, JSON) result of a `qheat ness --method heom` point (J None: the run failed,
    the JSON then has command, returncode and stderr) as a NumPy array, nan for failures; reports failures,
    non-converged solves, diagnostics, and first-law or bath/system current mismatches above 1e-8 relative."""
    import numpy as np
    js = []
    for j, out in results:
        if j is None:
            print(f"heom: FAILED ({out['returncode']}): {out['command']}\n  {out['stderr']}", file=sys.stderr)
            js.append(np.nan)
            continue
        if out["steady_state"]["status"] != "converged" or out["diagnostics"]:
            print(f"heom: status {out['steady_state']['status']}, diagnostics {out['diagnostics']}: {out['command']}",
                  file=sys.stderr)
        fl = abs(out["first_law_residual"]) / abs(j)
        sysdiff = max(abs(out["currents"][b] - out["heom"]["system_currents"][b]) for b in out["currents"]) / abs(j)
        if fl > 1e-8 or sysdiff > 1e-8:
            print(f"heom: first-law residual {fl:.1e}, |currents - system_currents| {sysdiff:.1e} (relative): "
                  f"{out['command']}", file=sys.stderr)
        js.append(j)
    return np.array(js)


def heom_point(job):
    """One `qheat ness --method heom` solve, job = (qheat, model file, --set list, depth, terms, bath); returns
    (current of that bath, the parsed JSON with its command line) or (None, {command, returncode, stderr})."""
    import json
    qheat, model, sets, depth, terms, bath = job
    cmd = [qheat, "ness", model_path(model), "--method", "heom", "--heom-depth", str(depth), "--heom-terms",
           str(terms), "--threads", "1"]
    for s in sets:
        cmd += ["--set", s]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return None, {"command": " ".join(cmd), "returncode": r.returncode, "stderr": r.stderr.strip()}
    out = json.loads(r.stdout)
    out["command"] = " ".join(cmd)
    return out["currents"][bath], out
