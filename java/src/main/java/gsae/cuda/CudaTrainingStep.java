package gsae.cuda;

import gsae.comm.ElementType;
import gsae.comm.ReduceOp;
import gsae.config.SaeConfig;
import gsae.ops.Batch;
import gsae.ops.Losses;
import gsae.ops.Params;
import gsae.ops.StartState;
import gsae.ops.StateChunks;
import gsae.ops.StateFingerprint;
import gsae.ops.StepMetrics;
import gsae.ops.TrainState;
import gsae.ops.TrainingStep;
import gsae.tensor.ChunkedTensor;
import gsae.tensor.Dtype;

/**
 * A training step whose parameters, Adam moments, gradients and since-fired counters live on the
 * device ({@link gsae.ops.HostTrainingStep}'s order of work, on the GPU). Per step the host sends
 * x and g through pinned staging buffers on the stream and reads back six scalars: the four loss
 * sums, the count of a > 0 and the count of dead latents.
 *
 * <p>Data parallel ({@link DeviceRanks}; {@link gsae.parallel.DataParallelStep}'s algorithm with
 * the state on the device): every rank trains on its slice of each global batch. Rank 0's state is
 * broadcast when the step opens; per step the denominators are the global batch's (reduced inside
 * the backward), the gradients are summed over ranks (2·M·d + M + d floats), every rank takes the
 * same Adam step, and the since-fired counters, advanced by the global batch and reset where this
 * rank selected a latent, take the minimum over ranks (M longs): a latent that fired on any rank
 * restarts, since every rank held the same counters before. The ranks stay identical as long as
 * the all-reduce hands every rank the same bits, as NCCL's algorithms do (each reduced element is
 * computed once and copied to every rank); as the host step does, every {@value
 * StateFingerprint#CHECK_EVERY} steps the ranks compare a fingerprint of their states, computed on
 * the device ({@link #agree}), and take rank 0's again where they differ.
 */
public final class CudaTrainingStep implements TrainingStep {

    private static final int COUNTER_THREADS = 256, INIT_THREADS = 128;
    /**
     * Bytes of the page-locked buffer checkpoints are read through and stored states uploaded
     * through; a knob only so that tests cross many chunk boundaries at small sizes.
     */
    static int stageBytes = 1 << 20;

    private final SaeConfig cfg;
    private final Stages stages;
    private final DeviceParams params, grads, adamM, adamV;
    private final DeviceBuffer since, dead, counters;
    private static final System.Logger LOG = System.getLogger(CudaTrainingStep.class.getName());
    private static final int FINGERPRINT_BLOCKS = 1024;

    private final Kernel advance, reset, mark, fingerprint;
    /** The other ranks of a data-parallel run; null in one process. */
    private final DeviceRanks ranks;
    private PinnedBuffer stageX, stageG, stageOut;
    private final int stage = stageBytes;
    /** Host arrays {@link #state} downloads into: the adopted initial state's, or made on first use. */
    private TrainState mirror;
    private long step;
    private int deadCount;

    /**
     * Puts {@code start} on the device: host arrays are uploaded (and, when {@code adopt}, kept as the
     * host mirror {@link #state} refreshes); a fresh state not drawn yet is drawn on the device; a
     * stored one not read yet is uploaded chunk by chunk. Sizes are counted in long throughout.
     */
    CudaTrainingStep(SaeConfig cfg, Stages stages, Kernels kernels, StartState start, boolean adopt) {
        this(cfg, stages, kernels, start, adopt, null);
    }

    /** The same as one rank of a data-parallel run over {@code ranks} (null: one process), whose rank 0's start every rank takes. */
    CudaTrainingStep(SaeConfig cfg, Stages stages, Kernels kernels, StartState start, boolean adopt, DeviceRanks ranks) {
        if (start.d() != cfg.d() || start.m() != cfg.latents())
            throw new IllegalArgumentException("state shape does not match the SAE config");
        this.cfg = cfg;
        this.stages = stages;
        int d = cfg.d(), m = cfg.latents();
        Scratch s = stages.scratch;
        params = DeviceParams.in(s, "train.params", d, m);
        grads = DeviceParams.in(s, "train.grads", d, m);
        adamM = DeviceParams.in(s, "train.adam_m", d, m);
        adamV = DeviceParams.in(s, "train.adam_v", d, m);
        since = s.get("train.since_fired", 8L * m);
        dead = s.get("train.dead", m);
        counters = s.get("train.counters", 16);
        advance = kernels.get("update", "since_fired_advance");
        reset = kernels.get("update", "since_fired_reset");
        mark = kernels.get("update", "dead_mark");
        fingerprint = kernels.get("update", "state_fingerprint");
        switch (start) {
            case StartState.Held h -> upload(h.state(), adopt);
            case StartState.Fresh f when f.drawn() != null -> upload(f.drawn(), true);
            case StartState.Fresh f -> draw(kernels.get("update", "init_decoder"), f);
            case StartState.Stored st when st.readIn() != null -> upload(st.readIn(), true);
            case StartState.Stored st -> st.read(this::upload);
        }
        step = start.step();
        this.ranks = ranks;
        if (ranks != null) fromRoot(ranks);
        counters.zero(16);
        markDead();
        deadCount = (int) readCounters()[1];
    }

    /** Every rank's state becomes rank 0's. */
    private void fromRoot(DeviceRanks r) {
        r.fromRoot(params);
        r.fromRoot(adamM);
        r.fromRoot(adamV);
        r.fromRoot(since, 8L * cfg.latents());
        step = r.fromRoot(step);
    }

    private void upload(TrainState init, boolean adopt) {
        params.upload(init.params());
        adamM.upload(init.adamM());
        adamV.upload(init.adamV());
        since.upload(init.sinceFired());
        mirror = adopt ? init : null;
    }

    /** SPEC §5 on the device: W_dec and W_enc from init_decoder, b_enc = 0, b_dec = the first batch's mean; zero moments and counters. */
    private void draw(Kernel init, StartState.Fresh f) {
        int m = cfg.latents();
        init.launch(m, 1, INIT_THREADS, params.wEnc(), params.wDec(), m, cfg.d(), f.seed());
        params.bEnc().zero(4L * m);
        params.bDec().upload(f.firstBatchMean());
        adamM.fill(0);
        adamV.fill(0);
        since.zero(8L * m);
    }

    /** A stored state uploaded {@link #stageBytes} at a time through one page-locked buffer. */
    private void upload(StateChunks c) {
        try (PinnedBuffer in = new PinnedBuffer(stages.ctx, stage, "state upload staging")) {
            send(in, c.params(), params);
            send(in, c.adamM(), adamM);
            send(in, c.adamV(), adamV);
            in.send(c.sinceFired(), since);
        }
    }

    private static void send(PinnedBuffer in, StateChunks.Tensors from, DeviceParams to) {
        in.send(from.wEnc(), to.wEnc());
        in.send(from.bEnc(), to.bEnc());
        in.send(from.wDec(), to.wDec());
        in.send(from.bDec(), to.bDec());
    }

    @Override
    public StepMetrics step(Batch batch, float lr) {
        stages.ctx.makeCurrent();
        if (batch.d() != cfg.d()) throw new IllegalArgumentException("batch has d=" + batch.d() + ", the SAE has d=" + cfg.d());
        DeviceBatch b = send(batch);
        long rows = ranks == null ? batch.n() : ranks.rows(batch.n());
        float beta = batch.hasGradients() ? cfg.beta() : 0f;
        int kAux = Math.min(cfg.auxK(), deadCount);
        Scratch s = stages.scratch;
        DeviceSelection top = DeviceSelection.in(s, "train.top", batch.n(), cfg.k());
        DeviceSelection aux = kAux > 0 ? DeviceSelection.in(s, "train.aux", batch.n(), kAux) : null;
        DeviceBuffer xhat = s.floats("train.xhat", (long) batch.n() * cfg.d());

        stages.forward.encodeSelect(params, b, beta, dead, top, aux);
        stages.forward.decode(params, top, true, xhat);
        Losses losses = ranks == null ? stages.backward.run(params, b, top, aux, xhat, cfg.auxAlpha(), grads)
                : stages.backward.run(params, b, top, aux, xhat, cfg.auxAlpha(), grads, ranks, rows);
        if (ranks != null) ranks.sum(grads);
        stages.update.run(params, grads, adamM, adamV, lr, ++step);

        counters.zero(16);
        advance.launch(Kernel.blocks(cfg.latents(), COUNTER_THREADS), 1, COUNTER_THREADS, since, cfg.latents(), Math.toIntExact(rows));
        reset.launch(Kernel.blocks(top.pairs(), COUNTER_THREADS), 1, COUNTER_THREADS, top.idx(), top.val(), (int) top.pairs(), since,
                counters);
        if (ranks != null) ranks.allReduce(since, 0, 8L * cfg.latents(), ElementType.I64, ReduceOp.MIN);
        markDead();
        long[] c = readCounters();
        deadCount = (int) c[1];
        double[] scalars = {losses.fvu(), losses.auxk(), losses.loss(), c[0]};
        if (ranks != null) ranks.sum(scalars);
        if (ranks != null && step % StateFingerprint.CHECK_EVERY == 0) agree();
        return new StepMetrics(scalars[0], scalars[1], scalars[2], scalars[3] / rows, (double) deadCount / cfg.latents(), rows);
    }

    private DeviceBatch send(Batch batch) {
        long bytes = 4L * batch.n() * batch.d();
        Scratch s = stages.scratch;
        DeviceBuffer x = s.get("train.x", bytes);
        stageX = staging(stageX, bytes, "x");
        stageX.sendAsync(batch.x(), x);
        DeviceBuffer g = null;
        if (batch.hasGradients()) {
            g = s.get("train.g", bytes);
            stageG = staging(stageG, bytes, "g");
            stageG.sendAsync(batch.g(), g);
        }
        return new DeviceBatch(batch.n(), batch.d(), x, g);
    }

    private PinnedBuffer staging(PinnedBuffer have, long bytes, String what) {
        if (have != null && have.bytes() >= bytes) return have;
        if (have != null) have.close();
        return new PinnedBuffer(stages.ctx, bytes, "staging " + what);
    }

    /**
     * Compares the ranks' fingerprints of their states and, when any differs, makes every rank's
     * state rank 0's. Returns whether they differed. Every rank of a data-parallel run calls it at
     * the same step.
     */
    boolean agree() {
        long[] lo = {fingerprint()}, hi = {lo[0]};
        ranks.host.allReduce(lo, ReduceOp.MIN);
        ranks.host.allReduce(hi, ReduceOp.MAX);
        if (lo[0] == hi[0]) return false;
        if (ranks.host.rank() == 0)
            LOG.log(System.Logger.Level.WARNING, "step {0}: the ranks'' states differed in their last bits; every rank now continues from rank 0''s", step);
        fromRoot(ranks);
        return true;
    }

    /** {@link StateFingerprint#of} this state, computed on the device. */
    long fingerprint() {
        stages.ctx.makeCurrent();
        DeviceBuffer sum = stages.scratch.get("train.fingerprint", 8);
        sum.zero(8);
        int t = 0;
        long md = DeviceParams.weightElements(cfg.d(), cfg.latents());
        for (DeviceParams p : new DeviceParams[] {params, adamM, adamV}) {
            hash(p.wEnc(), md, t++, sum);
            hash(p.bEnc(), cfg.latents(), t++, sum);
            hash(p.wDec(), md, t++, sum);
            hash(p.bDec(), cfg.d(), t++, sum);
        }
        hash(since, 2L * cfg.latents(), t, sum);
        stages.ctx.sync("state fingerprint");
        long[] out = new long[1];
        sum.download(out);
        return out[0];
    }

    private void hash(DeviceBuffer words, long count, int tensor, DeviceBuffer sum) {
        fingerprint.launch(Math.min(FINGERPRINT_BLOCKS, Kernel.blocks(count, COUNTER_THREADS)), 1, COUNTER_THREADS, words, count, tensor, sum);
    }

    /** dead[i] = since[i] ≥ dead_tokens, counted into counters[1]. */
    private void markDead() {
        mark.launch(Kernel.blocks(cfg.latents(), COUNTER_THREADS), 1, COUNTER_THREADS, since, cfg.latents(), cfg.deadTokens(), dead,
                counters);
    }

    /** The counters {a > 0 count, dead count}, after waiting for the stream. */
    private long[] readCounters() {
        stages.ctx.sync("training step");
        long[] raw = new long[2];
        counters.download(raw);
        return raw;
    }

    /**
     * The state downloaded into one set of host arrays, reused by every call (a run that adopted
     * its initial state holds no other host copy): valid until the next call or {@link #step}.
     */
    @Override
    public TrainState state() {
        stages.ctx.makeCurrent();
        stages.ctx.sync("state");
        if (mirror == null) mirror = TrainState.fresh(Params.zeros(cfg.d(), cfg.latents()));
        params.download(mirror.params());
        adamM.download(mirror.adamM());
        adamV.download(mirror.adamV());
        since.download(mirror.sinceFired());
        return new TrainState(mirror.params(), mirror.adamM(), mirror.adamV(), step, mirror.sinceFired());
    }

    /** The parameters downloaded into the host arrays {@link #state} uses, reused by every call. */
    @Override
    public Params params() {
        stages.ctx.makeCurrent();
        stages.ctx.sync("parameters");
        if (mirror == null) mirror = TrainState.fresh(Params.zeros(cfg.d(), cfg.latents()));
        params.download(mirror.params());
        return mirror.params();
    }

    @Override
    public TrainState snapshot() {
        stages.ctx.makeCurrent();
        stages.ctx.sync("snapshot");
        long[] fired = new long[cfg.latents()];
        since.download(fired);
        return new TrainState(params.download(), adamM.download(), adamV.download(), step, fired);
    }

    /**
     * The device state read {@link #stageBytes} bytes at a time through one page-locked buffer, in
     * whatever chunks the reader asks for (they need not align with rows).
     */
    @Override
    public StateChunks chunks() {
        stages.ctx.makeCurrent();
        stages.ctx.sync("checkpoint");
        if (stageOut == null) stageOut = new PinnedBuffer(stages.ctx, stage, "checkpoint staging");
        int d = cfg.d(), m = cfg.latents();
        return new StateChunks(d, m, tensors(params), tensors(adamM), tensors(adamV), step, chunked(since, Dtype.I64, m));
    }

    private StateChunks.Tensors tensors(DeviceParams p) {
        return new StateChunks.Tensors(chunked(p.wEnc(), Dtype.F32, p.m(), p.d()), chunked(p.bEnc(), Dtype.F32, p.m()),
                chunked(p.wDec(), Dtype.F32, p.m(), p.d()), chunked(p.bDec(), Dtype.F32, p.d()));
    }

    private ChunkedTensor chunked(DeviceBuffer buffer, Dtype dtype, long... shape) {
        return new ChunkedTensor(dtype, shape, (offset, into) -> {
            stages.ctx.makeCurrent();
            for (long at = 0, len; at < into.byteSize(); at += len) {
                len = Math.min(stage, into.byteSize() - at);
                stageOut.receive(buffer, offset + at, into, at, len);
            }
        });
    }

    @Override
    public void close() {
        stages.ctx.makeCurrent();
        try (DeviceRanks r = ranks) {
            if (stageX != null) stageX.close();
            if (stageG != null) stageG.close();
            if (stageOut != null) stageOut.close();
        } finally {
            stages.close();
        }
    }
}
