package gsae.train;

import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.config.UserError;
import gsae.data.BatchSource;
import gsae.io.Checkpoint;
import gsae.ops.Backend;
import gsae.ops.StepMetrics;
import gsae.ops.TrainingStep;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

/**
 * The training loop: batches in, steps on the backend, metrics out, checkpoints on schedule. A
 * fresh run starts from {@link Initializer#fresh}, a resumed one from {@link Checkpoint#load}; both
 * run the same loop, so a run interrupted and resumed equals the uninterrupted run. Everything it
 * writes goes under one output folder: {@value #CHECKPOINT}/, {@value #METRICS}, {@value #CURVES}.
 */
public final class Trainer {

    public static final String CHECKPOINT = "checkpoint";
    public static final String METRICS = "metrics.jsonl";
    public static final String CURVES = "curves.png";

    /**
     * How a run ended.
     *
     * @param last    the final checkpoint (also on disk)
     * @param metrics the last step's metrics, null when the start already was the last step
     * @param seconds wall time of this session's loop
     */
    public record Result(Checkpoint last, StepMetrics metrics, double seconds) {}

    private final Backend backend;
    private final BatchSource source;
    private final Path out;
    private PrintStream log = System.err;
    private boolean quiet;
    private int evalEvery;
    private PeriodicEval eval;

    public Trainer(Backend backend, BatchSource source, Path out) {
        this.backend = backend;
        this.source = source;
        this.out = out;
    }

    /** Where progress goes (stderr by default); quiet prints plain lines every ~10% instead of a live bar. */
    public Trainer progress(PrintStream to, boolean quietly) {
        this.log = to;
        this.quiet = quietly;
        return this;
    }

    /** Calls {@code hook} after every {@code every} steps and after the last one; its scalars join the metrics. */
    public Trainer evaluateEvery(int every, PeriodicEval hook) {
        if (every < 1) throw new IllegalArgumentException("evaluation interval must be ≥ 1 step, got " + every);
        this.evalEvery = every;
        this.eval = hook;
        return this;
    }

    /** Runs from {@code start} to {@code start.train().steps()}, checkpointing on schedule and at the end. */
    public Result run(Checkpoint start) {
        SaeConfig sae = start.sae();
        TrainConfig train = start.train();
        source.seek(start.dataPosition());
        Batches batches = new Batches(source, start.scales(), train.batch());
        Meter meter = new Meter(start.step() + 1, train.batch());
        Checkpoint last = start;
        StepMetrics m = null;
        Interruption interruption = Interruption.watch(log, out, start.step());
        try (interruption; TrainingStep step = backend.open(sae, start.state());
             MetricsLog metrics = MetricsLog.open(out.resolve(METRICS), start.step());
             Progress progress = Progress.create(log, start.step() + 1, train.steps(), quiet)) {
            for (long t = start.step() + 1; t <= train.steps(); t++) {
                float lr = train.lrAt(sae, t);
                m = step.step(batches.next(), lr);
                checkFinite(m, t, last);
                metrics.write(withEvaluation(meter.row(t, lr, m), t, step, start));
                progress.update(t, m, meter.tokensPerSecond());
                if (t == train.steps() || train.checkpointEvery() > 0 && t % train.checkpointEvery() == 0)
                    interruption.saved(last = save(start, step));
            }
        }
        if (last == start) start.save(out.resolve(CHECKPOINT));
        Plots.write(out.resolve(CURVES), title(start), MetricsLog.read(out.resolve(METRICS)));
        return new Result(last, m, meter.elapsedSeconds());
    }

    /** "g-SAE β=4 · M=1024, k=16 · 3000 steps of 1024 tokens · model gpt2, hook transformer.h.7": what the figure shows. */
    static String title(Checkpoint c) {
        SaeConfig s = c.sae();
        String what = s.beta() > 0 ? "g-SAE β=" + Panel.number(s.beta()) : "TopK SAE";
        String data = c.data().source() != null ? c.data().source().describe() : c.data().description();
        return what + " · M=" + s.latents() + ", k=" + s.k() + " · " + c.train().steps() + " steps of " + c.train().batch() + " tokens · " + data;
    }

    private Checkpoint save(Checkpoint start, TrainingStep step) {
        Checkpoint c = new Checkpoint(start.sae(), start.train(), start.scales(), step.snapshot(), source.position(), start.data());
        c.save(out.resolve(CHECKPOINT));
        return c;
    }

    private Map<String, Number> withEvaluation(Map<String, Number> row, long t, TrainingStep step, Checkpoint start) {
        if (eval != null && (t % evalEvery == 0 || t == start.train().steps()))
            row.putAll(eval.evaluate(t, step.snapshot().params(), start.scales()));
        return row;
    }

    private static void checkFinite(StepMetrics m, long t, Checkpoint last) {
        if (!Double.isFinite(m.loss()))
            throw new UserError("step " + t + ": the loss is " + m.loss() + " (learning rate too high, or non-finite data?); "
                    + "the last checkpoint is from step " + last.step());
    }
}
