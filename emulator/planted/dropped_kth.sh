# Planted bug: the compaction keeps keys strictly below the k-th, dropping the k-th element itself.
set -euo pipefail
grep -q 'const bool keep = key <= threshold && key != kInvalidKey;' common.cuh
sed -i 's/const bool keep = key <= threshold \&\& key != kInvalidKey;/const bool keep = key < threshold \&\& key != kInvalidKey;/' common.cuh
