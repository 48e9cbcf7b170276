# The two commands of the README: `make demo` and `make test`. Each installs
# what is missing first (scripts/deps.sh), so a fresh Debian or Ubuntu machine
# with only Go needs nothing else.
GO ?= go
export CGO_ENABLED := 1

.PHONY: demo test deps deps-test bench bench-quick vet

deps:
	@./scripts/deps.sh

deps-test:
	@./scripts/deps.sh --test

demo: deps
	$(GO) run ./examples/pool

test: deps-test
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || { echo 'gofmt: the files above need gofmt -w' >&2; exit 1; }
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 12m ./...
	$(GO) test -race -count=1 -tags zchan_nodirect -run 'Burst|NoLostWakeup|CloseInsideDo|DirectPathReported|Accounting|Shutdown' ./zchan
	$(MAKE) bench-quick

vet: deps
	$(GO) vet ./...

# The benchmark suite (bench/, a module of its own): every variant, every
# scenario, variants interleaved; writes bench/results.{json,md,png}.
# Under 10 minutes.
bench:
	@./scripts/deps.sh --bench
	cd bench && $(GO) vet . && $(GO) run . -out .
	./scripts/readme-bench.sh

# A few seconds of the same suite with few messages: checks that every
# variant still builds, runs and delivers every message in order. Timings
# are printed, never asserted.
bench-quick:
	@./scripts/deps.sh --bench
	cd bench && $(GO) vet ./... && $(GO) test -race -count=1 . && $(GO) run . -quick && $(GO) run ./wakeprobe -n 200 -rounds 1
