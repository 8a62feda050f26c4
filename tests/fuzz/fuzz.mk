# tests/fuzz/fuzz.mk — libFuzzer targets (included by the Makefile).
#   make fuzz FUZZ_SECONDS=600   each target for that long (default 60)
#   make fuzz-smoke              each target for FUZZ_SMOKE seconds (10), and
#                                every kept reproducer (tests/fuzz/regress/)
# Built with clang and -fsanitize=fuzzer,address,undefined under build/fuzz.
# The runtime targets drive the model of tests/fuzz/model.nn, compiled by
# nnc's LLVM backend (--emit=obj) and linked with the instrumented runtime.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE ?= 10
FUZZ := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -g -O1 -D_POSIX_C_SOURCE=200809L -fsanitize=fuzzer-no-link $(FUZZ_SAN) -MMD -MP
FUZZ_NNC_TARGETS := frontend eval
FUZZ_RT_TARGETS := csv safetensors checkpoint cli
FUZZ_TARGETS := $(FUZZ_NNC_TARGETS) $(FUZZ_RT_TARGETS)
FUZZ_BINS := $(addprefix $(FUZZ)/fuzz_,$(FUZZ_TARGETS))

# nnc without main.c and the LLVM backend (the C path is what is fuzzed;
# src/codegen/llvm_absent.c stands in for LLVM).
FUZZ_NNC_SRC := $(sort $(filter-out src/main.c src/codegen/llvm/%,$(SRC)) src/codegen/llvm_absent.c) \
                $(GEN_SRC) $(RT_EMBED) $(LIB_API_EMBED)
FUZZ_NNC_OBJ := $(patsubst %.c,$(FUZZ)/nnc/%.o,$(FUZZ_NNC_SRC))
FUZZ_RT_OBJ := $(patsubst runtime/%.c,$(FUZZ)/rt/%.o,$(RT_SRC))

.PHONY: fuzz fuzz-build fuzz-smoke
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ=$(FUZZ) NNC=$(BUILD)/nnc sh tests/fuzz/run.sh $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SMOKE) FUZZ=$(FUZZ) NNC=$(BUILD)/nnc sh tests/fuzz/run.sh $(FUZZ_TARGETS)

$(FUZZ)/nnc/%.o: %.c | $(BUILD)/grammar/parser.h $(BUILD)/grammar/lexer.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 $(FUZZ_CFLAGS) -Wno-unused-function -Isrc -Iruntime -Igrammar -I$(BUILD)/grammar -c -o $@ $<

$(FUZZ)/rt/%.o: runtime/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c99 $(FUZZ_CFLAGS) -Iruntime -c -o $@ $<

$(FUZZ)/model.o $(FUZZ)/model.h: tests/fuzz/model.nn $(BUILD)/nnc
	@mkdir -p $(FUZZ)
	$(BUILD)/nnc tests/fuzz/model.nn --emit=obj -H $(FUZZ)/model.h -o $(FUZZ)/model.o

$(FUZZ)/util.o: tests/fuzz/fuzz_util.c tests/fuzz/fuzz.h
	@mkdir -p $(FUZZ)
	$(FUZZ_CC) -std=c99 $(FUZZ_CFLAGS) -c -o $@ $<

$(addprefix $(FUZZ)/fuzz_,$(FUZZ_NNC_TARGETS)): $(FUZZ)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_NNC_OBJ) $(FUZZ_RT_OBJ)
	$(FUZZ_CC) -std=c11 -g -O1 -fsanitize=fuzzer $(FUZZ_SAN) -Isrc -Iruntime -o $@ $< $(FUZZ_NNC_OBJ) $(FUZZ_RT_OBJ) -lpthread -lm

$(addprefix $(FUZZ)/fuzz_,$(FUZZ_RT_TARGETS)): $(FUZZ)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ)/model.o $(FUZZ)/model.h $(FUZZ)/util.o $(FUZZ_RT_OBJ)
	$(FUZZ_CC) -std=c99 -g -O1 -D_POSIX_C_SOURCE=200809L -fsanitize=fuzzer $(FUZZ_SAN) -Iruntime -I$(FUZZ) -Itests/fuzz -o $@ $< $(FUZZ)/model.o $(FUZZ)/util.o $(FUZZ_RT_OBJ) -lpthread -lm
