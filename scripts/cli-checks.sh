#!/usr/bin/env bash
# End-to-end checks of the ismkit command line: exit codes and one-line errors for bad input,
# a finding on a mutant, a clean run on the correct simulator, replay determinism.
# Usage: scripts/cli-checks.sh path/to/ismkit
set -uo pipefail
ismkit=${1:?usage: scripts/cli-checks.sh ISMKIT}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

check() { # check NAME WANT_EXIT -- ARGS...
  local name=$1 want=$2; shift 3
  "$ismkit" "$@" >"$work/out" 2>"$work/err"
  local got=$?
  local lines; lines=$(wc -l <"$work/err")
  if [ "$got" -ne "$want" ]; then
    echo "FAIL $name: exit $got, expected $want"; sed 's/^/    /' "$work/err" | head -5; failed=$((failed+1)); return
  fi
  if [ "$want" -eq 2 ] && { [ "$lines" -ne 1 ] || ! grep -q '^ismkit: ' "$work/err"; }; then
    echo "FAIL $name: expected one 'ismkit: ...' line on stderr, got $lines"; head -5 "$work/err"; failed=$((failed+1)); return
  fi
  if grep -qiE 'fatal error|stack trace|backtrace|Current stack' "$work/err"; then
    echo "FAIL $name: crashed"; failed=$((failed+1)); return
  fi
  echo "ok   $name (exit $got)"; passed=$((passed+1))
}

printf 'not json' >"$work/bad.json"
printf '{"format":"ismkit-reproducer","version":1}' >"$work/partial.json"
check "missing reproducer"        2 -- replay "$work/nope.json"
check "malformed reproducer"      2 -- replay "$work/bad.json"
check "incomplete reproducer"     2 -- replay "$work/partial.json"
check "unknown mutant"            2 -- run --mutant no-such-mutant --operations 10
check "negative count"            2 -- run --operations -5
check "non-numeric count"         2 -- run --seconds abc
check "zero seconds"              2 -- run --seconds 0
check "unknown flag"              2 -- run --no-such-flag
check "unknown command"           2 -- frobnicate
check "both budgets"              2 -- run --seconds 1 --operations 5
check "help"                      0 -- --help
check "rules"                     0 -- rules
check "correct simulator"         0 -- run --operations 200000 --quiet --output "$work/r"
check "mutant found"              1 -- run --operations 200000 --mutant read-copies-u64-prefix --byte-order big --quiet --output "$work/r"
repro=$(ls "$work"/r/*.json 2>/dev/null | head -1)
if [ -n "$repro" ]; then
  check "replay reproduces (1)"   1 -- replay "$repro"
  cp "$work/out" "$work/replay1"
  check "replay reproduces (2)"   1 -- replay "$repro"
  if cmp -s "$work/out" "$work/replay1"; then echo "ok   replay output identical twice"; passed=$((passed+1));
  else echo "FAIL replay output differs between runs"; failed=$((failed+1)); fi
else
  echo "FAIL no reproducer written"; failed=$((failed+1))
fi
check "mutant kill table"         0 -- mutants --seed 1 --operations 100000 --junit "$work/mutants.xml"
check "JUnit report of a finding"  1 -- run --operations 20000 --mutant no-clamp --quiet --output "$work/j" --junit "$work/run.xml"
if python3 - "$work/mutants.xml" "$work/run.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
m = ET.parse(sys.argv[1]).getroot(); r = ET.parse(sys.argv[2]).getroot()
assert int(m.get("tests")) >= 30 and m.get("failures") == "0", "mutants.xml"
assert r.get("failures") == "1" and "R-BAR-3" in r.find(".//failure").get("message"), "run.xml"
PY
then echo "ok   JUnit reports parse and say what was found"; passed=$((passed+1))
else echo "FAIL JUnit reports"; failed=$((failed+1)); fi
echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
