"""Tests only: lets PyPI's torchvision import beside this machine's CPU-only torch.

Why: ``pip install torch==2.13.0`` takes a CPU wheel from local disk here, but
torchvision 0.28.0 (its pair, which Qwen2-VL's and SmolVLM's video processors
need) exists on PyPI only as a CUDA build. Its compiled operators fail to load
against the CPU torch, and ``import torchvision`` then dies registering fake
kernels for ``torchvision::nms`` ("operator torchvision::nms does not exist"),
which takes every transformers model import down with it.

Defining the two missing operator schemas first lets the import go through;
nothing in the hf/ tests calls them (they are detection ops). On a machine where
torch and torchvision match (any normal install, CUDA or CPU) this does nothing.
The production code never does this: a user's install is consistent.

Imported by ``hf_tiny`` before transformers, and used as a ``FOURFOLD_PLUGINS``
module so ``fourfold`` subprocesses in the tests get it too.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

_LIB: Any = None  # a torch.library.Library drops its definitions when collected: keep it


def _mismatched() -> bool:
    """torchvision built for CUDA beside a torch built without it (read from
    torchvision/version.py, since importing torchvision is what fails)."""
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return False
    version = Path(next(iter(spec.submodule_search_locations))) / "version.py"
    m = re.search(r"^__version__\s*=\s*'[^']*\+cu\d+'", version.read_text(), re.M) if version.is_file() else None
    if m is None:
        return False
    import torch

    return torch.version.cuda is None


def install() -> None:
    global _LIB
    if _LIB is not None or not _mismatched():
        return
    import torch

    _LIB = torch.library.Library("torchvision", "FRAGMENT")
    _LIB.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _LIB.define("qnms(Tensor qdets, Tensor qscores, float iou_threshold) -> Tensor")


install()
