#!/usr/bin/env bash
# lib.sh: assertions and bounded waits for the integration tests (sourced, with scripts/testbed.sh).
# shellcheck source-path=SCRIPTDIR
#
# A test starts with:
#	source "$(dirname "$0")/lib.sh"	# also sources scripts/testbed.sh
#	trap tb_down EXIT
#	tb_up 2
# fail prints the testbed's logs before exiting, so a failure explains itself.

set -euo pipefail

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/testbed.sh
source "$IT_DIR/../../scripts/testbed.sh"

IT_NAME=$(basename "${0%.sh}")
IT_SKIP=77		# exit status run.sh reports as "skipped"

# A signal (run.sh's timeout) exits through the EXIT trap, so tb_down runs.
trap 'exit 143' TERM
trap 'exit 130' INT

info() {
	echo "[$IT_NAME] $*"
}

fail() {
	echo "[$IT_NAME] FAIL: $*" >&2
	tb_logs >&2 || true
	exit 1
}

skip() {
	echo "[$IT_NAME] SKIP: $*"
	exit "$IT_SKIP"
}

ok() {
	echo "[$IT_NAME] ok: $*"
}

assert_eq() {
	[ "$1" = "$2" ] || fail "${3:-values differ}: got '$1', want '$2'"
}

# assert_ge GOT MIN MESSAGE (integers)
assert_ge() {
	[ "$1" -ge "$2" ] || fail "${3:-too small}: got $1, want >= $2"
}

assert_match() {
	[[ $1 =~ $2 ]] || fail "${3:-no match}: '$1' !~ /$2/"
}

# Run a command that must succeed; on failure its output goes into the message.
must() {
	local out
	out=$("$@" 2>&1) || fail "command failed: $*: $out"
	printf '%s\n' "$out"
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds; 1 on timeout.
wait_until() {
	local secs=$1 end
	shift
	end=$((SECONDS + secs))
	while ! "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# Lines of FILE matching the extended regex RE (0 when the file is missing).
count_lines() {
	local n
	n=$(grep -cE -- "$2" "$1" 2>/dev/null) || true
	echo "${n:-0}"
}

# wait_lines SECONDS FILE RE N: until FILE has at least N lines matching RE; 1 on timeout.
wait_lines() {
	local secs=$1 file=$2 re=$3 n=$4 end
	end=$((SECONDS + secs))
	while [ "$(count_lines "$file" "$re")" -lt "$n" ]; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}
