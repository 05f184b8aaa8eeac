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
	printf '%-28s ' "$(basename "$f")"
	build/siplbctl parse --json "$f" | python3 -c '
import json, sys
o = json.load(sys.stdin)
print("%-9s %-6s call-id=%s path=%s%s" % (o["method"] or o["status"], o["kind"],
      o["call_id"], o["path"], (" (" + o["reason"] + ")") if o["reason"] else ""))'
done
