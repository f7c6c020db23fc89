# aelab — autoencoder lab. `make help` lists the targets.
#
#   make run            set up, build, train the course's three models, write the report (BEYOND=1: six models)
#   make test           set up, vet, run every test (notebooks included)
#   QUICK=1 make run    a short version (few steps, data subset)

GO          ?= go
TAGS        ?= onnx
BIN         := bin/aelab
QUICK       ?=
# BEYOND=1: make run also trains the sparse, contractive and variational autoencoders. The quick
# run includes them by default (they take seconds there); a full run is the course's three.
BEYOND      ?= $(if $(QUICK),1,0)
# Go native fuzz tests (package:FuzzName) that make test runs for FUZZTIME each, after the
# tests (which already run their seed corpora in testdata/fuzz/). A count of inputs rather than a
# duration: a duration that ends while a worker runs an input fails the target (context
# deadline exceeded) though nothing was found.
FUZZ        := tracker/query:FuzzParseFilter tracker/query:FuzzParseOrderBy aelib/data:FuzzParseIDX \
               aelib:FuzzThousands aelib:FuzzBytes experiments:FuzzFormatMetric track:FuzzParseMetricLine
FUZZTIME    ?= 20000x
PORT        ?= 8888
LAB_IP      ?= 127.0.0.1
# make lab serves LAB_DIR; LAB_FLAGS go to jupyter notebook as they are (the browser test sets a token).
LAB_DIR     ?= notebooks
LAB_FLAGS   ?=
REPORT_DIR  ?= build/report
NB_OUT      ?= build/notebooks
NB_TIMEOUT  ?= 1800
# make ui listens here; anything but loopback needs UI_TOKEN_FILE.
UI_ADDR     ?= 127.0.0.1:5555
UI_TOKEN_FILE ?=
# Debian's jupyter (the first python3 on PATH may be a pyenv one without Debian's packages).
JUPYTER     ?= $(firstword $(wildcard /usr/bin/jupyter) jupyter)

GOPATH_BIN  := $(firstword $(subst :, ,$(shell $(GO) env GOPATH)))/bin
export PATH := $(GOPATH_BIN):$(PATH)
# Never let GoMLX download a PJRT plugin at run time.
export GOMLX_NO_AUTO_INSTALL := 1
# aelab's cache (ONNX Runtime library, checkpoints); aelib reads the same variable.
AELAB_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/aelab
export AELAB_CACHE

.DEFAULT_GOAL := help
# setup must finish before build/test start, even under make -j.
.NOTPARALLEL:
.PHONY: help setup check-setup build run test test-short vet notebooks lab ui ui-assets report pg bench bench-peer bench-peer-check gpu-check docker-cpu docker-cuda clean

help: ## list the targets
	@echo "aelab — make targets (variables: QUICK=1 TAGS=$(TAGS) PORT=$(PORT) LAB_IP=$(LAB_IP) GO=$(GO)):"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: ## install what is missing: apt packages, goimports/gopls/GoNB + kernel, ONNX Runtime, data
	@bash scripts/setup.sh

check-setup: ## only report what setup would install (exit 1 if something is missing)
	@bash scripts/setup.sh --check

build: ## build bin/aelab (go build -tags TAGS)
	$(GO) build -tags $(TAGS) -o $(BIN) ./cmd/aelab

run: setup build ## train the course's models (BEYOND=1: and sparse, contractive, VAE), compare, write the report (QUICK=1: short)
	$(BIN) course $(if $(QUICK),--quick) $(if $(filter 1,$(BEYOND)),--beyond)
	@echo "run: done; the report is where 'aelab course' says above (reports: $(REPORT_DIR)/, open index.html)"

vet: ## go vet -tags TAGS ./...
	$(GO) vet -tags $(TAGS) ./...

test: setup vet ## set up (the PyTorch peer included), vet, and run all tests (notebooks run inside package notebooks' tests), then each fuzz test for FUZZTIME
	@bash scripts/setup.sh --peer
	$(GO) test -tags $(TAGS) -timeout 40m ./...
	@set -e; for f in $(FUZZ); do \
		echo "fuzz: $$f for $(FUZZTIME)"; \
		$(GO) test -tags $(TAGS) -run '^$$' -fuzz "^$${f#*:}$$" -fuzztime $(FUZZTIME) ./$${f%%:*}/; \
	done

test-short: ## the edit-test loop: every test but the notebooks, browsers, multi-host and training children (go test -short)
	$(GO) test -tags $(TAGS) -short -timeout 10m ./...

notebooks: setup ## execute every notebooks/*.ipynb headless into build/notebooks/ (QUICK=1: short)
	@# Warm the build cache with the notebooks' tags so the first cell does not pay for it.
	$(GO) build -tags $(TAGS) ./...
	@mkdir -p $(NB_OUT)
	@set -e; found=0; for nb in notebooks/*.ipynb; do \
		[ -e "$$nb" ] || continue; found=1; \
		echo "notebooks: executing $$nb"; \
		$(if $(QUICK),AELAB_QUICK=1) $(JUPYTER) nbconvert --to notebook --execute \
			--ExecutePreprocessor.timeout=$(NB_TIMEOUT) --ExecutePreprocessor.kernel_name=gonb \
			--output-dir $(NB_OUT) "$$nb"; \
	done; \
	if [ $$found = 0 ]; then echo "notebooks: no notebooks/*.ipynb yet"; else echo "notebooks: ok, executed copies in $(NB_OUT)/"; fi

lab: setup ## start Jupyter (GoNB kernel) on LAB_IP:PORT, default 127.0.0.1:8888
	@echo "lab: Jupyter on http://$(LAB_IP):$(PORT)/tree (use the token URL Jupyter prints below; Ctrl-C stops it)"
	@# scripts/lab: a Notebook extension that shows gopls' help on Shift+Tab (GoNB sends it as Markdown only).
	JUPYTER_PATH=$(CURDIR)/scripts/lab$(if $(JUPYTER_PATH),:$(JUPYTER_PATH)) \
	JUPYTER_CONFIG_PATH=$(CURDIR)/scripts/lab$(if $(JUPYTER_CONFIG_PATH),:$(JUPYTER_CONFIG_PATH)) \
	$(JUPYTER) notebook --no-browser --ip=$(LAB_IP) --port=$(PORT) --port-retries=0 --allow-root --notebook-dir=$(LAB_DIR) $(LAB_FLAGS)

ui: build ## the web UI on UI_ADDR (default 127.0.0.1:5555) over the store (--db / AELAB_DB); Ctrl-C stops it
	$(BIN) ui --addr $(UI_ADDR) $(if $(UI_TOKEN_FILE),--token-file $(UI_TOKEN_FILE))

ui-assets: ## fetch the web UI's front-end assets again from npm (npm pack; digests in web/assets.txt)
	@bash scripts/ui-assets.sh

report: build ## write the comparison report of the stored runs into build/report/
	$(BIN) report --out $(REPORT_DIR)
	@echo "report: $(REPORT_DIR)/"

pg: build ## start a PostgreSQL store server of your own (aelab db start) and print the AELAB_DB to use
	$(BIN) db start

bench: build ## benchmark every model on the available backends
	$(BIN) bench --model all

# ROUNDS=N timed rounds per model (default 3: an epoch of aelab's, then one of PyTorch's, after a
# first epoch of each that is not timed); COURSE=1: the course's epochs (10, 50, 10), which gives
# the report's claims audit its PyTorch column; MODEL=vanilla|deep|denoise (default all).
bench-peer: setup build ## aelab and a PyTorch reference side by side, epochs interleaved: median s/epoch and ratio of the rounds, RSS, losses (installs Debian's python3-torch)
	@bash scripts/setup.sh --peer
	$(BIN) bench --peer pytorch --model $(or $(MODEL),all) $(if $(ROUNDS),--rounds $(ROUNDS)) $(if $(filter 1,$(COURSE)),--course)

# Is the PyTorch reference the fastest honest PyTorch? ROUNDS and MODEL as for bench-peer.
bench-peer-check: setup build ## the PyTorch reference against a plain PyTorch script of each model, each alone, alternately (installs python3-torch)
	@bash scripts/setup.sh --peer
	$(BIN) bench --check-peer --model $(or $(MODEL),all) $(if $(ROUNDS),--rounds $(ROUNDS))

# One prepared check for a GPU machine (scripts/gpu-check.sh: how to run it there); without a GPU it
# stops with one line; GPU_CHECK_BACKEND=onnx is a short dry run on the CPU.
gpu-check: ## aelab on XLA CUDA (device loop) beside PyTorch CUDA and JAX lax.scan: s/epoch, compile s, ratios
	@bash scripts/gpu-check.sh

docker-cpu: ## build the CPU image aelab:cpu (needs a Docker engine; CI does not build it)
	docker build -f docker/Dockerfile -t aelab:cpu .

docker-cuda: ## build the CUDA image aelab:cuda (needs a Docker engine; CI does not build it)
	docker build -f docker/Dockerfile.cuda -t aelab:cuda .

clean: ## remove bin/ and build/
	rm -rf bin build
