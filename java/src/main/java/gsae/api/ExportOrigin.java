package gsae.api;

/**
 * Where an exported SAE was trained, as SAELens's {@code cfg.json} states it; each field that is not
 * null replaces what the checkpoint recorded from the shards' manifest at training time.
 *
 * @param model       the model's name (SAELens model_name)
 * @param hook        the hook's name (hook_name), e.g. transformer.h.7
 * @param hookLayer   hook_layer (default: the number in the hook name, else 0)
 * @param contextSize context_size
 * @param prependBos  prepend_bos
 * @param datasetPath dataset_path
 */
public record ExportOrigin(String model, String hook, Integer hookLayer, Integer contextSize, Boolean prependBos, String datasetPath) {

    /** Nothing replaced: the checkpoint's record as it is. */
    public static final ExportOrigin RECORDED = new ExportOrigin(null, null, null, null, null, null);
}
