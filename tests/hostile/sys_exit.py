# ruff: noqa  (a hostile model answer: written as an attacker writes, not to this project's style)
import sys
sys.exit(0)
