package gsae.api;

import gsae.comm.Collectives;
import gsae.comm.ReduceOp;
import gsae.config.LrDecay;
import gsae.config.ParallelMode;
import gsae.config.Parallelism;
import gsae.config.SaeConfig;
import gsae.config.Sizes;
import gsae.config.TrainConfig;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.ops.Backend;
import gsae.ops.Batch;
import gsae.ops.Params;
import gsae.ops.Scales;
import gsae.ops.StartState;
import gsae.ops.StepMetrics;
import gsae.ops.TrainingStep;
import gsae.io.ShardedCheckpoint;
import gsae.parallel.ShardedStep;
import gsae.parallel.ParallelSteps;
import gsae.tensor.HostTensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Trains one SAE on batches the caller pushes: each {@link #step} takes N rows of activations x and
 * (for a g-SAE) their loss gradients g, runs forward, backward and an Adam update on the chosen
 * backend, and returns the step's {@link Metrics}. The caller's memory is only read: rows are copied
 * into the trainer's own buffers, where the scales are applied.
 *
 * <p>Unless {@link Builder#scales} gives them, the scales (SPEC §6) are estimated from the first
 * batch, and the decoder bias starts at that batch's mean (SPEC §5). One thread at a time may use a
 * trainer; {@link #sae} hands out frozen copies for inference on any thread. Close it to release the
 * backend's device memory or threads.
 *
 * <p>Data parallel ({@link Builder#parallel}): every rank of the group builds the same trainer and
 * pushes its own rows of each global batch (the global batch is the ranks' rows in rank order);
 * every rank then takes the step one process takes on the global batch and gets its metrics. The
 * first global batch sets the scales and b_dec, rank 0's initial state is broadcast, and
 * {@link #save} writes on rank 0 only (every rank calls it; checkpoint listeners run on rank 0,
 * metrics listeners on every rank).
 */
public final class SaeTrainer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(SaeTrainer.class.getName());

    private final SaeConfig cfg;
    private final Builder settings;
    private final Backend backend;
    private final Collectives group;
    private Scales scales;
    private TrainingStep step;
    private long steps, tokens;
    private int lastRows;
    private float[] x, g; // the trainer's own batch buffers [rows, d]

    private SaeTrainer(SaeConfig cfg, Builder settings, Backend backend, Scales scales) {
        this.cfg = cfg;
        this.settings = settings;
        this.backend = backend;
        this.scales = scales;
        this.group = settings.group.collectives();
    }

    /** A builder for an SAE of width {@code d} with {@code latents} latents keeping {@code k} per row. */
    public static Builder builder(int d, int latents, int k) {
        return new Builder(d, latents, k, null);
    }

    /**
     * A builder that continues the checkpoint in {@code dir}: shape, β, AuxK, dead-token window,
     * seed and scales come from it; backend, threads, learning rate, listeners and checkpoints from
     * the builder. The learning-rate schedule sees the step numbers continue.
     */
    public static Builder resumeFrom(Path dir) {
        Checkpoint c = Checkpoint.load(dir);
        return new Builder(c.sae().d(), c.sae().latents(), c.sae().k(), c);
    }

    /**
     * One training step on {@code rows} rows (data parallel: this rank's rows of the global batch).
     *
     * @param x activations [rows, d], row-major; read, never written
     * @param g gradients of the model's loss with respect to x [rows, d], or null (β then counts as 0)
     */
    public Metrics step(float[] x, float[] g, int rows) {
        Inputs.check("x", x, rows, cfg.d());
        if (g != null) Inputs.check("g", g, rows, cfg.d());
        buffers(rows, g != null);
        System.arraycopy(x, 0, this.x, 0, this.x.length);
        if (g != null) System.arraycopy(g, 0, this.g, 0, this.g.length);
        return train(rows, g != null);
    }

    /**
     * One training step on rows in native memory or any other segment: float32 in native byte
     * order, [rows, d] row-major. Read, never written.
     */
    public Metrics step(MemorySegment x, MemorySegment g, int rows) {
        long bytes = (long) rows * cfg.d() * Float.BYTES;
        checkSegment("x", x, bytes);
        if (g != null) checkSegment("g", g, bytes);
        buffers(rows, g != null);
        MemorySegment.copy(x, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, this.x, 0, this.x.length);
        if (g != null) MemorySegment.copy(g, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, this.g, 0, this.g.length);
        return train(rows, g != null);
    }

    /** One training step on the engine's tensors: x and g (or null) of shape [rows, d] in any float dtype (F32, F16, BF16). */
    public Metrics step(HostTensor x, HostTensor g) {
        int rows = rowsOf("x", x);
        if (g != null && rowsOf("g", g) != rows)
            throw new IllegalArgumentException("g has shape " + Arrays.toString(g.shape()) + " but x has " + Arrays.toString(x.shape()));
        buffers(rows, g != null);
        x.dtype().toFloats(x.data(), 0, this.x, 0, this.x.length);
        if (g != null) g.dtype().toFloats(g.data(), 0, this.g, 0, this.g.length);
        return train(rows, g != null);
    }

    /** Optimizer steps taken so far (including those before a resume). */
    public long steps() {
        return steps;
    }

    /** The scales in use: those given, or estimated from the first batch (null before it). */
    public float[] scales() {
        return scales == null ? null : new float[]{scales.gradScale(), scales.actScale()};
    }

    /** A frozen copy of the SAE as it is now, for inference on any thread while training goes on. */
    public Sae sae() {
        requireStarted("sae()");
        Params whole = step instanceof ShardedStep sharded ? sharded.gatherParams() : step.snapshot().params();
        return new Sae(cfg, whole, scales, null);
    }

    /**
     * Writes a checkpoint folder (model.safetensors in sparsify names, state.safetensors,
     * checkpoint.json) that {@link #resumeFrom}, {@link Sae#load} and {@code gsae eval/export} read.
     * Written from the backend's state in chunks; replaces an earlier checkpoint in {@code dir} atomically.
     * Latent sharded, every rank calls it and writes its shard ({@code shard-R-of-P.safetensors} in
     * place of the two safetensors files), which the same readers gather; data parallel, every rank
     * calls it and rank 0 writes. Either way it returns on every rank once the files are in place.
     */
    public Path save(Path dir) {
        requireStarted("save");
        TrainConfig train = new TrainConfig((int) Math.min(Integer.MAX_VALUE, steps), Math.max(2, lastRows), Float.NaN, 0, LrDecay.NONE,
                settings.seed, 0, settings.threads, settings.estimateActScale, Math.max(1, lastRows));
        if (settings.parallel == Parallel.LATENTS)
            ShardedCheckpoint.save(dir, group, cfg, train, scales, step.chunks(), tokens, DataRecord.described(DATA));
        else if (group.rank() == 0)
            Checkpoint.save(dir, cfg, train, scales, step.chunks(), tokens, DataRecord.described(DATA), settings.parallelism());
        if (group.size() > 1) group.barrier(); // every rank returns once the files are in place
        if (group.rank() != 0) return dir;
        LOG.log(System.Logger.Level.DEBUG, "checkpoint at step {0} written to {1}", steps, dir);
        for (Consumer<Path> l : settings.onCheckpoint) l.accept(dir);
        return dir;
    }

    /** Releases the backend (device memory, worker threads). */
    @Override
    public void close() {
        if (step != null) step.close();
        backend.close();
    }

    static final String DATA = "batches pushed through gsae.api";

    private Metrics train(int rows, boolean withGradients) {
        if (scales == null) scales = estimate(rows, withGradients);
        scale(this.x, scales.actScale());
        if (withGradients) scale(this.g, scales.gradScale());
        if (!dataParallel() && allRowsEqual(rows)) // data parallel: the step checks the global batch's variance
            throw new IllegalArgumentException("x: all " + rows + " rows are the same, so FVU is undefined (a batch needs distinct rows)");
        Batch batch = new Batch(rows, cfg.d(), this.x, withGradients ? this.g : null);
        if (step == null) step = open(new StartState.Fresh(cfg.d(), cfg.latents(), settings.seed, mean(rows)));
        float lr = settings.lr.at(steps + 1);
        if (!(lr > 0f) || Float.isInfinite(lr)) throw new IllegalArgumentException("learningRate: step " + (steps + 1) + " got " + lr);
        StepMetrics m = step.step(batch, lr);
        if (!Double.isFinite(m.loss()))
            throw new IllegalStateException("step " + (steps + 1) + ": the loss is " + m.loss() + " (learning rate too high, or non-finite data?)");
        steps++;
        int globalRows = (int) Math.min(Integer.MAX_VALUE, m.rows());
        tokens += globalRows;
        lastRows = globalRows;
        Metrics out = new Metrics(steps, lr, m.fvu(), m.auxk(), m.loss(), m.l0(), m.deadFraction());
        for (Consumer<Metrics> l : settings.onMetrics) l.accept(out);
        if (settings.checkpointDir != null && steps % settings.checkpointEvery == 0) save(settings.checkpointDir);
        return out;
    }

    /** Data parallel: the ranks' rows make up the batch (latent sharded: every rank pushes the whole batch). */
    private boolean dataParallel() {
        return settings.parallel == Parallel.DATA;
    }

    /** The step for the mode; {@code init} is taken over (data parallel: rank 0's is broadcast). */
    private TrainingStep open(StartState init) {
        return ParallelSteps.open(ParallelMode.valueOf(settings.parallel.name()), backend, cfg, init, group);
    }

    /** Σ over ranks of {@code v} (in place) and returns it: the global batch's sums from the ranks' rows. */
    private double[] global(double... v) {
        if (dataParallel()) group.allReduce(v, ReduceOp.SUM);
        return v;
    }

    /** SPEC §6 on the (global) first batch: grad_scale = 1 / mean ‖g_n‖, act_scale = √d / mean ‖x_n‖ when asked for (else 1). */
    private Scales estimate(int rows, boolean withGradients) {
        if (!withGradients)
            throw new IllegalArgumentException("g: the first batch has no gradients, so grad_scale cannot be estimated: give the builder scales(…)");
        double[] sums = global(sumOfNorms(this.g, rows), sumOfNorms(this.x, rows), rows);
        double meanG = sums[0] / sums[2], meanX = sums[1] / sums[2];
        if (!(meanG > 0) || !Double.isFinite(meanG))
            throw new IllegalArgumentException("g: mean gradient norm of the first batch is " + meanG + ", so grad_scale cannot be estimated");
        if (settings.estimateActScale && (!(meanX > 0) || !Double.isFinite(meanX)))
            throw new IllegalArgumentException("x: mean activation norm of the first batch is " + meanX + ", so act_scale cannot be estimated");
        Scales s = new Scales((float) (1 / meanG), settings.estimateActScale ? (float) (Math.sqrt(cfg.d()) / meanX) : 1f);
        LOG.log(System.Logger.Level.DEBUG, "scales from the first {0} rows: grad_scale {1}, act_scale {2}", rows, s.gradScale(), s.actScale());
        return s;
    }

    private double sumOfNorms(float[] v, int rows) {
        int d = cfg.d();
        double total = 0;
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int j = 0; j < d; j++) ss += (double) v[r * d + j] * v[r * d + j];
            total += Math.sqrt(ss);
        }
        return total;
    }

    /** The (global) batch's column mean: b_dec's start. */
    private float[] mean(int rows) {
        int d = cfg.d();
        double[] sum = new double[d + 1];
        for (int r = 0; r < rows; r++) for (int j = 0; j < d; j++) sum[j] += x[r * d + j];
        sum[d] = rows;
        global(sum);
        float[] mean = new float[d];
        for (int j = 0; j < d; j++) mean[j] = (float) (sum[j] / sum[d]);
        return mean;
    }

    private boolean allRowsEqual(int rows) {
        int d = cfg.d();
        for (int r = 1; r < rows; r++) if (!Arrays.equals(x, r * d, r * d + d, x, 0, d)) return false;
        return true;
    }

    private static void scale(float[] v, float factor) {
        if (factor != 1f) for (int i = 0; i < v.length; i++) v[i] *= factor;
    }

    private void buffers(int rows, boolean withGradients) {
        if (rows < 2) throw new IllegalArgumentException("rows must be ≥ 2 (FVU needs a batch variance), got " + rows);
        int values = Inputs.argument(() -> Sizes.hostArray("rows", "rows", rows, cfg.d()));
        if (x == null || x.length != values) x = new float[values];
        if (withGradients && (g == null || g.length != values)) g = new float[values];
    }

    private void checkSegment(String name, MemorySegment s, long bytes) {
        if (s == null) throw new IllegalArgumentException(name + " is null");
        if (s.byteSize() != bytes)
            throw new IllegalArgumentException(name + " has " + s.byteSize() + " bytes, expected rows × d × 4 = " + bytes);
    }

    private int rowsOf(String name, HostTensor t) {
        long[] shape = t.shape();
        if (!t.dtype().isFloat() || shape.length != 2 || shape[1] != cfg.d() || shape[0] > Integer.MAX_VALUE)
            throw new IllegalArgumentException(name + " is " + t.dtype() + " " + Arrays.toString(shape) + ", expected a float tensor [rows, " + cfg.d() + "]");
        return (int) shape[0];
    }

    private void requireStarted(String what) {
        if (step == null) throw new IllegalStateException(what + ": no step taken yet, so there is no SAE");
    }

    /** How an SAE trains; every setter checks its value at once and names the option in its message. */
    public static final class Builder {

        private final Checkpoint resumed;
        private final int d, latents, k;
        private float beta;
        private Integer auxK;
        private float auxAlpha = SaeConfig.DEFAULT_AUX_ALPHA;
        private long deadTokens = SaeConfig.DEFAULT_DEAD_TOKENS;
        private long seed = 1;
        private LearningRate lr;
        private SaeBackend backend = SaeBackend.AUTO;
        private int device;
        private int threads = Runtime.getRuntime().availableProcessors();
        private Scales scales;
        private boolean estimateActScale;
        private Path checkpointDir;
        private Parallel parallel = Parallel.NONE;
        private Group group = Group.single();
        private long checkpointEvery;
        private final List<Consumer<Metrics>> onMetrics = new ArrayList<>();
        private final List<Consumer<Path>> onCheckpoint = new ArrayList<>();

        private Builder(int d, int latents, int k, Checkpoint resumed) {
            if (d < 1) throw new IllegalArgumentException("d must be ≥ 1, got " + d);
            if (k < 1) throw new IllegalArgumentException("k must be ≥ 1, got " + k);
            if (latents < k) throw new IllegalArgumentException("latents (" + latents + ") must be ≥ k (" + k + ")");
            this.d = d;
            this.latents = latents;
            this.k = k;
            this.resumed = resumed;
        }

        /** Gradient weight β in score = z∘(1 + β·|g·W_decᵀ|); 0 (the default) trains a plain TopK SAE. */
        public Builder beta(float beta) {
            shapeOption("beta");
            if (!(beta >= 0f) || Float.isInfinite(beta)) throw new IllegalArgumentException("beta must be finite and ≥ 0, got " + beta);
            this.beta = beta;
            return this;
        }

        /** Dead latents AuxK may use per row (default d/2, at least 1); 0 turns AuxK off. */
        public Builder auxK(int auxK) {
            shapeOption("auxK");
            if (auxK < 0) throw new IllegalArgumentException("auxK must be ≥ 0, got " + auxK);
            this.auxK = auxK;
            return this;
        }

        /** Weight α of the AuxK loss (default 1/32). */
        public Builder auxAlpha(float alpha) {
            shapeOption("auxAlpha");
            if (!(alpha >= 0f) || Float.isInfinite(alpha)) throw new IllegalArgumentException("auxAlpha must be finite and ≥ 0, got " + alpha);
            this.auxAlpha = alpha;
            return this;
        }

        /** A latent unselected for this many training rows is dead (default 10,000,000). */
        public Builder deadTokens(long tokens) {
            shapeOption("deadTokens");
            if (tokens < 1) throw new IllegalArgumentException("deadTokens must be ≥ 1, got " + tokens);
            this.deadTokens = tokens;
            return this;
        }

        /** Seeds the initial decoder directions (default 1). */
        public Builder seed(long seed) {
            shapeOption("seed");
            this.seed = seed;
            return this;
        }

        /** The same learning rate at every step. */
        public Builder learningRate(float lr) {
            this.lr = LearningRate.constant(lr);
            return this;
        }

        /** A learning rate per step (default: SPEC §5, a 1,000-step warm-up to 2e-4 / sqrt(M / 2^14)). */
        public Builder learningRate(LearningRate schedule) {
            if (schedule == null) throw new IllegalArgumentException("learningRate is null");
            this.lr = schedule;
            return this;
        }

        /** Where to train (default AUTO). */
        public Builder backend(SaeBackend backend) {
            if (backend == null) throw new IllegalArgumentException("backend is null");
            this.backend = backend;
            return this;
        }

        /** The CUDA device ordinal for CUDA and AUTO (default 0). */
        public Builder device(int ordinal) {
            if (ordinal < 0) throw new IllegalArgumentException("device must be ≥ 0, got " + ordinal);
            this.device = ordinal;
            return this;
        }

        /** CPU worker threads (default: all cores); results are deterministic for a fixed count. */
        public Builder threads(int threads) {
            if (threads < 1) throw new IllegalArgumentException("threads must be ≥ 1, got " + threads);
            this.threads = threads;
            return this;
        }

        /** Fixed scales instead of estimating them from the first batch. */
        public Builder scales(float gradScale, float actScale) {
            shapeOption("scales");
            try {
                this.scales = new Scales(gradScale, actScale);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("scales: " + e.getMessage(), e);
            }
            return this;
        }

        /** Also estimate act_scale (mean ‖x‖ becomes √d) from the first batch; otherwise it is 1. */
        public Builder estimateActScale(boolean estimate) {
            shapeOption("estimateActScale");
            this.estimateActScale = estimate;
            return this;
        }

        /** Called after every step with its metrics, on the training thread. */
        public Builder onMetrics(Consumer<Metrics> listener) {
            if (listener == null) throw new IllegalArgumentException("onMetrics listener is null");
            onMetrics.add(listener);
            return this;
        }

        /** Called with the folder after every checkpoint written, on the training thread. */
        public Builder onCheckpoint(Consumer<Path> listener) {
            if (listener == null) throw new IllegalArgumentException("onCheckpoint listener is null");
            onCheckpoint.add(listener);
            return this;
        }

        /** Writes a checkpoint to {@code dir} every {@code steps} steps (none by default; {@link SaeTrainer#save} any time). */
        public Builder checkpointEvery(long steps, Path dir) {
            if (steps < 1) throw new IllegalArgumentException("checkpointEvery must be ≥ 1 step, got " + steps);
            if (dir == null) throw new IllegalArgumentException("checkpointEvery: dir is null");
            this.checkpointEvery = steps;
            this.checkpointDir = dir;
            return this;
        }

        /**
         * Trains across the ranks of {@code group} as {@code mode} (default NONE, one process):
         * every rank builds the same trainer with its own group. DATA: each rank pushes its rows of
         * each global batch (see the class comment). LATENTS: every rank pushes the whole batch and
         * trains its share of the latents; {@link SaeTrainer#sae} and {@link SaeTrainer#save} are then
         * collective (every rank calls them). A resumed run must use the checkpoint's mode and rank
         * count, except that latent-sharded and one-process checkpoints continue in either mode on
         * any number of ranks. The group stays the caller's to close.
         */
        public Builder parallel(Parallel mode, Group group) {
            if (mode == null) throw new IllegalArgumentException("parallel: mode is null");
            if (group == null) throw new IllegalArgumentException("parallel: group is null");
            if (mode == Parallel.NONE && group.size() != 1)
                throw new IllegalArgumentException("parallel: NONE trains in one process, but the group has " + group.size() + " ranks");
            this.parallel = mode;
            this.group = group;
            return this;
        }

        Parallelism parallelism() {
            return new Parallelism(ParallelMode.valueOf(parallel.name()), group.size());
        }

        /** Opens the backend and returns the trainer; sizes too large for it are refused here, naming the option. */
        public SaeTrainer build() {
            SaeConfig cfg = resumed != null ? resumed.sae()
                    : new SaeConfig(d, latents, k, beta, auxK != null ? auxK : Math.max(1, d / 2), auxAlpha, deadTokens);
            if (lr == null) lr = LearningRate.warmup(LearningRate.specPeak(latents), 1_000);
            if (resumed != null && !ResumeCheck.continues(resumed.parallel(), parallelism()))
                throw new IllegalArgumentException("parallel: the checkpoint was written " + resumed.parallel().describe()
                        + ", but this trainer runs " + parallelism().describe()
                        + "; resume with the same mode and number of ranks (latent-sharded and one-process checkpoints: any number, either mode)");
            Backend b = Backends.open(backend, device, threads);
            if (b.keepsStateOnHost()) {
                try {
                    Parallelism spread = parallelism(); // latent sharded, a rank holds only its share
                    Inputs.argument(() -> Sizes.hostState(spread.perRank("latents", latents), spread.latentsPerRank(latents), d));
                } catch (RuntimeException e) {
                    b.close();
                    throw e;
                }
            }
            if (resumed == null) return new SaeTrainer(cfg, this, b, scales);
            seed = resumed.train().seed();
            estimateActScale = resumed.train().scaleActs();
            SaeTrainer t = new SaeTrainer(cfg, this, b, resumed.scales());
            t.step = t.open(resumed.start());
            t.steps = resumed.step();
            t.tokens = resumed.dataPosition();
            t.lastRows = resumed.train().batch();
            return t;
        }

        private void shapeOption(String name) {
            if (resumed != null) throw new IllegalStateException(name + " comes from the checkpoint when resuming");
        }
    }
}
