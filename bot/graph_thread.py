"""Rasa's model graph (NLU parse, policy predictions) runs on one worker thread, not on the event loop.

Rasa 3.6 runs the graph synchronously inside its async message handling. While one turn's DIET,
encoder and policies run, the event loop of the Rasa server does nothing else: no other
conversation's tracker is loaded or saved, no action-server reply is read. py-spy under 20
concurrent users (docs/serving.md) showed the loop thread ~90 % busy, half of it in the graph,
while the second core was mostly idle.

`install()` makes `MessageProcessor.parse_message` and the prediction loop await the graph on a
single dedicated thread. Most graph time is native code (TensorFlow, ONNX Runtime, scipy, FAISS)
that releases the GIL, so the loop serves other conversations meanwhile. One thread, and a lock
around every graph run, keep the components as single-threaded as before: two graph runs never
overlap, even when Rasa's HTTP API calls the graph from the loop directly. A turn's own steps keep
their order (each is awaited; Rasa's lock store serialises turns of one conversation).

The thread takes the work of the oldest turn first, not the oldest request. A turn is several graph
runs (the parse, then a prediction before each action) with action calls between them; first come,
first served per run sends each of them to the back of the queue behind every newer message, so
all turns in flight slow down together and the slowest ones set the p95. Ordered by when the turn's
message was parsed (a context variable set by the parse), a turn in flight finishes before newer
ones start (docs/serving.md, "Oldest turn first").
"""
from __future__ import annotations

import asyncio
import contextvars
import functools
import itertools
import logging
import queue
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Dict, Optional, Text

log = logging.getLogger(__name__)
_MARK = "_installed_by_graph_thread"
_GRAPH_LOCK = threading.Lock()
# when the message of the turn this task is running was parsed (monotonic seconds)
TURN_STARTED: contextvars.ContextVar[float] = contextvars.ContextVar("turn_started")


class OldestTurnFirst:
    """One daemon thread that runs submitted calls in order of their turn's start, then of submission."""

    def __init__(self, name: str = "rasa-graph_0") -> None:
        self._queue: "queue.PriorityQueue[tuple[float, int, Callable[[], Any], Future]]" = queue.PriorityQueue()
        self._order = itertools.count()
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, turn_started: float, call: Callable[[], Any]) -> Future:
        future: Future = Future()
        self._queue.put((turn_started, next(self._order), call, future))
        return future

    def _work(self) -> None:
        while True:
            _, _, call, future = self._queue.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as exc:  # handed to the awaiting coroutine, as an executor does
                future.set_exception(exc)


_WORKER: Optional[OldestTurnFirst] = None
_WORKER_LOCK = threading.Lock()


def _worker() -> OldestTurnFirst:
    global _WORKER
    with _WORKER_LOCK:
        if _WORKER is None:
            _WORKER = OldestTurnFirst()
        return _WORKER


async def on_graph_thread(function: Callable[..., Any], *args: Any) -> Any:
    """Run ``function(*args)`` on the graph thread with the caller's context variables, after the
    queued work of older turns."""
    context = contextvars.copy_context()
    started = TURN_STARTED.get(None)
    future = _worker().submit(time.monotonic() if started is None else started,
                              functools.partial(context.run, function, *args))
    return await asyncio.wrap_future(future)


def _serialised(run: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a graph-running method so that two graph runs never overlap, whichever thread calls."""
    @functools.wraps(run)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _GRAPH_LOCK:
            return run(*args, **kwargs)

    setattr(locked, _MARK, True)
    return locked


def _parse_off_loop(parse_message: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(parse_message)
    async def parse_message_off_loop(self: Any, message: Any, tracker: Any = None,
                                     only_output_properties: bool = True) -> Dict[Text, Any]:
        if self.http_interpreter:  # parsed by another server: nothing to move
            return await parse_message(self, message, tracker, only_output_properties)
        from rasa.shared.core.trackers import DialogueStateTracker

        if tracker is None:
            tracker = DialogueStateTracker.from_events(message.sender_id, [])
        TURN_STARTED.set(time.monotonic())  # a new message: the turn this task runs starts now
        parse_data = await on_graph_thread(self._parse_message_with_graph, message, tracker,
                                           only_output_properties)
        # the rest of Rasa's parse_message, unchanged
        self._update_full_retrieval_intent(parse_data)
        self._check_for_unseen_features(parse_data)
        return parse_data

    setattr(parse_message_off_loop, _MARK, True)
    return parse_message_off_loop


async def _run_prediction_loop(self: Any, output_channel: Any, tracker: Any) -> None:
    """Rasa 3.6.21's ``MessageProcessor._run_prediction_loop``; only the prediction is awaited on the
    graph thread."""
    from rasa.core.processor import ActionLimitReached

    should_predict_another_action = True
    while should_predict_another_action and self._should_handle_message(tracker):
        try:
            action, prediction = await on_graph_thread(self.predict_next_with_tracker_if_should, tracker)
        except ActionLimitReached:
            log.warning("Circuit breaker tripped. Stopped predicting more actions for sender '%s'.",
                        tracker.sender_id)
            if self.on_circuit_break:
                self.on_circuit_break(tracker, output_channel, self.nlg)
            break
        if prediction.is_end_to_end_prediction:
            tracker = await self.run_action_extract_slots(output_channel, tracker)
        should_predict_another_action = await self._run_action(action, tracker, output_channel, self.nlg,
                                                               prediction)


setattr(_run_prediction_loop, _MARK, True)


def install() -> None:
    """Idempotent; leaves Rasa alone if a method it replaces is missing (a newer Rasa)."""
    from rasa.core.processor import MessageProcessor

    needed = ("parse_message", "_parse_message_with_graph", "_predict_next_with_tracker",
              "predict_next_with_tracker_if_should", "_run_prediction_loop", "_update_full_retrieval_intent",
              "_check_for_unseen_features")
    if getattr(MessageProcessor.parse_message, _MARK, False):
        return
    if not all(hasattr(MessageProcessor, name) for name in needed):
        log.warning("Rasa's MessageProcessor has changed: the model graph stays on the event loop")
        return
    MessageProcessor._parse_message_with_graph = _serialised(MessageProcessor._parse_message_with_graph)
    MessageProcessor._predict_next_with_tracker = _serialised(MessageProcessor._predict_next_with_tracker)
    MessageProcessor.parse_message = _parse_off_loop(MessageProcessor.parse_message)
    MessageProcessor._run_prediction_loop = _run_prediction_loop
