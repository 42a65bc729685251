"""A local cluster: PostgreSQL, Redis, N Rasa replicas with their action servers, nginx in front.

`make cluster` / `make cluster-stop`; `python -m bot.cluster --help`. docs/serving.md, "Cluster".
"""
