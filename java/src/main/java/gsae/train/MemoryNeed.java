package gsae.train;

import gsae.config.SaeConfig;
import gsae.config.Sizes;

/**
 * What a host training run holds on the heap, estimated from the sizes alone, for messages that
 * tell the user how much memory to give the JVM. It counts the state (parameters and both Adam
 * moments), one set of gradients, the batch, the encoder's scores (N × M) and, for the fused CPU
 * backend, its packed copies of W_enc (and of W_dec when β &gt; 0).
 */
public final class MemoryNeed {

    private MemoryNeed() {}

    /** Estimated peak heap bytes of training {@code sae} on batches of {@code batch} tokens on a CPU backend that packs no weights. */
    public static long trainingBytes(SaeConfig sae, long batch) {
        return trainingBytes(sae, batch, false);
    }

    /** As {@link #trainingBytes(SaeConfig, long)}, plus the packed weights when {@code packed} (the fused CPU backend, "cpu"). */
    public static long trainingBytes(SaeConfig sae, long batch, boolean packed) {
        return trainingBytes(sae, batch, packed, sae.latents());
    }

    /**
     * As {@link #trainingBytes(SaeConfig, long, boolean)} for a process that holds {@code latents}
     * of the SAE's latents: a rank's share when they are sharded, whose state, scores and packed
     * weights scale with its share while the batch is whole.
     */
    public static long trainingBytes(SaeConfig sae, long batch, boolean packed, int latents) {
        long params = Sizes.bytes("latents", 2 * Sizes.product("latents", latents, sae.d()) + latents + sae.d(), Float.BYTES);
        long data = Sizes.bytes("batch", Sizes.product("batch", batch, sae.d()), Float.BYTES) * 3; // x, g, x̂
        long scores = Sizes.bytes("batch", Sizes.product("batch", batch, latents), Float.BYTES) * 2; // z, score
        long panels = packed ? Sizes.bytes("latents", Sizes.product("latents", latents, sae.d()), Float.BYTES) * (sae.beta() > 0 ? 2 : 1) : 0;
        return Math.addExact(Math.addExact(Math.multiplyExact(params, 4), Math.addExact(data, panels)), Math.addExact(scores, 16L * latents));
    }

    /**
     * Estimated peak heap bytes of training on batches of {@code batch} tokens when the state lives
     * on a device: the batch's host arrays (x, g, x̂) only.
     */
    public static long deviceTrainingBytes(SaeConfig sae, long batch) {
        return Sizes.bytes("batch", Sizes.product("batch", batch, sae.d()), Float.BYTES) * 3;
    }

    /** "3.2 GiB" */
    public static String gib(long bytes) {
        return String.format("%.1f GiB", bytes / (double) (1L << 30));
    }
}
