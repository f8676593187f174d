# ruff: noqa  (a hostile model answer: written as an attacker writes, not to this project's style)
import os
os._exit(0)
