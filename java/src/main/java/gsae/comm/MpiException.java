package gsae.comm;

/** An MPI call returned an error: its name and MPI's text for the code. */
public final class MpiException extends RuntimeException {

    public MpiException(String message) {
        super(message);
    }
}
