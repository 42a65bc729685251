"""NLU training data: every taxonomy intent, enough varied examples, no conflicts, no dev-set text."""
import collections
import json
import re
import unicodedata

import yaml

from bot.settings import REPO_ROOT
from tests.conftest import shared_file

MIN_EXAMPLES = 40


def _examples() -> dict[str, list[str]]:
    found = collections.defaultdict(list)
    for path in sorted((REPO_ROOT / "intents" / "data").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            found[block["intent"]] += [line.strip()[2:].strip() for line in block["examples"].splitlines()
                                       if line.strip().startswith("- ")]
    return found


def test_every_taxonomy_intent_has_enough_distinct_examples():
    taxonomy = yaml.safe_load((REPO_ROOT / "intents" / "taxonomy.yml").read_text(encoding="utf-8"))
    examples = _examples()
    assert set(examples) == set(taxonomy["intents"])
    for intent, texts in examples.items():
        assert len(set(texts)) >= MIN_EXAMPLES, (intent, len(set(texts)))
        assert len(set(texts)) == len(texts), intent


def test_no_example_belongs_to_two_intents():
    owner: dict[str, str] = {}
    for intent, texts in _examples().items():
        for text in texts:
            assert owner.setdefault(text, intent) == intent, (text, owner[text], intent)


def _loose(text: str) -> str:
    """Width, case, spacing and punctuation do not make a dev sentence new."""
    return re.sub(r"[\s，。！？、,.!?~～…]+", "", unicodedata.normalize("NFKC", text).lower())


def test_no_dev_set_text_is_used_for_training():
    dev = set()
    for name in ("dev_faq.jsonl", "dev_intents.jsonl"):
        for line in shared_file("eval", name).read_text(encoding="utf-8").splitlines():
            dev.add(_loose(json.loads(line)["text"]))
    ours = {_loose(t) for texts in _examples().values() for t in texts}
    assert not ours & dev, sorted(ours & dev)
