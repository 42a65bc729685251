"""nginx in front of the Rasa replicas: the balancer of a local cluster (docs/serving.md, "Cluster").

- HTTP (REST, WeChat, the agent desk's API, Rasa's API) goes to the replica with the fewest open
  requests. When a replica cannot be reached, nginx retries the request on another one, POSTs
  included (``non_idempotent``). A message carrying ``metadata.message_id`` is then applied once
  (bot/idempotent_turns.py), and Redis's conversation lock orders it behind any turn still running.
- socket.io (web chat, agent consoles) sticks to one replica per client address. Long-polling
  needs every request of a session on the replica that holds it. Which replica a room's member is
  connected to does not matter: python-socketio's Redis manager relays emits between replicas.
- nginx sets X-Forwarded-For itself, and the replicas trust only that header (TRUST_X_FORWARDED_FOR=1),
  so per-address limits see the customer's address and never a value the client wrote.
- The access log has method, path (no query string: tokens travel there), status and timing.
"""
from __future__ import annotations

import os
import pwd

from bot.cluster.layout import ClusterLayout

MAX_BODY = "1m"  # the channels bound their own bodies far below this (REST 64 KiB)


def _servers(layout: ClusterLayout, options: str = "") -> str:
    return "\n".join(f"        server 127.0.0.1:{layout.rasa_port(i)}{options};"
                     for i in range(1, layout.replicas + 1))


def worker_user() -> str:
    """As root, workers run unprivileged (they only proxy)."""
    if os.geteuid() != 0:
        return ""
    group = "nogroup"
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        return ""
    return f"user nobody {group};\n"


def render(layout: ClusterLayout) -> str:
    logs, tmp = layout.root / "logs", layout.nginx_dir / "tmp"
    return f"""# Written by `python -m bot.cluster start` (bot/cluster/nginx_conf.py); edits are overwritten.
{worker_user()}worker_processes 1;
daemon off;
pid {layout.nginx_dir / "nginx.pid"};
error_log {logs / "nginx-error.log"} warn;

events {{
    worker_connections 4096;
}}

http {{
    log_format turns '$remote_addr [$time_local] "$request_method $uri" $status $request_time $upstream_addr';
    access_log {logs / "nginx-access.log"} turns;
    client_body_temp_path {tmp / "body"};
    proxy_temp_path {tmp / "proxy"};
    fastcgi_temp_path {tmp / "fastcgi"};
    uwsgi_temp_path {tmp / "uwsgi"};
    scgi_temp_path {tmp / "scgi"};
    client_max_body_size {MAX_BODY};
    server_tokens off;

    upstream rasa {{
        least_conn;
{_servers(layout, " max_fails=1 fail_timeout=5s")}
        keepalive 64;
    }}

    upstream rasa_sockets {{
        hash $remote_addr consistent;
{_servers(layout, " max_fails=1 fail_timeout=5s")}
    }}

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}

    server {{
        listen {layout.balancer_port};
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;

        location ~ ^/(agent/)?socket\\.io/ {{
            proxy_pass http://rasa_sockets;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1h;
            proxy_next_upstream error timeout;
        }}

        location / {{
            proxy_pass http://rasa;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_connect_timeout 2s;
            proxy_read_timeout 120s;
            # Only a replica that cannot be reached is skipped. A 503 means that the replica is alive and the
            # store behind it is down: another replica would answer the same, and counting it as a failure
            # would take every replica out of the pool for fail_timeout.
            proxy_next_upstream error timeout non_idempotent;
            proxy_next_upstream_tries 3;
        }}

        # No replica reachable: the same JSON and Retry-After as a replica's own 503, not an HTML page.
        error_page 502 504 = @unavailable;
        location @unavailable {{
            default_type application/json;
            add_header Retry-After 5 always;
            return 503 '{{"error": "the assistant is temporarily unavailable; resend the message in a few seconds, with the same metadata.message_id"}}';
        }}
    }}
}}
"""
