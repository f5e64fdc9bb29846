package gsae.ops;

/**
 * What encode-select produces for a batch.
 *
 * @param top the k latents of largest score per token (SPEC §2)
 * @param aux the k_aux dead latents of largest score per token (SPEC §3), or null when no latent is dead
 */
public record Encoded(Selection top, Selection aux) {}
