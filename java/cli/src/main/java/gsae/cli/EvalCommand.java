package gsae.cli;

import gsae.api.Engine;
import gsae.api.Evaluation;
import gsae.api.SaeBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** `gsae eval`: loads a checkpoint and reports SPEC §7's metrics on held-out tokens. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Evaluates a trained SAE: FVU, L0 and dead latents; on the teacher also the spliced downstream loss, "
                + "loss recovered, KL and recovery of the true features per family."})
public final class EvalCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", required = true, paramLabel = "DIR", description = "the run folder gsae train wrote (--out), or its checkpoint/")
    Path checkpoint;

    @Option(names = "--data", arity = "1..*", paramLabel = "PATH",
            description = "shard files or directories to evaluate on (default: held-out tokens of the checkpoint's teacher)")
    List<Path> data;

    @Option(names = "--tokens", defaultValue = "65536", paramLabel = "N", description = "tokens to evaluate (default: ${DEFAULT-VALUE}; at most the shards' total)")
    long tokens;

    @Option(names = "--batch", defaultValue = "1024", paramLabel = "N", description = "tokens per batch (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--backend", defaultValue = "auto", paramLabel = "KIND", description = "auto, cpu, reference, dense or cuda (default: ${DEFAULT-VALUE})")
    SaeBackend backend;

    @Option(names = "--threads", paramLabel = "N", description = "CPU worker threads (default: all cores)")
    Integer threads;

    @Option(names = "--no-gradients", description = "select latents without g, as at inference (β falls back to 0)")
    boolean noGradients;

    @Option(names = "--json", description = "print JSON instead of a table")
    boolean json;

    @Override
    public Integer call() {
        new OptionCheck(spec.commandLine()).atLeast("--tokens", tokens, 1).atLeast("--batch", batch, 2).threads("--threads", threads);
        PrintWriter out = spec.commandLine().getOut();
        Evaluation eval = Evaluation.load(RunFolder.checkpoint(checkpoint));
        PrintStream log = System.err;
        try (Engine chosen = Engine.open(backend, threads != null ? threads : Runtime.getRuntime().availableProcessors(), log, Errors.debug())) {
            Map<String, String> context = new LinkedHashMap<>();
            context.put("checkpoint", checkpoint.toString());
            context.put("sae", eval.describeSae());
            context.put("selection", noGradients ? "without gradients (inference)" : "with gradients");
            context.put("backend", chosen.opsName());
            Evaluation.Result r = data == null
                    ? eval.onTeacher(chosen, Evaluation.HELD_OUT_STREAM, tokens, batch, !noGradients, log, checkpoint.toString())
                    : eval.onShards(chosen, data, tokens, batch, !noGradients, log);
            context.put("data", r.data());
            out.print(json ? EvalFormat.json(r.report(), context) + System.lineSeparator() : EvalFormat.table(r.report(), context));
            out.flush();
            return 0;
        }
    }
}
