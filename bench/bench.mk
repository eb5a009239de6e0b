# make bench: raw disk vs kernel dm-thin vs ctpool in one QEMU guest.
# See bench/README.md (BENCH_REPS, BENCH_QUICK=1, BENCH_TARGETS, BENCH_GROUPS).
# A module that does not build is no reason to skip the comparison: its
# column then shows errors.

bench: deps
	$(MAKE) all || echo "bench: build failed: the ctpool column may show errors"
	bash scripts/bench.sh
	@echo "bench: metadata tools, ctpool meta vs thin-provisioning-tools:"
	bash scripts/bench-meta.sh
