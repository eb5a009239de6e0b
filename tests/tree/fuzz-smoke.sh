#!/bin/sh
# make check: build the libFuzzer targets (fuzz/fuzz.mk) and run each one
# briefly (FUZZ_SMOKE_SECONDS, default 20) from its seeds and the inputs that
# once crashed it (fuzz/regress/). Any crash, leak, sanitizer report or hang
# fails. `make fuzz` runs the same targets for minutes.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
secs=${FUZZ_SMOKE_SECONDS:-20}
if ! make -s fuzz-build > build-fuzz.log 2>&1; then
	echo "not ok - building the fuzz targets failed:"
	tail -n 30 build-fuzz.log
	rm -f build-fuzz.log
	echo "0 passed, 1 failed"
	exit 1
fi
rm -f build-fuzz.log
exec sh fuzz/run-fuzz.sh "$secs" meta-open meta-check meta-restore target-args
