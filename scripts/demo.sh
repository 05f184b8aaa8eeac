#!/usr/bin/env bash
# make demo: for now, the shared parser on the sample messages. The namespace
# testbed with siplbd and Kamailio backends arrives with the testbed issue.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "siplb demo"
echo "The live demo (siplbd, three Kamailio backends, sipp load in network"
echo "namespaces) arrives with the testbed; the daemon is not built yet."
echo "Meanwhile, what the XDP program's parser sees in the sample messages:"
echo
for f in tests/msgs/*.sip; do
	build/siplbctl parse "$f" | awk -v f="$(basename "$f")" '
		$1 == "method" { what = $2 }
		$1 == "status" && $2 != "-" { what = $2 }
		$1 == "call-id" { cid = $2 }
		$1 == "path" { $1 = ""; path = substr($0, 2) }
		END { printf "%-22s %-9s call-id=%-45s path=%s\n", f, what, cid, path }'
done
