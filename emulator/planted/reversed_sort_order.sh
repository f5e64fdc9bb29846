# Planted bug: selection keys sort ascending score, so top-k keeps the k smallest scores.
set -euo pipefail
grep -q 'static_cast<unsigned long long>(~ordered_bits(score)) << 32' common.cuh
sed -i 's/static_cast<unsigned long long>(~ordered_bits(score)) << 32/static_cast<unsigned long long>(ordered_bits(score)) << 32/' common.cuh
