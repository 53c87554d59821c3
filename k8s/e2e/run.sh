#!/usr/bin/env bash
# Entry point for CI: the kind end-to-end tests, or one SKIPPED line where Docker or kind are
# missing. Prints "N passed, N failed" and exits non-zero on a failure.
set -euo pipefail
exec bash "$(dirname "$0")/kind-e2e.sh" "$@"
