package gsae.cli;

import gsae.api.SaeBackend;
import gsae.api.StepDump;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code gsae step} (SPEC §9): one forward and backward pass of the chosen backend on given
 * parameters and a given batch, written out for comparison with any other implementation. The
 * batch is used as given (scales 1) and the parameters are not updated.
 */
@Command(name = "step", mixinStandardHelpOptions = true,
        description = "One forward + backward pass on given parameters and batch; writes selection, reconstruction, losses and raw gradients.")
public final class StepCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--params", required = true, paramLabel = "P.safetensors",
            description = "encoder.weight [M,d], encoder.bias [M], W_dec [M,d], b_dec [d].")
    Path params;

    @Option(names = "--batch", required = true, paramLabel = "B.safetensors", description = "activations [N,d] and gradients [N,d].")
    Path batch;

    @Option(names = "--k", required = true, description = "Latents kept per token.")
    int k;

    @Option(names = "--beta", required = true, description = "Gradient weight β (0 = plain TopK).")
    float beta;

    @Option(names = "--dead", paramLabel = "D.safetensors", description = "dead [M] (U8, 1 = dead); enables AuxK.")
    Path dead;

    @Option(names = "--aux-k", description = "AuxK latents per token (default d/2).")
    Integer auxK;

    @Option(names = "--aux-alpha", defaultValue = "0.03125", description = "Weight α of AuxK in the loss (default 1/32).")
    float auxAlpha;

    @Option(names = "--backend", defaultValue = "auto", paramLabel = "auto|cpu|cuda|reference",
            description = "Implementation to run (default auto).")
    SaeBackend backend;

    @Option(names = "--threads", description = "CPU worker threads (default: all cores).")
    Integer threads;

    @Option(names = "--out", required = true, paramLabel = "O.safetensors", description = "Output file.")
    Path out;

    @Override
    public Integer call() {
        StepDump.run(params, batch, dead, k, beta, auxK, auxAlpha, backend, threads != null ? threads : Runtime.getRuntime().availableProcessors(),
                System.err, out);
        return 0;
    }
}
