#!/usr/bin/env bash
# gpu-check.sh — what a session with a GPU runs on the device machine to check the CUDA backend.
#
# Runs from the unpacked bundle of `make dist` (dist/gsae-linux-x86_64.tar.xz), where it is
# bin/gpu-check; or from the repository with the bundle's path:
#     tar -xJf dist/gsae-linux-x86_64.tar.xz -C /tmp && bash /tmp/gsae/bin/gpu-check /tmp/gsae
# (To a device machine carry only the archive, dist/gsae-linux-x86_64.tar.xz, about 32 MiB: the
# unpacked dist/gsae is over 100 MB.)
# Bundle layout: runtime/ (jlink'd Java 25), lib/ (gsae jar with the kernels inside, dependencies),
# tests/ (test classes), test-lib/ (JUnit 5 + console launcher), bin/gsae, bin/gsae-test.
# Writes under $OUT (default ./gpu-check-out), at most 8 files so that the device tool returns them all:
#     nvidia-smi.log, junit.log, junit/TEST-junit-jupiter.xml, selftest.log,
#     sanitizer-<tool>.log (when SANITIZE names compute-sanitizer tools, e.g. SANITIZE="memcheck racecheck"),
#     summary.txt (one line per step with its exit code).
# Every launch is synchronised (-Dgsae.cuda.syncLaunches=true) so that a fault names its kernel.
# Exit status: 0 when every step passed, 1 otherwise.
set -u
DIST=${1:-$(cd "$(dirname "$0")/.." && pwd)}
OUT=${OUT:-$PWD/gpu-check-out}
SANITIZE=${SANITIZE:-}
mkdir -p "$OUT"
for f in runtime/bin/java bin/gsae bin/gsae-test tests/gsae; do
  [ -e "$DIST/$f" ] || { echo "✗ $DIST/$f not found: pass the unpacked bundle's folder" | tee "$OUT/summary.txt"; exit 1; }
done

# cuBLAS (dense baseline) and NCCL (data parallel on devices) are looked up by soname: add the
# toolkit's and PyTorch's copies if present.
for dir in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
           $(python3 -c 'import nvidia.cublas, os; print(os.path.join(nvidia.cublas.__path__[0], "lib"))' 2>/dev/null) \
           $(python3 -c 'import nvidia.nccl, os; print(os.path.join(nvidia.nccl.__path__[0], "lib"))' 2>/dev/null); do
  [ -d "$dir" ] && LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
export LD_LIBRARY_PATH

export GSAE_JAVA_OPTS="-Dgsae.cuda.syncLaunches=true"
status=0
: > "$OUT/summary.txt"

run_step() {  # name, command…: runs it, logs to $OUT/name.log, records the exit code
  local name=$1; shift
  echo "== $name"
  "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  tail -n 15 "$OUT/$name.log"
  echo "$name: exit $rc" | tee -a "$OUT/summary.txt"
  [ $rc -eq 0 ] || status=1
}

run_step nvidia-smi nvidia-smi
run_step junit "$DIST/bin/gsae-test" --select-package gsae.cuda --select-class gsae.comm.NcclLibraryTest \
  --select-class gsae.train.DataParallelTrainerTest --select-class gsae.train.ShardedTrainerTest --details=summary --details-theme=ascii \
  --reports-dir "$OUT/junit" --fail-if-no-tests
run_step selftest "$DIST/bin/gsae" selftest --backend cuda
for tool in $SANITIZE; do
  run_step "sanitizer-$tool" compute-sanitizer --tool "$tool" --target-processes all --error-exitcode 99 \
    "$DIST/bin/gsae" selftest --backend cuda --steps 2
done
exit $status
