#!/usr/bin/env bash
# Creates .venv-converter (gitignored) with tensorflowjs_converter 4.22.0 next to TensorFlow 2.21 and
# both Kerases, from requirements.txt with --no-deps, plus the tensorflow_decision_forests stub.
# Leaves the project's .venv alone. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=.venv-converter
[ -x $venv/bin/python ] || python3 -m venv $venv
$venv/bin/pip install -q --disable-pip-version-check --no-deps \
  -r scripts/converter-comparison/requirements.txt

# tensorflowjs 4.22.0 imports tensorflow_decision_forests at load time (tf_saved_model_conversion_v2)
# and uses it only for decision-forest ops; every real release of it pins TensorFlow <= 2.19.
site=$($venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
mkdir -p "$site/tensorflow_decision_forests"
echo '"""Empty stand-in for tensorflow-decision-forests (see scripts/converter-comparison)."""' \
  > "$site/tensorflow_decision_forests/__init__.py"
