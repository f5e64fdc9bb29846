package gsae.api;

/** Layouts {@link Sae#export} writes, for other tools to load. */
public enum ExportFormat {
    /** EleutherAI sparsify: {@code sae.safetensors} and {@code cfg.json}. */
    SPARSIFY,
    /** SAELens 5.x/6: {@code sae_weights.safetensors} and {@code cfg.json}. */
    SAELENS
}
