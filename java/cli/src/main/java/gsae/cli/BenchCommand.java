package gsae.cli;

import gsae.api.SaeBackend;
import gsae.api.StepBench;
import gsae.config.UserError;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.concurrent.Callable;

/** {@code gsae bench}: training-step throughput on random data, after warm-up steps. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Times training steps on random data and prints tokens/s and the step time (median of the timed steps).")
public final class BenchCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--d", defaultValue = "768", description = "Input width (default: ${DEFAULT-VALUE}).")
    int d;

    @Option(names = "--latents", paramLabel = "M", defaultValue = "16384", description = "Latents (default: ${DEFAULT-VALUE}).")
    int latents;

    @Option(names = "--k", defaultValue = "32", description = "Latents kept per token (default: ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "4096", description = "Tokens per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--beta", paramLabel = "B", defaultValue = "0.5", description = "Gradient weight β (default: ${DEFAULT-VALUE}).")
    float beta;

    @Option(names = "--backend", paramLabel = "KIND", defaultValue = "cpu", description = "auto, cpu, reference, dense or cuda (default: ${DEFAULT-VALUE}).")
    SaeBackend backend;

    @Option(names = "--dense", description = "The dense CPU baseline (same as --backend dense).")
    boolean dense;

    @Option(names = "--no-prune", description = "With --backend cpu and beta > 0: compute the full gradient projection instead of pruning it exactly (issue #14), to measure the gain.")
    boolean noPrune;

    @Option(names = "--steps", defaultValue = "20", description = "Timed steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--warmup-steps", defaultValue = "3", description = "Untimed steps first, for the JIT and caches (default: ${DEFAULT-VALUE}).")
    int warmupSteps;

    @Option(names = "--threads", paramLabel = "T", description = "CPU worker threads (default: all cores).")
    Integer threads;

    @Option(names = "--seed", defaultValue = "1", description = "Seeds the random data and parameters (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        if (steps < 1) throw new UserError("--steps must be ≥ 1, got " + steps);
        if (warmupSteps < 0) throw new UserError("--warmup-steps must be ≥ 0, got " + warmupSteps);
        if (noPrune && (dense || backend != SaeBackend.CPU)) throw new UserError("--no-prune needs --backend cpu (the fused CPU path), got --backend " + backend + (dense ? " --dense" : ""));
        StepBench.Shape shape = new StepBench.Shape(d, latents, k, beta, batch);
        Main.needs(shape.heapBytes());
        int workers = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        double[] seconds = new double[steps];
        String name;
        MemoryUse before, after;
        StepBench.Pruning pruned;
        try (StepBench bench = StepBench.open(shape, dense ? backend.dense() : backend, noPrune, workers, seed, System.err)) {
            for (int i = 0; i < warmupSteps; i++) bench.step();
            before = MemoryUse.now();
            for (int i = 0; i < steps; i++) seconds[i] = bench.step();
            name = bench.backendName();
            after = MemoryUse.now();
            pruned = bench.pruning();
        }
        report(spec.commandLine().getOut(), name, workers, seconds);
        if (pruned != null) spec.commandLine().getOut().printf("pruning: %.2f%% of (token, latent) pairs survive, %.2f%% of the gradient projection's work, %d of %d tokens scored densely%n",
                100 * pruned.survivorFraction(), 100 * pruned.workFraction(), pruned.denseRows(), pruned.rows()).flush();
        reportMemory(spec.commandLine().getOut(), before, after);
        return 0;
    }

    private void report(PrintWriter o, String name, int workers, double[] seconds) {
        double total = Arrays.stream(seconds).sum();
        double[] sorted = seconds.clone();
        Arrays.sort(sorted);
        double median = sorted[sorted.length / 2];
        o.printf("bench %s (%d threads): d=%d M=%d k=%d N=%d beta=%s, %d warm-up + %d timed steps%n",
                name, workers, d, latents, k, batch, beta, warmupSteps, steps);
        o.printf("step %.3f ms median, %.3f ms mean%n", median * 1e3, total / steps * 1e3);
        o.printf("tokens/s %.0f%n", (double) batch * steps / total);
        o.flush();
    }

    /**
     * Heap held between steps (after the warm-up, so scratch space is in), split into the training
     * state a host backend keeps (parameters, two Adam moments, gradients: 4 × (2Md + M + d) floats)
     * and the batch (2Nd floats), the rest being the backend's scratch and the JVM's own; then what
     * one step allocates and the off-heap memory in use.
     */
    private void reportMemory(PrintWriter o, MemoryUse before, MemoryUse after) {
        long state = 4L * 4 * (2L * latents * d + latents + d), data = 2L * 4 * batch * d;
        o.printf("memory: heap live %s (training state %s, batch %s, other %s), allocated per step %s, off-heap %s%n",
                MemoryUse.mib(after.liveHeap()), MemoryUse.mib(state), MemoryUse.mib(data),
                MemoryUse.mib(after.liveHeap() - state - data), MemoryUse.mib((after.allocated() - before.allocated()) / steps),
                MemoryUse.mib(after.offHeap()));
        o.flush();
    }
}
