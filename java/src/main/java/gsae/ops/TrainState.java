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

    public TrainState copy() {
        return new TrainState(params.copy(), adamM.copy(), adamV.copy(), step, sinceFired.clone());
    }
}
