package gsae.ops;

import java.util.Arrays;

/**
 * Everything a backend owns during training, copied out to the host for checkpoints.
 *
 * @param params     the SAE's parameters
 * @param adamM      Adam's first moments, shaped like params
 * @param adamV      Adam's second moments, shaped like params
 * @param step       optimizer steps completed
 * @param sinceFired training tokens since each latent was last in any S_n   [M]
 */
public record TrainState(Params params, Params adamM, Params adamV, long step, long[] sinceFired) {

    public TrainState {
        if (sinceFired.length != params.m()) throw new IllegalArgumentException("sinceFired must have M entries");
    }

    /** A fresh state: the given parameters, zero moments, no step taken, every latent just fired. */
    public static TrainState fresh(Params params) {
        return new TrainState(params, Params.zeros(params.d(), params.m()), Params.zeros(params.d(), params.m()),
                0, new long[params.m()]);
    }

    /** The share of {@code shard}'s latents: their rows of parameters, moments and counters, copied, b_dec and its moments whole. */
    public TrainState slice(LatentShard shard) {
        if (shard.latents() != params.m()) throw new IllegalArgumentException("shard of " + shard.latents() + " latents from a state of " + params.m());
        int a = shard.first(), b = shard.end();
        return new TrainState(params.rows(a, b), adamM.rows(a, b), adamV.rows(a, b), step, Arrays.copyOfRange(sinceFired, a, b));
    }

    /** The same arrays after {@code steps} optimizer steps: how a step that counts its own steps hands its live state out. */
    public TrainState atStep(long steps) {
        return new TrainState(params, adamM, adamV, steps, sinceFired);
    }

    /**
     * Sets {@code dead[i]} for each latent that has not fired for {@code deadTokens} tokens (SPEC §3)
     * and returns how many are dead.
     *
     * @param dead one flag per latent, overwritten   [M]
     */
    public int markDead(long deadTokens, boolean[] dead) {
        int count = 0;
        for (int i = 0; i < sinceFired.length; i++) {
            dead[i] = sinceFired[i] >= deadTokens;
            if (dead[i]) count++;
        }
        return count;
    }

    public TrainState copy() {
        return new TrainState(params.copy(), adamM.copy(), adamV.copy(), step, sinceFired.clone());
    }
}
