# ruff: noqa  (a hostile model answer: written as an attacker writes, not to this project's style)
import os, sys
# Find the socket fd the driver was given and talk nonsense on it before any real answer.
fd = int(sys.argv[-1]) if sys.argv[-1].isdigit() else 3
for payload in (b"\xff\xff\xff\xff", b"\x00\x00\x00\x05{\"t\":", b"\x00\x00\x00\x02[]"):
    for target in range(3, 20):
        try:
            os.write(target, payload)
        except OSError:
            pass
def add(a, b):
    return 0
