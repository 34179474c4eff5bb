# Headlight — make test runs everything CI runs (.ci/run calls it).
GO ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test tools lint unit race fuzz-smoke bench bench-serve promcheck build fixtures

test: tools lint unit race fuzz-smoke

# Debian tools some tests use: Prometheus and promtool (the /metrics scrape test and the alert
# rules). Installed when missing and apt-get can run (as root); otherwise those tests skip unless
# HEADLIGHT_REQUIRE_PROMETHEUS=1 (set by .ci/run) makes them fail.
tools:
	@if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null; \
		else echo "prometheus/promtool missing and cannot install (not root): their tests will skip"; fi; \
	fi

build:
	$(GO) build -o bin/headlight ./cmd/headlight

lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# The pure-Go twins of the SIMD kernels are tested on their own too (purego tag).
unit:
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags purego ./internal/kernels ./internal/attention

# The race detector on the packages with concurrency, in short mode.
race:
	$(GO) test -count=1 -race -short ./internal/kernels ./internal/attention ./internal/engine ./internal/model/... ./internal/serve ./internal/telemetry ./internal/loadgen

# A few seconds of coverage-guided fuzzing per target (longer: make fuzz FUZZTIME=5m).
FUZZTIME ?= 5s
fuzz fuzz-smoke:
	$(GO) test -run '^$$' -fuzz '^FuzzAttend$$' -fuzztime $(FUZZTIME) ./internal/attention
	$(GO) test -run '^$$' -fuzz '^FuzzParseLlama2C$$' -fuzztime $(FUZZTIME) ./internal/weights
	$(GO) test -run '^$$' -fuzz '^FuzzParseGGUF$$' -fuzztime $(FUZZTIME) ./internal/weights
	$(GO) test -run '^$$' -fuzz '^FuzzLoadLlama2C$$' -fuzztime $(FUZZTIME) ./internal/tokenizer
	$(GO) test -run '^$$' -fuzz '^FuzzEncode$$' -fuzztime $(FUZZTIME) ./internal/tokenizer
	$(GO) test -run '^$$' -fuzz '^FuzzParseSafetensors$$' -fuzztime $(FUZZTIME) ./internal/weights
	$(GO) test -run '^$$' -fuzz '^FuzzBPERoundTrip$$' -fuzztime $(FUZZTIME) ./internal/tokenizer
	$(GO) test -run '^$$' -fuzz '^FuzzLoadHFTokenizerJSON$$' -fuzztime $(FUZZTIME) ./internal/tokenizer

# Benchmarks are not part of the test run: they take minutes.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/kernels ./internal/attention

# Load test of `headlight serve` over loopback and its overhead over the engine at batch 1.
bench-serve:
	$(GO) run ./cmd/headlight bench serve --requests 200 --duration 60s --concurrency 4

# promtool on deploy/prometheus (config, rules, rule unit tests); `make test` runs the same
# checks in internal/serve's TestPromtoolChecks. Needs Debian's prometheus package.
promcheck:
	cd deploy/prometheus && promtool check config prometheus.yml && promtool check rules alerts.yml && promtool test rules alerts_test.yml

# Regenerate the PyTorch fixtures (needs Debian's python3-torch).
fixtures:
	/usr/bin/python3 testdata/gen/attention.py
