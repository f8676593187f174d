"""The HTTP backends' transport: keep-alive HTTP/1.1 over asyncio, parsed by httptools.

Why not aiohttp here: a model request is one small POST and one JSON reply, and
aiohttp's general client (request and response objects, multidicts, payload
classes, a writer task per request) spent about 0.11 ms of CPU a request more
than this does, measured against the shared latency server (20,000 requests at
concurrency 256: 4.1 s of CPU for the bare aiohttp client, 1.8 s here). On two
cores that was a third of fourfold's CPU a case, and importing aiohttp was a
third of a run's start-up. httptools (llhttp, the parser uvicorn uses) does the
parsing; asyncio does the sockets and TLS; what is here is the connection pool
and the caps.

What it guarantees, whatever the server sends: at most ``cap`` body bytes are
kept (the connection is then dropped, and the reply marked ``cut``), at most
``HEADER_BYTES`` of headers, and the whole exchange ends within the pool's
timeout. A connection is reused only after a complete reply that allowed it; a
reused connection the server had already closed is retried once on a new one.
Proxies come from the environment as curl reads them (``proxy_for``): an
``http://`` proxy, ``CONNECT`` tunnels for https, loopback never proxied.
"""

from __future__ import annotations

import asyncio
import base64
import os
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import httptools

#: An error reply is read this far: its message is all that is used.
ERROR_BODY_BYTES = 1 << 16
#: Response headers (names and values together) read at most.
HEADER_BYTES = 1 << 16
#: Compressed bodies are inflated up to the same cap as plain ones; these are the encodings understood.
DECODERS = {"gzip": 47, "x-gzip": 47, "deflate": 15}


class Headers(dict[str, str]):
    """Response headers by lower-cased name; ``get`` takes any case."""

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return dict.get(self, name.lower(), default)


@dataclass(frozen=True)
class Reply:
    """A response read under its cap: the status, the (start of the) body, and
    whether it was cut."""

    status: int
    raw: bytes
    cut: bool
    headers: Headers


class ProtocolError(ConnectionError):
    """The server's bytes are not an HTTP/1.1 response we can read."""


@dataclass(frozen=True)
class _Proxy:
    """An ``http://`` proxy from the environment: where it is, and its credentials as a header value."""

    host: str
    port: int
    auth: str | None = field(repr=False)  # the credentials, base64: never in a repr or log


@dataclass(frozen=True)
class _Target:
    """A URL split once: where to connect, through which proxy, and what to put in the request line."""

    host: str
    port: int
    tls: bool
    authority: str
    path: bytes
    proxy: _Proxy | None = None

    @classmethod
    def of(cls, url: str) -> _Target:
        u = urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        tls = u.scheme == "https"
        host, port, authority = u.hostname, u.port or (443 if tls else 80), u.netloc.rpartition("@")[2]
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        proxy = proxy_for(host, port, tls)
        if proxy is not None and not tls:  # a plain request through a proxy names the whole URL
            path = f"http://{authority}{path}"
        return cls(host, port, tls, authority, path.encode(), proxy)


def proxy_for(host: str, port: int, tls: bool) -> _Proxy | None:
    """The proxy the environment names for ``host:port``, as curl and the provider SDKs
    read it (``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``, any case; ``NO_PROXY`` by
    ``bypasses``). Loopback hosts never go through one: no proxy can reach this
    machine's own servers. A setting that cannot be used is a ``ValueError`` whose
    message holds nothing of the setting's value (it may carry a password)."""
    if not any(k.lower() in ("http_proxy", "https_proxy", "all_proxy") for k in os.environ):
        return None  # the common case, without importing urllib.request
    if _is_loopback(host):
        return None
    import urllib.request

    proxies = urllib.request.getproxies()
    names = "HTTPS_PROXY or ALL_PROXY" if tls else "HTTP_PROXY or ALL_PROXY"
    url = proxies.get("https" if tls else "http") or proxies.get("all")
    if not url or bypasses(host, port, proxies.get("no", "")):
        return None
    try:
        u = urlsplit(url if "://" in url else f"http://{url}")
        where, where_port = u.hostname, u.port
    except ValueError:
        raise ValueError(f"{names} is not a valid proxy URL (percent-encode / ? # @ in its password)") from None
    if u.scheme != "http" or not where:
        raise ValueError(f"{names}: only http:// proxies are supported (got {u.scheme}://)")
    auth = None
    if u.username is not None:
        pair = f"{unquote(u.username)}:{unquote(u.password or '')}".encode()
        auth = "Basic " + base64.b64encode(pair).decode()
    return _Proxy(where, where_port or 80, auth)


def _is_loopback(host: str) -> bool:
    """``localhost`` (and names under it), or a loopback address, IPv4-mapped ones included."""
    name, ip = host.lower().rstrip("."), _ip(host)
    if name == "localhost" or name.endswith(".localhost"):
        return True
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip is not None and (ip.is_loopback or (mapped is not None and mapped.is_loopback))


def _ip(host: str) -> Any:
    import ipaddress

    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def bypasses(host: str, port: int, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` exempts ``host:port``: ``*``; an entry naming the host or a
    domain above it (``example.com`` and ``.example.com`` both cover ``api.example.com``),
    with ``:PORT`` matching that port only; an IP address, or a CIDR range for IP hosts."""
    import ipaddress

    host, ip = host.lower().strip("[]"), _ip(host.strip("[]"))
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        if ip is not None and "/" in entry:
            try:
                if ip in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        if entry.startswith("[") and "]:" in entry:  # [IPv6]:PORT
            name, entry_port = entry[1:].split("]:", 1)
        elif entry.count(":") == 1:  # HOST:PORT
            name, _, entry_port = entry.rpartition(":")
        else:
            name, entry_port = entry, ""
        if entry_port and entry_port != str(port):
            continue
        name = name.strip("[]").lstrip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


class _Tunnel(asyncio.Protocol):
    """The proxy's answer to ``CONNECT``: its status, once its headers have ended."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.status: asyncio.Future[int] = loop.create_future()
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        if self.status.done():
            return
        self.buf += data
        if b"\r\n\r\n" in self.buf:
            words = self.buf.split(b"\r\n", 1)[0].split()
            ok = len(words) >= 2 and words[0].startswith(b"HTTP/1.") and len(words[1]) == 3 and words[1].isdigit()
            self.status.set_result(int(words[1]) if ok else 0)
        elif len(self.buf) > HEADER_BYTES:
            self.status.set_exception(ProtocolError(f"the proxy's answer to CONNECT is over {HEADER_BYTES:,} bytes"))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.status.done():
            self.status.set_exception(ConnectionError("the proxy closed the connection"))


class _Conn(asyncio.Protocol):
    """One keep-alive connection: at most one request at a time. A connection
    that is dropped is aborted (not closed gracefully): a server that never
    reads must not keep its socket and unsent request alive."""

    def __init__(self, pool: HttpPool, key: tuple[str, int, bool]):
        self.pool, self.key = pool, key
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[Reply] | None = None
        self.reused = False
        self.request_cap = 0
        self._reset(0)

    def _reset(self, cap: int) -> None:
        self.cap, self.status, self.cut, self.got_any = cap, 0, False, False
        self.header_bytes = self.fed_before_headers = 0
        self.headers: Headers = Headers()
        self.body = bytearray()
        self.headers_done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, head: bytes, body: bytes, cap: int) -> asyncio.Future[Reply]:
        self.request_cap = cap
        self._reset(cap)
        self.waiter = self.pool.loop.create_future()
        assert self.transport is not None
        if len(body) < 65536:  # one write; a large body is not copied to be joined to its head
            self.transport.write(head + body)
        else:
            self.transport.writelines((head, body))
        return self.waiter

    def data_received(self, data: bytes) -> None:
        self.got_any = True
        if self.waiter is None or self.waiter.done():
            self.abort()  # bytes nobody asked for: this connection can no longer be trusted
            return
        if not self.headers_done:
            # httptools holds a header line until it ends: one endless value must not take the memory
            self.fed_before_headers += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(ProtocolError("the server switched protocols"))
        except httptools.HttpParserError as e:
            self._fail(ProtocolError(f"unreadable HTTP response ({e})"))
        else:
            if not self.headers_done and self.fed_before_headers > HEADER_BYTES + 8192:
                self._fail(ProtocolError(f"response headers over {HEADER_BYTES:,} bytes"))

    # httptools callbacks
    def on_message_begin(self) -> None:
        if self.waiter is None:  # a second response in the same bytes, to no request
            raise ProtocolError("the server sent a response nobody asked for")

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.headers_done:
            return  # a chunked body's trailers: never allowed to change the headers read before the body
        self.header_bytes += len(name) + len(value)
        if self.header_bytes > HEADER_BYTES:
            raise ProtocolError(f"response headers over {HEADER_BYTES:,} bytes")
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.headers_done = True
        if self.status != 200:
            self.cap = min(self.cap, ERROR_BODY_BYTES)  # only an error's message is read

    def on_body(self, chunk: bytes) -> None:
        if self.cut:
            return
        room = self.cap - len(self.body)
        if len(chunk) > room:
            self.body += chunk[:room]
            self.cut = True
            self._finish(keep=False)  # the rest is not read: the connection cannot be reused
        else:
            self.body += chunk

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:  # an informational reply (100 Continue, 103 Early Hints): the answer follows
            self._reset(self.request_cap)
            self.got_any = True
        elif not self.cut:
            # reused only if the whole request went out (a server may answer before reading it all)
            unsent = self.transport.get_write_buffer_size() if self.transport is not None else 0
            self._finish(keep=self.parser.should_keep_alive() and not unsent)

    def _finish(self, keep: bool) -> None:
        try:
            body, cut = _decode(bytes(self.body), self.cut, self.headers.get("content-encoding"), self.cap)
        except (ProtocolError, ValueError) as e:
            self._fail(e)
            return
        waiter, self.waiter = self.waiter, None
        if keep:
            self.reused = True
            self.pool.release(self)
        else:
            self.abort()
        if waiter is not None and not waiter.done():
            waiter.set_result(Reply(self.status, body, cut, self.headers))

    def _fail(self, exc: BaseException) -> None:
        waiter, self.waiter = self.waiter, None
        self.abort()
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool.forget(self)
        if self.waiter is None or self.waiter.done():
            return
        if (exc is None and self.headers_done and "content-length" not in self.headers
                and "transfer-encoding" not in self.headers):
            self._finish(keep=False)  # a body delimited by the end of the connection (HTTP/1.0 style)
        else:  # a reset mid-body is not the end of the body
            self._fail(exc if isinstance(exc, ConnectionError) else ConnectionError("the server closed the connection"))

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


def _decode(body: bytes, cut: bool, encoding: str | None, cap: int) -> tuple[bytes, bool]:
    """The body as sent before ``Content-Encoding``, at most ``cap`` bytes (a
    compression bomb stops there), and whether it was cut. An encoding we did
    not offer is a ``ValueError``: the server ignores ``Accept-Encoding``."""
    name = (encoding or "identity").strip().lower()
    if name == "identity":
        return body, cut
    if name not in DECODERS:
        raise ValueError(f"the server sent Content-Encoding {encoding!r}, which was not asked for")
    # deflate: zlib-wrapped as the RFC says, or raw as some servers send it
    for wbits in (DECODERS[name], -15) if name == "deflate" else (DECODERS[name],):
        d = zlib.decompressobj(wbits)
        try:
            out = d.decompress(body, cap)
        except zlib.error as e:
            if wbits != -15 and name == "deflate":
                continue
            if cut:  # the compressed bytes were cut where they cannot be inflated: nothing usable
                return b"", True
            raise ProtocolError(f"the compressed body is damaged ({e})") from None
        if d.unconsumed_tail or cut:
            return out, True
        if not d.eof:
            raise ProtocolError("the compressed body ends before its stream does")
        return out, False
    raise AssertionError("unreachable")


class HttpPool:
    """Keep-alive connections per (host, port, TLS), made as needed (the runner
    bounds how many requests are in flight) and dropped with ``aclose``."""

    def __init__(self, timeout_s: float):
        self.timeout_s = timeout_s
        self.loop = asyncio.get_running_loop()
        self._idle: dict[tuple[str, int, bool], list[_Conn]] = {}
        self._all: set[_Conn] = set()
        self._targets: dict[str, _Target] = {}
        self._ssl: Any = None
        self._closed = False

    def release(self, conn: _Conn) -> None:
        if self._closed:
            conn.abort()
        else:
            self._idle.setdefault(conn.key, []).append(conn)

    def forget(self, conn: _Conn) -> None:
        self._all.discard(conn)
        idle = self._idle.get(conn.key)
        if idle and conn in idle:
            idle.remove(conn)

    async def _connect(self, t: _Target) -> _Conn:
        if self._closed:
            raise ConnectionError("the connection pool is closed")
        key = (t.host, t.port, t.tls)
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if conn.transport is not None and not conn.transport.is_closing():
                return conn
        ssl: Any = None
        if t.tls:
            if self._ssl is None:
                import ssl as ssl_module

                self._ssl = ssl_module.create_default_context()
            ssl = self._ssl
        if t.proxy is None:
            _, conn = await self.loop.create_connection(lambda: _Conn(self, key), t.host, t.port, ssl=ssl,
                                                        server_hostname=t.host if t.tls else None)
        elif not t.tls:
            _, conn = await self.loop.create_connection(lambda: _Conn(self, key), t.proxy.host, t.proxy.port)
        else:
            conn = await self._tunnel(t, t.proxy, key, ssl)
        if self._closed:  # closed while connecting
            conn.abort()
            raise ConnectionError("the connection pool is closed")
        self._all.add(conn)
        return conn

    async def _tunnel(self, t: _Target, proxy: _Proxy, key: tuple[str, int, bool], ssl: Any) -> _Conn:
        """A TLS connection to ``t`` inside the proxy's ``CONNECT`` tunnel (the request, key included,
        is encrypted end to end; the proxy sees only the host and port)."""
        tunnel = _Tunnel(self.loop)
        raw, _ = await self.loop.create_connection(lambda: tunnel, proxy.host, proxy.port)
        try:
            where = f"[{t.host}]:{t.port}" if ":" in t.host else f"{t.host}:{t.port}"
            auth = f"Proxy-Authorization: {proxy.auth}\r\n" if proxy.auth else ""
            raw.write(f"CONNECT {where} HTTP/1.1\r\nHost: {where}\r\n{auth}\r\n".encode("latin-1"))
            status = await tunnel.status
            if not 200 <= status < 300:
                raise ProtocolError(f"the proxy {proxy.host}:{proxy.port} refused the tunnel to {where} "
                                    f"(HTTP {status or 'reply unreadable'})")
            conn = _Conn(self, key)
            tls = await self.loop.start_tls(raw, conn, ssl, server_hostname=t.host)
        except BaseException:
            raw.abort()
            raise
        conn.connection_made(tls)
        return conn

    def _head(self, method: str, t: _Target, length: int, headers: dict[str, str]) -> bytes:
        lines = [f"{method} {t.path.decode()} HTTP/1.1\r\nHost: {t.authority}\r\nContent-Length: {length}\r\n"
                 "Accept-Encoding: gzip, deflate\r\n"]
        if t.proxy is not None and t.proxy.auth and not t.tls:
            lines.append(f"Proxy-Authorization: {t.proxy.auth}\r\n")
        for k, v in headers.items():
            if "\n" in v or "\r" in v:  # e.g. a key pasted with its newline: it would end the header early
                raise ValueError(f"the {k} header holds a line break")
            lines.append(f"{k}: {v}\r\n")
        return ("".join(lines) + "\r\n").encode("latin-1")

    async def request(self, method: str, url: str, body: bytes, headers: dict[str, str], cap: int) -> Reply:
        """``method url`` with ``body``: the reply, its body read up to ``cap``
        bytes. A failed connection, an unreadable reply or the timeout raise
        ``ConnectionError`` or ``TimeoutError``; a bad URL or header, ``ValueError``."""
        t = self._targets.get(url)
        if t is None:
            t = self._targets[url] = _Target.of(url)
        head = self._head(method, t, len(body), headers)
        async with asyncio.timeout(self.timeout_s):
            for attempt in (0, 1):
                conn = await self._connect(t)
                fut = conn.send(head, body, cap)
                try:
                    return await fut
                except ConnectionError:
                    if attempt or not conn.reused or conn.got_any or self._closed:
                        raise  # a fresh connection failed, or the server had begun to answer
                    # a kept-alive connection the server closed before this request: once more, on a new one
                except BaseException:
                    if conn.waiter is fut:  # still ours, mid-reply: its late bytes must not reach a later request
                        conn.abort()
                    raise
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        """Drops every connection; a request still in flight fails with ``ConnectionError``."""
        self._closed = True
        for conn in list(self._all):
            conn.abort()
        self._idle.clear()
        for _ in range(2):  # let the transports' connection_lost run (TLS ones take a second turn)
            await asyncio.sleep(0)


__all__ = ["ERROR_BODY_BYTES", "HEADER_BYTES", "Headers", "HttpPool", "ProtocolError", "Reply"]
