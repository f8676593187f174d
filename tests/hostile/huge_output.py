# ruff: noqa  (a hostile model answer: written as an attacker writes, not to this project's style)
import sys
line = "x" * 1023 + "\n"
for _ in range(100 * 1024):
    sys.stdout.write(line)
def add(a, b):
    return 0
