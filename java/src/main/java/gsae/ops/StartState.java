package gsae.ops;

import gsae.tensor.ChunkedTensor;

import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;

/**
 * Where a training run starts, without forcing a host copy of the state: a state in host arrays
 * ({@link Held}), SPEC §5's initialisation not drawn yet ({@link Fresh}), or tensors read chunk by
 * chunk, e.g. a checkpoint's files ({@link Stored}). Host backends train in {@link #host()}; the
 * CUDA backend draws a fresh state on the device and uploads a stored one a chunk at a time, so an
 * SAE whose tensors exceed one Java array never needs one.
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
            if (read != null) return read;
            Params p = Params.zeros(d, m), am = Params.zeros(d, m), av = Params.zeros(d, m);
            long[] since = new long[m];
            reader.read(c -> {
                copy(c.params(), p);
                copy(c.adamM(), am);
                copy(c.adamV(), av);
                c.sinceFired().chunks().read(0, MemorySegment.ofArray(since));
            });
            read = new TrainState(p, am, av, step, since);
            return read;
        }

        private static void copy(StateChunks.Tensors from, Params to) {
            fill(from.wEnc(), to.wEnc());
            fill(from.bEnc(), to.bEnc());
            fill(from.wDec(), to.wDec());
            fill(from.bDec(), to.bDec());
        }

        private static void fill(ChunkedTensor from, float[] to) {
            from.chunks().read(0, MemorySegment.ofArray(to));
        }
    }
}
