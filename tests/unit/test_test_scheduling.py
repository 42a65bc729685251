"""The two test workers' units (tests/conftest.py): every module that uses a shared stack is in its unit,
so a new module cannot silently start a second stack on the other worker."""
from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import work_unit

TESTS = Path(__file__).resolve().parents[1]


def _modules_using(fixture: str) -> list[str]:
    uses = re.compile(rf"\b{fixture}\b")
    return sorted(str(path.relative_to(TESTS.parent)) for path in TESTS.rglob("test_*.py")
                  if path.name != Path(__file__).name and uses.search(path.read_text(encoding="utf-8")))


def test_every_module_using_the_channel_stack_runs_in_its_unit():
    modules = _modules_using("channel_servers")
    assert len(modules) >= 5
    assert {module: work_unit(module) for module in modules} == {module: "channel-stack" for module in modules}


def test_the_cluster_files_run_together_and_other_modules_alone():
    cluster = sorted(str(p.relative_to(TESTS.parent)) for p in (TESTS / "cluster").glob("test_*.py"))
    assert len(cluster) >= 2 and {work_unit(f"{m}::t") for m in cluster} == {"cluster"}
    assert work_unit("tests/unit/test_flows.py::test_x") == "tests/unit/test_flows.py"
