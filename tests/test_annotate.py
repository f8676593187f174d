"""Human annotation end to end: a real uvicorn server over a real store, real
headless Chromium for two annotators and a lead, then the store, the agreement
statistics and the effective human verdicts checked against values worked out
by hand. Security is checked over raw HTTP (http.client sends paths unnormalised).

Why a browser: saving on every click, the localStorage retry queue, HTML5 drag
and drop, the keyboard shortcuts and the CSP only prove themselves in one.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from conftest import fourfold, require_chromium, start_on_free_port
from fourfold.score.agreement import agreement_report, fleiss_kappa_by_cell, kendalls_w_by_cell
from fourfold.score.assignment import assign, assignments_for
from fourfold.score.votes import (
    HumanProvenance,
    conflicts,
    disagreements,
    effective_human_verdicts,
    human_case_ranks,
)
from fourfold.store import ResultRow, Store
from fourfold.store import human as H

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MODELS = ("alpha", "beta", "gamma")
SCREENSHOT = Path("/tmp/fourfold_annotate.png")

# (case_id, cell, category, prompt, image?, {model: (rule/judge verdict, judge, response)})
CASES: list[tuple[str, str, str, str, str | None, dict[str, tuple[str, str, str]]]] = [
    ("t1", "text/generalizability", "math", "What is 6 x 7? Show your work.", None,
     {"alpha": ("good", "rule", "6 x 7 = 42, since 6 x 7 = 6 x 5 + 6 x 2 = 30 + 12."),
      "beta": ("good", "judge:referee", "It is 41."),
      "gamma": ("unclear", "judge:referee", "Multiplication is repeated addition, so it is a number in the forties.")}),
    ("t2", "text/causality", "counterfactual", "If the match had not been struck, would the fire have started?", None,
     {"alpha": ("good", "judge:referee", "No: the struck match was the cause; without it no fire."),
      "beta": ("bad", "judge:referee", "Yes, fires start by themselves."),
      "gamma": ("unclear", "judge:referee", "Maybe, it depends on the weather.")}),
    ("c1", "code/generalizability", "generation", "Write f(x) that returns x + 1.", None,
     {"alpha": ("good", "rule", "def f(x):\n    return x + 1"),
      "beta": ("bad", "rule", "def f(x):\n    return x - 1"),
      "gamma": ("good", "rule", "f = lambda x: x + 1")}),
    ("i1", "image/generalizability", "recognition", "What colour is this square? <b>answer in one word</b>", "red.png",
     {"alpha": ("good", "rule", "Red."), "beta": ("bad", "rule", "Blue."),
      "gamma": ("unclear", "rule", "A warm colour, perhaps red or orange.")}),
]
# Assigned to B only, later: A must not see it.
EXTRA = ("i2", "image/trustworthiness", "hallucination", "Is there a cat in this picture?", "green.png",
         {"alpha": ("good", "rule", "No, it is a plain green square."), "beta": ("bad", "rule", "Yes, a black cat."),
          "gamma": ("good", "rule", "There is no cat.")})


VIDEO = ("v1", "video/causality", "prediction", "What happens next?", "clip.mp4",
         {"alpha": ("good", "judge:referee", "The square keeps brightening."), "beta": ("bad", "rule", "Nothing."),
          "gamma": ("unclear", "rule", "Something changes.")})


def _clip(path: Path, cache: Path) -> str:
    """A real 16-frame H.264 clip, and its frames in a real frame cache (as a run leaves them)."""
    import numpy as np

    from fourfold.cases.media.encode import encode_video
    from fourfold.cases.media.video import FrameCache

    encode_video((np.full((32, 32, 3), 10 + 15 * i, dtype=np.uint8) for i in range(16)), path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(FrameCache(cache).frames(path, sha, 16)) == 16
    return sha


def _png(path: Path, rgb: tuple[int, int, int], size: int = 96) -> None:
    """A solid-colour PNG, written without Pillow."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _put(store: Store, media: Path, spec: tuple[Any, ...], sha256: str = "0" * 64) -> str:
    case_id, cell, category, prompt, image, per_model = spec
    h = hashlib.sha256(f"case:{case_id}".encode()).hexdigest()
    content: list[dict[str, Any]] = [{"type": "text", "text": prompt}]
    if image:
        kind = "video" if image.endswith(".mp4") else "image"
        content.append({"type": kind, "path": image, "sha256": sha256})
    data = {"id": case_id, "cell": cell, "category": category, "input": [{"role": "user", "content": content}],
            "reference": {"kind": "rubric", "criteria": "correct and complete"}}
    store.put_cases([(h, case_id, cell, category, "test", str(media), json.dumps(data))])
    now = time.time()
    store.put_results([
        ResultRow(key=f"key-{case_id}-{m}", model=m, model_identity="{}", settings="{}", case_id=case_id,
                  case_hash=h, cell=cell, category=category, status="ok", verdict=v, rationale="r", judge=judge,
                  response=text, created_at=now)
        for m, (v, judge, text) in per_model.items()])
    return h


@dataclass
class Env:
    store_path: Path
    port: int
    tokens: dict[str, str]
    hashes: dict[str, str]
    log_lines: list[str]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def login(self, name: str) -> str:
        return f"{self.base}/login?token={self.tokens[name]}"

    def store(self) -> Store:
        return Store(self.store_path)


class _Capture(logging.Handler):
    def __init__(self, lines: list[str]):
        super().__init__()
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    import uvicorn

    from fourfold.web import create_app

    tmp = tmp_path_factory.mktemp("annotate")
    media = tmp / "media"
    media.mkdir()
    _png(media / "red.png", (220, 30, 30))
    _png(media / "green.png", (30, 160, 60))
    (tmp / "secret.txt").write_text("do not serve me")
    store_path = tmp / "results.db"
    store = Store(store_path)
    hashes = {spec[0]: _put(store, media, spec) for spec in CASES}
    tokens = {"ann_a": H.add_annotator(store, "ann_a"), "ann_b": H.add_annotator(store, "ann_b"),
              "lena": H.add_annotator(store, "lena", lead=True)}
    assert assign(store, k=2, names=["ann_a", "ann_b"]) == 8
    assert assign(store, k=2, names=["ann_a", "ann_b"]) == 0  # idempotent
    hashes["i2"] = _put(store, media, EXTRA)
    clip_sha = _clip(media / "clip.mp4", tmp / "frames")
    hashes["v1"] = _put(store, media, VIDEO, sha256=clip_sha)
    assert assign(store, k=1, names=["ann_b"]) == 2  # only the new cases are missing someone
    store.close()

    lines: list[str] = []
    handler = _Capture(lines)
    for name in ("uvicorn.access", "fourfold.web", "uvicorn.error"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.INFO)
    # The socket is bound here and handed to uvicorn: a port chosen first and bound later could be taken between.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(store_path, frame_cache=tmp / "frames")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info", access_log=True,
                                           log_config=None))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield Env(store_path, port, tokens, hashes, lines)
    server.should_exit = True
    thread.join(10)
    for name in ("uvicorn.access", "fourfold.web", "uvicorn.error"):
        logging.getLogger(name).removeHandler(handler)


# ------------------------------------------------------------------ raw HTTP helpers


def _request(env: Env, method: str, path: str, headers: dict[str, str] | None = None,
             body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", env.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


@dataclass
class Client:
    cookie: str
    csrf: str


def _http_login(env: Env, name: str) -> Client:
    status, headers, _ = _request(env, "GET", urlsplit(env.login(name)).path + "?" + urlsplit(env.login(name)).query)
    assert status == 303 and headers["location"] == "/"
    cookie = headers["set-cookie"].split(";", 1)[0]
    flags = headers["set-cookie"].lower()
    assert "httponly" in flags and "samesite=strict" in flags
    status, _, html = _request(env, "GET", "/", {"Cookie": cookie})
    assert status == 200
    csrf = re.search(rb'<meta name="csrf-token" content="([^"]+)"', html)
    assert csrf
    return Client(cookie, csrf.group(1).decode())


def _labels(env: Env, annotator: str, case_id: str) -> dict[str, str]:
    """``{model: response id}`` as this annotator's page shows them (same shuffle)."""
    from fourfold.web.views import anonymised as _anonymised

    store = env.store()
    try:
        return {r.model: rid for rid, r in _anonymised(store, annotator, env.hashes[case_id])}
    finally:
        store.close()


# ------------------------------------------------------------------ browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _queue_empty(page: Any, user: str) -> None:
    """Wait until the server confirmed every change (the page's queue is empty)."""
    page.wait_for_function(
        "u => (localStorage.getItem('fourfold-queue:' + u) || '[]') === '[]'"
        " && document.getElementById('save-status').dataset.state === 'saved'", arg=user, timeout=10_000)


def _card(page: Any, rid: str) -> Any:
    return page.locator(f'section.response[data-rid="{rid}"]')


def _cards(page: Any) -> list[str]:
    return page.locator("section.response").evaluate_all("els => els.map(e => e.dataset.rid)")


def _order(page: Any) -> list[str]:
    return page.locator("#ranking li").evaluate_all("els => els.map(e => e.dataset.rid)")


def _key_to(page: Any, rid: str, key: str) -> None:
    """Move the highlight to a response with j/k from wherever it is, then press ``key``."""
    ids = _cards(page)
    current = page.locator("section.response.current").get_attribute("data-rid")
    step = ids.index(rid) - ids.index(current)
    for _ in range(abs(step)):
        page.keyboard.press("j" if step > 0 else "k")
    page.keyboard.press(key)


def _drag_rank(page: Any, wanted: list[str]) -> int:
    """Reorder the ranking list by HTML5 drag and drop (selection sort from the top);
    returns the number of drags. At least one drag always happens."""
    drags = 0
    if _order(page) == wanted:  # already right: drag the top item away first, so dragging is tested
        page.locator("#ranking li").first.drag_to(page.locator("#ranking li").last)
        drags += 1
    for i, rid in enumerate(wanted):
        if _order(page)[i] != rid:
            page.locator(f'#ranking li[data-rid="{rid}"]').drag_to(page.locator("#ranking li").nth(i))
            drags += 1
    assert _order(page) == wanted
    return drags


def _pressed(page: Any, rid: str) -> str | None:
    el = _card(page, rid).locator('button.v[aria-pressed="true"]')
    return el.get_attribute("data-verdict") if el.count() else None


def test_two_annotators_and_a_lead_in_a_real_browser(env: Env, browser: Any) -> None:
    from playwright.sync_api import expect

    t1 = env.hashes["t1"]
    a_ids, b_ids = _labels(env, "ann_a", "t1"), _labels(env, "ann_b", "t1")
    errors: list[str] = []

    # ---- annotator A: logs in with the link, lands on the list of her cases
    ctx_a = browser.new_context(viewport={"width": 1360, "height": 1000})
    page = ctx_a.new_page()
    # script errors and CSP violations count; "failed to load" is expected (aborted saves, A's 403 below),
    # but a static file or a picture that fails to load does count
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and urlsplit(r.url).path.startswith(("/static/", "/media/")) else None)
    page.goto(env.login("ann_a"))
    assert urlsplit(page.url).path == "/" and "token" not in page.url
    cookie = next(c for c in ctx_a.cookies() if c["name"] == "fourfold_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["value"] != env.tokens["ann_a"]
    expect(page.locator("table.assignments tbody tr")).to_have_count(4)
    expect(page.locator(".sub").first).to_contain_text("0 of 4 cases done")

    page.goto(f"{env.base}/case/{t1}")
    html = page.content()
    for m in MODELS:  # blind: no model name, no result key anywhere in the page
        assert m not in html
    assert "key-t1" not in html
    expect(page.locator("section.response h3")).to_have_text(["Response A", "Response B", "Response C"])
    assert _order(page) == _cards(page)  # unranked: the list starts in the shuffled order

    # by click
    _card(page, a_ids["alpha"]).locator('button[data-verdict="good"]').click()
    # by keyboard: the highlight follows the click; j/k move it, 3 = bad, 2 = unclear
    _key_to(page, a_ids["beta"], "3")
    _key_to(page, a_ids["gamma"], "2")
    box = _card(page, a_ids["beta"]).locator("textarea.comment")
    box.fill("arithmetic is wrong")
    box.press("Escape")  # leaves the box (change event saves the comment with the verdict)
    _queue_empty(page, "ann_a")
    expect(_card(page, a_ids["beta"]).locator(".card-status")).to_have_text("saved ✓")
    wanted_a = [a_ids["alpha"], a_ids["gamma"], a_ids["beta"]]
    assert _drag_rank(page, wanted_a) >= 1
    _queue_empty(page, "ann_a")
    expect(page.locator("#rank-state")).to_have_text("ranking saved ✓")
    expect(page.locator("#case-progress")).to_contain_text("3/3 judged · ranked · done ✓")

    # reload: everything is still there, from the server
    page.reload()
    assert _pressed(page, a_ids["alpha"]) == "good"
    assert _pressed(page, a_ids["beta"]) == "bad"
    assert _pressed(page, a_ids["gamma"]) == "unclear"
    expect(_card(page, a_ids["beta"]).locator("textarea.comment")).to_have_value("arithmetic is wrong")
    assert _order(page) == wanted_a
    expect(page.locator("#rank-state")).to_have_text("ranking saved")
    expect(page.locator("#progress-done")).to_have_text("1")

    # help and navigation by keyboard
    page.locator("h1").first.click()
    page.keyboard.press("?")
    expect(page.locator("dialog#help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("dialog#help")).to_be_hidden()
    page.keyboard.press("p")  # t1 is A's last case (cells sort text/causality first): back to t2
    page.wait_for_url(f"**/case/{env.hashes['t2']}")

    # a dropped connection: the change waits in localStorage, survives a reload, is sent later
    c1 = env.hashes["c1"]
    c1_ids = _labels(env, "ann_a", "c1")
    page.goto(f"{env.base}/case/{c1}")
    page.route("**/api/verdict", lambda route: route.abort())
    _card(page, c1_ids["beta"]).locator('button[data-verdict="bad"]').click()
    expect(page.locator("#save-status")).to_have_attribute("data-state", "offline")
    queued = json.loads(page.evaluate("localStorage.getItem('fourfold-queue:ann_a')"))
    assert [op["body"]["verdict"] for op in queued] == ["bad"]
    page.reload()
    assert _pressed(page, c1_ids["beta"]) == "bad"  # shown from the queue
    expect(_card(page, c1_ids["beta"]).locator(".card-status")).to_have_text("saving…")
    page.unroute("**/api/verdict")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    _queue_empty(page, "ann_a")
    store = env.store()
    try:
        assert {(r.model, r.verdict) for r in H.human_verdicts(store, "ann_a") if r.case_id == "c1"} == {
            ("beta", "bad")}
    finally:
        store.close()

    # the image case: the picture comes through /media, and this is the screenshot to look at
    i1 = env.hashes["i1"]
    i1_ids = _labels(env, "ann_a", "i1")
    page.goto(f"{env.base}/case/{i1}")
    img = page.locator(".prompt img")
    expect(img).to_have_attribute("src", f"/media/{i1}/0")
    page.wait_for_function("() => document.querySelector('.prompt img').naturalWidth === 96")
    _card(page, i1_ids["alpha"]).locator('button[data-verdict="good"]').click()
    _card(page, i1_ids["gamma"]).locator('button[data-verdict="unclear"]').click()
    _queue_empty(page, "ann_a")
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # ---- annotator B, in a separate browser context: keyboard only, ranks with the arrow buttons
    ctx_b = browser.new_context(viewport={"width": 1360, "height": 1000})
    page_b = ctx_b.new_page()
    page_b.on("pageerror", lambda e: errors.append(str(e)))
    page_b.goto(env.login("ann_b"))
    expect(page_b.locator("table.assignments tbody tr")).to_have_count(6)
    page_b.goto(f"{env.base}/case/{t1}")
    for m, key in (("alpha", "1"), ("beta", "3"), ("gamma", "1")):
        _key_to(page_b, b_ids[m], key)
    _queue_empty(page_b, "ann_b")
    clicks = 0
    for rank, m in enumerate(("alpha", "beta", "gamma")):  # up buttons until each model sits at its place
        li = page_b.locator(f'#ranking li[data-rid="{b_ids[m]}"]')
        while _order(page_b).index(b_ids[m]) > rank:
            li.locator("button.up").click()
            clicks += 1
    if not clicks:
        page_b.locator("#rank-save").click()  # the shuffle was already B's order: confirm it
    _queue_empty(page_b, "ann_b")
    page_b.reload()
    assert [_pressed(page_b, b_ids[m]) for m in ("alpha", "beta", "gamma")] == ["good", "bad", "good"]
    assert _order(page_b) == [b_ids[m] for m in ("alpha", "beta", "gamma")]

    # ---- the store and the statistics, against values worked out by hand
    store = env.store()
    try:
        t1_rows = [r for r in H.human_verdicts(store) if r.case_id == "t1"]
        assert {(r.annotator, r.model, r.verdict) for r in t1_rows} == {
            ("ann_a", "alpha", "good"), ("ann_a", "beta", "bad"), ("ann_a", "gamma", "unclear"),
            ("ann_b", "alpha", "good"), ("ann_b", "beta", "bad"), ("ann_b", "gamma", "good")}
        assert next(r.comment for r in t1_rows if r.annotator == "ann_a" and r.model == "beta") == \
            "arithmetic is wrong"
        assert all(r.updated_at > 0 for r in t1_rows)
        rankings = {r.annotator: r.ranking for r in H.human_rankings(store) if r.case_hash == t1}
        assert rankings == {"ann_a": {"alpha": 1, "gamma": 2, "beta": 3}, "ann_b": {"alpha": 1, "beta": 2, "gamma": 3}}
        assert human_case_ranks(store)[t1] == {"alpha": 1.0, "beta": 2.5, "gamma": 2.5}

        eff = effective_human_verdicts(store)
        assert eff["key-t1-alpha"][0] == "good" and eff["key-t1-beta"][0] == "bad"
        assert eff["key-t1-alpha"][1].source == "majority"
        assert eff["key-t1-alpha"][1].by == ("ann_a", "ann_b")
        assert "key-t1-gamma" not in eff  # 1 good : 1 unclear is a tie
        assert [c.result_key for c in conflicts(store) if c.case_id == "t1"] == ["key-t1-gamma"]

        # Fleiss: items (2,0,0), (0,0,2), (1,1,0): P = 1, 1, 0 -> 2/3; p = 3/6, 1/6, 2/6 -> Pe = 14/36;
        # kappa = (2/3 - 7/18) / (11/18) = 5/11
        fk = fleiss_kappa_by_cell(H.human_verdicts(store))["text/generalizability"]
        assert fk.n_items == 3 and fk.n_raters == 2
        assert fk.kappa == pytest.approx(5 / 11)
        # Kendall: rank sums alpha 2, beta 5, gamma 5 -> S = 6; W = 12*6 / (2^2 (27 - 3)) = 0.75
        assert kendalls_w_by_cell(H.human_rankings(store))["text/generalizability"].w == pytest.approx(0.75)
        # judge vs human: alpha rule good / human good, beta judge good / human bad (gamma: no human verdict)
        jh = agreement_report(store)["text/generalizability"].judge
        assert jh is not None
        assert jh.n == 2 and jh.accuracy == pytest.approx(0.5) and jh.cohen_kappa == pytest.approx(0.0)
        assert jh.confusion["bad"]["good"] == 1 and jh.confusion["good"]["good"] == 1
    finally:
        store.close()

    # ---- A is no lead; the lead settles the tie in her own browser
    resp = page.goto(f"{env.base}/disagreements")
    assert resp is not None and resp.status == 403
    ctx_l = browser.new_context(viewport={"width": 1360, "height": 1000})
    page_l = ctx_l.new_page()
    page_l.on("pageerror", lambda e: errors.append(str(e)))
    page_l.goto(env.login("lena"))
    page_l.goto(f"{env.base}/disagreements")
    item = page_l.locator('section.disagreement[data-key="key-t1-gamma"]')
    expect(item).to_have_class(re.compile(r"\btie\b"))
    expect(item.locator("table.votes tbody tr")).to_have_count(2)
    item.locator('input[name="comment"]').fill("hedged answer")
    item.locator('button[value="unclear"]').click()
    page_l.wait_for_url("**/disagreements#r-*")
    expect(page_l.locator('section.disagreement[data-key="key-t1-gamma"]')).to_contain_text("settled: unclear")

    store = env.store()
    try:
        verdict, prov = effective_human_verdicts(store)["key-t1-gamma"]
        assert verdict == "unclear" and prov.source == "lead" and prov.by == ("lena",)
        assert prov.votes == {"ann_a": "unclear", "ann_b": "good"} and prov.comment == "hedged answer"
        assert not [c for c in conflicts(store) if c.case_id == "t1"]
        # now three pairs: (good, good), (good, bad), (unclear, unclear): accuracy 2/3;
        # human marginals 1/3 each, judge 2/3, 1/3, 0 -> pe = 1/3, kappa = (2/3 - 1/3) / (2/3) = 0.5
        jh = agreement_report(store)["text/generalizability"].judge
        assert jh is not None and jh.accuracy == pytest.approx(2 / 3) and jh.cohen_kappa == pytest.approx(0.5)
    finally:
        store.close()
    page_l.goto(f"{env.base}/stats")
    row = page_l.locator('#stats tr[data-cell="text/generalizability"]')
    expect(row.locator(".fleiss")).to_have_text("0.455")
    expect(row.locator(".kendall")).to_have_text("0.750")
    expect(row.locator(".accuracy")).to_have_text("0.667")
    expect(row.locator(".cohen")).to_have_text("0.500")
    page.goto(f"{env.base}/")  # A's list: t1 done, c1 and i1 partly judged
    expect(page.locator(".sub").first).to_contain_text("1 of 4 cases done · 6 of 12 responses judged")
    expect(page.locator(f'tr[data-case="{t1}"] .pill')).to_have_text("done")

    assert not errors, errors  # no script errors, no CSP violations
    for ctx in (ctx_a, ctx_b, ctx_l):
        ctx.close()


# ------------------------------------------------------------------ security over raw HTTP


def _post_verdict(env: Env, client: Client | None, case_id: str, rid: str, *, csrf: str | None = "session",
                  origin: str | None = "self", extra: dict[str, str] | None = None) -> int:
    headers = {"Content-Type": "application/json", **(extra or {})}
    if client is not None:
        headers["Cookie"] = client.cookie
        if csrf == "session":
            headers["X-CSRF-Token"] = client.csrf
    if csrf not in (None, "session"):
        headers["X-CSRF-Token"] = csrf
    if origin == "self":
        headers["Origin"] = env.base
    elif origin is not None:
        headers["Origin"] = origin
    body = json.dumps({"case_hash": env.hashes[case_id], "response": rid, "verdict": "good"}).encode()
    return _request(env, "POST", "/api/verdict", headers, body)[0]


def test_posts_need_session_csrf_and_same_origin(env: Env) -> None:
    a, b = _http_login(env, "ann_a"), _http_login(env, "ann_b")
    rid = _labels(env, "ann_a", "t2")["alpha"]
    assert _post_verdict(env, None, "t2", rid) == 401  # no session
    assert _post_verdict(env, None, "t2", rid, csrf=a.csrf) == 401  # a CSRF token alone is nothing
    assert _post_verdict(env, a, "t2", rid, csrf=None) == 403  # missing CSRF token
    assert _post_verdict(env, a, "t2", rid, csrf="forged-" + a.csrf[7:]) == 403  # forged
    assert _post_verdict(env, a, "t2", rid, csrf=b.csrf) == 403  # another session's token
    assert _post_verdict(env, a, "t2", rid, origin="http://evil.example") == 403  # foreign origin
    assert _post_verdict(env, a, "t2", rid, origin="null") == 403
    assert _post_verdict(env, a, "t2", rid, origin=None, extra={"Sec-Fetch-Site": "cross-site"}) == 403
    store = env.store()
    try:
        assert not [r for r in H.human_verdicts(store, "ann_a") if r.case_id == "t2"]  # nothing got through
    finally:
        store.close()
    assert _post_verdict(env, a, "t2", rid) == 200  # the same request, done right
    # ranking endpoint: same rules
    order = list(_labels(env, "ann_a", "t2").values())
    body = json.dumps({"case_hash": env.hashes["t2"], "order": order}).encode()
    base = {"Content-Type": "application/json", "Cookie": a.cookie, "Origin": env.base}
    assert _request(env, "POST", "/api/ranking", base, body)[0] == 403
    assert _request(env, "POST", "/api/ranking", {**base, "X-CSRF-Token": a.csrf}, body)[0] == 200
    # form posts carry the token as a field; without it the session survives
    form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": b.cookie, "Origin": env.base}
    assert _request(env, "POST", "/logout", form, b"csrf_token=wrong")[0] == 403
    assert _request(env, "GET", "/", {"Cookie": b.cookie})[0] == 200
    status, headers, _ = _request(env, "POST", "/logout", form, f"csrf_token={b.csrf}".encode())
    assert status == 303
    assert _request(env, "GET", "/", {"Cookie": b.cookie})[0] == 401  # the session is gone server-side


def test_annotators_see_only_their_own_cases_and_media(env: Env) -> None:
    a, b = _http_login(env, "ann_a"), _http_login(env, "ann_b")
    i1, i2 = env.hashes["i1"], env.hashes["i2"]  # i2 is assigned to B only
    assert _request(env, "GET", f"/case/{i2}", {"Cookie": a.cookie})[0] == 404
    assert _request(env, "GET", f"/media/{i2}/0", {"Cookie": a.cookie})[0] == 404
    status, headers, body = _request(env, "GET", f"/media/{i2}/0", {"Cookie": b.cookie})
    assert status == 200 and headers["content-type"] == "image/png" and body[:8] == b"\x89PNG\r\n\x1a\n"
    assert _request(env, "GET", f"/case/{i2}", {"Cookie": b.cookie})[0] == 200
    assert _request(env, "GET", f"/media/{i1}/0", {"Cookie": a.cookie})[0] == 200
    assert _request(env, "GET", f"/media/{i1}/0", {})[0] == 401  # no session, no picture
    assert _request(env, "GET", "/case/" + "0" * 64, {"Cookie": a.cookie})[0] == 404  # unknown looks the same
    # saving on B's case: 404 as well, and nothing stored
    rid_b = _labels(env, "ann_b", "i2")["alpha"]
    assert _post_verdict(env, a, "i2", rid_b) == 404
    assert _post_verdict(env, a, "t2", "not-a-response") == 409
    # lead pages are for leads
    assert _request(env, "GET", "/disagreements", {"Cookie": a.cookie, "Accept": "text/html"})[0] == 403
    assert _request(env, "GET", "/stats", {"Cookie": a.cookie})[0] == 403
    form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": a.cookie, "Origin": env.base}
    assert _request(env, "POST", "/disagreements/settle", form,
                    f"csrf_token={a.csrf}&result_key=key-t2-beta&verdict=good".encode())[0] == 403


def test_video_and_the_frames_the_models_saw(env: Env) -> None:
    a, b = _http_login(env, "ann_a"), _http_login(env, "ann_b")
    v1 = env.hashes["v1"]
    status, _, html = _request(env, "GET", f"/case/{v1}", {"Cookie": b.cookie})
    assert status == 200
    assert f'<video controls preload="metadata" src="/media/{v1}/0">'.encode() in html
    assert html.count(f'src="/frames/{v1}/0/'.encode()) == 16
    status, headers, body = _request(env, "GET", f"/media/{v1}/0", {"Cookie": b.cookie, "Range": "bytes=0-99"})
    assert status == 206 and headers["content-type"] == "video/mp4" and len(body) == 100  # seekable
    status, headers, body = _request(env, "GET", f"/frames/{v1}/0/15", {"Cookie": b.cookie})
    assert status == 200 and headers["content-type"] == "image/png" and body[:4] == b"\x89PNG"
    assert _request(env, "GET", f"/frames/{v1}/0/16", {"Cookie": b.cookie})[0] == 404
    assert _request(env, "GET", f"/frames/{v1}/0/0", {"Cookie": a.cookie})[0] == 404  # not A's case


@pytest.mark.parametrize("path", [
    "/media/{h}/../../etc/passwd",
    "/media/{h}/0/../../../secret.txt",
    "/media/{h}/../../../../../../etc/passwd",
    "/media/{h}/1",  # the case has one media part
    "/media/{h}/-1",
    "/media/{h}/99999999999999999999",
    "/media/{h}/%2e%2e%2fsecret.txt",
    "/media/..%2F..%2Fetc%2Fpasswd/0",
    "/media/{h}%2F..%2F..%2Fsecret.txt/0",
    "/media/{h}/0%2F..%2F..%2Fsecret.txt",
    "/frames/{h}/0/0",  # an image has no frames
    "/static/../secret.txt",
    "/static/..%2F..%2F..%2Fsecret.txt",
])
def test_media_paths_cannot_escape(env: Env, path: str) -> None:
    a = _http_login(env, "ann_a")
    status, _, body = _request(env, "GET", path.format(h=env.hashes["i1"]), {"Cookie": a.cookie})
    assert status == 404
    assert b"do not serve me" not in body and b"root:" not in body


def test_tokens_are_stored_only_as_hashes_and_never_logged(env: Env) -> None:
    _http_login(env, "ann_a")
    status, headers, _ = _request(env, "GET", "/login?token=not-a-token")
    assert status == 403 and "set-cookie" not in headers
    raw = b"".join(p.read_bytes() for p in env.store_path.parent.glob("results.db*"))
    store = env.store()
    try:
        stored = dict(store.db.execute("SELECT name, token_sha256 FROM annotators"))
    finally:
        store.close()
    for name, token in env.tokens.items():
        assert token.encode() not in raw
        assert stored[name] == hashlib.sha256(token.encode()).hexdigest()
    assert any("/login" in line for line in env.log_lines)  # the access log saw the logins...
    for token in env.tokens.values():
        assert not any(token in line for line in env.log_lines)  # ...but never a token


def test_security_headers_and_no_external_resources(env: Env) -> None:
    a = _http_login(env, "ann_a")
    status, headers, body = _request(env, "GET", f"/case/{env.hashes['i1']}", {"Cookie": a.cookie})
    assert status == 200
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "same-origin"
    assert headers["cache-control"] == "no-store"
    assert not re.search(rb'(src|href)="(https?:)?//', body)  # nothing from the network
    assert b"<script>" not in body and b" style=" not in body and b"<b>answer" not in body  # escaped, no inline
    assert b"&lt;b&gt;answer in one word&lt;/b&gt;" in body


def test_rotating_a_token_logs_the_old_link_and_sessions_out(env: Env) -> None:
    c = _http_login(env, "lena")
    store = env.store()
    try:
        with pytest.raises(H.AnnotationError):
            H.add_annotator(store, "lena")
        new = H.add_annotator(store, "lena", rotate=True)
        assert H.is_lead(store, "lena")  # rotation keeps the role
    finally:
        store.close()
    assert _request(env, "GET", "/", {"Cookie": c.cookie})[0] == 401
    assert _request(env, "GET", urlsplit(env.login("lena")).path + "?token=" + env.tokens["lena"])[0] == 403
    env.tokens["lena"] = new
    _http_login(env, "lena")


# ------------------------------------------------------------------ the store alone


def _tiny_store(tmp_path: Path, n_cases: int) -> tuple[Store, list[str]]:
    store = Store(tmp_path / "s.db")
    hashes = []
    for i in range(n_cases):
        spec = (f"x{i}", "text/generalizability", "math", f"q{i}", None,
                {m: ("good", "rule", f"answer {i} by {m}") for m in ("m1", "m2")})
        hashes.append(_put(store, tmp_path, spec))
    return store, hashes


def test_assign_is_balanced_and_resumable(tmp_path: Path) -> None:
    store, hashes = _tiny_store(tmp_path, 6)
    # a case without an answered response is not assigned
    store.put_cases([("h-none", "none", "text/generalizability", "math", "t", None, json.dumps({"id": "none"}))])
    store.put_results([ResultRow(key="k-none", model="m1", model_identity="{}", settings="{}", case_id="none",
                                 case_hash="h-none", cell="text/generalizability", category="math",
                                 status="error", verdict="error")])
    for name in ("p1", "p2", "p3", "p4"):
        H.add_annotator(store, name)
    assert assign(store, k=3) == 18
    counts = {a.name: a.assignments for a in H.annotators(store)}
    assert sorted(counts.values()) == [4, 4, 5, 5]
    per_case = dict(store.db.execute("SELECT case_hash, COUNT(*) FROM assignments GROUP BY case_hash"))
    assert per_case == dict.fromkeys(hashes, 3)
    assert assign(store, k=3) == 0
    H.add_annotator(store, "p5")
    assert assign(store, k=3) == 0  # every case has its three people
    _put(store, tmp_path, ("x6", "text/generalizability", "math", "q6", None,
                           {"m1": ("good", "rule", "a")}))
    assert assign(store, k=3) == 3
    new_case = [h for (h,) in store.db.execute("SELECT case_hash FROM assignments WHERE annotator='p5'")]
    assert len(new_case) == 1  # the newcomer, with fewest assignments, got the new case
    assert assign(store, k=4, cells=["image"]) == 0  # no image cases
    assert assignments_for(store, "p5")[0].n_responses == 1
    with pytest.raises(H.AnnotationError):
        H.add_annotator(store, "../evil")


def test_effective_verdicts_majority_ties_and_lead(tmp_path: Path) -> None:
    store, hashes = _tiny_store(tmp_path, 2)
    for name in ("p1", "p2", "p3"):
        H.add_annotator(store, name)
    H.add_annotator(store, "boss", lead=True)
    assign(store, k=3, names=["p1", "p2", "p3"])
    votes = {"key-x0-m1": ("good", "good", "bad"), "key-x0-m2": ("good", "unclear", "bad"),
             "key-x1-m1": ("bad", "bad", "bad")}
    for key, vs in votes.items():
        for name, v in zip(("p1", "p2", "p3"), vs, strict=True):
            H.save_verdict(store, name, key, v, comment=f"{name} says {v}")
    with pytest.raises(H.NotAssigned):
        H.save_verdict(store, "boss", "key-x0-m1", "good")
    with pytest.raises(H.AnnotationError):
        H.save_verdict(store, "p1", "key-x0-m1", "excellent")
    eff = effective_human_verdicts(store)
    assert eff["key-x0-m1"][0] == "good" and eff["key-x0-m1"][1].by == ("p1", "p2")
    assert "key-x0-m2" not in eff  # one vote each
    assert eff["key-x1-m1"][0] == "bad"
    assert [c.result_key for c in conflicts(store)] == ["key-x0-m2"]
    assert [d.result_key for d in disagreements(store)] == ["key-x0-m2", "key-x0-m1"]
    with pytest.raises(H.AnnotationError):
        H.decide(store, "key-x0-m2", "good", "p1")  # not a lead
    H.decide(store, "key-x0-m2", "unclear", "boss", "partly right")
    H.decide(store, "key-x1-m1", "good", "boss")  # a lead also overrides a unanimous vote
    eff = effective_human_verdicts(store)
    assert eff["key-x0-m2"] == ("unclear", HumanProvenance("lead", ("boss",), pytest.approx(time.time(), abs=60),
                                                           {"p1": "good", "p2": "unclear", "p3": "bad"},
                                                           "partly right"))
    assert eff["key-x1-m1"][0] == "good"
    assert conflicts(store) == []
    # rankings: ties share their mean rank, then the mean over annotators
    H.save_ranking(store, "p1", hashes[0], {"m1": 1, "m2": 1})
    H.save_ranking(store, "p2", hashes[0], ["m2", "m1"])
    assert human_case_ranks(store)[hashes[0]] == {"m1": pytest.approx(1.75), "m2": pytest.approx(1.25)}
    rows = H.human_verdicts(store)
    assert {r.annotator for r in rows} == {"p1", "p2", "p3"} and all(r.updated_at for r in rows)


def test_login_url_format() -> None:
    from fourfold.web import login_url

    assert login_url("a/b+c", "127.0.0.1", 9000) == "http://127.0.0.1:9000/login?token=a%2Fb%2Bc"
    assert login_url("t", "::1", 1) == "http://[::1]:1/login?token=t"


def _get(port: int, path: str, cookie: str | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def test_annotate_serve_as_a_user_starts_it(tmp_path: Path) -> None:
    """`fourfold annotate serve` (``serve`` -> ``create_app`` -> uvicorn) in its own
    process: the printed link logs in, the page renders, and the token stays out
    of the server's output."""
    store_path = tmp_path / "results.db"
    Store(store_path).close()
    link = fourfold("annotate", "add-annotator", "alice", "--store", str(store_path), "--port", "8765").stdout
    link = link.strip()
    assert link.startswith("http://127.0.0.1:8765/login?token=")
    proc, port = start_on_free_port(
        lambda port: [sys.executable, "-m", "fourfold.cli", "annotate", "serve", "--store", str(store_path),
                      "--port", str(port)],
        lambda port: _get(port, "/")[0] > 0, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _get(port, "/")[0] == 401  # no session yet
        url = urlsplit(link)
        status, headers, _ = _get(port, f"{url.path}?{url.query}")
        assert status == 303 and headers["location"] == "/"
        cookie = headers["set-cookie"].split(";", 1)[0]
        status, _, html = _get(port, "/", cookie)
        assert status == 200 and b'<meta name="csrf-token"' in html and b"alice" in html
        assert _get(port, "/login?token=wrong")[0] == 403
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    token = url.query.split("=", 1)[1]
    assert "GET /login" in err and token not in out + err
