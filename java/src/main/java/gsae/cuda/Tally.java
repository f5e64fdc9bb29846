package gsae.cuda;

/** Accumulates comparisons against tolerances into a {@link CheckResult}. */
final class Tally {

    private double worst;
    private long failures;
    private String first = "";

    /** Compares got with ref under tolerance tol (> 0); NaN in got always fails. */
    void near(double got, double ref, double tol, String where) {
        double ratio = Math.abs(got - ref) / tol;
        if (Double.isNaN(ratio)) ratio = Double.POSITIVE_INFINITY;
        ratio(ratio, where + ": got " + got + ", want " + ref + " ± " + String.format("%.3g", tol));
    }

    /** Records an error-to-tolerance ratio measured by the caller (≤ 1 passes). */
    void ratio(double ratio, String where) {
        worst = Math.max(worst, ratio);
        if (ratio > 1) count(where);
    }

    /** A failure with no tolerance to speak of (bad index, wrong shape). */
    void fail(String what) {
        worst = Double.POSITIVE_INFINITY;
        count(what);
    }

    private void count(String what) {
        failures++;
        if (first.isEmpty()) first = what;
    }

    CheckResult result(String stage, String label, String mode) {
        return new CheckResult(stage, label, mode, worst, failures, first);
    }
}
