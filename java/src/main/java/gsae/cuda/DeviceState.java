package gsae.cuda;

import gsae.ops.Batch;
import gsae.ops.Params;
import gsae.ops.StartState;
import gsae.ops.StateChunks;
import gsae.ops.StateFingerprint;
import gsae.ops.TrainState;
import gsae.tensor.ChunkedTensor;
import gsae.tensor.Dtype;

/**
 * The training state of M latents on the device (a whole SAE, or one rank's share of a
 * latent-sharded one): parameters, gradients, both Adam moments, since-fired counters and dead
 * flags, with what the training steps do to them besides the stages — putting a start state on the
 * device, sending batches through page-locked staging, the counters' kernels, the fingerprint, and
 * reading the state back (whole, parameters alone, or chunk by chunk for checkpoints). Sizes are
 * counted in long throughout.
 */
final class DeviceState implements AutoCloseable {

    private static final int COUNTER_THREADS = 256, INIT_THREADS = 128, FINGERPRINT_BLOCKS = 1024;
    /**
     * Bytes of the page-locked buffer checkpoints are read through and stored states uploaded
     * through; a knob only so that tests cross many chunk boundaries at small sizes.
     */
    static int stageBytes = 1 << 20;

    final int d, m;
    final Stages stages;
    final DeviceParams params, grads, adamM, adamV;
    final DeviceBuffer since, dead;
    private final DeviceBuffer counters;
    private final Kernel advance, reset, mark, fingerprint;
    private PinnedBuffer stageX, stageG, stageOut;
    private final int stage = stageBytes;
    /** Host arrays {@link #state} downloads into: the adopted initial state's, or made on first use. */
    private TrainState mirror;
    /** Optimizer steps taken. */
    long step;

    /**
     * Puts {@code start} (of {@code m} latents) on the device: host arrays are uploaded (and, when
     * {@code adopt}, kept as the host mirror {@link #state} refreshes); a fresh state not drawn yet
     * is drawn on the device; a stored one not read yet is uploaded chunk by chunk.
     */
    DeviceState(int d, int m, Stages stages, Kernels kernels, StartState start, boolean adopt) {
        if (start.d() != d || start.m() != m)
            throw new IllegalArgumentException("state of " + start.m() + " latents of d=" + start.d() + " for " + m + " latents of d=" + d);
        this.d = d;
        this.m = m;
        this.stages = stages;
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
        init.launch(m, 1, INIT_THREADS, params.wEnc(), params.wDec(), m, d, f.seed());
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

    /** Every rank's state becomes rank 0's, the step count too. */
    void fromRoot(DeviceRanks r) {
        r.fromRoot(params);
        r.fromRoot(adamM);
        r.fromRoot(adamV);
        r.fromRoot(since, 8L * m);
        step = r.fromRoot(step);
    }

    /** x and g of {@code batch} on the device, through page-locked staging on the stream. */
    DeviceBatch send(Batch batch) {
        if (batch.d() != d) throw new IllegalArgumentException("batch has d=" + batch.d() + ", the SAE has d=" + d);
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
     * The counters after a step on {@code rows} tokens: every one advances by {@code rows}, those of
     * the {@code pairs} selected (idx, val) pairs restart, and counters[0] counts the pairs with a > 0.
     */
    void fired(long rows, DeviceBuffer idx, DeviceBuffer val, long pairs) {
        counters.zero(16);
        advance.launch(Kernel.blocks(m, COUNTER_THREADS), 1, COUNTER_THREADS, since, m, Math.toIntExact(rows));
        if (pairs > 0) reset.launch(Kernel.blocks(pairs, COUNTER_THREADS), 1, COUNTER_THREADS, idx, val, Math.toIntExact(pairs), since, counters);
    }

    /** dead[i] = since[i] ≥ deadTokens, counted into counters[1]. */
    void markDead(long deadTokens) {
        mark.launch(Kernel.blocks(m, COUNTER_THREADS), 1, COUNTER_THREADS, since, m, deadTokens, dead, counters);
    }

    /** Marks the dead latents now and returns how many there are (the count before a first step). */
    int countDead(long deadTokens) {
        counters.zero(16);
        markDead(deadTokens);
        return (int) readCounters()[1];
    }

    /** The counters {a > 0 count, dead count}, after waiting for the stream. */
    long[] readCounters() {
        stages.ctx.sync("training step");
        long[] raw = new long[2];
        counters.download(raw);
        return raw;
    }

    /** {@link StateFingerprint#of} this state, computed on the device. */
    long fingerprint() {
        stages.ctx.makeCurrent();
        DeviceBuffer sum = stages.scratch.get("train.fingerprint", 8);
        sum.zero(8);
        int t = 0;
        long md = DeviceParams.weightElements(d, m);
        for (DeviceParams p : new DeviceParams[] {params, adamM, adamV}) {
            hash(p.wEnc(), md, t++, sum);
            hash(p.bEnc(), m, t++, sum);
            hash(p.wDec(), md, t++, sum);
            hash(p.bDec(), d, t++, sum);
        }
        hash(since, 2L * m, t, sum);
        stages.ctx.sync("state fingerprint");
        long[] out = new long[1];
        sum.download(out);
        return out[0];
    }

    private void hash(DeviceBuffer words, long count, int tensor, DeviceBuffer sum) {
        fingerprint.launch(Math.min(FINGERPRINT_BLOCKS, Kernel.blocks(count, COUNTER_THREADS)), 1, COUNTER_THREADS, words, count, tensor, sum);
    }

    /**
     * The state downloaded into one set of host arrays, reused by every call (a run that adopted
     * its initial state holds no other host copy): valid until the next call or step.
     */
    TrainState state() {
        stages.ctx.makeCurrent();
        stages.ctx.sync("state");
        TrainState h = mirror();
        params.download(h.params());
        adamM.download(h.adamM());
        adamV.download(h.adamV());
        since.download(h.sinceFired());
        return new TrainState(h.params(), h.adamM(), h.adamV(), step, h.sinceFired());
    }

    /** The parameters downloaded into the host arrays {@link #state} uses, reused by every call. */
    Params params() {
        stages.ctx.makeCurrent();
        stages.ctx.sync("parameters");
        Params p = mirror().params();
        params.download(p);
        return p;
    }

    private TrainState mirror() {
        if (mirror == null) mirror = TrainState.fresh(Params.zeros(d, m));
        return mirror;
    }

    TrainState snapshot() {
        stages.ctx.makeCurrent();
        stages.ctx.sync("snapshot");
        long[] fired = new long[m];
        since.download(fired);
        return new TrainState(params.download(), adamM.download(), adamV.download(), step, fired);
    }

    /**
     * The state read {@link #stageBytes} bytes at a time through one page-locked buffer, in
     * whatever chunks the reader asks for (they need not align with rows).
     */
    StateChunks chunks() {
        stages.ctx.makeCurrent();
        stages.ctx.sync("checkpoint");
        if (stageOut == null) stageOut = new PinnedBuffer(stages.ctx, stage, "checkpoint staging");
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

    /** Releases the staging buffers and the stages (device memory). */
    @Override
    public void close() {
        stages.ctx.makeCurrent();
        try {
            if (stageX != null) stageX.close();
            if (stageG != null) stageG.close();
            if (stageOut != null) stageOut.close();
        } finally {
            stages.close();
        }
    }
}
