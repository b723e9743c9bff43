#!/usr/bin/env bash
# The converter comparison for docs/migration.md: tensorflowjs_converter's paths on the seven
# reference models, loaded in Node with stock @tensorflow/tfjs-node. Not part of `make test`.
#   scripts/converter-comparison/run.sh [WORKDIR]     (default scripts/converter-comparison/out)
# Needs `make setup` done (node_modules with tfjs-node's addon); makes .venv-converter itself.
# Writes scripts/converter-comparison/results.json and docs/migration-converter-table.md; the
# converted models and logs stay in WORKDIR (gitignored by default).
set -euo pipefail
cd "$(dirname "$0")/../.."
here=scripts/converter-comparison
work=${1:-$here/out}
py=.venv-converter/bin/python

$here/setup.sh
rm -rf "$work"
mkdir -p "$work"
export TF_CPP_MIN_LOG_LEVEL=3
$py test/convert/make_models.py "$work"
$py $here/convert_all.py "$work" > "$work/convert.log" 2>&1 ||
  { tail -20 "$work/convert.log" >&2; exit 1; }
node $here/compare.mjs "$work" $here/results.json 2> "$work/node.log" ||
  { tail -20 "$work/node.log" >&2; exit 1; }
python3 $here/table.py $here/results.json > docs/migration-converter-table.md
echo "wrote $here/results.json and docs/migration-converter-table.md (logs in $work)"
