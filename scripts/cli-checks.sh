#!/usr/bin/env bash
# End-to-end checks of the ismkit command line: exit codes and one-line errors for bad input,
# a finding on a mutant, a clean run on the correct simulator, replay determinism.
# Usage: scripts/cli-checks.sh path/to/ismkit [SHARED]
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
# ismkit hw through an agent: each bad agent is one line, exit 2 (scripted agents: a greeting, then
# DEVICE and REGIONS answered, then what each case needs).
greet="echo 'ISMKIT-WIRE 1 little 16 vfio-agent'; read a; echo 'OK 0 1af4.1110.9.2 -'; read b; echo 'OK 2 0.0.256.3,2.131072.16384.3 -'"
check "agent: unreachable command"          2 -- hw --quiet --agent "/nonexistent/ismkit-agent 0000:00:01.0"
check "agent: unreachable socket"           2 -- hw --quiet --connect "unix:$work/no.sock"
check "agent: another protocol version"     2 -- hw --quiet --agent "echo 'ISMKIT-WIRE 2 little 0 vfio-agent'; cat >/dev/null"
check "agent: a malformed reply"            2 -- hw --quiet --operations 20 --agent "$greet; read c; echo 'what?'; cat >/dev/null"
check "agent: dies mid-run"                 2 -- hw --quiet --operations 20 --agent "$greet; read c; exit 0"
check "agent: malformed compact answer"     2 -- hw --timeout 3 --quiet --operations 20 --agent "$greet; read c; echo 'OK 1 - -'; read d; echo 'OK 0 - -'; read e; echo 'OK 1 - -'; printf '\\007'; cat >/dev/null"
check "agent: silent (time-out)"            2 -- hw --quiet --timeout 0.5 --agent "sleep 30"
# Nothing is left running: the command's whole process group goes, a grandchild included.
check "agent: leaves nothing running"       2 -- hw --quiet --agent "sleep 300 & echo \$! > '$work/pid'; echo garbage"
gone() { ! kill -0 "$1" 2>/dev/null || grep -q ') Z ' "/proc/$1/stat" 2>/dev/null; }  # exited (a zombie nobody reaped counts)
if [ -s "$work/pid" ] && gone "$(cat "$work/pid")"; then echo "ok   agent: its grandchild is gone"; passed=$((passed+1));
else echo "FAIL agent: a process of the agent command is still running"; failed=$((failed+1)); fi
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
  check "replay --driver-source of a simulator reproducer" 2 -- replay "$repro" --driver-source "$work/nope.c"
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
# Numbers out of range, paths checked before any work, strict reproducer files, not-a-driver.
shared=${2:-../shared}
check "seconds too large"         2 -- run --seconds 1e20
check "negative seconds"          2 -- run --seconds -1
if grep -q "Missing value" "$work/err"; then echo "FAIL negative seconds: read as a missing value"; failed=$((failed+1)); fi
check "sequence length too large" 2 -- run --sequence-length 1000000000 --operations 10
check "time-out too large"        2 -- conform --driver-source "$shared/kernel/merged/main.c" --timeout 1e300
check "unwritable JSON report"    2 -- run --operations 10 --json /nonexistent-folder/r.json
check "report path is a folder"   2 -- run --operations 10 --sarif "$work"
check "unwritable --output"       2 -- run --operations 10 --output /proc/ismkit-cannot-write-here
start=$(date +%s%N)
check "unwritable --junit, before the run" 2 -- run --seconds 30 --junit /proc/r.xml
if [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 3000 ]; then echo "ok   a bad report path is refused before the run"; passed=$((passed+1));
else echo "FAIL a bad report path was noticed only after the run"; failed=$((failed+1)); fi
python3 - "$repro" "$work" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
bad = json.loads(json.dumps(r)); bad["operations"][0]["faul"] = "allocation"
json.dump(bad, open(sys.argv[2] + "/unknown-key.json", "w"))
big = json.loads(json.dumps(r)); big["device"]["barLengths"][0] = 2**63
json.dump(big, open(sys.argv[2] + "/huge-bar.json", "w"))
cfg = json.loads(json.dumps(r)); cfg["device"]["configSize"] = 0
json.dump(cfg, open(sys.argv[2] + "/config-0.json", "w"))
PY
check "reproducer with an unknown key" 2 -- replay "$work/unknown-key.json"
grep -q 'operations\[0\].faul' "$work/err" || { echo "FAIL the unknown key's path is not named"; failed=$((failed+1)); }
check "reproducer with a 2^63-byte BAR" 2 -- replay "$work/huge-bar.json"
check "reproducer with config size 0"  2 -- replay "$work/config-0.json"
: > "$work/empty.c"
check "an empty main.c is not a driver" 2 -- conform --driver-source "$work/empty.c"
grep -q "no vfio_device_ops / pci_driver found" "$work/err" || { echo "FAIL empty main.c: not said to be no driver"; failed=$((failed+1)); }
"$ismkit" repro --emit-c "$repro" > /dev/full 2>"$work/err"; got=$?
if [ "$got" -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ]; then echo "ok   a full standard output is an error (exit 2)"; passed=$((passed+1));
else echo "FAIL repro --emit-c > /dev/full: exit $got"; cat "$work/err"; failed=$((failed+1)); fi
# --seconds holds to within a second (the build of the harness is cached by the checks above).
"$ismkit" conform --driver-source "$shared/kernel/merged/main.c" --byte-order little --operations 10 --quiet --output "$work/c" >/dev/null 2>&1
for cmd in "run --seconds 2 --quiet --output $work/t" "conform --driver-source $shared/kernel/merged/main.c --byte-order both --seconds 3 --quiet --output $work/t"; do
  want=$(echo "$cmd" | sed -E 's/.*--seconds ([0-9]+).*/\1/')
  start=$(date +%s%N); "$ismkit" $cmd >/dev/null 2>&1; ms=$(( ($(date +%s%N) - start) / 1000000 ))
  if [ "$ms" -le $(( want * 1000 + 1000 )) ]; then echo "ok   ${cmd%% *} --seconds $want took ${ms} ms"; passed=$((passed+1));
  else echo "FAIL ${cmd%% *} --seconds $want took ${ms} ms"; failed=$((failed+1)); fi
done
# ... also when the driver hangs (a call gives up when the box is over; the check is reported as not made).
python3 - "$shared" "$work" <<'PY'
import sys
src = open(sys.argv[1] + "/kernel/merged/main.c").read()
open(sys.argv[2] + "/hang.c", "w").write(src.replace(" if (count > zdev->maxstbl)", " while (READ_ONCE(zdev->maxstbl)) ; if (count > zdev->maxstbl)"))
PY
"$ismkit" conform --driver-source "$work/hang.c" --byte-order little --operations 1 --no-lifecycle --quiet --output "$work/h" --timeout 1 >/dev/null 2>&1
start=$(date +%s%N)
"$ismkit" conform --driver-source "$work/hang.c" --byte-order little --seconds 3 --timeout 30 --quiet --output "$work/h" >"$work/out" 2>&1
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$ms" -le 4000 ] && grep -q "verdict: inconclusive" "$work/out"; then echo "ok   conform of a hanging driver --seconds 3 took ${ms} ms, inconclusive"; passed=$((passed+1));
else echo "FAIL conform of a hanging driver --seconds 3 took ${ms} ms: $(tail -1 "$work/out")"; failed=$((failed+1)); fi
# --jobs / --shard (docs/parallel.md): bad values are one line and exit 2; a finding in a worker is exit 1.
check "--jobs 0"                  2 -- run --jobs 0 --operations 10
check "--jobs too many"           2 -- run --jobs 65 --operations 10
check "--jobs not a number"       2 -- mutants --jobs x
check "--shard beyond its count"  2 -- run --shard 3/2 --operations 10
check "--shard not I/N"           2 -- run --shard x --operations 10
check "--shard 0/2"               2 -- conform --driver-source "$shared/kernel/merged/main.c" --shard 0/2
check "--slice-operations 0"      2 -- run --slice-operations 0 --operations 10
check "--jobs 2, clean"           0 -- run --operations 4000 --slice-operations 1000 --jobs 2 --quiet --output "$work/j"
check "--jobs 2, a finding"       1 -- run --operations 20000 --slice-operations 5000 --mutant no-clamp --jobs 2 --quiet --output "$work/j"
check "mutants --jobs 2"          0 -- mutants --only no-clamp --only write-fragmented --operations 20000 --jobs 2
echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
