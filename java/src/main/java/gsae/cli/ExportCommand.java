package gsae.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** PLACEHOLDER (being written): replaced before landing. */
@Command(name = "export", mixinStandardHelpOptions = true, description = "(not yet built)")
public final class ExportCommand implements Callable<Integer> {
    @Override public Integer call() { System.err.println("gsae export: not yet built"); return 2; }
}
