package gsae.api;

/**
 * What one training step reports.
 *
 * @param step         optimizer steps completed, this one included
 * @param lr           the learning rate the step used
 * @param fvu          fraction of variance unexplained on the batch
 * @param auxk         AuxK loss (0 when no latent is dead)
 * @param loss         fvu + α·auxk, the loss the step descended
 * @param l0           mean number of active latents per token
 * @param deadFraction fraction of latents dead after the step
 */
public record Metrics(long step, float lr, double fvu, double auxk, double loss, double l0, double deadFraction) {}
