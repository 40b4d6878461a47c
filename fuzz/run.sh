#!/usr/bin/env bash
# Run every fuzz target for SECS seconds (default 5) over its seeds, and
# print libFuzzer's execution count for each. Needs cargo-fuzz; the
# machine's stable toolchain is enough with RUSTC_BOOTSTRAP=1 (cargo fuzz
# asks rustc for -Z sanitizer flags).
#
#   fuzz/run.sh 5          # CI: the harnesses still build and run
#   fuzz/run.sh 300 dmesg  # a real while, one target
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-5}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^virt-doctor-fuzz$')
fi
export RUSTC_BOOTSTRAP=1
python3 seed.py > /dev/null
cargo fuzz build --release >/dev/null
total=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    log=$(mktemp)
    # -rss_limit_mb: a parser that grows past 2 GiB on one input is a bug.
    if ! cargo fuzz run --release "$t" "corpus/$t" -- \
            -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
        tail -40 "$log"
        echo "fuzz target $t FAILED; the input is in fuzz/artifacts/$t/"
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
    echo "$t: ${runs:-?} executions in ${secs}s, peak RSS ${rss:-?} MB"
    total=$((total + ${runs:-0}))
    rm -f "$log"
done
echo "all targets: $total executions, no crash"
