"""docs/interfaces.md is the contract users rely on: its exit codes are the ones the code gives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clientlens import errors
from clientlens.cli import common

ROOT = Path(__file__).resolve().parent.parent
INTERFACES = ROOT / "docs" / "interfaces.md"


def _section(title: str) -> str:
    text = INTERFACES.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, flags=re.M | re.S)
    assert match, f"docs/interfaces.md has no section {title!r}"
    return match.group(1)


def documented_codes() -> dict[int, str]:
    """``{code: meaning}`` from the sentence "0 success; 1 error (...); 2 ..." of the exit-code section."""
    sentence = _section("Exit codes of every command").split("\n\n")[0].replace("\n", " ")
    parts = [p.strip() for p in re.split(r";\s*(?![^()]*\))", sentence.rstrip(". "))]
    codes = {}
    for part in parts:
        code, _, meaning = part.partition(" ")
        codes[int(code)] = meaning
    return codes


def code_for(phrase: str) -> int:
    found = [code for code, meaning in documented_codes().items() if phrase in meaning]
    assert len(found) == 1, f"{phrase!r} names codes {found} in docs/interfaces.md"
    return found[0]


def import_table() -> list[tuple[str, int, str]]:
    """The rows ``input | code | kept`` of the import cases table."""
    rows = []
    for line in _section("Exit codes of every command").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1].isdigit():
            rows.append((cells[0], int(cells[1]), cells[2]))
    return rows


def test_the_documented_codes_are_the_five_known_ones() -> None:
    codes = documented_codes()
    assert sorted(codes) == [0, 1, 2, 3, 4]
    assert codes[0] == "success"


def test_each_error_gives_the_code_documented_for_its_meaning() -> None:
    assert errors.InputError.exit_code == code_for("input unusable") == 4
    assert errors.MissingColumnsError.exit_code == code_for("input unusable")
    assert errors.ValidationError.exit_code == code_for("rows rejected") == 3
    general = code_for("error (message says what and where)")
    for cls in (errors.ClientlensError, errors.ConfigError, errors.StoreError, errors.NotFoundError,
                errors.EngineError, errors.ModelError, errors.NotFittedError, errors.CareError,
                errors.ConsentError):
        assert cls.exit_code == general, cls.__name__


def _all_errors() -> list[type[errors.ClientlensError]]:
    found, todo = [], [errors.ClientlensError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_no_error_gives_an_undocumented_code_or_one_reserved_for_success_or_usage() -> None:
    allowed = set(documented_codes()) - {code_for("success"), code_for("usage error")}
    for cls in _all_errors():
        assert cls.exit_code in allowed, f"{cls.__name__}.exit_code = {cls.exit_code}"


def test_the_cli_constants_are_the_documented_codes() -> None:
    assert common.EXIT_OK == code_for("success")
    assert common.EXIT_ERROR == code_for("error (message says what and where)")
    assert common.EXIT_USAGE == code_for("usage error")
    assert common.EXIT_REJECTED == code_for("rows rejected")
    assert common.EXIT_UNUSABLE == code_for("input unusable")


def test_the_import_table_gives_the_codes_of_the_errors() -> None:
    table = import_table()
    assert len(table) >= 5
    by_kept = {kept: code for _, code, kept in table}
    assert by_kept["nothing"] == errors.MissingColumnsError.exit_code
    assert by_kept["every other row"] == by_kept["every complete row"] == errors.ValidationError.exit_code
    assert by_kept["all"] == common.EXIT_OK


@pytest.mark.parametrize(("content", "meaning"), [
    ("", "input unusable"),
    ("customer_id,order_date\nc1,2024-01-02\n", "input unusable"),  # the required total is missing
    ("customer_id,order_date,total\nc1,2024-01-02,10.5\nc2,not a date,3\n", "rows rejected"),
    ("customer_id,order_date,total\nc1,2024-01-02,10.5\n", "success"),
])
def test_an_import_exits_with_the_documented_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  content: str, meaning: str) -> None:
    from clientlens.cli.main import build_app

    monkeypatch.chdir(tmp_path)  # the quarantine file goes to the current directory
    orders = tmp_path / "orders.csv"
    orders.write_text(content, encoding="utf-8")
    store = f"sqlite:///{tmp_path / 'store.db'}"
    result = CliRunner().invoke(build_app(), ["--db", store, "import", "orders", str(orders)])
    assert result.exit_code == code_for(meaning), result.output


def test_a_usage_error_exits_with_the_documented_code() -> None:
    from clientlens.cli.main import build_app

    result = CliRunner().invoke(build_app(), ["status", "--no-such-option"])
    assert result.exit_code == code_for("usage error")


def test_the_project_cites_its_own_copy_of_the_contracts() -> None:
    stale = []
    for top in ("src", "docs", "tests", "bench", "README.md"):
        base = ROOT / top
        for path in [base] if base.is_file() else base.rglob("*"):
            if not path.is_file() or path in (INTERFACES, Path(__file__).resolve()):
                continue
            if path.suffix in (".pyc", ".gz", ".parquet", ".xlsx", ".db"):
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            stale += [f"{path.relative_to(ROOT)}:{n}" for n, line in enumerate(text.splitlines(), 1)
                      if re.search(r"(?<!docs/)INTERFACES\.md", line)]
    assert not stale, f"cite docs/interfaces.md instead: {stale}"
