#!/usr/bin/env bash
# Stop the Slurm daemons that .ci/slurm-up.sh started (and only those), newest first.
set -uo pipefail

STATE=${SPIKEMARK_SLURM_STATE:-/var/lib/spikemark-slurm}
[ -s "$STATE/started" ] || exit 0

# Cancel what is left in the queue, so that no job outlives its daemons.
command -v scancel >/dev/null && timeout 10 scancel --user="$(id -un)" 2>/dev/null

tac "$STATE/started" | while read -r name pidfile; do
    pid=$(cat "$pidfile" 2>/dev/null) || continue
    [ -n "$pid" ] || continue
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        echo "slurm-down: stopped $name ($pid)" >&2
    fi
done
rm -f "$STATE/started"
