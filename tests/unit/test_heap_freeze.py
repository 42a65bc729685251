"""The loaded model is frozen out of the garbage collector once per model, at its first message."""
from __future__ import annotations

import asyncio
import gc

import pytest

from bot.heap_freeze import _frozen_first, freeze_loaded_heap


@pytest.fixture(autouse=True)
def _unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_objects_alive_at_the_freeze_are_frozen_and_later_ones_are_not():
    model = [{"weights": [i]} for i in range(1000)]
    frozen = freeze_loaded_heap()
    assert frozen == gc.get_freeze_count() >= len(model)
    later = [{"tracker": [i]} for i in range(1000)]
    assert gc.get_freeze_count() == frozen  # made after the freeze: collected as usual
    assert gc.is_tracked(later[0])


def test_a_second_model_unfreezes_the_first_so_its_cycles_can_be_collected():
    import weakref

    class Cycle:
        pass

    old = Cycle()
    old.me = old
    gone = weakref.ref(old)
    freeze_loaded_heap()
    del old
    gc.collect()
    assert gone() is not None  # frozen: a collection does not see the old model's cycle
    freeze_loaded_heap()  # the next model: unfreeze, collect (the old cycle goes), freeze again
    assert gone() is None


def test_each_processor_freezes_at_its_first_message_only():
    calls: list[str] = []

    class Processor:
        async def handle_message(self, message):
            calls.append(message)
            return message

    Processor.handle_message = _frozen_first(Processor.handle_message)
    first, second = Processor(), Processor()
    asyncio.run(first.handle_message("你好"))
    assert gc.get_freeze_count() > 0
    gc.unfreeze()
    asyncio.run(first.handle_message("查余额"))
    assert gc.get_freeze_count() == 0  # the same model: not again
    asyncio.run(second.handle_message("转账"))
    assert gc.get_freeze_count() > 0  # a newly loaded model: frozen at its first message
    assert calls == ["你好", "查余额", "转账"]
