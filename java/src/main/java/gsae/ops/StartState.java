package gsae.ops;

import java.util.function.Consumer;

/**
 * Where a training run starts, without forcing a host copy of the state: a state in host arrays
 * ({@link Held}), SPEC §5's initialisation not drawn yet ({@link Fresh}), or tensors read chunk by
 * chunk, e.g. a checkpoint's files ({@link Stored}). Host backends train in {@link #host()}; the
 * CUDA backend draws a fresh state on the device and uploads a stored one a chunk at a time, so an
 * SAE whose tensors exceed one Java array never needs one. A rank of a latent-sharded run takes
 * only its share ({@link #shard}): drawn or read alone, never sliced from a whole copy.
 */
public sealed interface StartState permits StartState.Held, StartState.Fresh, StartState.Stored {

    /** Input width. */
    int d();

    /** Number of latents M. */
    int m();

    /** Optimizer steps completed. */
    long step();

    /**
     * The state in host arrays: drawn or read on the first call, the same arrays on every later one.
     * An M·d beyond one Java array is a {@link gsae.config.UserError} naming the latents (see
     * {@link gsae.config.Sizes#hostArray}).
     */
    TrainState host();

    /**
     * Hands the state to {@code use} as tensors read chunk by chunk, valid during the call: a stored
     * state straight from its source (no host copy), any other from its host arrays.
     */
    default void read(Consumer<StateChunks> use) {
        use.accept(StateChunks.of(host()));
    }

    /**
     * The latents of {@code shard} with b_dec whole, in new host arrays (see {@link
     * TrainState#slice}): a fresh state draws only their rows and a stored one reads only them, so
     * no whole state is built; a state already in host arrays is sliced. Its sizes beyond one Java
     * array are a {@link gsae.config.UserError} naming the latents.
     */
    TrainState shard(LatentShard shard);

    /** A state in host arrays. */
    record Held(TrainState state) implements StartState {

        @Override
        public int d() {
            return state.params().d();
        }

        @Override
        public int m() {
            return state.params().m();
        }

        @Override
        public long step() {
            return state.step();
        }

        @Override
        public TrainState host() {
            return state;
        }

        @Override
        public TrainState shard(LatentShard shard) {
            return state.slice(shard);
        }
    }

    /** SPEC §5's initial state, drawn when a backend asks: step 0, zero moments, every latent just fired. */
    final class Fresh implements StartState {

        private final int d, m;
        private final long seed;
        private final float[] firstBatchMean; // [d]
        private TrainState drawn;

        /** @param firstBatchMean b_dec [d]: the mean of the first (scaled) batch; kept, not copied */
        public Fresh(int d, int m, long seed, float[] firstBatchMean) {
            if (firstBatchMean.length != d) throw new IllegalArgumentException("the first batch's mean must have d=" + d + " entries");
            this.d = d;
            this.m = m;
            this.seed = seed;
            this.firstBatchMean = firstBatchMean;
        }

        @Override
        public int d() {
            return d;
        }

        @Override
        public int m() {
            return m;
        }

        @Override
        public long step() {
            return 0;
        }

        /** The generator's seed ({@link InitRandom}). */
        public long seed() {
            return seed;
        }

        /** b_dec [d]; not to be modified. */
        public float[] firstBatchMean() {
            return firstBatchMean;
        }

        /** The host arrays when {@link #host()} has drawn them, else null. */
        public synchronized TrainState drawn() {
            return drawn;
        }

        @Override
        public synchronized TrainState host() {
            if (drawn == null) drawn = TrainState.fresh(Params.init(d, m, seed, firstBatchMean));
            return drawn;
        }

        /** Draws the shard's rows alone ({@link InitRandom} draws any row by its index), unless {@link #host()} drew them all. */
        @Override
        public synchronized TrainState shard(LatentShard shard) {
            if (shard.latents() != m) throw new IllegalArgumentException("a shard of " + shard.latents() + " latents from a state of " + m);
            return drawn != null ? drawn.slice(shard) : TrainState.fresh(Params.init(d, shard, seed, firstBatchMean));
        }
    }

    /** A state read chunk by chunk when a backend asks, e.g. from a checkpoint's memory-mapped files. */
    final class Stored implements StartState {

        /** Hands the tensors to {@code use}, valid during the call; a damaged source is a {@link gsae.io.DataException}. */
        @FunctionalInterface
        public interface Reader {
            void read(Consumer<StateChunks> use);
        }

        private final int d, m;
        private final long step;
        private final Reader reader;
        private TrainState read;

        public Stored(int d, int m, long step, Reader reader) {
            this.d = d;
            this.m = m;
            this.step = step;
            this.reader = reader;
        }

        @Override
        public int d() {
            return d;
        }

        @Override
        public int m() {
            return m;
        }

        @Override
        public long step() {
            return step;
        }

        /** Reads the tensors from the source, or from the host arrays once {@link #host()} has read them. */
        @Override
        public void read(Consumer<StateChunks> use) {
            TrainState in = readIn();
            if (in != null) use.accept(StateChunks.of(in));
            else reader.read(use);
        }

        /** The host arrays when {@link #host()} has read them, else null. */
        public synchronized TrainState readIn() {
            return read;
        }

        @Override
        public synchronized TrainState host() {
            if (read == null) read = fromSource(LatentShard.whole(m));
            return read;
        }

        /** Reads the shard's rows alone from the source ({@link StateChunks#rows}), unless {@link #host()} read them all. */
        @Override
        public synchronized TrainState shard(LatentShard shard) {
            return read != null ? read.slice(shard) : fromSource(shard);
        }

        private TrainState fromSource(LatentShard shard) {
            TrainState[] out = new TrainState[1];
            reader.read(c -> out[0] = c.rows(shard).atStep(step));
            return out[0];
        }
    }
}
