#!/usr/bin/env bash
# emulator/tsan.sh CXX "FLAGS" "FAMILIES" OUTDIR — builds tsan_check against the kernels and
# against the planted block_sum race, runs both, and says ✓ when TSan is silent on the first and
# reports the second (called by make emulator-tsan).
set -uo pipefail
cxx=$1 flags=$2 families=$3 out=$4
build() {  # build DIR KERNELS_DIR
    local dir=$1 src=$2
    mkdir -p "$dir/runtime"
    for f in $families; do
        python3 emulator/gen_registry.py "$src/$f.cu" > "$dir/$f.kernel.cpp" &&
            $cxx $flags -fsanitize=thread -include cuda_emu.h -DGSAE_EMU_TSAN -c "$dir/$f.kernel.cpp" -o "$dir/$f.kernel.o" || return 1
    done
    for f in emulator/*.cpp; do
        $cxx $flags -DGSAE_EMU_TSAN -Iemulator -c "$f" -o "$dir/runtime/$(basename "$f" .cpp).o" || return 1
    done
    $cxx $flags -fsanitize=thread emulator/test/tsan_check.cpp "$dir"/*.kernel.o "$dir"/runtime/*.o -Wl,-T,emulator/shared.ld -lpthread -o "$dir/tsan_check"
}
build "$out/kernels" kernels || { echo "✗ ThreadSanitizer build failed"; exit 1; }
planted="$out/planted/kernels"
rm -rf "$planted" && mkdir -p "$planted" && cp kernels/*.cu kernels/*.cuh "$planted/" && (cd "$planted" && bash "$OLDPWD/emulator/planted/block_sum_race.sh")
build "$out/planted" "$planted" || { echo "✗ ThreadSanitizer build of the planted race failed"; exit 1; }
export TSAN_OPTIONS="exitcode=66 halt_on_error=1"
"$out/kernels/tsan_check" > "$out/kernels.log" 2>&1
clean=$?
"$out/planted/tsan_check" > "$out/planted.log" 2>&1
racy=$?
if [ $clean -eq 0 ] && [ $racy -eq 66 ]; then
    echo "✓ ThreadSanitizer: no race in the kernels; the planted block_sum race is reported ($out/planted.log)"
else
    echo "✗ ThreadSanitizer: kernels exit $clean (want 0, see $out/kernels.log), planted race exit $racy (want 66, see $out/planted.log)"
    exit 1
fi
