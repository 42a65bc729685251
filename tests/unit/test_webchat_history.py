"""What a reloaded widget shows: user and bot messages from the tracker, not internal events."""
from connectors.webchat.history import MAX_HISTORY, visible_turns


def test_only_visible_messages_are_restored_in_order():
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "附近网点"},
        {"event": "bot", "text": "请问您在哪个城市？", "data": {"buttons": [{"title": "北京", "payload": "/inform"}]}},
        {"event": "user", "text": "/inform{\"city\": \"北京\"}"},  # a clicked button's payload, not typed text
        {"event": "slot", "name": "city", "value": "北京"},
        {"event": "bot", "text": "北京有2个网点", "metadata": {"agent": "王芳"}},
        {"event": "bot", "text": "本次人工服务已结束。", "metadata": {"desk_notice": True}},
    ]
    assert visible_turns(events) == [
        {"sender": "user", "text": "附近网点"},
        {"sender": "bot", "text": "请问您在哪个城市？", "buttons": [{"title": "北京", "payload": "/inform"}]},
        {"sender": "bot", "text": "北京有2个网点", "agent": "王芳"},
        {"sender": "bot", "text": "本次人工服务已结束。", "notice": True},
    ]


def test_history_is_capped():
    events = [{"event": "user", "text": f"问题{i}"} for i in range(MAX_HISTORY + 50)]
    restored = visible_turns(events)
    assert len(restored) == MAX_HISTORY and restored[-1]["text"] == f"问题{MAX_HISTORY + 49}"
