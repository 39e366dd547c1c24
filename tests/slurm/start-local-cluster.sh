#!/usr/bin/env bash
# Start a private, one-node Slurm cluster on this machine, for integration tests.
#
#   eval "$(tests/slurm/start-local-cluster.sh [STATE_DIR])"   # sets SLURM_CONF etc. in the caller
#   ... sbatch / squeue / sinfo ...
#   tests/slurm/stop-local-cluster.sh [STATE_DIR]
#
# Everything lives in STATE_DIR (default $SAMSDE_SLURM_DIR, else /tmp/samsde-slurm): slurm.conf, the munge key
# and socket, controller state, slurmd spool, logs, the PIDs this script started (STATE_DIR/pids). Nothing under
# /etc is read or written except by `apt-get install`; the system munge key, socket and default Slurm ports are not
# used, so a system Slurm/munge (if any) is left alone.
#
# Installs Debian's slurm-wlm and munge when missing (needs root and a reachable Debian mirror).
#
# stdout: only `export NAME=value` lines (safe for eval); the same lines are written to STATE_DIR/env.sh.
# stderr: progress, timings, and on failure the reason plus the tail of the relevant log.
# Exit status:
#   0   cluster up (freshly started, or already running from the same STATE_DIR: idempotent)
#   77  Slurm cannot be provided on this machine (packages missing and not installable, not root, ...);
#       the reason is printed on stderr as "SKIP: <reason>" so a test can skip with it
#   1   anything else (daemon did not start, node not idle within the timeout, ...)
#
# Environment knobs: SAMSDE_SLURM_DIR, SAMSDE_SLURM_TIMEOUT (seconds to wait for the idle node, default 60),
# SAMSDE_SLURM_PORT (controller port, slurmd uses PORT+1; default: first free pair from 16817 upward).
set -euo pipefail

SKIP=77
prog=start-local-cluster
STATE=${1:-${SAMSDE_SLURM_DIR:-/tmp/samsde-slurm}}
TIMEOUT=${SAMSDE_SLURM_TIMEOUT:-60}
MARKER=.samsde-local-slurm

log() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
skip() { printf 'SKIP: %s\n' "$*" >&2; exit "$SKIP"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

t_start=$(now)

case "$STATE" in /*) ;; *) STATE="$PWD/$STATE" ;; esac
STATE=${STATE%/}
if [ -z "$STATE" ] || [ "$STATE" = / ]; then die "refusing state dir '$STATE'"; fi

# ---------------------------------------------------------------------------------------------------------------
# 1. Packages.
# ---------------------------------------------------------------------------------------------------------------
PLUGIN_DIR=/usr/lib/x86_64-linux-gnu/slurm-wlm
have_slurm() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null &&
        command -v sinfo >/dev/null && command -v munged >/dev/null && command -v munge >/dev/null &&
        command -v unmunge >/dev/null &&
        { [ -e "$PLUGIN_DIR/select_cons_tres.so" ] || [ -n "$(find /usr/lib -name select_cons_tres.so -print -quit 2>/dev/null)" ]; }
}

install_packages() {
    command -v apt-get >/dev/null || skip "slurm-wlm/munge not installed and no apt-get on this machine"
    [ "$(id -u)" -eq 0 ] || skip "slurm-wlm/munge not installed and not root (cannot apt-get install)"
    log "installing slurm-wlm and munge with apt-get (one-time, 5-15 s)"
    # Keep the packages' maintainer scripts from starting system daemons (munge, slurmd, slurmctld from
    # /etc/init.d) that this script did not start and could not stop by PID: a policy-rc.d that denies every
    # start, only when the machine has none (containers usually already have one that does exactly this).
    local policy=/usr/sbin/policy-rc.d own_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
    fi
    local apt_log="${TMPDIR:-/tmp}/samsde-slurm-apt.$$.log" ok=0
    local apt_opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=300 -o Acquire::Retries=2)
    if DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install "${apt_opts[@]}" slurm-wlm munge >"$apt_log" 2>&1; then
        ok=1
    else
        # A fresh machine may have no package lists yet.
        log "apt-get install failed; running apt-get update and retrying"
        if DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -q >>"$apt_log" 2>&1 &&
            DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install "${apt_opts[@]}" slurm-wlm munge >>"$apt_log" 2>&1; then
            ok=1
        fi
    fi
    [ "$own_policy" -eq 1 ] && rm -f "$policy"
    if [ "$ok" -ne 1 ]; then
        tail -n 5 "$apt_log" | sed 's/^/    apt: /' >&2
        skip "apt-get install slurm-wlm munge failed (log: $apt_log)"
    fi
    rm -f "$apt_log"
}

if ! have_slurm; then
    install_packages
    have_slurm || skip "slurm-wlm/munge installed but slurmctld/slurmd/sbatch/munged or select_cons_tres missing"
    log "packages installed in $(elapsed "$t_start") s"
fi
[ "$(id -u)" -eq 0 ] || skip "starting munged as the munge user and slurmd needs root"
getent passwd munge >/dev/null || skip "no 'munge' user (the munge package creates it)"

# ---------------------------------------------------------------------------------------------------------------
# 2. Serialise every start and stop on this machine (one lock for all state dirs: it also keeps two clusters
# starting at once from picking the same free ports), and reuse a healthy cluster already running from STATE.
# The lock file is never deleted, so everyone always locks the same inode.
# ---------------------------------------------------------------------------------------------------------------
LOCK=/tmp/samsde-slurm.lock
exec 9>>"$LOCK"
flock -w 120 9 || die "another start/stop has held $LOCK for 120 s"
mkdir -p "$(dirname "$STATE")"

CONF="$STATE/slurm.conf"
SOCK="$STATE/munge/munge.socket"

print_env() {
    {
        printf 'export SLURM_CONF=%q\n' "$CONF"
        printf 'export SAMSDE_SLURM_DIR=%q\n' "$STATE"
        printf 'export SAMSDE_SLURM_PARTITION=%q\n' debug
        printf 'export SAMSDE_SLURM_NODE=%q\n' "$NODE"
    } | tee "$STATE/env.sh"
}

# pid_matches NAME PID: the process is alive and is the one we started (its command line names our state dir),
# so a recycled PID is never mistaken for ours.
pid_matches() {
    local name=$1 pid=$2
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$STATE/" || return 1
}

all_running() {
    [ -s "$STATE/pids" ] || return 1
    local name pid n=0
    while read -r name pid; do
        pid_matches "$name" "$pid" || return 1
        n=$((n + 1))
    done <"$STATE/pids"
    [ "$n" -eq 3 ]
}

if [ -e "$STATE" ] && [ ! -e "$STATE/$MARKER" ] && [ -n "$(ls -A "$STATE" 2>/dev/null)" ]; then
    die "$STATE exists, is not empty and was not created by this script; choose another SAMSDE_SLURM_DIR"
fi

if [ -e "$STATE/$MARKER" ]; then
    NODE=$(cat "$STATE/node" 2>/dev/null || hostname -s)
    # Healthy: all three recorded daemons alive and the node up (idle, or busy with jobs, which must survive).
    if all_running && SLURM_CONF="$CONF" timeout 5 sinfo -h -N -o '%T' 2>/dev/null |
        grep -qxE 'idle|mixed|allocated|completing'; then
        log "already running from $STATE (pids: $(awk '{printf "%s=%s ", $1, $2}' "$STATE/pids"))"
        print_env
        exit 0
    fi
    log "stale state in $STATE: stopping what it recorded and starting afresh"
    flock -u 9
    "$(dirname "$(readlink -f "$0")")/stop-local-cluster.sh" "$STATE" >&2 ||
        die "could not stop the stale cluster in $STATE"
    flock -w 120 9 || die "another start/stop has held $LOCK for 120 s"
fi

# ---------------------------------------------------------------------------------------------------------------
# 3. State dir and configuration.
# ---------------------------------------------------------------------------------------------------------------
# The node name must be what slurmd calls itself: the short hostname (we also pass -N). Its address is pinned
# to 127.0.0.1 so nothing depends on how the hostname resolves (sandboxes often map it oddly or not at all).
NODE=$(hostname -s)
[ -n "$NODE" ] || die "empty hostname"
CPUS=$(nproc)
MEM_MB=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 }' /proc/meminfo)

# munged's socket path must fit in sun_path (108 bytes with the terminating NUL).
[ "${#SOCK}" -le 107 ] || die "state dir path too long for a unix socket ($SOCK is ${#SOCK} > 107 bytes); use a shorter SAMSDE_SLURM_DIR"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -n "${SAMSDE_SLURM_PORT:-}" ]; then
    CTLD_PORT=$SAMSDE_SLURM_PORT
    if ! port_free "$CTLD_PORT" || ! port_free $((CTLD_PORT + 1)); then
        die "SAMSDE_SLURM_PORT=$CTLD_PORT or $((CTLD_PORT + 1)) is already in use"
    fi
else
    CTLD_PORT=16817
    while ! { port_free "$CTLD_PORT" && port_free $((CTLD_PORT + 1)); }; do
        CTLD_PORT=$((CTLD_PORT + 2))
        [ "$CTLD_PORT" -lt 16917 ] || die "no free port pair in 16817..16916; set SAMSDE_SLURM_PORT"
    done
fi
SLURMD_PORT=$((CTLD_PORT + 1))

rm -rf "$STATE"
mkdir -p "$STATE"/{ctld,slurmd,log,run,munge}
touch "$STATE/$MARKER"
chmod 755 "$STATE"
echo "$NODE" >"$STATE/node"
: >"$STATE/pids"

# munged refuses keys, sockets and logs in directories that others can write to: the munge dir is owned by the
# munge user, mode 0755 (clients running as any user must reach the socket), the key 0400.
chown munge:munge "$STATE/munge"
chmod 755 "$STATE/munge"
if command -v mungekey >/dev/null; then
    setpriv --reuid=munge --regid=munge --init-groups mungekey --create --keyfile="$STATE/munge/munge.key" >/dev/null
else
    dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 status=none
    chown munge:munge "$STATE/munge/munge.key"
fi
chmod 400 "$STATE/munge/munge.key"

cat >"$CONF" <<EOF
# Written by start-local-cluster.sh: a private one-node cluster for tests. Do not edit; it is regenerated.
ClusterName=samsdelocal
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root

# Private munge daemon (own key and socket), used for both authentication and credentials.
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCK

StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$STATE/plugstack.conf

# No cgroups: process tracking through /proc, no task binding, no accounting.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true

SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# kill_invalid_depend: a job whose dependency can never be satisfied (afterok on a failed job) is cancelled
# instead of pending forever with reason DependencyNeverSatisfied, so 'sbatch --wait' on it returns. Since
# Slurm 20.11 it belongs in DependencyParameters; under SchedulerParameters 22.05 silently ignores it.
DependencyParameters=kill_invalid_depend
# Schedule batch jobs at once (default: up to 3 s of batching), so a job starts ~1 s after submit/dependency.
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
InactiveLimit=0
KillWait=5
# Finished jobs stay visible to scontrol/squeue for 300 s (no accounting database here, so no sacct).
# 'sbatch --wait' polls after 2, 10, 42, 74... s (the sleep grows x4 while below MinJobAge/2, capped at 32 s).
MinJobAge=300
SlurmdTimeout=300

NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
: >"$STATE/plugstack.conf"
# cgroup.conf is looked up beside slurm.conf (never /etc/slurm here). Slurm 22.05's slurmd always loads a cgroup plugin at start-up (even with proctrack/linuxproc, task/none), and
# "CgroupPlugin=disabled" only exists from 23.02 on (22.05 fails: "cannot find cgroup plugin for disabled").
# autodetect picks cgroup/v1 on this machine's hybrid hierarchy; nothing creates cgroups with this config.
printf 'CgroupPlugin=autodetect\n' >"$STATE/cgroup.conf"

# ---------------------------------------------------------------------------------------------------------------
# 4. Daemons. Each runs in the foreground (-F / -D) in its own session (setsid), started with '&' so that $! is
# the daemon's own PID (setpriv execs, setsid execs when not a group leader); recorded in STATE/pids at once.
# ---------------------------------------------------------------------------------------------------------------
export SLURM_CONF="$CONF"
STOP="$(dirname "$(readlink -f "$0")")/stop-local-cluster.sh"

# On any failure from here on, stop what was started (by recorded PID) but keep the state dir and its logs.
started_ok=0
on_exit() {
    local rc=$?
    if [ "$started_ok" -ne 1 ]; then
        flock -u 9 || true
        "$STOP" --keep-state "$STATE" >&2 || true
        log "failed; logs kept in $STATE/log (the next start or stop-local-cluster.sh removes them)"
    fi
    exit "$rc"
}
trap on_exit EXIT

show_log() { if [ -s "$1" ]; then tail -n 15 "$1" | sed 's/^/    | /' >&2; fi; }

record() {
    local name=$1 pid=$2
    echo "$name $pid" >>"$STATE/pids"
    for _ in $(seq 40); do
        pid_matches "$name" "$pid" && break
        sleep 0.05
    done
    pid_matches "$name" "$pid" || {
        log "$name (pid $pid) exited right after start"
        show_log "$3"
        return 1
    }
}

t_daemons=$(now)
setsid setpriv --reuid=munge --regid=munge --init-groups \
    munged --foreground --socket="$SOCK" --key-file="$STATE/munge/munge.key" \
    --pid-file="$STATE/munge/munged.pid" --log-file="$STATE/munge/munged.log" \
    --seed-file="$STATE/munge/munged.seed" </dev/null >"$STATE/log/munged.out" 2>&1 9>&- &
record munged $! "$STATE/log/munged.out" || exit 1

for _ in $(seq 100); do
    munge -n -S "$SOCK" 2>/dev/null | unmunge -S "$SOCK" >/dev/null 2>&1 && break
    sleep 0.1
done
munge -n -S "$SOCK" 2>/dev/null | unmunge -S "$SOCK" >/dev/null 2>&1 || {
    log "munged does not answer on $SOCK"
    show_log "$STATE/munge/munged.log"
    show_log "$STATE/log/munged.out"
    exit 1
}

setsid slurmctld -D -f "$CONF" </dev/null >"$STATE/log/slurmctld.out" 2>&1 9>&- &
record slurmctld $! "$STATE/log/slurmctld.log" || exit 1

# slurmd registers with the controller; start it once the controller answers, so its first registration succeeds.
# Every client call is bounded by `timeout`: an unreachable controller makes each one block for MessageTimeout.
deadline=$(($(date +%s) + TIMEOUT))
until timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP'; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        log "slurmctld does not answer 'scontrol ping' after ${TIMEOUT} s"
        show_log "$STATE/log/slurmctld.log"
        exit 1
    fi
    sleep 0.1
done
setsid slurmd -D -f "$CONF" -N "$NODE" </dev/null >"$STATE/log/slurmd.out" 2>&1 9>&- &
record slurmd $! "$STATE/log/slurmd.log" || exit 1

state=""
while :; do
    state=$(timeout 5 sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null || true)
    [ "$state" = idle ] && break
    if [ "$(date +%s)" -ge "$deadline" ]; then
        log "node $NODE not idle after ${TIMEOUT} s (sinfo says: '${state:-no answer}'); logs in $STATE/log"
        SLURM_CONF="$CONF" scontrol show node "$NODE" 2>/dev/null | grep -E 'State|Reason' | sed 's/^/    /' >&2 || true
        show_log "$STATE/log/slurmctld.log"
        show_log "$STATE/log/slurmd.log"
        exit 1
    fi
    for name in munged slurmctld slurmd; do
        pid=$(awk -v n="$name" '$1 == n { print $2 }' "$STATE/pids")
        pid_matches "$name" "$pid" || {
            log "$name (pid $pid) died while waiting for the node"
            show_log "$STATE/log/$name.log"
            show_log "$STATE/log/$name.out"
            exit 1
        }
    done
    sleep 0.25
done

log "node $NODE idle: $CPUS CPUs, $MEM_MB MB, ports $CTLD_PORT/$SLURMD_PORT; daemons up in $(elapsed "$t_daemons") s," \
    "total $(elapsed "$t_start") s; pids: $(awk '{printf "%s=%s ", $1, $2}' "$STATE/pids")"
started_ok=1
print_env
