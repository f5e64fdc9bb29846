package gsae.cpu;

import gsae.ops.Batch;
import gsae.ops.Encoded;
import gsae.ops.Losses;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.Selection;

/** PLACEHOLDER (issue #2/#3, being written): replaced by the real implementation before landing. */
public final class DenseOps implements Ops {
    public DenseOps(int threads) {}
    @Override public String name() { return "DenseOps"; }
    @Override public Encoded encodeSelect(Params p, Batch b, float beta, int k, boolean[] dead, int auxK) { throw new UnsupportedOperationException(); }
    @Override public float[] decode(Params p, Selection s, boolean withBias) { throw new UnsupportedOperationException(); }
    @Override public Losses backward(Params p, Batch b, Encoded enc, float[] xhat, float auxAlpha, Params grads) { throw new UnsupportedOperationException(); }
    @Override public void update(Params p, Params grads, Params m, Params v, float lr, long t) { throw new UnsupportedOperationException(); }
}
