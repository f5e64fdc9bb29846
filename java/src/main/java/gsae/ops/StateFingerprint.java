package gsae.ops;

/**
 * A 64-bit fingerprint of every bit of a training state but its step count: the wrapping sum, over
 * every 32-bit word w at position i of tensor t, of {@code mix(w ^ i·φ ^ t·ψ)} ({@link
 * InitRandom#mix}, splitmix64's finaliser). The tensors, in order: W_enc, b_enc, W_dec, b_dec of
 * the parameters, then of each Adam moment, then the since-fired counters as two words each, low
 * word first. A sum, so any order of the additions gives the same bits: update.cu's {@code
 * state_fingerprint} is this class's twin on the device and agrees with it to the last bit.
 * Data-parallel ranks compare theirs every {@value #CHECK_EVERY} steps.
 */
public final class StateFingerprint {

    /** Steps between two checks that data-parallel ranks hold the same state. */
    public static final int CHECK_EVERY = 64;

    private static final long PHI = 0x9E3779B97F4A7C15L, PSI = 0xC2B2AE3D27D4EB4FL;

    private StateFingerprint() {}

    public static long of(TrainState s) {
        long h = 0;
        int t = 0;
        for (Params p : new Params[] {s.params(), s.adamM(), s.adamV()})
            for (float[] a : new float[][] {p.wEnc(), p.bEnc(), p.wDec(), p.bDec()}) h += floats(a, t++);
        long[] since = s.sinceFired();
        for (int i = 0; i < since.length; i++) h += word((int) since[i], 2L * i, t) + word((int) (since[i] >>> 32), 2L * i + 1, t);
        return h;
    }

    private static long floats(float[] a, int tensor) {
        long h = 0;
        for (int i = 0; i < a.length; i++) h += word(Float.floatToRawIntBits(a[i]), i, tensor);
        return h;
    }

    /** The term of word {@code w} at position {@code i} of tensor {@code tensor}. */
    static long word(int w, long i, int tensor) {
        return InitRandom.mix((w & 0xFFFFFFFFL) ^ (i * PHI) ^ (tensor * PSI));
    }
}
