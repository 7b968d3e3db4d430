"""The README's Python session runs as printed and prints what its comments say."""
import contextlib
import csv
import io
import os
import re

from conftest import ROOT, cli_rule, run_cli


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


def _own_model_section(text):
    start = text.index("## Your own model")
    return text[start:text.index("\n## ", start + 1)]


def _table_current(out, bath):
    """J[bath] of `--format table` output."""
    m = re.search(r"^J\[" + bath + r"\]\s+(\S+)", out, re.M)
    assert m, out
    return float(m.group(1))


def test_readme_own_model_commands_run_as_printed(tmp_path):
    """The section "Your own model": its TOML block and the commands after it run, and print the currents its
    text states (4 significant digits, as printed there). The HEOM paragraph's file is built from the block by
    the substitutions the text names, so a model the HEOM method refuses cannot be presented as its input."""
    section = _own_model_section(open(os.path.join(ROOT, "README.md")).read())
    toml = re.findall(r"```toml\n(.*?)```", section, re.S)
    assert len(toml) == 1
    (tmp_path / "mine.toml").write_text(toml[0])

    code, out, err = run_cli("ness", tmp_path / "mine.toml", "--method", "redfield", "--format", "table")
    assert code == 0, err
    assert "J[hot] = 4.588e-4" in section and f"{_table_current(out, 'hot'):.3e}" == "4.588e-04"

    # mine.toml's exchange couplings are refused by HEOM with the rule the text names.
    code, _, err = run_cli("ness", tmp_path / "mine.toml", "--method", "heom")
    assert code == 2 and cli_rule(err) == "heom-coupling" and "`heom-coupling`" in section

    hermitian = (toml[0].replace('coupling = "exchange", operator = "sm(q1)"', 'coupling = "hermitian", operator = "sx(q1)"')
                 .replace('coupling = "exchange", operator = "sm(q2)"', 'coupling = "hermitian", operator = "sx(q2)"')
                 .replace('kind = "ohmic_exp"', 'kind = "drude"'))
    assert hermitian.count('"hermitian"') == 2 and hermitian.count('"drude"') == 2
    assert 'coupling = "hermitian", operator = "sx(q1)"' in section and 'kind = "drude"' in section
    (tmp_path / "mine_h.toml").write_text(hermitian)
    heom = re.search(r"mine_h\.toml --method heom` gives J\[hot\] = (\S+) against (\S+) from `redfield`",
                     section.replace("\n", " "))
    assert heom, "the HEOM paragraph states both currents"
    for method, printed in (("heom", heom.group(1)), ("redfield", heom.group(2))):
        code, out, err = run_cli("ness", tmp_path / "mine_h.toml", "--method", method, "--format", "table")
        assert code == 0, err
        assert f"{_table_current(out, 'hot'):.3e}" == printed.replace("e-4", "e-04"), (method, out)

    code, _, err = run_cli("sweep", tmp_path / "mine_h.toml", "--vary", "Th=0.5:4:8", "--method",
                           "redfield,global,local,heom", "--reference", "heom", "--out", tmp_path / "v.csv",
                           "--quiet")
    assert code == 0, err
    # The text's reading of the map: within 5 % of HEOM, Bloch-Redfield at every T_h, Davies up to T_h = 2
    # (its deviation passes 0.05 between the grid's 2.0 and 2.5), local Lindblad at none; T_h = 0.5 = T_c has
    # no current, so no deviation.
    assert "Bloch–Redfield everywhere, Davies below T_h ≈ 2.4, local Lindblad nowhere" in section.replace("\n", " ")
    rows = list(csv.DictReader(line for line in open(tmp_path / "v.csv") if not line.startswith("#")))
    within = {m: [float(r["Th"]) for r in rows if r["method"] == m and float(r["deviation"]) <= 0.05]
              for m in ("redfield", "global", "local")}
    assert within == {"redfield": [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0], "global": [1.0, 1.5, 2.0], "local": []}
    # ... and its reason at T_h = T_c, as the text gives it: HEOM converged (in the state), currents ~1e-8, no
    # deviation in any row.
    assert "HEOM's automatic mode converges the state there" in section.replace("\n", " ")
    [equal] = [r for r in rows if r["method"] == "heom" and float(r["Th"]) == 0.5]
    assert equal["status"] == "converged" and 0 < abs(float(equal["J_hot"])) < 1e-7, equal
    assert all(r["deviation"] == "nan" for r in rows if float(r["Th"]) == 0.5), rows[:4]
    assert all(r["deviation"] == "nan" for r in rows if float(r["Th"]) == 0.5)
    code, _, err = run_cli("plot", tmp_path / "v.csv", "--validity", "0.05", "--out", tmp_path / "v.png")
    assert code == 0, err
    assert (tmp_path / "v.png").stat().st_size > 0
