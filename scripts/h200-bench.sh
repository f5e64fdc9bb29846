#!/usr/bin/env bash
# h200-bench.sh — issue #5's measurements in one run on one GPU, from the unpacked bundle of
# `make dist`, where it is bin/h200-bench:
#     tar -xJf gsae-linux-x86_64.tar.xz -C /tmp && OUT=$OUT bash /tmp/gsae/bin/h200-bench /tmp/gsae
# Bundle layout: runtime/ (jlink'd Java 25), lib/ (gsae jar with the kernels inside), bench/ (JMH
# benchmarks, thin jar and JMH's jars), peer/ (PyTorch peer), bin/gsae, bin/gsae-bench. Needs no JDK or Maven; the peer, the shard
# generator and the summaries need python3 (with torch for the peer, numpy for the shard).
#
# In order, each step bounded so that the whole run ends within LIMIT_S seconds (default 510):
#   1. nvidia-smi and `gsae info`; stops here when there is no GPU or gsae cannot use it;
#   2. JMH: CudaStepBench (full device-resident step, host→device copy included), then
#      CudaStageBench (each stage on resident inputs), fused and dense, both configs, β 1 and 0;
#   3. peer_gpu.py (PyTorch, bf16 autocast) at both configs and β, with the cuBLAS and copy floors;
#   4. `gsae bench --backend cuda` and `--dense` at both configs, β 1, peak device memory sampled;
#   5. end to end: a bf16 safetensors shard generated in $WORK (512K tokens), then 600 steps of
#      `gsae train --backend cuda` on it (memory-mapped, bf16→f32 on the host, host→device
#      included); tokens/s from its metrics.jsonl, over all steps and over the second half.
# Configs (d x M x k x N): 768x24576x32x8192 (reference) and 768x98304x32x8192.
#
# Writes under $OUT (default ./h200-bench-out) these 8 files, all the device tool returns:
#   summary.txt   the plan, every step's exit code and seconds, and the tables parsed from the rest
#   nvidia-smi.txt  nvidia-smi, nvidia-smi -q and gsae info
#   jmh.json      JMH's JSON of both benchmark classes (SampleTime: percentile 50 is the median)
#   jmh.log       JMH's console output
#   peer.jsonl    one JSON object per peer run;  peer.log  its stderr
#   bench.log     the gsae bench runs;  train.log  shard generation, gsae train, memory samples
# $WORK (default /tmp/gsae-h200-work) holds the shard (1.6 GB) and the training run; not returned.
#
# REHEARSE=1 runs every step on the CPU at toy sizes (backend cpu, peer --device cpu; JMH's CUDA
# benchmarks then fail their setup with the reason), to check this script where there is no GPU.
# Its numbers mean nothing. Exit status: 0 when every step ran and exited 0, 1 otherwise.
set -u
DIST=${1:-$(cd "$(dirname "$0")/.." && pwd)}
OUT=${OUT:-$PWD/h200-bench-out}
WORK=${WORK:-/tmp/gsae-h200-work}
LIMIT_S=${LIMIT_S:-510}
REHEARSE=${REHEARSE:-0}
deadline=$((SECONDS + LIMIT_S))

mkdir -p "$OUT" "$WORK"
summary=$OUT/summary.txt
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }

for f in runtime/bin/java bin/gsae bin/gsae-bench bench peer/peer_gpu.py; do
  [ -e "$DIST/$f" ] || { say "✗ $DIST/$f not found: pass the unpacked bundle's folder (built by make dist)"; exit 1; }
done

if [ "$REHEARSE" = 1 ]; then
  configs=(64x512x8x256 64x1024x8x256)
  backend=cpu peer_device=cpu copy_mib=16
  shard_rows=16384 train_steps=20
else
  configs=(768x24576x32x8192 768x98304x32x8192)
  backend=cuda peer_device=cuda copy_mib=1024
  shard_rows=524288 train_steps=600
fi
betas=(1 0)

# cuBLAS (dense baseline) is looked up by soname: add the toolkit's and PyTorch's copies if present.
for dir in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
           $(python3 -c 'import nvidia.cublas, os; print(os.path.join(nvidia.cublas.__path__[0], "lib"))' 2>/dev/null); do
  [ -d "$dir" ] && LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
export LD_LIBRARY_PATH

status=0
left() { echo $((deadline - SECONDS)); }

# step NAME CAP_S LOG CMD…: runs CMD (output appended to LOG) for at most CAP_S seconds and never past
# the deadline; records exit code and seconds in the summary. A step with under 10 s left is skipped.
step() {
  local name=$1 cap=$2 log=$3; shift 3
  local budget; budget=$(left)
  [ "$budget" -gt "$cap" ] && budget=$cap
  if [ "$budget" -lt 10 ]; then say "$name: skipped, out of time"; status=1; return 1; fi
  echo "== $name (at most ${budget}s)"
  echo "== $name: $*" >> "$log"
  local t0=$SECONDS
  timeout --kill-after=10 "$budget" "$@" >> "$log" 2>&1
  local rc=$?
  [ $rc -eq 124 ] && say "$name: timed out after ${budget}s"
  say "$name: exit $rc, $((SECONDS - t0)) s"
  [ $rc -eq 0 ] || status=1
  return $rc
}

# Samples the GPU's used memory every 100 ms into $WORK/memory.csv while a step runs.
memory_start() {
  : > "$WORK/memory.csv"
  command -v nvidia-smi >/dev/null || return 0
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 > "$WORK/memory.csv" 2>/dev/null &
  sampler=$!
}
memory_stop() {  # LOG LABEL: appends the peak of the samples to LOG
  [ -n "${sampler:-}" ] && kill "$sampler" 2>/dev/null && wait "$sampler" 2>/dev/null
  sampler=
  local peak; peak=$(sort -n "$WORK/memory.csv" | tail -1)
  echo "peak device memory during $2 (nvidia-smi, whole GPU): ${peak:-n/a} MiB" | tee -a "$1" >> "$summary"
}

# Planned seconds, from the JMH annotations (warm-up + measurement per trial) plus a few seconds of setup.
stage_trials=$((4 * ${#configs[@]} * 2 * 2)) step_trials=$((${#configs[@]} * 2 * 2))
planned=$((10 + step_trials * (4 + 2) + stage_trials * (2 + 1) + 4 * 15 + 2 * ${#configs[@]} * 10 + 20 + 60))
say "h200-bench $(date -u +%FT%TZ) bundle $DIST rehearse=$REHEARSE"
say "plan: JMH $step_trials step trials (1+3 × 1 s) and $stage_trials stage trials (1+3 × 0.5 s), 4 peer runs,"
say "      $((2 * ${#configs[@]})) gsae bench runs, shard of $shard_rows tokens + $train_steps training steps:"
say "      about $planned s planned, $LIMIT_S s allowed"

# 1. The machine.
smi=$OUT/nvidia-smi.txt
: > "$smi"
if [ "$REHEARSE" != 1 ]; then
  if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >> "$smi" 2>&1; then
    say "✗ no GPU here: nvidia-smi is missing or lists no device; nothing to measure (REHEARSE=1 checks the script on the CPU)"
    exit 1
  fi
  nvidia-smi >> "$smi" 2>&1
  nvidia-smi -q >> "$smi" 2>&1
  say "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit --format=csv,noheader | head -1)"
fi
"$DIST/bin/gsae" info >> "$smi" 2>&1
cuda_line=$(grep -E '^ +cuda ' "$smi" | head -1)
say "gsae info:${cuda_line}"
if [ "$REHEARSE" != 1 ] && ! grep -qE '^ +cuda +available' <<< "$cuda_line"; then
  say "✗ gsae cannot use the GPU (line above); nothing to measure"
  exit 1
fi

# 2. JMH, non-forked (-f 0): one JVM keeps the generated inputs across trials, saving a fork and the
# generation (seconds at M = 98,304) per trial. Step bench first: it is the headline number.
jmh_configs=$(IFS=,; echo "${configs[*]}")
for cls in CudaStepBench CudaStageBench; do
  cap=$([ $cls = CudaStepBench ] && echo 120 || echo 200)
  rm -f "$WORK/jmh-$cls.json"
  step "jmh-$cls" $cap "$OUT/jmh.log" "$DIST/bin/gsae-bench" "gsae\\.bench\\.$cls" -f 0 -p config="$jmh_configs" \
    -rf json -rff "$WORK/jmh-$cls.json"
done
failed=$(grep -c '<failure>' "$OUT/jmh.log")
[ "$failed" -gt 0 ] && { say "jmh: $failed trial(s) failed (the first exception in jmh.log says why)"; status=1; }

# 3. The PyTorch peer and the floors.
if ! python3 -c 'import torch' 2>/dev/null; then
  say "peer: skipped, python3 cannot import torch"
elif [ "$peer_device" = cuda ] && ! python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  say "peer: skipped, torch $(python3 -c 'import torch; print(torch.__version__)') sees no CUDA device"
else
  export PEER_JSONL=$OUT/peer.jsonl
  : > "$PEER_JSONL"
  for cfg in "${configs[@]}"; do
    IFS=x read -r d m k n <<< "$cfg"
    for beta in "${betas[@]}"; do
      step "peer-$cfg-b$beta" 60 "$OUT/peer.log" bash -c 'python3 "$0" "$@" >> "$PEER_JSONL"' "$DIST/peer/peer_gpu.py" \
        --device "$peer_device" --d "$d" --latents "$m" --k "$k" --tokens "$n" --beta "$beta" --copy-mib "$copy_mib"
    done
  done
fi

# 4. gsae bench: the training step as the CLI times it (random data, median of 20 steps after 3).
for cfg in "${configs[@]}"; do
  IFS=x read -r d m k n <<< "$cfg"
  for dense in "" --dense; do
    name=bench-$cfg-$([ -n "$dense" ] && echo dense || echo fused)
    memory_start
    step "$name" 60 "$OUT/bench.log" "$DIST/bin/gsae" bench --backend "$backend" $dense --d "$d" --latents "$m" --k "$k" \
      --batch "$n" --beta 1 --steps 20 --warmup-steps 3
    memory_stop "$OUT/bench.log" "$name"
  done
done

# 5. End to end on a generated bf16 shard (reference config, β = 1). --dead-tokens is SPEC's default
# (10M): the run's 4.9M tokens stay inside that window, so AuxK stays off as in the other benchmarks
# (train's own default for a short run would shrink the window and switch AuxK on with k_aux = d/2).
IFS=x read -r d m k n <<< "${configs[0]}"
shard=$WORK/shard.safetensors
train_log=$OUT/train.log
if ! python3 -c 'import numpy' 2>/dev/null; then
  say "train: skipped, python3 cannot import numpy to write the shard"
  status=1
elif step shard 90 "$train_log" python3 - "$shard" "$shard_rows" "$d" <<'PY'
# Writes a safetensors shard by hand: tensors "activations" and "gradients", BF16 [rows, d] each,
# activations Gaussian around a per-dimension offset, gradients Gaussian at 1e-3/sqrt(d), in chunks.
import json, struct, sys
import numpy as np

path, rows, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
offset = rng.standard_normal(d, dtype=np.float32)
size = rows * d * 2
header = {"__metadata__": {"generator": "gsae h200-bench"},
          "activations": {"dtype": "BF16", "shape": [rows, d], "data_offsets": [0, size]},
          "gradients": {"dtype": "BF16", "shape": [rows, d], "data_offsets": [size, 2 * size]}}
raw = json.dumps(header).encode()
raw += b" " * (-len(raw) % 8)


def bf16(a):
    """float32 -> bfloat16 bits, rounding to nearest even (inputs are finite)."""
    u = a.view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


chunk = 65536
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(raw)) + raw)
    for scale, shift in ((1.0, offset), (1e-3 / d ** 0.5, np.float32(0))):
        for start in range(0, rows, chunk):
            block = rng.standard_normal((min(chunk, rows - start), d), dtype=np.float32) * np.float32(scale) + shift
            f.write(bf16(block).astype("<u2").tobytes())
print(f"wrote {path}: {rows} tokens x {d}, BF16 activations and gradients, {8 + len(raw) + 2 * size} bytes")
PY
then
  rm -rf "$WORK/run"
  memory_start
  step train 150 "$train_log" "$DIST/bin/gsae" train --data "$shard" --latents "$m" --k "$k" --beta 1 --batch "$n" \
    --steps "$train_steps" --dead-tokens 10000000 --backend "$backend" --checkpoint-every 0 --quiet --out "$WORK/run"
  memory_stop "$train_log" train
  if [ -f "$WORK/run/metrics.jsonl" ]; then
    python3 - "$WORK/run/metrics.jsonl" <<'PY' | tee -a "$train_log" >> "$summary"
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
last, mid = rows[-1], rows[len(rows) // 2]
steady = (last["tokens"] - mid["tokens"]) / (last["elapsed_s"] - mid["elapsed_s"]) if last["elapsed_s"] > mid["elapsed_s"] else float("nan")
print(f"train end to end: {last['tokens_per_s']:.0f} tokens/s over all {len(rows)} steps (page cache warm: the shard was just written), "
      f"{steady:.0f} tokens/s over steps {mid['step'] + 1}-{last['step']}; final fvu {last['fvu']:.4f}, l0 {last['l0']:.1f}, dead {100 * last['dead_fraction']:.1f}%")
PY
  fi
else
  status=1
fi

# Tables for the summary, from what the steps left behind.
command -v python3 >/dev/null || cat "$WORK"/jmh-*.json > "$OUT/jmh.json" 2>/dev/null
python3 - "$WORK" "$OUT" <<'PY' >> "$summary" 2>&1 || say "summary tables: python3 failed (raw files are complete)"
import glob, json, os, sys
work, out = sys.argv[1], sys.argv[2]
rows = []
for f in sorted(glob.glob(os.path.join(work, "jmh-*.json"))):
    try:
        rows += json.load(open(f))
    except ValueError:
        print(f"jmh: {os.path.basename(f)} is not JSON (run cut short?)")
json.dump(rows, open(os.path.join(out, "jmh.json"), "w"), indent=1)
scale = {"us/op": 1e-3, "ms/op": 1.0, "s/op": 1e3, "ns/op": 1e-6}
print(f"\n{'JMH benchmark':<28}{'impl':<7}{'config (dxMxkxN)':<20}{'beta':>5}{'p50 ms':>10}{'mean ms':>10}{'samples':>9}{'tokens/s':>13}")
for r in sorted(rows, key=lambda r: (r["params"]["config"], r["benchmark"], r["params"]["impl"], r["params"]["beta"])):
    p, metric = r["params"], r["primaryMetric"]
    s = scale[metric["scoreUnit"]]
    p50 = metric.get("scorePercentiles", {}).get("50.0", float("nan")) * s
    samples = sum(int(c) for run in metric.get("rawDataHistogram", []) for it in run for _, c in it) if "rawDataHistogram" in metric else "-"
    n = int(p["config"].split("x")[3])
    tokens = "-" if r["benchmark"].endswith(".update") else f"{n / (p50 / 1e3):.0f}"  # Adam reads no batch
    print(f"{r['benchmark'].removeprefix('gsae.bench.'):<28}{p['impl']:<7}{p['config']:<20}{p['beta']:>5}{p50:10.3f}{metric['score'] * s:10.3f}{samples!s:>9}{tokens:>13}")
peer = os.path.join(out, "peer.jsonl")
if os.path.exists(peer):
    print(f"\n{'peer (PyTorch)':<22}{'beta':>5}{'step ms':>10}{'tokens/s':>13}{'enc. products ms':>18}{'TFLOP/s':>9}{'copy GB/s':>11}{'peak MiB':>10}")
    for line in open(peer):
        j = json.loads(line)
        cfg = f"{j['d']}x{j['latents']}x{j['k']}x{j['tokens']}"
        peak = j["peak_memory_bytes"] / 2 ** 20 if j["peak_memory_bytes"] else float("nan")
        print(f"{cfg:<22}{j['beta']:>5}{j['step_s'] * 1e3:10.3f}{j['tokens_per_s']:13.0f}{j['encoder_products_s'] * 1e3:18.3f}"
              f"{j['encoder_products_tflops']:9.1f}{j['copy_gb_per_s']:11.0f}{peak:10.0f}")
bench = os.path.join(out, "bench.log")
if os.path.exists(bench):
    print("\ngsae bench:")
    for line in open(bench):
        if line.startswith(("bench ", "step ", "tokens/s", "memory:")):
            print("  " + line.rstrip())
PY
say "done in $((SECONDS)) s, exit $status"
exit $status
