#!/usr/bin/env bash
# Stop the private Slurm cluster that start-local-cluster.sh started from STATE_DIR, and remove STATE_DIR.
#
#   tests/slurm/stop-local-cluster.sh [--keep-state] [STATE_DIR]
#
# Stops exactly the PIDs recorded in STATE_DIR/pids (slurmd, then slurmctld, then munged), and only while each
# PID is still the process that was started (same command name, command line naming STATE_DIR), so a recycled
# PID is never signalled. Never kills anything by name. Jobs still known to the controller are cancelled first
# (scancel), so their slurmstepd processes end through Slurm rather than being orphaned.
# --keep-state stops the daemons but keeps STATE_DIR (logs) for inspection.
# Safe to re-run: with nothing recorded or nothing running it only cleans up. Exit 0 unless a recorded process
# survives SIGKILL.
set -euo pipefail

prog=stop-local-cluster
keep=0
if [ "${1:-}" = --keep-state ]; then
    keep=1
    shift
fi
STATE=${1:-${SAMSDE_SLURM_DIR:-/tmp/samsde-slurm}}
MARKER=.samsde-local-slurm
log() { printf '%s: %s\n' "$prog" "$*" >&2; }

case "$STATE" in /*) ;; *) STATE="$PWD/$STATE" ;; esac
STATE=${STATE%/}
if [ -z "$STATE" ] || [ "$STATE" = / ]; then log "refusing state dir '$STATE'"; exit 1; fi

if [ ! -e "$STATE" ]; then
    log "nothing to stop: $STATE does not exist"
    exit 0
fi
if [ ! -e "$STATE/$MARKER" ]; then
    log "$STATE was not created by start-local-cluster.sh (no $MARKER); leaving it alone"
    exit 1
fi

# The same machine-wide lock as start-local-cluster.sh (never deleted).
LOCK=/tmp/samsde-slurm.lock
exec 9>>"$LOCK"
flock -w 120 9 || { log "another start/stop has held $LOCK for 120 s"; exit 1; }

pid_matches() {
    local name=$1 pid=$2
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$STATE/" || return 1
}
recorded_pid() { [ -r "$STATE/pids" ] && awk -v n="$1" '$1 == n { print $2 }' "$STATE/pids" | tail -n 1; }

# Cancel jobs while the controller and slurmd still run, so batch scripts and their steps are killed by Slurm.
ctld=$(recorded_pid slurmctld || true)
if pid_matches slurmctld "$ctld" && [ -r "$STATE/slurm.conf" ]; then
    export SLURM_CONF="$STATE/slurm.conf"
    jobs=$(timeout 10 squeue -h -o '%i' 2>/dev/null || true)
    if [ -n "$jobs" ]; then
        log "cancelling jobs: $(echo "$jobs" | tr '\n' ' ')"
        # shellcheck disable=SC2086
        timeout 10 scancel $jobs 2>/dev/null || true
        for _ in $(seq 40); do
            [ -z "$(timeout 10 squeue -h -o '%i' 2>/dev/null || true)" ] && break
            sleep 0.25
        done
        left=$(timeout 10 squeue -h -o '%i %T' 2>/dev/null || true)
        [ -z "$left" ] || log "warning: jobs still listed after 10 s: $(echo "$left" | tr '\n' ';')"
    fi
fi

status=0
for name in slurmd slurmctld munged; do
    pid=$(recorded_pid "$name" || true)
    [ -n "$pid" ] || continue
    if ! pid_matches "$name" "$pid"; then
        log "$name (pid $pid) not running"
        continue
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        pid_matches "$name" "$pid" || break
        sleep 0.1
    done
    if pid_matches "$name" "$pid"; then
        log "$name (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
        pid_matches "$name" "$pid" && { log "$name (pid $pid) survives SIGKILL"; status=1; }
    fi
    pid_matches "$name" "$pid" || log "stopped $name (pid $pid)"
done

if [ "$keep" -eq 1 ] || [ "$status" -ne 0 ]; then
    log "state kept in $STATE"
else
    rm -rf "$STATE"
    log "removed $STATE"
fi
exit "$status"
