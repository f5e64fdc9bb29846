# Planted bug: block_radix_select reads the histogram without waiting for the other threads to fill it
# (the __syncthreads after the counting loop is gone).
set -euo pipefail
python3 - <<'PY'
import pathlib
p = pathlib.Path("common.cuh"); s = p.read_text()
old = "atomicAdd(&hist[(key >> shift) & 0xff], 1);\n        }\n        __syncthreads();\n"
assert old in s, "missing_barrier: pattern not found in common.cuh"
p.write_text(s.replace(old, "atomicAdd(&hist[(key >> shift) & 0xff], 1);\n        }\n"))
PY
