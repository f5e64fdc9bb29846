package gsae.cli;

import gsae.config.UserError;
import gsae.cuda.CheckCase;
import gsae.cuda.CheckResult;
import gsae.cuda.CudaBackend;
import gsae.cuda.Precision;
import gsae.cuda.SelfCheck;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code gsae selftest --backend cuda}: every CUDA stage and 20 training steps against the CPU
 * reference on seeded inputs, printed as a table. Exit 0 when all agree, 1 when any does not,
 * 2 (one line) when there is no usable GPU. {@code --device emulated} runs the same checks on the
 * emulated device (the kernels compiled for the host, see emulator/), on smaller shapes.
 */
@Command(name = "selftest", mixinStandardHelpOptions = true,
        description = "Compares every CUDA kernel and the full training step with the CPU reference on seeded inputs.")
public final class SelftestCommand implements Callable<Integer> {

    /** Exit code without a usable GPU: 2, gsae's code for a request this machine cannot serve. */
    static final int NO_GPU = 2;

    @Option(names = "--backend", defaultValue = "cuda", description = "The backend to check against the reference: cuda (default).")
    String backend;

    @Option(names = "--device", description = "CUDA device ordinal, or emulated for the emulated device (default: -Dgsae.cuda.device, else 0).")
    String device;

    @Option(names = "--steps", defaultValue = "20", description = "Training steps compared with the reference (default 20).")
    int steps;

    @Spec
    CommandSpec spec;

    /** The shapes checked: odd and power-of-two widths, M from k to thousands, one SAE-sized layer. */
    static List<CheckCase> cases() {
        List<CheckCase> cases = new ArrayList<>();
        long seed = 1;
        for (int d : new int[]{1, 7, 64, 77, 768})
            for (int m : new int[]{8, 300, 2000}) cases.add(CheckCase.of(33, d, m, 8, (seed & 1) == 0 ? 0f : 0.5f, seed++));
        cases.add(CheckCase.of(8, 768, 24_576, 32, 0.5f, seed));
        return cases;
    }

    /** The emulated device's shapes: the same widths and a partial 128-latent tile, small enough to emulate in seconds. */
    static List<CheckCase> emulatedCases() {
        List<CheckCase> cases = new ArrayList<>();
        long seed = 1;
        for (int d : new int[]{1, 7, 64, 77})
            for (int m : new int[]{8, 300}) cases.add(CheckCase.of(33, d, m, 8, (seed & 1) == 0 ? 0f : 0.5f, seed++));
        return cases;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        if (!"cuda".equals(backend))
            throw new UserError("--backend " + backend + ": selftest checks the CUDA backend against the reference; use --backend cuda");
        if (steps < 1) throw new UserError("--steps must be ≥ 1, got " + steps);
        String on = device != null ? device : CudaBackend.defaultDevice();
        boolean emulated = CudaBackend.EMULATED.equals(on);
        String why = CudaBackend.unavailableReason(on);
        if (why != null) {
            err.println("gsae selftest: CUDA backend unavailable: " + why);
            err.flush();
            return NO_GPU;
        }
        List<CheckResult> results = new ArrayList<>();
        out.println(CheckResult.header());
        for (Precision precision : Precision.values()) {
            try (CudaBackend gpu = CudaBackend.open(on, precision)) {
                if (precision == Precision.F32) out.println("device: " + gpu.device());
                String mode = precision.name().toLowerCase(java.util.Locale.ROOT);
                SelfCheck check = new SelfCheck(gpu.ops(), precision, mode);
                for (CheckCase c : emulated ? emulatedCases() : cases()) {
                    report(out, results, check.encodeSelect(c));
                    if (precision == Precision.F32) {
                        report(out, results, check.decode(c, true));
                        report(out, results, check.decode(c, false));
                        report(out, results, check.backward(c, 1f / 32));
                        report(out, results, check.update(c));
                    }
                }
                if (precision == Precision.F32) report(out, results, SelfCheck.training(gpu, CheckCase.of(64, 77, 300, 8, 0.5f, 7), steps, mode));
            }
        }
        long failed = results.stream().filter(r -> !r.ok()).count();
        out.println("selftest: " + (results.size() - failed) + " of " + results.size() + " checks agree with the reference");
        out.flush();
        return failed == 0 ? 0 : 1;
    }

    private static void report(PrintWriter out, List<CheckResult> results, CheckResult r) {
        results.add(r);
        out.println(r.row());
        out.flush();
    }
}
