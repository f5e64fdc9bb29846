package gsae.cpu;

import gsae.ops.Batch;
import gsae.ops.Denominators;
import gsae.ops.Encoded;
import gsae.ops.Losses;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.Selection;

/**
 * The fast CPU path: the fused encoder for encode-select, then sparse Vector-API stages that touch
 * only the k selected rows per token (O(N·k·d) after selection), spread over a fixed pool of workers.
 * Every stage gives bit-identical results for any thread count. One instance serves one thread at a
 * time (its stages keep scratch space between calls).
 */
public final class FastOps implements Ops, AutoCloseable {

    private final Workers workers;
    private final FusedEncoder encoder;
    private final SparseDecoder decoder;
    private final SparseBackward backward;
    private final AdamUpdate update;

    public FastOps(int threads) {
        this(threads, true);
    }

    /** With {@code prune} false, β > 0 computes the full gradient projection (the unpruned path, for benchmarks). */
    public FastOps(int threads, boolean prune) {
        this.workers = new Workers(threads);
        this.encoder = new FusedEncoder(workers, prune);
        this.decoder = new SparseDecoder(workers);
        this.backward = new SparseBackward(workers);
        this.update = new AdamUpdate(workers);
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Encoded encodeSelect(Params p, Batch b, float beta, int k, boolean[] dead, int auxK) {
        return encoder.encodeSelect(p, b, beta, k, dead, auxK);
    }

    @Override
    public float[] decode(Params p, Selection s, boolean withBias) {
        float[] out = new float[s.n() * p.d()];
        decoder.decode(p, s, withBias, out);
        return out;
    }

    @Override
    public Losses backward(Params p, Batch b, Encoded enc, float[] xhat, float auxAlpha, Params grads, Denominators global) {
        return backward.backward(p, b, enc, xhat, auxAlpha, grads, global);
    }

    @Override
    public void update(Params p, Params grads, Params m, Params v, float lr, long t) {
        update.update(p, grads, m, v, lr, t);
    }

    /** What pruning did in the last encode-select, or null when it did not prune. */
    public PruneStats lastPruneStats() {
        return encoder.lastStats();
    }

    /** Stops the worker threads. */
    @Override
    public void close() {
        workers.close();
    }
}
