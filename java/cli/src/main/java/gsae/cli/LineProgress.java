package gsae.cli;

import gsae.api.Metrics;

import java.io.PrintStream;

/** Plain lines for logs and quiet runs: one at about every 10% of the run and one at the end. */
final class LineProgress implements Progress {

    private final PrintStream out;
    private final long total;
    private final long every;
    private final long startNanos = System.nanoTime();
    private final long first;

    LineProgress(PrintStream out, long first, long total) {
        this.out = out;
        this.first = first;
        this.total = total;
        this.every = Math.max(1, total / 10);
    }

    @Override
    public void update(long step, Metrics m, double tokensPerSecond) {
        if (step % every != 0 && step != total) return;
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        double eta = elapsed / (step - first + 1) * (total - step);
        out.printf("step %d/%d (%.0f%%)  %s  eta %s%n", step, total, 100.0 * step / total, Progress.summary(m, tokensPerSecond), clock(eta));
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }

    @Override
    public void close() {
        out.flush();
    }
}
