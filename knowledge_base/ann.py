"""FAISS index construction: exact search while it is fast enough, HNSW beyond.

Vectors are L2-normalised, so inner product is cosine similarity. Below
``EXACT_LIMIT`` vectors a flat scan answers in well under a millisecond per
10 k vectors; above it HNSW keeps single-query latency in the low milliseconds
at recall@10 > 0.95 (measured by benchmarks/kb_scale.py).
"""
from __future__ import annotations

import numpy as np

EXACT_LIMIT = 100_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 96


def build_ann_index(vectors: np.ndarray, exact_limit: int = EXACT_LIMIT):
    import faiss

    dim = vectors.shape[1]
    if len(vectors) < exact_limit:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def index_type(index) -> str:
    return type(index).__name__
