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
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 12m ./...

vet: deps
	$(GO) vet ./...
