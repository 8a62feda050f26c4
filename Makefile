# nnc — build, test and benchmark.
#   make            build build/nnc
#   make test       unit tests (Criterion) and golden tests, optimized
#   make test-san   the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make check      both (what CI runs)
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

SRC := $(wildcard src/*.c src/frontend/*.c src/ir/*.c src/codegen/*.c src/codegen/c/*.c)
GEN_SRC := $(BUILD)/grammar/parser.c $(BUILD)/grammar/lexer.c
LIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(filter-out src/main.c,$(SRC))) $(GEN_SRC:.c=.o)
MAIN_OBJ := $(BUILD)/src/main.o
RT_SRC := $(wildcard runtime/*.c)
RT_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(RT_SRC))
# The runtime is embedded into generated C, so it is held to what users'
# compilers will be asked: C99, pedantic.
RT_CFLAGS := -std=c99 -D_POSIX_C_SOURCE=200809L -pedantic -Wall -Wextra -Werror $(OPT) $(SANFLAGS) -MMD -MP
TEST_SRC := $(wildcard tests/test_*.c)
TEST_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(TEST_SRC))

.PHONY: all test test-san check unit golden smoke update-golden demo bench clean
all: $(BUILD)/nnc

$(BUILD)/nnc: $(MAIN_OBJ) $(BUILD)/libnncc.a $(BUILD)/libnncrt.a
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread $(LDLIBS)

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

$(BUILD)/libnncrt.a: $(RT_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/runtime/%.o: runtime/%.c
	@mkdir -p $(dir $@)
	$(CC) $(RT_CFLAGS) -Iruntime -c -o $@ $<

$(BUILD)/tests/unit: $(TEST_OBJ) $(BUILD)/libnncc.a $(BUILD)/libnncrt.a
	$(CC) $(LDFLAGS) -o $@ $^ -lcriterion -lpthread $(LDLIBS)

unit: $(BUILD)/tests/unit
	$(BUILD)/tests/unit --jobs 2

golden: $(BUILD)/nnc
	NNC=$(BUILD)/nnc tests/golden.sh

update-golden: $(BUILD)/nnc
	NNC=$(BUILD)/nnc tests/golden.sh --update

smoke: $(BUILD)/nnc
	NNC=$(BUILD)/nnc tests/smoke.sh

test: unit golden smoke

# The README's first command: what nnc makes of the bundled cancer model.
demo: $(BUILD)/nnc
	$(BUILD)/nnc --check -v examples/cancer.nn
	$(BUILD)/nnc --emit=ir examples/cancer.nn

test-san:
	$(MAKE) SAN=1 test

check: test test-san

# Speed against PyTorch on the CPU (not a test; see bench/bench.sh).
bench: $(BUILD)/nnc
	sh scripts/deps.sh bench
	NNC=$(BUILD)/nnc bench/bench.sh

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
