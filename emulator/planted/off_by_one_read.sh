# Planted bug: sparse_decode sums one slot too many, reading idx/val one element past the row.
set -euo pipefail
grep -q 'for (int slot = 0; slot < k; slot++)' sparse_decode.cu
sed -i 's/for (int slot = 0; slot < k; slot++)/for (int slot = 0; slot <= k; slot++)/' sparse_decode.cu
