# gnet — every target installs what it needs first, so a fresh machine needs only `make test` or `make bench`.
PYTHON    ?= python3
VENV      ?= .venv
BIN       := $(VENV)/bin
ARTIFACTS ?= artifacts
WEIGHTS   ?= auto
PRECISION ?= fp16
RUNTIME   ?= auto
BATCH     ?= 64
MAX_BATCH ?= 256
FIXTURE   := $(ARTIFACTS)/fixture/googlenet_digits.pt
FIXTURE_FULL := $(ARTIFACTS)/fixture/googlenet_digits_224.pt
ONNX_fp32 := googlenet_fp32.onnx
ONNX_fp16 := googlenet_fp16.onnx
ONNX_int8 := googlenet_int8.qdq.onnx
# Serving (gnet serve, gnet triton-repo, gnet-bench --backend triton): the Triton server nvidia-pytriton bundles and
# tritonclient, installed --no-deps with tritonclient[http,grpc]'s runtime dependencies named here, so that pip never
# applies nvidia-pytriton's numpy<2 or tritonclient's protobuf<7 pins to the project (gnet never imports PyTriton).
PYTRITON_VERSION := 0.7.0
TRITONCLIENT_VERSION := 2.73.0
SERVE_DEPS := python-rapidjson 'urllib3>=2.0.7' 'geventhttpclient>=2.3.3' 'greenlet<3.4.0' 'grpcio>=1.81.1'

.PHONY: help install install-serve test fixture onnx engine bench cpp clean

help:
	@echo "make install | install-serve | test | fixture | onnx | engine PRECISION=fp32|fp16|int8 [BATCH=64 MAX_BATCH=256 RUNTIME=auto|tensorrt|tensorrt-rtx] | bench | cpp | clean"
	@echo "WEIGHTS=auto|imagenet|random|PATH (auto: ImageNet if cached or downloadable, else the fixture, else seeded)"

install: $(VENV)/.installed
	@$(MAKE) --no-print-directory install-serve || echo "warning: Triton serving was not installed (gnet serve says how); export, build and bench are unaffected"

# torch==2.14.1 / torchvision==0.29.1 are pinned in pyproject.toml; pip takes them from this machine's disk.
# The rtx extra is TensorRT-RTX (about 96 MB to download, 233 MB installed): it builds real engines without a GPU,
# so `make test` and CI run the real-TensorRT tests and `make engine` works on any machine.
# The openvino extra (59 MB wheel, 180 MB installed) gives gnet-bench its OpenVINO rows and `gnet openvino`, and
# with its C++ SDK the C++ library; the cpp extra is nlohmann/json's headers for it (docs/cpp.md).
# --no-compile: Python compiles what it imports on first use; compiling all of torch's and its CUDA libraries'
# files up front took a quarter of the install (docs/bench.md, "Time to the first answer").
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -e '.[dev,rtx,openvino,cpp]'
	@touch $@

# About 190 MB in the venv (the server and its libraries 145 MB) and 157 MB for the python backend's stub
# environment (numpy<2 and gnet's onnxruntime, in $(VENV)/triton-stub); needs the package index once.
install-serve: $(VENV)/.serve-installed
$(VENV)/.serve-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet $(SERVE_DEPS)
	$(BIN)/python -m pip install --quiet --no-deps nvidia-pytriton==$(PYTRITON_VERSION) tritonclient==$(TRITONCLIENT_VERSION)
	$(BIN)/gnet triton-stub-env
	@touch $@

# The trained networks: right at 64 px (what the tests measure) and, fine-tuned, at 224 px (what the offline bench
# measures); seeded, cached, each written atomically. The 224-px one makes whichever is missing in one process.
fixture: $(FIXTURE_FULL)
$(FIXTURE): | $(VENV)/.installed
	$(BIN)/gnet fixture --tests-only -o $(FIXTURE)
$(FIXTURE_FULL): | $(VENV)/.installed
	$(BIN)/gnet fixture -o $(FIXTURE)

test: install install-serve $(FIXTURE)
	$(BIN)/python -m pytest

onnx: install
	$(BIN)/gnet export --weights $(WEIGHTS) -o $(ARTIFACTS)/$(ONNX_fp32)

# export → the precision's ONNX → engine. RUNTIME=auto: data-centre TensorRT if installed (it needs its GPU), else
# TensorRT-RTX, which `make install` installs and which builds without a GPU (googlenet_<p>.rtx.plan + .rtx.json).
engine: install
	@test -n "$(ONNX_$(PRECISION))" || { echo "PRECISION must be fp32, fp16 or int8"; exit 2; }
	$(BIN)/gnet export --weights $(WEIGHTS) --precision $(PRECISION) -o $(ARTIFACTS)/$(ONNX_$(PRECISION))
	$(BIN)/gnet build $(ARTIFACTS)/$(ONNX_$(PRECISION)) --runtime $(RUNTIME) --min-batch 1 --opt-batch $(BATCH) --max-batch $(MAX_BATCH)

# Serving is opt-in in gnet-bench (--backend triton), so the main job does not wait for its install.
bench: $(VENV)/.installed $(FIXTURE_FULL)
	$(BIN)/gnet-bench --batch $(BATCH)

# The C++ library and gnet-infer (docs/cpp.md) in build/cpp, against the venv's OpenVINO and nlohmann/json, with the
# TensorRT runner where TensorRT's headers are found. `make test` builds the same folder (tests/cpp/).
TENSORRT_ROOT ?= $(wildcard ../shared/third_party/tensorrt)
cpp: $(VENV)/.installed
	cmake -S cpp -B build/cpp $(if $(wildcard build/cpp/CMakeCache.txt),,-G Ninja) \
	  -DOpenVINO_DIR="$$($(BIN)/python -c 'import openvino.utils as u; print(u.get_cmake_path())')" \
	  -DGNET_NLOHMANN_INCLUDE_DIR="$$($(BIN)/python -c 'import nlohmann_json as n; print(n.get_include())')" \
	  $(if $(TENSORRT_ROOT),-DTensorRT_ROOT=$(abspath $(TENSORRT_ROOT)))
	cmake --build build/cpp

clean:
	rm -rf $(ARTIFACTS) build *.egg-info .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
