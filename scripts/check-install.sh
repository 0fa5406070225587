#!/usr/bin/env bash
# Install lstm as a user would, and use it from a folder that is not this clone: pack the
# tarball (prepack builds dist/), install it globally into a temporary prefix, and from an
# empty folder run --version, train, sample, info and inspect-gradients, checking exit codes
# and output. Any failure prints what the command said and exits non-zero.
#
#   bash scripts/check-install.sh        (needs the npm registry for the dependencies)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "check-install: FAILED: $*" >&2; exit 1; }

# 1) The tarball: dist/ and the bundled corpus in, tests, CI and the developer tools (tools/) out.
npm pack --pack-destination "$work" >"$work/pack.log" 2>&1 || { cat "$work/pack.log" >&2; fail "npm pack"; }
tgz=$(ls "$work"/lstm-*.tgz)
tar -tzf "$tgz" > "$work/contents"
for f in package/dist/cli/main.js package/dist/index.js package/dist/index.d.ts package/dist/browser.js package/dist/browser.d.ts package/dist/lstm.browser.js package/dist/studio/index.html package/dist/studio/studio.js package/dist/studio/worker.js package/dist/studio/studio.css package/dist/studio/default.txt package/bin/lstm.js package/corpora/default.txt package/LICENSE package/README.md; do
  grep -qx "$f" "$work/contents" || fail "the tarball lacks $f"
done
if grep -E '^package/(test|\.ci|src|tools)/|^package/dist/(bench|corpus)/' "$work/contents"; then fail "the tarball ships the files above, which a user does not need"; fi
# The native kernels, prebuilt at pack time for this platform (prepack: build-native --require).
native="package/prebuilds/$(node -p 'process.platform + "-" + process.arch')/lstm.node"
grep -qx "$native" "$work/contents" || fail "the tarball lacks $native"
if grep -E '^package/(build|node_modules)/' "$work/contents"; then fail "the tarball ships build output it should not"; fi
echo "check-install: $(basename "$tgz"): $(wc -l < "$work/contents") files, $(du -k "$tgz" | cut -f1) KB"

# 2) A global install into a prefix of our own, with no compiler on the PATH (nothing but node
#    and npm): the tarball carries dist/ and the native binary; nothing is built at install.
mkdir "$work/nocc"
ln -s "$(command -v node)" "$work/nocc/node"
ln -s "$(command -v npm)" "$work/nocc/npm"
PATH="$work/nocc" npm install -g "$tgz" --prefix "$work/prefix" --no-audit --no-fund >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; fail "npm install -g (no compiler on the PATH)"; }
lstm="$work/prefix/bin/lstm"
[ -x "$lstm" ] || fail "no $lstm after the install"

# 3) From an empty folder, with no checkpoint folder set.
mkdir "$work/elsewhere"
cd "$work/elsewhere"
unset LSTM_CHECKPOINTS
export NO_COLOR=1

# run NAME PATTERN CMD...: CMD must exit 0 and its output (stdout and stderr) match PATTERN.
run() {
  local name=$1 pattern=$2; shift 2
  local out code=0
  out=$("$@" 2>&1) || code=$?
  if [ "$code" -ne 0 ]; then printf '%s\n' "$out" >&2; fail "$name exited $code"; fi
  if ! printf '%s\n' "$out" | grep -Eq -- "$pattern"; then printf '%s\n' "$out" >&2; fail "$name: no line matching /$pattern/"; fi
  echo "check-install: ok: $name"
}

version=$(node -p "require('$repo/package.json').version")
run 'lstm --version' "^$version\$" "$lstm" --version
run 'lstm train --steps 5 --hidden 16' 'Trained to step 5' "$lstm" train --steps 5 --hidden 16
# the prebuilt native kernels load from the installed package, with no compiler on the PATH
run 'lstm train on the prebuilt native kernels (no compiler on the PATH)' 'on native-' env PATH="$work/nocc" "$lstm" train --steps 2 --hidden 8 --out native.json
ls checkpoints/default-lstm-1x16-*.json >/dev/null 2>&1 || fail "train wrote no checkpoints/default-lstm-1x16-*.json here"
run 'lstm sample' '.' "$lstm" sample --length 200
run 'lstm info' '1×16 lstm' "$lstm" info
run 'lstm info: the native kernels' 'kernels +native ' "$lstm" info
run 'lstm inspect-gradients' 'lstm-nofg' "$lstm" inspect-gradients

# 4) The checkpoint folder from the environment: train writes there, sample finds it from elsewhere.
mkdir "$work/other"
LSTM_CHECKPOINTS="$work/store" run 'LSTM_CHECKPOINTS=DIR lstm train' 'Trained to step 3' "$lstm" train --steps 3 --hidden 8
ls "$work"/store/default-lstm-1x8-*.json >/dev/null 2>&1 || fail "train did not write to \$LSTM_CHECKPOINTS"
cd "$work/other"
LSTM_CHECKPOINTS="$work/store" run 'LSTM_CHECKPOINTS=DIR lstm info (elsewhere)' '1×8 lstm' "$lstm" info
run 'lstm sample --checkpoint-dir DIR (elsewhere)' '.' "$lstm" sample --checkpoint-dir "$work/store" --length 50

# 5) The studio from the installed package: written as static files, and served (the page and
#    its worker over HTTP, cross-origin isolated).
cd "$work/elsewhere"
run 'lstm studio --out site' '.' "$lstm" studio --out site
for f in index.html studio.js worker.js studio.css data/manifest.json; do [ -s "site/$f" ] || fail "lstm studio --out wrote no site/$f"; done
"$lstm" studio --port 0 >"$work/studio.out" 2>"$work/studio.err" &
studio_pid=$!
url=
for _ in $(seq 1 100); do
  url=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+/' "$work/studio.out" || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { kill "$studio_pid" 2>/dev/null; cat "$work/studio.err" >&2; fail "lstm studio printed no URL"; }
node -e '
  const url = process.argv[1];
  const page = await fetch(url);
  const worker = await fetch(new URL("worker.js", url));
  if (page.status !== 200 || !(await page.text()).includes("studio.js")) throw new Error(`the page: ${page.status}`);
  if (worker.status !== 200 || page.headers.get("cross-origin-embedder-policy") !== "require-corp") throw new Error("the worker or the isolation headers");
' --input-type=module "$url" || { kill "$studio_pid" 2>/dev/null; fail "lstm studio did not serve its page at $url"; }
kill -INT "$studio_pid"
wait "$studio_pid" || fail "lstm studio did not exit 0 on Ctrl-C"
echo "check-install: ok: lstm studio (served at $url, stopped by Ctrl-C)"
echo "check-install: the installed package works from any folder"
