package gsae.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Element types gsae reads and writes, with their safetensors names and little-endian layouts. */
public enum Dtype {
    F32(4), F16(2), BF16(2), I32(4), I64(8), U8(1);

    private static final ValueLayout.OfFloat LE_F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Bytes per element. */
    public final int size;

    Dtype(int size) {
        this.size = size;
    }

    /** True for the types that convert to float32 on read. */
    public boolean isFloat() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** The safetensors dtype string, or null when it is not one gsae knows. */
    public static Dtype ofSafetensors(String name) {
        for (Dtype t : values()) if (t.name().equals(name)) return t;
        return null;
    }

    /**
     * Converts {@code count} little-endian elements of a float type starting at byte {@code offset}
     * of {@code src} into {@code dst[dstOff ..]}.
     */
    public void toFloats(MemorySegment src, long offset, float[] dst, int dstOff, int count) {
        switch (this) {
            case F32 -> MemorySegment.copy(src, LE_F32, offset, dst, dstOff, count);
            case F16 -> {
                for (int i = 0; i < count; i++) dst[dstOff + i] = Float.float16ToFloat(src.get(LE_I16, offset + 2L * i));
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) dst[dstOff + i] = bf16ToFloat(src.get(LE_I16, offset + 2L * i));
            }
            default -> throw new IllegalStateException(this + " is not a float type");
        }
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Rounds to the nearest bfloat16, ties to even; NaN stays NaN. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}
