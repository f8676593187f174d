"""Progress a user can read: plain lines when the output is a log or a pipe (a
run that prints nothing for 36 minutes looks dead), and a rich line that keeps
the bar, done/total, rate and ETA in an 80-column terminal."""

from __future__ import annotations

import re
import time
from collections import Counter
from io import StringIO

from rich.console import Console

from conftest import fourfold
from fourfold.run.progress import RunProgress, short_label

TOTALS = Counter({"image/generalizability": 102, "image/trustworthiness": 49, "image/causality": 19,
                  "text/generalizability": 54, "text/trustworthiness": 30})
LONG = "openai/gpt-4o-mini-2024-07-18@http://127.0.0.1:8000/v1"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
PLAIN = re.compile(r"^progress (\S+): (\d+)/(\d+) \((\d+)%\) [\d.]+/s ETA (\d+:\d\d:\d\d|-:--:--) "
                   r"elapsed \d+:\d\d:\d\d(, (\d+) errors?)?$")


def _render(width: int, labels: list[str], errors: int = 1) -> list[str]:
    """The progress lines as a terminal of ``width`` columns shows them, after
    most of one model's cases and ``errors`` errors."""
    con = Console(width=width, force_terminal=True, file=StringIO(), color_system="truecolor")
    p = RunProgress(TOTALS, labels, True, console=con)
    assert p.mode == "rich"
    with p:
        advance = p.advancer(labels[0])
        for cell, n in TOTALS.items():
            for _ in range(n - 3):
                advance(cell)
        for _ in range(errors):
            advance("text/generalizability", "error")
        out = Console(width=width, force_terminal=True, file=StringIO(), color_system="truecolor")
        for label in labels:
            p._update(label)
        out.print(p.progress.get_renderable())
    text = ANSI.sub("", out.file.getvalue())  # type: ignore[attr-defined]
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def test_rich_line_keeps_bar_count_rate_and_eta_in_80_columns():
    lines = _render(80, ["smollm2", LONG])
    assert len(lines) == 2
    for line in lines:
        assert len(line) <= 80, line
        assert "━" in line or "╸" in line or "─" in line, f"no bar: {line}"
        assert re.search(r"\d+/254", line), line
        assert re.search(r"\b[\d.]+/s\b", line), line
        assert re.search(r"ETA (\d+:\d\d:\d\d|-:--:--)", line), line
    done = sum(TOTALS.values()) - 3 * len(TOTALS) + 1  # 240
    assert re.search(rf"\b{done}/254\b", lines[0])
    assert lines[0].startswith("smollm2 ")
    # the long spec loses its URL (and its backend prefix if need be), never part of the name
    assert lines[1].split()[0] in ("openai/gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-07-18"), lines[1]
    assert "@" not in lines[1]


def test_rich_line_adds_cells_and_errors_where_there_is_room():
    items = ["1 error", "image/gen 99/102", "image/trust 46/49", "image/caus 16/19", "text/gen 52/54",
             "text/trust 27/30"]
    narrow = _render(80, ["smollm2"])[0]
    wide = _render(200, ["smollm2"])[0]
    assert len(narrow) <= 80 and len(wide) <= 200
    assert [x for x in re.sub(r"^.*?ETA \S+", "", wide).strip().split("  ") if x] == items
    # in 80 columns: what fits, whole items only, in the same order
    shown = [x for x in re.sub(r"^.*?ETA \S+", "", narrow).strip().split("  ") if x]
    assert shown and shown == items[:len(shown)] and len(shown) < len(items), narrow


def test_short_label_cuts_only_at_separators():
    assert short_label("smollm2", 20) == "smollm2"
    assert short_label("openai/gpt-4o@http://host:8000/v1", 20) == "openai/gpt-4o"
    assert short_label("openai/gpt-4o-mini-2024-07-18@http://host:8000/v1", 25) == "gpt-4o-mini-2024-07-18"
    assert short_label("llamacpp//home/me/models/qwen2.5-7b-instruct.gguf", 30) == "qwen2.5-7b-instruct.gguf"
    cut = short_label("openai/a-very-long-model-name-with-many-parts", 20)
    assert len(cut) <= 20 and cut.endswith("…")
    assert "openai/a-very-long-model-name-with-many-parts".startswith(cut[:-1])
    assert cut[:-1] in ("openai/a-very-long", "openai/a-very-long-model")  # up to a separator


def test_plain_lines_when_not_a_terminal_carry_counts_rate_eta_and_errors():
    out = StringIO()
    p = RunProgress(Counter({"text/generalizability": 40}), ["m"], True,
                    console=Console(file=StringIO()), plain=out, interval_s=0.2)
    assert p.mode == "plain"
    with p:
        advance = p.advancer("m")
        for i in range(40):
            advance("text/generalizability", "error" if i == 3 else "ok")
            if i == 9:
                before = out.getvalue().count("\n")
                # no result for a while: the timer still reports (every 0.2 s; waited for, with a generous
                # deadline, since a loaded machine may run the timer thread late)
                deadline = time.monotonic() + 30
                while out.getvalue().count("\n") == before and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert out.getvalue().count("\n") > before, "no line while no result arrived"
    lines = out.getvalue().splitlines()
    parsed = [PLAIN.match(line) for line in lines]
    assert all(parsed), lines
    counts = [int(m.group(2)) for m in parsed]  # type: ignore[union-attr]
    assert counts == sorted(counts) and counts[-1] == 40
    assert sum(1 for c in counts if c < 40) >= 10, "a line at every 5 %"
    assert lines[-1].startswith("progress m: 40/40 (100%)") and lines[-1].endswith(", 1 error")


def test_fourfold_run_prints_plain_progress_into_a_pipe(latency_server, qa_file, tmp_path):
    n = 200
    server = latency_server("--delay-ms", "20")
    r = fourfold("run", "--model", f"openai/latency-model@{server.base_url}", "--cases", str(qa_file(n)),
                 "--cell", "text/generalizability", "--concurrency", "4", "--store", str(tmp_path / "r.db"),
                 "--out", str(tmp_path / "out"))
    lines = [line for line in r.stderr.splitlines() if line.startswith("progress ")]
    matches = [PLAIN.match(line) for line in lines]
    assert all(matches), lines
    assert {m.group(1) for m in matches} == {f"openai/latency-model@{server.base_url}"}  # type: ignore[union-attr]
    counts = [int(m.group(2)) for m in matches]  # type: ignore[union-attr]
    assert len(counts) >= 5 and counts == sorted(counts), counts
    assert counts[-1] == n and lines[-1].split(": ", 1)[1].startswith(f"{n}/{n} (100%)")
    # with --no-progress, none
    quiet = fourfold("run", "--model", f"openai/latency-model@{server.base_url}", "--cases", str(qa_file(n)),
                     "--cell", "text/generalizability", "--store", str(tmp_path / "r2.db"),
                     "--out", str(tmp_path / "out2"), "--no-progress")
    assert "progress " not in quiet.stderr


def test_cases_recorded_without_a_call_count_in_neither_rate_nor_eta():
    """An image case for a text model is recorded at once: counting it would make
    a text model look like thousands of answers a second with an ETA of nothing."""
    from fourfold.run.progress import _Model

    m = _Model(total=100)
    for _ in range(30):  # 30 not evaluated, 10 answered, in 10 s
        m.done += 1
        m.instant += 1
    for _ in range(10):
        m.done += 1
        m.fresh += 1
    assert m.rate(10.0) == 1.0  # the 10 answers, not the 40 records
    # 60 left; a quarter of what was seen needed a call: 15 calls at 1/s
    assert m.eta(10.0) == "0:00:15"


def test_advance_sorts_not_evaluated_from_answers():
    p = RunProgress(Counter({"image/causality": 2, "text/causality": 2}), ["m"], False)
    advance = p.advancer("m")
    advance("image/causality", "not_evaluated")
    advance("image/causality", "not_evaluated")
    advance("text/causality", "ok")
    advance("text/causality", "stored")
    m = p.models["m"]
    assert (m.done, m.fresh, m.instant) == (4, 1, 2)
