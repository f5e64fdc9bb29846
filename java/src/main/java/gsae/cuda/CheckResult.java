package gsae.cuda;

/**
 * The outcome of one comparison with the reference.
 *
 * @param stage      what was compared, e.g. "encode-select", "backward"
 * @param label      the case, e.g. "N=33 d=77 M=300 k=8 β=0.5"
 * @param mode       "f32", "bf16", "dense"
 * @param worst      the largest |got − ref| / tolerance over all compared numbers (≤ 1 passes)
 * @param failures   how many numbers or index-set entries fell outside their tolerance
 * @param first      the first failure in words, or "" when none
 */
public record CheckResult(String stage, String label, String mode, double worst, long failures, String first) {

    public boolean ok() {
        return failures == 0;
    }

    /** One fixed-width table row. */
    public String row() {
        return String.format("%-14s %-34s %-6s %10.3g %8d  %s%s", stage, label, mode, worst, failures, ok() ? "ok" : "FAIL",
                ok() ? "" : "  " + first);
    }

    public static String header() {
        return String.format("%-14s %-34s %-6s %10s %8s  %s", "stage", "case", "mode", "err/tol", "failures", "result");
    }
}
