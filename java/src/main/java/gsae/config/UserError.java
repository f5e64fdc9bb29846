package gsae.config;

/**
 * A failure the user can fix (an option, a file, a setting that does not suit the data), as
 * opposed to a bug: the command line shows its message as one line and exits with code 2, where any
 * other exception is reported as an internal error. The message says what to change.
 */
public class UserError extends RuntimeException {

    public UserError(String message) {
        super(message);
    }

    public UserError(String message, Throwable cause) {
        super(message, cause);
    }
}
