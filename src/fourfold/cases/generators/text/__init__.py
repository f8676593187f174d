"""Template generators for the text and code cells, answers computed not typed.

Hand-written suites leak into training data and are slow to grow; these
templates give an unlimited supply of fresh variants of the report's question
types (multi-step math, causal calculation, collider and confounder bias,
counterfactuals, "what does this code print", small functions with unit tests,
the back-door criterion, a node that is not in the DAG) whose answers come from
code, never from a person's arithmetic.

Each case keeps the parameters it was built from in ``metadata.ground_truth``;
``verify`` recomputes the answer (re-running the template code for code cases)
and checks the reference against it, so a hand-edited or stale case is caught.

The modules register their generators on import, in this order (the order in
which ``generate`` takes a cell's generators round-robin).
"""

from __future__ import annotations

from ..kit.answers import reference_problems
from ..kit.dags import backdoor_valid, d_separated
from . import arithmetic, backdoor, causal, programs

__all__ = ["arithmetic", "backdoor", "backdoor_valid", "causal", "d_separated", "programs", "reference_problems"]
