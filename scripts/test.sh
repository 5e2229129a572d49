#!/usr/bin/env bash
# The README's test command (npm test): fast unit tests, then call behaviour against real
# Asterisk with real SIP peers, then the pages in Debian's Chromium. Ends with one
# "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) != 0 ]]; then
  echo "rexian: the integration tests start Asterisk in a chroot and need root" >&2
  exit 1
fi
bash scripts/asterisk-chroot.sh >/dev/null || exit 1
bash scripts/services.sh ensure || exit 1

echo "rexian: typechecking" >&2
npx tsc --noEmit -p . || { echo "rexian: type errors (above)"; echo "0 passed, 1 failed"; exit 1; }
npx vue-tsc --noEmit -p web/tsconfig.json || { echo "rexian: type errors in web/ (above)"; echo "0 passed, 1 failed"; exit 1; }
echo "rexian: linting (npm run format fixes layout and import order)" >&2
npm run --silent lint || { echo "rexian: lint errors (above)"; echo "0 passed, 1 failed"; exit 1; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
if (($# == 0)); then set -- test/unit test/integration test/browser; fi
npx tap "$@" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
summary=$(grep -E '^# \{ total: ' "$out" | tail -1)
total=$(sed -nE 's/.*total: ([0-9]+).*/\1/p' <<<"$summary")
pass=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary")
fail=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
skip=$(sed -nE 's/.*skip: ([0-9]+).*/\1/p' <<<"$summary")
if [[ "${fail:-0}" != 0 ]]; then
  # CI keeps only the tail of the output: name what failed here, with tap's diagnostics.
  echo
  echo "rexian: what failed (first lines of each failure):"
  grep -E -A14 '^ *not ok ' "$out" | head -200
fi
echo
echo "${pass:-0} passed, ${fail:-0} failed${skip:+, $skip skipped}"
if [[ -z "$total" || "$total" == 0 ]]; then echo "rexian: no test ran" >&2; exit 1; fi
exit "$status"
