"""The README's Python session runs as printed and prints what its comments say."""
import contextlib
import io
import os
import re

from conftest import ROOT


def test_readme_python_block(monkeypatch):
    text = open(os.path.join(ROOT, "README.md")).read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "the README has one Python session"
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(blocks[0], "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    # The comments of the block state the printed values (rounded in the comment, exact here).
    assert lines[0].startswith("{'hot': 0.08447220645745") and "'cold': -0.08447220645745" in lines[0]
    assert lines[1] == "77.0"
