# ismkit make targets. `make help` lists them.
SWIFT ?= swift
SHARED ?= ../shared

.PHONY: help build release test run mutants bench ci
help:
	@echo "make build      debug build of ismkit"
	@echo "make release    release build of ismkit"
	@echo "make test       swift test (property suite, mutant-kill test, everything else)"
	@echo "make run        the main job: differential fuzzing of the simulated device for 60 s"
	@echo "make mutants    the mutant kill table"
	@echo "make bench      differential operations per second: model alone vs model+simulator"
	@echo "make ci         what CI runs (.ci/run calls this)"

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

ci: test
