# imageops.cloud: build, test, demo and benchmark the collection.
# `make` builds every module for every platform; see README.md.

SHELL := /bin/bash
GO ?= go
# Every directory under gomodules/cmd is one module binary.
MODULES := $(notdir $(wildcard gomodules/cmd/*))
PLATFORMS := linux_amd64 linux_arm64
# The binaries live in bin/; plugins/modules/ holds a link to each. Ansible finds a module
# through the link, and ansible-doc's listing skips links (it takes them for aliases), so
# `ansible-doc -l imageops.cloud` lists the documented modules without a warning per binary.
BINARIES := $(foreach m,$(MODULES),$(foreach p,$(PLATFORMS),bin/$(m)_$(p)))
MODULE_LINKS := $(patsubst bin/%,plugins/modules/%,$(BINARIES))
GO_SOURCES := $(shell find gomodules -name '*.go' -not -name '*_test.go') go.mod go.sum
# The collection seen through ANSIBLE_COLLECTIONS_PATH: a link to this checkout.
COLLECTIONS_DIR := $(CURDIR)/build/collections

.PHONY: build deps test unit integration demo bench clean collection
.DEFAULT_GOAL := build

build: $(MODULE_LINKS) collection

# bin/<module>_<os>_<arch>: static, reproducible module binaries.
bin/%: $(GO_SOURCES)
	@name='$*'; platform=$${name##*_linux_}; module=$${name%_linux_*}; \
	echo "go build $$module (linux/$$platform)"; \
	CGO_ENABLED=0 GOOS=linux GOARCH=$$platform $(GO) build -trimpath -ldflags='-s -w' \
		-o $@ ./gomodules/cmd/$$module

plugins/modules/%: bin/%
	@ln -sfn ../../bin/$* $@

# The binaries are what the links point at: never delete them as intermediate files.
.SECONDARY: $(BINARIES)

collection:
	@mkdir -p $(COLLECTIONS_DIR)/ansible_collections/imageops
	@ln -sfn $(CURDIR) $(COLLECTIONS_DIR)/ansible_collections/imageops/cloud

deps:
	@scripts/install-deps.sh

# The whole suite: unit tests, then integration tests against real services.
test: deps build
	@scripts/test.sh

unit: build
	$(GO) test ./...

integration: deps build
	@scripts/test.sh integration

demo: deps build
	@scripts/demo.sh

bench: deps build
	@scripts/bench.sh

clean:
	rm -rf build bin plugins/modules/*_linux_*
