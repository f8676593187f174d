"""The two programs that run inside the sandbox; never imported by fourfold.

:mod:`fourfold.judge.sandbox` passes this file's text to ``python3 -I -c``
twice per case, each time in its own sandbox (its own PID, mount, network and
IPC namespaces), with a role as the first argument:

``candidate``
    Runs the model's code and then serves requests about what it defined on
    the socket that fourfold gave it (fd given in argv). It holds nothing
    else: no verdict channel, no tests, no token. Whatever it does to its own
    process (tracing, frame surgery, ``os._exit``, monkeypatching builtins)
    stays in its own process.

``tests``
    Runs the case's tests. The names the code defined appear in the tests'
    namespace as plain data copied by value (exact builtin types only), as
    local stdlib modules, or as *handles*: proxies whose calls, attribute
    reads, ``len``, iteration and indexing go over the socket and come back
    as plain data or new handles. A handle equals only itself, so an object
    whose ``__eq__`` always says yes cannot satisfy an ``assert ... == ...``.
    Only this process writes the verdict, to a pipe the candidate never has.

The wire format is a length-prefixed JSON message whose values are tagged
(see ``encode``/``decode``); nothing from the candidate is ever unpickled or
evaluated. Why JSON and not pickle or marshal: both can be made to run code
or crash the reader, and the reader here is the process that decides.
"""

import builtins
import json
import os
import re
import sys
import types

MAX_MESSAGE = 32 * 1024 * 1024
MAX_DEPTH = 60
MAX_NODES = 2_000_000
CODE_FILE = "<code>"
TESTS_FILE = "<tests>"
HARNESS_FILE = "<harness>"
SMALL_INT = 2**63


class ProtocolError(Exception):
    """The other side sent something malformed (only the candidate can)."""


class TooBig(Exception):
    """A value too deep or too large to copy; the candidate sends a handle instead."""


class Unmarshallable(BaseException):
    """The tests passed something that cannot cross to the candidate (a lambda).

    A BaseException so that a test's ``except Exception`` does not hide it:
    the verdict for such tests is ``error``, not a verdict on the model."""


class CandidateGone(BaseException):
    """The candidate process closed its end (it exited, crashed or was killed)."""


class RemoteExit(BaseException):
    """The code raised SystemExit or KeyboardInterrupt inside a call."""


class RemoteError(Exception):
    """An exception of a class that is not a builtin, raised by the code."""


# --------------------------------------------------------------------------
# Framing and values

def send(fd, obj):
    data = json.dumps(obj, separators=(",", ":"), allow_nan=True).encode("utf-8", "surrogatepass")
    if len(data) > MAX_MESSAGE:
        raise TooBig("message too large")
    view = memoryview(len(data).to_bytes(4, "big") + data)
    while view:
        view = view[os.write(fd, view):]


def recv(fd):
    head = read_exact(fd, 4)
    size = int.from_bytes(head, "big")
    if size > MAX_MESSAGE:
        raise ProtocolError(f"message of {size} bytes")
    try:
        return json.loads(read_exact(fd, size).decode("utf-8", "surrogatepass"))
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"undecodable message: {type(exc).__name__}") from None


def read_exact(fd, n):
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise CandidateGone()
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def encode(value, handle_of, depth=0, budget=None):
    """Tag a value for the wire. ``handle_of`` turns anything else into ["H", id] (or raises)."""
    if budget is None:
        budget = [MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise TooBig("value too large or too deep")
    t = type(value)
    if value is None or t is bool or t is str or t is float:
        return value
    if t is int:
        return value if -SMALL_INT < value < SMALL_INT else ["I", format(value, "x")]
    if t is bytes:
        return ["B", value.hex()]
    if t is complex:
        return ["C", value.real, value.imag]
    if t in (list, tuple, set, frozenset):
        tag = {list: "L", tuple: "T", set: "S", frozenset: "F"}[t]
        return [tag] + [encode(v, handle_of, depth + 1, budget) for v in value]
    if t is dict:
        return ["D"] + [[encode(k, handle_of, depth + 1, budget), encode(v, handle_of, depth + 1, budget)]
                        for k, v in value.items()]
    name = getattr(value, "__name__", None)
    if type(name) is str and getattr(builtins, name, None) is value:
        return ["Y", name]  # int, len, sorted...: each side uses its own
    return handle_of(value)


def decode(node, from_handle, depth=0):
    """The inverse of ``encode``; strict, because the candidate may send anything."""
    if depth > MAX_DEPTH + 2:
        raise ProtocolError("value too deep")
    t = type(node)
    if node is None or t is bool or t is str or t is float:
        return node
    if t is int:
        if not -SMALL_INT < node < SMALL_INT:
            raise ProtocolError("bare big int")
        return node
    if t is not list or not node or type(node[0]) is not str:
        raise ProtocolError("bad value node")
    tag, rest = node[0], node[1:]
    try:
        if tag == "I" and len(rest) == 1 and type(rest[0]) is str and re.fullmatch(r"-?[0-9a-f]+", rest[0]):
            return int(rest[0], 16)
        if tag == "B" and len(rest) == 1 and type(rest[0]) is str:
            return bytes.fromhex(rest[0])
        if tag == "C" and len(rest) == 2 and all(type(x) in (int, float) for x in rest):
            return complex(float(rest[0]), float(rest[1]))
        if tag in ("L", "T", "S", "F"):
            items = [decode(v, from_handle, depth + 1) for v in rest]
            return {"L": list, "T": tuple, "S": set, "F": frozenset}[tag](items)
        if tag == "D":
            out = {}
            for pair in rest:
                if type(pair) is not list or len(pair) != 2:
                    raise ProtocolError("bad dict item")
                out[decode(pair[0], from_handle, depth + 1)] = decode(pair[1], from_handle, depth + 1)
            return out
        if tag in ("H", "R") and len(rest) == 1 and type(rest[0]) is int:
            return from_handle(tag, rest[0])
        if tag == "Y" and len(rest) == 1 and type(rest[0]) is str and rest[0].isidentifier():
            return from_handle(tag, rest[0])
    except (TypeError, ValueError, OverflowError) as exc:
        raise ProtocolError(f"bad value: {type(exc).__name__}") from None
    raise ProtocolError("unknown tag")


def clean(value, limit=200):
    """One printable line of at most ``limit`` characters."""
    value = re.sub(r"\s+", " ", str(value)).strip()
    value = "".join(ch if ch.isprintable() else "?" for ch in value)
    return value if len(value) <= limit else value[: limit - 1] + "\u2026"


def flush():
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:
            pass


def read_stdin_json():
    data = b""
    while True:
        chunk = os.read(0, 1 << 20)
        if not chunk:
            break
        data += chunk
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return json.loads(data.decode("utf-8", "surrogatepass"))


# --------------------------------------------------------------------------
# Both sides: one socket, requests either way

class Peer:
    """One end of the socket. Each side can ask while the other waits: the
    candidate asks only to call back a function the tests passed to it."""

    def __init__(self, fd, handler):
        self.fd = fd
        self.handler = handler  # request dict -> reply dict

    def receive(self):
        msg = recv(self.fd)
        if type(msg) is not dict:
            raise ProtocolError("message is not an object")
        return msg

    def request(self, req):
        """Send a request; answer the other side's nested requests until the reply comes."""
        send(self.fd, dict(req, t="req"))
        while True:
            msg = self.receive()
            if msg.get("t") != "req":
                return msg
            send(self.fd, self.handler(msg))

    def serve_forever(self):
        while True:
            try:
                msg = self.receive()
            except CandidateGone:  # the tests are done
                return
            if msg.get("t") != "req":
                raise ProtocolError("expected a request")
            send(self.fd, self.handler(msg))


def remote_exception(msg):
    """The local exception for an ``exc`` reply: the builtin class of that name, else RemoteError."""
    name = msg.get("name") if type(msg.get("name")) is str else "Exception"
    text = msg.get("msg") if type(msg.get("msg")) is str else ""
    line = msg.get("line") if type(msg.get("line")) is int else 0
    if msg.get("exit") is True:
        exc = RemoteExit(f"{clean(name, 60)}({clean(text, 80)})")
    else:
        cls = getattr(builtins, name, None) if name.isidentifier() else None
        exc = None
        if isinstance(cls, type) and issubclass(cls, Exception) and cls.__module__ == "builtins":
            try:
                exc = cls(text) if text else cls()
            except Exception:
                exc = None
        if exc is None:
            exc = RemoteError(text)
            exc._fourfold_name = name
    exc._fourfold_line = line
    return exc


def reply_value(msg, decode_value):
    kind = msg.get("t")
    if kind == "stop":
        raise StopIteration
    if kind == "exc":
        raise remote_exception(msg)
    if kind != "ok":
        raise ProtocolError("unexpected answer")
    return decode_value(msg.get("v"))


# --------------------------------------------------------------------------
# The candidate side

def code_line(exc):
    """The line of the model's code where ``exc`` was last in it (0: not in the code)."""
    tb, line = exc.__traceback__, 0
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == CODE_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def describe_exception(exc, ballast):
    """The message telling the tests how the code failed: type, first line, code line.

    ``ballast`` is freed first, so that even after a MemoryError there is room to build
    the answer; a message or exit code that cannot be printed is replaced, never raised."""
    ballast.clear()
    try:
        message = clean(str(exc).split("\n")[0], 150)
    except BaseException:
        message = "<unprintable message>"
    if isinstance(exc, SystemExit):
        try:
            message = clean(repr(exc.code), 80)
        except BaseException:
            message = "?"
    return {"t": "exc", "name": clean(type(exc).__name__, 60), "msg": message, "line": code_line(exc),
            "exit": isinstance(exc, (SystemExit, KeyboardInterrupt))}


def candidate_main(sock_fd):
    """Run the model's code, send the names it defined, then answer requests about them.

    The helpers stay closures: they share the handle table (``objects``/``ids``) and the
    callbacks, which belong to this one process and its one peer."""
    meta = read_stdin_json()
    sys.dont_write_bytecode = True
    ballast = [bytearray(2 * 1024 * 1024)]  # freed to answer after a MemoryError
    if meta.get("guard"):
        install_guard(meta["root"])
    objects, ids, callbacks = {}, {}, {}

    def handle_of(value):
        if type(value) is Callback:
            return ["R", value.rid]
        base = next((b for b in (int, float, str, bytes, complex) if isinstance(value, b)), None)
        if base is not None and type(value) is not bool:
            try:
                return encode(base(value), handle_of)  # a subclass travels by its plain value
            except Exception:
                pass
        key = id(value)
        if key not in ids:
            ids[key] = len(objects) + 1
            objects[ids[key]] = value
        return ["H", ids[key]]

    def enc(value):
        try:
            return encode(value, handle_of)
        except TooBig:
            return handle_of(value)

    def resolve(tag, hid):
        if tag == "Y":
            return getattr(builtins, hid)
        if tag == "R":
            if hid not in callbacks:
                callbacks[hid] = Callback(peer, hid, resolve, enc)
            return callbacks[hid]
        if hid not in objects:
            raise ProtocolError("unknown handle")
        return objects[hid]

    def handler(req):
        try:
            return answer(req, resolve, enc)
        except BaseException as exc:  # noqa: BLE001 - the code's exceptions go back to the tests
            return describe_exception(exc, ballast)
        finally:
            flush()

    peer = Peer(sock_fd, handler)
    module = types.ModuleType("__main__")
    module.__builtins__ = builtins
    module.__file__ = os.path.join(os.getcwd(), "solution.py")
    sys.modules["__main__"] = module
    sys.argv = [module.__file__]
    try:
        program = compile(meta["code"], CODE_FILE, "exec", dont_inherit=True)
        exec(program, module.__dict__)
    except BaseException as exc:  # noqa: BLE001 - everything is an answer here
        flush()
        send(sock_fd, dict(describe_exception(exc, ballast), t="load_error"))
        return
    names = {}
    for name, value in list(module.__dict__.items()):
        if name.startswith("__") or type(name) is not str:
            continue
        if isinstance(value, types.ModuleType):
            names[name] = ["M", clean(getattr(value, "__name__", ""), 100), handle_of(value)[1]]
        else:
            names[name] = enc(value)
    flush()  # the process is killed once the tests end: what it printed must be out by then
    send(sock_fd, {"t": "ready", "names": names})
    peer.serve_forever()


class Callback:
    """A function the tests passed to the code: calling it runs it in the tests process."""

    __slots__ = ("peer", "rid", "resolve", "enc")

    def __init__(self, peer, rid, resolve, enc):
        self.peer, self.rid, self.resolve, self.enc = peer, rid, resolve, enc

    def __call__(self, *args, **kwargs):
        req = {"op": "call", "h": self.rid, "args": [self.enc(a) for a in args],
               "kw": {k: self.enc(v) for k, v in kwargs.items()}}
        return reply_value(self.peer.request(req), lambda node: decode(node, self.resolve))


def answer(req, resolve, enc):
    """Carry out one request from the tests on the code's objects."""
    op = req.get("op")
    target = resolve("H", req.get("h"))
    args = [decode(a, resolve) for a in req.get("args", [])]
    kwargs = {k: decode(v, resolve) for k, v in req.get("kw", {}).items()}
    if op == "call":
        value = target(*args, **kwargs)
    elif op == "getattr":
        value = getattr(target, args[0])
    elif op == "setattr":
        setattr(target, args[0], args[1])
        value = None
    elif op == "len":
        value = len(target)
    elif op == "bool":
        value = bool(target)
    elif op == "iter":
        value = iter(target)
    elif op == "next":
        try:
            value = next(target)
        except StopIteration:
            return {"t": "stop"}
    elif op == "getitem":
        value = target[args[0]]
    elif op == "setitem":
        target[args[0]] = args[1]
        value = None
    elif op == "delitem":
        del target[args[0]]
        value = None
    elif op == "contains":
        value = args[0] in target
    elif op in ("repr", "str"):
        value = (repr if op == "repr" else str)(target)
        value = value if type(value) is str else "<?>"
    else:
        raise ProtocolError("unknown op")
    if op in ("bool", "contains"):
        value = bool(value)
    back = [enc(a) if type(a) in (list, dict, set) else None for a in args]
    back_kw = {k: enc(v) for k, v in kwargs.items() if type(v) in (list, dict, set)}
    return {"t": "ok", "v": enc(value), "back": back, "back_kw": back_kw}


def install_guard(root):
    """Weak modes only: an audit hook against writes outside ``root`` and the network.

    Defence in depth without namespaces; ctypes and child processes bypass it,
    which is why the weak modes are opt-in."""
    import socket

    net = {socket.AF_INET, socket.AF_INET6}
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    realpath, join, getcwd = os.path.realpath, os.path.join, os.getcwd
    prefix = root.rstrip("/") + "/"
    allowed = ("/dev/null", "/dev/shm/")

    def inside(path, dir_fd=None):
        if isinstance(path, int):
            return True
        try:
            p = os.fsdecode(path)
            if not os.path.isabs(p):
                fd_given = isinstance(dir_fd, int) and dir_fd >= 0
                p = join(os.readlink(f"/proc/self/fd/{dir_fd}") if fd_given else getcwd(), p)
            p = realpath(p)
        except Exception:
            return False
        return p == root or p.startswith(prefix) or p.startswith(allowed)

    def deny(what):
        raise PermissionError(f"sandbox: {what} is not allowed")

    proc_pid = re.compile(r"/proc/(\d+)(/|$)")

    def other_process(path):
        if isinstance(path, int):
            return False
        try:
            p = realpath(os.fsdecode(path))
        except Exception:
            return True
        m = proc_pid.match(p)
        return m is not None and int(m.group(1)) != os.getpid()

    def hook(event, args):
        if event == "open":
            path, mode, flags = args
            if other_process(path):
                deny("reading another process's /proc files")
            if ((isinstance(mode, str) and any(c in mode for c in "wax+"))
                    or (isinstance(flags, int) and flags & write_flags)) and not inside(path):
                deny("writing outside the work directory")
        elif event in ("os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.utime"):
            if not inside(args[0], args[-1] if event not in ("os.remove", "os.rmdir") else args[1]):
                deny("writing outside the work directory")
        elif event in ("os.rename", "os.link", "os.symlink"):
            if not inside(args[1], args[-1] if event == "os.symlink" else args[3]):
                deny("writing outside the work directory")
        elif event == "socket.__new__" and args[1] in net:
            deny("network access")
        elif event in ("socket.connect", "socket.bind", "socket.sendto") and getattr(args[0], "family", 0) in net:
            deny("network access")
        elif event in ("os.exec", "os.posix_spawn", "os.spawn", "os.system", "subprocess.Popen", "os.forkpty"):
            deny("starting programs in the weak sandbox")

    sys.addaudithook(hook)


# --------------------------------------------------------------------------
# The tests side

def tests_main(sock_fd, verdict_fd):
    meta = read_stdin_json()
    sys.dont_write_bytecode = True
    code_lines = meta["code"].split("\n")
    test_lines = meta["tests"].split("\n")
    ballast = [bytearray(4 * 1024 * 1024)]
    write, exit_ = os.write, os._exit

    def report(status, detail, gone=False):
        ballast.clear()
        for stream in (sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except BaseException:
                pass
        message = json.dumps({"status": status, "detail": clean(detail, 400), "candidate_gone": gone})
        write(verdict_fd, (message + "\n").encode("ascii", "replace"))
        exit_(0)

    try:
        compile(meta["code"], CODE_FILE, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        report("failed", f"syntax error in code line {getattr(exc, 'lineno', 0) or 0}: {getattr(exc, 'msg', exc)}")
    except (MemoryError, RecursionError) as exc:
        report("failed", f"the code cannot be compiled: {type(exc).__name__}")
    try:
        program = compile(meta["tests"], TESTS_FILE, "exec", dont_inherit=True)
        harness = compile(meta["harness"], HARNESS_FILE, "exec", dont_inherit=True) if meta["harness"] else None
    except (SyntaxError, ValueError) as exc:
        report("error", f"tests do not compile (tests line {getattr(exc, 'lineno', 0) or 0}): {getattr(exc, 'msg', exc)}")
    except (MemoryError, RecursionError) as exc:
        report("error", f"tests do not compile: {type(exc).__name__}")

    def code_place(line):
        text = code_lines[line - 1] if 0 < line <= len(code_lines) else ""
        return f"code line {line}: {clean(text, 120)}" if text.strip() else f"code line {line}"

    def test_place(exc):
        tb, found = exc.__traceback__, None
        while tb is not None:
            name = tb.tb_frame.f_code.co_filename
            if name in (TESTS_FILE, HARNESS_FILE):
                found = (name, tb.tb_lineno)
            tb = tb.tb_next
        if found is None:
            return "unknown line"
        if found[0] == HARNESS_FILE:
            return "appended call: {}".format(clean(meta["harness"], 80))
        line = found[1]
        text = test_lines[line - 1] if 0 < line <= len(test_lines) else ""
        return f"tests line {line}: {clean(text, 120)}" if text.strip() else f"tests line {line}"

    remote = Remote(sock_fd)
    try:
        hello = remote.peer.receive()
    except CandidateGone:
        report("failed", "the code exited before the tests finished (while loading)", gone=True)
    except ProtocolError as exc:
        report("failed", f"the code broke the sandbox protocol: {exc}")
    if hello.get("t") == "load_error":
        report(*load_failure(hello, code_place))
    if hello.get("t") != "ready" or type(hello.get("names")) is not dict:
        report("failed", "the code broke the sandbox protocol: no ready message")
    module = types.ModuleType("__main__")
    module.__builtins__ = builtins
    sys.modules["__main__"] = module
    sys.argv = ["tests"]
    try:
        module.__dict__.update(remote.namespace(hello["names"]))
    except ProtocolError as exc:
        report("failed", f"the code broke the sandbox protocol: {exc}")
    try:
        exec(program, module.__dict__)
        if harness is not None:
            exec(harness, module.__dict__)
    except BaseException as exc:  # noqa: BLE001 - everything is a verdict here
        ballast.clear()
        report(*test_failure(exc, test_place, code_place))
    report("passed", "all tests passed")


def load_failure(msg, code_place):
    """The verdict when the code failed while it was being loaded."""
    line = msg.get("line") if type(msg.get("line")) is int else 0
    where = code_place(line) if line > 0 else "unknown line"
    name, text = clean(msg.get("name", "?"), 60), clean(msg.get("msg", ""), 150)
    if msg.get("exit"):
        return "failed", f"the code exited before the tests finished ({name}({text}) at {where})"
    status = "memory" if name == "MemoryError" else "failed"
    return status, "{}{} at {}".format(name, ": " + text if text else "", where)


def test_failure(exc, test_place, code_place):
    """The verdict when running the tests raised ``exc``."""
    here = test_place(exc)
    if isinstance(exc, Unmarshallable):
        return "error", f"the tests pass {exc} to the code, which cannot cross the sandbox (at {here})"
    if isinstance(exc, CandidateGone):
        return "failed", f"the code exited before the tests finished (at {here})", True
    if isinstance(exc, ProtocolError):
        return "failed", f"the code broke the sandbox protocol ({exc}) at {here}"
    if isinstance(exc, SystemExit):
        code = exc.code
        if code is None or (type(code) in (int, bool) and code == 0):
            return "passed", "tests ran and exited with status 0 at " + here
        try:
            shown = clean(repr(code), 80)
        except BaseException:
            shown = "?"
        return "failed", f"SystemExit({shown}) at {here}"
    line = getattr(exc, "_fourfold_line", 0)
    if isinstance(exc, RemoteExit):
        return "failed", "the code exited before the tests finished ({} at {}, from {})".format(
            exc, code_place(line) if line else "unknown line", here)
    try:
        message = clean(str(exc).split("\n")[0], 150)
    except BaseException:
        message = "<unprintable message>"
    name = clean(getattr(exc, "_fourfold_name", None) or type(exc).__name__, 60)
    head = name + (": " + message if message else "")
    where = f"{code_place(line)} (from {here})" if line else here
    status = "memory" if isinstance(exc, MemoryError) else "failed"
    return status, f"{head} at {where}"


class Remote:
    """The tests' end of the socket: requests, answers, the proxies, and the
    functions the tests lent to the code (callable only, nothing else)."""

    def __init__(self, fd):
        self.peer = Peer(fd, self.handle_callback)
        self.proxies = {}
        self.exports, self.export_ids = {}, {}

    def resolve(self, tag, hid):
        if tag == "Y":  # only a builtin class: the tests never get exec or open from the code
            value = getattr(builtins, hid, None)
            if not isinstance(value, type):
                raise ProtocolError("not a builtin class")
            return value
        if tag == "R":
            if hid not in self.exports:
                raise ProtocolError("unknown callback")
            return self.exports[hid]
        if hid not in self.proxies:
            self.proxies[hid] = make_handle(self, hid)
        return self.proxies[hid]

    def namespace(self, names):
        out = {}
        for name, node in names.items():
            if not name.isidentifier():
                raise ProtocolError("bad name")
            if type(node) is list and len(node) == 3 and node[0] == "M" and type(node[2]) is int:
                out[name] = local_module(node[1]) or self.resolve("H", node[2])
            else:
                out[name] = decode(node, self.resolve)
        return out

    def handle_of(self, v):
        hid = getattr(type(v), "_fourfold_remote", None) is self and object.__getattribute__(v, "_hid")
        if hid:
            return ["H", hid]
        if callable(v) and not isinstance(v, type):
            key = id(v)
            if key not in self.export_ids:
                self.export_ids[key] = len(self.exports) + 1
                self.exports[self.export_ids[key]] = v
            return ["R", self.export_ids[key]]
        raise Unmarshallable(clean(f"a {type(v).__name__} ({v!r})", 120))

    def arg(self, value):
        try:
            return encode(value, self.handle_of)
        except TooBig:
            raise Unmarshallable("an argument too large or too deep") from None

    def handle_callback(self, req):
        """The code calls a function the tests passed to it; nothing but a call is allowed."""
        target = self.exports.get(req.get("h"))
        if req.get("op") != "call" or target is None:
            raise ProtocolError("the code asked for more than a call")
        args = [decode(a, self.resolve) for a in req.get("args", [])]
        kwargs = {k: decode(v, self.resolve) for k, v in req.get("kw", {}).items()}
        try:
            value = target(*args, **kwargs)
            return {"t": "ok", "v": self.arg(value)}
        except Exception as exc:  # the tests' own exceptions go to the code, as in one process
            return {"t": "exc", "name": clean(type(exc).__name__, 60), "msg": clean(str(exc), 150), "line": 0}

    def request(self, op, hid, args=(), kwargs=None):
        kwargs = kwargs or {}
        req = {"op": op, "h": hid, "args": [self.arg(a) for a in args],
               "kw": {k: self.arg(v) for k, v in kwargs.items()}}
        msg = self.peer.request(req)
        value = reply_value(msg, lambda node: decode(node, self.resolve))
        self.copy_back(args, msg.get("back"), kwargs, msg.get("back_kw"))
        return value

    def copy_back(self, args, back, kwargs, back_kw):
        """Mutable arguments the code changed in place change here too, as in one process."""
        pairs = list(zip(args, back if type(back) is list else [], strict=False))
        if type(back_kw) is dict:
            pairs += [(kwargs[k], v) for k, v in back_kw.items() if k in kwargs]
        for original, node in pairs:
            if node is None or type(original) not in (list, dict, set):
                continue
            new = decode(node, self.resolve)
            if type(new) is not type(original):
                raise ProtocolError("argument changed type")
            if type(original) is list:
                original[:] = new
            else:
                original.clear()
                original.update(new)


def local_module(name):
    """The tests get their own copy of a module the code imported, never the code's."""
    import importlib

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", name or ""):
        return None
    try:
        return importlib.import_module(name)
    except Exception:
        return None


def make_handle(remote, hid):
    """A proxy class per handle: it equals only itself and forwards the rest."""
    def op(name):
        return lambda self, *a: remote.request(name, hid, a)

    def getattr_(self, name):
        if name.startswith("__") and name not in ("__name__", "__doc__", "__qualname__"):
            raise AttributeError(name)
        return remote.request("getattr", hid, (name,))

    def setattr_(self, name, value):
        remote.request("setattr", hid, (name, value))

    def call(self, *args, **kwargs):
        return remote.request("call", hid, args, kwargs)

    def bool_(self):
        return remote.request("bool", hid) is True

    def len_(self):
        value = remote.request("len", hid)
        if type(value) is not int or value < 0:
            raise ProtocolError("bad len")
        return value

    def contains(self, item):
        return remote.request("contains", hid, (item,)) is True

    def text(kind):
        def show(self):
            value = remote.request(kind, hid)
            return value if type(value) is str else "<remote object>"
        return show

    namespace = {
        "_fourfold_remote": remote, "_hid": hid, "__slots__": (), "__getattr__": getattr_,
        "__setattr__": setattr_, "__call__": call, "__bool__": bool_, "__len__": len_,
        "__iter__": op("iter"), "__next__": op("next"), "__getitem__": op("getitem"),
        "__setitem__": op("setitem"), "__delitem__": op("delitem"), "__contains__": contains,
        "__repr__": text("repr"), "__str__": text("str"),
        "__eq__": lambda self, other: self is other, "__ne__": lambda self, other: self is not other,
        "__hash__": lambda self: hash(hid),
    }
    cls = type("RemoteObject", (), namespace)
    return object.__new__(cls)


def main():
    role = sys.argv[1]
    if role == "candidate":
        candidate_main(int(sys.argv[2]))
    elif role == "tests":
        tests_main(int(sys.argv[2]), int(sys.argv[3]))
    else:
        raise SystemExit("unknown role")


main()
