#!/usr/bin/env bash
# One prepared run of hwbench's CUDA paths on a lent NVIDIA GPU (the `device` tool's machine:
# its own python3 with torch 2.11+cu130, no network; hwbench is installed there with --no-deps).
# Each step has its own time limit and goes on when one fails; everything lands in $OUT.
#   bash benchmarks/device_check_cuda.sh [STEP ...]   # default: every step, in this order
# Settings: WORKLOADS="resnet50 llama" (suite steps on these only), EAGER_PASSES, EAGER_LIMIT,
# LADDER_LIMIT (seconds). A spawned GPU worker cost ~10 s to start there (the suite ~15 min);
# `start-cost` measures forked against spawned workers (issue 18), `default` times the default
# tiny suite (every engine, as `hwbench run` runs it) and `ladder` the CUDA ladder, forked.
ALL_STEPS=(list device-tests start-cost peak default suite kernels ladder generate)
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/hwbench-device-out}
MACHINE=${MACHINE:-nvidia-h200}
STEPS=("${@:-${ALL_STEPS[@]}}")
DEVICE=${DEVICE:-cuda}  # DEVICE=cpu SKIP_INSTALL=1: a dry run of this script's mechanics
RESULTS=results
export HWBENCH_PEAKS_DIR=$RESULTS/$MACHINE  # where `hwbench peak` below stores the GPU's peaks
mkdir -p "$OUT" "$RESULTS/$MACHINE"

step() {  # step NAME LIMIT_S COMMAND...: run with a limit, log to $OUT/NAME.txt, never stop
    local name=$1 limit=$2 start=$SECONDS
    shift 2
    echo "=== $name (limit ${limit} s) $(date -u +%T)"
    timeout -k 10 "$limit" "$@" >"$OUT/$name.txt" 2>&1
    local rc=$?
    tail -n 60 "$OUT/$name.txt"
    echo "=== $name rc=$rc in $((SECONDS - start)) s"
}

echo "steps ${STEPS[*]} on $(hostname), $(date -u +%FT%TZ)"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
[ -n "${SKIP_INSTALL:-}" ] || python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . >"$OUT/install.txt" 2>&1 \
    || { cat "$OUT/install.txt"; exit 1; }
python3 -c "import torch, onnxruntime as ort; print('torch', torch.__version__, 'cuda',
torch.version.cuda, 'ort', ort.__version__, ort.get_available_providers())"
# From the root, ./hwbench shadows the install; the editable finder maps backends/ and kernels/
# in, and where it does not, links in this copy of the tree do
python3 -c "import hwbench.backends.cuda" 2>/dev/null \
    || { ln -sfn ../backends hwbench/backends && ln -sfn ../kernels hwbench/kernels; }
python3 -c "import hwbench.backends.cuda, hwbench.kernels.base" || exit 1
run=(python3 -m hwbench)
at=(--out "$RESULTS" --machine "$MACHINE")
picked=()  # WORKLOADS="resnet50 llama": the suite steps on these only
for workload in ${WORKLOADS:-}; do picked+=(--workload "$workload"); done

suite_eager() {
    step suite-eager "${EAGER_LIMIT:-120}" "${run[@]}" run --target "torch@$DEVICE" \
        --target "onnxruntime@$DEVICE" --time-budget 1 --passes "${EAGER_PASSES:-3}" \
        "${picked[@]}" "${at[@]}"
}

for name in "${STEPS[@]}"; do
    case $name in
    list) step list 60 "${run[@]}" list ;;
    start-cost) step start-cost 120 python3 benchmarks/worker_start_cost.py --device "$DEVICE" \
        --case-device "$DEVICE" --repeats 3 ;;
    default) step default-suite "${DEFAULT_LIMIT:-240}" "${run[@]}" run --target "torch@$DEVICE" \
        --target "torch-compile@$DEVICE" --target "onnxruntime@$DEVICE" --target "vllm@$DEVICE" \
        "${at[@]}" ;;
    device-tests) step device-tests 90 python3 -m pytest -q -p no:cacheprovider tests/devices ;;
    peak) step peak 60 "${run[@]}" peak --device "$DEVICE" "${at[@]}" ;;
    suite)  # eager first (interleaved passes, the default); compile in one go per case, so
        # that running out of time loses only the case under way
        suite_eager
        step suite-compile 180 "${run[@]}" run --target "torch-compile@$DEVICE" \
            --time-budget 1 --passes 1 "${picked[@]}" "${at[@]}" ;;
    suite-eager) suite_eager ;;
    kernels) step kernels 45 "${run[@]}" kernels --device "$DEVICE" --shape large --dtype bf16 \
        --time-budget 0.5 ;;
    ladder) step ladder-llama "${LADDER_LIMIT:-150}" "${run[@]}" ladder --workload llama --size small \
        --device "$DEVICE" --time-budget 1 "${at[@]}" ;;
    generate) step generate 90 "${run[@]}" run --scenario generate --workload llama --size small \
        --target "torch@$DEVICE:dtype=bf16" --target "torch-compile@$DEVICE:dtype=bf16" \
        --time-budget 2 "${at[@]}" ;;
    *) echo "unknown step $name" ;;
    esac
done

nvidia-smi --query-gpu=name,temperature.gpu,clocks.sm,power.draw --format=csv
tar czf "$OUT/results.tgz" "$RESULTS/$MACHINE"
