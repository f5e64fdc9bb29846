#!/usr/bin/env bash
# JMH benchmarks of the CPU training step (issue #3): each stage and the full step, fused (FastOps)
# and dense (DenseOps), β = 1 and β = 0.
#
#   bash bench/run.sh short   reference config only (d=512, M=8192, k=32, N=2048), few iterations, one fork
#   bash bench/run.sh full    also d=768, M=24576; more iterations
#
# Extra arguments go to JMH (e.g. -p impl=fused). THREADS (default 2) sets the worker count;
# BENCH (a JMH regex, default all three classes) picks benchmarks, e.g. BENCH='StageBench\.(decode|backward)';
# JAVA_OPTS goes to the JVM that runs JMH (e.g. -Djava.io.tmpdir=… for a separate JMH lock).
# Writes bench/results/raw/jmh-<mode>-<UTC date-time>.json and prints tokens/s per benchmark.
set -euo pipefail

mode=${1:-short}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)

case $mode in
  short) defaults=(-p config=512x8192x32x2048 -p threads="${THREADS:-2}" -f 1 -wi 2 -w 2s -i 3 -r 2s) ;;
  full) defaults=(-p threads="${THREADS:-2}" -f 1 -wi 3 -w 2s -i 5 -r 2s) ;;
  *) echo "usage: bash bench/run.sh short|full [JMH arguments…]" >&2; exit 2 ;;
esac

# JMH refuses an option given twice, so a default is dropped when the caller gives the same option
# (for -p, the same parameter name).
given() {
  local flag=$1 value=$2 prev=""
  for a in "${user_args[@]}"; do
    if [ "$prev" = "$flag" ] && { [ "$flag" != -p ] || [ "${a%%=*}" = "${value%%=*}" ]; }; then return 0; fi
    prev=$a
  done
  return 1
}
user_args=("$@")
jmh_args=()
for ((i = 0; i < ${#defaults[@]}; i += 2)); do
  given "${defaults[i]}" "${defaults[i+1]}" || jmh_args+=("${defaults[i]}" "${defaults[i+1]}")
done

JAVA_HOME=$(bash "$root/scripts/find-jdk.sh")
if [ -z "$JAVA_HOME" ]; then
  echo "✗ no JDK 25 found: set JAVA_HOME to a JDK 25 or install one under /usr/lib/jvm" >&2
  exit 1
fi
export JAVA_HOME

jar=$root/bench/target/benchmarks.jar
if [ ! -f "$jar" ] || [ -n "$(find "$root/java/src/main" "$root/bench/src" -name '*.java' -newer "$jar" | head -1)" ]; then
  echo "· building benchmarks.jar"
  (cd "$root" && ./mvnw -B -q -DskipTests install)
fi

mkdir -p "$root/bench/results/raw"
out=$root/bench/results/raw/jmh-$mode-$(date -u +%Y%m%dT%H%M%SZ).json
"$JAVA_HOME/bin/java" ${JAVA_OPTS:-} --add-modules jdk.incubator.vector -jar "$jar" "gsae\.bench\.(${BENCH:-GemmBench|StageBench|StepBench})" \
  "${jmh_args[@]}" -rf json -rff "$out" "$@"

echo
echo "results: $out"
if ! command -v python3 >/dev/null; then
  echo "· python3 not found: no tokens/s summary (the JMH table above has the time per call)"
  exit 0
fi
python3 - "$out" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
for r in [r for r in rows if "config" not in r["params"]]:
    p, metric = r["params"], r["primaryMetric"]
    ms = metric["score"] * {"ms/op": 1.0, "s/op": 1e3, "us/op": 1e-3}[metric["scoreUnit"]]
    flop = 2.0 * int(p["n"]) * int(p["d"]) * int(p["m"])
    print(f"{r['benchmark'].removeprefix('gsae.bench.')}: [{p['n']}x{p['d']}]·[{p['d']}x{p['m']}] {ms:.2f} ms = {flop / ms / 1e6:.0f} GFLOP/s on {p['threads']} threads")
rows = [r for r in rows if "config" in r["params"]]
to_ms = {"ms/op": 1.0, "s/op": 1e3, "us/op": 1e-3, "ns/op": 1e-6}
print(f"{'benchmark':<26}{'impl':<7}{'config (dxMxkxN)':<20}{'beta':>5}{'threads':>8}{'ms/call':>13}{'± ms':>12}{'tokens/s':>12}")
for r in sorted(rows, key=lambda r: (r["params"]["config"], r["benchmark"], r["params"]["impl"], r["params"]["beta"])):
    p, metric = r["params"], r["primaryMetric"]
    ms = metric["score"] * to_ms[metric["scoreUnit"]]
    err = float(metric["scoreError"]) * to_ms[metric["scoreUnit"]]
    n = int(p["config"].split("x")[3])
    name = r["benchmark"].removeprefix("gsae.bench.")
    err_text = f"{err:12.3f}" if err == err else f"{'-':>12}"
    print(f"{name:<26}{p['impl']:<7}{p['config']:<20}{p['beta']:>5}{p['threads']:>8}{ms:13.3f}{err_text}{n / (ms / 1e3):12.0f}")
PY
