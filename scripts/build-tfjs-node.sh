#!/usr/bin/env bash
# Builds @tensorflow/tfjs-node's native addon offline, against the TensorFlow C library that the
# project's own venv already holds (the tensorflow-cpu wheel). The package's installer would download
# libtensorflow from the web, which is not reachable here; so we stage the wheel's libraries and the
# handful of C API headers where binding.gyp looks for them, and build only N-API v8 with Node's own
# headers. Idempotent: a built addon that loads is left alone.
set -euo pipefail

venv_python=${1:?usage: build-tfjs-node.sh VENV_PYTHON}
pkg=node_modules/@tensorflow/tfjs-node
addon=$pkg/lib/napi-v8/tfjs_binding.node

tf_dir=$("$venv_python" -c 'import os, importlib.util as u; print(os.path.dirname(u.find_spec("tensorflow").origin))')
[ -f "$tf_dir/libtensorflow_cc.so.2" ] || { echo "no libtensorflow_cc.so.2 in $tf_dir" >&2; exit 1; }

stage() {
  local lib=$pkg/deps/lib inc=$pkg/deps/include
  mkdir -p "$lib"
  # Relative symlinks: node_modules and .venv both live in the project, so the pair can move together.
  local rel
  rel=$(realpath --relative-to="$lib" "$tf_dir")
  ln -sfn "$rel/libtensorflow_cc.so.2" "$lib/libtensorflow_cc.so.2"
  ln -sfn "$rel/libtensorflow_framework.so.2" "$lib/libtensorflow_framework.so.2"
  ln -sfn libtensorflow_cc.so.2 "$lib/libtensorflow.so"
  ln -sfn libtensorflow_framework.so.2 "$lib/libtensorflow_framework.so"
  # scripts/install.js skips its download when this file exists.
  ln -sfn libtensorflow_cc.so.2 "$lib/libtensorflow.so.2.9.1"
  local h
  for h in tensorflow/c/c_api.h tensorflow/c/c_api_macros.h tensorflow/c/tf_attrtype.h \
           tensorflow/c/tf_buffer.h tensorflow/c/tf_datatype.h tensorflow/c/tf_status.h \
           tensorflow/c/tf_tensor.h tensorflow/c/tf_tstring.h tensorflow/c/eager/c_api.h \
           tensorflow/core/platform/ctstring.h tensorflow/core/platform/ctstring_internal.h \
           tsl/platform/ctstring.h tsl/platform/ctstring_internal.h xla/tsl/c/tsl_status.h; do
    mkdir -p "$inc/$(dirname "$h")"
    cp "$tf_dir/include/$h" "$inc/$h"
  done
}

loads() {
  node -e 'require("@tensorflow/tfjs-node")' >/dev/null 2>&1
}

if [ -f "$addon" ] && loads; then
  exit 0
fi
stage
echo "building tfjs-node's addon against $tf_dir"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
npm_config_nodedir=${npm_config_nodedir:-/usr} npm_config_build_from_source=true JOBS=${JOBS:-2} \
  npm rebuild @tensorflow/tfjs-node --foreground-scripts >"$log" 2>&1 \
  || { tail -40 "$log" >&2; exit 1; }
loads || { echo "tfjs-node addon built but does not load" >&2; exit 1; }
echo "tfjs-node addon ready: $addon"
