package gsae.api;

import gsae.comm.Collectives;
import gsae.comm.Groups;
import gsae.comm.SingleProcess;

/**
 * The processes (ranks) one training run is spread over, for {@link Parallel} modes other than
 * NONE. Every rank of a multi-process run builds the same run with its own group and calls the
 * same methods in the same order. gsae opens a group only when asked ({@link #fromEnvironment});
 * a trainer that already has one passes it in ({@link #of}). Close it after the run.
 */
public final class Group implements AutoCloseable {

    private final Collectives collectives;

    private Group(Collectives collectives) {
        this.collectives = collectives;
    }

    /**
     * The group the launcher started this process in ({@code mpirun -np P …}: the P ranks), or a
     * group of one when no launcher did. A launch this build cannot join is a {@code UserError}.
     */
    public static Group fromEnvironment() {
        return new Group(Groups.fromEnvironment());
    }

    /** One process alone. */
    public static Group single() {
        return new Group(new SingleProcess());
    }

    /** A group over collectives the caller opened (and closes through this group). */
    public static Group of(Collectives collectives) {
        if (collectives == null) throw new IllegalArgumentException("collectives is null");
        return new Group(collectives);
    }

    /** This process's rank, 0 ≤ rank &lt; size; rank 0 writes a data-parallel run's files. */
    public int rank() {
        return collectives.rank();
    }

    /** The number of ranks. */
    public int size() {
        return collectives.size();
    }

    Collectives collectives() {
        return collectives;
    }

    /**
     * Releases the group's buffers; call it once, after the run. MPI itself stays up until the
     * process ends ({@link Launch#end}: finalised after success, the job aborted after a failure),
     * so that a rank failing mid-run never waits in MPI_Finalize for ranks that wait for it.
     */
    @Override
    public void close() {
        collectives.close();
    }
}
