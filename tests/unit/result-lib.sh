# Sourced (POSIX sh, not run) by the host shell tests of tests/unit/*/ and
# tests/tree/: an "ok"/"not ok" line per check and the closing
# "N passed, N failed" that tests/run-all.sh reads.

passed=0 failed=0

# result STATUS WHAT: WHAT passed when STATUS is 0, failed otherwise.
result() {
	if [ "$1" -eq 0 ]; then
		passed=$((passed + 1)); echo "ok - $2"
	else
		failed=$((failed + 1)); echo "not ok - $2"
	fi
}

# summary: the closing line; true when nothing failed.
summary() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
