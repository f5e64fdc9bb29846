package gsae.api;

import gsae.comm.Groups;

/**
 * How this process was launched, alone or as one rank of a multi-process job ({@code mpirun -np P
 * gsae …}), and how its part of the job ends. For the command line, which owns the process: the
 * library itself never ends a job.
 */
public final class Launch {

    private Launch() {}

    /** "rank 1 of 2: " when this process is one of several ranks, else "": what starts its error line. */
    public static String errorPrefix() {
        int size = Groups.launchedSize(System.getenv());
        return size > 1 ? "rank " + Groups.launchedRank(System.getenv()) + " of " + size + ": " : "";
    }

    /**
     * The CUDA device this process uses when none is named: its rank among the ranks on its machine
     * under mpirun (so one process per GPU takes GPUs 0, 1, … in order), else 0.
     */
    public static int defaultDevice() {
        return Groups.localRank(System.getenv());
    }

    /**
     * Ends this process's part of the job and returns {@code exitCode}: after success (0), MPI is
     * finalised if a run opened it (every rank does so); after a failure, the whole job is ended
     * with {@code exitCode} (MPI_Abort), so that no rank waits forever for this one. Without MPI
     * this does nothing: the launcher ends a job whose process exits non-zero.
     */
    public static int end(int exitCode) {
        if (exitCode == 0) Groups.finish();
        else Groups.abort(exitCode);
        return exitCode;
    }
}
