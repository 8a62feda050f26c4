# nnc — build, test and benchmark.
#   make            build build/nnc
#   make test       unit tests (Criterion) and golden tests, optimized
#   make test-san   the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make check      both, and each fuzz target for 10 s (what CI runs; 2 jobs)
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (tests/fuzz/fuzz.mk)
#   make update-golden   rewrite golden expectations (review the diff!)
#   make clean

SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT := -O1 -g
else
BUILD ?= build
SANFLAGS :=
OPT := -O2 -g
endif

CC ?= cc
CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror $(OPT) $(SANFLAGS) -MMD -MP
LDFLAGS := $(SANFLAGS)
LDLIBS := -lm

SRC := $(wildcard src/*.c src/frontend/*.c src/ir/*.c src/codegen/*.c src/codegen/c/*.c src/codegen/llvm/*.c)
GEN_SRC := $(BUILD)/grammar/parser.c $(BUILD)/grammar/lexer.c
LIB_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(filter-out src/main.c,$(SRC))) $(GEN_SRC:.c=.o)
MAIN_OBJ := $(BUILD)/src/main.o
RT_SRC := $(wildcard runtime/*.c)
RT_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(RT_SRC))
# The runtime is embedded into generated C, so it is held to what users'
# compilers will be asked: C99, pedantic.
RT_CFLAGS := -std=c99 -D_POSIX_C_SOURCE=200809L -pedantic -Wall -Wextra -Werror $(OPT) $(SANFLAGS) -MMD -MP
# The runtime's source as one string, for --emit=c to paste into every
# generated file (scripts/embed.sh; ARCHITECTURE: embedded by the build).
RT_EMBED := $(BUILD)/gen/runtime_text.c
LIB_OBJ += $(RT_EMBED:.c=.o)
# --emit=lib's C API, real C written once (runtime/lib/: the -H header's
# text and the definitions), compiled as it is and embedded as templates
# that nnc fills with the model's names (scripts/embed.sh --template).
LIB_API_EMBED := $(BUILD)/gen/lib_api_h.c $(BUILD)/gen/lib_api_c.c
LIB_OBJ += $(LIB_API_EMBED:.c=.o)
# The LLVM backend (src/codegen/llvm) builds through LLVM 14's C API. Its
# headers are system headers (-isystem): our -Werror is not theirs.
# It is optional: without llvm-config-14 (llvm-14-dev), nnc is built with
# src/codegen/llvm_absent.c instead, emits C only, and says that
# --emit=llvm|bc|obj|exe and `nnc run` need an nnc built with LLVM; the
# LLVM tests (tests/test_llvm.c, make llvm) are skipped, loudly.
LLVM_CONFIG ?= llvm-config-14
LLVM_INC := $(shell $(LLVM_CONFIG) --includedir 2>/dev/null)
ifeq ($(LLVM_INC),)
HAVE_LLVM := 0
LLVM_LIBS :=
SRC := $(filter-out src/codegen/llvm/%.c,$(SRC))
TEST_SKIP := tests/test_llvm.c
$(info nnc: LLVM 14 not found ($(LLVM_CONFIG)): building without the LLVM backend; install llvm-14-dev (scripts/deps.sh) or set LLVM_CONFIG for it)
else
HAVE_LLVM := 1
LLVM_LIBS := $(shell $(LLVM_CONFIG) --ldflags) $(shell $(LLVM_CONFIG) --libs)
SRC := $(filter-out src/codegen/llvm_absent.c,$(SRC))
TEST_SKIP :=
$(BUILD)/src/codegen/llvm/%.o $(BUILD)/tests/test_llvm.o: CFLAGS += -isystem $(LLVM_INC)
endif
# The f64 runtime, for --emit=obj/exe --dtype=f64 objects.
RT64_OBJ := $(patsubst runtime/%.c,$(BUILD)/runtime64/%.o,$(RT_SRC))
PREFIX ?= /usr/local
TEST_SRC := $(filter-out $(TEST_SKIP),$(wildcard tests/test_*.c))
TEST_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(TEST_SRC))

.PHONY: all test test-san check unit seams golden smoke cli huge hostile e2e llvm numpy resume mpi update-golden demo bench bench-knobs bench-mpi clean install
all: $(BUILD)/nnc $(BUILD)/libnncrt_f64.a

$(BUILD)/nnc: $(MAIN_OBJ) $(BUILD)/libnncc.a $(BUILD)/libnncrt.a $(BUILD)/libnncrt64.a
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread $(LDLIBS) $(LLVM_LIBS)

$(BUILD)/libnncc.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/grammar/parser.c $(BUILD)/grammar/parser.h: grammar/parser.y
	@mkdir -p $(dir $@)
	bison -Wall -Werror -o $(BUILD)/grammar/parser.c --header=$(BUILD)/grammar/parser.h $<

$(BUILD)/grammar/lexer.c $(BUILD)/grammar/lexer.h: grammar/lexer.l
	@mkdir -p $(dir $@)
	flex -o $(BUILD)/grammar/lexer.c --header-file=$(BUILD)/grammar/lexer.h $<

# Generated scanners and parsers trip -Wextra in code we do not own.
$(BUILD)/grammar/%.o: $(BUILD)/grammar/%.c $(BUILD)/grammar/parser.h $(BUILD)/grammar/lexer.h
	$(CC) $(filter-out -Werror,$(CFLAGS)) -Wno-unused-function -Wno-sign-compare -Isrc -Igrammar -I$(BUILD)/grammar -c -o $@ $<

$(BUILD)/%.o: %.c | $(BUILD)/grammar/parser.h $(BUILD)/grammar/lexer.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc -Iruntime -I$(BUILD)/grammar -c -o $@ $<

$(RT_EMBED): scripts/embed.sh runtime/nnc_abi.h runtime/runtime.h $(RT_SRC)
	@mkdir -p $(dir $@)
	sh scripts/embed.sh runtime >$@.tmp && mv $@.tmp $@

# Embedded once the template compiles, f32 and f64 (the objects are checks,
# linked into nothing).
LIB_API_CHECK := $(BUILD)/runtime/lib/lib_api.o $(BUILD)/runtime64/lib/lib_api.o
$(BUILD)/gen/lib_api_h.c: scripts/embed.sh runtime/lib/lib_api.h $(LIB_API_CHECK)
	@mkdir -p $(dir $@)
	sh scripts/embed.sh --template cg_c_lib_api_h runtime/lib/lib_api.h >$@.tmp && mv $@.tmp $@

$(BUILD)/gen/lib_api_c.c: scripts/embed.sh runtime/lib/lib_api.c $(LIB_API_CHECK)
	@mkdir -p $(dir $@)
	sh scripts/embed.sh --template cg_c_lib_api_c runtime/lib/lib_api.c >$@.tmp && mv $@.tmp $@

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(CFLAGS) -Isrc -Iruntime -c -o $@ $<

$(BUILD)/libnncrt.a: $(RT_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/runtime/%.o: runtime/%.c
	@mkdir -p $(dir $@)
	$(CC) $(RT_CFLAGS) -Iruntime -c -o $@ $<

$(BUILD)/libnncrt_f64.a: $(RT64_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The f64 runtime inside nnc, for `nnc run --dtype=f64`: every external name
# it defines gets the prefix nnc64_, so that both runtimes link into nnc.
$(BUILD)/libnncrt64.a: $(BUILD)/libnncrt_f64.a
	nm -g --defined-only $< | awk 'NF == 3 { print $$3 " nnc64_" $$3 }' | sort -u >$@.syms
	objcopy --redefine-syms=$@.syms $< $@

$(BUILD)/runtime64/%.o: runtime/%.c
	@mkdir -p $(dir $@)
	$(CC) $(RT_CFLAGS) -DNNC_F64 -Iruntime -c -o $@ $<

$(BUILD)/tests/unit: $(TEST_OBJ) $(BUILD)/libnncc.a $(BUILD)/libnncrt.a
	$(CC) $(LDFLAGS) -o $@ $^ -lcriterion -lpthread $(LDLIBS) $(LLVM_LIBS)

unit: $(BUILD)/tests/unit
ifeq ($(HAVE_LLVM),0)
	@echo "**** SKIPPED: tests/test_llvm.c (this nnc is built without LLVM) ****"
endif
	$(BUILD)/tests/unit --jobs 2

golden: $(BUILD)/nnc
	NNC=$(BUILD)/nnc tests/golden.sh

# The backends read only src/codegen/model.h, never the IR (tests/seams.sh).
seams:
	CC="$(CC)" tests/seams.sh

update-golden: $(BUILD)/nnc
	NNC=$(BUILD)/nnc tests/golden.sh --update

smoke: $(BUILD)/nnc
	NNC=$(BUILD)/nnc SMOKE_QUICK=$(SAN) tests/smoke.sh

# The C backend end to end: every example and golden model compiled with
# gcc and clang, trained, gradient-checked, compared with the interpreter.
e2e: $(BUILD)/nnc $(BUILD)/libnncc.a
	NNC=$(BUILD)/nnc BUILD=$(BUILD) HARNESS_FLAGS="$(SANFLAGS)" E2E_QUICK=$(SAN) tests/e2e.sh

# The LLVM backend end to end (tests/llvm.sh): .ll verified by opt, LLVM
# against C trainers, --emit=obj with a C program, nnc run without cc, and
# `make install` into a temporary prefix.
llvm: $(BUILD)/nnc $(BUILD)/libnncc.a $(BUILD)/libnncrt.a $(BUILD)/libnncrt_f64.a
ifeq ($(HAVE_LLVM),0)
	@echo "**** SKIPPED: make llvm (this nnc is built without LLVM: install llvm-14-dev) ****"
else
	NNC=$(BUILD)/nnc BUILD=$(BUILD) LLVM_QUICK=$(SAN) tests/llvm.sh
endif

# Weight files read back with plain NumPy (tests/safetensors_numpy.py).
numpy: $(BUILD)/nnc
	NNC=$(BUILD)/nnc tests/numpy.sh

# Huge and extreme programs end in a message or compiling C (tests/huge.sh);
# hostile data, checkpoints, weights and output paths (tests/hostile.sh).
huge: $(BUILD)/nnc
	NNC=$(BUILD)/nnc HUGE_QUICK=$(SAN) tests/huge.sh

hostile: $(BUILD)/nnc
	NNC=$(BUILD)/nnc tests/hostile.sh

# Training killed with SIGKILL and resumed ends bit-identical (tests/resume.sh).
resume: $(BUILD)/nnc
	NNC=$(BUILD)/nnc tests/resume.sh

# A new user's first hour: nnc's and the trainer's command lines, default
# save, output paths, gzip and standard input, -H memory macros (tests/cli.sh).
cli: $(BUILD)/nnc
	NNC=$(BUILD)/nnc tests/cli.sh

# Data-parallel training under mpirun -np 1, 2, 3 equals one process,
# failures end the job (tests/mpi.sh; skips loudly without Open MPI).
mpi: $(BUILD)/nnc
	NNC=$(BUILD)/nnc MPI_QUICK=$(SAN) tests/mpi.sh

# The examples: `make cancer`, `make examples`, `make examples-test`.
include examples/examples.mk

# libFuzzer targets: `make fuzz FUZZ_SECONDS=600`, `make fuzz-smoke`.
include tests/fuzz/fuzz.mk

test: unit seams golden smoke cli huge hostile e2e llvm numpy resume mpi examples-test

# The README's first command: compile the cancer model, train it on the
# bundled data with Keras-style progress, and score it on the test split.
demo: cancer

test-san:
	$(MAKE) SAN=1 test

# What CI runs. Two targets at a time: most test scripts keep one core busy
# (compilers, short trainings) and the suite must fit CI's time on 2 cores.
# -O prints each target's output whole when it ends.
check:
	$(MAKE) -j2 -O test
	$(MAKE) -j2 -O test-san fuzz-smoke

# Speed against PyTorch on the CPU (not a test; see bench/bench.sh).
bench: $(BUILD)/nnc
	sh scripts/deps.sh bench
	NNC=$(BUILD)/nnc SHARED=../shared bench/bench.sh

# The same trainers under gcc and clang at -O2 and -O3 against the LLVM
# backend, and --threads 2 against 1 (bench/bench-knobs.sh; quiet machine).
bench-knobs: $(BUILD)/nnc
	NNC=$(BUILD)/nnc SHARED=../shared bench/bench-knobs.sh

# The speedup of `mpirun -np 2` over one rank on model E (bench/bench-mpi.sh;
# take the figure on a quiet machine).
bench-mpi: $(BUILD)/nnc
	NNC=$(BUILD)/nnc sh bench/bench-mpi.sh

# nnc, the runtime libraries --emit=exe links and the kernel ABI's header:
# `make install PREFIX=/opt/nnc` (nnc finds PREFIX/lib from PREFIX/bin/nnc).
install: $(BUILD)/nnc $(BUILD)/libnncrt.a $(BUILD)/libnncrt_f64.a
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include
	install -m 755 $(BUILD)/nnc $(DESTDIR)$(PREFIX)/bin/nnc
	install -m 644 $(BUILD)/libnncrt.a $(BUILD)/libnncrt_f64.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 runtime/nnc_abi.h $(DESTDIR)$(PREFIX)/include/nnc_abi.h

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
