package gsae.ops;

/**
 * Scalar losses of one batch (SPEC §3).
 *
 * @param fvu  Σ‖x − x̂‖² / Σ‖x − x̄‖²
 * @param auxk AuxK, 0 when no latent is dead
 * @param loss fvu + α·auxk
 */
public record Losses(double fvu, double auxk, double loss) {}
