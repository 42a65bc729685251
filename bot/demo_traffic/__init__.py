"""`make demo-traffic`: realistic customer conversations through the real channels, so a fresh
install's supervisor dashboard has something to show. Nothing is written into a table directly:
every row comes from a conversation, exactly as a customer's would.

Why it starts its own assistant: `make run` serves no WeChat official account unless one is
configured (its webhook answers 503), and a demo must never hold a real account's secrets. So this
starts the assistant (bot.serve's Servers: Rasa + action server) on free ports with a throwaway
WeChat account (random token, AppSecret and EncodingAESKey) whose API base is a local fake WeChat
API (tests/fakes/wechat_api.py), storing into the same databases `make run` uses (var/, or whatever
TRACKER_DB_PATH, CONNECTOR_DB_URL, BANK_DB_URL and ASSISTANT_SECRETS_DIR name). Customers then talk
to it as real clients do:

* REST: POST /webhooks/rest/webhook; a logged-in customer's signed token in each message's metadata;
* web chat: a socket.io client speaking the widget's protocol (session_request, user_uttered;
  the token as socket.io auth, like our widget);
* WeChat: signed, AES-encrypted XML pushes to /webhooks/wechat/webhook, answered passively or through
  the (fake) customer-service message API; account questions after binding the follower in the app.

A demo supervisor takes the handoffs through the agent API (accept, reply, close; web chat and WeChat
customers answer the CSAT question), and the day's summary is read from
GET /agent/api/analytics/summary at the end. No money moves and no card, payee or appointment changes
in the sandbox bank: transfers and card losses are called off before their confirmation and no menu
choice ever confirms anything (a complaint does open a ticket, as it would for a real customer).

    .venv/bin/python -m bot.demo_traffic [--conversations 60] [--seed 17] [--concurrency 3]
                                         [--supervisor USER --password-stdin]

Modules: `conversations` (what customers say), `mix` (which conversations, on which channel),
`replies` (reading each channel's answers), `customers` and `wechat` (the channels' clients),
`desk` (the demo supervisor), `assistant` (the server under demo), `drive` (running the
conversations), `report` (what is printed), `__main__` (the command line).
"""
