"""models.transport, the HTTP backends' keep-alive client, against real servers on
loopback that misbehave on purpose: raw asyncio TCP servers written per test (so a
test can send exactly the bytes a hostile or broken server would), and one TLS
server with a certificate made for the test.

What must hold whatever the server does: replies are matched to their requests,
bodies and headers stay under their caps, a broken or slow exchange ends in
``ConnectionError`` or ``TimeoutError`` (which the backends turn into a retry),
and a connection is reused only when that is safe."""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from fourfold.models.base import BackendUnusable, TransientError
from fourfold.models.http import send_request
from fourfold.models.transport import ERROR_BODY_BYTES, HEADER_BYTES, HttpPool

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    """A TCP server on a free loopback port that counts its connections."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None):
        self.handler, self.tls, self.connections = handler, tls, 0

    async def __aenter__(self) -> Server:
        async def on_connect(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self.handler(r, w)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                w.close()

        self.server = await asyncio.start_server(on_connect, "127.0.0.1", 0, ssl=self.tls)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def url(self, path: str = "/v1/chat/completions", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()


async def read_request(r: asyncio.StreamReader) -> bytes:
    """One request's body (the client always sends Content-Length)."""
    head = await r.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    return await r.readexactly(length)


def response(body: bytes, status: str = "200 OK", extra: str = "") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


async def echo_forever(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    while True:
        body = await read_request(r)
        w.write(response(b"echo:" + body))
        await w.drain()


LOOP: dict[str, Callable[[], asyncio.AbstractEventLoop] | None] = {"factory": None}


@pytest.fixture(autouse=True, params=["asyncio", "uvloop"])
def event_loop_kind(request: pytest.FixtureRequest) -> str:
    """Every test on both loops: `fourfold run` uses uvloop where it is installed, tools and tests asyncio's."""
    if request.param == "uvloop":
        import uvloop

        LOOP["factory"] = uvloop.new_event_loop
    else:
        LOOP["factory"] = None
    return str(request.param)


def run(coro: Awaitable[None]) -> None:
    with asyncio.Runner(loop_factory=LOOP["factory"]) as runner:
        runner.run(coro)  # type: ignore[arg-type]


def test_one_connection_carries_sequential_requests_and_concurrent_ones_get_their_own_answers() -> None:
    async def main() -> None:
        async with Server(echo_forever) as s:
            pool = HttpPool(10)
            for i in range(20):
                reply = await pool.request("POST", s.url(), f"n{i}".encode(), {}, 1 << 20)
                assert (reply.status, reply.raw, reply.cut) == (200, f"echo:n{i}".encode(), False)
            assert s.connections == 1
            replies = await asyncio.gather(*(pool.request("POST", s.url(), f"c{i}".encode(), {}, 1 << 20)
                                             for i in range(50)))
            assert [r.raw for r in replies] == [f"echo:c{i}".encode() for i in range(50)]
            assert s.connections <= 50
            await pool.aclose()

    run(main())


def test_a_kept_alive_connection_the_server_closed_is_retried_once_on_a_new_one() -> None:
    async def answer_once(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        body = await read_request(r)
        w.write(response(b"echo:" + body))  # says nothing of closing, then closes: keep-alive is the default
        await w.drain()

    async def main() -> None:
        async with Server(answer_once) as s:
            pool = HttpPool(10)
            assert (await pool.request("POST", s.url(), b"a", {}, 1024)).raw == b"echo:a"
            await asyncio.sleep(0.05)  # the server has closed its side by now
            assert (await pool.request("POST", s.url(), b"b", {}, 1024)).raw == b"echo:b"
            assert s.connections == 2
            await pool.aclose()

    run(main())


def test_a_body_over_the_cap_is_cut_there_and_its_connection_is_not_reused() -> None:
    big = b"x" * (5 << 20)

    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        while True:
            body = await read_request(r)
            w.write(response(big if body == b"big" else b"small"))
            await w.drain()

    async def main() -> None:
        async with Server(handler) as s:
            pool = HttpPool(10)
            reply = await pool.request("POST", s.url(), b"big", {}, 1 << 20)
            assert (reply.cut, len(reply.raw)) == (True, 1 << 20)
            after = await pool.request("POST", s.url(), b"next", {}, 1 << 20)
            assert (after.raw, after.cut, s.connections) == (b"small", False, 2)
            await pool.aclose()

    run(main())


def test_an_error_reply_is_read_only_as_far_as_its_message() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await read_request(r)
        w.write(response(b"e" * (1 << 20), "500 Internal Server Error", "Retry-After: 7\r\n"))
        await w.drain()

    async def main() -> None:
        async with Server(handler) as s:
            pool = HttpPool(10)
            reply = await pool.request("POST", s.url(), b"", {}, 10 << 20)
            assert (reply.status, len(reply.raw), reply.cut) == (500, ERROR_BODY_BYTES, True)
            assert reply.headers.get("Retry-After") == reply.headers.get("retry-after") == "7"
            await pool.aclose()

    run(main())


def test_a_compressed_body_is_inflated_only_up_to_the_cap() -> None:
    bomb = gzip.compress(b"\0" * (64 << 20))  # 64 MB of zeros in about 64 KB

    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        body = await read_request(r)
        payload = bomb if body == b"bomb" else gzip.compress(b'{"ok": true}')
        w.write(response(payload, extra="Content-Encoding: gzip\r\n"))
        await w.drain()

    async def main() -> None:
        async with Server(handler) as s:
            pool = HttpPool(10)
            reply = await pool.request("POST", s.url(), b"bomb", {}, 1 << 20)
            assert (len(reply.raw), reply.cut) == (1 << 20, True)
            small = await pool.request("POST", s.url(), b"ok", {}, 1 << 20)
            assert (small.raw, small.cut) == (b'{"ok": true}', False)
            await pool.aclose()

    run(main())


def test_chunked_and_close_delimited_bodies_are_read_whole() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        body = await read_request(r)
        if body == b"chunked":
            w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        else:  # HTTP/1.0 style: no length, the body ends with the connection
            w.write(b"HTTP/1.0 200 OK\r\n\r\nuntil the end")
            await w.drain()
            w.close()
        await w.drain()

    async def main() -> None:
        async with Server(handler) as s:
            pool = HttpPool(10)
            assert (await pool.request("POST", s.url(), b"chunked", {}, 1024)).raw == b"hello world"
            assert (await pool.request("POST", s.url(), b"close", {}, 1024)).raw == b"until the end"
            await pool.aclose()

    run(main())


@pytest.mark.parametrize("reply", [
    b"this is not HTTP at all\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX-Flood: " + b"a" * (HEADER_BYTES + 10) + b"\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",  # then the server hangs up
    b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Encoding: gzip\r\n\r\nnope",
])
def test_an_unreadable_reply_is_a_connection_error_and_the_next_request_is_answered(reply: bytes) -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        body = await read_request(r)
        w.write(reply if body == b"bad" else response(b"good"))
        await w.drain()

    async def main() -> None:
        async with Server(handler) as s:
            pool = HttpPool(10)
            with pytest.raises(ConnectionError):
                await pool.request("POST", s.url(), b"bad", {}, 1 << 20)
            assert (await pool.request("POST", s.url(), b"fine", {}, 1 << 20)).raw == b"good"
            with pytest.raises(TransientError, match="ProtocolError|ConnectionError"):
                await send_request(pool, "POST", s.url(), b"bad", {}, 1 << 20)
            await pool.aclose()

    run(main())


def test_a_server_that_never_answers_times_out_and_a_late_answer_reaches_no_later_request() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        while True:
            body = await read_request(r)
            if body == b"slow":
                await asyncio.sleep(0.6)  # past the client's timeout, then answers on the same connection
            w.write(response(b"for:" + body))
            await w.drain()

    async def main() -> None:
        async with Server(handler) as s:
            pool = HttpPool(0.3)
            with pytest.raises(TimeoutError):
                await pool.request("POST", s.url(), b"slow", {}, 1024)
            with pytest.raises(TransientError, match="TimeoutError"):
                await send_request(pool, "POST", s.url(), b"slow", {}, 1024)
            await asyncio.sleep(0.5)  # the late answers arrive (on connections already closed)
            assert (await pool.request("POST", s.url(), b"next", {}, 1024)).raw == b"for:next"
            await pool.aclose()

    run(main())


def test_bytes_nobody_asked_for_drop_the_connection() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        body = await read_request(r)
        w.write(response(b"first:" + body) + response(b"forged"))  # a second, unrequested response
        await w.drain()
        while True:
            body = await read_request(r)
            w.write(response(b"again:" + body))
            await w.drain()

    async def main() -> None:
        async with Server(handler) as s:
            pool = HttpPool(10)
            assert (await pool.request("POST", s.url(), b"a", {}, 1024)).raw == b"first:a"
            await asyncio.sleep(0.05)
            replies = await asyncio.gather(*(pool.request("POST", s.url(), b"b%d" % i, {}, 1024) for i in range(3)))
            assert [r.raw for r in replies] == [b"first:b0", b"first:b1", b"first:b2"]  # each on a new connection
            assert s.connections == 4  # the first was dropped; the pool never held it twice
            await pool.aclose()

    run(main())


def test_a_url_that_is_not_http_makes_the_backend_unusable_and_a_refused_connection_is_transient() -> None:
    async def main() -> None:
        pool = HttpPool(5)
        with pytest.raises(BackendUnusable, match="not an http"):
            await send_request(pool, "POST", "ftp://127.0.0.1/x", b"", {}, 1024)
        async with Server(echo_forever) as s:
            port = s.port
        with pytest.raises(TransientError, match="ConnectionRefusedError"):
            await send_request(pool, "POST", f"http://127.0.0.1:{port}/v1", b"", {}, 1024)
        await pool.aclose()

    run(main())


def tls_server_context(tmp_path: Path, names: tuple[str, ...] = ("127.0.0.1",)) -> ssl.SSLContext:
    """A server context with a self-signed certificate for ``names`` (IP addresses or DNS
    names), written to ``tmp_path/cert.pem`` for a client to trust through ``SSL_CERT_FILE``."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def alt(n: str) -> x509.GeneralName:
        try:
            return x509.IPAddress(ipaddress.ip_address(n))
        except ValueError:
            return x509.DNSName(n)

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([alt(n) for n in names]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return server_ctx


def test_https_verifies_the_server_and_sends_the_request_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    server_ctx = tls_server_context(tmp_path)
    big = b"b" * (200 << 10)  # over one TLS record and the pool's single-write size

    async def main(trusted: bool) -> None:
        async with Server(echo_forever, tls=server_ctx) as s:
            pool = HttpPool(5)
            if trusted:
                reply = await pool.request("POST", s.url(scheme="https"), big, {}, 1 << 20)
                assert reply.raw == b"echo:" + big
            else:
                with pytest.raises(TransientError, match="CERTIFICATE_VERIFY_FAILED"):
                    await send_request(pool, "POST", s.url(scheme="https"), b"x", {}, 1024)
            await pool.aclose()

    run(main(trusted=False))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))  # OpenSSL's default verify paths read it
    run(main(trusted=True))


def test_informational_replies_before_the_answer_are_skipped() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        while True:
            body = await read_request(r)
            w.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
                    + response(b"after:" + body, "404 Not Found"))
            await w.drain()

    async def main() -> None:
        async with Server(handler) as s:
            pool = HttpPool(10)
            for i in range(3):
                reply = await pool.request("POST", s.url(), b"%d" % i, {}, 1 << 20)
                assert (reply.status, reply.raw, "link" in reply.headers) == (404, b"after:%d" % i, False)
            assert s.connections == 1
            await pool.aclose()

    run(main())


def test_compressed_bodies_cut_short_or_broken_are_never_taken_for_whole_ones() -> None:
    import os
    import zlib

    noise = gzip.compress(os.urandom(300_000))  # incompressible: the compressed body itself passes the cap
    half = gzip.compress(b'{"answer": "' + b"y" * 5000 + b'"}')[:40]
    raw_deflate = zlib.compressobj(wbits=-15)
    raw = raw_deflate.compress(b'{"ok": 1}') + raw_deflate.flush()
    bodies = {b"noise": (noise, "gzip"), b"half": (half, "gzip"), b"raw": (raw, "deflate"),
              b"br": (b"\x0b\x02\x80{}\x03", "br")}

    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        while True:
            payload, encoding = bodies[await read_request(r)]
            w.write(response(payload, extra=f"Content-Encoding: {encoding}\r\n"))
            await w.drain()

    async def main() -> None:
        async with Server(handler) as s:
            pool = HttpPool(10)
            cut = await pool.request("POST", s.url(), b"noise", {}, 100_000)
            assert cut.cut and len(cut.raw) <= 100_000  # the cap holds for what is inflated too
            with pytest.raises(ConnectionError, match="ends before its stream does"):
                await pool.request("POST", s.url(), b"half", {}, 1 << 20)
            assert (await pool.request("POST", s.url(), b"raw", {}, 1 << 20)).raw == b'{"ok": 1}'  # deflate sent raw
            with pytest.raises(BackendUnusable, match="Content-Encoding 'br', which was not asked for"):
                await send_request(pool, "POST", s.url(), b"br", {}, 1 << 20)
            await pool.aclose()

    run(main())


def test_an_endless_header_value_is_stopped_at_the_header_cap() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await read_request(r)
        w.write(b"HTTP/1.1 200 OK\r\nX-Flood: ")
        for _ in range(400):  # 40 MB if nobody stops it
            w.write(b"a" * 100_000)
            await w.drain()

    async def main() -> None:
        async with Server(handler) as s:
            pool = HttpPool(20)
            with pytest.raises(ConnectionError, match="response headers over 65,536 bytes"):
                await pool.request("POST", s.url(), b"", {}, 1 << 20)
            await pool.aclose()

    run(main())


def test_a_reset_mid_body_fails_and_an_answer_before_the_request_was_read_is_not_reused() -> None:
    import socket
    import struct

    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        head = await r.readuntil(b"\r\n\r\n")
        if b"X-Case: reset" in head:  # a close-delimited body, then a TCP reset half-way
            w.write(b'HTTP/1.1 200 OK\r\n\r\n{"answer": "the first half of')
            await w.drain()
            await asyncio.sleep(0.05)
            w.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            w.transport.abort()
            return
        w.write(response(b"too big", "413 Content Too Large"))  # answers without reading the 8 MB body
        await w.drain()
        await asyncio.sleep(3)

    async def main() -> None:
        async with Server(handler) as s:
            pool = HttpPool(10)
            with pytest.raises(ConnectionError):
                await pool.request("POST", s.url(), b"", {"X-Case": "reset"}, 1 << 20)
            reply = await pool.request("POST", s.url(), b"x" * (8 << 20), {"X-Case": "early"}, 1 << 20)
            assert reply.status == 413
            assert not any(pool._idle.values())  # its unsent body would be read as the next request
            await pool.aclose()

    run(main())


def test_a_server_that_never_reads_leaves_no_socket_and_aclose_fails_what_is_in_flight() -> None:
    seen: list[bytes] = []

    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        head = await r.readuntil(b"\r\n\r\n")
        if b"X-Case: stall" in head:
            await asyncio.sleep(3600)  # never reads the body, never answers
        while True:
            body = await r.readexactly(int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0]))
            seen.append(body)
            if body != b"warm":
                await asyncio.sleep(3600)  # holds the request in flight
            w.write(response(body))
            await w.drain()
            head = await r.readuntil(b"\r\n\r\n")

    async def main() -> None:
        async with Server(handler) as s:
            pool = HttpPool(0.3)
            for _ in range(3):
                with pytest.raises(TimeoutError):
                    await pool.request("POST", s.url(), b"x" * (16 << 20), {"X-Case": "stall"}, 1024)
            await asyncio.sleep(0.1)
            assert not pool._all  # each timed-out connection was dropped with its unsent 16 MB
            pool = HttpPool(10)
            assert (await pool.request("POST", s.url(), b"warm", {}, 1024)).raw == b"warm"
            task = asyncio.ensure_future(pool.request("POST", s.url(), b"inflight", {}, 1024))
            await asyncio.sleep(0.1)
            await pool.aclose()
            with pytest.raises(ConnectionError):
                await task
            assert seen == [b"warm", b"inflight"]  # not sent again on a new connection
            assert not pool._all

    run(main())


def test_trailers_do_not_change_the_headers_read_before_the_body() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await read_request(r)
        w.write(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nTransfer-Encoding: chunked\r\n"
                b"Trailer: Retry-After\r\n\r\n2\r\nno\r\n0\r\nRetry-After: 99999\r\nContent-Encoding: gzip\r\n\r\n")
        await w.drain()

    async def main() -> None:
        async with Server(handler) as s:
            pool = HttpPool(10)
            reply = await pool.request("POST", s.url(), b"", {}, 1024)
            assert (reply.status, reply.raw, reply.headers.get("retry-after")) == (429, b"no", "1")
            await pool.aclose()

    run(main())


def test_a_header_value_with_a_line_break_is_refused_before_anything_is_sent() -> None:
    async def main() -> None:
        async with Server(echo_forever) as s:
            pool = HttpPool(10)
            with pytest.raises(BackendUnusable, match="Authorization header holds a line break"):
                await send_request(pool, "POST", s.url(), b"", {"Authorization": "Bearer k\r\nX-Evil: 1"}, 1024)
            assert s.connections == 0
            await pool.aclose()

    run(main())


class Proxy:
    """An HTTP proxy on loopback, as a lab's would be: ``CONNECT`` tunnels and absolute-form
    requests, every host name resolving to 127.0.0.1 (so a test can use names no DNS knows),
    recording each request line and its ``Proxy-Authorization``."""

    def __init__(self, refuse: bool = False):
        self.refuse, self.seen = refuse, []  # type: ignore[var-annotated]

    async def handle(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        from urllib.parse import urlsplit

        head = await r.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        auth = next((v.strip() for k, _, v in (x.partition(":") for x in lines[1:]) if k.lower() ==
                     "proxy-authorization"), None)
        self.seen.append((lines[0], auth))
        if self.refuse:
            w.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
            await w.drain()
            return
        method, target, _ = lines[0].split(" ")
        if method == "CONNECT":
            port, prefix = int(target.rsplit(":", 1)[1]), b""
            w.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            port, prefix = urlsplit(target).port or 80, head
        ur, uw = await asyncio.open_connection("127.0.0.1", port)
        uw.write(prefix)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
            dst.close()

        await asyncio.gather(pipe(r, uw), pipe(ur, w), return_exceptions=True)


def test_requests_go_through_the_environments_proxy_as_curl_and_the_sdks_send_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server_ctx = tls_server_context(tmp_path, ("model.test",))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)

    async def main() -> None:
        proxy = Proxy()
        async with Server(proxy.handle) as p, Server(echo_forever, tls=server_ctx) as tls, \
                Server(echo_forever) as plain:
            monkeypatch.setenv("HTTPS_PROXY", f"http://ann:s%40cret@127.0.0.1:{p.port}")
            monkeypatch.setenv("http_proxy", f"127.0.0.1:{p.port}")
            pool = HttpPool(10)
            # https: a CONNECT tunnel with the proxy's credentials; TLS (checked for model.test) inside it
            for i in range(3):
                reply = await pool.request("POST", f"https://model.test:{tls.port}/v1/x", b"%d" % i,
                                           {"Authorization": "Bearer sk-secret"}, 1024)
                assert reply.raw == b"echo:%d" % i
            assert proxy.seen == [(f"CONNECT model.test:{tls.port} HTTP/1.1", "Basic YW5uOnNAY3JldA==")]
            # plain http: the whole URL in the request line, to the proxy
            assert (await pool.request("POST", f"http://model.test:{plain.port}/v1/y", b"p", {}, 1024)).raw \
                == b"echo:p"
            assert proxy.seen[1] == (f"POST http://model.test:{plain.port}/v1/y HTTP/1.1", None)
            # loopback never goes through a proxy
            assert (await pool.request("POST", plain.url(), b"direct", {}, 1024)).raw == b"echo:direct"
            local = plain.url().replace("127.0.0.1", "localhost")
            assert (await pool.request("POST", local, b"local", {}, 1024)).raw == b"echo:local"
            assert len(proxy.seen) == 2
            await pool.aclose()
            # NO_PROXY names the host: sent directly, where no DNS knows model.test
            monkeypatch.setenv("NO_PROXY", "model.test")
            pool = HttpPool(10)
            with pytest.raises(TransientError, match="gaierror|Name or service"):
                await send_request(pool, "POST", f"https://model.test:{tls.port}/v1/x", b"", {}, 1024)
            assert len(proxy.seen) == 2
            await pool.aclose()

    run(main())


def test_a_proxy_that_refuses_or_one_fourfold_cannot_use_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)

    async def main() -> None:
        proxy = Proxy(refuse=True)
        async with Server(proxy.handle) as p:
            monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{p.port}")
            pool = HttpPool(10)
            with pytest.raises(TransientError, match=f"the proxy 127.0.0.1:{p.port} refused the tunnel to "
                                                     "model.test:443 \\(HTTP 407\\)"):
                await send_request(pool, "POST", "https://model.test/v1/x", b"", {}, 1024)
            monkeypatch.setenv("HTTPS_PROXY", "socks5://user:pw@127.0.0.1:1080")
            pool = HttpPool(10)
            with pytest.raises(BackendUnusable, match="only http:// proxies are supported") as e:
                await send_request(pool, "POST", "https://model.test/v1/x", b"", {}, 1024)
            assert "pw" not in str(e.value)  # the proxy's credentials are never in a message

    run(main())


@pytest.mark.parametrize(("host", "port", "no_proxy", "bypass"), [
    ("model.test", 8443, "model.test:8443", True), ("model.test", 443, "model.test:8443", False),
    ("10.1.2.3", 80, "10.0.0.0/8", True), ("11.1.2.3", 80, "10.0.0.0/8", False),
    ("api.example.com", 443, ".example.com", True), ("api.example.com", 443, "example.com", True),
    ("notexample.com", 443, "example.com", False), ("anything", 1, "a.test, *", True),
    ("::1", 80, "[::1]:80", True), ("2001:db8::1", 80, "2001:db8::/32", True),
    ("EXAMPLE.com", 1, " Example.COM ", True), ("a.b", 5, "", False)])
def test_no_proxy_reads_hosts_domains_ports_and_ranges_as_curl_and_requests_do(
        host: str, port: int, no_proxy: str, bypass: bool) -> None:
    from fourfold.models.transport import bypasses

    assert bypasses(host, port, no_proxy) is bypass


def test_a_proxy_setting_never_shows_its_password_and_only_loopback_addresses_skip_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from fourfold.models.transport import proxy_for

    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    for setting in ("http://user:s3cr/et@proxy.corp:3128", "user:s3cr?et@proxy.corp", "http://u:9999#x@p:1"):
        monkeypatch.setenv("HTTPS_PROXY", setting)
        try:
            proxy = proxy_for("api.example.com", 443, True)
        except ValueError as e:
            assert "s3cr" not in str(e) and "9999" not in str(e) and "HTTPS_PROXY" in str(e)
        else:
            assert proxy is not None and proxy.host != "user" and "s3cr" not in repr(proxy)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    assert proxy_for("127.evil.com", 443, True) is not None  # a name, not a loopback address
    for loopback in ("127.0.0.2", "::1", "::ffff:127.0.0.1", "localhost.", "api.localhost"):
        assert proxy_for(loopback, 443, True) is None, loopback


def test_a_proxy_answering_connect_with_an_endless_status_code_is_a_clean_error(monkeypatch: pytest.MonkeyPatch
                                                                                ) -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await r.readuntil(b"\r\n\r\n")
        w.write(b"HTTP/1.1 " + b"2" * 5000 + b" OK\r\n\r\n")
        await w.drain()
        await asyncio.sleep(1)

    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)

    async def main() -> None:
        async with Server(handler) as p:
            monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{p.port}")
            pool = HttpPool(5)
            with pytest.raises(TransientError, match="refused the tunnel .*reply unreadable"):
                await send_request(pool, "POST", "https://model.test/v1/x", b"", {}, 1024)
            await pool.aclose()

    run(main())
