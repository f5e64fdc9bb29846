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

    /** "data-parallel over 2 ranks", "in one process": for messages. */
    public String describe() {
        return switch (mode) {
            case NONE -> "in one process";
            case DATA -> "data-parallel over " + ranks + (ranks == 1 ? " rank" : " ranks");
            case LATENTS -> "latent-sharded over " + ranks + (ranks == 1 ? " rank" : " ranks");
        };
    }
}
