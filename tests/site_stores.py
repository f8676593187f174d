"""Stores for the site's tests and bench, written fast through the real Store API.

``large_store`` writes a store of ``n_results`` results (models x cases over all 12
cells, with per-model skill so the leaderboards differ, perturbed variants and a
hostile answer) in a few seconds: the 100,000-result site is built from it.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from fourfold.cases.taxonomy import CATEGORIES, CELLS
from fourfold.store import ResultRow, Store

XSS = '<img src=x onerror="alert(document.domain)"><script>alert("xss")</script>'


def large_store(path: Path, n_results: int, n_models: int = 10, seed: int = 0) -> Path:
    """``n_results`` results of ``n_models`` models (``model-00`` best ... worst), one store."""
    rng = random.Random(seed)
    n_cases = n_results // n_models
    models = [f"model-{i:02d}" for i in range(n_models)]
    store = Store(path)
    cases, rows = [], []
    for i in range(n_cases):
        cell = CELLS[i % len(CELLS)]
        category = CATEGORIES[cell][(i // len(CELLS)) % len(CATEGORIES[cell])]
        case_id = f"case-{i:06d}"
        meta = {"perturbation": "gaussian_noise", "original": f"case-{i - 1:06d}"} if i % 10 == 9 else {}
        text = f"Question {i} about {category}: what follows from fact {rng.randrange(10**6)}?"
        data = {"id": case_id, "cell": cell, "category": category, "metadata": meta,
                "input": [{"role": "user", "content": [{"type": "text", "text": text}]}],
                "reference": {"kind": "choice", "options": ["yes", "no"], "answer": "A"}}
        h = f"hash-{i:06d}"
        cases.append((h, case_id, cell, category, "large", None, json.dumps(data)))
        for k, m in enumerate(models):
            p = 0.85 - 0.05 * k
            verdict = "good" if rng.random() < p else ("unclear" if rng.random() < 0.1 else "bad")
            response = XSS if i == 7 and k == 1 else f"Answer {i} by {m}: " + "because " * rng.randrange(3, 30)
            rows.append(ResultRow(key=f"{m}|{h}", model=m, model_identity="{}", settings='{"temperature": 0.0}',
                                  case_id=case_id, case_hash=h, cell=cell, category=category, status="ok",
                                  verdict=verdict, rationale=f"rule says {verdict}", judge="rule:choice",
                                  response=response, created_at=1.7e9 + i))
        if len(rows) >= 20_000:
            store.put_cases(cases)
            store.put_results(rows)
            cases, rows = [], []
    store.put_cases(cases)
    store.put_results(rows)
    store.close()
    return path
