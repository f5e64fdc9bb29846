package gsae.io;

import gsae.config.UserError;

import java.nio.file.Path;

/** Bad input a user can fix: the message names the file and what is wrong, in one line. */
public final class DataException extends UserError {

    public DataException(Path file, String what) {
        super(file + ": " + what);
    }

    public DataException(Path file, String what, Throwable cause) {
        super(file + ": " + what, cause);
    }
}
