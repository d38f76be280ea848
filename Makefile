# Makefile - melodynet: the Pd externals (through pd-lib-builder), the core library, the
# `melodynet` command, tests, benchmarks and the demo. `make` builds everything.

lib.name = melodynet

# run-time core: what the externals and the CLI link (the trainer stays out of the externals)
CORE_RT = core/base.c core/event.c core/json.c core/model.c core/session.c core/sampler.c \
          core/midi.c core/ngram.c core/motif.c core/sbuf.c
# tools core: training, data pipeline, evaluation, pictures (CLI and tests only)
CORE_TOOLS = $(filter-out $(CORE_RT), $(wildcard core/*.c))

ifneq ($(wildcard externals/melodynet.c),)
melodynet.class.sources = externals/melodynet.c
endif
ifneq ($(wildcard externals/melodynet_tilde.c),)
melodynet~.class.sources = externals/melodynet_tilde.c
endif
common.sources = $(CORE_RT) $(filter-out externals/melodynet.c externals/melodynet_tilde.c, \
                 $(wildcard externals/*.c))

cflags = -std=c11 -D_GNU_SOURCE -Icore
ldlibs = -lopenblas -lpthread -lm
# the reference path builds without -ffast-math (pd-lib-builder's default CFLAGS add it)
CFLAGS = -Wall -Wextra -O2 -g

# models/ is installed as a folder: the externals look for <their folder>/models/default.mnet
datafiles = $(wildcard help-patches/*.pd) README.md LICENSE
datadirs = $(wildcard models help-patches/examples)

VERSION = 0.1
# make install: the user's Pd externals folder (Pd searches it on Linux); PDLIBDIR=... for another
PDLIBDIR ?= $(HOME)/.local/lib/pd/extra
PDLIBBUILDER_DIR ?= /usr/share/pd-lib-builder
PDLIBBUILDER_MK = $(PDLIBBUILDER_DIR)/Makefile.pdlibbuilder
# the script that installs the Debian packages (a test points it at a stand-in)
INSTALL_DEPS ?= tools/install-deps.sh
ifeq ($(wildcard $(PDLIBBUILDER_MK)),)
# A fresh machine: pd-lib-builder is one of the packages still to install. Install them first,
# then run the goals that were asked for again in a make that can include it.
BOOTSTRAP_GOALS = $(or $(MAKECMDGOALS),all)
$(BOOTSTRAP_GOALS): bootstrap
	@$(MAKE) --no-print-directory $@
bootstrap:
	@$(INSTALL_DEPS)
	@test -f "$(PDLIBBUILDER_MK)" || { echo "melodynet: $(PDLIBBUILDER_MK) is missing after \
installing the packages; install pd-lib-builder or set PDLIBBUILDER_DIR" >&2; exit 1; }
.PHONY: bootstrap $(BOOTSTRAP_GOALS)
else
ifeq ($(filter dist,$(MAKECMDGOALS)),)
include $(PDLIBBUILDER_MK)
else
# pd-lib-builder's own `dist` is a placeholder: this one installs the Pd-ready melodynet/ folder
# into dist/ and packs it for deken
DEKEN_ARCH = Linux-$(subst x86_64,amd64,$(subst aarch64,arm64,$(shell uname -m)))-32
dist:
	rm -rf dist
	$(MAKE) --no-print-directory install PDLIBDIR=$(CURDIR)/dist
	cd dist && tar czf "melodynet-v$(VERSION)-($(DEKEN_ARCH))-externals.tar.gz" melodynet
	@echo "dist/melodynet-v$(VERSION)-($(DEKEN_ARCH))-externals.tar.gz"
endif

#=== our own targets ==========================================================

# SANITIZE=address,undefined builds the CLI and tests instrumented into their own folder
SANITIZE ?=
BUILD := build/$(if $(SANITIZE),$(subst $(strip ,),-,$(SANITIZE)),rel)
TOOL_CFLAGS = -std=c11 -D_GNU_SOURCE -Icore -Wall -Wextra -O2 -g \
              $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all)
TOOL_LDFLAGS = $(if $(SANITIZE),-fsanitize=$(SANITIZE))
TOOL_LDLIBS = -lopenblas -lpthread -lm

CORE_OBJS = $(patsubst core/%.c,$(BUILD)/core/%.o,$(CORE_RT) $(CORE_TOOLS))
CLI_SRCS = $(wildcard core/cli/*.c)
CLI_OBJS = $(patsubst core/cli/%.c,$(BUILD)/cli/%.o,$(CLI_SRCS))
TEST_SRCS = $(wildcard tests/test_*.c)
TEST_BINS = $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
CLI = $(if $(SANITIZE),$(BUILD)/melodynet,bin/melodynet)

$(BUILD)/core/%.o: core/%.c $(wildcard core/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(TOOL_CFLAGS) -c $< -o $@

$(BUILD)/cli/%.o: core/cli/%.c $(wildcard core/*.h core/cli/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(TOOL_CFLAGS) -Icore/cli -c $< -o $@

$(BUILD)/libmncore.a: $(CORE_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(CLI): $(CLI_OBJS) $(BUILD)/libmncore.a
	@mkdir -p $(dir $@)
	$(CC) $(TOOL_LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libmncore.a $(TOOL_LDLIBS)

$(BUILD)/tests/%: tests/%.c tests/testutil.h $(BUILD)/libmncore.a
	@mkdir -p $(dir $@)
	$(CC) $(TOOL_CFLAGS) -Itests -DMN_SOURCE_DIR='"$(CURDIR)"' $< -o $@ \
	    $(TOOL_LDFLAGS) $(BUILD)/libmncore.a -lcmocka $(TOOL_LDLIBS)

# the externals built with SANITIZE into $(BUILD)/ext, apart from the release ones (Pd then needs
# the sanitizer's runtime in LD_PRELOAD)
SAN_EXTS = $(BUILD)/ext/melodynet.$(extension) $(BUILD)/ext/melodynet~.$(extension)
$(BUILD)/ext/melodynet.$(extension): externals/melodynet.c
$(BUILD)/ext/melodynet~.$(extension): externals/melodynet_tilde.c
$(SAN_EXTS): $(common.sources) $(wildcard core/*.h externals/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(TOOL_CFLAGS) -fPIC -shared -I"$(PDINCLUDEDIR)" -o $@ \
	    $(filter externals/melodynet.c externals/melodynet_tilde.c,$^) $(common.sources) \
	    $(TOOL_LDFLAGS) $(TOOL_LDLIBS)
sanitized-externals: $(SAN_EXTS)

all: cli

# build the melodynet command at bin/melodynet
cli: $(CLI)

# install the Debian packages the build, tests and demo need (apt-get; sudo when not root)
deps:
	@$(INSTALL_DEPS)

# unit tests (cmocka), CLI tests and Pd patch tests
check: deps
	@$(MAKE) --no-print-directory all unit
	@tools/run-checks.sh $(BUILD) $(CLI) $(TEST_BINS)

# unit and CLI tests under AddressSanitizer and UndefinedBehaviorSanitizer
check-asan: deps
	@$(MAKE) --no-print-directory SANITIZE=address,undefined cli-tests

# the externals under ThreadSanitizer in real-time Pd: loads, reads, deletions and DSP while the
# loader and [melodynet~]'s worker run (the chained requests in the release build too, and the
# loader's Pd tests under AddressSanitizer with leak detection)
check-threads: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory SANITIZE=thread sanitized-externals
	@$(MAKE) --no-print-directory SANITIZE=address sanitized-externals
	@CC="$(CC)" tools/check-threads.sh build/thread/ext . build/address/ext

cli-tests: $(CLI) $(TEST_BINS)
	@tools/run-checks.sh $(BUILD) $(CLI) $(TEST_BINS) --no-pd

unit: $(TEST_BINS)

# render a generated melody with Pd to demo.wav, demo.mid (and demo.svg)
demo: deps
	@$(MAKE) --no-print-directory all
	@tools/demo.sh

# step latency and training throughput, with PyTorch beside them when installed
bench: deps
	@$(MAKE) --no-print-directory all
	@tools/bench.sh

# fuzz the model loader and MIDI reader with libFuzzer (FUZZ_SECONDS each, default 60)
fuzz: deps
	@MN_CORE_RT="$(CORE_RT)" tools/fuzz.sh $(or $(FUZZ_SECONDS),60)

# regenerate the golden files of the Pd patch tests
golden: all
	@tests/pd/run.sh --golden

# retrain the bundled default model from DATA (default ../shared/data)
model: cli
	@tools/train-default.sh $(or $(DATA),../shared/data)

# remove our build folders too (pd-lib-builder's clean removes the externals and objects)
clean: clean-tools
clean-tools:
	rm -rf build bin

.PHONY: clean-tools cli deps check check-asan check-threads sanitized-externals cli-tests unit \
        demo bench fuzz golden model

endif # pd-lib-builder present
