package gsae.ops;

/**
 * Scalars a training step reports back to the trainer.
 *
 * @param fvu          fraction of variance unexplained on this batch
 * @param auxk         AuxK loss (0 when nothing is dead)
 * @param loss         fvu + α·auxk
 * @param l0           mean number of latents with a > 0 per token
 * @param deadFraction fraction of latents dead after this step
 * @param rows         tokens of the batch the step took (data parallel: the global batch, every rank's slice)
 */
public record StepMetrics(double fvu, double auxk, double loss, double l0, double deadFraction, long rows) {}
