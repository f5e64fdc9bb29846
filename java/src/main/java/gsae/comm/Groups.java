package gsae.comm;

import gsae.config.UserError;

import java.util.Map;

/** Opens the group this process belongs to, as its launcher describes it in the environment. */
public final class Groups {

    private Groups() {}

    /**
     * The number of ranks the launcher started, read from the variables Open MPI ({@code
     * OMPI_COMM_WORLD_SIZE}) and MPICH/Hydra ({@code PMI_SIZE}) set; 1 when none is set.
     */
    public static int launchedSize(Map<String, String> env) {
        for (String key : new String[] {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
            String v = env.get(key);
            if (v != null && !v.isBlank()) {
                try {
                    return Integer.parseInt(v.trim());
                } catch (NumberFormatException e) {
                    throw new UserError(key + "=" + v + " is not a number of ranks");
                }
            }
        }
        return 1;
    }

    /**
     * The group of this process: {@link SingleProcess} when no launcher started it (or started
     * one rank), else the MPI group of all ranks (issue #15: the MPI binding opens it).
     */
    public static Collectives fromEnvironment() {
        int size = launchedSize(System.getenv());
        if (size <= 1) return new SingleProcess();
        throw new UserError("this process was launched as one of " + size + " ranks, but this build cannot open an MPI group yet");
    }
}
