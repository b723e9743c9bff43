#!/usr/bin/env bash
# Builds the local link's addon (native/shm.c: mmap and a stderr switch for Node) with the system's C
# compiler against the running Node's own N-API headers: offline, no node-gyp, no downloads.
# Idempotent: a built addon that loads is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
out=native/build/tfbridge_shm.node

loads() {
  node -e 'require(process.argv[1])' "$PWD/$out" >/dev/null 2>&1
}

if [ -f "$out" ] && [ "$out" -nt native/shm.c ] && loads; then
  exit 0
fi
# Node's headers: npm_config_nodedir if set (as node-gyp reads it), else next to this node binary.
nodedir=${npm_config_nodedir:-$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")}
include=$nodedir/include/node
[ -f "$include/node_api.h" ] || { echo "no node_api.h in $include: install Node's headers (Debian: libnode-dev) or set npm_config_nodedir" >&2; exit 1; }
mkdir -p native/build
${CC:-cc} -O2 -Wall -Wextra -Werror -shared -fPIC -I"$include" -o "$out.tmp" native/shm.c
mv "$out.tmp" "$out"
loads || { echo "$out was built but does not load" >&2; exit 1; }
echo "local link addon ready: $out"
