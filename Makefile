# Makefile - melodynet: the Pd externals (through pd-lib-builder), the core library, the
# `melodynet` command, tests, benchmarks and the demo. `make` builds everything.

lib.name = melodynet

# The run-time core (core/rt): what runs inside Pd. The externals link exactly this set, and a
# file in it includes only headers of core/rt (tests/build/layout.sh checks both).
CORE_RT = core/rt/base.c core/rt/event.c core/rt/json.c core/rt/model.c core/rt/session.c \
          core/rt/sampler.c core/rt/midi.c core/rt/motif.c core/rt/sbuf.c core/rt/matvec.c \
          core/rt/copyidx.c core/rt/atom.c core/rt/settings.c core/rt/registry.c \
          core/rt/ahead.c
# The offline tools (core/tools): trainer, data pipeline, evaluation, report, pictures, n-gram
# baseline, token files. They may include core/rt; the command and the tests link both sets.
# CORE_LEARN is the part [melodynet]'s `learn` runs, which the externals link too: the trainer
# with its portable matrix products, the fine-tuning run and the data pipeline (never eval,
# report, SVG, nor gemm_blas.c, which needs OpenBLAS).
CORE_LEARN = core/tools/train.c core/tools/finetune.c core/tools/gemm.c core/tools/data.c \
             core/tools/sha256.c
CORE_TOOLS = $(CORE_LEARN) core/tools/eval.c core/tools/report.c core/tools/svg.c \
             core/tools/ngram.c core/tools/tokens.c core/tools/gemm_blas.c

melodynet.class.sources = externals/melodynet.c
melodynet~.class.sources = externals/melodynet_tilde.c
common.sources = $(CORE_RT) $(CORE_LEARN) externals/mnpd.c

cflags = -std=c11 -D_GNU_SOURCE -Icore/rt -Icore/tools
# The externals' step runs on core/rt/matvec's own kernels and `learn` on gemm.c's portable
# products: they link no BLAS, so a user's machine needs nothing beyond libc, libm and pthread
# (tests/install checks the binaries). The CLI and the tests train with OpenBLAS (gemm_blas.c).
ldlibs = -lpthread -lm
# the reference path builds without -ffast-math (pd-lib-builder's default CFLAGS add it)
CFLAGS = -Wall -Wextra -O2 -g

# models/ is installed as a folder: the externals look for <their folder>/models/default.mnet;
# the examples go to <folder>/examples (install-examples), beside the help patches as here
datafiles = $(wildcard help-patches/*.pd) melodynet-meta.pd README.md LICENSE
datadirs = $(wildcard models)

VERSION = 0.2
# Pd's name for this platform's binaries (.l_amd64, .l_arm64, ...): builds for other platforms
# can sit beside them in one folder, and Pd 0.49 and later load them
UNAME_M := $(shell uname -m)
PD_ARCH := $(patsubst i%86,i386,$(patsubst armv%,arm,$(UNAME_M:x86_64=amd64)))
PD_ARCH := $(PD_ARCH:aarch64=arm64)
ifeq ($(shell uname -s),Linux)
override extension = l_$(PD_ARCH)
endif
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
# into DISTDIR (default dist/) and packs it for deken: the .dek (a ZIP of that one folder), its
# SHA-256 and the objects list (name, tab, the help patch's one-line description)
DISTDIR ?= dist
DIST := $(abspath $(DISTDIR))
DEKEN_FILE = melodynet[v$(VERSION)](Linux-$(PD_ARCH)-32).dek
dist:
	rm -rf "$(DIST)/melodynet" "$(DIST)/$(DEKEN_FILE)" "$(DIST)/$(DEKEN_FILE)".*
	$(MAKE) --no-print-directory install PDLIBDIR="$(DIST)"
	@# a copy-guard index built here holds the training tunes: it is not distributed
	rm -f "$(DIST)"/melodynet/models/*.mncopy
	cd "$(DIST)" && zip -q -r -X "$(DEKEN_FILE)" melodynet
	cd "$(DIST)" && sha256sum "$(DEKEN_FILE)" >"$(DEKEN_FILE).sha256"
	tools/dek-objects.sh "$(DIST)"/melodynet/*-help.pd >"$(DIST)/$(DEKEN_FILE).txt"
	@echo "$(DIST)/$(DEKEN_FILE)"
endif

#=== our own targets ==========================================================

# the examples beside the help patches in the installed folder, as in help-patches/
install: install-examples
install-examples: all
	$(INSTALL_DIR) "$(installpath)/examples"
	$(INSTALL_DATA) $(wildcard help-patches/examples/*.pd) "$(installpath)/examples"

# SANITIZE=address,undefined builds the CLI and tests instrumented into their own folder
SANITIZE ?=
BUILD := build/$(if $(SANITIZE),$(subst $(strip ,),-,$(SANITIZE)),rel)
SAN_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -O2 -g \
             $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all)
TOOL_CFLAGS = $(SAN_CFLAGS) -Icore/rt -Icore/tools
TOOL_LDFLAGS = $(if $(SANITIZE),-fsanitize=$(SANITIZE))
TOOL_LDLIBS = -lopenblas -lpthread -lm

CORE_OBJS = $(patsubst core/%.c,$(BUILD)/core/%.o,$(CORE_RT) $(CORE_TOOLS))
CLI_SRCS = $(wildcard cli/*.c)
CLI_OBJS = $(patsubst cli/%.c,$(BUILD)/cli/%.o,$(CLI_SRCS))
TEST_SRCS = $(wildcard tests/test_*.c)
TEST_BINS = $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
CLI = $(if $(SANITIZE),$(BUILD)/melodynet,bin/melodynet)

CORE_HEADERS = $(wildcard core/rt/*.h core/tools/*.h)
$(BUILD)/core/%.o: core/%.c $(CORE_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(TOOL_CFLAGS) -c $< -o $@

$(BUILD)/cli/%.o: cli/%.c $(CORE_HEADERS) cli/cli.h
	@mkdir -p $(dir $@)
	$(CC) $(TOOL_CFLAGS) -Icli -c $< -o $@

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

# the C side of tests/torch: a session's logits on the events of MIDI files, trainer steps
TORCH_HELPER = $(BUILD)/tests/torch/session_logits $(BUILD)/tests/torch/trainer_steps
$(BUILD)/tests/torch/%: tests/torch/%.c $(BUILD)/libmncore.a
	@mkdir -p $(dir $@)
	$(CC) $(TOOL_CFLAGS) $< -o $@ $(TOOL_LDFLAGS) $(BUILD)/libmncore.a $(TOOL_LDLIBS)

# the externals built with SANITIZE into $(BUILD)/ext, apart from the release ones (Pd then needs
# the sanitizer's runtime in LD_PRELOAD)
SAN_EXTS = $(BUILD)/ext/melodynet.$(extension) $(BUILD)/ext/melodynet~.$(extension)
$(BUILD)/ext/melodynet.$(extension): externals/melodynet.c
$(BUILD)/ext/melodynet~.$(extension): externals/melodynet_tilde.c
$(SAN_EXTS): $(common.sources) $(CORE_HEADERS) $(wildcard externals/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -Icore/rt -Icore/tools -fPIC -shared -I"$(PDINCLUDEDIR)" -o $@ \
	    $(filter externals/melodynet.c externals/melodynet_tilde.c,$^) $(common.sources) \
	    $(TOOL_LDFLAGS) $(ldlibs)
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

# the two externals only (tests/pd/sanitize.sh builds them instrumented with this)
externals: $(addsuffix .$(extension),$(classes))

# unit, CLI and Pd patch tests under AddressSanitizer and UndefinedBehaviorSanitizer
check-asan: deps
	@$(MAKE) --no-print-directory SANITIZE=address,undefined cli-tests
	@tests/pd/sanitize.sh

# the externals under ThreadSanitizer in real-time Pd: loads, reads, deletions and DSP while the
# loader and [melodynet~]'s worker run (the chained requests in the release build too, and the
# loader's Pd tests under AddressSanitizer with leak detection)
check-threads: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory SANITIZE=thread sanitized-externals
	@$(MAKE) --no-print-directory SANITIZE=address sanitized-externals
	@CC="$(CC)" tools/check-threads.sh build/thread/ext . build/address/ext

cli-tests: $(CLI) $(TEST_BINS) $(TORCH_HELPER)
	@tools/run-checks.sh $(BUILD) $(CLI) $(TEST_BINS) --no-pd

unit: $(TEST_BINS) $(TORCH_HELPER)

# render a generated melody with Pd to demo.wav, demo.mid (and demo.svg)
demo: deps
	@$(MAKE) --no-print-directory all
	@tools/demo.sh

# step latency and training throughput against PyTorch, written to BENCHMARKS.md
bench: deps
	@$(INSTALL_DEPS) python3-torch python3-numpy time
	@$(MAKE) --no-print-directory all
	@tools/bench.sh --write

# fuzz every parser with libFuzzer (tools/fuzz.sh; FUZZ_SECONDS each, default 60)
fuzz: deps
	@MN_CORE_SRCS="$(CORE_RT) $(CORE_TOOLS)" tools/fuzz.sh $(or $(FUZZ_SECONDS),60)

# render every help and example patch and subpatch in the Pd GUI under Xvfb to build/screenshots,
# then click each message box in them
screenshots: all
	@$(INSTALL_DEPS) xvfb xdotool imagemagick puredata-gui
	@MN_SHOT_PATH=$(CURDIR) tools/screenshots.sh build/screenshots

# the sets above, for tests/build/layout.sh
print-layout:
	@echo "CORE_RT=$(CORE_RT)"
	@echo "CORE_TOOLS=$(CORE_TOOLS)"
	@echo "CORE_LEARN=$(CORE_LEARN)"
	@echo "COMMON=$(common.sources)"
	@echo "CLASS_SOURCES=$(melodynet.class.sources) $(melodynet~.class.sources)"
	@echo "PDINCLUDEDIR=$(PDINCLUDEDIR)"

# regenerate the golden files of the Pd patch tests
golden: all
	@tests/pd/run.sh --golden

# retrain the bundled default model from DATA (default ../shared/data)
model: cli
	@tools/train-default.sh $(or $(DATA),../shared/data)

# build the bundled model's copy-guard index (models/default.mncopy) from DATA's train splits;
# it holds the training tunes' intervals, so it is not distributed (see models/README.md)
copy-index: cli
	@mkdir -p build/copy-index
	bin/melodynet copy-index $(or $(DATA),../shared/data)/nottingham/train.txt \
	    $(or $(DATA),../shared/data)/essen/train.txt -o build/copy-index/default.mnet
	mv build/copy-index/default.mncopy models/default.mncopy

# remove our build folders too (pd-lib-builder's clean removes the externals and objects)
clean: clean-tools
clean-tools:
	rm -rf build bin
	rm -f melodynet.pd_linux melodynet~.pd_linux  # the binaries' names before 0.2

.PHONY: externals install-examples clean-tools cli deps check check-asan check-threads \
        sanitized-externals cli-tests unit demo bench fuzz golden model screenshots copy-index \
        print-layout

endif # pd-lib-builder present
