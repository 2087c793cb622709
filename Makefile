# gnet — every target installs what it needs first, so a fresh machine needs only `make test` or `make bench`.
PYTHON    ?= python3
VENV      ?= .venv
BIN       := $(VENV)/bin
ARTIFACTS ?= artifacts
WEIGHTS   ?= imagenet
PRECISION ?= fp16
BATCH     ?= 64
MAX_BATCH ?= 256

.PHONY: help install test onnx clean

help:
	@echo "make install | test | onnx [WEIGHTS=imagenet|random|PATH] | clean"

install: $(VENV)/.installed

# torch==2.14.1 / torchvision==0.29.1 are pinned in pyproject.toml; pip takes them from this machine's disk.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

test: install
	$(BIN)/python -m pytest

onnx: install
	$(BIN)/gnet export --weights $(WEIGHTS) -o $(ARTIFACTS)/googlenet_fp32.onnx

clean:
	rm -rf $(ARTIFACTS) build *.egg-info .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
