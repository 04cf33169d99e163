#!/usr/bin/env bash
# A private one-node Slurm cluster on localhost, for the Slurm executor's tests and benches: its own munged, slurmctld
# and slurmd, with their own key, sockets, ports and state under one folder, so it never touches a cluster the machine
# may already run.
#
#   scripts/slurm-cluster.sh install          install Debian's slurm-wlm and munge when missing (root or sudo)
#   scripts/slurm-cluster.sh start <folder>   start the daemons; prints the line to export: SLURM_CONF=<folder>/slurm.conf
#   scripts/slurm-cluster.sh stop <folder>    cancel every job of the cluster and stop its daemons
#
# Clients (sbatch, squeue, scancel, codeii run --executor slurm) find the cluster through SLURM_CONF.
set -euo pipefail

usage() { echo "usage: $0 install | start <folder> | stop <folder>" >&2; exit 2; }

install_packages() {
  command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 && command -v munged >/dev/null 2>&1 && return 0
  echo "slurm-cluster: installing Debian's slurm-wlm and munge" >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "slurm-cluster: slurm-wlm and munge are missing and this user cannot install them; run: apt-get install slurm-wlm munge" >&2; exit 1
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq slurm-wlm munge >/dev/null
}

# A TCP port nobody listens on, so two clusters (or a system one) never collide.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

start() {
  local dir; dir=$(mkdir -p "$1" && cd "$1" && pwd)
  install_packages
  [ -f "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null && { echo "SLURM_CONF=$dir/slurm.conf"; return 0; }
  mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/munge"
  chmod 700 "$dir/munge"
  local user; user=$(id -un)
  local node; node=$(hostname -s)
  local cpus; cpus=$(nproc)
  local memory; memory=$(awk '/MemTotal/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)

  # munge: a key of our own, and a socket slurm is told about (AuthInfo); the daemon runs as this user.
  [ -f "$dir/munge/munge.key" ] || { head -c 1024 /dev/urandom > "$dir/munge/munge.key"; chmod 400 "$dir/munge/munge.key"; }
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed"

  cat > "$dir/slurm.conf" <<CONF
ClusterName=codeii-local
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=30
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -f "$dir/slurm.conf" -i
  slurmd -f "$dir/slurm.conf" -N "$node"
  # Ready when the node takes jobs.
  for _ in $(seq 1 60); do
    if sinfo -h -N -o '%T' 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'; then echo "SLURM_CONF=$dir/slurm.conf"; return 0; fi
    sleep 1
  done
  echo "slurm-cluster: the node did not come up in 60 s; logs in $dir/log" >&2
  sinfo -N >&2 || true
  exit 1
}

stop() {
  local dir; dir=$(cd "$1" && pwd)
  export SLURM_CONF="$dir/slurm.conf"
  scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
  for daemon in slurmd slurmctld munge/munged; do
    local pidfile="$dir/$daemon.pid"
    if [ -f "$pidfile" ]; then
      local pid; pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$pidfile"
    fi
  done
}

case "${1:-}" in
  install) install_packages ;;
  start) [ $# -eq 2 ] || usage; start "$2" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  *) usage ;;
esac
