#!/usr/bin/env bash
# One network-lab scenario as a test: netlab_test.sh SCENARIO_NAME.
# The tools, the delay line, the orchestrator and the scenario come from the
# runfiles; the lab's output (per-node logs, results.jsonl, the stream when
# the test fails) lands in the test's undeclared outputs.
set -euo pipefail
root="${TEST_SRCDIR}/${TEST_WORKSPACE}"
out="${TEST_UNDECLARED_OUTPUTS_DIR:-${TEST_TMPDIR}}/netlab-$1"
exec python3 "$root/lab/netlab.py" "$root/testdata/netlab/$1.json" \
  --bin-root "$root" --out "$out"
