"""``--concurrency auto``, ``--rate-limit`` and ``--token-limit`` against a real
aiohttp server on loopback: the canned-response overload server (conftest) answers
every chat completion with the same canned text and usage, refuses with 429
above K requests in flight, and logs when each request arrived.

Assertions are on counts the server saw (requests per window, rejections,
where the limit settled), with generous margins; none on how long anything took."""

from __future__ import annotations

import asyncio
from pathlib import Path

from conftest import fourfold
from fourfold.cases import load_cases
from fourfold.models import GenerationSettings, create_backend
from fourfold.run import RateLimits, RunConfig, Runner
from fourfold.store import Store


def _run_in_process(url: str, cases_file: Path, db: Path, **cfg: object) -> object:
    cases = load_cases([str(cases_file)], cell="text/generalizability")
    config = RunConfig(progress=False, backoff_base_s=0.02, backoff_cap_s=0.5, retries=12, **cfg)  # type: ignore[arg-type]

    async def go() -> object:
        return await Runner(Store(db), config).run(cases, [create_backend(f"openai/canned@{url}")])
    return asyncio.run(go())


def test_auto_settles_near_the_servers_limit_and_every_case_completes(canned_overload_server, qa_file, tmp_path):
    k, n = 6, 300
    server, url = canned_overload_server(max_inflight=k, delay_s=0.03)
    summary = _run_in_process(url, qa_file(n), tmp_path / "r.db", adaptive=True, max_concurrency=64)
    ms = summary.models[0]  # type: ignore[attr-defined]
    assert ms.errors == 0 and server.answered == n
    assert Store(tmp_path / "r.db").count() == n
    lim = ms.adaptive
    assert lim.cuts >= 1, "the server refused above its limit, and the limit was cut"
    # Slow start may pass k by the answers that arrive before the first 429 does; with no cut
    # the limit would climb to the ceiling of 64. Halving keeps it near k.
    assert lim.peak <= 3 * k, list(lim.history)
    settled = sorted(list(lim.history)[len(lim.history) // 2:])
    assert k // 2 - 1 <= settled[len(settled) // 2] <= k + 2, list(lim.history)
    # A fixed --concurrency 64 against this server is refused hundreds of times; auto a few times per cut.
    assert server.rejected < n // 3, (server.rejected, lim.cuts)


def test_auto_with_retry_after_pauses_and_completes(canned_overload_server, qa_file, tmp_path):
    n = 80
    server, url = canned_overload_server(max_inflight=4, delay_s=0.02, retry_after="0.1")
    summary = _run_in_process(url, qa_file(n), tmp_path / "r.db", adaptive=True, max_concurrency=32)
    ms = summary.models[0]  # type: ignore[attr-defined]
    assert ms.errors == 0 and server.answered == n
    assert ms.adaptive.cuts >= 1 and ms.adaptive.peak <= 12, list(ms.adaptive.history)
    assert server.rejected < n // 2, server.rejected


def test_auto_with_a_fixed_ceiling_and_a_backend_limit(canned_overload_server, qa_file, tmp_path):
    server, url = canned_overload_server(max_inflight=None, delay_s=0.01)
    summary = _run_in_process(url, qa_file(200), tmp_path / "r.db", adaptive=True, max_concurrency=5)
    lim = summary.models[0].adaptive  # type: ignore[attr-defined]
    assert lim.peak == 5 and lim.cuts == 0, "no overload: it climbs to the ceiling and stays"
    assert server.max_seen <= 5 and server.answered == 200


def test_rate_limit_is_honoured(canned_overload_server, qa_file, tmp_path):
    n, rpm = 40, 600  # 10 requests a second, a bucket of 10
    server, url = canned_overload_server(delay_s=0.005)
    fourfold("run", "--model", f"openai/canned@{url}", "--cases", str(qa_file(n)), "--cell",
             "text/generalizability", "--concurrency", "8", "--rate-limit", f"openai={rpm}",
             "--store", str(tmp_path / "r.db"), "--out", str(tmp_path / "out"), "--no-progress")
    stored = Store(tmp_path / "r.db").latest_results()
    assert server.answered == n and len(stored) == n and all(r.status == "ok" for r in stored)
    # Any one second holds at most the bucket (10) plus a second's refill (10); 5 more for the
    # requests' own travel jitter. Unlimited, all 40 arrive within a few tens of milliseconds.
    assert server.most_in_window(1.0) <= 25, server.most_in_window(1.0)


def test_token_limit_is_honoured_with_reported_usage(canned_overload_server, qa_file, tmp_path):
    n, tpm = 40, 30_000  # 500 tokens a second; each answer reports 40 + 10 = 50
    server, url = canned_overload_server(delay_s=0.005, usage=(40, 10))
    summary = _run_in_process(url, qa_file(n), tmp_path / "r.db", concurrency=4,
                              rate_limits={"": RateLimits(tpm=tpm)}, settings=GenerationSettings(max_tokens=16))
    assert summary.models[0].errors == 0 and server.answered == n  # type: ignore[attr-defined]
    # A second holds the bucket (500) plus a second's refill (500) plus what four calls in flight
    # may under-estimate before their usage corrects the bucket: about 27 answers of 50 tokens.
    # Unlimited, all 40 arrive together.
    assert server.most_in_window(1.0) * 50 <= 1350, server.most_in_window(1.0)


def test_fixed_concurrency_makes_no_gate(canned_overload_server, qa_file, tmp_path):
    server, url = canned_overload_server(delay_s=0.01)
    summary = _run_in_process(url, qa_file(30), tmp_path / "r.db", concurrency=3)
    assert summary.models[0].adaptive is None  # type: ignore[attr-defined]
    assert server.max_seen <= 3 and server.answered == 30


def test_a_backends_limits_add_to_those_for_every_model() -> None:
    import argparse

    from fourfold.cli.run import _rate_limits

    args = argparse.Namespace(rate_limit=["600", "anthropic=50"], token_limit=["90000"])
    limits = _rate_limits(args)
    assert limits[""] == RateLimits(rpm=600, tpm=90000)
    assert limits["anthropic"] == RateLimits(rpm=50, tpm=90000)
    cfg = RunConfig(rate_limits=limits)
    assert cfg.limits_for("anthropic/claude-3-5-haiku") == RateLimits(rpm=50, tpm=90000)
    assert cfg.limits_for("gemini/gemini-2.0-flash") == RateLimits(rpm=600, tpm=90000)
    assert RunConfig().limits_for("openai/x") is None


def test_bad_concurrency_and_limits_are_usage_errors(tmp_path):
    for args, words in ((["--concurrency", "lots"], "neither a number nor 'auto'"),
                        (["--concurrency", "0"], "--concurrency must be at least 1, or auto"),
                        (["--rate-limit", "openai=fast"], "--rate-limit 'openai=fast': expected [BACKEND=]N"),
                        (["--token-limit", "-5"], "--token-limit '-5': expected"),
                        (["--max-concurrency", "0"], "--max-concurrency must be at least 1"),
                        (["--rate-limit", "opnai=5"], "unknown backend 'opnai'; did you mean 'openai/")):
        r = fourfold("run", "--model", "replay/none.jsonl", *args, "--store", str(tmp_path / "r.db"),
                     "--out", str(tmp_path / "out"), check=False)
        assert r.returncode == 2, (args, r.stderr)
        assert words in r.stderr, (args, r.stderr)
        assert not (tmp_path / "r.db").exists(), "nothing is opened before the flags are checked"
