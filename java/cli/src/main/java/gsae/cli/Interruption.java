package gsae.cli;

import gsae.api.DataRun;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Tells the user, when the JVM is stopped mid-run (Ctrl-C, SIGTERM), which step the checkpoint on
 * disk holds and how to continue. Nothing else is needed: checkpoints are atomic and metrics are
 * flushed per line, so a stop loses only the steps since the last checkpoint.
 */
final class Interruption implements AutoCloseable {

    private final Thread hook;
    private volatile long savedStep;

    private Interruption(PrintStream log, Path out, long savedStep) {
        this.savedStep = savedStep;
        this.hook = new Thread(() -> log.println(this.savedStep == 0
                ? "\ninterrupted before the first checkpoint: nothing to resume"
                : "\ninterrupted: " + out.resolve(DataRun.CHECKPOINT) + " holds step " + this.savedStep
                  + "; continue with: gsae train --out " + out + " --resume"));
    }

    /** Installs the message for a run whose checkpoint on disk is at {@code savedStep}. */
    static Interruption watch(PrintStream log, Path out, long savedStep) {
        Interruption i = new Interruption(log, out, savedStep);
        Runtime.getRuntime().addShutdownHook(i.hook);
        return i;
    }

    void saved(long step) {
        savedStep = step;
    }

    /** The run ended on its own (finished or failed with its own message): no interruption to report. */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is already stopping and the hook is saying its line
        }
    }
}
