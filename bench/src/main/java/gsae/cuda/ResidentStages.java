package gsae.cuda;

import gsae.ops.Batch;
import gsae.ops.Losses;
import gsae.ops.Params;

/**
 * The four SPEC stages of one device on inputs that stay on the device, for
 * {@code gsae.bench.CudaStageBench}: parameters and several batches are uploaded once, and each
 * batch's selection and x̂ are computed once, so that a call launches one stage and waits for the
 * stream; its time is the stage's device time plus its launches. It sits in package gsae.cuda of
 * the bench module because the stages are package-private: the engine exposes nothing for
 * benchmarks. Every call makes the context current first (JMH may call from another thread than
 * setup). AuxK is off (nothing is dead within a benchmark), as in the CPU StageBench.
 */
public final class ResidentStages implements AutoCloseable {

    private final CudaContext ctx;
    private Kernels kernels;
    private Stages stages;
    private DeviceParams params, updated, grads, gradsOut, adamM, adamV;
    private DeviceBatch[] batches;
    private DeviceSelection[] selections;
    private DeviceBuffer[] xhats;
    private DeviceSelection topOut;
    private DeviceBuffer xhatOut;
    private final float beta, auxAlpha, lr;
    private long t;

    /**
     * Uploads everything for {@code impl} ("fused" in the precision of -Dgsae.cuda.precision, or
     * "dense") on device 0; IllegalStateException with one line when CUDA is unavailable.
     *
     * @param batches each with gradients when {@code beta > 0}, all of the same N and d
     */
    public static ResidentStages open(String impl, Params p, Batch[] batches, int k, float beta, float auxAlpha, float lr) {
        Stages.Mode mode = switch (impl) {
            case "fused" -> CudaBackend.precisionProperty() == Precision.F32 ? Stages.Mode.FUSED_F32 : Stages.Mode.FUSED_BF16;
            case "dense" -> Stages.Mode.DENSE;
            default -> throw new IllegalArgumentException("impl must be fused or dense, got " + impl);
        };
        String why = CudaBackend.unavailableReason();
        if (why != null) throw new IllegalStateException(why);
        ResidentStages r = new ResidentStages(CudaContext.open(0), beta, auxAlpha, lr);
        try {
            r.load(mode, p, batches, k);
            return r;
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
    }

    private ResidentStages(CudaContext ctx, float beta, float auxAlpha, float lr) {
        this.ctx = ctx;
        this.beta = beta;
        this.auxAlpha = auxAlpha;
        this.lr = lr;
    }

    private void load(Stages.Mode mode, Params p, Batch[] host, int k) {
        kernels = new Kernels(ctx);
        stages = new Stages(ctx, kernels, mode);
        Scratch s = stages.scratch;
        int n = host[0].n(), d = p.d(), m = p.m();
        params = uploaded(s, "bench.params", p);
        updated = uploaded(s, "bench.updated", p);
        grads = DeviceParams.in(s, "bench.grads", d, m);
        gradsOut = DeviceParams.in(s, "bench.grads_out", d, m);
        adamM = DeviceParams.in(s, "bench.adam_m", d, m);
        adamV = DeviceParams.in(s, "bench.adam_v", d, m);
        adamM.fill(0);
        adamV.fill(0);
        topOut = DeviceSelection.in(s, "bench.top_out", n, k);
        xhatOut = s.floats("bench.xhat_out", (long) n * d);
        batches = new DeviceBatch[host.length];
        selections = new DeviceSelection[host.length];
        xhats = new DeviceBuffer[host.length];
        for (int i = 0; i < host.length; i++) {
            if (host[i].n() != n || host[i].d() != d) throw new IllegalArgumentException("batch " + i + " differs in shape from batch 0");
            batches[i] = uploaded(s, "bench.batch" + i, host[i]);
            selections[i] = DeviceSelection.in(s, "bench.top" + i, n, k);
            xhats[i] = s.floats("bench.xhat" + i, (long) n * d);
            stages.forward.encodeSelect(params, batches[i], beta, null, selections[i], null);
            stages.forward.decode(params, selections[i], true, xhats[i]);
        }
        stages.backward.run(params, batches[0], selections[0], null, xhats[0], auxAlpha, grads);
        ctx.sync("benchmark setup");
    }

    private static DeviceParams uploaded(Scratch s, String name, Params p) {
        DeviceParams dp = DeviceParams.in(s, name, p.d(), p.m());
        dp.upload(p);
        return dp;
    }

    private DeviceBatch uploaded(Scratch s, String name, Batch b) {
        long nd = (long) b.n() * b.d();
        DeviceBuffer x = s.floats(name + ".x", nd);
        x.upload(b.x());
        DeviceBuffer g = null;
        if (b.hasGradients()) {
            g = s.floats(name + ".g", nd);
            g.upload(b.g());
        }
        return new DeviceBatch(b.n(), b.d(), x, g);
    }

    /** "NVIDIA H200 (sm_90, 132 SMs)" and the forward's name. */
    public String describe() {
        return ctx.describe() + ", " + stages.forward.name();
    }

    /** How many batches the calls rotate through. */
    public int batches() {
        return batches.length;
    }

    /** SPEC §2 on batch {@code i}: score and top-k selection, then waits for the stream. */
    public void encodeSelect(int i) {
        ctx.makeCurrent();
        stages.forward.encodeSelect(params, batches[i], beta, null, topOut, null);
        ctx.sync("encode-select");
    }

    /** x̂ = a·W_dec + b_dec from batch {@code i}'s selection, then waits for the stream. */
    public void decode(int i) {
        ctx.makeCurrent();
        stages.forward.decode(params, selections[i], true, xhatOut);
        ctx.sync("decode");
    }

    /** SPEC §3–4 on batch {@code i}; reading the losses back already waits for the stream. */
    public Losses backward(int i) {
        ctx.makeCurrent();
        Losses l = stages.backward.run(params, batches[i], selections[i], null, xhats[i], auxAlpha, gradsOut);
        ctx.sync("backward");
        return l;
    }

    /** SPEC §5 on a copy of the parameters with fixed gradients (their projection is idempotent), then waits. */
    public void update() {
        ctx.makeCurrent();
        stages.update.run(updated, grads, adamM, adamV, lr, ++t);
        ctx.sync("update");
    }

    @Override
    public void close() {
        ctx.makeCurrent();
        try {
            if (stages != null) stages.close();
            if (kernels != null) kernels.close();
        } finally {
            ctx.close();
        }
    }
}
