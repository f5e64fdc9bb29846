package gsae.ops;

import gsae.tensor.ChunkedTensor;
import gsae.tensor.Dtype;
import gsae.tensor.HostTensor;

import java.lang.foreign.MemorySegment;

/**
 * The training state as tensors read a chunk at a time, wherever it lives: how a checkpoint is
 * written from a device backend without a whole host copy. Shapes follow SPEC §8.
 *
 * @param d          input width
 * @param m          number of latents M
 * @param params     the SAE's parameters
 * @param adamM      Adam's first moments
 * @param adamV      Adam's second moments
 * @param step       optimizer steps completed
 * @param sinceFired I64 [M]: training tokens since each latent last fired
 */
public record StateChunks(int d, int m, Tensors params, Tensors adamM, Tensors adamV, long step, ChunkedTensor sinceFired) {

    /**
     * The four tensors of a {@link Params}-shaped set.
     *
     * @param wEnc F32 [M, d]
     * @param bEnc F32 [M]
     * @param wDec F32 [M, d]
     * @param bDec F32 [d]
     */
    public record Tensors(ChunkedTensor wEnc, ChunkedTensor bEnc, ChunkedTensor wDec, ChunkedTensor bDec) {

        /** Host arrays read in place. */
        public static Tensors of(Params p) {
            return new Tensors(ChunkedTensor.of(HostTensor.of(p.wEnc(), p.m(), p.d())), ChunkedTensor.of(HostTensor.of(p.bEnc(), p.m())),
                    ChunkedTensor.of(HostTensor.of(p.wDec(), p.m(), p.d())), ChunkedTensor.of(HostTensor.of(p.bDec(), p.d())));
        }

        /** The shard's rows of the four tensors (b_dec whole), read into new arrays. */
        Params rows(int d, LatentShard shard) {
            Params p = Params.zeros(d, shard.count());
            read(wEnc, (long) shard.first() * d, p.wEnc());
            read(bEnc, shard.first(), p.bEnc());
            read(wDec, (long) shard.first() * d, p.wDec());
            read(bDec, 0, p.bDec());
            return p;
        }

        private static void read(ChunkedTensor from, long firstFloat, float[] into) {
            from.chunks().read(firstFloat * Float.BYTES, MemorySegment.ofArray(into));
        }
    }

    /**
     * Latents [shard.first(), shard.end()) of these tensors copied into host arrays, b_dec and its
     * moments whole (see {@link TrainState#slice}): only those rows are read, so a rank reads its
     * share of a state without a whole copy. Shard sizes beyond one Java array are a
     * {@link gsae.config.UserError} naming the latents (see {@link Params#zeros}).
     */
    public TrainState rows(LatentShard shard) {
        if (shard.latents() != m) throw new IllegalArgumentException("a shard of " + shard.latents() + " latents from a state of " + m);
        int n = shard.count();
        long[] since = new long[n];
        sinceFired.chunks().read((long) shard.first() * Long.BYTES, MemorySegment.ofArray(since));
        return new TrainState(params.rows(d, shard), adamM.rows(d, shard), adamV.rows(d, shard), step, since);
    }

    /** A host state read in place: valid while its arrays are. */
    public static StateChunks of(TrainState s) {
        Params p = s.params();
        long[] since = s.sinceFired();
        return new StateChunks(p.d(), p.m(), Tensors.of(p), Tensors.of(s.adamM()), Tensors.of(s.adamV()), s.step(),
                ChunkedTensor.of(new HostTensor(Dtype.I64, new long[]{since.length}, MemorySegment.ofArray(since))));
    }
}
