package gsae.cli;

import picocli.CommandLine.ParameterException;
import picocli.CommandLine;

import java.nio.file.Path;

/**
 * Checks of option values that run before a command does any work, each failing as a usage error
 * that names the option and its value: a run must not train for a minute and then blame a setting.
 */
final class OptionCheck {

    private final CommandLine cl;

    OptionCheck(CommandLine cl) {
        this.cl = cl;
    }

    /** {@code value ≥ min} (skipped when the option is absent, i.e. null). */
    OptionCheck atLeast(String option, Number value, long min) {
        if (value != null && value.longValue() < min) fail(option, value, "must be ≥ " + min);
        return this;
    }

    /** A finite number ≥ min (skipped when null). */
    OptionCheck finiteAtLeast(String option, Float value, float min) {
        if (value != null && !(Float.isFinite(value) && value >= min)) fail(option, value, "must be a finite number ≥ " + min);
        return this;
    }

    /** A finite number > 0 (skipped when null). */
    OptionCheck positive(String option, Float value) {
        if (value != null && !(Float.isFinite(value) && value > 0)) fail(option, value, "must be a finite number > 0");
        return this;
    }

    /** Worker threads: 1 up to this machine's cores (more only oversubscribes them, and is saved with the run). */
    OptionCheck threads(String option, Integer value) {
        int cores = Runtime.getRuntime().availableProcessors();
        if (value != null && (value < 1 || value > cores))
            fail(option, value, "must be between 1 and " + cores + " (the cores of this machine)");
        return this;
    }

    /** A folder path that names something: "" would silently mean the current folder. */
    OptionCheck folder(String option, Path value) {
        if (value != null && value.toString().isBlank()) fail(option, "''", "must name a folder (use . for the current one)");
        return this;
    }

    /** A rule across options, with the message to show when it fails. */
    OptionCheck rule(boolean holds, String message) {
        if (!holds) throw new ParameterException(cl, message);
        return this;
    }

    private void fail(String option, Object value, String why) {
        throw new ParameterException(cl, option + " " + value + ": " + why);
    }
}
