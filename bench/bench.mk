# make bench: raw disk vs kernel dm-thin vs ctpool in one QEMU guest.
# See bench/README.md (BENCH_REPS, BENCH_QUICK=1, BENCH_TARGETS, BENCH_GROUPS).
# A module that does not build is no reason to skip the comparison: its
# column then shows errors.

bench: deps
	$(MAKE) all || echo "bench: build failed: the ctpool column may show errors"
	bash scripts/bench.sh
	@echo "bench: metadata tools, ctpool meta vs thin-provisioning-tools:"
	bash scripts/bench-meta.sh
	@echo "bench: delete, discard and snapshot of thins of up to 1M mappings (bench/scale.sh):"
	bash bench/scale.sh || echo "bench: the scale run failed, see bench/results/scale.log"

# Only the scale rows (bench/README.md): about 20 minutes.
.PHONY: bench-scale
bench-scale: deps
	$(MAKE) all
	bash bench/scale.sh

# The userspace metadata benchmark of delete and create_snap
# (bench/thin-delete-bench.c). Built with everything else so that it keeps
# compiling; run by scripts/bench-meta.sh, never by the tests.
THIN_DELETE_BENCH := $(BUILD)/bench/thin-delete-bench
USERSPACE_TARGETS += $(THIN_DELETE_BENCH)

$(THIN_DELETE_BENCH): bench/thin-delete-bench.c $(PD_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -o $@ $< $(PD_LIB)

.PHONY: thin-delete-bench
thin-delete-bench: $(THIN_DELETE_BENCH)
	$(THIN_DELETE_BENCH)
