package gsae.comm;

import gsae.config.UserError;

import java.util.Map;

/**
 * Opens the group this process belongs to, as its launcher describes it in the environment, and
 * ends it. An MPI job's group is opened once per process (MPI can be initialised only once) and
 * every later {@link #fromEnvironment} returns the same one; {@link #finish} and {@link #abort} are
 * for the command line, as the process ends.
 */
public final class Groups {

    private Groups() {}

    private static MpiGroup world;

    /**
     * The number of ranks the launcher started, read from the variables Open MPI ({@code
     * OMPI_COMM_WORLD_SIZE}) and MPICH/Hydra ({@code PMI_SIZE}) set; 1 when none is set.
     */
    public static int launchedSize(Map<String, String> env) {
        return number(env, "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", 1, "a number of ranks");
    }

    /** This process's rank as the launcher set it ({@code OMPI_COMM_WORLD_RANK}, {@code PMI_RANK}); 0 when none is set. */
    public static int launchedRank(Map<String, String> env) {
        return number(env, "OMPI_COMM_WORLD_RANK", "PMI_RANK", 0, "a rank");
    }

    /**
     * This rank's index among the ranks on its own machine (Open MPI's {@code
     * OMPI_COMM_WORLD_LOCAL_RANK}, MPICH/Hydra's {@code MPI_LOCALRANKID}); 0 when not launched so.
     * One process per GPU takes the GPU of this index.
     */
    public static int localRank(Map<String, String> env) {
        return number(env, "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", 0, "a local rank");
    }

    private static int number(Map<String, String> env, String openMpi, String mpich, int otherwise, String what) {
        for (String key : new String[] {openMpi, mpich}) {
            String v = env.get(key);
            if (v != null && !v.isBlank()) {
                try {
                    return Integer.parseInt(v.trim());
                } catch (NumberFormatException e) {
                    throw new UserError(key + "=" + v + " is not " + what);
                }
            }
        }
        return otherwise;
    }

    /**
     * The group of this process: {@link SingleProcess} when no launcher started it (or started
     * one rank), else the MPI group of all ranks ({@link MpiGroup}, the library chosen from the
     * launcher's environment), opened by the first call.
     */
    public static Collectives fromEnvironment() {
        int size = launchedSize(System.getenv());
        if (size <= 1) return new SingleProcess();
        synchronized (Groups.class) {
            if (world == null) world = MpiGroup.open(MpiLibrary.load(System.getenv()), Integer.MAX_VALUE);
            if (world.size() != size)
                throw new UserError("the launcher started " + size + " ranks but MPI (" + world.describe() + ") sees " + world.size()
                        + ": is GSAE_MPI_LIBRARY (or the first libmpi found) the MPI that mpirun belongs to?");
            return world;
        }
    }

    /** Ends MPI on this rank after a normal run (every rank calls it); nothing when no MPI group was opened. */
    public static synchronized void finish() {
        if (world != null) world.finish();
    }

    /**
     * Ends the whole job with {@code code} (MPI_Abort) when an MPI group was opened; returns when
     * none was (the launcher ends the job when this process exits non-zero).
     */
    public static synchronized void abort(int code) {
        if (world != null) world.abort(code);
    }
}
