"""Type stubs of the package qheat (python/qheat/__init__.py; user guide: docs/python.md).

Every public name of ``qheat.__all__`` and every public method and property of its classes, with the
runtime's parameter names, keyword-only markers and defaults (tests/python_api/test_stubs_docs.py checks
them against ``inspect.signature``). Matrices are complex NumPy arrays in the site basis.
"""

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol, TypeAlias, overload

import numpy
import numpy.typing as npt
# pandas and qutip (Debian's 1.5 and 4.7) ship no type information: mypy then treats DataFrame and Qobj as Any.
import pandas  # type: ignore
import qutip  # type: ignore

from .errors import Error as Error
from .errors import ExpressionError as ExpressionError
from .errors import MemoryLimitError as MemoryLimitError
from .errors import MethodError as MethodError
from .errors import ModelError as ModelError

# ---- private aliases (not part of the API) -------------------------------------------------------------

class _QobjLike(Protocol):
    """What qheat reads of a ``qutip.Qobj``: its matrix (``full()``) and its ``dims``."""

    @property
    def dims(self) -> list[list[int]]:
        """[[d1, d2, ...], [d1, d2, ...]]."""
    def full(self) -> npt.NDArray[numpy.complex128]:
        """The dense matrix."""

_Matrix: TypeAlias = npt.NDArray[numpy.complex128]
_OperatorLike: TypeAlias = npt.ArrayLike | _QobjLike
# One of METHODS: local, global, redfield, heom, dme, ddme, floquet (str, so that lists of names type-check).
_Method: TypeAlias = str
_LambShift: TypeAlias = Literal["auto", "on", "off"]
_FloquetSolver: TypeAlias = Literal["sambe", "propagator"]
_HeomDecomposition: TypeAlias = Literal["pade", "matsubara"]
_HeomSchur: TypeAlias = Literal["auto", "dense", "iterative"]
_Parameter: TypeAlias = float | str
_Axis: TypeAlias = str | Sequence[float] | npt.NDArray[numpy.floating[Any]] | npt.NDArray[numpy.integer[Any]]

# ---- module constants ----------------------------------------------------------------------------------

__version__: str
"""The package version."""

METHODS: tuple[_Method, ...]
"""Method names (docs/conventions.md): static local, global, redfield, heom; driven dme, ddme, floquet."""

# ---- spectral densities --------------------------------------------------------------------------------

class SpectralDensity:
    """A spectral density kappa(w) = 2 pi sum_k |g_k|^2 delta(w - w_k) in qheat's rate normalisation."""

    def __init__(
        self,
        kind: Literal["flat", "ohmic_exp", "drude", "ohmic_drude", "power_law", "tabulated"],
        gamma: float = 0.0,
        cutoff: float = 0.0,
        s: float = 1.0,
        w: npt.ArrayLike | None = None,
        kappa: npt.ArrayLike | None = None,
    ) -> None:
        """A spectral density of this kind (use Flat, OhmicExp, Drude, PowerLaw or Tabulated instead)."""
    @property
    def kind(self) -> Literal["flat", "ohmic_exp", "drude", "power_law", "tabulated"]:
        """flat, ohmic_exp, drude, power_law or tabulated."""
    @property
    def gamma(self) -> float:
        """The strength gamma."""
    @property
    def cutoff(self) -> float:
        """The cutoff frequency (0 for flat and tabulated)."""
    @property
    def s(self) -> float:
        """The exponent of a power law (1 otherwise)."""
    @property
    def w(self) -> list[float]:
        """The frequencies of a tabulated density (empty otherwise)."""
    @property
    def kappa_table(self) -> list[float]:
        """The kappa values of a tabulated density (empty otherwise)."""
    def kappa(self, w: float) -> float:
        """kappa(w) at one frequency w (0 for w <= 0)."""
    def describe(self) -> str:
        """One line: the kind and its formula with the numbers."""

def Flat(gamma: float) -> SpectralDensity:
    """kappa(w) = gamma for w > 0 (no finite Lamb shift)."""

def OhmicExp(gamma: float, cutoff: float) -> SpectralDensity:
    """kappa(w) = gamma w exp(-w / cutoff) (Kong et al.: gamma = pi alpha)."""

def Drude(gamma: float, cutoff: float) -> SpectralDensity:
    """kappa(w) = gamma w / (1 + (w / cutoff)^2) (Zhang et al.: gamma = 2 gamma_Zhang; the HEOM method needs it)."""

def PowerLaw(gamma: float, s: float, cutoff: float) -> SpectralDensity:
    """kappa(w) = gamma w^s cutoff^(1-s) exp(-w / cutoff)."""

def Tabulated(w: npt.ArrayLike, kappa: npt.ArrayLike) -> SpectralDensity:
    """kappa(w) by monotone cubic interpolation of the table (w increasing, >= 0), 0 beyond it."""

# ---- models --------------------------------------------------------------------------------------------

class Bath:
    """A thermal bath: coupling operator S (hermitian) or A (exchange), temperature T and spectral density."""

    name: str
    """The bath's name (the key of ``currents``)."""
    operator: _OperatorLike
    """S or A on the whole space, as given (NumPy array, list or Qobj)."""
    T: float
    """The temperature."""
    coupling: Literal["hermitian", "exchange"]
    """hermitian (H_SB = S (x) sum_k g_k (b_k + b_k^dag)) or exchange (sum_k g_k (b_k^dag A + b_k A^dag))."""
    spectral: SpectralDensity
    """The spectral density kappa(w)."""
    sites: Iterable[str | int] | None
    """The subsystems it acts on (names or indices; None: all), used by the local master equation."""
    lamb_shift: bool
    """Whether lamb_shift="auto" includes this bath's Lamb shift."""
    def __init__(
        self,
        name: str,
        operator: _OperatorLike,
        T: float,
        coupling: Literal["hermitian", "exchange"] = "hermitian",
        spectral: SpectralDensity | None = None,
        sites: Iterable[str | int] | None = None,
        lamb_shift: bool = True,
    ) -> None:
        """A bath; spectral is required (ModelError "missing-key" without it)."""

class Drive:
    """A periodic drive H(t) = H_S + sum_k (V_k e^{-i k w t} + V_k^dag e^{+i k w t}), k >= 1."""

    frequency: float
    """The drive frequency w."""
    harmonics: list[tuple[int, _OperatorLike]]
    """[(k, V_k), ...]."""
    def __init__(
        self,
        frequency: float,
        harmonics: Mapping[int, _OperatorLike] | Sequence[tuple[int, _OperatorLike]] | _OperatorLike,
    ) -> None:
        """harmonics: {k: V_k}, a list of (k, V_k), or one operator taken as V_1."""

class Model:
    """A validated model: the system Hamiltonian, its baths and an optional periodic drive."""

    def __init__(
        self,
        H: _OperatorLike,
        baths: Bath | Iterable[Bath],
        drive: Drive | None = None,
        *,
        dims: Sequence[int] | None = None,
        sites: Sequence[str] | None = None,
        operators: Mapping[str, _OperatorLike] | None = None,
        name: str = "model",
    ) -> None:
        """A model from arrays or Qobj, checked by the rules of model files (typed errors without line numbers)."""
    @property
    def name(self) -> str:
        """The model's name (file: its `name` key or stem)."""
    @property
    def path(self) -> str:
        """The model file ('' for a model built from arrays)."""
    @property
    def dim(self) -> int:
        """Hilbert-space dimension."""
    @property
    def dims(self) -> list[int]:
        """Subsystem dimensions (kron order)."""
    @property
    def sites(self) -> list[str]:
        """Subsystem names."""
    @property
    def parameters(self) -> dict[str, float]:
        """Resolved parameters {name: value} (files; empty for models built from arrays)."""
    @property
    def bath_names(self) -> list[str]:
        """Bath names, in model order."""
    @property
    def temperatures(self) -> dict[str, float]:
        """{bath: temperature}."""
    @property
    def hamiltonian(self) -> _Matrix:
        """H_S as a complex NumPy array."""
    def operator(self, name_or_expression: str) -> _Matrix:
        """A named operator of the model or an operator expression over its sites (docs/model-format.md)."""
    def with_parameters(self, **overrides: _Parameter) -> Model:
        """The same model file with these parameters replaced (numbers or expression strings)."""
    def qobj_dims(self) -> list[list[int]]:
        """The Qobj ``dims`` of an operator on this model's space ([[d1, d2, ...], [d1, d2, ...]])."""
    def solve(
        self,
        method: _Method = "global",
        *,
        lamb_shift: _LambShift = "auto",
        state: bool = True,
        floquet_solver: _FloquetSolver = "sambe",
        heom_depth: int | None = None,
        heom_terms: int | None = None,
        heom_tol: float | None = None,
        heom_decomposition: _HeomDecomposition = "pade",
        heom_terminator: bool | str = True,
        heom_schur: _HeomSchur = "auto",
        threads: int | None = None,
    ) -> Solution:
        """Steady state, heat currents and audit with one method (``qheat ness``); returns a Solution."""
    def gibbs(self, order: Literal[0, 2] = 2, observables: Iterable[str] = (), *, threads: int | None = None) -> GibbsState:
        """The mean-force Gibbs state to second order (order 2) or the Gibbs state of H_S (order 0)."""
    def response(self, perturbation: str, observables: Iterable[str] = (), **options: Any) -> Response:
        """Linear response of the steady state to H -> H + delta V (options: those of qheat.response)."""

def load_model(path: str | os.PathLike[str], **overrides: _Parameter) -> Model:
    """Loads and validates a TOML model file; keyword arguments override its parameters (as --set does)."""

# ---- results -------------------------------------------------------------------------------------------

class Solution:
    """The steady state of one model and method and its thermodynamics (``qheat ness``)."""

    def __init__(self, native: Any, model: Model) -> None:
        """Made by Model.solve (native: the compiled solution)."""
    @property
    def method(self) -> str:
        """The method's name."""
    @property
    def lamb_shift(self) -> bool:
        """Whether the Lamb shift was included."""
    @property
    def status(self) -> str:
        """Steady-state status (converged, not-unique, ...; docs/conventions.md)."""
    @property
    def drive_power(self) -> float:
        """Power from the drive into the system."""
    @property
    def entropy_production(self) -> float:
        """-sum_b J_b / T_b (entropy production rate)."""
    @property
    def first_law_residual(self) -> float:
        """sum_b J_b + drive_power."""
    @property
    def diagnostics(self) -> list[dict[str, str]]:
        """[{level, code, message}, ...]."""
    @property
    def rho(self) -> _Matrix | None:
        """Steady state (site basis) as a NumPy array, or None (Floquet method, state=False)."""
    @property
    def currents(self) -> dict[str, float]:
        """{bath: heat current from the bath into the system}."""
    @property
    def temperatures(self) -> dict[str, float]:
        """{bath: temperature}."""
    @property
    def bare_currents(self) -> dict[str, float] | None:
        """{bath: current without the Lamb-shift term} where the method reports it, else None."""
    @property
    def heom(self) -> dict[str, Any] | None:
        """The hierarchy and its convergence (``heom`` of the JSON) for method heom, else None."""
    @property
    def floquet(self) -> dict[str, Any] | None:
        """How the Floquet modes were found (``floquet`` of the JSON) for method floquet, else None."""
    @property
    def steady_state(self) -> dict[str, Any]:
        """The audit of the steady state (``steady_state`` of the JSON): solver, residual, trace, ..."""
    def rho_qobj(self) -> qutip.Qobj:
        """The steady state as a ``qutip.Qobj`` with the model's dims (qutip must be importable)."""
    def as_dict(self) -> dict[str, Any]:
        """The JSON document of ``qheat ness --state`` for this solution, as Python objects."""

def solve(model: Model, method: _Method = "global", **options: Any) -> Solution:
    """``model.solve(method, **options)`` (see Model.solve)."""

# ---- sweeps --------------------------------------------------------------------------------------------

@overload
def sweep(
    model: Model | Callable[..., Model],
    vary: dict[str, _Axis],
    methods: Sequence[_Method] | str = ("global",),
    *,
    lamb_shift: _LambShift = "auto",
    observables: Iterable[str] = (),
    jobs: int | None = None,
    threads: int | None = None,
    reference: _Method | None = None,
    progress: bool = False,
    floquet_solver: _FloquetSolver = "sambe",
    heom_depth: int | None = None,
    heom_terms: int | None = None,
    heom_tol: float | None = None,
    heom_decomposition: _HeomDecomposition = "pade",
    heom_terminator: bool | str = True,
    heom_schur: _HeomSchur = "auto",
    as_frame: Literal[False] = False,
) -> npt.NDArray[numpy.void]:
    """A grid of steady states (``qheat sweep``) as a structured array with the sweep CSV's columns."""

@overload
def sweep(
    model: Model | Callable[..., Model],
    vary: dict[str, _Axis],
    methods: Sequence[_Method] | str = ("global",),
    *,
    lamb_shift: _LambShift = "auto",
    observables: Iterable[str] = (),
    jobs: int | None = None,
    threads: int | None = None,
    reference: _Method | None = None,
    progress: bool = False,
    floquet_solver: _FloquetSolver = "sambe",
    heom_depth: int | None = None,
    heom_terms: int | None = None,
    heom_tol: float | None = None,
    heom_decomposition: _HeomDecomposition = "pade",
    heom_terminator: bool | str = True,
    heom_schur: _HeomSchur = "auto",
    as_frame: Literal[True],
) -> pandas.DataFrame:
    """A grid of steady states (``qheat sweep``) as a pandas DataFrame with the sweep CSV's columns."""

@overload
def sweep(
    model: Model | Callable[..., Model],
    vary: dict[str, _Axis],
    methods: Sequence[_Method] | str = ("global",),
    *,
    lamb_shift: _LambShift = "auto",
    observables: Iterable[str] = (),
    jobs: int | None = None,
    threads: int | None = None,
    reference: _Method | None = None,
    progress: bool = False,
    floquet_solver: _FloquetSolver = "sambe",
    heom_depth: int | None = None,
    heom_terms: int | None = None,
    heom_tol: float | None = None,
    heom_decomposition: _HeomDecomposition = "pade",
    heom_terminator: bool | str = True,
    heom_schur: _HeomSchur = "auto",
    as_frame: bool = False,
) -> npt.NDArray[numpy.void] | pandas.DataFrame:
    """A grid of steady states (``qheat sweep``): a structured array, or a DataFrame with as_frame=True."""

@overload
def read_sweep(path: str | os.PathLike[str], *, as_frame: Literal[False] = False) -> npt.NDArray[numpy.void]:
    """The table of a ``qheat sweep`` CSV file: the structured array :func:`sweep` returns for that sweep."""

@overload
def read_sweep(path: str | os.PathLike[str], *, as_frame: Literal[True]) -> pandas.DataFrame:
    """The table of a ``qheat sweep`` CSV file as a pandas DataFrame."""

@overload
def read_sweep(path: str | os.PathLike[str], *, as_frame: bool = False) -> npt.NDArray[numpy.void] | pandas.DataFrame:
    """The table of a ``qheat sweep`` CSV file: a structured array, or a DataFrame with as_frame=True."""

def to_dataframe(table: npt.NDArray[numpy.void]) -> pandas.DataFrame:
    """A sweep's structured array as a pandas DataFrame (python3-pandas)."""

# ---- response, Gibbs state, checks ---------------------------------------------------------------------

class Response:
    """Linear response of the steady state to H0 -> H0 + delta V, per unit delta (``qheat response``)."""

    def __init__(self, document: dict[str, Any]) -> None:
        """Made by qheat.response from the JSON document."""
    @property
    def regime(self) -> str:
        """eigenvectors | eigenvalues."""
    @property
    def limit(self) -> str:
        """The limit that holds (local, global, ...)."""
    @property
    def currents(self) -> dict[str, dict[str, float]]:
        """{bath: {kubo, dissipator, total}}."""
    @property
    def observables(self) -> dict[str, dict[str, float]]:
        """{observable: {kubo, dissipator, total}}."""
    @property
    def entropy_production(self) -> dict[str, float]:
        """{kubo, dissipator, total}."""
    def as_dict(self) -> dict[str, Any]:
        """The JSON document of ``qheat response``."""

def response(
    model: Model,
    perturbation: str,
    observables: Iterable[str] = (),
    *,
    method: _Method = "global",
    lamb_shift: _LambShift = "auto",
    times: npt.ArrayLike | None = None,
    delta_sweep: npt.ArrayLike | None = None,
    untruncated: bool = False,
    redfield_derivative: bool = False,
) -> Response:
    """Linear response to H0 -> H0 + delta V (``qheat response``) of named operators or expressions."""

class GibbsState:
    """The (mean-force) Gibbs state of ``qheat gibbs``."""

    rho: _Matrix
    """The state (site basis) as a complex NumPy array."""
    def __init__(self, document: dict[str, Any], rho: _Matrix, model: Model) -> None:
        """Made by qheat.gibbs from the JSON document and rho."""
    @property
    def temperature(self) -> float:
        """The baths' common temperature."""
    @property
    def order(self) -> int:
        """0 or 2."""
    @property
    def observables(self) -> dict[str, complex]:
        """{observable: Tr[rho O]} (complex)."""
    def rho_qobj(self) -> qutip.Qobj:
        """rho as a ``qutip.Qobj`` with the model's dims."""
    def as_dict(self) -> dict[str, Any]:
        """The JSON document of ``qheat gibbs``."""

def gibbs(model: Model, order: Literal[0, 2] = 2, observables: Iterable[str] = (), *, threads: int | None = None) -> GibbsState:
    """The mean-force Gibbs state to second order (order 2) or the Gibbs state of H_S (order 0)."""

class CheckReport:
    """Rows of ``qheat check``; ok is True when no row failed."""

    files: list[str]
    """The check files run."""
    rows: list[dict[str, Any]]
    """Dicts with file, ref, quantity, point, computed, expected, deviation, result, failed."""
    failed: int
    """How many rows failed."""
    discrepancies: int
    """How many documented discrepancies were reproduced."""
    def __init__(self, files: list[str], rows: list[dict[str, Any]], failed: int, discrepancies: int) -> None:
        """Made by qheat.check."""
    @property
    def ok(self) -> bool:
        """True when no row failed."""

def check(files: str | Iterable[str | os.PathLike[str]] | None = None) -> CheckReport:
    """Computed values beside published and closed-form ones (``qheat check``) for these check files."""

# ---- resources -----------------------------------------------------------------------------------------

def set_threads(threads: int | None) -> None:
    """BLAS threads of one dense solve, process-wide (None: every core); sweeps use their own and restore it."""

def set_max_memory(size: str | int | None) -> None:
    """Memory limit for every solver's estimate: '12G', '512M', bytes as int, or None for the memory available."""
