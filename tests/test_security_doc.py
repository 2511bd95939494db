"""docs/security.md stays honest: every test it names exists, and every SECURITY.md item has a row.

The tests named there are found by reading the test files (ast), not by running them. Whether
a test really proves its rule is a reviewer's judgement; this only catches a doc that has
drifted from the code (a test renamed, moved or deleted, an item left out).
"""

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "security.md"
# ../shared/SECURITY.md numbers its items 1 to 48.
SECURITY_ITEMS = range(1, 49)
# A test as the doc names it: tests/<path>.py::test_name, or ::Class::test_name.
REFERENCE = re.compile(r"\b(tests/[\w/]+\.py)((?:::\w+)+)")
STATUSES = ("proven", "partly", "not yet")


def cells(line: str) -> list[str]:
    # A "|" escaped as "\|" is part of a cell (the CSV-injection input, for one).
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def rows() -> list[dict[str, str]]:
    """Every row of every table of the doc, as {column name: cell}."""
    found, header = [], None
    for line in DOC.read_text().splitlines():
        if not line.startswith("|"):
            header = None
            continue
        row = cells(line)
        if header is None:
            header = [name.lower() for name in row]
        elif not all(set(cell) <= set("-: ") for cell in row):
            found.append(dict(zip(header, row, strict=True)))
    return found


@cache
def defined_in(path: str) -> set[str]:
    """The functions of a file as "name" and "Class::name"."""
    tree = ast.parse((ROOT / path).read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.update(
                f"{node.name}::{child.name}"
                for child in node.body
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            )
    return names


def test_the_doc_is_read_as_tables_with_the_columns_it_promises():
    found = rows()
    assert found
    for row in found:
        assert {"#", "proven by", "status", "source"} <= set(row), row


def test_every_test_the_doc_names_exists():
    missing = []
    for path, names in REFERENCE.findall(DOC.read_text()):
        name = names.removeprefix("::")
        if not (ROOT / path).is_file():
            missing.append(f"{path} (no such file)")
        elif not name.split("::")[-1].startswith("test_"):
            missing.append(f"{path}::{name} (not a test)")
        elif name not in defined_in(path):
            missing.append(f"{path}::{name}")
    assert not missing, "docs/security.md names tests that do not exist:\n" + "\n".join(missing)


def test_every_security_item_has_one_row():
    numbers = [row["#"] for row in rows()]
    missing = [n for n in map(str, SECURITY_ITEMS) if n not in numbers]
    twice = sorted({n for n in numbers if numbers.count(n) > 1})
    assert not missing, f"SECURITY.md items without a row in docs/security.md: {missing}"
    assert not twice, f"rows of docs/security.md numbered twice: {twice}"


def test_every_row_has_a_status_and_a_proven_row_names_its_tests():
    wrong = []
    for row in rows():
        status, proven_by = row["status"], row["proven by"]
        if not status.startswith(STATUSES):
            wrong.append(f"{row['#']}: status {status!r}")
        elif status.startswith(("proven", "partly")) and not REFERENCE.search(proven_by):
            wrong.append(f"{row['#']}: {status.split(':')[0]} but no test named")
        elif status.startswith("partly") and not status.startswith("partly: "):
            wrong.append(f"{row['#']}: partly, without saying what is missing")
        elif status.startswith("not yet") and REFERENCE.search(proven_by):
            wrong.append(f"{row['#']}: not yet, but names tests (partly?)")
    assert not wrong, "\n".join(wrong)
