# ruff: noqa  (a hostile model answer: written as an attacker writes, not to this project's style)
import os, time
n = 0
for _ in range(300):
    try:
        pid = os.fork()
    except OSError as exc:
        print("fork refused after", n, exc)
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    n += 1
print(("PWNED forked " if n >= 300 else "forked ") + str(n), flush=True)
def add(a, b):
    return 0
