#!/usr/bin/env bash
# End-to-end test of deploy/slurm/sweep-array.sbatch on a real, throwaway,
# single-node Slurm (see docs/cluster.md):
#
#   1. installs slurm-wlm and munge when missing (apt-get; needs root),
#   2. starts a private munged and slurmctld + slurmd (all as root, state in
#      a temporary folder, non-default ports, nothing else on the machine
#      touched),
#   3. builds the release binary,
#   4. submits the shipped sbatch file for a small grid as a 4-task array,
#      and the merge job depending on it (afterok),
#   5. waits for both, then checks that the merged summary.json (and
#      runs.jsonl) equal a single-process run of the same grid byte for byte,
#   6. stops the daemons it started, by pid.
#
# Usage: sudo scripts/slurm-local-test.sh        (exit 0: pass)
# Environment: SLURM_TEST_PORT (slurmctld's port, slurmd uses the next one;
# default 26817), SLURM_TEST_KEEP=1 keeps the temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/target-dir.sh
root=$PWD
t0=$(date +%s%N)
secs() { local ms=$((($(date +%s%N) - $1) / 1000000)); printf '%d.%03d' $((ms / 1000)) $((ms % 1000)); }
say() { echo "[slurm-local-test $(secs "$t0") s] $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
    echo "slurm-local-test: run as root (it installs packages and runs slurmd as root)" >&2
    exit 1
fi
need=()
command -v slurmctld >/dev/null 2>&1 || need+=(slurm-wlm)
command -v munged >/dev/null 2>&1 || need+=(munge)
if [ ${#need[@]} -gt 0 ]; then
    echo "slurm-local-test: installing ${need[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

tmp=$(mktemp -d /tmp/netsweep-slurm.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
    local rc=$?
    # Stop only what this script started, by pid, newest first.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
    done
    if [ $rc -ne 0 ]; then
        echo "slurm-local-test: FAILED (exit $rc); logs:" >&2
        for f in "$tmp"/slurmctld.log "$tmp"/slurmd.log "$tmp"/munged.log "$tmp"/logs/*; do
            [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
        done
    fi
    if [ "${SLURM_TEST_KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then
        echo "slurm-local-test: files kept in $tmp" >&2
    else
        rm -rf "$tmp"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A private munged: own key, socket, pid, log and seed files, run as munge.
mkdir -p "$tmp/munge"
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chown -R munge:munge "$tmp/munge"
chmod 755 "$tmp/munge"
chmod 600 "$tmp/munge/munge.key"
socket=$tmp/munge/munge.socket
runuser -u munge -- munged -F --socket="$socket" --key-file="$tmp/munge/munge.key" \
    --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/munged.log" --seed-file="$tmp/munge/munged.seed" 2>>"$tmp/munged.log" &
pids+=($!)
for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.05; done
[ -S "$socket" ] || { echo "munged did not start" >&2; exit 1; }
say "munged up"

port=${SLURM_TEST_PORT:-26817}
host=$(hostname -s)
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/logs" "$tmp/work"
cat >"$tmp/slurm.conf" <<CONF
ClusterName=netsweeptest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
MinJobAge=300
SchedulerParameters=batch_sched_delay=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$tmp/slurm.conf

slurmctld -D -i -f "$SLURM_CONF" >>"$tmp/slurmctld.log" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >>"$tmp/slurmd.log" 2>&1 &
pids+=($!)
for _ in $(seq 150); do
    state=$(sinfo -h -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.2
done
[ "$state" = idle ] || { echo "the node did not become idle (state: '$state')" >&2; exit 1; }
say "slurmctld and slurmd up (node idle)"

cargo build --release --quiet
# Where cargo put it: CARGO_TARGET_DIR and .cargo/config.toml move target/.
bin="$(target_dir)/release/sweep"
[ -x "$bin" ] || { echo "slurm-local-test: no sweep binary at $bin" >&2; exit 1; }
say "release binary built"

experiment=$root/experiments/xor_grid.toml
sets=(--set seeds=8 --set training.epochs=300)
out=$tmp/work/results/xor_grid
cd "$tmp/work"
s0=$(date +%s%N)
jid=$(SWEEP_BIN=$bin sbatch --parsable --array=0-3 --cpus-per-task=1 --output="$tmp/logs/shard-%a.out" \
    "$root/deploy/slurm/sweep-array.sbatch" "$out" "$experiment" "${sets[@]}")
jid=${jid%%;*}
mid=$(SWEEP_BIN=$bin SWEEP_MERGE_ARGS=--no-plot sbatch --parsable --dependency=afterok:"$jid" --cpus-per-task=1 \
    --output="$tmp/logs/merge.out" "$root/deploy/slurm/sweep-array.sbatch" "$out" "$experiment" "${sets[@]}")
mid=${mid%%;*}
say "submitted array $jid (4 tasks) and merge $mid (afterok:$jid)"

# Wait for the merge job to end (polling scontrol: sbatch --wait polls too slowly).
deadline=$(($(date +%s) + ${SLURM_TEST_TIMEOUT:-120}))
while :; do
    line=$(scontrol -o show job "$mid" 2>/dev/null || true)
    state=$(sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' <<<"$line")
    case $state in
    COMPLETED) break ;;
    FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE)
        echo "merge job $mid ended $state" >&2
        exit 1
        ;;
    esac
    if grep -q 'Reason=DependencyNeverSatisfied' <<<"$line"; then
        echo "an array task failed; the merge will never run:" >&2
        scontrol -o show job "$jid" >&2 || true
        exit 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "timed out waiting for job $mid: $line" >&2
        exit 1
    fi
    sleep 0.25
done
say "array and merge finished $(secs "$s0") s after submission"
scontrol -o show job "$jid" | grep -o 'JobId=[0-9]* ArrayJobId=[0-9]* ArrayTaskId=[0-9]*\|JobState=[A-Z]*\|ExitCode=[0-9:]*' | paste -sd' ' >&2

timeout 120 "$bin" run "$experiment" "${sets[@]}" --out "$tmp/work/single" --quiet --no-plot >/dev/null
for f in summary.json runs.jsonl summary.csv; do
    cmp "$tmp/work/single/$f" "$out/$f"
done
say "PASS: merged summary.json, runs.jsonl and summary.csv equal a single-process run byte for byte"
