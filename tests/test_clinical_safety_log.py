"""The hazard log (docs/clinical-safety.md) names tests that exist, for every hazard.

The log proves each control with tests named by their pytest node ids; when a
test is renamed or removed, this fails, so the log cannot silently rot.
"""

import ast
import re
from pathlib import Path

from intake import triage

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "docs" / "clinical-safety.md"
NODE_ID = re.compile(r"`(tests/[\w/]+\.py)((?:::\w+)+)(?:\[[^\]`]*\])?`")
HAZARD = re.compile(r"^### (H-\d\d) ", re.M)


def node_ids(text: str) -> list[tuple[str, list[str]]]:
    return [(path, names.strip(":").split("::")) for path, names in NODE_ID.findall(text)]


def defined_names(path: Path) -> set[tuple[str, ...]]:
    """Every test function in a file, as (name,) or (class, name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.add((node.name,))
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    found.add((node.name, item.name))
    return found


def test_every_test_the_hazard_log_names_exists():
    text = LOG.read_text(encoding="utf-8")
    named = node_ids(text)
    assert len(named) > 50
    missing = []
    for path, names in named:
        file = ROOT / path
        if not file.is_file() or tuple(names) not in defined_names(file):
            missing.append(f"{path}::{'::'.join(names)}")
    assert missing == [], "docs/clinical-safety.md names tests that do not exist"


def test_the_check_finds_a_missing_test():
    named = node_ids("Tests: `tests/test_clinical_safety_log.py::test_that_was_renamed`.")
    [(path, names)] = named
    assert tuple(names) not in defined_names(ROOT / path)


def test_every_hazard_names_its_controls_tests_and_residual_risk():
    text = LOG.read_text(encoding="utf-8")
    sections = HAZARD.split(text)[1:]
    hazards = dict(zip(sections[::2], sections[1::2], strict=True))
    assert len(hazards) >= 13
    for hazard, body in hazards.items():
        assert "**Causes**" in body, hazard
        assert "**Controls" in body, hazard
        assert "**Residual risk**" in body, hazard
        assert node_ids(body), f"{hazard} names no test"


def test_the_log_records_the_current_rules_version():
    text = LOG.read_text(encoding="utf-8")
    assert f"rules version {triage.RULES_VERSION}" in text.lower()
