"""Shared pieces of the gallery scripts (examples/<paper>/fig*.py): arguments, the Python package qheat of a
build tree (docs/python.md), sweeps as rows, HEOM points. Each figure script stays a short description of what
the paper plots.

The package is imported from BUILD/python (--build, default build/release), the tree that
`cmake --build --preset release` fills; the scripts run with Debian's /usr/bin/python3, which the package is
built for."""
import argparse
import concurrent.futures
import glob
import importlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BUILD = os.path.join(ROOT, "build", "release")
BUILD_HINT = "cmake --preset release && cmake --build --preset release"

_package = None


class _GalleryParser(argparse.ArgumentParser):
    """An ArgumentParser that imports qheat from the build directory once the arguments are known, so that a
    missing package stops the script at once with one clear message."""

    def parse_args(self, args=None, namespace=None):
        parsed = super().parse_args(args, namespace)
        qheat_package(parsed)
        return parsed


def add_build_options(ap):
    """--build DIR (the build tree whose python/ holds the package) and the deprecated --qheat PATH."""
    ap.add_argument("--build", default=DEFAULT_BUILD, metavar="DIR",
                    help="build directory whose python/ holds the package qheat (default: build/release)")
    ap.add_argument("--qheat", metavar="PATH",
                    help="deprecated: a qheat binary; stands for --build with the binary's directory")
    return ap


def argument_parser(description):
    ap = _GalleryParser(description=description)
    add_build_options(ap)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "gallery"), help="output directory for the PNG")
    ap.add_argument("--quick", action="store_true", help="coarse grids (seconds; used by the test suite)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="points solved in parallel (qheat.sweep jobs; HEOM points: at most 2)")
    return ap


def qheat_package(args):
    """The module qheat from <build>/python (args.build; args.qheat, deprecated, sets it to the binary's
    directory), imported once; exits with a message when the package is not built or does not import."""
    global _package
    if _package is not None:
        return _package
    if getattr(args, "qheat", None):
        args.build = os.path.dirname(os.path.abspath(args.qheat))
        print(f"gallery: --qheat is deprecated, use --build DIR; importing qheat from {args.build}/python",
              file=sys.stderr)
    python_dir = os.path.join(os.path.abspath(args.build), "python")
    if not glob.glob(os.path.join(python_dir, "qheat", "_qheat*.so")):
        sys.exit(f"gallery: the Python package qheat is not built in {python_dir} (no qheat/_qheat*.so); "
                 f"build it with: {BUILD_HINT}" + ("" if os.path.abspath(args.build) == DEFAULT_BUILD else
                                                   " (or pass the build directory that has it with --build DIR)"))
    sys.path.insert(0, python_dir)
    try:
        module = importlib.import_module("qheat")
    except ImportError as e:
        hint = (f"the package is built for /usr/bin/python3, not for {sys.executable}"
                if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") else
                f"a build in progress or a stale build? rebuild with: {BUILD_HINT}")
        sys.exit(f"gallery: cannot import qheat from {python_dir}: {e}\n({hint})")
    where = os.path.dirname(os.path.abspath(module.__file__))
    if where != os.path.join(python_dir, "qheat"):
        sys.exit(f"gallery: imported qheat from {where}, not from {python_dir}")
    _package = module
    return module


def model_path(relative):
    """A model file of the repository, e.g. 'examples/kong2026/nesb.toml'."""
    return os.path.join(ROOT, relative)


def overrides(sets):
    """Parameter overrides {name: value} from NAME=VALUE strings (the --set syntax; values stay text, numbers
    or expressions, exactly as `qheat --set` reads them) or from a dict (returned as it is)."""
    if isinstance(sets, dict):
        return dict(sets)
    out = {}
    for s in sets:
        name, eq, value = s.partition("=")
        if not eq or not name or not value:
            raise ValueError(f"expected NAME=VALUE, got {s!r}")
        out[name] = value
    return out


def load_model(args, relative, sets=()):
    """qheat.load_model of a repository model file with overrides (NAME=VALUE strings or a dict)."""
    qheat = qheat_package(args)
    try:
        return qheat.load_model(model_path(relative), **overrides(sets))
    except qheat.Error as e:
        sys.exit(f"gallery: {relative} with {sets}: [{e.rule}] {e.message}")


def _number(s):
    try:
        return float(s)
    except ValueError:
        return s


def rows_of(table):
    """Rows of a qheat.sweep table (the columns of the `qheat sweep` CSV) as dicts: number, integer and flag
    columns as float, text columns (method, status, diagnostics, error) as str (float if they read as one), as
    the scripts read the CSV before they used the package."""
    names = table.dtype.names
    text = [table.dtype[n].kind == "U" for n in names]
    return [{n: (_number(v) if t else float(v)) for n, t, v in zip(names, text, row)} for row in table.tolist()]


# `qheat sweep` options that figure scripts may still pass as command-line words (extra=[...]), and the
# qheat.sweep keyword argument each becomes.
_SWEEP_OPTIONS = {
    "--lamb-shift": ("lamb_shift", str), "--reference": ("reference", str),
    "--floquet-solver": ("floquet_solver", str), "--heom-depth": ("heom_depth", int),
    "--heom-terms": ("heom_terms", int), "--heom-tol": ("heom_tol", float),
    "--heom-decomposition": ("heom_decomposition", str),
    "--heom-terminator": ("heom_terminator", lambda v: {"on": True, "off": False}.get(v, v)),
    "--threads": ("threads", int), "--jobs": ("jobs", int), "-j": ("jobs", int),
    "--observable": ("observables", str),
}


def sweep_options(extra):
    """qheat.sweep keyword arguments from `qheat sweep` command-line words, e.g. ["--lamb-shift", "on",
    "--heom-depth=3"] -> {"lamb_shift": "on", "heom_depth": 3}; --observable may repeat (a list)."""
    words, out = list(extra), {}
    while words:
        flag = words.pop(0)
        flag, eq, value = flag.partition("=")
        if flag not in _SWEEP_OPTIONS:
            raise ValueError(f"run_sweep: unknown option {flag!r} in extra (known: {', '.join(_SWEEP_OPTIONS)})")
        if not eq:
            if not words:
                raise ValueError(f"run_sweep: {flag} needs a value")
            value = words.pop(0)
        key, kind = _SWEEP_OPTIONS[flag]
        if key == "observables":
            out.setdefault(key, []).append(value)
        else:
            out[key] = kind(value)
    return out


def run_sweep(args, model, vary, methods="global", sets=(), observables=(), extra=(), **options):
    """qheat.sweep of a repository model file (`qheat sweep`); returns its rows (rows_of), one per point and
    method in grid order.

    vary: NAME=SPEC strings (the --vary syntax: START:STOP:NUM, log:START:STOP:NUM, V1,V2,...) or a dict
    {name: values or spec}; methods: one name or a list; sets: NAME=VALUE strings or a dict; extra: `qheat
    sweep` options as command-line words (sweep_options); options: further qheat.sweep keyword arguments
    (lamb_shift="on", reference="redfield", heom_depth=3, ...). Points run --jobs at a time."""
    qheat = qheat_package(args)
    if isinstance(vary, str):
        vary = [vary]
    if not isinstance(vary, dict):
        vary = dict(v.split("=", 1) for v in vary)
    kw = {"jobs": args.jobs, **sweep_options(extra), **options}
    kw["observables"] = list(observables) + kw.get("observables", [])
    m = load_model(args, model, sets)
    try:
        table = qheat.sweep(m, vary=vary, methods=methods, **kw)
    except qheat.Error as e:
        sys.exit(f"gallery: qheat.sweep of {model} (vary {vary}, methods {methods}, sets {sets}) failed: "
                 f"[{e.rule}] {e.message}")
    rows = rows_of(table)
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


def heom_pool(args):
    """An executor for HEOM points: at most two solves at a time (--jobs), in threads of this process (the
    solves release the GIL; each uses one BLAS thread)."""
    return concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(args.jobs, 2)))


def heom_currents(results):
    """The current of every (J, solution) result of heom_point (J None: the solve failed, the dict then has
    command and error) as a NumPy array, nan for failures; reports failures, non-converged solves, diagnostics,
    and first-law or bath/system current mismatches above 1e-8 relative."""
    import numpy as np
    js = []
    for j, out in results:
        if j is None:
            print(f"heom: FAILED: {out['command']}\n  {out['error']}", file=sys.stderr)
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
    """One HEOM solve, job = (args, model file, --set list, depth, terms, bath):
    model.solve("heom", heom_depth=depth, heom_terms=terms, threads=1) (Pade, terminator on), the computation
    of `qheat ness --method heom --threads 1`. Returns (current of that bath, the solution's as_dict() with the
    equivalent command line under "command"), or (None, {command, error}) when the solve raised qheat.Error or
    the steady state is not unique (where `qheat ness` exits with 4)."""
    args, model, sets, depth, terms, bath = job
    qheat = qheat_package(args)
    command = (f"qheat ness {model} --method heom --heom-depth {depth} --heom-terms {terms} --threads 1" +
               "".join(f" --set {s}" for s in sets))
    try:
        m = qheat.load_model(model_path(model), **overrides(sets))
        sol = m.solve("heom", heom_depth=depth, heom_terms=terms, threads=1, state=False)
    except qheat.Error as e:
        return None, {"command": command, "error": f"[{e.rule}] {e.message}"}
    if sol.status == "not-unique":
        return None, {"command": command, "error": "steady state not unique"}
    out = sol.as_dict()
    out["command"] = command
    return out["currents"][bath], out
