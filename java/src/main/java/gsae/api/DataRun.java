package gsae.api;

import gsae.config.LrDecay;
import gsae.config.ParallelMode;
import gsae.config.Parallelism;
import gsae.config.SaeConfig;
import gsae.config.Sizes;
import gsae.config.TrainConfig;
import gsae.config.UserError;
import gsae.data.BatchSource;
import gsae.data.ShardDataset;
import gsae.data.Teacher;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.io.Manifest;
import gsae.io.RunLock;
import gsae.ops.StepMetrics;
import gsae.train.Evaluator;
import gsae.train.Initializer;
import gsae.train.MemoryNeed;
import gsae.train.MetricsLog;
import gsae.train.TrainDefaults;
import gsae.train.Trainer;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * A whole training run on a data source, the way {@code gsae train} and {@code gsae demo} run one:
 * tokens from shard files or the embedded teacher, scales estimated on the first tokens (SPEC §6),
 * checkpoints in {@code OUT/}{@value #CHECKPOINT} and one metrics row per step in
 * {@code OUT/}{@value #METRICS}; a run resumed from its checkpoint trains exactly what the
 * uninterrupted run would have. A thin façade over the engine's trainer; for batches the caller
 * pushes itself, use {@link SaeTrainer}. Close it to release the data and the folder's lock.
 */
public final class DataRun implements AutoCloseable {

    /** The checkpoint folder inside the output folder. */
    public static final String CHECKPOINT = Trainer.CHECKPOINT;
    /** The metrics file inside the output folder: one JSON object per step. */
    public static final String METRICS = Trainer.METRICS;

    /** The periodic probes select without gradients on purpose: the evaluator's note saying so would repeat at every probe. */
    private static final PrintStream SILENT = new PrintStream(OutputStream.nullOutputStream());

    /**
     * The run's settings; null means "not given". A fresh run needs {@code latents} and {@code k}
     * and takes defaults for the rest (10,000 steps of 4,096 tokens, β = 0, SPEC's learning rate and
     * warm-up, no decay, seed 1, a checkpoint every 1,000 steps, all cores, AuxK with d/2 latents
     * weighted 1/32). A resumed run takes everything from its checkpoint: a given setting that would
     * change what is trained and differs from it is a {@link UserError}; {@code steps} may extend a
     * run without decay, {@code threads} and {@code checkpointEvery} may change freely.
     * Messages name the settings by their {@code gsae train} options.
     */
    public record Options(Integer latents, Integer k, Float beta, Integer steps, Integer batch, Float lr, Integer warmup, Decay decay,
                          Long seed, Integer checkpointEvery, Integer threads, Integer auxK, Float auxAlpha, Long deadTokens, Boolean scaleActs) {}

    /** Follows a run; every method runs on the training thread, between steps. */
    public interface Listener {

        /** Before the first step of this session. */
        default void started(Plan plan) {}

        /** After step {@code m.step()}, with the throughput so far. */
        default void stepped(Metrics m, double tokensPerSecond) {}

        /** After a checkpoint of step {@code step} was written. */
        default void saved(long step) {}
    }

    /**
     * What a run is about to do.
     *
     * @param done    steps already done (0 for a fresh run)
     * @param steps   the run's length
     * @param beta    the gradient weight β (0 for a TopK SAE)
     * @param latents number of latents M
     * @param k       latents kept per token
     * @param batch   tokens per step
     * @param data    the model and hook the shards' manifest names, else a description of the tokens
     */
    public record Plan(long done, long steps, float beta, int latents, int k, int batch, String data) {}

    /**
     * How a run ended.
     *
     * @param step          the step of the final checkpoint
     * @param steps         the run's length
     * @param gradientAware β > 0 (a g-SAE) rather than a plain TopK SAE
     * @param data          the tokens trained on, e.g. "teacher d=64 …" or the shards
     * @param source        the model and hook the shards' manifest names, or null
     * @param seconds       wall time of this session's loop
     * @param last          the last step's metrics, null when the start already was the last step
     * @param skippedRows   non-finite shard rows dropped
     * @param evaluation    the final checkpoint, ready to evaluate
     */
    public record Outcome(long step, long steps, boolean gradientAware, String data, String source, double seconds, Metrics last,
                          long skippedRows, Evaluation evaluation) {}

    private final Path out;
    private final RunLock lock;
    private final DataRecord data;
    private final Options options;
    private final BatchSource source;
    private final int threads;
    private final Parallelism parallel;
    private final Group group;
    private Checkpoint start;
    private int probeEvery;
    private long probeTokens;
    private int probeBatch;
    private long probeStream;
    private String probeKey;

    private DataRun(Path out, RunLock lock, DataRecord data, Options options, Checkpoint start, BatchSource source, int threads,
                    Parallelism parallel, Group group) {
        this.parallel = parallel;
        this.group = group;
        this.out = out;
        this.lock = lock;
        this.data = data;
        this.options = options;
        this.start = start;
        this.source = source;
        this.threads = threads;
    }

    /**
     * Locks {@code out} against other runs, checks the settings (on resume, against the checkpoint
     * and its data), says on {@code log} which model's shards it reads, and opens the data.
     *
     * @param resume  continue the checkpoint in {@code out}; otherwise a fresh run, which refuses to
     *                replace a checkpoint there unless {@code force}
     * @param shards  shard files or folders, or null for the embedded teacher
     */
    public static DataRun open(Path out, Options o, boolean resume, boolean force, List<Path> shards, boolean skipNonfinite,
                               DataSources sources, PrintStream log) {
        return open(out, o, resume, force, shards, skipNonfinite, sources, log, Parallel.NONE, Group.single());
    }

    /**
     * {@link #open(Path, Options, boolean, boolean, List, boolean, DataSources, PrintStream)} on one
     * rank of a run spread over {@code group} as {@code mode}; every rank opens it alike. Rank 0
     * takes the folder's lock and writes the run's files; every rank reads the data (and on resume
     * the checkpoint, so {@code out} must be a folder all ranks see). A resumed run must be spread
     * as the run that wrote the checkpoint. The group stays the caller's to close.
     */
    public static DataRun open(Path out, Options o, boolean resume, boolean force, List<Path> shards, boolean skipNonfinite,
                               DataSources sources, PrintStream log, Parallel mode, Group group) {
        Parallelism parallel = parallelism(mode, group);
        RunLock lock = group.rank() == 0 ? RunLock.acquire(out) : null;
        try {
            Checkpoint start = resume ? ResumeCheck.load(out.resolve(CHECKPOINT), o) : null;
            if (resume) ResumeCheck.sameParallel(start, parallel);
            if (!resume) refuseToReplace(out, force);
            DataRecord data = dataRecord(shards, start);
            if (resume) ResumeCheck.sameData(start, data);
            if (data.source() != null) log.println("data: shards from " + data.source().describe());
            long seed = resume ? start.train().seed() : or(o.seed(), 1L);
            int threads = resume ? start.train().threads() : or(o.threads(), Runtime.getRuntime().availableProcessors());
            BatchSource source = shards == null ? sources.teacher(seed) : sources.shards(shards, seed, skipNonfinite);
            return new DataRun(out, lock, data, o, start, source, threads, parallel, group);
        } catch (RuntimeException | Error e) {
            if (lock != null) lock.close();
            throw e;
        }
    }

    /** The mode over the group's ranks; one process needs no mode, several need one. */
    private static Parallelism parallelism(Parallel mode, Group group) {
        if (mode == null) throw new IllegalArgumentException("parallel mode is null (Parallel.NONE for one process)");
        if (group == null) throw new IllegalArgumentException("group is null (Group.single() for one process)");
        if (mode == Parallel.NONE && group.size() > 1)
            throw new UserError("this process is one of " + group.size() + " ranks, but --parallel is none: add --parallel data (or latents)");
        return new Parallelism(ParallelMode.valueOf(mode.name()), group.size());
    }

    /**
     * A fresh run on the standard teacher's training stream for the options' seed, writing to
     * {@code out} without taking its lock or checking for an earlier checkpoint there (the caller
     * owns the folder, as {@code gsae demo} owns its runs' parent).
     */
    public static DataRun onTeacher(Path out, Options o) {
        long seed = or(o.seed(), 1L);
        return new DataRun(out, null, DataRecord.teacher(), o, null, DataSources.standard().teacher(seed), or(o.threads(),
                Runtime.getRuntime().availableProcessors()), Parallelism.SINGLE, Group.single());
    }

    /** CPU worker threads the run uses: the options', or on resume the checkpoint's unless given. */
    public int threads() {
        return threads;
    }

    /**
     * Every {@code every} steps and after the last, the SAE is evaluated without gradients on
     * {@code tokens} held-out tokens of the teacher's stream {@code stream} in batches of
     * {@code batch}, and the spliced loss increase joins that step's metrics under {@code key}.
     * Only for runs on the teacher.
     */
    public DataRun probeDownstream(int every, long stream, long tokens, int batch, String key) {
        if (!data.isTeacher()) throw new IllegalStateException("probeDownstream needs a run on the teacher");
        if (every < 1) throw new IllegalArgumentException("probeDownstream: every must be ≥ 1 step, got " + every);
        probeEvery = every;
        probeStream = stream;
        probeTokens = tokens;
        probeBatch = batch;
        probeKey = key;
        return this;
    }

    /**
     * Trains on {@code engine} to the last step. Before any large allocation it tells {@code needs}
     * the estimated peak heap in bytes; a fresh run first checks its settings against the data's
     * width (naming the option), estimates the scales and initialises the SAE.
     */
    public Outcome train(Engine engine, LongConsumer needs, Listener listener) {
        boolean onHost = engine.backend().keepsStateOnHost(), packed = "cpu".equals(engine.backend().name());
        if (start != null) needs.accept(heapBytes(start.sae(), start.train().batch(), onHost, packed, parallel));
        else start = fresh(needs, onHost, packed);
        Trainer trainer = new Trainer(engine.backend(), source, out).parallel(parallel.mode(), group.collectives());
        if (probeEvery > 0) {
            SaeConfig sae = start.sae();
            Teacher teacher = Teacher.standard(start.train().seed());
            trainer.evaluateEvery(probeEvery, (step, p, scales) -> Map.of(probeKey, Evaluator.onTeacher(engine.backend().ops(), sae, p, scales,
                    teacher, probeStream, probeTokens, probeBatch, false, SILENT).downstream().lossIncrease()));
        }
        Trainer.Result r = trainer.listen(new Trainer.Listener() {
            @Override
            public void started(Checkpoint c) {
                listener.started(plan(c));
            }

            @Override
            public void stepped(long step, float lr, StepMetrics m, double tokensPerSecond) {
                listener.stepped(metrics(step, lr, m), tokensPerSecond);
            }

            @Override
            public void saved(Checkpoint c) {
                listener.saved(c.step());
            }
        }).run(handOver());
        Checkpoint c = r.last();
        Metrics last = r.metrics() == null ? null : metrics(c.step(), c.train().lrAt(c.sae(), c.step()), r.metrics());
        return new Outcome(c.step(), c.train().steps(), c.sae().beta() > 0, source.describe(),
                c.data().source() != null ? c.data().source().describe() : null, r.seconds(), last, source.skippedRows(), new Evaluation(c));
    }

    /** The starting checkpoint for the trainer; latent sharded, not kept here, so that during the run each rank holds only its share. */
    private Checkpoint handOver() {
        Checkpoint c = start;
        if (parallel.mode() == ParallelMode.LATENTS) start = null;
        return c;
    }

    /** The metrics rows a run wrote to {@code file} ({@code OUT/}{@value #METRICS}), each a map from column to value. */
    public static List<Map<String, Double>> readMetrics(Path file) {
        return MetricsLog.read(file);
    }

    /** Releases the data and the folder's lock. */
    @Override
    public void close() {
        try {
            source.close();
        } finally {
            if (lock != null) lock.close();
        }
    }

    private static Plan plan(Checkpoint c) {
        SaeConfig s = c.sae();
        String data = c.data().source() != null ? c.data().source().describe() : c.data().description();
        return new Plan(c.step(), c.train().steps(), s.beta(), s.latents(), s.k(), c.train().batch(), data);
    }

    /**
     * The estimated peak heap: the state's copies on a host backend (and the fused CPU backend's
     * packed weights), of a rank's share when latent sharded; the batch's arrays when the state is on a device.
     */
    private static long heapBytes(SaeConfig sae, int batch, boolean onHost, boolean packed, Parallelism parallel) {
        return onHost ? MemoryNeed.trainingBytes(sae, batch, packed, parallel.latentsPerRank(sae.latents())) : MemoryNeed.deviceTrainingBytes(sae, batch);
    }

    /** A fresh run's settings and start; on a host backend M·d must fit one Java array, on a device only 64 bits. */
    private Checkpoint fresh(LongConsumer needs, boolean onHost, boolean packed) {
        Options o = options;
        if (o.latents() == null || o.k() == null) throw new UserError("a fresh run needs --latents and --k");
        int d = source.d(), steps = or(o.steps(), 10_000), batch = or(o.batch(), 4096);
        // latent sharded, a rank holds only its share of every M·d tensor
        if (onHost) Sizes.hostState(parallel.perRank("--latents", o.latents()), parallel.latentsPerRank(o.latents()), d);
        else Sizes.product("--latents", o.latents(), d);
        Sizes.hostArray("--batch", "tokens per batch", batch, d);
        SaeConfig sae = settings(() -> new SaeConfig(d, o.latents(), o.k(), or(o.beta(), 0f), o.auxK() != null ? o.auxK() : Math.max(1, d / 2),
                or(o.auxAlpha(), SaeConfig.DEFAULT_AUX_ALPHA), o.deadTokens() != null ? o.deadTokens() : TrainDefaults.deadTokens(steps, batch)));
        TrainConfig train = settings(() -> new TrainConfig(steps, batch, o.lr() != null ? o.lr() : Float.NaN,
                o.warmup() != null ? o.warmup() : TrainDefaults.warmupSteps(steps), LrDecay.valueOf(or(o.decay(), Decay.NONE).name()),
                or(o.seed(), 1L), or(o.checkpointEvery(), 1000), threads, or(o.scaleActs(), false), TrainDefaults.SCALE_TOKENS));
        needs.accept(heapBytes(sae, batch, onHost, packed, parallel));
        if (parallel.mode() == ParallelMode.DATA && batch < parallel.ranks())
            throw new UserError("--batch " + batch + " is smaller than the " + parallel.ranks() + " ranks of --parallel data: every rank needs a token");
        return Initializer.fresh(sae, train, source, data, group.collectives());
    }

    /** A fresh run would delete the checkpoints in {@code out} on its first save: only with {@code force}. */
    private static void refuseToReplace(Path out, boolean force) {
        List<Path> there = Checkpoint.existing(out.resolve(CHECKPOINT));
        if (!there.isEmpty() && !force)
            throw new UserError("--out " + out + " already holds a checkpoint (" + there.stream().map(p -> p.getFileName().toString())
                    .collect(Collectors.joining(" and ")) + "): add --resume to continue it, --force to replace it, or choose another folder");
    }

    /**
     * The teacher, or the shards as given with their fingerprints and the model and hook their
     * manifest names (on resume without a manifest now, the checkpoint's record of it).
     */
    private static DataRecord dataRecord(List<Path> shards, Checkpoint resumed) {
        if (shards == null) return DataRecord.teacher();
        String description = "shards: " + shards.stream().map(p -> p.toAbsolutePath().normalize().toString()).collect(Collectors.joining(", "));
        if (resumed != null && resumed.data().isTeacher()) return DataRecord.described(description);
        Manifest source = manifest(shards);
        if (source == null && resumed != null) source = resumed.data().source();
        return new DataRecord(description, ShardDataset.fingerprints(shards), source);
    }

    /** The one manifest the data folders agree on, or null when they have none; shards from different hooks are refused. */
    private static Manifest manifest(List<Path> shards) {
        Set<Manifest> found = new LinkedHashSet<>();
        for (Path p : shards) {
            Manifest m = Manifest.near(p);
            if (m != null) found.add(m);
        }
        if (found.size() > 1)
            throw new UserError("--data mixes shards harvested differently: " + found.stream().map(Manifest::describe)
                    .collect(Collectors.joining("; ")) + " (train one SAE per model and hook)");
        return found.isEmpty() ? null : found.iterator().next();
    }

    private static Metrics metrics(long step, float lr, StepMetrics m) {
        return new Metrics(step, lr, m.fvu(), m.auxk(), m.loss(), m.l0(), m.deadFraction());
    }

    /** Builds a settings record; its validation failing is the caller's mistake, reported as a {@link UserError}. */
    private static <T> T settings(Supplier<T> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
    }

    private static <T> T or(T given, T otherwise) {
        return given != null ? given : otherwise;
    }
}
