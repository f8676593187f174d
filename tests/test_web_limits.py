"""The annotation app checks the login before it reads a body, and caps bodies.

`fourfold annotate serve` runs in its own process (as a user starts it), so its
memory can be read from /proc: VmHWM is the peak resident size, which a body
held in memory would raise for good. Clients are raw sockets, so a request can
announce 300 MB, send a little, and wait: a server that answers proves it did
not wait for (or read) the rest.
"""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import fourfold, start_on_free_port
from fourfold.store import ResultRow, Store
from fourfold.store import human as H

MB = 1024 * 1024


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    tmpdir: Path
    cookie: str
    csrf: str
    result_key: str

    def kb(self, field: str) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M).group(1))  # type: ignore[union-attr]

    def deleted_files(self) -> list[str]:
        out = []
        for fd in Path(f"/proc/{self.proc.pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.endswith("(deleted)") or target.startswith(str(self.tmpdir)):
                out.append(target)
        return out


def _raw(port: int, head: str, body: bytes = b"", timeout: float = 10) -> tuple[int, bytes]:
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(head.encode() + body)
        return _status(s)
    finally:
        s.close()


def _status(s: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1]), data


def _head(method: str, path: str, headers: dict[str, str], port: int = 0) -> str:
    host = f"127.0.0.1:{port}" if port else "127.0.0.1"
    return f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"


def _upload(port: int, head: str, total: int, *, chunked: bool, wait_after: int, first: bytes = b""
            ) -> tuple[int, int]:
    """Send ``head`` and then body bytes, 64 KB at a time, up to ``total``; stop
    sending once the server answers, after ``wait_after`` bytes, or when it
    closes. Returns (status, bytes sent): a server that reads the whole body
    first never answers (the read times out and fails the test)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    piece = b"x" * 65536
    sent = 0
    try:
        s.sendall(head.encode())
        if first:
            s.sendall(f"{len(first):x}\r\n".encode() + first + b"\r\n" if chunked else first)
        while sent < min(total, wait_after):
            if select.select([s], [], [], 0)[0]:
                break  # the answer is there
            frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
            try:
                s.sendall(frame)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            sent += len(piece)
        return _status(s)[0], sent
    finally:
        s.close()


def _part(boundary: str) -> bytes:
    """The start of a multipart body: one file part whose bytes follow."""
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("limits")
    store_path = tmp / "results.db"
    store = Store(store_path)
    case = '{"id": "c1", "cell": "text/causality", "input": [{"role": "user", "content": "why?"}]}'
    store.put_cases([("h1", "c1", "text/causality", "why", None, str(tmp), case)])
    store.put_results([ResultRow(key="r1", model="m", model_identity="{}", settings="{}", case_id="c1",
                                 case_hash="h1", cell="text/causality", category="why", status="ok",
                                 verdict="good", response="because")])
    H.add_annotator(store, "lena", lead=True)
    store.close()
    link = fourfold("annotate", "add-annotator", "lena", "--rotate", "--store", str(store_path),
                    "--port", "8765").stdout.strip()
    spool = tmp / "spool"
    spool.mkdir()
    proc, port = start_on_free_port(
        lambda port: [sys.executable, "-m", "fourfold.cli", "annotate", "serve", "--store", str(store_path),
                      "--port", str(port)],
        lambda port: _raw(port, _head("GET", "/", {"Connection": "close"}))[0] > 0,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "TMPDIR": str(spool)})
    try:
        url = urlsplit(link)
        status, head = _raw(port, _head("GET", f"{url.path}?{url.query}", {"Connection": "close"}))
        assert status == 303
        cookie = re.search(rb"set-cookie: ([^;]+);", head, re.I).group(1).decode()  # type: ignore[union-attr]
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(_head("GET", "/", {"Cookie": cookie, "Connection": "close"}).encode())
        page = b""
        while chunk := s.recv(65536):
            page += chunk
        s.close()
        csrf = re.search(rb'<meta name="csrf-token" content="([^"]+)"', page).group(1).decode()  # type: ignore[union-attr]
        yield Server(proc, port, spool, cookie, csrf, "r1")
    finally:
        proc.terminate()
        proc.wait(20)


def _auth(server: Server, content_type: str) -> dict[str, str]:
    return {"Cookie": server.cookie, "X-CSRF-Token": server.csrf, "Origin": f"http://127.0.0.1:{server.port}",
            "Content-Type": content_type}


def test_anonymous_300_mb_post_is_refused_before_its_body(server: Server) -> None:
    peak = server.kb("VmHWM")
    head = _head("POST", "/api/verdict", {"Content-Type": "application/json", "Content-Length": str(300 * MB)}, server.port)
    status, sent = _upload(server.port, head, 300 * MB, chunked=False, wait_after=300 * MB)
    assert status == 401
    assert sent < 16 * MB, f"the server let {sent} bytes in before saying 401"
    # chunked (no length announced): the same
    head = _head("POST", "/api/verdict", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}, server.port)
    assert _upload(server.port, head, 300 * MB, chunked=True, wait_after=300 * MB)[0] == 401
    assert server.kb("VmHWM") - peak < 64 * 1024, "the server's peak memory grew by 64 MB or more"


def test_anonymous_200_mb_multipart_touches_no_disk(server: Server) -> None:
    peak = server.kb("VmHWM")
    boundary = "b0undary"
    head = _head("POST", "/disagreements/settle", {
        "Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(200 * MB)}, server.port)
    preamble = _part(boundary)
    s = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    try:
        s.sendall(head.encode() + preamble)
        sent = len(preamble)
        while sent < 8 * MB and not select.select([s], [], [], 0)[0]:
            try:
                s.sendall(b"\0" * 65536)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 65536
        assert server.deleted_files() == [] and list(server.tmpdir.iterdir()) == []
        assert _status(s)[0] == 401
    finally:
        s.close()
    assert server.deleted_files() == [] and list(server.tmpdir.iterdir()) == []
    assert server.kb("VmHWM") - peak < 64 * 1024


def test_logged_in_bodies_are_capped(server: Server) -> None:
    peak = server.kb("VmHWM")
    # announced too large: 413 before a byte is read
    head = _head("POST", "/api/verdict", {**_auth(server, "application/json"), "Content-Length": str(300 * MB)}, server.port)
    status, sent = _upload(server.port, head, 300 * MB, chunked=False, wait_after=300 * MB)
    assert status == 413 and sent < 16 * MB
    # not announced (chunked): 413 once the bytes read pass 1 MiB
    head = _head("POST", "/api/verdict", {**_auth(server, "application/json"), "Transfer-Encoding": "chunked"}, server.port)
    status, sent = _upload(server.port, head, 300 * MB, chunked=True, wait_after=300 * MB)
    assert status == 413 and MB <= sent < 16 * MB
    # a form, chunked, to the lead's settle endpoint: 413 past 256 KiB, nothing spooled to disk
    head = _head("POST", "/disagreements/settle", {
        **_auth(server, "multipart/form-data; boundary=xyz"), "Transfer-Encoding": "chunked"}, server.port)
    status, sent = _upload(server.port, head, 200 * MB, chunked=True, wait_after=200 * MB, first=_part("xyz"))
    assert status == 413 and sent < 16 * MB
    assert server.deleted_files() == [] and list(server.tmpdir.iterdir()) == []
    assert server.kb("VmHWM") - peak < 64 * 1024


def test_normal_requests_still_work(server: Server) -> None:
    """The guard lets an ordinary, logged-in, small request through to the app."""
    body = f"result_key={server.result_key}&verdict=bad&comment=checked&csrf_token={server.csrf}".encode()
    head = _head("POST", "/disagreements/settle", {
        "Cookie": server.cookie, "Origin": f"http://127.0.0.1:{server.port}",
        "Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(body))}, server.port)
    assert _raw(server.port, head, body)[0] == 303
    head = _head("POST", "/api/verdict", {**_auth(server, "application/json"), "Content-Length": "2"}, server.port)
    assert _raw(server.port, head, b"{}")[0] == 422  # reached the app, which validated the JSON
