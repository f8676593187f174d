"""Data flows one way: no stage imports a later one (docs/architecture.md).

Read from the source with ``ast`` (imports inside functions count too: a lazy
import of a later stage is still a dependency on it)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "fourfold"
#: Each stage's rank; report, site and publish are three outputs side by side (same rank,
#: and none may import another); modules at the top (registry, secrets) may be used by all.
RANK = {"cases": 1, "models": 2, "judge": 3, "store": 4, "run": 5, "score": 6,
        "report": 7, "site": 7, "publish": 7, "web": 8, "cli": 9}


def _imported_stages(path: Path, stage: str, root: Path = SRC) -> set[str]:
    """The stages (other than ``stage``) that the module at ``path`` (under ``root``,
    the ``fourfold`` package folder) imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    depth = len(path.relative_to(root).parts) - 1  # package levels below fourfold/
    out: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = list(path.relative_to(root).parts[:-1])[: max(0, depth - node.level + 1)]
                mod = base + (node.module.split(".") if node.module else [])
                names = [".".join(mod + [a.name]) for a in node.names] if not node.module else [".".join(mod)]
            elif node.module and node.module.startswith("fourfold."):
                names = [node.module.removeprefix("fourfold.")]
        elif isinstance(node, ast.Import):
            names = [a.name.removeprefix("fourfold.") for a in node.names if a.name.startswith("fourfold.")]
        for name in names:
            top = name.split(".")[0]
            if top in RANK and top != stage:
                out.add(top)
    return out


def test_no_stage_imports_a_later_one() -> None:
    wrong = []
    for stage, rank in RANK.items():
        for path in sorted((SRC / stage).rglob("*.py")):
            for other in _imported_stages(path, stage):
                if RANK[other] >= rank:
                    wrong.append(f"{path.relative_to(SRC)} imports {other}")
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_a_later_import(tmp_path: Path) -> None:
    """The walk finds relative, absolute and function-level imports of a later stage, so the test above can fail."""
    layout = tmp_path / "fourfold" / "store" / "sub"
    layout.mkdir(parents=True)
    probe = layout / "probe.py"
    probe.write_text("from ...report import build_report\nimport fourfold.web\n\n"
                     "def f():\n    from ... import site\n    from ..records import X\n")
    assert _imported_stages(probe, "store", tmp_path / "fourfold") == {"report", "web", "site"}
