#!/usr/bin/env bash
# Conformance regression: runs ../shared/tools/sv-check against the built binary and
# fails if a test listed in sv-expected-pass.txt no longer passes. Skips (exit 0, with a
# message) when the shared corpus is not beside the clone.
set -euo pipefail
cd "$(dirname "$0")/../.."
SV=../shared/tools/sv-check
TESTS=../shared/corpus/suricata-verify/tests
if [ ! -x "$SV" ] || [ ! -d "$TESTS" ]; then
  echo "sv-check: shared corpus not found beside the clone; conformance check skipped"
  exit 0
fi
BIN=${GATEWATCH_BIN:-${CARGO_TARGET_DIR:-target}/debug/gatewatch}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
python3 "$SV" --tests "$TESTS" --engine "$BIN replay {pcap} --rules {rules} --eve {eve} {args}" > "$out" || true
tail -1 "$out"
missing=0
while read -r name; do
  [ -z "$name" ] && continue
  if ! grep -qE "^PASS +(.*/)?${name}\$" "$out"; then
    echo "sv-check regression: $name no longer passes: $(grep " $name" "$out" || echo 'not run')"
    missing=1
  fi
done < tests/conformance/sv-expected-pass.txt
exit $missing
