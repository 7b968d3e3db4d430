"""docs/python.md runs as printed: every ```python block, in order, in one namespace, as a reader would paste
them into one session started at the repository root. The blocks run in a temporary directory that looks
like the repository root to them (examples/ links to the real one, build/release/qheat to the CLI of this
build), so the figure they save lands there; matplotlib draws with the Agg backend. ```sh blocks are not
run. A snippet that raises (its own asserts included) fails the test, naming the block and its line."""
import contextlib
import io
import os
import re

import pytest

from conftest import CLI, ROOT

DOC = os.path.join(ROOT, "docs", "python.md")
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)


def blocks(kind):
    """(first line number, code) of every ```kind block of the document."""
    with open(DOC) as f:
        text = f.read()
    return [(text.count("\n", 0, m.start()) + 2, m.group(2)) for m in FENCE.finditer(text) if m.group(1) == kind]


def test_fences_are_known():
    # A block with another language (or none) would silently not run: python, sh and nothing else.
    with open(DOC) as f:
        kinds = {m.group(1) for m in FENCE.finditer(f.read())}
    assert kinds <= {"python", "sh"}, kinds
    assert len(blocks("python")) >= 10


@pytest.fixture
def repository_like(tmp_path, monkeypatch):
    (tmp_path / "examples").symlink_to(os.path.join(ROOT, "examples"))
    (tmp_path / "build" / "release").mkdir(parents=True)
    (tmp_path / "build" / "release" / "qheat").symlink_to(os.path.abspath(CLI))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    import matplotlib
    matplotlib.use("Agg")
    return tmp_path


def test_python_blocks_run_in_order(repository_like):
    namespace = {"__name__": "__docs__"}
    out = io.StringIO()
    for line, code in blocks("python"):
        # Line numbers of tracebacks are those of docs/python.md.
        compiled = compile("\n" * (line - 1) + code, DOC, "exec")
        with contextlib.redirect_stdout(out):
            exec(compiled, namespace)
    printed = out.getvalue()
    # What the prose states about the output.
    assert "{'hot': 0.0844722" in printed                          # the three lines
    assert "Bloch-Redfield peaks at dT = 75; Lindblad rising: True" in printed  # Fig. 3, g = 0.5
    figure = repository_like / "zhang2025_fig3.png"
    assert figure.is_file() and figure.stat().st_size > 10_000
    import matplotlib.pyplot as plt
    assert plt.get_fignums() == []  # the doc closes what it opens
