package gsae.api;

import gsae.config.Sizes;
import gsae.config.UserError;

/** Checks and copies of what callers pass in: their arrays are read, never written. */
final class Inputs {

    private Inputs() {}

    /** {@code values} must hold exactly rows × d floats; the message names the argument. */
    static void check(String name, float[] values, int rows, int d) {
        if (values == null) throw new IllegalArgumentException(name + " is null");
        if (rows < 1) throw new IllegalArgumentException("rows must be ≥ 1, got " + rows);
        long want = Sizes.product("rows", rows, d);
        if (values.length != want)
            throw new IllegalArgumentException(name + " has " + values.length + " values, expected rows × d = " + rows + " × " + d + " = " + want);
    }

    /** A copy of {@code values} times {@code factor}. */
    static float[] scaled(float[] values, float factor) {
        float[] out = values.clone();
        if (factor != 1f) for (int i = 0; i < out.length; i++) out[i] *= factor;
        return out;
    }

    /** Runs {@code check}, turning the engine's UserError into an IllegalArgumentException with the same message. */
    static <T> T argument(java.util.function.Supplier<T> check) {
        try {
            return check.get();
        } catch (UserError e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }
}
