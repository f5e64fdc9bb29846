package gsae.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The dense baseline's two GEMMs on the host, for the emulated device (whose device memory is host
 * memory): each output an f32 fused multiply-add chain in k order. cuBLAS sums in an order of its
 * own, which the dense tests' tolerances already allow.
 */
final class HostGemm implements Gemm {

    private final EmulatedDevice device;

    HostGemm(EmulatedDevice device) {
        this.device = device;
    }

    @Override
    public void gemmRowMajorNT(long a, long b, long c, int rows, int cols, int inner) {
        float[] x = read(a, (long) rows * inner), y = read(b, (long) cols * inner), out = new float[count((long) rows * cols)];
        for (int r = 0; r < rows; r++)
            for (int col = 0; col < cols; col++) {
                float acc = 0f;
                for (int k = 0; k < inner; k++) acc = Math.fma(x[r * inner + k], y[col * inner + k], acc);
                out[r * cols + col] = acc;
            }
        write(c, out);
    }

    @Override
    public void gemmRowMajorNN(long a, long b, long c, int rows, int cols, int inner) {
        float[] x = read(a, (long) rows * inner), y = read(b, (long) inner * cols), out = new float[count((long) rows * cols)];
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < inner; k++) {
                float xv = x[r * inner + k];
                for (int col = 0; col < cols; col++) out[r * cols + col] = Math.fma(xv, y[k * cols + col], out[r * cols + col]);
            }
        write(c, out);
    }

    private float[] read(long address, long count) {
        return device.device(address, 4L * count(count), "GEMM operand").toArray(ValueLayout.JAVA_FLOAT);
    }

    /** A host array's length: operands and results over one Java array are refused, never wrapped. */
    private static int count(long floats) {
        if (floats > Integer.MAX_VALUE) throw new IllegalArgumentException("GEMM operand of " + floats + " floats is too large for the host GEMM");
        return (int) floats;
    }

    private void write(long address, float[] values) {
        MemorySegment.copy(MemorySegment.ofArray(values), 0, device.device(address, 4L * values.length, "GEMM result"), 0, 4L * values.length);
    }

    @Override
    public void close() {
        // nothing held
    }
}
