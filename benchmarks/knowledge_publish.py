"""How long from an approval to a live answer? Publish time of a knowledge change, incremental vs full.

Copies the live index to a scratch folder with a scratch review database, then, --repeat times:
approves a one-entry change (a new entry with two phrasings, alternating with an extra paraphrase on
an existing entry), publishes it (knowledge_base/review/publish.py: only new phrasings are embedded)
and waits until a LiveRetriever following the folder answers from the new version. For comparison it
times one full rebuild of the same content (every phrasing embedded, as before issue 17).

    .venv/bin/python benchmarks/knowledge_publish.py [--repeat 5]

Prints the numbers, writes benchmarks/results/knowledge_publish.json and .png.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RESULTS = Path(__file__).resolve().parent / "results"


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def _change(n: int) -> tuple[str, dict]:
    if n % 2:
        return "add_paraphrases", {"entry_id": "transfer.arrival_time", "paraphrases": [f"第{n}种问法：钱多久到账"]}
    return "new_entry", {"category": "fees_other", "slug": f"bench_{n}", "question": f"基准测试问题{n}号是什么",
                         "answer": f"基准测试答案{n}。", "answer_en": f"Benchmark answer {n}.",
                         "paraphrases": [f"第{n}号基准问题"]}


def _until_live(live, version: str, timeout_s: float = 60.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if live.current.version_dir.name == version:
            return time.monotonic() - started
        time.sleep(0.05)
    raise RuntimeError(f"the live retriever did not switch to {version} within {timeout_s} s")


def measure(repeat: int) -> dict:
    from bot.settings import load_settings
    from knowledge_base.index import build_index
    from knowledge_base.live import LiveRetriever
    from knowledge_base.review.changes import normalise
    from knowledge_base.review.publish import knowledge_content, publish_live
    from knowledge_base.review.store import KnowledgeReview, review_engine

    settings = load_settings()
    with tempfile.TemporaryDirectory() as scratch:
        index_dir = Path(scratch) / "index"
        shutil.copytree(settings.index_dir, index_dir)
        config = replace(settings.kb, index_dir=index_dir, reload_interval_s=0.2)
        review = KnowledgeReview(review_engine(f"sqlite:///{Path(scratch) / 'knowledge.db'}"))
        live = LiveRetriever(config)
        publish_live(config, review, "bench")  # the scratch copy's manifest may predate vector reuse
        runs = []
        for n in range(1, repeat + 1):
            kind, payload = _change(n)
            entry_id, cleaned = normalise(kind, payload, knowledge_content(config, review))
            review.approve(review.propose("maker", kind, entry_id, cleaned), "checker", {})
            started = time.monotonic()
            version = publish_live(config, review, "checker")["index_version"]
            publish_s = time.monotonic() - started
            runs.append({"kind": kind, "publish_s": round(publish_s, 2),
                         "to_live_s": round(publish_s + _until_live(live, version), 2)})
        started = time.monotonic()
        build_index(knowledge_content(config, review), replace(config, index_dir=Path(scratch) / "full"), force=True)
        full_s = time.monotonic() - started
    publish = [r["publish_s"] for r in runs]
    to_live = [r["to_live_s"] for r in runs]
    return {"runs": runs, "publish_s_median": round(statistics.median(publish), 2),
            "to_live_s_median": round(statistics.median(to_live), 2), "to_live_s_max": max(to_live),
            "full_rebuild_s": round(full_s, 2)}


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    labels = [f"{i + 1}: {r['kind']}" for i, r in enumerate(result["runs"])] + ["full rebuild"]
    values = [r["to_live_s"] for r in result["runs"]] + [result["full_rebuild_s"]]
    ax.barh(labels, values, color=["#4c72b0"] * len(result["runs"]) + ["#c44e52"])
    ax.set_xlabel("seconds (approval published → live retriever answers from it)")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=positive, default=5, help="changes to approve and publish (default 5)")
    args = parser.parse_args()
    result = measure(args.repeat)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "knowledge_publish.json").write_text(json.dumps(result, indent=2))
    plot(result, RESULTS / "knowledge_publish.png")
    for i, run in enumerate(result["runs"], start=1):
        print(f"change {i} ({run['kind']}): published in {run['publish_s']} s, live in {run['to_live_s']} s")
    print(f"median: published {result['publish_s_median']} s, live {result['to_live_s_median']} s "
          f"(max {result['to_live_s_max']} s); a full rebuild takes {result['full_rebuild_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
