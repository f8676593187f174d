# ruff: noqa  (a hostile model answer: written as an attacker writes, not to this project's style)
def add(a, b):
    nested = []
    for _ in range(100000):
        nested = [nested]
    return [nested, list(range(5_000_000))]
