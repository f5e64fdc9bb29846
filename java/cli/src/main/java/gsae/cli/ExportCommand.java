package gsae.cli;

import gsae.api.ExportFormat;
import gsae.api.ExportOrigin;
import gsae.api.Sae;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code gsae export}: a checkpoint's SAE in the sparsify or SAELens layout (SPEC §8), computing on raw activations. */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Writes a checkpoint's SAE as sparsify (sae.safetensors) or SAELens (sae_weights.safetensors) files with cfg.json.",
                "act_scale is folded into the biases, so the exported SAE takes raw activations.",
                "SAELens' model_name, hook_name, context_size, prepend_bos and dataset_path come from the shards' manifest.json "
                        + "(recorded in the checkpoint at training time); the options below override them."})
public final class ExportCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", required = true, paramLabel = "DIR", description = "The run folder gsae train wrote (--out), or its checkpoint/.")
    Path checkpoint;

    @Option(names = "--format", required = true, paramLabel = "sparsify|saelens",
            description = "Output layout: sparsify or saelens.")
    ExportFormat format;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write the model into.")
    Path out;

    @Option(names = "--model-name", paramLabel = "NAME", description = "SAELens model_name (default: the manifest's model).")
    String modelName;

    @Option(names = "--hook-name", paramLabel = "NAME", description = "SAELens hook_name (default: the manifest's hook).")
    String hookName;

    @Option(names = "--hook-layer", paramLabel = "L", description = "SAELens hook_layer (default: the number in the hook name, e.g. transformer.h.7 → 7, else 0).")
    Integer hookLayer;

    @Option(names = "--context-size", paramLabel = "T", description = "SAELens context_size (default: the manifest's).")
    Integer contextSize;

    @Option(names = "--prepend-bos", arity = "1", paramLabel = "true|false", description = "SAELens prepend_bos (default: the manifest's, else true).")
    Boolean prependBos;

    @Option(names = "--dataset-path", paramLabel = "PATH", description = "SAELens dataset_path (default: the manifest's).")
    String datasetPath;

    @Override
    public Integer call() {
        new OptionCheck(spec.commandLine()).folder("--out", out).atLeast("--hook-layer", hookLayer, 0).atLeast("--context-size", contextSize, 1)
                .rule(modelName == null || !modelName.isBlank(), "--model-name must not be empty")
                .rule(hookName == null || !hookName.isBlank(), "--hook-name must not be empty");
        Sae.load(RunFolder.checkpoint(checkpoint)).export(format, out,
                new ExportOrigin(modelName, hookName, hookLayer, contextSize, prependBos, datasetPath));
        spec.commandLine().getOut().println("exported " + format.name().toLowerCase(Locale.ROOT) + " model to " + out);
        return 0;
    }
}
