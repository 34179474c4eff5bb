# Headlight — make test runs everything CI runs (.ci/run calls it).
GO ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test lint unit race fuzz-smoke bench build fixtures

test: lint unit race fuzz-smoke

build:
	$(GO) build -o bin/headlight ./cmd/headlight

lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

unit:
	$(GO) test -count=1 ./...

# The race detector on the packages with concurrency, in short mode.
race:
	$(GO) test -count=1 -race -short ./internal/kernels ./internal/attention ./internal/engine ./internal/model/... ./internal/serve ./internal/telemetry

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

# Regenerate the PyTorch fixtures (needs Debian's python3-torch).
fixtures:
	/usr/bin/python3 testdata/gen/attention.py
