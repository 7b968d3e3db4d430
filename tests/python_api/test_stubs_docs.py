"""The package's type stubs (python/qheat/__init__.pyi, errors.pyi) and docstrings cover its whole public API:

(a) every name in qheat.__all__ (and qheat.errors.__all__) is documented at runtime and has a stub entry of the
    same kind (class, function, constant), and the stubs declare no public name that the package lacks;
(b) every public method, property and instance attribute of the public classes (Model, Solution, Bath, Drive,
    Response, GibbsState, CheckReport, SpectralDensity, the errors) is documented and has a stub entry of the
    same kind (method, property, attribute);
(c) the stubs' signatures (parameter names, kinds such as keyword-only, defaults) equal the runtime ones;
(d) the stub files parse, and each stub entry carries a one-line docstring.

The checks are functions that return a list of problems; test_checks_catch_omissions and
test_checks_catch_stub_drift show that they report a public name added without a docstring or a stub, and a stub
that drifts from the package, so this file fails when either happens.
"""
import ast
import inspect
import os
import re

import numpy as np
import pytest

from conftest import ROOT, example

import qheat
import qheat.errors

STUBS = {
    "qheat": os.path.join(ROOT, "python", "qheat", "__init__.pyi"),
    "qheat.errors": os.path.join(ROOT, "python", "qheat", "errors.pyi"),
}
MODULES = {"qheat": qheat, "qheat.errors": qheat.errors}
# Bases whose members are not the package's API (Exception's args, with_traceback, ...; pybind11's base).
FOREIGN_BASES = (object, BaseException, Exception)


# ---- the stubs, read with ast ------------------------------------------------------------------------------

def docstring_after(body, i):
    """The string statement that follows body[i] (the docstring of an attribute), or None."""
    if i + 1 < len(body) and isinstance(body[i + 1], ast.Expr) and isinstance(body[i + 1].value, ast.Constant) \
            and isinstance(body[i + 1].value.value, str):
        return body[i + 1].value.value
    return None


def is_property(node):
    return any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list)


def is_overload(node):
    return any(isinstance(d, ast.Name) and d.id == "overload" for d in node.decorator_list)


class StubScope:
    """The entries of a stub module or class: name -> list of (kind, node, docstring), kind one of class,
    function, property, attribute, import (a re-export `from .x import N as N`)."""

    def __init__(self, body, name=""):
        self.name = name
        self.entries = {}
        self.classes = {}
        for i, node in enumerate(body):
            if isinstance(node, ast.ClassDef):
                self.add(node.name, "class", node, ast.get_docstring(node))
                self.classes[node.name] = StubClass(node)
            elif isinstance(node, ast.FunctionDef):
                kind = "property" if is_property(node) else "function"
                self.add(node.name, kind, node, ast.get_docstring(node))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                self.add(node.target.id, "attribute", node, docstring_after(body, i))
            elif isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        self.add(t.id, "attribute", node, docstring_after(body, i))
            elif isinstance(node, ast.ImportFrom) and node.level > 0:
                for a in node.names:
                    if a.asname == a.name:  # explicit re-export
                        self.add(a.name, "import", node, None)

    def add(self, name, kind, node, doc):
        self.entries.setdefault(name, []).append((kind, node, doc))

    def public(self):
        return {n: e for n, e in self.entries.items() if not n.startswith("_")}


class StubClass(StubScope):
    def __init__(self, node):
        super().__init__(node.body, node.name)
        self.bases = [b.id for b in node.bases if isinstance(b, ast.Name)]


def read_stub(module):
    with open(STUBS[module]) as f:
        return StubScope(ast.parse(f.read(), STUBS[module]).body, module)


def stub_class(name):
    """The stub class of a public class of either stub file."""
    for module in STUBS:
        scope = read_stub(module)
        if name in scope.classes:
            return scope.classes[name]
    return None


def stub_member(name, member):
    """A class member's stub entries, looking through the stub's base classes."""
    cls = stub_class(name)
    while cls is not None:
        if member in cls.entries:
            return cls.entries[member]
        cls = stub_class(cls.bases[0]) if cls.bases else None
    return None


# ---- the runtime ---------------------------------------------------------------------------------------------

def own_doc(obj):
    """The object's own docstring without pybind11's generated signature line ('' when there is none)."""
    doc = obj.__doc__ or ""
    name = getattr(obj, "__name__", "")
    lines = doc.strip().splitlines()
    if lines and name and lines[0].startswith(name + "("):  # pybind11: "kappa(self: ..., w: float) -> float"
        lines = lines[1:]
    return "\n".join(lines).strip()


def public_classes():
    return sorted({n for m in MODULES.values() for n in m.__all__ if isinstance(getattr(m, n), type)})


def class_of(name):
    for m in MODULES.values():
        if name in m.__all__:
            return getattr(m, name)
    raise KeyError(name)


def class_members(cls):
    """Public class-level members {name: object} defined by the package (not by object or Exception)."""
    out = {}
    for k in reversed(cls.__mro__):
        if k in FOREIGN_BASES or k.__module__ == "builtins" or k.__module__.startswith("pybind11"):
            continue
        for n, v in vars(k).items():
            if not n.startswith("_"):
                out[n] = v
    return out


def class_docs(cls):
    """The docstrings of the class and its package bases (where instance attributes are described)."""
    return "\n".join(k.__doc__ or "" for k in cls.__mro__ if k not in FOREIGN_BASES)


def samples():
    """One instance of each public class, for its instance attributes (set in __init__)."""
    from qheat import _qheat
    model = qheat.load_model(example("examples/zhang2025/two_qubits.toml"))
    sx = np.array([[0.0, 1.0], [1.0, 0.0]])
    out = {
        "Model": model,
        "Solution": model.solve("global"),
        "Bath": qheat.Bath("b", sx, 1.0, spectral=qheat.Flat(0.1)),
        "Drive": qheat.Drive(1.0, {1: sx}),
        "Response": qheat.response(qheat.load_model(example("examples/levy/two_qubits.toml")), "V_zz", ["sz(A)"]),
        "GibbsState": qheat.load_model(example("examples/zhang2025/two_qubits.toml"), T1=5).gibbs(),
        "CheckReport": qheat.check(example("examples/zhang2025/checks.toml")),
        "SpectralDensity": qheat.Drude(0.02, 50.0),
        "Error": qheat.Error("a message", "a-rule"),
    }
    # The errors as the engine raises them (the translation in python/bind/module.cpp sets their attributes).
    for kind, cls in [("model", "ModelError"), ("method", "MethodError"), ("expression", "ExpressionError"),
                      ("memory", "MemoryLimitError")]:
        try:
            _qheat._raise_for_test(kind)
        except qheat.Error as e:
            out[cls] = e
    return out


@pytest.fixture(scope="module")
def instances():
    return samples()


# ---- the checks (each returns a list of problems) ------------------------------------------------------------

def check_stub_docstrings(scope, where):
    """Every public entry has a one-line docstring (overloads: at least one of them; re-exports: in their file)."""
    problems = []
    for name, entries in scope.public().items():
        kinds = {k for k, _, _ in entries}
        if kinds == {"import"}:
            continue
        docs = [d for _, _, d in entries if d]
        if not docs:
            problems.append(f"{where}{name}: stub entry without a docstring")
        for d in docs:
            if len(d.strip().splitlines()) != 1:
                problems.append(f"{where}{name}: stub docstring is not one line: {d!r}")
    for cname, cls in scope.classes.items():
        if not cname.startswith("_"):
            problems += check_stub_docstrings(cls, f"{where}{cname}.")
    return problems


def runtime_kind(obj):
    if isinstance(obj, type):
        return "class"
    if callable(obj):
        return "function"
    return "attribute"


def check_module(module):
    """(a): every name of __all__ is documented and stubbed with its kind; the stub has no extra public name."""
    mod = MODULES[module]
    scope = read_stub(module)
    problems = []
    with open(mod.__file__) as f:
        source = f.read()
    for name in mod.__all__:
        obj = getattr(mod, name, None)
        if obj is None:
            problems.append(f"{module}.{name}: in __all__ but not defined")
            continue
        kind = runtime_kind(obj)
        if kind == "attribute":
            # A constant's __doc__ is its type's; its documentation is a `#:` comment above its assignment.
            if not re.search(rf"^#:.+\n{re.escape(name)}\s*=", source, re.M):
                problems.append(f"{module}.{name}: constant without a '#:' comment above its assignment")
        elif not own_doc(obj):
            problems.append(f"{module}.{name}: no docstring")
        entries = scope.entries.get(name)
        if not entries:
            problems.append(f"{module}.{name}: missing from {os.path.relpath(STUBS[module], ROOT)}")
            continue
        stub_kinds = {k for k, _, _ in entries}
        if stub_kinds == {"import"}:
            node = entries[0][1]
            target = f"qheat.{node.module}" if node.module else module
            if target not in STUBS or name not in read_stub(target).entries:
                problems.append(f"{module}.{name}: re-exported from {target}, whose stub lacks it")
                continue
            stub_kinds = {k for k, _, _ in read_stub(target).entries[name]}
        if stub_kinds != {kind}:
            problems.append(f"{module}.{name}: runtime {kind}, stub {sorted(stub_kinds)}")
    for name in scope.public():
        if name not in mod.__all__ and not hasattr(mod, name):
            problems.append(f"{module}.{name}: in the stub but not in the package")
    return problems


def check_class(name, instance=None):
    """(b): every public member of the class is documented and stubbed with its kind, and vice versa."""
    cls = class_of(name)
    problems = []
    if stub_class(name) is None:
        return [f"{name}: no stub class"]
    members = class_members(cls)
    for member, obj in sorted(members.items()):
        where = f"{name}.{member}"
        if isinstance(obj, property) or type(obj).__name__ == "property":
            kind = "property"
        elif callable(obj) or isinstance(obj, (staticmethod, classmethod)):
            kind = "function"
        else:
            kind = "attribute"
        doc = own_doc(obj if not isinstance(obj, (staticmethod, classmethod)) else obj.__func__)
        if kind != "attribute" and not doc:
            problems.append(f"{where}: no docstring")
        entries = stub_member(name, member)
        if not entries:
            problems.append(f"{where}: missing from the stub class")
        elif {k for k, _, _ in entries} != {kind}:
            problems.append(f"{where}: runtime {kind}, stub {sorted({k for k, _, _ in entries})}")
    attributes = [a for a in getattr(instance, "__dict__", {}) if not a.startswith("_")]
    docs = class_docs(cls)
    for attr in attributes:
        where = f"{name}.{attr}"
        if attr in members:
            continue
        if not re.search(rf"\b{re.escape(attr)}\b", docs):
            problems.append(f"{where}: instance attribute not described in the class docstring")
        entries = stub_member(name, attr)
        if not entries:
            problems.append(f"{where}: instance attribute missing from the stub class")
        elif {k for k, _, _ in entries} - {"attribute", "property"}:
            problems.append(f"{where}: instance attribute stubbed as {sorted({k for k, _, _ in entries})}")
    for member in stub_class(name).public():
        if member not in members and member not in attributes and not hasattr(cls, member):
            problems.append(f"{name}.{member}: in the stub but not in the package")
    return problems


# ---- signatures ------------------------------------------------------------------------------------------------

P = inspect.Parameter
NO_DEFAULT = object()


def stub_parameters(fn):
    """[(name, kind, default or NO_DEFAULT)] of a stub def (defaults evaluated as literals)."""
    a = fn.args
    out = []
    positional = [(x, P.POSITIONAL_ONLY) for x in a.posonlyargs] + [(x, P.POSITIONAL_OR_KEYWORD) for x in a.args]
    first_default = len(positional) - len(a.defaults)
    for i, (x, kind) in enumerate(positional):
        out.append((x.arg, kind, ast.literal_eval(a.defaults[i - first_default]) if i >= first_default else NO_DEFAULT))
    if a.vararg:
        out.append((a.vararg.arg, P.VAR_POSITIONAL, NO_DEFAULT))
    for x, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append((x.arg, P.KEYWORD_ONLY, NO_DEFAULT if d is None else ast.literal_eval(d)))
    if a.kwarg:
        out.append((a.kwarg.arg, P.VAR_KEYWORD, NO_DEFAULT))
    return out


def runtime_parameters(signature):
    return [(p.name, p.kind, NO_DEFAULT if p.default is P.empty else p.default) for p in signature.parameters.values()]


def same_default(a, b):
    return type(a) is type(b) and a == b


def compare_signature(where, runtime, stub_defs):
    """The stub's defs (several for @overload) against the runtime parameters. Every overload has the
    runtime's names and kinds and only runtime defaults; at least one has every runtime default (an overload
    may drop a default to narrow a type, e.g. sweep(..., as_frame: Literal[True]))."""
    problems = []
    want = [(n, k) for n, k, _ in runtime]
    defaults = {n: d for n, _, d in runtime}
    complete = False
    for fn in stub_defs:
        try:
            got = stub_parameters(fn)
        except ValueError as e:  # a default that is not a literal (e.g. `...`)
            problems.append(f"{where}: stub default is not a literal ({e})")
            continue
        if [(n, k) for n, k, _ in got] != want:
            problems.append(f"{where}: stub parameters {[(n, k.name) for n, k, _ in got]} != runtime "
                            f"{[(n, k.name) for n, k in want]}")
            continue
        for n, _, d in got:
            if d is not NO_DEFAULT and not same_default(d, defaults[n]):
                problems.append(f"{where}: default of {n}: stub {d!r}, runtime {defaults[n]!r}")
        if all(same_default(d, defaults[n]) or (d is NO_DEFAULT and defaults[n] is NO_DEFAULT) for n, _, d in got):
            complete = True
    if stub_defs and not problems and not complete:
        problems.append(f"{where}: no stub overload has every runtime default")
    return problems


def python_callables():
    """(where, runtime function, stub module, class or None, name) of every pure-Python function and method
    of the API (methods: public ones and __init__)."""
    out = []
    for module, mod in MODULES.items():
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isfunction(obj):
                out.append((f"{module}.{name}", obj, module, None, name))
            elif isinstance(obj, type):
                for member, fn in vars(obj).items():
                    if inspect.isfunction(fn) and (not member.startswith("_") or member == "__init__"):
                        out.append((f"{module}.{name}.{member}", fn, module, name, member))
    return out


def check_signatures():
    """(c) for the pure-Python functions and methods, with inspect.signature."""
    problems = []
    for where, fn, module, cls, name in python_callables():
        if cls is None:
            entries = read_stub(module).entries.get(name)
        else:
            entries = stub_member(cls, name)
        defs = [node for kind, node, _ in entries or [] if kind in ("function", "property")]
        if not defs:
            problems.append(f"{where}: no stub def")
            continue
        problems += compare_signature(where, runtime_parameters(inspect.signature(fn)), defs)
    return problems


def pybind_parameters(obj):
    """The parameters of a compiled (pybind11) function, from the signature line pybind11 writes as the first
    line of its docstring: inspect.signature cannot see them (pybind11 sets no __text_signature__, so it raises
    ValueError). Every pybind11 parameter is positional-or-keyword."""
    line = (obj.__doc__ or "").strip().splitlines()[0]
    return stub_parameters(ast.parse(f"def {line}: pass").body[0])


def check_compiled_signatures():
    """(c) for the compiled class SpectralDensity: its methods are pybind11 functions that inspect.signature
    cannot read (see pybind_parameters); their names and defaults are compared with pybind11's signature line."""
    problems = []
    cls = qheat.SpectralDensity
    for member in ["__init__"] + sorted(n for n, v in class_members(cls).items() if callable(v)):
        fn = getattr(cls, member)
        with pytest.raises(ValueError):  # if this ever stops raising, compare with inspect.signature instead
            inspect.signature(fn)
        entries = stub_member("SpectralDensity", member)
        if not entries:
            problems.append(f"qheat.SpectralDensity.{member}: no stub def")
            continue
        problems += compare_signature(f"qheat.SpectralDensity.{member}", pybind_parameters(fn),
                                      [node for _, node, _ in entries])
    return problems


# ---- tests ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("module", sorted(STUBS))
def test_stub_parses(module):
    with open(STUBS[module]) as f:
        text = f.read()
    tree = ast.parse(text, STUBS[module])
    compile(tree, STUBS[module], "exec")
    assert ast.get_docstring(tree), f"{module}: the stub file has no module docstring"
    # Stubs hold declarations only: no statement would run anything (every def body is a docstring or ...).
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            assert all(isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) for s in node.body), \
                f"{module}: {node.name} has a body"
    # A name defined twice is a set of @overload variants, not a later def silently replacing an earlier one.
    scope = read_stub(module)
    for where in [scope] + list(scope.classes.values()):
        for name, entries in where.entries.items():
            defs = [node for kind, node, _ in entries if kind == "function"]
            if len(defs) > 1:
                assert all(is_overload(d) for d in defs), f"{module}: {where.name}.{name} defined twice"


def test_imported_package_ships_the_stubs():
    # The build copies python/qheat/*.pyi and py.typed next to the compiled module (python/CMakeLists.txt),
    # and `cmake --install` installs them: the package under test carries these very stubs.
    here = os.path.dirname(qheat.__file__)
    assert os.path.isfile(os.path.join(here, "py.typed"))
    for path in STUBS.values():
        shipped = os.path.join(here, os.path.basename(path))
        assert os.path.isfile(shipped), f"{shipped} is missing: rebuild (cmake --build) to copy the stubs"
        with open(path) as a, open(shipped) as b:
            assert a.read() == b.read(), f"{shipped} differs from {path}: rebuild to copy the stubs"


@pytest.mark.parametrize("module", sorted(STUBS))
def test_stub_docstrings_are_one_line(module):
    problems = check_stub_docstrings(read_stub(module), f"{module}.")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", sorted(STUBS))
def test_public_names_documented_and_stubbed(module):
    problems = check_module(module)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", public_classes())
def test_class_members_documented_and_stubbed(name, instances):
    problems = check_class(name, instances.get(name))
    assert not problems, "\n".join(problems)


def test_every_class_has_a_sample(instances):
    # The instance-attribute check of test_class_members_documented_and_stubbed needs one object per class.
    assert sorted(instances) == public_classes()


def test_python_signatures_match_stubs():
    problems = check_signatures()
    assert not problems, "\n".join(problems)


def test_compiled_signatures_match_stubs():
    problems = check_compiled_signatures()
    assert not problems, "\n".join(problems)


def test_checks_catch_omissions(monkeypatch):
    """The checks above fail for a public name added without docstring or stub."""
    # A signature that drifts from its stub.
    def drifted(model, method="local", **options):
        return model

    problems = check_signatures()
    assert not problems, "\n".join(problems)
    with monkeypatch.context() as m:
        m.setattr(qheat, "solve", drifted)
        assert check_signatures() == ["qheat.solve: default of method: stub 'global', runtime 'local'"]

    # A new function in __all__.
    def new_function(x, *, y=1):
        return x

    new_function.__doc__ = None
    monkeypatch.setattr(qheat, "new_function", new_function, raising=False)
    monkeypatch.setattr(qheat, "__all__", qheat.__all__ + ["new_function"])
    problems = check_module("qheat")
    assert "qheat.new_function: no docstring" in problems
    assert "qheat.new_function: missing from python/qheat/__init__.pyi" in problems
    assert "qheat.new_function: no stub def" in check_signatures()

    # A new method, property, instance attribute.
    monkeypatch.setattr(qheat.Model, "new_method", lambda self: None, raising=False)
    monkeypatch.setattr(qheat.Solution, "new_property", property(lambda self: 1), raising=False)
    assert {"Model.new_method: no docstring", "Model.new_method: missing from the stub class"} <= \
        set(check_class("Model"))
    assert "Solution.new_property: missing from the stub class" in check_class("Solution")
    bath = qheat.Bath("b", np.eye(2), 1.0, spectral=qheat.Flat(0.1))
    bath.new_attribute = 1
    assert {"Bath.new_attribute: instance attribute not described in the class docstring",
            "Bath.new_attribute: instance attribute missing from the stub class"} <= set(check_class("Bath", bath))


def test_checks_catch_stub_drift(monkeypatch, tmp_path):
    """The checks fail for a stub whose signatures, kinds or docstrings drift from the package."""
    with open(STUBS["qheat"]) as f:
        text = f.read()
    edits = [
        ("        s: float = 1.0,\n", "        s: float = 2.0,\n"),                      # compiled default
        ("    def kappa(self, w: float) -> float:", "    def kappa(self, x: float) -> float:"),  # compiled name
        ("        method: _Method = \"global\",\n        *,\n        lamb_shift",            # keyword-only marker
         "        method: _Method = \"global\",\n        lamb_shift"),
        ('"""Method names (docs/conventions.md): static local, global, redfield, heom; driven dme, ddme, floquet."""\n',
         ""),                                                                            # attribute docstring
        ("    def as_dict(self) -> dict[str, Any]:\n        \"\"\"The JSON document of ``qheat gibbs``.\"\"\"\n",
         ""),                                                                            # missing method
        ("def to_dataframe(", "def _to_dataframe("),                                     # missing function
    ]
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    drifted = tmp_path / "__init__.pyi"
    drifted.write_text(text)
    monkeypatch.setitem(STUBS, "qheat", str(drifted))
    compiled = check_compiled_signatures()
    assert any(p.startswith("qheat.SpectralDensity.__init__: default of s: stub 2.0, runtime 1.0") for p in compiled)
    assert any(p.startswith("qheat.SpectralDensity.kappa: stub parameters") for p in compiled)
    assert any(p.startswith("qheat.Model.solve: stub parameters") for p in check_signatures())
    assert "qheat.METHODS: stub entry without a docstring" in check_stub_docstrings(read_stub("qheat"), "qheat.")
    assert "GibbsState.as_dict: missing from the stub class" in check_class("GibbsState")
    assert any(p.startswith("qheat.to_dataframe: missing from") for p in check_module("qheat"))
