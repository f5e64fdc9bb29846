package gsae.train;

import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.config.UserError;
import gsae.data.BatchSource;
import gsae.io.Checkpoint;
import gsae.ops.Backend;
import gsae.ops.StepMetrics;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The training loop: batches in, steps on the backend, metrics out, checkpoints on schedule. A
 * fresh run starts from {@link Initializer#fresh}, a resumed one from {@link Checkpoint#load}; both
 * run the same loop, so a run interrupted and resumed equals the uninterrupted run. It writes
 * {@value #CHECKPOINT}/ and {@value #METRICS} under one output folder and nothing else: no prints,
 * hooks or figures; whoever runs it follows it through {@link Listener}s.
 *
 * <p>The run takes the starting checkpoint's state over (see {@link Backend#start}), and writes
 * checkpoints from the backend's state chunk by chunk ({@link TrainingStep#chunks}): a host run
 * holds one copy of the state, a CUDA run none beyond one staging buffer.
 */
public final class Trainer {

    public static final String CHECKPOINT = "checkpoint";
    public static final String METRICS = "metrics.jsonl";

    private static final System.Logger LOG = System.getLogger(Trainer.class.getName());

    /**
     * How a run ended.
     *
     * @param last    the final checkpoint (also on disk)
     * @param metrics the last step's metrics, null when the start already was the last step
     * @param seconds wall time of this session's loop
     */
    public record Result(Checkpoint last, StepMetrics metrics, double seconds) {}

    /** Follows a run; every method runs on the training thread, between steps. */
    public interface Listener {

        /** Before the first step of this session; {@code start.step()} steps are already done. */
        default void started(Checkpoint start) {}

        /** After step {@code step}: its learning rate and metrics, and the throughput so far. */
        default void stepped(long step, float lr, StepMetrics metrics, double tokensPerSecond) {}

        /**
         * After a checkpoint was written to the output folder. Its state is the backend's live host
         * arrays on a host backend, and the files just written on a device backend, read only if
         * asked for (see {@link Checkpoint#state()}): listening forces no copy.
         */
        default void saved(Checkpoint checkpoint) {}
    }

    private final Backend backend;
    private final BatchSource source;
    private final Path out;
    private final List<Listener> listeners = new ArrayList<>();
    private int evalEvery;
    private PeriodicEval eval;
    private volatile boolean stopRequested;

    public Trainer(Backend backend, BatchSource source, Path out) {
        this.backend = backend;
        this.source = source;
        this.out = out;
    }

    /** Adds a listener; they are called in the order added. */
    public Trainer listen(Listener listener) {
        listeners.add(listener);
        return this;
    }

    /** Calls {@code hook} after every {@code every} steps and after the last one; its scalars join the metrics. */
    public Trainer evaluateEvery(int every, PeriodicEval hook) {
        if (every < 1) throw new IllegalArgumentException("evaluation interval must be ≥ 1 step, got " + every);
        this.evalEvery = every;
        this.eval = hook;
        return this;
    }

    /** Asks the run to stop after the step in progress; it then writes a checkpoint and returns normally. Any thread may call it. */
    public void stop() {
        stopRequested = true;
    }

    /**
     * Runs from {@code start} to {@code start.train().steps()} (or an earlier {@link #stop}),
     * checkpointing on schedule and at the end. {@code start}'s state belongs to the run from now on.
     */
    public Result run(Checkpoint start) {
        SaeConfig sae = start.sae();
        TrainConfig train = start.train();
        source.seek(start.dataPosition());
        Batches batches = new Batches(source, start.scales(), train.batch());
        Meter meter = new Meter(start.step() + 1, train.batch());
        Checkpoint last = start;
        StepMetrics m = null;
        listeners.forEach(l -> l.started(start));
        try (TrainingStep step = backend.start(sae, start.start());
             MetricsLog metrics = MetricsLog.open(out.resolve(METRICS), start.step())) {
            for (long t = start.step() + 1; t <= train.steps(); t++) {
                float lr = train.lrAt(sae, t);
                m = step.step(batches.next(), lr);
                checkFinite(m, t, last);
                metrics.write(withEvaluation(meter.row(t, lr, m), t, step, start));
                for (Listener l : listeners) l.stepped(t, lr, m, meter.tokensPerSecond());
                boolean end = t == train.steps() || stopRequested;
                if (end || train.checkpointEvery() > 0 && t % train.checkpointEvery() == 0) last = save(start, step);
                if (end) break;
            }
            if (last == start) last = save(start, step);
        }
        return new Result(last, m, meter.elapsedSeconds());
    }

    private Checkpoint save(Checkpoint start, TrainingStep step) {
        Path dir = out.resolve(CHECKPOINT);
        Checkpoint.save(dir, start.sae(), start.train(), start.scales(), step.chunks(), source.position(), start.data());
        TrainState live = step.hostState();
        Checkpoint c = live != null ? new Checkpoint(start.sae(), start.train(), start.scales(), live, source.position(), start.data())
                : Checkpoint.load(dir);
        LOG.log(System.Logger.Level.DEBUG, "checkpoint at step {0} written to {1}", c.step(), dir);
        for (Listener l : listeners) l.saved(c);
        return c;
    }

    private Map<String, Number> withEvaluation(Map<String, Number> row, long t, TrainingStep step, Checkpoint start) {
        if (eval != null && (t % evalEvery == 0 || t == start.train().steps()))
            row.putAll(eval.evaluate(t, step.state().params(), start.scales()));
        return row;
    }

    private static void checkFinite(StepMetrics m, long t, Checkpoint last) {
        if (!Double.isFinite(m.loss()))
            throw new UserError("step " + t + ": the loss is " + m.loss() + " (learning rate too high, or non-finite data?); "
                    + "the last checkpoint is from step " + last.step());
    }
}
