# Two commands: `make run` (set up, then start the assistant) and `make test`.
# Every set-up step is idempotent and skips quickly when its output is current.
SHELL := /bin/bash
PY := .venv/bin/python
export USE_TF := 0
export TF_CPP_MIN_LOG_LEVEL := 2
export HF_HUB_OFFLINE := 1
export RASA_TELEMETRY_ENABLED := false
PYTEST_ARGS ?=

.PHONY: setup venv encoder finetune kb model widget browser cluster-packages run test test-fast cluster cluster-stop cluster-status clean demo-traffic

# One after another: on 2 cores the fine-tune (torch) and DIET (TensorFlow) side by side oversubscribe
# the CPU and each runs several times slower than alone.
setup: model kb widget

venv:
	@scripts/bootstrap.sh

encoder: venv
	@$(PY) -m knowledge_base.encoder build

# The retrieval encoder, adapted to the knowledge base (docs/understanding.md).
finetune: encoder
	@$(PY) -m knowledge_base.encoder finetune

kb: finetune
	@$(PY) -m knowledge_base build

# Intent features use the fine-tuned encoder too: one encoder pass per message (docs/understanding.md).
model: finetune
	@$(PY) -m bot.train

# The web chat's browser code, vendored from the npm registry (pinned, checksum-checked): our widget's
# socket.io client, and the stock rasa-webchat widget the browser tests embed from a second origin.
widget:
	@scripts/vendor_widget.sh

# Debian chromium for the Playwright browser tests.
browser:
	@scripts/ensure_chromium.sh

run: setup
	@$(PY) -m bot.serve

# Realistic conversations over REST, web chat and WeChat (a fake WeChat API) into the stores `make run`
# uses, so the supervisors' dashboard has something to show; starts its own assistant on free ports
# (docs/analytics.md, "Demo traffic"). DEMO_ARGS: e.g. --conversations 120 --seed 3.
DEMO_ARGS ?=
demo-traffic: setup
	@$(PY) -m bot.demo_traffic $(DEMO_ARGS)

# Several replicas on PostgreSQL + Redis behind nginx on :5005 (docs/serving.md, "Cluster"); REPLICAS=3.
REPLICAS ?= 3
# Debian postgresql, redis-server and nginx for the cluster and its fault tests.
cluster-packages:
	@scripts/ensure_cluster_packages.sh

cluster: setup cluster-packages
	@$(PY) -m bot.cluster start --replicas $(REPLICAS)

cluster-stop:
	@$(PY) -m bot.cluster stop

cluster-status:
	@$(PY) -m bot.cluster status --replicas $(REPLICAS)

# Two pytest-xdist workers: the suite mostly waits on servers, browsers and timers, and a second worker
# overlaps that waiting (docs/testing.md). TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
test: setup browser cluster-packages
	@$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Unit tests only (no Rasa training, no servers).
test-fast: setup
	@$(PY) -m pytest -n $(TEST_WORKERS) -m "not slow" $(PYTEST_ARGS)

clean:
	rm -rf models var .pytest_cache test-artifacts
