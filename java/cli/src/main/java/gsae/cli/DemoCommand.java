package gsae.cli;

import gsae.config.BackendKind;
import gsae.config.LrDecay;
import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.data.BatchSource;
import gsae.data.Teacher;
import gsae.io.AtomicFiles;
import gsae.io.Checkpoint;
import gsae.io.DataRecord;
import gsae.io.RunLock;
import gsae.ops.Backend;
import gsae.train.Backends;
import gsae.train.EvalReport;
import gsae.train.Evaluator;
import gsae.train.Initializer;
import gsae.train.MetricsLog;
import gsae.train.TrainDefaults;
import gsae.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code gsae demo}: the paper's comparison in miniature. A TopK SAE (β = 0) and a g-SAE (β > 0)
 * with the same k train on the standard teacher, and both are evaluated on the same held-out
 * tokens: reconstruction, downstream loss, and recovery of the teacher's feature families.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Trains a TopK SAE and a g-SAE on the embedded teacher and prints them side by side.")
public final class DemoCommand implements Callable<Integer> {

    /**
     * β of the demo's g-SAE (the TopK run uses 0). Of β ∈ {1, 2, 4, 8} on the standard teacher, 4 gave
     * the lowest FVU and KL when evaluated without gradients (bench/results/demo-2026-11-26.md).
     */
    static final float G_SAE_BETA = 4.0f;
    /** Latents of both runs. */
    static final int LATENTS = 1024;
    /** Latents kept per token in both runs. */
    static final int K = 16;
    /** Tokens per step. */
    static final int BATCH = 1024;
    /** Held-out teacher tokens for the final evaluation. */
    static final long EVAL_TOKENS = 65_536;
    /** Held-out tokens of each periodic downstream evaluation during training. */
    static final long PROBE_TOKENS = 8_192;
    /** The figure overlaying both runs' curves. */
    static final String COMPARISON = "comparison.png";
    /** Stream seed of the held-out tokens, distinct from every training stream. */
    static final long EVAL_SEED = 0x5EED_E7A1L;

    /** The periodic probes select without gradients on purpose; the fallback line is said once, at the end. */
    private static final PrintStream SILENT = new PrintStream(OutputStream.nullOutputStream());

    @Spec
    private CommandSpec spec;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output folder: one subfolder per run and demo.json.")
    Path out;

    @Option(names = "--steps", defaultValue = "3000", description = "Steps per run (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--beta", paramLabel = "B", description = "β of the g-SAE run (default: " + G_SAE_BETA + ").")
    float beta = G_SAE_BETA;

    @Option(names = "--seed", defaultValue = "1", description = "Seeds the teacher and both runs (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--backend", paramLabel = "KIND", defaultValue = "auto", description = "auto, cpu, reference, dense or cuda (default: ${DEFAULT-VALUE}).")
    BackendKind backend;

    @Option(names = "--threads", paramLabel = "T", description = "CPU worker threads (default: all cores).")
    Integer threads;

    @Option(names = "--quiet", description = "No live progress bar: a plain line every ~10%% of each run.")
    boolean quiet;

    @Override
    public Integer call() {
        new OptionCheck(spec.commandLine()).folder("--out", out).atLeast("--steps", steps, 1).finiteAtLeast("--beta", beta, 0f)
                .threads("--threads", threads);
        try (RunLock lock = RunLock.acquire(out)) {
            return run();
        }
    }

    private int run() {
        int workers = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        Teacher teacher = Teacher.standard(seed);
        Map<String, EvalReport> reports = new LinkedHashMap<>();
        try (Backend b = Backends.choose(backend, workers, System.err, Errors.debug())) {
            Checkpoint topk = train(b, teacher, 0f, "topk", workers);
            Checkpoint gsae = train(b, teacher, beta, "gsae", workers);
            String name = "g-SAE (β=" + beta + ")";
            reports.put("TopK (β=0)", evaluate(b, teacher, topk, true));
            reports.put(name + ", g at eval", evaluate(b, teacher, gsae, true));
            reports.put(name + ", no g at eval", evaluate(b, teacher, gsae, false));
        }
        DemoTable table = new DemoTable(reports);
        spec.commandLine().getOut().print("\n" + teacher.describe() + ", " + EVAL_TOKENS + " held-out tokens\n" + table.render());
        byte[] json = table.json().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(out.resolve("demo.json"), ch -> {
            ByteBuffer buf = ByteBuffer.wrap(json);
            while (buf.hasRemaining()) ch.write(buf);
        });
        Map<String, List<Map<String, Double>>> curves = new LinkedHashMap<>();
        curves.put("TopK (β=0)", MetricsLog.read(out.resolve("topk").resolve(Trainer.METRICS)));
        curves.put("g-SAE (β=" + beta + ")", MetricsLog.read(out.resolve("gsae").resolve(Trainer.METRICS)));
        Plots.compare(out.resolve(COMPARISON), "TopK vs g-SAE on the teacher · M=" + LATENTS + ", k=" + K + " · " + steps + " steps of "
                + BATCH + " tokens", curves);
        spec.commandLine().getOut().printf("wrote %s, %s, %s/*/curves.png%n", out.resolve("demo.json"), out.resolve(COMPARISON), out);
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** One run on the teacher's training stream; returns its final checkpoint. */
    private Checkpoint train(Backend b, Teacher teacher, float beta, String name, int workers) {
        SaeConfig sae = new SaeConfig(teacher.d(), LATENTS, K, beta, Math.max(1, teacher.d() / 2), SaeConfig.DEFAULT_AUX_ALPHA,
                TrainDefaults.deadTokens(steps, BATCH));
        TrainConfig train = new TrainConfig(steps, BATCH, Float.NaN, TrainDefaults.warmupSteps(steps), LrDecay.LINEAR, seed, 0, workers,
                false, TrainDefaults.SCALE_TOKENS);
        System.err.println("demo: training " + name + " (β=" + beta + ", M=" + LATENTS + ", k=" + K + ", " + steps + " steps)");
        try (BatchSource source = teacher.source(seed)) {
            Trainer trainer = new Trainer(b, source, out.resolve(name))
                    .evaluateEvery(Math.max(1, steps / 10), (step, p, scales) -> Map.of(Plots.DOWNSTREAM_NO_G,
                            Evaluator.onTeacher(b.ops(), sae, p, scales, teacher, EVAL_SEED, PROBE_TOKENS, BATCH, false, SILENT)
                                    .downstream().lossIncrease()));
            return WatchedRun.run(trainer, Initializer.fresh(sae, train, source, DataRecord.teacher()), out.resolve(name), System.err, quiet).last();
        }
    }

    /**
     * Held-out evaluation. {@code withGradients} false selects as at inference on activations alone
     * (β falls back to 0); g carries the label the spliced loss is scored against, so a g-SAE's
     * downstream numbers compare fairly with TopK's only without it (docs: the teacher).
     */
    private static EvalReport evaluate(Backend b, Teacher teacher, Checkpoint run, boolean withGradients) {
        return Evaluator.onTeacher(b.ops(), run.sae(), run.state().params(), run.scales(), teacher, EVAL_SEED, EVAL_TOKENS, BATCH,
                withGradients, System.err);
    }
}
