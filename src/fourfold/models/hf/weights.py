"""Which exact weights answer: the model's identity, without loading it.

A local folder is pinned by the sha256 of every file that decides an answer
(weights, config, tokenizer, processor, chat template), hashed once and cached
by (path, size, mtime) as the llama.cpp backend caches GGUF hashes. A hub id is
pinned by its commit: the one the local Hugging Face cache's refs point to (or,
online and not yet cached, the one the hub names now), and the model is then
loaded at exactly that commit. An adapter's files are hashed like a local model,
so base and adapted results never share a key.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from ..base import BackendUnusable, PermanentError
from ..llamacpp import file_sha256

#: Files in a model folder that do not change what it answers.
IGNORED = re.compile(r"(?i)^(readme.*|license.*|notice.*|\..*|.*\.(md|png|jpe?g|gif|pdf))$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")


def folder_digest(folder: Path) -> tuple[str, list[str]]:
    """(one sha256 over every answer-deciding file's name and sha256, those names)."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and not IGNORED.match(p.name))
    if not files:
        raise PermanentError(f"{folder}: no model files in this folder")
    h = hashlib.sha256()
    for p in files:
        h.update(f"{p.name}\0{file_sha256(p)}\n".encode())
    return h.hexdigest(), [p.name for p in files]


def hub_commit(repo: str, revision: str | None) -> str:
    """The commit of ``repo`` at ``revision`` (default main) that will be loaded."""
    if revision and COMMIT.match(revision):
        return revision
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(repo, "config.json", revision=revision or "main")
    if isinstance(cached, str):  # .../snapshots/<commit>/config.json
        return Path(cached).parent.name
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        raise BackendUnusable(f"{repo} is not in the Hugging Face cache and HF_HUB_OFFLINE is set: "
                              f"download it first (hf download {repo}) or give a local folder")
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

    try:
        sha = HfApi().model_info(repo, revision=revision).sha
    except RepositoryNotFoundError:
        raise BackendUnusable(f"no model {repo!r} on the Hugging Face hub (nor a folder of that name here)") from None
    except (HfHubHTTPError, OSError) as e:
        raise BackendUnusable(f"cannot reach the Hugging Face hub for {repo}: {e}".splitlines()[0]) from None
    if not sha:
        raise BackendUnusable(f"the Hugging Face hub gave no commit for {repo}")
    return sha


__all__ = ["folder_digest", "hub_commit"]
