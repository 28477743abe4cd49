#!/usr/bin/env bash
# Runs every fuzz target in turn, each for TARGET_SECONDS, with libFuzzer,
# and prints how many executions each ran and what it found.
#
#   fuzz/run-all.sh TARGET_SECONDS [TARGET...]
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# One target at a time, one job, at low priority (`nice -n 10`): the machine
# is shared. Each run grows the committed corpus (`fuzz/corpus/NAME/`);
# minimise it afterwards with `cargo +nightly fuzz cmin -O NAME` before
# committing. Crashes, leaks, out-of-memory and slow inputs land in
# `fuzz/artifacts/NAME/`; logs in `fuzz/logs/NAME/fuzz-0.log`.
#
# Limits: 2 GiB of RSS, no single allocation over 512 MiB (a decoder that
# inflates without a cap is reported), 10 s per input (a hang is reported).
set -euo pipefail

if [[ $# -lt 1 || ! $1 =~ ^[0-9]+$ ]]; then
    echo "usage: $0 TARGET_SECONDS [TARGET...]" >&2
    exit 2
fi
seconds=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

all=(change_chunk record_cbor gossip_batch sync_request sync_response sync_roundtrip bundle_json admit)
targets=("${@:-${all[@]}}")

nice -n 10 cargo +nightly fuzz build -O -a -s "${FUZZ_SANITIZER:-address}"
bin="$here/target/x86_64-unknown-linux-gnu/release"
commit=$(git -C "$here" rev-parse --short HEAD)

printf '%-16s %12s %10s %8s  %s\n' target executions exec/s corpus result
for t in "${targets[@]}"; do
    mkdir -p "logs/$t" "artifacts/$t" "corpus/$t"
    rm -f "logs/$t/fuzz-0.log"
    set +e
    (cd "logs/$t" && nice -n 10 "$bin/$t" "$here/corpus/$t" \
        -jobs=1 -max_total_time="$seconds" \
        -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$here/artifacts/$t/" >/dev/null 2>&1)
    set -e
    log="logs/$t/fuzz-0.log"
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    if [[ -z $execs ]]; then
        # No final stats: the run died; take the last progress line.
        execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    fi
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    result=ok
    if grep -q -E 'ERROR: libFuzzer|panicked at|ERROR: AddressSanitizer' "$log"; then
        result="FOUND: $(grep -m1 -o -E 'panicked at [^ ]*|ERROR: libFuzzer: [a-z -]*|ERROR: AddressSanitizer: [a-z-]*' "$log")"
    fi
    printf '%-16s %12s %10s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$(ls "corpus/$t" | wc -l)" "$result"
done
echo "commit $commit, $(date -u +%Y-%m-%d), ${seconds} s per target"
