package gsae.cli;

import gsae.api.Metrics;

import java.io.PrintStream;

/** What the trainer tells the person watching: one update per step, cheap enough to call every step. */
public interface Progress extends AutoCloseable {

    /** After step {@code step} of the run: its metrics and the throughput so far. */
    void update(long step, Metrics m, double tokensPerSecond);

    @Override
    void close();

    /**
     * A live progress bar (ETA, tokens/s, FVU, dead fraction) when {@code out} is a terminal and not
     * {@code quiet}; otherwise one plain line each ~10% of the run.
     *
     * @param first the first step this session will run (1 for a fresh run, later on resume)
     */
    static Progress create(PrintStream out, long first, long total, boolean quiet) {
        return !quiet && Terminal.isInteractive() ? new BarProgress(out, first, total) : new LineProgress(out, first, total);
    }

    /** "fvu 0.1234  auxk 0.567  dead 1.2%  12,345 tok/s": the scalars both displays show. */
    static String summary(Metrics m, double tokensPerSecond) {
        return String.format("fvu %.4f  auxk %.3g  dead %.1f%%  %,.0f tok/s", m.fvu(), m.auxk(), 100 * m.deadFraction(), tokensPerSecond);
    }
}
