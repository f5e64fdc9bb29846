package gsae.cli;

/** Whether stderr is a terminal a live progress bar may redraw. */
final class Terminal {

    /** Set by the {@code gsae} launcher, which pipes stderr through a filter and so hides the answer from the JVM. */
    static final String ENV = "GSAE_STDERR_TTY";

    private Terminal() {}

    /** The launcher's word when it gave one, else whether the JVM has an interactive console. */
    static boolean isInteractive() {
        String told = System.getenv(ENV);
        if (told != null) return told.equals("1");
        return System.console() != null && System.console().isTerminal();
    }
}
