# Reliability host tests: tests/tree/fuzz-smoke.sh (run by tests/run-all.sh)
# builds the fuzz targets itself with `make fuzz-build` (fuzz/fuzz.mk), so
# that `make all` does not need clang's sanitizer runtimes.
.PHONY: fuzz-smoke
fuzz-smoke:
	sh tests/tree/fuzz-smoke.sh
