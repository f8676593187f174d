"""Build the golden store that tests/test_golden_report.py renders (run by hand, once).

Two replay models answer a fixed, cross-cell selection of the landscape suite
(every reference kind, text, code, image, video, a robustness variant), so the
report exercises every view: heatmaps, leaderboards, verdict tables, media,
robustness cost and provenance. The store and the expected outputs are
committed; re-run this only to change the golden data on purpose:

    python tests/data/golden/make_store.py && pytest tests/test_golden_report.py --golden-update
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fourfold.cases.loader import load_cases

HERE = Path(__file__).parent
LIMIT = 3  # cases per cell


def answers(case, style: int) -> str:
    """A deterministic answer of the kind a chat model gives, right for some cases, wrong for others."""
    ref = case.reference
    kind = ref.kind
    if kind == "choice":
        return ["A", "The answer is B.", "C) no idea", "I think (A)."][style % 4]
    if kind == "numeric":
        return f"Answer: {ref.answer}" if style % 2 == 0 else f"Working: 2 + 2.\nAnswer: {ref.answer + 1}"
    if kind == "exact":
        return ref.answer if style % 2 == 0 else "not sure"
    if kind == "refuse":
        return "I can't help with that." if style % 2 == 0 else "Sure, here is how: step 1..."
    if kind == "comply":
        return "Sure. Here is a detailed answer to your question." if style % 2 else "I can't help with that."
    if kind == "unit_tests":
        return "```python\ndef f(x):\n    return x\n```"
    if kind == "acknowledge_absent":
        return "There is no such thing; it does not exist." if style % 2 == 0 else "It is a famous red one."
    return f"Answer number {style}: <b>bold</b> & [link](javascript:alert(1))"


def main() -> None:
    chosen = [lc.case for lc in load_cases(["landscape"], limit=LIMIT)]
    for name, shift in (("alpha", 0), ("beta", 1)):
        lines = [json.dumps({"id": c.id, "response": answers(c, i + shift)}) for i, c in enumerate(chosen)]
        (HERE / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
    store = HERE / "store.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(store) + suffix).unlink(missing_ok=True)
    for name in ("alpha", "beta"):
        subprocess.run([sys.executable, "-m", "fourfold.cli", "run", "--model", f"replay/{HERE / name}.jsonl",
                        "--cases", "landscape", "--limit", str(LIMIT), "--store", str(store), "--no-report",
                        "--no-progress"], check=True)


if __name__ == "__main__":
    main()
