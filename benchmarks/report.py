"""Shared by the benchmark scripts: latency percentiles and printing + saving a result."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Sequence

RESULTS = Path(__file__).with_name("results")


def latency_ms(timings: Sequence[float]) -> Dict[str, float]:
    import numpy as np

    ms = np.asarray(timings, dtype=float)
    return {"p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "max_ms": round(float(ms.max()), 1)}


def publish(name: str, result: Any) -> None:
    """Print the result and keep it in benchmarks/results/<name>.json."""
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(text + "\n", encoding="utf-8")
