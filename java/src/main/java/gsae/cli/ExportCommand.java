package gsae.cli;

import gsae.io.Checkpoint;
import gsae.io.DataException;
import gsae.io.Export;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code gsae export}: a checkpoint's SAE in the sparsify or SAELens layout (SPEC §8). */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Writes a checkpoint's SAE as sparsify (sae.safetensors) or SAELens (sae_weights.safetensors) files with cfg.json.")
public final class ExportCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", required = true, paramLabel = "DIR", description = "Checkpoint directory written by gsae train.")
    Path checkpoint;

    @Option(names = "--format", required = true, paramLabel = "sparsify|saelens",
            description = "Output layout: sparsify or saelens.")
    Export.Format format;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write the model into.")
    Path out;

    @Override
    public Integer call() {
        if (!Files.isDirectory(checkpoint)) throw new DataException(checkpoint, "no such checkpoint directory");
        Checkpoint c = Checkpoint.load(checkpoint);
        Export.write(format, c.state().params(), c.sae(), c.scales(), out);
        spec.commandLine().getOut().println("exported " + format.name().toLowerCase(Locale.ROOT) + " model to " + out);
        return 0;
    }

}
