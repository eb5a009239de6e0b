# libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined) over the
# persistent-data library, the meta tools and the table/message parser.
#
#   make fuzz-build            build build/fuzz/fuzz-* and their seed corpora
#   make fuzz [FUZZ_SECONDS=300] [FUZZ_TARGETS="meta-open ..."]
#                              run each target that long; fails on any finding
#   the host test tests/tree/fuzz-smoke.sh runs each ~20 s in make check.
#
# Crashes are kept in build/fuzz/artifacts/<target>/; the growing corpora in
# build/fuzz/corpus/<target>/ (seeded from fuzz/seeds and from images that
# thin_restore and ctpool meta restore write from fuzz/seeds/xml).

FUZZ_CC ?= clang
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -O1 -g -D_GNU_SOURCE -Wno-unused-parameter \
	-I$(CURDIR)/persistent-data/user/include -I$(CURDIR)/persistent-data \
	$(TOOLS_CFLAGS) -Ifuzz $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_TARGETS ?= meta-open meta-check meta-restore target-args
FUZZ_SECONDS ?= 300

FUZZ_PD_OBJS := $(addprefix $(FUZZ_DIR)/pd/,$(PD_OBJS) $(PD_USER_ONLY_OBJS))
# the metadata tools' library (tools/tools.mk), built with clang and the
# fuzzing sanitizers
FUZZ_LIBCTPOOL_META := $(FUZZ_DIR)/libctpool-meta.a
FUZZ_BINS := $(addprefix $(FUZZ_DIR)/fuzz-,$(FUZZ_TARGETS))

$(FUZZ_DIR)/pd/%.o: persistent-data/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/tools/%.o: tools/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/%.o: fuzz/%.c fuzz/fuzz-common.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

-include $(wildcard $(FUZZ_DIR)/pd/*.d $(FUZZ_DIR)/pd/user/*.d $(FUZZ_DIR)/tools/*/*.d $(FUZZ_DIR)/*.d)

$(eval $(call ctpool_lib_rule,meta,$(FUZZ_DIR)))

$(FUZZ_DIR)/fuzz-target-args: $(FUZZ_DIR)/fuzz-target-args.o $(FUZZ_DIR)/pd/target-args.o
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^

$(FUZZ_DIR)/fuzz-meta-open: $(FUZZ_DIR)/fuzz-meta-open.o $(FUZZ_PD_OBJS)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^

$(FUZZ_DIR)/fuzz-meta-check: $(FUZZ_DIR)/fuzz-meta-check.o $(FUZZ_LIBCTPOOL_META) $(FUZZ_PD_OBJS)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ -ljson-c

$(FUZZ_DIR)/fuzz-meta-restore: $(FUZZ_DIR)/fuzz-meta-restore.o $(FUZZ_LIBCTPOOL_META) $(FUZZ_PD_OBJS)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ -ljson-c

# Seed images: every fuzz/seeds/xml/*.xml restored by thin_restore (the
# reference tools' layout) and by ctpool meta restore (the library's), plus
# an all-zero image (the format path).
$(FUZZ_DIR)/seeds.stamp: $(wildcard fuzz/seeds/xml/*.xml fuzz/seeds/tables/*) \
		fuzz/make-seeds.sh $(CTPOOL_BIN)
	sh fuzz/make-seeds.sh $(FUZZ_DIR)/seeds $(CTPOOL_BIN)
	@touch $@

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS) $(FUZZ_DIR)/seeds.stamp

fuzz: fuzz-build
	sh fuzz/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)
