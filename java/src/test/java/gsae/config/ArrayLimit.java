package gsae.config;

import java.util.function.Supplier;

/** Lowers the host-array limit for the duration of a test, so the paths that avoid whole host arrays run at small sizes. */
public final class ArrayLimit {

    private ArrayLimit() {}

    /** Runs {@code body} with at most {@code elements} per host array, then restores the limit. */
    public static <T> T during(long elements, Supplier<T> body) {
        long before = Sizes.arrayLimit;
        Sizes.arrayLimit = elements;
        try {
            return body.get();
        } finally {
            Sizes.arrayLimit = before;
        }
    }

    public static void during(long elements, Runnable body) {
        during(elements, () -> {
            body.run();
            return null;
        });
    }
}
