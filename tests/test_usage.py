"""Usage and cost: the price table (packaged and the user's own), tokens and money
per model and cell (score.usage), in the run's summary and in the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import fourfold
from fourfold.report import build_report, scores_json
from fourfold.score.usage import (
    PriceFileError,
    format_usd,
    load_prices,
    parse_prices,
    usage_by_model,
)
from fourfold.store import ResultRow, Store
from fourfold.store.records import StoredResult


def _result(model: str, cell: str, p: int | None, c: int | None, status: str = "ok") -> StoredResult:
    return StoredResult(key=f"{model}{cell}{p}{c}", model=model, case_id="c", case_hash="h", cell=cell,
                        verdict="good", status=status, prompt_tokens=p, completion_tokens=c)


@pytest.mark.parametrize(("label", "matched"), [
    ("openai/gpt-4o", "gpt-4o"),
    ("openai/gpt-4o-2024-08-06@https://api.openai.com/v1#image", "gpt-4o"),
    ("openai/gpt-4o-mini", "gpt-4o-mini"),
    ("openai/gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
    ("anthropic/claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
    ("anthropic/claude-3-5-haiku-latest", "claude-3-5-haiku"),
    ("gemini/gemini-1.5-pro-002", "gemini-1.5-pro"),
    ("gemini/gemini-2.0-flash", "gemini-2.0-flash"),
    ("smollm2", "backend smollm2"),
    ("llamacpp/models/tiny.gguf", "backend llamacpp"),
    ("hf/llava-hf/llava-1.5-7b-hf#adapter=/x", "backend hf"),
])
def test_packaged_prices_match_model_names(label: str, matched: str) -> None:
    price = load_prices().price(label)
    assert price is not None and price.matched == matched


@pytest.mark.parametrize("label", ["replay/answers.jsonl", "openai/smollm2@http://127.0.0.1:8080/v1",
                                   "gemini/gemini-1.5-flash-8b", "openai/gpt-4o-audio-preview", "alpha"])
def test_unpriced_models_are_unknown_not_free(label: str) -> None:
    assert load_prices().price(label) is None


def test_the_packaged_table_passes_the_user_files_checks() -> None:
    """It is read without the schema (10 ms a run), so the schema checks it here."""
    from fourfold.score.usage import PACKAGED_PRICES

    checked = parse_prices(PACKAGED_PRICES.read_text(encoding="utf-8"), "packaged")
    assert checked == load_prices() and len(checked.models) >= 8 and checked.as_of


def test_cost_per_cell_and_total() -> None:
    rows = [_result("openai/gpt-4o", "text/causality", 1000, 500), _result("openai/gpt-4o", "text/causality", 0, 0),
            _result("openai/gpt-4o", "code/causality", 2_000_000, 0),
            _result("openai/gpt-4o", "code/causality", None, None, status="error"),
            _result("replay/x.jsonl", "text/causality", 10, 10), _result("smollm2", "text/causality", None, None)]
    by_model = {u.model: u for u in usage_by_model(rows, load_prices())}
    gpt = by_model["openai/gpt-4o"]
    assert [c.cell for c in gpt.cells] == ["text/causality", "code/causality"], "in the taxonomy's order"
    text, code = gpt.cells
    assert (text.prompt_tokens, text.completion_tokens) == (1000, 500)
    assert text.cost_usd == pytest.approx(1000 * 2.5e-6 + 500 * 10e-6)
    assert code.cost_usd == pytest.approx(5.0) and code.untokened == 0, "an error row is not an unreported answer"
    assert gpt.total.results == 4 and gpt.total.cost_usd == pytest.approx(5.0075)
    assert by_model["replay/x.jsonl"].total.cost_usd is None, "tokens but no price: unknown"
    local = by_model["smollm2"].total
    assert local.cost_usd == 0.0 and local.prompt_tokens is None, "a free backend costs 0 even without tokens"


def test_partial_tokens_give_a_lower_bound_and_no_tokens_give_unknown() -> None:
    prices = load_prices()
    rows = [_result("openai/gpt-4o", "text/causality", 1_000_000, 0), _result("openai/gpt-4o", "text/causality",
                                                                              None, None)]
    (u,) = usage_by_model(rows, prices)
    assert u.total.untokened == 1 and u.total.partial
    assert format_usd(u.total.cost_usd, u.total.partial) == "≥ $2.50"
    (none,) = usage_by_model([_result("openai/gpt-4o", "text/causality", None, None)], prices)
    assert none.total.cost_usd is None and format_usd(none.total.cost_usd) == "unknown"
    assert format_usd(0.0) == "$0" and format_usd(0.00042) == "$0.0004" and format_usd(1234.5) == "$1,234.50"


def test_user_prices_replace_the_packaged_table_and_a_label_key_wins(tmp_path: Path) -> None:
    f = tmp_path / "prices.toml"
    f.write_text('as_of = "2026-01-01"\n[models."gpt-4o"]\ninput = 1\noutput = 2\n'
                 '[models."openai/gpt-4o@http://10.0.0.5/v1"]\ninput = 0\noutput = 0\n')
    table = load_prices(f)
    assert table.source == str(f) and table.as_of == "2026-01-01"
    assert table.price("openai/gpt-4o").input_per_m == 1  # type: ignore[union-attr]
    assert table.price("openai/gpt-4o@http://10.0.0.5/v1").free  # type: ignore[union-attr]
    assert table.price("anthropic/claude-3-5-sonnet") is None, "the user's table replaces the packaged one"


@pytest.mark.parametrize(("text", "where"), [
    ('[models."gpt-4o"]\ninput = 2.5\noutput = -1\n', "p.toml:3: models.gpt-4o.output: Input should be greater"),
    ('as_of = "x"\n\n[models."gpt-4o"]\ninput = 2.5\n', "p.toml:3: models.gpt-4o.output: Field required"),
    ('[models."gpt-4o"]\ninput = "cheap"\noutput = 1\n', "p.toml:2: models.gpt-4o.input: Input should be a valid"),
    ('[models.x]\ninput = 1\noutput = 1\nunits = "EUR"\n', "p.toml:4: models.x.units: Extra inputs"),
    ('# prices\n[models.x\ninput = 1\n', "p.toml:2: not valid TOML"),
    ('currency = "EUR"\n', "p.toml:1: currency: Extra inputs"),
])
def test_a_bad_price_file_names_file_line_and_field(text: str, where: str) -> None:
    with pytest.raises(PriceFileError) as e:
        parse_prices(text, "p.toml")
    assert str(e.value).startswith(where), str(e.value)


def _store_with_tokens(path: Path) -> Store:
    store = Store(path)
    rows = [ResultRow(key=f"k{i}", model=model, model_identity="{}", settings="{}", case_id=f"c{i}",
                      case_hash=f"h{i}", cell=cell, category="x", status="ok", verdict="good", response="r",
                      prompt_tokens=p, completion_tokens=c)
            for i, (model, cell, p, c) in enumerate([
                ("openai/gpt-4o-mini", "text/causality", 100_000, 20_000),
                ("openai/gpt-4o-mini", "code/causality", 300_000, 10_000),
                ("replay/x.jsonl", "text/causality", None, None)])]
    store.put_results(rows)
    return store


def test_report_shows_usage_and_cost(tmp_path: Path) -> None:
    store = _store_with_tokens(tmp_path / "r.db")
    files = build_report(store, tmp_path / "out")
    md = files.markdown.read_text(encoding="utf-8")
    section = md[md.index("## Usage and cost"):]
    # 100k in at $0.15/M + 20k out at $0.60/M = $0.027; 300k + 10k: $0.051; in all $0.078
    assert "| openai/gpt-4o-mini | text/causality | 1 | 100,000 | 20,000 | $0.0270 |" in section
    assert "| openai/gpt-4o-mini | code/causality | 1 | 300,000 | 10,000 | $0.0510 |" in section
    assert "| openai/gpt-4o-mini | all cells | 2 | 400,000 | 30,000 | $0.0780 |" in section
    assert "| replay/x.jsonl | all cells | 1 | unknown | unknown | unknown |" in section
    assert "openai/gpt-4o-mini: gpt-4o-mini, USD 0.15 in / 0.6 out per 1M tokens" in section
    html = files.html.read_text(encoding="utf-8")
    assert '<section id="usage">' in html and "$0.0780" in html
    usage = scores_json(store)["usage"]["models"]
    assert usage["openai/gpt-4o-mini"]["cells"]["code/causality"]["cost_usd"] == pytest.approx(0.051)
    assert usage["replay/x.jsonl"]["total"]["cost_usd"] is None


def test_report_prices_flag_and_bad_file_exit_2(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    _store_with_tokens(db).close()
    prices = tmp_path / "mine.toml"
    prices.write_text('[models."gpt-4o-mini"]\ninput = 1.0\noutput = 0\n')
    r = fourfold("report", "--store", str(db), "--json", "--prices", str(prices))
    data = json.loads(r.stdout)["usage"]
    assert data["prices"]["source"] == str(prices)
    assert data["models"]["openai/gpt-4o-mini"]["total"]["cost_usd"] == pytest.approx(0.4)
    prices.write_text('[models."gpt-4o-mini"]\ninput = 1.0\n')
    bad = fourfold("report", "--store", str(db), "--prices", str(prices), "--out", str(tmp_path / "o"), check=False)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        f"fourfold: error: --prices: {prices}:1: models.gpt-4o-mini.output: Field required "
        "(prices are USD per 1M tokens: input = N, output = N)"]
    missing = fourfold("run", "--prices", str(tmp_path / "nope.toml"), "--store", str(tmp_path / "x.db"), check=False)
    assert missing.returncode == 2 and "nope.toml: cannot read the price file" in missing.stderr
    assert not (tmp_path / "x.db").exists()


def test_run_summary_has_tokens_and_cost(canned_overload_server, qa_file, tmp_path: Path) -> None:
    _, url = canned_overload_server(usage=(40_000, 10_000))
    r = fourfold("run", "--model", f"openai/gpt-4o-mini@{url}", "--cases", str(qa_file(4)),
                 "--cell", "text/generalizability", "--store", str(tmp_path / "r.db"), "--out",
                 str(tmp_path / "out"), "--no-progress")
    # 4 answers of 40 000 prompt and 10 000 completion tokens: 160k x 0.15 + 40k x 0.60 per 1M = $0.048
    assert "160,000" in r.stderr and "40,000" in r.stderr and "$0.0480" in r.stderr, r.stderr
    assert "priced as gpt-4o-mini" in r.stderr
