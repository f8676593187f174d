"""Re-judge a store's stored answers with the current rules and show what changed.

    python bench/rejudge.py STORE [--sample 20] [--json OUT]

Nothing is written to the store: the stored verdicts (from whatever rules ran
then) are compared with what ``fourfold.judge.judge`` says now on the same
responses. Unit-test cases run through the sandbox again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
from collections import Counter
from pathlib import Path

from fourfold.judge import judge
from fourfold.store import Store


async def rejudge(store: Store) -> list[dict[str, str]]:
    rows = [r for r in store.latest_results() if r.status == "ok"]
    cases = store.cases({r.case_hash for r in rows})
    out = []
    for r in rows:
        stored = cases.get(r.case_hash)
        if stored is None:
            continue
        case = stored.case
        if case.reference.kind == "rubric":
            continue
        j = await judge(case, r.response or "")
        out.append({"case": case.id, "kind": case.reference.kind, "old": r.verdict, "new": j.verdict,
                    "old_rationale": r.rationale or "", "new_rationale": j.rationale,
                    "response": (r.response or "")[:300]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("store", type=Path)
    ap.add_argument("--sample", type=int, default=20)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    results = asyncio.run(rejudge(Store(args.store)))
    changed = [x for x in results if x["old"] != x["new"]]
    print(f"{len(results)} rule-judged answers, {len(changed)} verdicts changed")
    for kind, n in sorted(Counter(x["kind"] for x in results).items()):
        ch = sum(1 for x in changed if x["kind"] == kind)
        print(f"  {kind}: {ch} of {n} changed")
    for (a, b), n in sorted(Counter((x["old"], x["new"]) for x in changed).items()):
        print(f"  {a} -> {b}: {n}")
    random.Random(0).shuffle(changed)
    for x in sorted(changed[: args.sample], key=lambda x: x["case"]):
        print(f"- {x['case']} ({x['kind']}): {x['old']} -> {x['new']}: {x['new_rationale']}")
        print(f"    was: {x['old_rationale']}")
        print(f"    answer: {json.dumps(x['response'][:160])}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
