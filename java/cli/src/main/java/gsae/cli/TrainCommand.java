package gsae.cli;

import gsae.config.BackendKind;
import gsae.config.LrDecay;
import gsae.config.SaeConfig;
import gsae.config.Sizes;
import gsae.config.TrainConfig;
import gsae.config.UserError;
import gsae.data.BatchSource;
import gsae.data.ShardDataset;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.io.Manifest;
import gsae.io.RunLock;
import gsae.ops.Backend;
import gsae.train.Backends;
import gsae.train.Initializer;
import gsae.train.MemoryNeed;
import gsae.train.TrainDefaults;
import gsae.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

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
    BackendKind backend;

    @Option(names = "--lr", paramLabel = "LR", description = "Peak learning rate (default: SPEC's 2e-4 / sqrt(M / 2^14)).")
    Float lr;

    @Option(names = "--warmup", paramLabel = "STEPS", description = "Linear warm-up steps (default: min(1000, steps / 10)).")
    Integer warmup;

    @Option(names = "--decay", paramLabel = "KIND", defaultValue = "none", description = "Decay after warm-up: none or linear (default: ${DEFAULT-VALUE}).")
    LrDecay decay;

    @Option(names = "--seed", defaultValue = "1", description = "Seeds initialisation, data order and the teacher (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--checkpoint-every", paramLabel = "STEPS", defaultValue = "1000", description = "Steps between checkpoints; 0 = only at the end (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = "--threads", paramLabel = "T", description = "CPU worker threads (default: all cores).")
    Integer threads;

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
        try (RunLock lock = RunLock.acquire(out)) {
            return train();
        }
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
                .atLeast("--checkpoint-every", checkpointEvery, 0).threads("--threads", threads)
                .atLeast("--aux-k", auxK, 0).finiteAtLeast("--aux-alpha", auxAlpha, 0f).atLeast("--dead-tokens", deadTokens, 1)
                .rule(!(resume && force), "--resume continues the checkpoint and --force replaces it: give one of them");
    }

    private int train() {
        Checkpoint start = resume ? ResumeCheck.load(out.resolve(Trainer.CHECKPOINT), spec.commandLine().getParseResult(), this) : null;
        if (!resume) refuseToReplace();
        DataRecord data = dataRecord(start);
        if (resume) ResumeCheck.sameData(start, data);
        if (data.source() != null) System.err.println("data: shards from " + data.source().describe());
        long runSeed = resume ? start.train().seed() : seed;
        int workers = resume ? start.train().threads() : threads != null ? threads : Runtime.getRuntime().availableProcessors();
        try (BatchSource source = this.data == null ? main.sources().teacher(runSeed) : main.sources().shards(this.data, runSeed, skipNonfinite);
             Backend chosen = Backends.choose(backend, workers, System.err, Errors.debug())) {
            if (resume) Main.needs(MemoryNeed.trainingBytes(start.sae(), start.train().batch()));
            else start = freshStart(source, workers, data);
            Trainer.Result r = WatchedRun.run(new Trainer(chosen, source, out), start, out, System.err, quiet);
            report(spec.commandLine().getOut(), r, chosen, source);
        }
        return 0;
    }

    /** A fresh run would delete the checkpoints in DIR on its first save: only with --force. */
    private void refuseToReplace() {
        List<Path> there = Checkpoint.existing(out.resolve(Trainer.CHECKPOINT));
        if (!there.isEmpty() && !force)
            throw new UserError("--out " + out + " already holds a checkpoint (" + there.stream().map(p -> p.getFileName().toString())
                    .collect(Collectors.joining(" and ")) + "): add --resume to continue it, --force to replace it, or choose another folder");
    }

    private Checkpoint freshStart(BatchSource source, int workers, DataRecord data) {
        if (latents == null || k == null) throw new UserError("a fresh run needs --latents and --k");
        int d = source.d();
        Sizes.hostArray("--latents", "latents", latents, d);
        Sizes.hostArray("--batch", "tokens per batch", batch, d);
        SaeConfig sae = OptionCheck.settings(() -> new SaeConfig(d, latents, k, beta, auxK != null ? auxK : Math.max(1, d / 2), auxAlpha,
                deadTokens != null ? deadTokens : TrainDefaults.deadTokens(steps, batch)));
        TrainConfig train = OptionCheck.settings(() -> new TrainConfig(steps, batch, lr != null ? lr : Float.NaN,
                warmup != null ? warmup : TrainDefaults.warmupSteps(steps), decay, seed, checkpointEvery, workers, scaleActs, TrainDefaults.SCALE_TOKENS));
        Main.needs(MemoryNeed.trainingBytes(sae, batch));
        return Initializer.fresh(sae, train, source, data);
    }

    /**
     * The teacher, or the shards as given with their fingerprints and the model and hook their
     * manifest names (on resume without a manifest now, the checkpoint's record of it).
     */
    private DataRecord dataRecord(Checkpoint resumed) {
        if (data == null) return DataRecord.teacher();
        String description = "shards: " + data.stream().map(p -> p.toAbsolutePath().normalize().toString()).collect(Collectors.joining(", "));
        if (resumed != null && resumed.data().isTeacher()) return DataRecord.described(description);
        Manifest source = manifest();
        if (source == null && resumed != null) source = resumed.data().source();
        return new DataRecord(description, ShardDataset.fingerprints(data), source);
    }

    /** The one manifest the data folders agree on, or null when they have none; shards from different hooks are refused. */
    private Manifest manifest() {
        Set<Manifest> found = new LinkedHashSet<>();
        for (Path p : data) {
            Manifest m = Manifest.near(p);
            if (m != null) found.add(m);
        }
        if (found.size() > 1)
            throw new UserError("--data mixes shards harvested differently: " + found.stream().map(Manifest::describe)
                    .collect(Collectors.joining("; ")) + " (train one SAE per model and hook)");
        return found.isEmpty() ? null : found.iterator().next();
    }

    private void report(PrintWriter o, Trainer.Result r, Backend chosen, BatchSource source) {
        Checkpoint c = r.last();
        o.printf("trained %s on %s%s (backend %s): step %d/%d in %.1f s%n", c.sae().beta() > 0 ? "g-SAE" : "TopK SAE", source.describe(),
                c.data().source() != null ? " from " + c.data().source().describe() : "", chosen.name(), c.step(), c.train().steps(), r.seconds());
        if (r.metrics() != null)
            o.printf("final batch: fvu %.4f  l0 %.1f  dead %.1f%%%n", r.metrics().fvu(), r.metrics().l0(), 100 * r.metrics().deadFraction());
        if (source.skippedRows() > 0) o.printf("skipped %d non-finite rows%n", source.skippedRows());
        o.printf("wrote %s, %s, %s%n", out.resolve(Trainer.CHECKPOINT), out.resolve(Trainer.METRICS), out.resolve(WatchedRun.CURVES));
        o.flush();
    }
}
