# imageops.cloud: build, test, demo and benchmark the collection.
# `make` builds every module for every platform; see README.md.

SHELL := /bin/bash
GO ?= go
# One multi-call binary per platform carries every module (gomodules/cmd/imageops, one
# <module>.go per module); the action plugins run it with the module's name in the args.
# The modules are named after their documentation (a test keeps it equal to what the binary
# registers): ipa_test's wiring file cannot be ipa_test.go, which Go reads as a test file.
MODULES := $(basename $(notdir $(wildcard plugins/modules/*.py)))
PLATFORMS := linux_amd64 linux_arm64
BINARIES := $(foreach p,$(PLATFORMS),bin/imageops_$(p))
# The binaries live in bin/; plugins/modules/ holds a link to each. Ansible finds the binary
# through the link, and ansible-doc's listing skips links (it takes them for aliases), so
# `ansible-doc -l imageops.cloud` lists the documented modules without a warning per binary.
# `ansible-galaxy collection build` keeps both: the links stay links (their targets are inside
# the collection), in the checkout and in an installed collection alike.
MODULE_LINKS := $(patsubst bin/%,plugins/modules/%,$(BINARIES))
# build/bin/<module>_<os>_<arch>: links to the binary under each module's name, to run a
# module by hand (`build/bin/image_convert_linux_amd64 args.yml`); not part of the collection.
HAND_LINKS := $(foreach m,$(MODULES),$(foreach p,$(PLATFORMS),build/bin/$(m)_$(p)))
GO_SOURCES := $(shell find gomodules -name '*.go' -not -name '*_test.go') go.mod go.sum
# The collection seen through ANSIBLE_COLLECTIONS_PATH: a link to this checkout.
COLLECTIONS_DIR := $(CURDIR)/build/collections

.PHONY: build deps test unit integration demo bench clean collection
.DEFAULT_GOAL := build

build: $(MODULE_LINKS) $(HAND_LINKS) THIRD_PARTY_NOTICES collection
	@# Binaries and links of an older layout (one binary per module) are git-ignored, so a
	@# checkout keeps them, and ansible-galaxy would pack them into the artifact: remove them.
	@for f in bin/* plugins/modules/*_linux_*; do \
	  case " $(BINARIES) $(MODULE_LINKS) " in *" $$f "*) ;; *) if [ -e "$$f" ] || [ -L "$$f" ]; then rm -f "$$f"; fi ;; esac; \
	done

# bin/imageops_<os>_<arch>: static, reproducible, stripped.
bin/imageops_%: $(GO_SOURCES)
	@platform='$*'; echo "go build imageops ($${platform/_//})"; \
	CGO_ENABLED=0 GOOS=$${platform%%_*} GOARCH=$${platform#*_} $(GO) build -trimpath -ldflags='-s -w' \
		-o $@ ./gomodules/cmd/imageops

# The licences of what the binaries link, which the artifact carries beside them.
THIRD_PARTY_NOTICES: go.mod go.sum scripts/notices.sh
	@GO=$(GO) scripts/notices.sh >$@.tmp && mv $@.tmp $@

plugins/modules/imageops_%: bin/imageops_%
	@ln -sfn ../../bin/imageops_$* $@

$(HAND_LINKS): build/bin/%: | $(BINARIES)
	@mkdir -p build/bin && ln -sfn ../../bin/imageops_$(lastword $(subst _linux_, linux_,$*)) $@

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
	rm -rf build bin plugins/modules/*_linux_* THIRD_PARTY_NOTICES
