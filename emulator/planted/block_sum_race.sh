# Planted bug: block_sum writes its warp's partial before every thread has read the previous call's
# (the first __syncthreads is gone), a race when block_sum runs twice in a row (adam_update).
set -euo pipefail
python3 - <<'PY'
import pathlib
p = pathlib.Path("common.cuh"); s = p.read_text()
old = "    v = warp_sum(v);\n    __syncthreads();\n    if (lane == 0) scratch[warp] = v;"
assert old in s, "block_sum_race: pattern not found in common.cuh"
p.write_text(s.replace(old, "    v = warp_sum(v);\n    if (lane == 0) scratch[warp] = v;"))
PY
