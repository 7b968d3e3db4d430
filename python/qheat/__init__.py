"""qheat: heat currents, steady states and entropy production of open quantum systems (docs/python.md).

Three lines from a model to its heat currents::

    import qheat
    model = qheat.load_model("examples/zhang2025/two_qubits.toml", T1=100)
    print(model.solve(method="redfield").currents)

Models come from TOML files (:func:`load_model`) or from arrays and ``qutip.Qobj`` (:class:`Model`); every
command of the command line is a function returning objects: :meth:`Model.solve` (``qheat ness``),
:func:`sweep`, :func:`response`, :func:`gibbs`, :func:`check`. Errors are :class:`Error` subclasses with
``.rule``, ``.line``, ``.message``. Units, signs and method names are those of docs/conventions.md.
"""

import csv as _csv
import json as _json

import numpy as _np

from . import _qheat as _binding
from .errors import Error, ExpressionError, MemoryLimitError, MethodError, ModelError


class _Native:
    """The compiled module, with pybind11's own conversion failures as :class:`Error` (rule ``argument-type``):
    a value that does not fit the C++ argument (an int beyond 64 bits, a str with a lone surrogate, an object of
    another type) raised ``TypeError: ... incompatible function arguments`` listing internal signatures, or
    ``RuntimeError: Unable to cast Python instance ...``. Errors of the engine pass through unchanged."""

    def __getattr__(self, name):
        attr = getattr(_binding, name)
        if isinstance(attr, type) or not callable(attr):
            return attr

        def call(*args, **kwargs):
            return _converted(attr, *args, **kwargs)
        return call


def _converted(function, *args, **kwargs):
    """function(*args, **kwargs) with pybind11's conversion failures as Error("argument-type") (see _Native)."""
    try:
        return function(*args, **kwargs)
    except (TypeError, RuntimeError) as e:
        text = str(e)
        if not ("incompatible function arguments" in text or "incompatible constructor arguments" in text
                or text.startswith("Unable to cast")):
            raise
    raise Error("an argument has a type or a value that qheat cannot take (an integer beyond 64 bits, a string "
                "that is not UTF-8, an object of another type); see docs/python.md", "argument-type")


_qheat = _Native()

__version__ = "0.1.0"

__all__ = [
    "Error", "ModelError", "MethodError", "ExpressionError", "MemoryLimitError",
    "SpectralDensity", "Flat", "OhmicExp", "Drude", "PowerLaw", "Tabulated",
    "Bath", "Drive", "Model", "Solution", "GibbsState", "Response", "CheckReport",
    "load_model", "solve", "sweep", "read_sweep", "to_dataframe", "response", "gibbs", "check",
    "set_threads", "set_max_memory", "METHODS",
]

#: Method names (docs/conventions.md): static local, global, redfield, heom; driven dme, ddme, floquet.
METHODS = ("local", "global", "redfield", "heom", "dme", "ddme", "floquet")

SpectralDensity = _qheat.SpectralDensity
SpectralDensity.__doc__ = """A spectral density kappa(w) in qheat's rate normalisation (docs/conventions.md):
kappa(w) = 2 pi sum_k |g_k|^2 delta(w - w_k). Made by Flat, OhmicExp, Drude, PowerLaw or Tabulated;
``kappa(w)`` evaluates it."""


def Flat(gamma):
    """kappa(w) = gamma for w > 0 (no finite Lamb shift)."""
    return _converted(SpectralDensity, "flat", gamma=gamma)


def OhmicExp(gamma, cutoff):
    """kappa(w) = gamma w exp(-w / cutoff) (Kong et al.: gamma = pi alpha)."""
    return _converted(SpectralDensity, "ohmic_exp", gamma=gamma, cutoff=cutoff)


def Drude(gamma, cutoff):
    """kappa(w) = gamma w / (1 + (w / cutoff)^2) (Zhang et al.: gamma = 2 gamma_Zhang; the HEOM method needs it)."""
    return _converted(SpectralDensity, "drude", gamma=gamma, cutoff=cutoff)


def PowerLaw(gamma, s, cutoff):
    """kappa(w) = gamma w^s cutoff^(1-s) exp(-w / cutoff)."""
    return _converted(SpectralDensity, "power_law", gamma=gamma, cutoff=cutoff, s=s)


def Tabulated(w, kappa):
    """kappa(w) by monotone cubic interpolation of the table (w increasing, >= 0), 0 beyond it."""
    try:
        w, kappa = _np.asarray(w, dtype=float), _np.asarray(kappa, dtype=float)
    except (TypeError, ValueError):  # complex entries, ragged lists, strings
        raise ModelError("a tabulated spectral density needs two 1-D sequences of real numbers", "array-dtype") from None
    return _converted(SpectralDensity, "tabulated", w=w, kappa=kappa)


def _is_qobj(x):
    return hasattr(x, "full") and hasattr(x, "dims")


def _array(x):
    """A Qobj's matrix, or x itself (NumPy arrays and lists are checked by the engine)."""
    return x.full() if _is_qobj(x) else x


class Bath:
    """A thermal bath: ``Bath(name, operator, T, coupling="hermitian", spectral=..., sites=None,
    lamb_shift=True)``; ``spectral`` (Flat, OhmicExp, Drude, PowerLaw, Tabulated) is required.

    ``operator`` is S (hermitian coupling, H_SB = S (x) sum_k g_k (b_k + b_k^dag)) or A (exchange coupling,
    H_SB = sum_k g_k (b_k^dag A + b_k A^dag)), a NumPy array or Qobj on the whole space. ``sites``: the
    subsystems it acts on (names or indices; default all), used by the local master equation. ``lamb_shift``:
    whether ``lamb_shift="auto"`` includes this bath's Lamb shift."""

    def __init__(self, name, operator, T, coupling="hermitian", spectral=None, sites=None, lamb_shift=True):
        if spectral is None:
            raise ModelError(f"bath '{name}' needs a spectral density (e.g. spectral=qheat.Drude(gamma, cutoff))",
                             "missing-key")
        if not isinstance(spectral, SpectralDensity):
            raise ModelError(f"bath '{name}': spectral must be a qheat spectral density (Flat, OhmicExp, Drude, "
                             f"PowerLaw, Tabulated); got {type(spectral).__name__}", "spectral-kind")
        self.name = str(name)
        self.operator = operator
        self.T = T
        self.coupling = coupling
        self.spectral = spectral
        self.sites = sites
        if not isinstance(lamb_shift, (bool, _np.bool_)):  # bool('no') is True: a typo would switch it on
            raise ModelError(f"bath '{name}': lamb_shift must be True or False; got {lamb_shift!r}", "wrong-type")
        self.lamb_shift = bool(lamb_shift)

    def _native(self):
        try:
            T = float(self.T)
        except (TypeError, ValueError, OverflowError):
            raise ModelError(f"bath '{self.name}': T must be a number; got {self.T!r}", "temperature") from None
        sites = None if self.sites is None else list(self.sites)
        return (self.name, _array(self.operator), T, str(self.coupling), self.spectral, sites, self.lamb_shift)

    def __repr__(self):
        return f"Bath({self.name!r}, T={self.T}, coupling={self.coupling!r}, spectral={self.spectral.describe()})"


class Drive:
    """A periodic drive H(t) = H_S + sum_k (V_k e^{-i k w t} + V_k^dag e^{+i k w t}), k >= 1.

    ``Drive(frequency, harmonics)`` with harmonics ``{k: V_k}``, a list of ``(k, V_k)``, or one operator
    (taken as V_1). A cosine drive eta cos(w t) sx is ``Drive(w, {1: eta/2 * sx})``."""

    def __init__(self, frequency, harmonics):
        self.frequency = frequency
        if isinstance(harmonics, dict):
            items = list(harmonics.items())
        elif isinstance(harmonics, (list, tuple)) and harmonics and all(
                isinstance(h, tuple) and len(h) == 2 for h in harmonics):
            items = list(harmonics)
        else:
            items = [(1, harmonics)]
        self.harmonics = items

    def _native(self):
        for k, _ in self.harmonics:
            if not isinstance(k, (int, _np.integer)) or isinstance(k, bool):
                raise ModelError(f"drive harmonic k must be an integer; got {k!r}", "drive-harmonic")
        return (float(self.frequency), [(int(k), _array(V)) for k, V in self.harmonics])


def _kron_dims(H, dims):
    if dims is not None:
        return [int(d) for d in dims]
    if _is_qobj(H):
        return [int(d) for d in H.dims[0]]
    shape = _np.shape(H)
    return [int(shape[0])] if len(shape) == 2 else [0]


class Model:
    """A validated model: the system Hamiltonian, its baths and an optional periodic drive.

    ``Model(H, baths, drive=None, *, dims=None, sites=None, operators=None, name="model")`` builds one from
    arrays: ``H`` a square NumPy array or ``qutip.Qobj``; ``baths`` a list of :class:`Bath`; ``dims`` the
    subsystem dimensions (default: a Qobj's ``dims``, else one subsystem); ``sites`` their names (default
    s1, s2, ...; a dimension-2 subsystem is a qubit, so ``"sz(s1)"`` works in observables); ``operators``
    named operators for observables. The rules are those of model files (the same typed errors, without
    line numbers). :func:`load_model` reads a TOML file instead; its parameters can then be varied by
    :func:`sweep` and :meth:`with_parameters`."""

    def __init__(self, H, baths, drive=None, *, dims=None, sites=None, operators=None, name="model"):
        dims = _kron_dims(H, dims)
        if sites is None:
            sites = [f"s{i + 1}" for i in range(len(dims))]
        if isinstance(baths, Bath):
            baths = [baths]
        for b in baths:
            if not isinstance(b, Bath):
                raise ModelError(f"baths must be qheat.Bath objects; got {type(b).__name__}", "bath-operator")
        native_baths = [b._native() for b in baths]
        ops = {str(k): _array(v) for k, v in (operators or {}).items()}
        if drive is not None and not isinstance(drive, Drive):
            raise ModelError(f"drive must be a qheat.Drive; got {type(drive).__name__}", "drive-harmonic")
        self._native = _qheat.build_model(_array(H), native_baths, None if drive is None else drive._native(),
                                          dims, [str(s) for s in sites], ops, str(name))
        self._qobj_dims = [list(H.dims[0]), list(H.dims[1])] if _is_qobj(H) else None

    @classmethod
    def _wrap(cls, native, qobj_dims=None):
        m = cls.__new__(cls)
        m._native = native
        m._qobj_dims = qobj_dims
        return m

    # ---- what the model is -------------------------------------------------------------------------
    name = property(lambda self: self._native.name, doc="The model's name (file: its `name` key or stem).")
    path = property(lambda self: self._native.path, doc="The model file ('' for a model built from arrays).")
    dim = property(lambda self: self._native.dim, doc="Hilbert-space dimension.")
    dims = property(lambda self: self._native.dims, doc="Subsystem dimensions (kron order).")
    sites = property(lambda self: self._native.sites, doc="Subsystem names.")
    parameters = property(lambda self: self._native.parameters, doc="Resolved parameters {name: value} (files).")
    bath_names = property(lambda self: self._native.bath_names, doc="Bath names, in model order.")
    temperatures = property(lambda self: dict(zip(self._native.bath_names, self._native.temperatures)),
                            doc="{bath: temperature}.")
    hamiltonian = property(lambda self: self._native.hamiltonian, doc="H_S as a complex NumPy array.")

    def operator(self, name_or_expression):
        """A named operator of the model or an operator expression over its sites (docs/model-format.md)."""
        return self._native.operator(str(name_or_expression))

    def with_parameters(self, **overrides):
        """The same model file with these parameters replaced (numbers or expression strings)."""
        return Model._wrap(self._native.with_overrides(overrides), self._qobj_dims)

    def qobj_dims(self):
        """The Qobj ``dims`` of an operator on this model's space ([[d1, d2, ...], [d1, d2, ...]])."""
        return self._qobj_dims or [list(self.dims), list(self.dims)]

    # ---- commands ------------------------------------------------------------------------------------
    def solve(self, method="global", *, lamb_shift="auto", state=True, floquet_solver="sambe", heom_depth=None,
              heom_terms=None, heom_tol=None, heom_decomposition="pade", heom_terminator=True, heom_schur="auto",
              threads=None):
        """Steady state, heat currents and audit with one method (``qheat ness``); returns a :class:`Solution`.

        method: local, global, redfield, heom (static) or dme, ddme, floquet (driven); lamb_shift: "auto",
        "on", "off"; state: keep the steady state (``Solution.rho``); heom_*: the hierarchy (as --heom-*);
        threads: BLAS threads from this call on (as :func:`set_threads`; default: keep the setting, which
        starts at every core). Long solves release the GIL and stop on Ctrl-C."""
        heom = _heom(heom_depth, heom_terms, heom_tol, heom_decomposition, heom_terminator, heom_schur)
        native = _qheat.solve(self._native, str(method), str(lamb_shift), bool(state), str(floquet_solver), heom,
                              _count(threads, "threads"))
        return Solution(native, self)

    def gibbs(self, order=2, observables=(), *, threads=None):
        """The mean-force Gibbs state to second order (order 2) or the Gibbs state of H_S (order 0)."""
        return gibbs(self, order, observables, threads=threads)

    def response(self, perturbation, observables=(), **options):
        """Linear response of the steady state to H -> H + delta V (see :func:`response`)."""
        return response(self, perturbation, observables, **options)

    def __repr__(self):
        src = f" from {self.path!r}" if self.path else ""
        return f"<qheat.Model {self.name!r}{src}: dim {self.dim}, baths {self.bath_names}>"


_DEFAULT_HEOM = _qheat.heom_options(None, None, None, "pade", True, "auto")


def _heom(depth, terms, tol, decomposition, terminator, schur):
    if (depth is None and terms is None and tol is None and decomposition == "pade" and terminator is True
            and schur == "auto"):
        return _DEFAULT_HEOM
    return _qheat.heom_options(depth, terms, tol, str(decomposition), terminator, str(schur))


def _count(value, what):
    if value is None:
        return 0
    # The command line's range for --jobs and --threads (docs/conventions.md: 1 to 1024).
    if isinstance(value, bool) or not isinstance(value, (int, _np.integer)) or not 1 <= value <= 1024:
        raise Error(f"{what} must be a whole number from 1 to 1024; got {value!r}", what)
    return int(value)


def load_model(path, **overrides):
    """Loads and validates a TOML model file (docs/model-format.md); keyword arguments override its
    parameters (numbers or expression strings), as ``--set NAME=VALUE`` does."""
    return Model._wrap(_qheat.load_model(str(path), overrides))


class Solution:
    """The steady state of one model and method and its thermodynamics.

    ``currents`` {bath: J} (heat from that bath into the system), ``drive_power``, ``entropy_production``,
    ``first_law_residual``, ``rho`` (NumPy, site basis; None for the Floquet method or state=False),
    ``diagnostics`` (list of {level, code, message}), ``status`` (converged, not-unique, ...);
    :meth:`as_dict` is the JSON document of ``qheat ness --state``."""

    def __init__(self, native, model):
        self._native = native
        self._model = model
        self._dict = None

    method = property(lambda self: self._native.method, doc="The method's name.")
    lamb_shift = property(lambda self: self._native.lamb_shift, doc="Whether the Lamb shift was included.")
    status = property(lambda self: self._native.status, doc="Steady-state status (docs/conventions.md).")
    drive_power = property(lambda self: self._native.drive_power, doc="Power from the drive into the system.")
    entropy_production = property(lambda self: self._native.entropy_production,
                                  doc="-sum_b J_b / T_b (entropy production rate).")
    first_law_residual = property(lambda self: self._native.first_law_residual, doc="sum_b J_b + drive_power.")
    diagnostics = property(lambda self: self._native.diagnostics, doc="[{level, code, message}, ...].")
    rho = property(lambda self: self._native.rho, doc="Steady state (site basis) as a NumPy array, or None.")

    @property
    def currents(self):
        """{bath: heat current from the bath into the system}."""
        return self._native.current_map

    @property
    def temperatures(self):
        """{bath: temperature}."""
        return dict(zip(self._native.bath_names, self._native.temperatures))

    @property
    def bare_currents(self):
        """{bath: current without the Lamb-shift term} where the method reports it, else None."""
        b = self._native.bare_currents
        return dict(zip(self._native.bath_names, b)) if b else None

    @property
    def heom(self):
        """The hierarchy and its convergence (``heom`` of the JSON) for method heom, else None."""
        return self.as_dict().get("heom")

    @property
    def floquet(self):
        """How the Floquet modes were found (``floquet`` of the JSON) for method floquet, else None."""
        return self.as_dict().get("floquet")

    @property
    def steady_state(self):
        """The audit of the steady state (``steady_state`` of the JSON): solver, residual, trace, ..."""
        return self.as_dict()["steady_state"]

    def rho_qobj(self):
        """The steady state as a ``qutip.Qobj`` with the model's dims (qutip must be importable)."""
        import qutip
        if self.rho is None:
            raise MethodError(f"method {self.method} has no stationary state here (or state=False)", "no-state")
        return qutip.Qobj(self.rho, dims=self._model.qobj_dims())

    def as_dict(self):
        """The JSON document of ``qheat ness --state`` for this solution, as Python objects."""
        if self._dict is None:
            self._dict = _json.loads(self._native.json(True))
        return _json.loads(_json.dumps(self._dict))

    def __repr__(self):
        cur = ", ".join(f"{k}: {v:.6g}" for k, v in self.currents.items())
        return f"<qheat.Solution {self.method} ({self.status}): currents {{{cur}}}>"


def solve(model, method="global", **options):
    """``model.solve(method, **options)`` (see :meth:`Model.solve`)."""
    return model.solve(method, **options)


def _axis(name, values):
    if isinstance(values, str):
        n, v = _qheat.parse_vary(f"{name}={values}")
        return v
    try:
        arr = _np.asarray(values)
    except (TypeError, ValueError):
        raise Error(f"vary {name}: the values must be a 1-D sequence of numbers", "vary-syntax") from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0:
        raise Error(f"vary {name}: the values must be a non-empty 1-D sequence; got shape {arr.shape}",
                    "vary-syntax")
    if arr.dtype.kind not in "iuf":
        raise Error(f"vary {name}: the values must be real numbers; got dtype {arr.dtype}", "vary-syntax")
    arr = arr.astype(float)
    if not _np.all(_np.isfinite(arr)):
        raise Error(f"vary {name}: the values must be finite", "vary-syntax")
    return [float(x) for x in arr]


def _methods(methods):
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",")]
    methods = [str(m) for m in methods]
    if not methods:
        raise MethodError("a sweep needs at least one method", "unknown-method")
    return methods


def sweep(model, vary, methods=("global",), *, lamb_shift="auto", observables=(), jobs=None, threads=None,
          reference=None, progress=False, floquet_solver="sambe", heom_depth=None, heom_terms=None, heom_tol=None,
          heom_decomposition="pade", heom_terminator=True, heom_schur="auto", as_frame=False):
    """A grid of steady states (``qheat sweep``); returns a NumPy structured array with the columns of the
    sweep CSV (docs/conventions.md, "Sweep CSV"), one row per point and method in grid order (the first
    axis varies slowest, methods innermost), or a pandas DataFrame with ``as_frame=True``.

    model: a model loaded from a file (vary names its parameters) or a function of the varied parameters
    (keyword arguments) that returns a :class:`Model`; vary: {name: values} with values a sequence or a
    ``--vary`` spec such as "5:205:101" or "log:0.01:1:5"; methods: list or comma-separated names;
    reference: one of the methods, adds dev_<bath> and deviation columns; jobs: points in parallel;
    threads: BLAS threads per point; progress: a progress bar on sys.stderr. A point that fails is a row
    with status "error" and the message in ``error``. Ctrl-C stops the sweep (KeyboardInterrupt)."""
    if not isinstance(vary, dict) or not vary:
        raise Error("vary must be a non-empty dict {parameter: values}", "vary-syntax")
    names = [str(k) for k in vary]
    values = [_axis(k, v) for k, v in vary.items()]
    heom = _heom(heom_depth, heom_terms, heom_tol, heom_decomposition, heom_terminator, heom_schur)
    if isinstance(model, Model):
        native, function = model._native, None
    elif callable(model):
        native, function = None, model
    else:
        raise Error(f"sweep needs a qheat.Model or a function returning one; got {type(model).__name__}", "sweep-model")
    out = _qheat.sweep(native, function, names, values, _methods(methods), str(lamb_shift), str(floquet_solver), heom,
                       [str(o) for o in observables], _count(jobs, "jobs"), _count(threads, "threads"),
                       "" if reference is None else str(reference), bool(progress))
    table = _structured(out["columns"])
    return to_dataframe(table) if as_frame else table


def read_sweep(path, *, as_frame=False):
    """The table of a ``qheat sweep`` CSV file -- one written by ``mpirun -np K qheat sweep`` on a cluster, say
    (docs/cluster.md): the structured array :func:`sweep` returns for the same sweep, column for column and
    value for value (the CSV's numbers have 17 significant digits and read back to the same doubles), or a
    pandas DataFrame with ``as_frame=True``. A file that is not such a CSV raises :class:`Error` (rule
    ``sweep-csv``) naming the line."""
    try:
        with open(path, newline="") as f:
            numbered = [(n, line) for n, line in enumerate(f, 1) if not line.startswith("#")]
    except OSError as e:
        raise Error(f"cannot read '{path}': {e.strerror}", "sweep-csv") from None
    reader = _csv.reader(line for _, line in numbered)
    try:
        records = [(numbered[reader.line_num - 1][0], record) for record in reader]
    except _csv.Error as e:
        raise Error(f"'{path}': {e}", "sweep-csv") from None
    if not records:
        raise Error(f"'{path}' has no header line: not a qheat sweep CSV", "sweep-csv")
    line, header = records[0]
    kinds = _sweep_column_kinds(header)
    if kinds is None:
        raise Error(f"'{path}' line {line}: not the header of a qheat sweep CSV (docs/conventions.md, "
                    f"\"Sweep CSV\"): {','.join(header)}", "sweep-csv", line=line)
    read = {"number": float, "integer": int, "flag": lambda t: {"0": False, "1": True}[t], "text": str}
    values = [[] for _ in header]
    for line, record in records[1:]:
        if len(record) != len(header):
            raise Error(f"'{path}' line {line}: {len(record)} fields, the header has {len(header)}", "sweep-csv",
                        line=line)
        for c, text in enumerate(record):
            try:
                values[c].append(read[kinds[c]](text))
            except (ValueError, KeyError):
                raise Error(f"'{path}' line {line}: column {header[c]} holds '{text}', not a {kinds[c]}",
                            "sweep-csv", line=line) from None
    table = _structured(list(zip(header, kinds, values)))
    return to_dataframe(table) if as_frame else table


def _sweep_column_kinds(header):
    """The kind of each column of a sweep CSV header (number, integer, flag, text), by its place: the varied
    parameters, method, lamb_shift, status, the numbers up to warnings, diagnostics, the numbers after it
    (observables, deviations), error last (src/sweep/table.cpp, sweep_columns); None if it is not one."""
    if "method" not in header:
        return None
    m = header.index("method")
    w = header.index("warnings", m) if "warnings" in header[m:] else -1
    if (m == 0 or header[m + 1:m + 3] != ["lamb_shift", "status"] or w < 0 or w + 1 >= len(header) - 1
            or header[w + 1] != "diagnostics" or header[-1] != "error"):
        return None
    kinds = ["number"] * len(header)
    for i, kind in ((m, "text"), (m + 1, "flag"), (m + 2, "text"), (w, "integer"), (w + 1, "text"), (-1, "text")):
        kinds[i] = kind
    return kinds


def _structured(columns):
    dtype, data = [], []
    for name, kind, values in columns:
        if kind == "number":
            dt = _np.float64
        elif kind == "integer":
            dt = _np.int64
        elif kind == "flag":
            dt = _np.bool_
        else:
            dt = f"U{max([1] + [len(v) for v in values])}"
        dtype.append((name, dt))
        data.append(values)
    n = len(data[0]) if data else 0
    table = _np.empty(n, dtype=dtype)
    for (name, _), values in zip(dtype, data):
        table[name] = values
    return table


def to_dataframe(table):
    """A sweep's structured array as a pandas DataFrame (python3-pandas)."""
    try:
        import pandas
    except ImportError:
        raise Error("as_frame=True needs pandas (Debian: python3-pandas)", "pandas") from None
    return pandas.DataFrame({name: table[name] for name in table.dtype.names})


class Response:
    """Linear response of the steady state to H0 -> H0 + delta V, per unit delta (Levy, Rabani, Limmer;
    docs/conventions.md, "qheat response"): ``currents`` {bath: {kubo, dissipator, total}}, ``observables``
    {name: {kubo, dissipator, total}}, ``regime`` ("eigenvectors" or "eigenvalues"), ``limit``;
    :meth:`as_dict` is the JSON document of ``qheat response``."""

    def __init__(self, document):
        self._dict = document

    regime = property(lambda self: self._dict["regime"], doc="eigenvectors | eigenvalues.")
    limit = property(lambda self: self._dict["limit"], doc="The limit that holds (local, global, ...).")
    currents = property(lambda self: self._dict["currents"], doc="{bath: {kubo, dissipator, total}}.")
    observables = property(lambda self: self._dict["observables"], doc="{observable: {kubo, dissipator, total}}.")
    entropy_production = property(lambda self: self._dict["entropy_production"], doc="{kubo, dissipator, total}.")

    def as_dict(self):
        """The JSON document of ``qheat response``."""
        return _json.loads(_json.dumps(self._dict))

    def __repr__(self):
        return f"<qheat.Response {self.regime} ({self.limit})>"


def response(model, perturbation, observables=(), *, method="global", lamb_shift="auto", times=None,
             delta_sweep=None, untruncated=False, redfield_derivative=False):
    """Linear response to H0 -> H0 + delta V (``qheat response``). perturbation and observables are named
    operators or operator expressions of the model; times: Phi(t) at these t; delta_sweep: also J(delta)
    (linear, global, Bloch-Redfield); untruncated: bosonic modes without Fock truncation."""
    text = _qheat.response(model._native, str(perturbation), [str(o) for o in observables], str(method),
                           str(lamb_shift), times, delta_sweep, bool(untruncated), bool(redfield_derivative))
    return Response(_json.loads(text))


class GibbsState:
    """The (mean-force) Gibbs state of ``qheat gibbs``: ``rho`` (NumPy, site basis), ``temperature``, ``order``,
    ``observables`` {name: complex}; :meth:`as_dict` is its JSON document."""

    def __init__(self, document, rho, model):
        self._dict = document
        self.rho = rho
        self._model = model

    temperature = property(lambda self: self._dict["temperature"], doc="The baths' common temperature.")
    order = property(lambda self: self._dict["order"], doc="0 or 2.")

    @property
    def observables(self):
        """{observable: Tr[rho O]} (complex)."""
        return {k: complex(v["re"], v["im"]) for k, v in self._dict["observables"].items()}

    def rho_qobj(self):
        """rho as a ``qutip.Qobj`` with the model's dims."""
        import qutip
        return qutip.Qobj(self.rho, dims=self._model.qobj_dims())

    def as_dict(self):
        """The JSON document of ``qheat gibbs``."""
        document = _json.loads(_json.dumps(self._dict))
        document["rho"] = {"re": self.rho.real.tolist(), "im": self.rho.imag.tolist()}
        return document


def gibbs(model, order=2, observables=(), *, threads=None):
    """The mean-force Gibbs state to second order in the coupling (order 2, default) or the Gibbs state of
    H_S (order 0), for a model whose baths share one temperature (``qheat gibbs``). ``threads``: as
    ``--threads`` (sets the process-wide setting, as ``solve(threads=n)`` does; None keeps it)."""
    if isinstance(order, bool) or not isinstance(order, (int, _np.integer)):
        raise MethodError(f"order must be 0 or 2; got {order!r}", "mean-force-order")
    text, rho = _qheat.gibbs(model._native, int(order), [str(o) for o in observables], _count(threads, "threads"))
    return GibbsState(_json.loads(text), rho, model)


class CheckReport:
    """Rows of ``qheat check``: ``rows`` (dicts with file, ref, quantity, point, computed, expected, deviation,
    result, failed), ``failed`` (count), ``discrepancies`` (documented discrepancies reproduced), ``files``;
    ``ok`` is True when no row failed."""

    def __init__(self, files, rows, failed, discrepancies):
        self.files, self.rows, self.failed, self.discrepancies = files, rows, failed, discrepancies

    @property
    def ok(self):
        """True when no row failed."""
        return self.failed == 0

    def __repr__(self):
        return f"<qheat.CheckReport {len(self.rows)} rows, {self.failed} failed, files {len(self.files)}>"


def check(files=None):
    """Computed values beside published and closed-form ones (``qheat check``): the given check files, or
    every examples/*/checks.toml of the source tree."""
    if isinstance(files, str):
        files = [files]
    return CheckReport(*_qheat.check([str(f) for f in (files or [])], _qheat.EXAMPLES_DIR))


def set_threads(threads):
    """BLAS threads of one dense solve, process-wide (None: every core, the setting at import); solve(threads=n)
    sets it too. Sweeps use their own per-point threads (threads=, default cores / jobs) and restore it."""
    _qheat.set_threads(_qheat.hardware_threads() if threads is None else _count(threads, "threads"))


def set_max_memory(size):
    """Memory limit for every solver's estimate: '12G', '512M', bytes as int, or None for the memory
    available. A computation whose estimate exceeds it raises MemoryLimitError before it allocates."""
    _qheat.set_max_memory("" if size is None else str(size))
