#!/usr/bin/env bash
# Run every test suite in order; exit non-zero if any fails. Called by `make test`.
set -uo pipefail
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}

failed=()
run() {
	local name=$1
	shift
	echo "=== $name"
	if "$@"; then
		echo "=== $name: ok"
	else
		echo "=== $name: FAILED"
		failed+=("$name")
	fi
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "tests: the BPF and network suites need root" >&2
		return 1
	fi
}

run "unit tests" $MAKE --no-print-directory unit
run "unit tests under ASan+UBSan" $MAKE --no-print-directory asan
run "BPF tests (BPF_PROG_TEST_RUN on the real objects)" sh -c "$(declare -f need_root); need_root && $MAKE --no-print-directory bpftest"
run "integration tests (siplbd on a namespace testbed)" sh -c "$(declare -f need_root); need_root && $MAKE --no-print-directory integ"
run "end-to-end tests (Kamailio and sipp through siplb)" sh -c "$(declare -f need_root); need_root && $MAKE --no-print-directory e2e"
run "parser and relay fuzzing (libFuzzer, ASan+UBSan, ${FUZZ_SECONDS:-60} + ${RELAY_FUZZ_SECONDS:-20} s)" $MAKE --no-print-directory fuzz

if [ ${#failed[@]} -ne 0 ]; then
	echo "FAILED: ${failed[*]}"
	exit 1
fi
echo "all suites passed"
