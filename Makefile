# flink-hub build. Every tool is built from the Go module proxy into bin/;
# nothing is downloaded from anywhere else.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

BIN        := $(CURDIR)/bin
K8S_BIN    := $(BIN)/k8s
KUBE_APISERVER := $(K8S_BIN)/kube-apiserver
ETCD       := $(K8S_BIN)/etcd
JAEGER     := $(BIN)/jaeger
# Helm 3, for the chart's compatibility test (the chart tests use the Helm 4 SDK).
HELM3      := $(BIN)/helm3
CONTROLLER_GEN := $(BIN)/controller-gen
OAPI_CODEGEN := $(BIN)/oapi-codegen
STATICCHECK := $(BIN)/staticcheck
# Generated from the Flink REST spec: the client and the simulator's server.
FLINKREST_API := internal/flinkrest/api
FLINKSIM_API  := e2e/flinksim/restapi
CHART := deploy/charts/flink-hub
GENERATED := apis deploy/crds $(FLINKREST_API) $(FLINKSIM_API) deploy/rbac $(CHART)/crds $(CHART)/files
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The race detector needs cgo, i.e. a C compiler: without one (and not root
# to install it) the tests run without -race, and say so.
RACE = $(shell [ "$$(go env CGO_ENABLED)" = 1 ] && echo -race)
# No DWARF or symbol table in test binaries: linking ~50 of them is a good
# part of a cold run (stack traces need neither).
GO_TEST_FLAGS ?= $(RACE) -ldflags=-s\ -w -timeout 25m
# Tools are built as the image's binaries are (Dockerfile): static, without
# paths. The packages they share with the hub, at the same versions
# (tools/kube-apiserver requires the hub's), are then compiled once for
# both, and the chart test's run of the Dockerfile's build finds them
# cached.
TOOL_BUILD := CGO_ENABLED=0 go build -trimpath -ldflags "-s -w"

export KUBEBUILDER_ASSETS := $(K8S_BIN)

.PHONY: all
all: build

##@ Build

.PHONY: build
build: ## Build the operator and the kubectl plugin into bin/.
	go build -ldflags "-X main.version=$(VERSION)" -o $(BIN)/flink-hub ./cmd/flink-hub
	go build -o $(BIN)/kubectl-flinkhub ./cmd/kubectl-flinkhub

CHART_VERSION = $(shell sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}/\1/p' $(CHART)/Chart.yaml)

.PHONY: image
image: ## Build the container image the chart installs by default (flink-hub:<chart appVersion>).
	docker build --build-arg VERSION=$(CHART_VERSION) -t flink-hub:$(CHART_VERSION) .

##@ Sandbox

.PHONY: sandbox
sandbox: ## Run a local hub with two members, three replicas, the Flink simulator and Jaeger (Ctrl-C stops).
	@echo "==> building kube-apiserver, etcd, Jaeger and the hub (several minutes the first time, seconds after)"
	@$(MAKE) --no-print-directory test-bins build
	@go build -o $(BIN)/sandbox ./e2e/sandbox
	@$(BIN)/sandbox

##@ Code generation

.PHONY: generate
generate: $(CONTROLLER_GEN) $(OAPI_CODEGEN) ## Generate deepcopy code, CRDs, the Flink REST client and the simulator's server.
	$(CONTROLLER_GEN) object paths=./apis/...
	$(CONTROLLER_GEN) crd:allowDangerousTypes=true paths=./apis/... output:crd:artifacts:config=deploy/crds
	$(CONTROLLER_GEN) rbac:roleName=flink-hub paths=./... output:rbac:artifacts:config=deploy/rbac
	# The chart carries copies: its hub CRDs and the Role's rules.
	rm -f $(CHART)/crds/*.yaml && cp deploy/crds/hub.flink-hub.io_*.yaml $(CHART)/crds/
	cp deploy/rbac/role.yaml $(CHART)/files/role.yaml
	gofmt -w apis
	cd $(FLINKREST_API) && $(OAPI_CODEGEN) -config oapi-codegen.yaml rest_v1_dispatcher.yml
	cd $(FLINKSIM_API) && $(OAPI_CODEGEN) -config oapi-codegen.yaml $(CURDIR)/$(FLINKREST_API)/rest_v1_dispatcher.yml

.PHONY: verify
verify: generate $(STATICCHECK) ## Fail when generated files are stale, or gofmt, go vet or staticcheck complain.
	@if ! git diff --quiet -- $(GENERATED) || [ -n "$$(git ls-files --others --exclude-standard -- $(GENERATED))" ]; then \
		echo "generated files are stale; run 'make generate' and commit:"; \
		git diff --stat -- $(GENERATED); git ls-files --others --exclude-standard -- $(GENERATED); exit 1; fi
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then \
		echo "not gofmt-ed (run gofmt -w):"; echo "$$bad"; exit 1; fi
	go vet ./...
	go vet -tags benchaudit ./cmd/flink-hub
	cd tools/kube-apiserver && go vet .
	cd tools/etcd && go vet .
	$(STATICCHECK) ./...

.PHONY: console-assets
console-assets: ## Copy the console's htmx and Pico CSS from npm at the versions and sums in internal/console/assets/vendor/SOURCES.
	@set -e; v=internal/console/assets/vendor; d=$$(mktemp -d); trap 'rm -rf $$d' EXIT; \
	grep -v '^#' $$v/SOURCES | while read pkg ver file sum; do \
		tgz=$$(cd $$d && npm pack -q "$$pkg@$$ver" | tail -1); mkdir -p $$d/x && tar -xzf $$d/$$tgz -C $$d/x; \
		src=$$(find $$d/x -name "$$file" | head -1); \
		echo "$$sum  $$src" | sha256sum -c --quiet || { echo "$$pkg@$$ver $$file does not match SOURCES"; exit 1; }; \
		cp "$$src" $$v/$$file; rm -rf $$d/x; done

##@ Test

.PHONY: test
test: test-netns-tools test-race-tools ## Run all tests (with the race detector) against real kube-apiservers and etcds.
	@[ -n "$(RACE)" ] || echo "warning: no C compiler, so no race detector: the tests run without -race"
	@# The tools and the tests' packages build side by side: each build ends
	@# in long single-threaded steps (the last packages, the link) that the
	@# others fill.
	@$(MAKE) --no-print-directory -j5 test-tools test-packages test-browser-tools
	go test $(GO_TEST_FLAGS) ./...

.PHONY: test-tools
test-tools: test-bins $(HELM3) ## Build (once) every tool the tests run.

.PHONY: test-packages
test-packages: ## Compile the packages under test (cached for go test).
	go build $(RACE) ./...

.PHONY: test-race-tools
test-race-tools: ## As root, install gcc when no C compiler is found (the race detector needs cgo).
	@if [ "$$(id -u)" = 0 ] && [ "$$(go env CGO_ENABLED)" != 1 ] && ! command -v gcc >/dev/null 2>&1; then \
		echo "installing gcc for the race detector"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >/dev/null; fi

.PHONY: test-browser-tools
test-browser-tools: ## As root, install Debian's chromium when no Chromium is found (the console's browser tests drive it).
	@if [ "$$(id -u)" = 0 ] && [ -z "$$FLINKHUB_CHROMIUM" ] && ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then \
		echo "installing chromium for the console's browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; fi

.PHONY: test-netns-tools
test-netns-tools: ## As root, install iproute2 when 'ip' is missing (the Flink REST proxy test builds a network namespace).
	@if [ "$$(id -u)" = 0 ] && ! command -v ip >/dev/null 2>&1; then \
		echo "installing iproute2 for the network namespace test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null; fi

# make bench SCALE=5 multiplies the fleet; BENCH_FLAGS passes more flags
# (go run ./e2e/bench -h lists them).
SCALE ?= 1
BENCH_FLAGS ?=

.PHONY: bench
bench: test-bins ## Run the fleet benchmark (BENCHMARKS.md): floor, convergence, failover, upgrade, REST latency, overlap audit.
	go run ./e2e/bench -scale $(SCALE) -json e2e/bench/results/latest.json -md e2e/bench/results/latest.md $(BENCH_FLAGS)

.PHONY: bench-sharding
bench-sharding: test-bins ## Run the sharding benchmark (failover and handoff of bare replicas).
	go test -run '^$$' -bench . -benchtime 3x ./e2e/sharding/

.PHONY: test-bins
test-bins: $(KUBE_APISERVER) $(ETCD) $(JAEGER) ## Build (once) and check the control plane binaries and Jaeger.
	@$(KUBE_APISERVER) --version >/dev/null 2>&1 || { echo "$(KUBE_APISERVER) does not run; rebuild it with: rm -rf $(K8S_BIN) && make test-bins"; exit 1; }
	@$(ETCD) --version >/dev/null 2>&1 || { echo "$(ETCD) does not run; rebuild it with: rm -rf $(K8S_BIN) && make test-bins"; exit 1; }

##@ Tools

$(KUBE_APISERVER): tools/kube-apiserver/go.mod tools/kube-apiserver/main.go
	@mkdir -p $(K8S_BIN)
	@echo "building kube-apiserver from the Go module proxy (a few minutes the first time)"
	cd tools/kube-apiserver && $(TOOL_BUILD) -o $@.tmp . && mv $@.tmp $@

$(ETCD): tools/etcd/go.mod tools/etcd/main.go
	@mkdir -p $(K8S_BIN)
	cd tools/etcd && $(TOOL_BUILD) -o $@.tmp . && mv $@.tmp $@

$(JAEGER): tools/jaeger/go.mod
	@mkdir -p $(BIN)
	@echo "building jaeger from the Go module proxy (a few minutes the first time)"
	cd tools/jaeger && $(TOOL_BUILD) -o $@.tmp github.com/jaegertracing/jaeger/cmd/jaeger && mv $@.tmp $@

$(HELM3): tools/helm3/go.mod
	@mkdir -p $(BIN)
	cd tools/helm3 && $(TOOL_BUILD) -o $@.tmp helm.sh/helm/v3/cmd/helm && mv $@.tmp $@

$(CONTROLLER_GEN): tools/go.mod
	@mkdir -p $(BIN)
	cd tools && go build -o $@ sigs.k8s.io/controller-tools/cmd/controller-gen

$(OAPI_CODEGEN): tools/go.mod
	@mkdir -p $(BIN)
	cd tools && go build -o $@ github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen

$(STATICCHECK): tools/staticcheck/go.mod
	@mkdir -p $(BIN)
	cd tools/staticcheck && go build -o $@ honnef.co/go/tools/cmd/staticcheck

.PHONY: clean
clean: ## Remove built binaries (the control plane binaries too).
	rm -rf $(BIN)

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_0-9.-]+:.*?##/ { printf "  %-14s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)
