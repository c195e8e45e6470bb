# healthsync — build, test and run targets. Needs only Go and make.

GO       ?= go
BIN      ?= bin/healthsync
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
PKGS     := ./...
# staticcheck runs pinned through the Go module proxy: nothing to install.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: build demo test lint vet fmt-check staticcheck clean bench soak

## build: compile the static healthsync binary into bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/healthsync

## demo: the whole path on an emulated Salesforce org (DEMO_ARGS="--crm hubspot" for HubSpot)
demo: build
	./$(BIN) demo $(DEMO_ARGS)

## test: lint, then every test with the race detector. Set
## HEALTHSYNC_TEST_DATABASE_URL=postgres://… to run the Postgres suite too.
test: lint
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

## lint: gofmt, go vet and staticcheck must be clean
lint: fmt-check vet staticcheck

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(GO) run $(STATICCHECK) $(PKGS)

clean:
	rm -rf bin

## bench: throughput vs. ceiling and vs. a jsforce script (the peer, Salesforce),
## API calls vs. minimum (backfill included), scoring speed and peak RSS against
## the emulated Salesforce org and HubSpot portal (SQLite; Postgres too when
## HEALTHSYNC_TEST_DATABASE_URL is set). hsbench installs the peer's jsforce
## with `npm ci --prefix bench` (pinned by bench/package-lock.json) when
## bench/node_modules lacks it; without node or npm the peer is skipped, with
## the reason printed. Figures: docs/benchmarks.md.
## BENCH_ARGS="-crm hubspot -sizes 10000,100000 -json-file bench.json"
BENCH_ARGS ?= -sizes 2000,10000 -runs 3
bench:
	$(GO) run ./cmd/hsbench $(BENCH_ARGS)

## soak: the long reliability runs: 25 SIGKILL trials each of sync and apply
## (Salesforce on SQLite and, with HEALTHSYNC_TEST_DATABASE_URL, Postgres;
## HubSpot on SQLite), the fault soak of both CRMs (5xx, lock errors,
## session expiry, latency, limits near the edge) and FUZZTIME of fuzzing
## for every Fuzz target in the tree. SOAK_TRIALS and FUZZTIME raise them.
SOAK_TRIALS ?= 25
FUZZTIME    ?= 30s
soak:
	HEALTHSYNC_SOAK=1 HEALTHSYNC_CRASH_TRIALS=$(SOAK_TRIALS) $(GO) test -race -count=1 -timeout 60m -run 'TestCrashTrials|TestFaultSoak' -v ./cmd/healthsync
	@for f in $$(find . -name '*_test.go' -not -path './.git/*' | xargs grep -l '^func Fuzz' | sort); do \
		for t in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | cut -d' ' -f2); do \
			echo "== fuzz $$t in ./$$(dirname $${f#./}) for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./$$(dirname $${f#./}) || exit 1; \
		done; \
	done
