package gsae.train;

import gsae.comm.Collectives;
import gsae.comm.ReduceOp;
import gsae.comm.SingleProcess;
import gsae.config.ParallelMode;
import gsae.config.Parallelism;
import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.config.UserError;
import gsae.data.BatchSource;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.io.ShardedCheckpoint;
import gsae.ops.Backend;
import gsae.ops.Batch;
import gsae.ops.Params;
import gsae.ops.Scales;
import gsae.ops.StartState;
import gsae.ops.StateChunks;
import gsae.ops.StepMetrics;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;
import gsae.parallel.LatentShardedStep;
import gsae.parallel.ShardedStep;
import gsae.parallel.ParallelSteps;
import gsae.parallel.Slices;

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
 *
 * <p>Spread over the ranks of a group ({@link #parallel}), every rank runs this loop on the same
 * stream: each reads the whole global batch (so data positions, skipped rows and the checks on a
 * batch are those of one process) and, for {@link ParallelMode#DATA}, trains on its slice of it
 * ({@link Slices}); for {@link ParallelMode#LATENTS}, each trains its share of the latents on the
 * whole batch ({@link LatentShardedStep}) and writes its shard of every checkpoint. Only rank 0
 * writes the metrics (and, but for latent sharding, the checkpoint) and calls the listeners.
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

        /** Before the first step of this session; {@code start.step()} steps are already done. Only rank 0's listeners are called. */
        default void started(Checkpoint start) {}

        /** After step {@code step}: its learning rate and metrics, and the throughput so far. */
        default void stepped(long step, float lr, StepMetrics metrics, double tokensPerSecond) {}

        /**
         * After a checkpoint was written to the output folder. Its state is the backend's live host
         * arrays on a host backend, and the files just written on a device backend or when the
         * latents are sharded, read only if asked for (see {@link Checkpoint#state()}): listening
         * forces no copy.
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
    private long lastSaved;
    private ParallelMode mode = ParallelMode.NONE;
    private Collectives group = new SingleProcess();

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

    /**
     * Spreads the run over {@code group}'s ranks as {@code mode}; every rank constructs its trainer
     * alike and calls {@link #run} with the same checkpoint. The group stays the caller's to close.
     */
    public Trainer parallel(ParallelMode mode, Collectives group) {
        if (mode == ParallelMode.NONE && group.size() != 1)
            throw new IllegalArgumentException("--parallel none needs one process, but " + group.size() + " ranks were launched");
        this.mode = mode;
        this.group = group;
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
        Started run = new Started(start.sae(), start.train(), start.scales(), start.data());
        SaeConfig sae = run.sae();
        TrainConfig train = run.train();
        long first = start.step();
        source.seek(start.dataPosition());
        Batches batches = new Batches(source, run.scales(), train.batch());
        Meter meter = new Meter(first + 1, train.batch());
        lastSaved = first;
        StepMetrics m = null;
        if (writes()) for (Listener l : listeners) l.started(start);
        // latent sharded, a rank holds only its share during the run: not the whole starting state
        Checkpoint last = mode == ParallelMode.LATENTS ? null : start;
        boolean saved = false;
        try (TrainingStep step = ParallelSteps.open(mode, backend, sae, start.start(), group);
             MetricsLog metrics = writes() ? MetricsLog.open(out.resolve(METRICS), first) : null) {
            start = null;
            for (long t = first + 1; t <= train.steps(); t++) {
                float lr = train.lrAt(sae, t);
                m = step.step(mine(batches.next()), lr);
                checkFinite(m, t);
                Params evaluated = evaluationDue(t, train) && (writes() || mode == ParallelMode.LATENTS) ? params(step) : null;
                if (writes()) {
                    metrics.write(withEvaluation(meter.row(t, lr, m), t, evaluated, run));
                    for (Listener l : listeners) l.stepped(t, lr, m, meter.tokensPerSecond());
                }
                boolean end = t == train.steps() || stopAgreed();
                if (end || train.checkpointEvery() > 0 && t % train.checkpointEvery() == 0) {
                    Checkpoint c = save(run, step, end);
                    if (c != null) last = c;
                    saved = true;
                }
                if (end) break;
            }
            if (!saved) last = save(run, step, true);
        }
        return new Result(last, m, meter.elapsedSeconds());
    }

    /** What a run keeps of its starting checkpoint besides the state. */
    private record Started(SaeConfig sae, TrainConfig train, Scales scales, DataRecord data) {}

    /** The part of the global batch this rank trains on. */
    private Batch mine(Batch global) {
        return mode == ParallelMode.DATA ? Slices.of(global, group.rank(), group.size()) : global;
    }

    /** Rank 0 writes the run's files and follows it; the other ranks compute the same steps silently. */
    private boolean writes() {
        return group.rank() == 0;
    }

    /** A stop asked on any rank stops every rank after the same step, so no rank waits alone in a collective. */
    private boolean stopAgreed() {
        if (group.size() == 1) return stopRequested;
        int[] flag = {stopRequested ? 1 : 0};
        group.allReduce(flag, ReduceOp.MAX);
        return flag[0] > 0;
    }

    /**
     * Writes the checkpoint and returns it as the listeners and the result see it. Latent sharded:
     * every rank writes its shard ({@link ShardedCheckpoint}); rank 0's listeners and, at the
     * {@code end}, every rank's result get the checkpoint as written, its state left in the files
     * until someone asks for it (only checkpoint.json and the shards' headers are read here), so no
     * rank reads a whole state; the other ranks return null before the end.
     */
    private Checkpoint save(Started start, TrainingStep step, boolean end) {
        if (mode == ParallelMode.LATENTS) {
            StateChunks share = step.chunks();
            lastSaved = share.step();
            Path dir = out.resolve(CHECKPOINT);
            ShardedCheckpoint.save(dir, group, start.sae(), start.train(), start.scales(), share, source.position(), start.data());
            if (!writes() && !end) return null;
            Checkpoint c = Checkpoint.load(dir);
            if (writes()) saved(c);
            return c;
        }
        Path dir = out.resolve(CHECKPOINT);
        Parallelism spread = new Parallelism(mode, group.size());
        StateChunks state = step.chunks();
        lastSaved = state.step();
        if (writes()) Checkpoint.save(dir, start.sae(), start.train(), start.scales(), state, source.position(), start.data(), spread);
        TrainState live = step.hostState();
        if (live == null && group.size() > 1) { // data parallel on devices: the other ranks read rank 0's files, once written
            group.barrier();
            if (!writes() && !end) return null;
        }
        Checkpoint c = live != null ? new Checkpoint(start.sae(), start.train(), start.scales(), live, source.position(), start.data(), spread)
                : Checkpoint.load(dir);
        if (writes()) saved(c);
        return c;
    }

    private void saved(Checkpoint c) {
        LOG.log(System.Logger.Level.DEBUG, "checkpoint at step {0} written to {1}", c.step(), out.resolve(CHECKPOINT));
        for (Listener l : listeners) l.saved(c);
    }

    private boolean evaluationDue(long t, TrainConfig train) {
        return eval != null && (t % evalEvery == 0 || t == train.steps());
    }

    /** The whole SAE's parameters to evaluate: latent sharded, gathered from every rank (a collective, so every rank calls it). */
    private static Params params(TrainingStep step) {
        return step instanceof ShardedStep sharded ? sharded.gatherParams() : step.params();
    }

    private Map<String, Number> withEvaluation(Map<String, Number> row, long t, Params evaluated, Started start) {
        if (evaluated != null) row.putAll(eval.evaluate(t, evaluated, start.scales()));
        return row;
    }

    private void checkFinite(StepMetrics m, long t) {
        if (!Double.isFinite(m.loss()))
            throw new UserError("step " + t + ": the loss is " + m.loss() + " (learning rate too high, or non-finite data?); "
                    + "the last checkpoint is from step " + lastSaved);
    }
}
