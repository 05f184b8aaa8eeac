#!/usr/bin/env bash
# run.sh: run every test_*.sh of a test directory with a timeout; report each; fail if any
# failed. Needs root. TEST_DIR picks the directory (default tests/integ, also tests/e2e);
# BUILD selects the build dir (default build); TIMEOUT the seconds per test.
set -euo pipefail

dir=$(cd "${TEST_DIR:-$(dirname "$0")}" && pwd)
export BUILD=${BUILD:-build}
timeout_s=${TIMEOUT:-300}
skip_rc=77

if [ "$(id -u)" -ne 0 ]; then
	echo "$(basename "$dir"): needs root (network namespaces, XDP)" >&2
	exit 1
fi

passed=()
failed=()
skipped=()
for t in "$dir"/test_*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then
		continue	# run.sh NAME... runs only those
	fi
	echo "=== $name"
	start=$SECONDS
	rc=0
	# SIGTERM first (the test's EXIT trap takes its testbed down), SIGKILL 20 s later.
	timeout -k 20 "$timeout_s" bash "$t" || rc=$?
	took=$((SECONDS - start))
	if [ "$rc" -eq 0 ]; then
		echo "=== $name: PASS (${took}s)"
		passed+=("$name")
	elif [ "$rc" -eq "$skip_rc" ]; then
		echo "=== $name: SKIP (${took}s)"
		skipped+=("$name")
	else
		[ "$rc" -eq 124 ] && echo "=== $name: timed out after ${timeout_s}s"
		echo "=== $name: FAIL (exit $rc, ${took}s)"
		failed+=("$name")
	fi
done

echo "$(basename "$dir"): ${#passed[@]} passed, ${#failed[@]} failed, ${#skipped[@]} skipped"
if [ ${#failed[@]} -ne 0 ]; then
	echo "$(basename "$dir"): FAILED: ${failed[*]}"
	exit 1
fi
