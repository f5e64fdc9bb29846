package gsae.cli;

import gsae.api.DataRun;
import gsae.api.Decay;
import gsae.api.Engine;
import gsae.api.Evaluation;
import gsae.api.SaeBackend;
import gsae.api.Workspace;
import gsae.train.EvalReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

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
    SaeBackend backend;

    @Option(names = "--threads", paramLabel = "T", description = "CPU worker threads (default: all cores).")
    Integer threads;

    @Option(names = "--quiet", description = "No live progress bar: a plain line every ~10%% of each run.")
    boolean quiet;

    @Override
    public Integer call() {
        new OptionCheck(spec.commandLine()).folder("--out", out).atLeast("--steps", steps, 1).finiteAtLeast("--beta", beta, 0f)
                .threads("--threads", threads);
        try (Workspace lock = Workspace.lock(out)) {
            return run();
        }
    }

    private int run() {
        int workers = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        Map<String, EvalReport> reports = new LinkedHashMap<>();
        String teacher;
        try (Engine b = Engine.open(backend, workers, System.err, Errors.debug())) {
            Evaluation topk = train(b, 0f, "topk", workers);
            Evaluation gsae = train(b, beta, "gsae", workers);
            teacher = topk.teacher();
            String name = "g-SAE (β=" + beta + ")";
            reports.put("TopK (β=0)", evaluate(b, topk, true));
            reports.put(name + ", g at eval", evaluate(b, gsae, true));
            reports.put(name + ", no g at eval", evaluate(b, gsae, false));
        }
        DemoTable table = new DemoTable(reports);
        spec.commandLine().getOut().print("\n" + teacher + ", " + EVAL_TOKENS + " held-out tokens\n" + table.render());
        Workspace.write(out.resolve("demo.json"), table.json().getBytes(StandardCharsets.UTF_8));
        Map<String, List<Map<String, Double>>> curves = new LinkedHashMap<>();
        curves.put("TopK (β=0)", DataRun.readMetrics(out.resolve("topk").resolve(DataRun.METRICS)));
        curves.put("g-SAE (β=" + beta + ")", DataRun.readMetrics(out.resolve("gsae").resolve(DataRun.METRICS)));
        Plots.compare(out.resolve(COMPARISON), "TopK vs g-SAE on the teacher · M=" + LATENTS + ", k=" + K + " · " + steps + " steps of "
                + BATCH + " tokens", curves);
        spec.commandLine().getOut().printf("wrote %s, %s, %s/*/curves.png%n", out.resolve("demo.json"), out.resolve(COMPARISON), out);
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** One run on the teacher's training stream; returns its final checkpoint, ready to evaluate. */
    private Evaluation train(Engine b, float beta, String name, int workers) {
        DataRun.Options o = new DataRun.Options(LATENTS, K, beta, steps, BATCH, null, null, Decay.LINEAR, seed, 0, workers, null, null, null, false);
        System.err.println("demo: training " + name + " (β=" + beta + ", M=" + LATENTS + ", k=" + K + ", " + steps + " steps)");
        try (DataRun run = DataRun.onTeacher(out.resolve(name), o).probeDownstream(Math.max(1, steps / 10), EVAL_SEED, PROBE_TOKENS, BATCH,
                Plots.DOWNSTREAM_NO_G)) {
            return WatchedRun.run(run, b, out.resolve(name), System.err, quiet).evaluation();
        }
    }

    /**
     * Held-out evaluation. {@code withGradients} false selects as at inference on activations alone
     * (β falls back to 0); g carries the label the spliced loss is scored against, so a g-SAE's
     * downstream numbers compare fairly with TopK's only without it (docs: the teacher).
     */
    private EvalReport evaluate(Engine b, Evaluation run, boolean withGradients) {
        return run.onTeacher(b, EVAL_SEED, EVAL_TOKENS, BATCH, withGradients, System.err, out.toString()).report();
    }
}
