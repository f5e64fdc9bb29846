package gsae.cuda;

import gsae.config.Sizes;
import gsae.ops.Batch;
import gsae.ops.Denominators;
import gsae.ops.Encoded;
import gsae.ops.Losses;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.Selection;

/**
 * {@link Ops} on the GPU for tests, {@code gsae step} and evaluation: each call copies its inputs
 * in, fills its outputs with NaN (indices with −1) so that a slot no kernel wrote cannot pass,
 * launches, and copies the results out. Training uses {@link CudaTrainingStep}, which keeps
 * everything resident instead. One instance serves one thread at a time.
 */
public final class CudaOps implements Ops, AutoCloseable {

    private final Stages stages;

    CudaOps(Stages stages) {
        this.stages = stages;
    }

    @Override
    public String name() {
        return "cuda-" + stages.forward.name();
    }

    @Override
    public Encoded encodeSelect(Params p, Batch b, float beta, int k, boolean[] dead, int auxK) {
        stages.ctx.makeCurrent();
        if (k < 1 || k > p.m()) throw new IllegalArgumentException("k must be in 1.." + p.m() + ", got " + k);
        int deadCount = 0;
        if (dead != null) for (boolean flag : dead) if (flag) deadCount++;
        int kAux = Math.min(auxK, deadCount);
        DeviceParams dp = params(p, "in.params");
        DeviceBatch db = batch(b);
        DeviceSelection top = DeviceSelection.in(stages.scratch, "out.top", b.n(), k);
        DeviceSelection aux = kAux > 0 ? DeviceSelection.in(stages.scratch, "out.aux", b.n(), kAux) : null;
        DeviceBuffer deadMask = null;
        if (aux != null) {
            deadMask = stages.scratch.get("in.dead", p.m());
            deadMask.upload(flags(dead));
            aux.poison();
        }
        top.poison();
        stages.forward.encodeSelect(dp, db, beta, deadMask, top, aux);
        stages.ctx.sync("encode-select");
        return new Encoded(top.download(), aux == null ? null : aux.download());
    }

    @Override
    public float[] decode(Params p, Selection s, boolean withBias) {
        stages.ctx.makeCurrent();
        DeviceParams dp = params(p, "in.params");
        DeviceSelection ds = DeviceSelection.in(stages.scratch, "in.selection", s.n(), s.k());
        ds.upload(s);
        DeviceBuffer out = stages.scratch.floats("out.xhat", (long) s.n() * p.d());
        out.fill(DeviceBuffer.NAN_BITS, (long) s.n() * p.d());
        stages.forward.decode(dp, ds, withBias, out);
        stages.ctx.sync("decode");
        float[] xhat = new float[Sizes.hostArray("batch", "tokens per batch", s.n(), p.d())];
        out.download(xhat);
        return xhat;
    }

    @Override
    public Losses backward(Params p, Batch b, Encoded enc, float[] xhat, float auxAlpha, Params grads, Denominators global) {
        stages.ctx.makeCurrent();
        DeviceParams dp = params(p, "in.params");
        DeviceBatch db = batch(b);
        DeviceSelection top = DeviceSelection.in(stages.scratch, "in.top", enc.top().n(), enc.top().k());
        top.upload(enc.top());
        DeviceSelection aux = null;
        if (enc.aux() != null) {
            aux = DeviceSelection.in(stages.scratch, "in.aux", enc.aux().n(), enc.aux().k());
            aux.upload(enc.aux());
        }
        DeviceBuffer dx = stages.scratch.floats("in.xhat", xhat.length);
        dx.upload(xhat);
        DeviceParams dg = DeviceParams.in(stages.scratch, "out.grads", p.d(), p.m());
        dg.fill(DeviceBuffer.NAN_BITS);
        Losses losses = stages.backward.run(dp, db, top, aux, dx, auxAlpha, dg, global);
        stages.ctx.sync("backward");
        dg.download(grads);
        return losses;
    }

    @Override
    public void update(Params p, Params grads, Params m, Params v, float lr, long t) {
        stages.ctx.makeCurrent();
        DeviceParams dp = params(p, "in.params");
        DeviceParams dg = params(grads, "in.grads");
        DeviceParams dm = params(m, "in.adam_m");
        DeviceParams dv = params(v, "in.adam_v");
        stages.update.run(dp, dg, dm, dv, lr, t);
        stages.ctx.sync("update");
        dp.download(p);
        dm.download(m);
        dv.download(v);
        dg.download(grads);
    }

    private DeviceParams params(Params p, String name) {
        DeviceParams dp = DeviceParams.in(stages.scratch, name, p.d(), p.m());
        dp.upload(p);
        return dp;
    }

    private DeviceBatch batch(Batch b) {
        long nd = (long) b.n() * b.d();
        DeviceBuffer x = stages.scratch.floats("in.x", nd);
        x.upload(b.x());
        DeviceBuffer g = null;
        if (b.hasGradients()) {
            g = stages.scratch.floats("in.g", nd);
            g.upload(b.g());
        }
        return new DeviceBatch(b.n(), b.d(), x, g);
    }

    static byte[] flags(boolean[] dead) {
        byte[] out = new byte[dead.length];
        for (int i = 0; i < dead.length; i++) out[i] = (byte) (dead[i] ? 1 : 0);
        return out;
    }

    @Override
    public void close() {
        stages.close();
    }
}
