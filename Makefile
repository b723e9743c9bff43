# One entry point for set-up, the demo, tests and benchmarks. Every target sets up what it needs first;
# stamps make a second `make setup` a no-op.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
NODE_STAMP := node_modules/.tfbridge-installed
VENV_STAMP := $(VENV)/.tfbridge-installed
ONNX_STAMP := $(VENV)/.tfbridge-onnx-installed
TFJS_ADDON := node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node
SHM_ADDON := native/build/tfbridge_shm.node
BUILD_STAMP := dist/.tfbridge-built
# Bench-only Python packages (FastAPI, uvicorn) live in a venv of their own that reads TensorFlow from
# .venv through a .pth file: .venv stays exactly what python/requirements.txt makes it.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.tfbridge-installed
TS_SOURCES := $(shell find src -name '*.ts') tsconfig.json tsconfig.build.json package.json

.PHONY: setup demo test test-ts test-py test-long test-applications bench sweep build docs clean chromium wrk

setup: $(VENV_STAMP) $(ONNX_STAMP) $(NODE_STAMP) $(TFJS_ADDON) $(SHM_ADDON) $(BUILD_STAMP) chromium

# scripts/step.sh names each step, says every 15 s that it is still running, and times it.
STEP := bash scripts/step.sh

$(VENV_STAMP): python/requirements.txt
	test -x $(VPY) || $(STEP) "creating $(VENV) with $(PYTHON)" $(PYTHON) -m venv $(VENV)
	$(STEP) "pip: installing python/requirements.txt (TensorFlow is about 250 MB)" \
	  $(VPY) -m pip install --quiet --disable-pip-version-check -r python/requirements.txt
	touch $@

# The optional ONNX tools (tf2onnx, onnx) for `convert --to onnx`: a user's env gets them only from
# `tfbridge setup --onnx`; the clone's .venv always has them, so make test covers ONNX.
$(ONNX_STAMP): python/requirements-onnx.txt $(VENV_STAMP)
	$(STEP) "pip: installing python/requirements-onnx.txt (tf2onnx, onnx)" \
	  $(VPY) -m pip install --quiet --disable-pip-version-check -r python/requirements-onnx.txt
	touch $@

# --ignore-scripts: tfjs-node's install script downloads libtensorflow from the web; the addon is
# built from the venv's TensorFlow instead (scripts/build-tfjs-node.sh). zeromq ships prebuilt addons;
# onnxruntime-node's postinstall would download CUDA libraries, its CPU binaries ship in the package.
$(NODE_STAMP): package.json package-lock.json
	$(STEP) "npm ci" npm ci --ignore-scripts --no-audit --no-fund
	touch $@

$(TFJS_ADDON): $(NODE_STAMP) $(VENV_STAMP) scripts/build-tfjs-node.sh
	$(STEP) "building tfjs-node's addon against $(VENV)'s TensorFlow" bash scripts/build-tfjs-node.sh $(VPY)
	touch $@

# The local link's mmap addon: one C file, compiled against Node's own headers, offline.
$(SHM_ADDON): native/shm.c scripts/build-shm-addon.sh
	$(STEP) "building the local link's shared-memory addon" bash scripts/build-shm-addon.sh

$(BUILD_STAMP): $(NODE_STAMP) $(TS_SOURCES)
	$(STEP) "compiling TypeScript to dist/" npx tsc -p tsconfig.build.json
	touch $@

build: $(BUILD_STAMP)

# The browser tests drive Debian's chromium (nothing is downloaded at run time): installed here when
# root, as on CI; otherwise say how. TFBRIDGE_CHROMIUM points the tests at another Chromium binary.
CHROMIUM ?= $(or $(TFBRIDGE_CHROMIUM),/usr/bin/chromium)
# A Debian package the tests or the bench need ($(1): package, $(2): the command it brings, $(3): what
# for, $(4): another way, if any): installed by apt-get when root, otherwise a note saying how.
define debian_package
	@if command -v $(2) >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  $(STEP) "apt-get: installing $(1) for $(3)" \
	    sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(1) >/dev/null || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(1) >/dev/null; }'; \
	else echo "note: $(3) need $(1): sudo apt-get install $(1)$(4)"; fi
endef

chromium:
	$(call debian_package,chromium,$(CHROMIUM),the browser tests, (or set TFBRIDGE_CHROMIUM=/path/to/chrome))

# wrk loads the HTTP contenders of make bench's serving section (bench/wrk.ts).
wrk:
	$(call debian_package,wrk,wrk,the serving benchmark's HTTP rows)

$(BENCH_STAMP): bench/requirements.txt $(VENV_STAMP)
	test -x $(BENCH_VENV)/bin/python || $(STEP) "creating $(BENCH_VENV)" $(VPY) -m venv $(BENCH_VENV)
	$(VPY) -c 'import site; print(site.getsitepackages()[0])' > "$$($(BENCH_VENV)/bin/python -c 'import site; print(site.getsitepackages()[0])')/tfbridge-main-venv.pth"
	$(STEP) "pip: installing bench/requirements.txt into $(BENCH_VENV)" \
	  $(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $@

demo: setup
	node dist/cli/main.js demo

# Set-up steps that do not need each other (pip, npm ci, apt's chromium) run side by side; then both
# suites at once (scripts/test-suites.sh), which fails if either does.
test:
	$(MAKE) -j2 setup
	bash scripts/test-suites.sh $(VPY)

test-ts: setup
	npx vitest run

test-py: setup
	$(VPY) -m pytest -q python/tests

# The slow cases make test leaves out to keep within its 20-minute budget (test/long): install from the
# packed tarball with `tfbridge setup` into a fresh project, the browsers over the reference models
# make test does not run and MobileNetV2, the ONNX sweep. Run before an issue is resolved.
test-long: setup
	npx vitest run --config vitest.long.config.ts

# Keras Applications (weights=None, small inputs) and the model sweep's models through bridge.loadModel
# against Keras's own predict:
# minutes on 2 cores, so not part of `make test` (vitest.config.ts leaves test/applications out).
test-applications: setup
	npx vitest run --config vitest.applications.config.ts

# The API reference of the five entry points (typedoc.json) in docs/api/, which git ignores. Any warning
# is an error; test/docs/typedoc.test.ts builds it the same way, so make test checks it.
docs: $(NODE_STAMP)
	npx typedoc

# QUICK=1: fewer sizes and repetitions (about a minute). APPLICATIONS=1: also the Keras Applications in
# the Session and as converted files on tfjs-node, the JS CPU backend and WASM (bench/applications.ts). BASE: the commit whose engine runs the
# pipelined case beside this one in the same run (bench/base.ts); 9be9835 is the engine before issue 19.
BASE ?= 9be9835
bench: setup $(BENCH_STAMP) wrk
	node --import tsx bench/run.ts $(if $(QUICK),--quick) $(if $(BASE),--base $(BASE)) $(if $(APPLICATIONS),--applications)

# The long runs behind docs/parity.md's claims (not part of make test): all 64 LSTM
# specs, then the model sweep over 300 random architectures, writing the layer table to
# sweep/layer-table.md (docs/parity.md's table) and the whole summary to sweep/model-sweep.json;
# then the same models through tf2onnx on ONNX Runtime (docs/onnx.md's table: sweep/onnx-layer-table.md).
sweep: setup
	node dist/cli/main.js parity sweep --lstm
	mkdir -p sweep
	node dist/cli/main.js parity sweep --count 300 --markdown sweep/layer-table.md --json > sweep/model-sweep.json
	node dist/cli/main.js parity sweep --runtime onnx --count 300 --markdown sweep/onnx-layer-table.md --json > sweep/onnx-sweep.json

clean:
	rm -rf dist node_modules native/build $(VENV) $(BENCH_VENV)
