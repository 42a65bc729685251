"""Rasa's graph runs on one worker thread: the event loop stays free, and graph runs never overlap."""
import asyncio
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.message import Message

from bot import graph_thread

DOMAIN = Domain.from_dict({"intents": ["greet"], "responses": {"utter_hi": [{"text": "您好"}]}})


class RecordingGraph:
    """Stands in for Rasa's graph runner: slow, and records which threads ran it and how many at once."""

    def __init__(self) -> None:
        self.threads: set = set()
        self.running = 0
        self.most_at_once = 0
        self.lock = threading.Lock()

    def run(self, inputs, targets):
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        self.threads.add(threading.current_thread().name)
        time.sleep(0.05)  # releases the GIL, as TensorFlow and ONNX Runtime do
        with self.lock:
            self.running -= 1
        if targets == ["nlu"]:
            parsed = Message(data={"text": inputs["__message__"][0].text})
            parsed.set("intent", {"name": "greet", "confidence": 0.9}, add_to_output=True)
            return {"nlu": [parsed]}
        probabilities = np.zeros(len(DOMAIN.action_names_or_texts))
        probabilities[DOMAIN.index_for_action("utter_hi")] = 1.0
        return {"core": PolicyPrediction(list(probabilities), "policy")}


def _processor(graph: RecordingGraph) -> MessageProcessor:
    processor = object.__new__(MessageProcessor)  # only what parse and predict read
    processor.http_interpreter = None
    processor.domain = DOMAIN
    processor.graph_runner = graph
    processor.model_metadata = SimpleNamespace(nlu_target="nlu", core_target="core")
    processor.max_number_of_predictions = 10
    processor.action_endpoint = None
    processor.on_circuit_break = None
    processor.nlg = None
    return processor


def test_parses_run_on_the_graph_thread_one_at_a_time_while_the_loop_keeps_serving():
    graph_thread.install()
    graph_thread.install()  # idempotent
    graph = RecordingGraph()
    processor = _processor(graph)
    ticks = []

    async def ticker():
        while len(ticks) < 1000:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.005)

    async def main():
        tick = asyncio.create_task(ticker())
        parsed = await asyncio.gather(*(processor.parse_message(UserMessage(f"你好{i}", sender_id=f"c{i}"))
                                        for i in range(4)))
        tick.cancel()
        return parsed

    started = time.monotonic()
    parsed = asyncio.run(main())
    took = time.monotonic() - started
    assert [p["text"] for p in parsed] == [f"你好{i}" for i in range(4)]
    assert all(p["intent"]["name"] == "greet" and p["entities"] == [] for p in parsed)
    assert graph.most_at_once == 1 and len(graph.threads) == 1
    assert next(iter(graph.threads)).startswith("rasa-graph")
    assert len(ticks) >= 0.5 * took / 0.005  # the loop ran the ticker while the graph worked


def test_a_graph_run_from_the_loop_thread_waits_for_the_one_on_the_graph_thread():
    """Rasa's HTTP API predicts on the loop directly; the lock keeps it from overlapping a turn's parse."""
    graph_thread.install()
    graph = RecordingGraph()
    processor = _processor(graph)
    tracker = DialogueStateTracker.from_events("c1", [])

    async def main():
        parse = asyncio.create_task(processor.parse_message(UserMessage("你好", sender_id="c1")))
        await asyncio.sleep(0.01)  # the parse is on the graph thread now
        await asyncio.to_thread(processor._predict_next_with_tracker, tracker)
        await parse

    asyncio.run(main())
    assert graph.most_at_once == 1


def test_the_prediction_loop_predicts_on_the_graph_thread_and_runs_each_action_in_order():
    graph_thread.install()
    graph = RecordingGraph()
    processor = _processor(graph)
    ran = []

    async def run_action(action, tracker, output_channel, nlg, prediction):
        ran.append((action.name(), threading.current_thread() is threading.main_thread()))
        return len(ran) < 3  # the third action is the last, as action_listen would be

    processor._run_action = run_action
    processor._should_handle_message = lambda tracker: True
    tracker = DialogueStateTracker.from_events("c1", [])
    asyncio.run(processor._run_prediction_loop(CollectingOutputChannel(), tracker))
    # a new tracker's follow-up action comes first, without the graph; then two predictions; all on the loop
    assert ran == [("action_listen", True), ("utter_hi", True), ("utter_hi", True)]
    assert len(graph.threads) == 1 and next(iter(graph.threads)).startswith("rasa-graph")


def test_the_graph_thread_runs_the_oldest_turns_work_first():
    """Queued behind a busy thread, a newer turn's run waits for an older turn's, whatever came first."""
    worker = graph_thread.OldestTurnFirst(name="oldest-first-test")
    release, ran = threading.Event(), []
    blocker = worker.submit(0.0, release.wait)
    queued = [worker.submit(started, lambda started=started, n=n: ran.append((started, n)))
              for n, started in enumerate([3.0, 1.0, 2.0, 1.0])]
    release.set()
    for future in [blocker, *queued]:
        future.result(timeout=5)
    assert ran == [(1.0, 1), (1.0, 3), (2.0, 2), (3.0, 0)]  # by turn start, then in order of submission
    with pytest.raises(ZeroDivisionError):  # the error reaches the caller
        worker.submit(0.0, lambda: 1 / 0).result(timeout=5)


def test_a_parse_stamps_its_turn_and_the_turns_predictions_carry_the_stamp():
    graph_thread.install()
    graph = RecordingGraph()
    stamps = []
    run = graph.run

    def stamped_run(inputs, targets):
        stamps.append((targets[0], graph_thread.TURN_STARTED.get(None)))
        return run(inputs, targets)

    graph.run = stamped_run
    processor = _processor(graph)

    async def run_action(action, tracker, output_channel, nlg, prediction):
        return False  # one prediction per turn

    processor._run_action = run_action
    processor._should_handle_message = lambda tracker: True

    async def turn(text):
        tracker = DialogueStateTracker.from_events("c1", [ActionExecuted("action_listen")])
        await processor.parse_message(UserMessage(text, sender_id="c1"), tracker)
        await processor._run_prediction_loop(CollectingOutputChannel(), tracker)

    async def main():  # two turns in one task, as a channel that handles messages in a loop would
        await turn("你好")
        await turn("再见")

    asyncio.run(main())
    assert [target for target, _ in stamps] == ["nlu", "core", "nlu", "core"]
    first, second = stamps[0][1], stamps[2][1]
    assert first is not None and stamps[1][1] == first  # the prediction belongs to the turn parsed first
    assert second > first and stamps[3][1] == second  # the next message starts a new turn
