package gsae.cli;

import gsae.api.Engine;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code gsae info}: what this machine offers gsae, and why a backend is not available. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Shows the Java runtime, vector width, cores and which backends are available.")
public final class InfoCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        Runtime rt = Runtime.getRuntime();
        o.printf("gsae      %s%n", Main.VERSION);
        o.printf("java      %s (%s, %s)%n", Runtime.version(), System.getProperty("java.vm.name"), System.getProperty("java.vm.vendor"));
        o.printf("os        %s %s%n", System.getProperty("os.name"), System.getProperty("os.arch"));
        o.printf("cores     %d%n", rt.availableProcessors());
        o.printf("heap      %.1f GiB max%n", rt.maxMemory() / (double) (1L << 30));
        o.printf("vector    %s%n", vectorShape());
        o.println("backends");
        o.println("  reference  available (scalar oracle)");
        o.println("  cpu        available (Vector API, fused, " + rt.availableProcessors() + " threads)");
        o.println("  dense      available (materialised [N, M] baseline)");
        String why = Engine.cudaUnavailableReason();
        o.println("  cuda       " + (why == null ? "available" : "unavailable: " + why));
        o.flush();
        return 0;
    }

    /** The preferred float species, or why the Vector API is missing (the JVM was started without its module). */
    static String vectorShape() {
        try {
            VectorSpecies<Float> s = FloatVector.SPECIES_PREFERRED;
            return s.vectorBitSize() + " bits = " + s.length() + " floats per vector (" + s + ")";
        } catch (LinkageError e) {
            return "unavailable: start java with --add-modules jdk.incubator.vector";
        }
    }
}
