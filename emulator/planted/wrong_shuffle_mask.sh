# Planted bug: warp_sum shuffles with a mask that leaves out lane 31.
set -euo pipefail
grep -q '__shfl_xor_sync(0xffffffffu, v, offset)' common.cuh
sed -i 's/__shfl_xor_sync(0xffffffffu, v, offset)/__shfl_xor_sync(0x7fffffffu, v, offset)/' common.cuh
