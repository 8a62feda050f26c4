# examples/examples.mk — train every example on its training split and score
# it on the held-out test split (included by the top Makefile).
#
#   make cancer          compile examples/cancer.nn with $(BUILD)/nnc, train it
#                        (Keras-style progress), save the weights under
#                        $(BUILD)/examples/ and print the test score
#   make perceptron iris wine digits diabetes multilabel explicit mnist fashion
#   make examples        all of them, one after the other
#   make examples-test   tests/examples.sh (scores against examples/expected.txt)
#
# MNIST and Fashion-MNIST are too big to commit: they are read from $(DATA)
# (default ../shared/data; `make mnist DATA=/path/to/data`). fashion unpacks
# fashion_train.csv.gz (60 000 rows) into $(BUILD)/examples/ first.
# The multi-label set examples/data/multilabel_*.csv is derived from the
# digits split by tests/make_multilabel.sh (committed, with the script).

DATA ?= ../shared/data
EX_CC ?= $(CC)
# -ffp-contract=off: gcc and clang fuse a*b+c into FMA instructions under
# -march=native on FMA-capable CPUs, which moves the last bits of training
# (and so the last digits of the scores). Without contraction the
# weights are bit-identical with and without -march=native, gcc or clang,
# at the same speed, so the scores match examples/expected.txt anywhere.
EX_CFLAGS ?= -O2 -march=native -ffp-contract=off
EX_THREADS ?= 2
EX_DIR := $(BUILD)/examples

EX_NAMES := perceptron cancer iris wine digits diabetes multilabel explicit mnist fashion

# Each example's data set (train and test CSVs), and the metric it reports.
EX_SET_perceptron := cancer
EX_SET_explicit := cancer
EX_TRAIN = $(if $(filter mnist,$(1)),$(DATA)/mnist_train.csv,$(if $(filter fashion,$(1)),$(EX_DIR)/fashion_train.csv,examples/data/$(or $(EX_SET_$(1)),$(1))_train.csv))
EX_TEST = $(if $(filter mnist fashion,$(1)),$(DATA)/$(1)_test.csv,examples/data/$(or $(EX_SET_$(1)),$(1))_test.csv)

.PHONY: examples examples-test $(EX_NAMES)

examples: $(EX_NAMES)

examples-test: $(BUILD)/nnc
	NNC=$(BUILD)/nnc DATA=$(DATA) tests/examples.sh

# zcat into a temporary name, so an interrupted unpack is never taken as done.
$(EX_DIR)/fashion_train.csv: $(DATA)/fashion_train.csv.gz
	@mkdir -p $(dir $@)
	zcat $< >$@.tmp && mv $@.tmp $@

$(DATA)/%:
	@echo "examples: $@ not found: MNIST and Fashion-MNIST are read from DATA=$(DATA) (make $(firstword $(MAKECMDGOALS)) DATA=DIR)" >&2
	@exit 1

# train, then `eval` on the test split; diabetes also prints the test RMSE
# (the square root of its `mse` metric).
# Explicit rules (not patterns), so that no other pattern rule for
# $(BUILD)/examples/% can take precedence.
define EX_RULE
$(EX_DIR)/$(1).c: examples/$(1).nn $(BUILD)/nnc
	@mkdir -p $(EX_DIR)
	$(BUILD)/nnc $$< -o $$@

$(EX_DIR)/$(1): $(EX_DIR)/$(1).c
	$(EX_CC) $(EX_CFLAGS) $$< -o $$@ -lm -lpthread

$(1): $(EX_DIR)/$(1) $(call EX_TRAIN,$(1)) $(call EX_TEST,$(1))
	@echo "== $(1): train on $(call EX_TRAIN,$(1))"
	$(EX_DIR)/$(1) train $(call EX_TRAIN,$(1)) --threads $(EX_THREADS) --save $(EX_DIR)/$(1).safetensors
	@echo "== $(1): held-out test set $(call EX_TEST,$(1))"
	@$(EX_DIR)/$(1) eval $(call EX_TEST,$(1)) --threads $(EX_THREADS) --weights $(EX_DIR)/$(1).safetensors \
		>$(EX_DIR)/$(1).eval.txt
	@awk '{ print "test " $$$$0 } / mse: / { for (i = 1; i < NF; i++) if ($$$$i == "mse:") printf "test rmse: %.4f\n", sqrt($$$$(i + 1)) }' \
		$(EX_DIR)/$(1).eval.txt
endef
$(foreach e,$(EX_NAMES),$(eval $(call EX_RULE,$(e))))
