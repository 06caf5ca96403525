# offload — `make` alone prints this help. Targets marked ## are the interface
# the README, CI and the issues rely on.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO        ?= go
BIN       := $(CURDIR)/bin
LOCAL     := $(CURDIR)/.local
DIST      := $(CURDIR)/dist
FUNCTIONS := $(sort $(notdir $(patsubst %/main.go,%,$(wildcard functions/*/main.go))))

MOTO_HOST      ?= 127.0.0.1
MOTO_PORT      ?= 4566
TEST_MOTO_PORT ?= 4567
# make run METRICS=faithful: alarms get one AWS/SQS datapoint a minute, as on AWS
# (fast: a sample a second); CLOCK_SCALE (0,1] speeds up AWS's minutes.
METRICS        ?= fast
CLOCK_SCALE    ?= 1

# Every terraform call (ours and Terratest's) reads this CLI config: it points
# at the machine's provider mirror when there is one (scripts/tfconfig.sh).
export TF_CLI_CONFIG_FILE := $(LOCAL)/terraformrc
export TF_IN_AUTOMATION := 1

# Lambda build flags (docs/architecture.md: provided.al2023, arm64, reproducible).
LAMBDA_ENV   := CGO_ENABLED=0 GOOS=linux GOARCH=arm64
BUILD_FLAGS  := -trimpath -tags lambda.norpc -ldflags "-s -w -buildid="

.PHONY: help
help: ## Show this help.
	@echo "offload — make <target>"
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

.PHONY: build
build: ## Build every function as a linux/arm64 bootstrap, zipped reproducibly to dist/<function>.zip.
	@mkdir -p $(DIST)/arm64
	@for fn in $(FUNCTIONS); do \
	  mkdir -p $(DIST)/arm64/$$fn; \
	  $(LAMBDA_ENV) $(GO) build $(BUILD_FLAGS) -o $(DIST)/arm64/$$fn/bootstrap ./functions/$$fn; \
	  $(GO) run ./scripts/mkzip $(DIST)/$$fn.zip $(DIST)/arm64/$$fn/bootstrap; \
	  printf '%-24s %8d bytes  %s\n' "$$fn.zip" $$(stat -c %s $(DIST)/$$fn.zip) $$(sha256sum $(DIST)/$$fn.zip | cut -c1-16); \
	done
	@[ -n "$(FUNCTIONS)" ] || echo "no functions under functions/ yet"

.PHONY: build-local
build-local: ## Build the same bootstraps for this machine (dist/local/<function>/bootstrap), for the local runtime.
	@for fn in $(FUNCTIONS); do \
	  mkdir -p $(DIST)/local/$$fn; \
	  CGO_ENABLED=0 $(GO) build $(BUILD_FLAGS) -o $(DIST)/local/$$fn/bootstrap ./functions/$$fn; \
	  echo "dist/local/$$fn/bootstrap"; \
	done

.PHONY: up
up: ## Start the local AWS (moto via scripts/moto_launcher.py) on $(MOTO_HOST):$(MOTO_PORT); a no-op when running.
	@MOTO_HOST=$(MOTO_HOST) scripts/moto.sh up $(MOTO_PORT)

.PHONY: down
down: ## Stop the moto server that `make up` started.
	@scripts/moto.sh down $(MOTO_PORT)

.PHONY: tfconfig
tfconfig: ## Write .local/terraformrc (provider mirror when the machine has one).
	@scripts/tfconfig.sh $(TF_CLI_CONFIG_FILE)

.PHONY: test
test: tfconfig build build-local $(BIN)/xray-daemon ## Run every test tier (unit, integration against moto, end-to-end); starts and stops its own moto.
	@TEST_MOTO_PORT=$(TEST_MOTO_PORT) scripts/test.sh

CHAOS_FLAGS ?=
BENCH_FLAGS ?=

.PHONY: chaos
chaos: tfconfig build build-local ## Seeded fault campaign on the local stack (CHAOS_FLAGS="-seed N -audit N -sms N -short"); last line is the verdict, docs/reliability.md.
	@TEST_MOTO_PORT=$(TEST_MOTO_PORT) scripts/chaos.sh $(CHAOS_FLAGS)

.PHONY: test-unit
test-unit: ## Run only the unit tests (no emulator).
	@TIERS=unit scripts/test.sh

.PHONY: bench
bench: $(BIN)/benchstat ## Run the Go benchmarks of the hot paths (pkg/, functions/), 6 runs, summarised by benchstat.
	@mkdir -p $(LOCAL)
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./pkg/... ./functions/... | tee $(LOCAL)/bench.txt
	@$(BIN)/benchstat $(LOCAL)/bench.txt

.PHONY: bench-e2e
bench-e2e: tfconfig build build-local $(BIN)/xray-daemon ## Producer throughput (SendMessage vs PublishBatch vs async) and the audit pipeline's throughput and latency on the local stack, next to the emulator's raw capacity.
	@TIERS="integration e2e" PKGS=./pkg/producer/... E2E_PKGS=./test/e2e/... GOTESTFLAGS='-run ^$$ -bench . -benchtime 500x' TEST_MOTO_PORT=$(TEST_MOTO_PORT) scripts/test.sh

.PHONY: bench-latency
bench-latency: ## The example service's client-side p50/p99/p99.9 per endpoint (buffered vs durable vs sync audit, queued vs sync SMS) on moto + the service + the Twilio stand-in; last line `latency: …`.
	@TEST_MOTO_PORT=$(TEST_MOTO_PORT) BENCH_FLAGS="$(BENCH_FLAGS)" scripts/bench-latency.sh

.PHONY: lint
lint: tfconfig tools ## gofmt, go vet, staticcheck, terraform fmt/validate (offline), tfsec, actionlint.
	@scripts/lint.sh

.PHONY: tfshared
tfshared: ## Rewrite terraform/environments/_shared's stack.tf and outputs.tf (and its variables.tf link) from terraform/stack (after adding a stack variable or output).
	@$(GO) run ./scripts/tfshared

.PHONY: tools
tools: $(BIN)/staticcheck $(BIN)/tfsec $(BIN)/actionlint $(BIN)/benchstat ## Build the pinned developer tools into bin/ (from tools/go.mod).

# trivy has its own tools module (tools/trivy/go.mod): its dependency tree is
# ten times the other tools' and must not drag their versions along. It needs
# Go's encoding/json/v2 experiment; the first build takes minutes, then bin/trivy is reused.
$(BIN)/trivy: tools/trivy/go.mod tools/trivy/go.sum
	@mkdir -p $(BIN)
	@echo "building trivy into bin/ (first use only: several minutes)"
	@cd tools/trivy && GOEXPERIMENT=jsonv2 $(GO) build -trimpath -o $(BIN)/trivy github.com/aquasecurity/trivy/cmd/trivy

.PHONY: scan
scan: $(BIN)/trivy ## Scan terraform/ with trivy's embedded checks, offline (MEDIUM and above fail; CI runs it).
	@scripts/scan.sh

# The X-Ray daemon's package is .../daemon: give its binary a clearer name.
$(BIN)/xray-daemon: tools/go.mod tools/go.sum
	@mkdir -p $(BIN)
	@echo "building xray-daemon into bin/ (first use only)"
	@cd tools && $(GO) build -o $(BIN)/xray-daemon github.com/aws/aws-xray-daemon/daemon

.PHONY: xray-daemon
xray-daemon: $(BIN)/xray-daemon ## Build the X-Ray daemon (local mode, used by make run and the local runtime) into bin/.

$(BIN)/%: tools/go.mod tools/go.sum
	@mkdir -p $(BIN)
	@echo "building $* into bin/ (first use only)"
	@cd tools && $(GO) build -o $(BIN)/$* $$(awk '/^tool \(/{t=1;next} t&&/^\)/{t=0} t{print $$1}' go.mod | grep -E '/$*$$')

.PHONY: run
run: tfconfig build build-local $(BIN)/xray-daemon ## Bring the whole system up locally (emulator, infrastructure, functions, X-Ray daemon, example service) and serve until Ctrl-C.
	@MOTO_HOST=$(MOTO_HOST) MOTO_PORT=$(MOTO_PORT) METRICS=$(METRICS) CLOCK_SCALE=$(CLOCK_SCALE) scripts/run.sh

.PHONY: measure-init
measure-init: ## With `make run` up: each function's cold-start init duration next to a hello-world Go bootstrap's; last line `init: hello_ms= worst_ms= ratio=`.
	@CGO_ENABLED=0 $(GO) build $(BUILD_FLAGS) -o $(DIST)/local/_baseline/hello/bootstrap ./internal/localrt/testdata/fixtures/hello
	@$(GO) build -o $(BIN)/offload-local ./cmd/offload-local
	@AWS_ENDPOINT_URL=http://$(MOTO_HOST):$(MOTO_PORT) AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=$${AWS_REGION:-us-east-1} \
	  $(BIN)/offload-local --measure-init $${N:-20} --trace-daemon off

.PHONY: clean
clean: ## Remove build output, tools and local state (stops moto first).
	-@scripts/moto.sh down $(MOTO_PORT) >/dev/null 2>&1
	rm -rf $(DIST) $(BIN) $(LOCAL)

# ---------------------------------------------------------------------------
# Deployment to AWS (dev, staging, prod): the same targets on a laptop and in
# .github/workflows/deploy.yml. The state backend comes from TF_STATE_BUCKET
# and AWS_REGION; credentials from the AWS chain (OIDC role in CI, a profile
# locally). README "Deploy to AWS" walks through it; scripts/deploy.sh runs it.
# ---------------------------------------------------------------------------
ENV      ?= dev
PLAN     ?= .local/plan-$(ENV).tfplan
PLAN_SHA256 ?=
OUTPUTS  ?= .local/outputs-$(ENV).json
TF_LOCK  ?= true
E2E_PKGS ?= ./test/...

.PHONY: tf-init plan apply outputs test-deployed destroy bootstrap
tf-init: tfconfig ## Init terraform/environments/ENV on the S3 backend (TF_STATE_BUCKET, AWS_REGION).
	@scripts/deploy.sh init $(ENV)

plan: tfconfig ## Plan ENV (needs dist/ from make build) into PLAN (default .local/plan-ENV.tfplan) + text; CI: job summary.
	@TF_LOCK=$(TF_LOCK) scripts/deploy.sh plan $(ENV) $(PLAN)

apply: tfconfig ## Apply exactly the plan file PLAN=<file> to ENV; or, with PLAN_SHA256=<hash> (CI), re-plan and apply only if the plan's hash is the reviewed one.
	@if [[ -n "$(PLAN_SHA256)" ]]; then scripts/deploy.sh apply-reviewed $(ENV) "$(PLAN_SHA256)"; else scripts/deploy.sh apply $(ENV) $(PLAN); fi

outputs: tfconfig ## Write ENV's terraform outputs as JSON to OUTPUTS (default .local/outputs-ENV.json).
	@scripts/deploy.sh outputs $(ENV) $(OUTPUTS)

test-deployed: ## Run the Terratest suites against the deployed ENV (OFFLOAD_TEST_TARGET=aws, its outputs file).
	@[ -f $(OUTPUTS) ] || $(MAKE) outputs ENV=$(ENV) OUTPUTS=$(OUTPUTS)
	@mkdir -p $(LOCAL)
	env -u AWS_ENDPOINT_URL OFFLOAD_TEST_TARGET=aws OFFLOAD_OUTPUTS_FILE=$(abspath $(OUTPUTS)) \
	  $(GO) test -count=1 -tags e2e -timeout 45m $(E2E_PKGS) 2>&1 | tee $(LOCAL)/test-deployed-$(ENV).log

destroy: tfconfig ## Destroy ENV (asks for confirmation; needs dist/ from make build).
	@scripts/deploy.sh destroy $(ENV)

bootstrap: tfconfig ## Once per account, with your own credentials: OIDC provider, deploy roles, state bucket (terraform/bootstrap).
	terraform -chdir=terraform/bootstrap init -input=false
	terraform -chdir=terraform/bootstrap apply
