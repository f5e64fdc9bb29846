package gsae.train;

import gsae.ops.StepMetrics;

import java.util.LinkedHashMap;
import java.util.Map;

/** Turns a step's metrics into a metrics.jsonl row, timing this session's throughput. */
final class Meter {

    private final long firstStep;
    private final int batch;
    private final long startNanos = System.nanoTime();
    private double tokensPerSecond;

    /** @param firstStep the first step this session runs (tokens/s counts only this session's work) */
    Meter(long firstStep, int batch) {
        this.firstStep = firstStep;
        this.batch = batch;
    }

    Map<String, Number> row(long step, float lr, StepMetrics m) {
        double elapsed = elapsedSeconds();
        tokensPerSecond = elapsed > 0 ? (double) (step - firstStep + 1) * batch / elapsed : 0;
        Map<String, Number> row = new LinkedHashMap<>();
        row.put("step", step);
        row.put("tokens", step * batch);
        row.put("lr", lr);
        row.put("fvu", m.fvu());
        row.put("auxk", m.auxk());
        row.put("loss", m.loss());
        row.put("l0", m.l0());
        row.put("dead_fraction", m.deadFraction());
        row.put("tokens_per_s", tokensPerSecond);
        row.put("elapsed_s", elapsed);
        return row;
    }

    double elapsedSeconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    double tokensPerSecond() {
        return tokensPerSecond;
    }
}
