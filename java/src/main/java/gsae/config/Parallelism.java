package gsae.config;

/**
 * How a run is spread over processes: the mode and the number of ranks. Checkpoints record it, so
 * that a resumed run can be held to the one that wrote them.
 *
 * @param mode  how the ranks share the work
 * @param ranks the number of processes, ≥ 1; exactly 1 for {@link ParallelMode#NONE}
 */
public record Parallelism(ParallelMode mode, int ranks) {

    /** One process, no collectives. */
    public static final Parallelism SINGLE = new Parallelism(ParallelMode.NONE, 1);

    public Parallelism {
        if (mode == null) throw new IllegalArgumentException("parallel mode must be set");
        if (ranks < 1) throw new IllegalArgumentException("ranks must be ≥ 1, got " + ranks);
        if (mode == ParallelMode.NONE && ranks != 1)
            throw new IllegalArgumentException("--parallel none runs one process, but " + ranks + " ranks were launched: choose --parallel data or latents");
    }

    /**
     * The most of {@code latents} latents one rank holds: ⌈M/P⌉ latent sharded (the shares differ
     * by at most one), all of them otherwise.
     */
    public int latentsPerRank(int latents) {
        return mode == ParallelMode.LATENTS ? (int) ((latents + (long) ranks - 1) / ranks) : latents;
    }

    /**
     * The option a size check on one rank's state names: {@code option} itself, or, latent sharded,
     * which share it measures ("--latents 1000 over 3 ranks, one rank's share").
     */
    public String perRank(String option, int latents) {
        return mode == ParallelMode.LATENTS && ranks > 1 ? option + " " + latents + " over " + ranks + " ranks, one rank's share" : option;
    }

    /** "data-parallel over 2 ranks", "in one process": for messages. */
    public String describe() {
        return switch (mode) {
            case NONE -> "in one process";
            case DATA -> "data-parallel over " + ranks + (ranks == 1 ? " rank" : " ranks");
            case LATENTS -> "latent-sharded over " + ranks + (ranks == 1 ? " rank" : " ranks");
        };
    }
}
