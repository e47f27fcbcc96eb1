#!/bin/bash
# judgepanel on Slurm: a job array of N shards, then a merge job that starts only when every shard succeeded.
#
#   deploy/slurm/array.sh items.jsonl rubric.yaml panel.yaml runs/big 16
#
# Run on a login node, the script submits itself as the array (`sbatch --array=0-(N-1)`; Slurm's array indexes
# start at 0 here and each task gets SLURM_ARRAY_TASK_ID, https://slurm.schedmd.com/job_array.html) and then
# `judgepanel merge` with `--dependency=afterok:<array job id>` (https://slurm.schedmd.com/sbatch.html), which waits
# for all tasks of the array. RUN must be on a file system every node sees. The response cache is not: its SQLite
# database must not be shared between nodes over a network file system (README, "Response cache"), so each node
# keeps one on local disk (JUDGEPANEL_CACHE, default /tmp/judgepanel-$USER/cache), shared by that node's tasks.
# A requeued or resubmitted task resumes its shard (`--resume`).
# `judgepanel` must be on every node's PATH: the binary built with `--static-swift-stdlib` needs no Swift runtime
# (take it out of the image `judgepanel:0.1.0` that the repository's Dockerfile builds, README "Docker image and
# static binary"), or run the image itself with Apptainer (`apptainer exec docker://REGISTRY/judgepanel:0.1.0 ...`).
#SBATCH --job-name=judgepanel-shard
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --time=24:00:00
#SBATCH --output=judgepanel-shard-%A_%a.out
set -euo pipefail

ITEMS=${1:?usage: array.sh ITEMS RUBRIC PANEL RUN [N]}
RUBRIC=${2:?rubric}
PANEL=${3:?panel}
RUN=${4:?run directory}
N=${5:-8}

if [ -z "${SLURM_ARRAY_TASK_ID:-}" ]; then
    # Submitter: the command-line --array overrides the #SBATCH default above.
    mkdir -p "$RUN/shards"
    jid=$(sbatch --parsable --array="0-$((N - 1))" "$0" "$ITEMS" "$RUBRIC" "$PANEL" "$RUN" "$N")
    jid=${jid%%;*}  # --parsable prints "jobid[;cluster]"
    shards=""
    for i in $(seq 0 $((N - 1))); do shards="$shards $RUN/shards/$i"; done
    sbatch --parsable --job-name=judgepanel-merge --dependency="afterok:$jid" --output="judgepanel-merge-%j.out" \
        --wrap "judgepanel merge$shards --out $RUN/merged"
    echo "submitted shards as job $jid (0-$((N - 1))) and the merge after it"
    exit 0
fi

# A shard task. Only exit 0 is success: 1 (finished with failed calls), 2 (bad input), 3 (I/O or environment:
# unwritable output, full disk, a batch the provider no longer knows) fail the task, so the merge (afterok) does not
# run on an incomplete or failed shard; rerun the task (--resume re-asks only what is missing or failed).
export JUDGEPANEL_HOME="$RUN"
CACHE=${JUDGEPANEL_CACHE:-/tmp/judgepanel-${USER:-$(id -u)}/cache}
judgepanel score "$ITEMS" --rubric "$RUBRIC" --panel "$PANEL" --cache-dir "$CACHE" \
    --shard "$SLURM_ARRAY_TASK_ID/$N" --out "$RUN/shards/$SLURM_ARRAY_TASK_ID" --resume
