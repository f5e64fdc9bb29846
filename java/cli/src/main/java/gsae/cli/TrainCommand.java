package gsae.cli;

import gsae.api.DataRun;
import gsae.api.Decay;
import gsae.api.Engine;
import gsae.api.Group;
import gsae.api.Launch;
import gsae.api.Parallel;
import gsae.api.SaeBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code gsae train}: a fresh run from options, or {@code --resume} from the output folder's checkpoint. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains a g-SAE (β > 0) or a TopK SAE (β = 0) on shards, or on the embedded teacher without --data.",
                "Writes DIR/checkpoint/ (model.safetensors, state.safetensors, checkpoint.json), DIR/metrics.jsonl and DIR/curves.png."})
public final class TrainCommand implements Callable<Integer> {

    @ParentCommand
    private Main main;

    @Spec
    private CommandSpec spec;

    @Option(names = "--data", arity = "1..*", paramLabel = "PATH", description = "Shard files or folders (.npy pairs, .safetensors); default: the embedded teacher.")
    List<Path> data;

    @Option(names = "--latents", paramLabel = "M", description = "Number of latents (required for a fresh run).")
    Integer latents;

    @Option(names = "--k", paramLabel = "K", description = "Latents kept per token (required for a fresh run).")
    Integer k;

    @Option(names = "--beta", paramLabel = "B", defaultValue = "0", description = "Gradient weight β in score = z∘(1 + β·|g·W_decᵀ|); 0 = plain TopK (default: ${DEFAULT-VALUE}).")
    float beta;

    @Option(names = "--steps", paramLabel = "S", defaultValue = "10000", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "4096", description = "Tokens per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output folder.")
    Path out;

    @Option(names = "--resume", description = "Continue the run whose checkpoint is in DIR, exactly as if it had never stopped.")
    boolean resume;

    @Option(names = "--backend", paramLabel = "KIND", defaultValue = "auto", description = "auto, cpu, reference, dense or cuda (default: ${DEFAULT-VALUE}).")
    SaeBackend backend;

    @Option(names = "--parallel", paramLabel = "MODE", defaultValue = "none",
            description = "none, data or latents: how the ranks of mpirun -np P share the run (default: ${DEFAULT-VALUE}); see README, Multi-process training.")
    Parallel parallel;

    @Option(names = "--lr", paramLabel = "LR", description = "Peak learning rate (default: SPEC's 2e-4 / sqrt(M / 2^14)).")
    Float lr;

    @Option(names = "--warmup", paramLabel = "STEPS", description = "Linear warm-up steps (default: min(1000, steps / 10)).")
    Integer warmup;

    @Option(names = "--decay", paramLabel = "KIND", defaultValue = "none", description = "Decay after warm-up: none or linear (default: ${DEFAULT-VALUE}).")
    Decay decay;

    @Option(names = "--seed", defaultValue = "1", description = "Seeds initialisation, data order and the teacher (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--checkpoint-every", paramLabel = "STEPS", defaultValue = "1000", description = "Steps between checkpoints; 0 = only at the end (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = "--threads", paramLabel = "T", description = "CPU worker threads (default: all cores).")
    Integer threads;

    @Option(names = "--device", paramLabel = "I", description = "CUDA device index (default: the rank's index on its machine under mpirun, else 0).")
    Integer device;

    @Option(names = "--aux-k", paramLabel = "KA", description = "Dead latents AuxK may use per token (default: d / 2).")
    Integer auxK;

    @Option(names = "--aux-alpha", paramLabel = "A", defaultValue = "0.03125", description = "Weight of AuxK in the loss (default: 1/32).")
    float auxAlpha;

    @Option(names = "--dead-tokens", paramLabel = "TOKENS", description = "A latent unselected this long is dead (default: min(10M, max(N, steps·N / 10))).")
    Long deadTokens;

    @Option(names = "--scale-acts", description = "Also scale activations so that the mean ‖x‖ is √d (SPEC §6).")
    boolean scaleActs;

    @Option(names = "--skip-nonfinite", description = "Drop shard rows holding NaN or Inf instead of failing.")
    boolean skipNonfinite;

    @Option(names = "--quiet", description = "No live progress bar: a plain line every ~10%% of the run.")
    boolean quiet;

    @Option(names = "--force", description = "Start a fresh run in DIR even though it holds a checkpoint (or checkpoint.old), replacing it.")
    boolean force;

    @Override
    public Integer call() {
        validate();
        try (Group group = Group.fromEnvironment()) {
            boolean lead = group.rank() == 0; // the other ranks train silently: one progress display, one report
            PrintStream log = lead ? System.err : new PrintStream(OutputStream.nullOutputStream());
            try (DataRun run = DataRun.open(out, options(), resume, force, data, skipNonfinite, main.sources(), log, parallel, group);
                 Engine chosen = Engine.open(backend, device != null ? device : Launch.defaultDevice(), run.threads(), log, Errors.debug())) {
                if (!lead) {
                    run.train(chosen, Main::needs, new DataRun.Listener() {});
                    return 0;
                }
                DataRun.Outcome r = WatchedRun.run(run, chosen, out, System.err, quiet);
                report(spec.commandLine().getOut(), r, chosen);
            }
        }
        return 0;
    }

    /** Every option checked before any work: a bad value fails at once, naming itself. */
    private void validate() {
        new OptionCheck(spec.commandLine())
                .folder("--out", out)
                .atLeast("--latents", latents, 1).atLeast("--k", k, 1)
                .rule(latents == null || k == null || k <= latents, "--k " + k + " must be ≤ --latents " + latents)
                .finiteAtLeast("--beta", beta, 0f)
                .atLeast("--steps", steps, 1).atLeast("--batch", batch, 2)
                .positive("--lr", lr).atLeast("--warmup", warmup, 0)
                .atLeast("--checkpoint-every", checkpointEvery, 0).threads("--threads", threads).atLeast("--device", device, 0)
                .atLeast("--aux-k", auxK, 0).finiteAtLeast("--aux-alpha", auxAlpha, 0f).atLeast("--dead-tokens", deadTokens, 1)
                .rule(!(resume && force), "--resume continues the checkpoint and --force replaces it: give one of them");
    }

    /** The options as given; on --resume those not given are null, so that the checkpoint's values stand. */
    private DataRun.Options options() {
        ParseResult given = spec.commandLine().getParseResult();
        return new DataRun.Options(latents, k, given(given, "--beta", beta), given(given, "--steps", steps), given(given, "--batch", batch), lr, warmup,
                given(given, "--decay", decay), given(given, "--seed", seed), given(given, "--checkpoint-every", checkpointEvery), threads, auxK,
                given(given, "--aux-alpha", auxAlpha), deadTokens, given(given, "--scale-acts", scaleActs));
    }

    private <T> T given(ParseResult given, String option, T value) {
        return resume && !given.hasMatchedOption(option) ? null : value;
    }

    private void report(PrintWriter o, DataRun.Outcome r, Engine chosen) {
        o.printf("trained %s on %s%s (backend %s): step %d/%d in %.1f s%n", r.gradientAware() ? "g-SAE" : "TopK SAE", r.data(),
                r.source() != null ? " from " + r.source() : "", chosen.name(), r.step(), r.steps(), r.seconds());
        if (r.last() != null)
            o.printf("final batch: fvu %.4f  l0 %.1f  dead %.1f%%%n", r.last().fvu(), r.last().l0(), 100 * r.last().deadFraction());
        if (r.skippedRows() > 0) o.printf("skipped %d non-finite rows%n", r.skippedRows());
        o.printf("wrote %s, %s, %s%n", out.resolve(DataRun.CHECKPOINT), out.resolve(DataRun.METRICS), out.resolve(WatchedRun.CURVES));
        o.flush();
    }
}
