#!/usr/bin/env bash
# gpu-check.sh — what a session with a GPU runs on the device machine to check the CUDA backend.
#
# Run from the directory that holds the unpacked dist (or pass its path):
#     bash scripts/gpu-check.sh [dist/gsae]
# Layout assumed (make dist / scripts/dist.sh):
#     dist/gsae/bin/java          a JDK 25 runtime
#     dist/gsae/lib/*.jar         gsae-<version>.jar (kernels inside, gsae/kernels/*.fatbin) and its
#                                 runtime dependencies (JCuda + natives, picocli, …)
#     dist/gsae/test-lib/*.jar    gsae-<version>-tests.jar, JUnit 5 and
#                                 junit-platform-console-standalone-*.jar
#     dist/gsae/gsae              the launcher
# Writes under $OUT (default ./gpu-check-out), at most 8 files so that the device tool returns them all:
#     nvidia-smi.log, junit.log, junit/TEST-junit-jupiter.xml, selftest.log,
#     sanitizer-<tool>.log (when SANITIZE names compute-sanitizer tools, e.g. SANITIZE="memcheck racecheck"),
#     summary.txt (one line per step with its exit code).
# Every launch is synchronised (-Dgsae.cuda.syncLaunches=true) so that a fault names its kernel.
# Exit status: 0 when every step passed, 1 otherwise.
set -u
DIST=${1:-dist/gsae}
OUT=${OUT:-$PWD/gpu-check-out}
SANITIZE=${SANITIZE:-}
mkdir -p "$OUT"
need() {  # glob, what: stop with one line when nothing matches
  compgen -G "$1" > /dev/null || { echo "✗ $2 not found ($1): unpack the dist first or pass its path" | tee "$OUT/summary.txt"; exit 1; }
}
need "$DIST/bin/java" "the Java runtime"
need "$DIST/lib/gsae-*.jar" "the gsae jar"
need "$DIST/*/gsae-*-tests.jar" "the gsae test jar"
need "$DIST/test-lib/junit-platform-console-standalone-*.jar" "the JUnit console launcher"

# cuBLAS (dense baseline) is looked up by soname: add the toolkit's and PyTorch's copies if present.
for dir in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
           $(python3 -c 'import nvidia.cublas, os; print(os.path.join(nvidia.cublas.__path__[0], "lib"))' 2>/dev/null); do
  [ -d "$dir" ] && LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
export LD_LIBRARY_PATH

JAVA=("$DIST/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dgsae.cuda.syncLaunches=true)
CP="$DIST/lib/*:$DIST/test-lib/*"
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
run_step junit "${JAVA[@]}" -Xss4m -cp "$CP" org.junit.platform.console.ConsoleLauncher execute \
  --select-package gsae.cuda --details=summary --details-theme=ascii --reports-dir "$OUT/junit" --fail-if-no-tests
run_step selftest "${JAVA[@]}" -cp "$DIST/lib/*" gsae.cli.Main selftest --backend cuda
for tool in $SANITIZE; do
  run_step "sanitizer-$tool" compute-sanitizer --tool "$tool" --target-processes all --error-exitcode 99 \
    "${JAVA[@]}" -cp "$DIST/lib/*" gsae.cli.Main selftest --backend cuda --steps 2
done
exit $status
