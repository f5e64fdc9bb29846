package gsae.train;

import java.util.Map;

/**
 * Evaluation of one SAE on held-out tokens (SPEC §7).
 *
 * @param tokens       tokens evaluated
 * @param fvu          Σ‖x − x̂‖² / Σ‖x − x̄‖² over all evaluated tokens, x̄ their mean
 * @param l0           mean latents with a > 0 per token
 * @param deadFraction fraction of latents in no token's top-k on these tokens
 * @param downstream   spliced-loss metrics, or null when no downstream loss exists
 * @param recovery     ground-truth recovery per feature family, or null without a teacher
 */
public record EvalReport(long tokens, double fvu, double l0, double deadFraction, Downstream downstream, Map<String, Recovery> recovery) {

    /**
     * @param cleanLoss     downstream loss on clean x
     * @param splicedLoss   downstream loss with x̂ in place of x
     * @param zeroLoss      downstream loss with x zero-ablated
     * @param lossIncrease  splicedLoss − cleanLoss
     * @param lossRecovered (zeroLoss − splicedLoss) / (zeroLoss − cleanLoss)
     * @param kl            mean KL(clean output ‖ spliced output) per token
     */
    public record Downstream(double cleanLoss, double splicedLoss, double zeroLoss, double lossIncrease, double lossRecovered, double kl) {}

    /**
     * @param features    true features in the family
     * @param meanBestCos mean over features of the best cosine with any decoder row
     * @param above09     fraction of features whose best cosine exceeds 0.9
     */
    public record Recovery(int features, double meanBestCos, double above09) {}
}
