package gsae.config;

/**
 * Size arithmetic in {@code long} with overflow checks. Every product of user-given sizes goes
 * through here, so that a size too large for 64 bits, or for the one Java array a host backend keeps
 * a tensor in, is a {@link UserError} naming the option to change instead of a wrapped count.
 */
public final class Sizes {

    /** The most elements one Java array can hold on HotSpot (a few below {@link Integer#MAX_VALUE}). */
    public static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    /**
     * The limit {@link #hostArray} and {@link #hostState} enforce: {@link #MAX_ARRAY}, lowered only by
     * tests (through a helper in this package) so that the paths which never make a whole host array
     * run at sizes a test can afford.
     */
    static volatile long arrayLimit = MAX_ARRAY;

    /** The most elements one host array may have here: {@link #MAX_ARRAY} outside tests. */
    public static long arrayLimit() {
        return arrayLimit;
    }

    private Sizes() {}

    /** {@code rows × cols}; one that overflows 64 bits is a UserError naming {@code option}. */
    public static long product(String option, long rows, long cols) {
        if (rows < 0 || cols < 0) throw new UserError(option + ": size " + rows + " × " + cols + " is negative");
        try {
            return Math.multiplyExact(rows, cols);
        } catch (ArithmeticException e) {
            throw new UserError(option + ": " + rows + " × " + cols + " elements overflow 64 bits", e);
        }
    }

    /**
     * {@code rows × cols} as the length of one Java array, or a UserError naming {@code option} with
     * the limit and the largest {@code rows} that fits: host (CPU) tensors live in one array each.
     *
     * @param what what the rows count, e.g. "latents" or "tokens per batch"
     */
    public static int hostArray(String option, String what, long rows, long cols) {
        return hostArray(option, what, rows, cols, "");
    }

    /**
     * M·d as the length of one host array of the SAE's state ({@code latents × d}), or a UserError
     * naming {@code option} with the limit, the largest M that fits, and the way around it: the CUDA
     * backend keeps the state on the device and never needs such an array.
     */
    public static int hostState(String option, long latents, long d) {
        return hostArray(option, "latents", latents, d, ", or train on the CUDA backend (--backend cuda), which keeps the state on the device "
                + "and reads and writes checkpoints in chunks");
    }

    private static int hostArray(String option, String what, long rows, long cols, String orElse) {
        long n = product(option, rows, cols), limit = arrayLimit;
        if (n > limit)
            throw new UserError(String.format("%s: %,d %s × %,d = %,d elements, more than the %,d one Java array holds; "
                    + "the CPU backends and the host copies of parameters and batches keep each tensor in one array, "
                    + "so use at most %,d %s at this width%s", option, rows, what, cols, n, limit, limit / Math.max(1, cols), what, orElse));
        return (int) n;
    }

    /** Bytes of {@code elements} values of {@code bytesEach} bytes; overflow is a UserError naming {@code option}. */
    public static long bytes(String option, long elements, int bytesEach) {
        return product(option, elements, bytesEach);
    }
}
