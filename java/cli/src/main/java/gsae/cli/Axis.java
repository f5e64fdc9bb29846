package gsae.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * The range and tick marks of one chart axis. A linear axis puts its ticks at multiples of 1, 2 or
 * 5 × 10^k; a log axis (its values are log10 of the data) at 1, 2, 5 × 10^k, or at every integer
 * multiple of 10^k (and 1.5 × 10^k) when the data span too little for four of those, or at round linear steps of the
 * data when they span too little for four.
 *
 * @param lo    the value at the axis' start
 * @param hi    the value at its end, &gt; lo
 * @param ticks where the marks go, within [lo, hi]
 * @param log   whether values (and ticks) are log10 of the data
 */
record Axis(double lo, double hi, List<Double> ticks, boolean log) {

    /** Where {@code v} lies along the axis, 0 at its start and 1 at its end. */
    double fraction(double v) {
        return (v - lo) / (hi - lo);
    }

    /** A linear axis from {@code min} to {@code max} rounded out to ticks, about {@code count} of them. */
    static Axis linear(double min, double max, int count) {
        if (!(max > min)) max = min + 1;
        double step = niceStep((max - min) / count);
        double lo = Math.floor(min / step) * step, hi = Math.ceil(max / step) * step;
        List<Double> ticks = new ArrayList<>();
        for (long i = Math.round(lo / step); i * step <= hi + step / 2; i++) ticks.add(i * step);
        return new Axis(lo, hi, ticks, false);
    }

    /** A log axis over log10 values {@code min} to {@code max}, padded by 5% of the span. */
    static Axis log(double min, double max) {
        double pad = Math.max(0.02, (max - min) * 0.05), lo = min - pad, hi = max + pad;
        double[][] mantissas = {{1, 2, 5}, {1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9}};
        int[] enough = {4, 4};
        for (int pass = 0; pass < mantissas.length; pass++) {
            List<Double> ticks = new ArrayList<>();
            for (int e = (int) Math.floor(lo) - 1; e <= Math.ceil(hi); e++)
                for (double mant : mantissas[pass]) {
                    double t = Math.log10(mant) + e;
                    if (t >= lo && t <= hi) ticks.add(t);
                }
            if (ticks.size() >= enough[pass]) return new Axis(lo, hi, ticks, true);
        }
        // less than a factor of ~3 from end to end: round steps of the values themselves
        Axis values = linear(Math.pow(10, lo), Math.pow(10, hi), 6);
        List<Double> ticks = new ArrayList<>();
        for (double t : values.ticks()) if (t > 0 && Math.log10(t) >= lo && Math.log10(t) <= hi) ticks.add(Math.log10(t));
        return new Axis(lo, hi, ticks, true);
    }

    /** The smallest of 1, 2, 2.5, 5 × 10^k that is at least {@code raw}. */
    static double niceStep(double raw) {
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[]{1, 2, 2.5, 5, 10}) if (m * p >= raw * (1 - 1e-9)) return m * p;
        return 10 * p;
    }
}
