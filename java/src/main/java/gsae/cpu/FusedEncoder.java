package gsae.cpu;

import gsae.ops.Batch;
import gsae.ops.Encoded;
import gsae.ops.Params;
import gsae.ops.Selection;

import java.util.Arrays;
import java.util.stream.LongStream;

import static gsae.cpu.MicroKernel.LANES;
import static gsae.cpu.MicroKernel.ROWS;
import static gsae.cpu.MicroKernel.WIDTH;

/**
 * SPEC §2's encode-select without an [N, M] array: z = (x − b_dec)·W_encᵀ + b_enc,
 * s = |g·W_decᵀ|, score = z + β·z∘s, per row the k best scores (and the kAux best dead ones).
 *
 * <p>W_enc (and W_dec when β ≠ 0) is packed once per call into panels of {@link MicroKernel#WIDTH}
 * latents and x − b_dec computed once. Each task takes a block of {@link #BLOCK_TILES} row tiles,
 * which stays in L2 while the task sweeps every panel: per tile the micro-kernel produces the
 * x-side tile and, when β ≠ 0, the g-side tile in a second pass (both at once would need 24
 * accumulators and spill), then {@link TileSelector} merges them into the rows' {@link RowTopK}.
 * β = 0 runs the same loop with the g-side pass skipped. A row's result is the same for any
 * number of workers: its dot products are fixed FMA chains and its latents arrive in ascending order.
 *
 * <p>β &gt; 0 is pruned exactly unless built with prune = false (issue #14): a block first runs the
 * x-side tiles alone through {@link Candidates}, which keeps them and marks the (row, latent) pairs that
 * {@link ScoreBound}'s bound cannot rule out; then {@link PairScores} computes s for the marked pairs
 * of the rows the bound serves, so the work follows the pairs (a dot product along d each, then an
 * exact FMA chain for the few that can still win), and {@link SparseScores} scores every latent of the
 * rows it cannot serve. A block whose marked pairs exceed {@link #DENSE_BLOCK} of its pairs runs the
 * g-side tiles in full instead ({@link #scoreDense}). Either way the heaps are offered a superset of
 * the k best with bit-identical scores, so the selection is the unpruned one, bit for bit.
 * One instance serves one caller at a time: it repacks its panels in place on every call.
 */
public final class FusedEncoder {

    /** Row tiles per task: 96 rows of x (and g) at d = 512 are 192 KiB (384 KiB), inside a 1 MiB L2. */
    static final int BLOCK_TILES = 16;

    /**
     * A block whose marked (row, latent) pairs exceed this fraction is scored in full: the sampled pass would not
     * pay. Measured on 2 Zen 4 cores (bench/results/prune2-2026-12-03.md), the encode stage with the sampled pass
     * beat the dense one at 1.4–1.7 % survivors (d = 512) and lost at 6.6–9.2 % (and at 1.3 % at d = 256).
     */
    static final double DENSE_BLOCK = 0.02;

    /**
     * Shallowest d the shipped encoder prunes at: the sampled pass's per-row costs scale with M, the product
     * it saves with M·d. Measured at 1.3–1.7 % survivors: faster than unpruned at d = 512, slower at d = 256
     * (bench/results/prune2-2026-12-03.md) and 2.3× slower at d = 64, M = 1,024 (a `gsae bench` check).
     */
    static final int MIN_DEPTH = 512;

    /**
     * When a pruned call finds that pruning would not pay (its marked pairs exceed the block threshold
     * overall), the next PROBE_EVERY − 1 calls with β &gt; 0 skip the first pass and run unpruned, then one
     * probes again: consecutive training steps see similar data. Only speed depends on this, never the result.
     */
    static final int PROBE_EVERY = 16;

    private final Workers workers;
    private final boolean prune;
    private final double denseBlock;
    private final int minDepth;
    private int skipCalls;
    /**
     * Whether the next pruned call keeps the whole x-side block, so that a block scored densely copies it:
     * true while pruning is not known to pay (the first call, each probe); after a call where it paid only
     * the marked vectors are kept and a dense block recomputes its x-side tiles.
     */
    private boolean storeAll = true;
    private volatile PruneStats lastStats;
    /** Per worker thread: the pruned path's x-side block (3 MiB at the reference shape), reused rather than reallocated per block. */
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);
    /** The weight panels of the last call, repacked in place on the next one: O(M·d) not allocated per step. */
    private PackedPanels encPanels, decPanels;

    /** Prunes the gradient projection when β > 0 ({@link ScoreBound}). */
    public FusedEncoder(Workers workers) {
        this(workers, true);
    }

    /** With {@code prune} false, β > 0 always computes the full gradient projection (for benchmarks). */
    public FusedEncoder(Workers workers, boolean prune) {
        this(workers, prune, DENSE_BLOCK, MIN_DEPTH);
    }

    /**
     * As {@link #FusedEncoder(Workers, boolean)} with another block threshold (tests: 0 = every block dense,
     * 1 = none) and pruning at any d.
     */
    FusedEncoder(Workers workers, boolean prune, double denseBlock) {
        this(workers, prune, denseBlock, 0);
    }

    private FusedEncoder(Workers workers, boolean prune, double denseBlock, int minDepth) {
        this.workers = workers;
        this.prune = prune;
        this.denseBlock = denseBlock;
        this.minDepth = minDepth;
    }

    /** Same contract as {@link gsae.ops.Ops#encodeSelect}. */
    public Encoded encodeSelect(Params p, Batch b, float beta, int k, boolean[] dead, int auxK) {
        int n = b.n(), d = p.d(), m = p.m();
        int kAux = auxCount(p, b, beta, k, dead, auxK);
        PackedPanels enc = encPanels = PackedPanels.ofRows(workers, p.wEnc(), m, d, encPanels);
        int padded = enc.count * WIDTH;
        boolean[] latent = new boolean[padded];
        Arrays.fill(latent, 0, m, true);
        Inputs in = new Inputs(PaddedRows.centred(b.x(), p.bDec(), n, d), enc,
                beta == 0f ? null : PaddedRows.copyOf(b.g(), n, d),
                beta == 0f ? null : (decPanels = PackedPanels.ofRows(workers, p.wDec(), m, d, decPanels)),
                p.wDec(), m, beta, Arrays.copyOf(p.bEnc(), padded), latent,
                kAux > 0 ? Arrays.copyOf(dead, padded) : new boolean[padded]);

        Selection top = Selection.empty(n, k);
        Selection aux = kAux > 0 ? Selection.empty(n, kAux) : null;
        int blocks = (in.x.tiles() + BLOCK_TILES - 1) / BLOCK_TILES;
        boolean pruning = prune && d >= minDepth && ScoreBound.applies(beta, d);
        if (!pruning) lastStats = null;
        if (!pruning || skipCalls > 0) {
            if (pruning) skipCalls--;
            workers.forEach(blocks, block -> encodeBlock(in, block, top, aux));
            return new Encoded(top, aux);
        }
        ScoreBound bound = ScoreBound.of(workers, p.wDec(), m, b.g(), n, d, beta, enc.count);
        long[] full = new long[blocks], dense = new long[blocks], marked = new long[blocks], products = new long[blocks];
        long[] exact = new long[blocks];
        boolean storeAll = this.storeAll;
        workers.forEach(blocks, block -> pruneBlock(in, bound, storeAll, block, top, aux, full, dense, marked, products, exact));
        PruneStats stats = new PruneStats(n, m, LongStream.of(full).sum(), LongStream.of(dense).sum(),
                LongStream.of(marked).sum(), LongStream.of(products).sum(), LongStream.of(exact).sum());
        boolean pays = stats.survivorFraction() <= denseBlock;
        if (!pays) skipCalls = PROBE_EVERY - 1;
        this.storeAll = !pays;
        lastStats = stats;
        return new Encoded(top, aux);
    }

    /**
     * What pruning did in the last call that pruned; null when the last call could not prune (β ≤ 0,
     * or pruning off). A call skipped because pruning did not pay ({@link #PROBE_EVERY}) leaves it as it was.
     */
    public PruneStats lastStats() {
        return lastStats;
    }

    /**
     * Everything prepared once per call.
     *
     * @param x      x − b_dec, padded rows        [N, d]
     * @param enc    W_enc as panels
     * @param g      g, padded rows; null when β = 0   [N, d]
     * @param dec    W_dec as panels; null when β = 0
     * @param wDec   W_dec as rows (the pruned path's pairs)   [M, d]
     * @param m      M
     * @param bias   b_enc, zero-padded             [panels·WIDTH]
     * @param latent true for real latents (i < M)  [panels·WIDTH]
     * @param dead   dead flags, all false without AuxK   [panels·WIDTH]
     */
    private record Inputs(PaddedRows x, PackedPanels enc, PaddedRows g, PackedPanels dec, float[] wDec, int m,
                          float beta, float[] bias, boolean[] latent, boolean[] dead) {}

    /** Rows of tiles block·BLOCK_TILES … (block + 1)·BLOCK_TILES − 1 against every panel. */
    private static void encodeBlock(Inputs in, int block, Selection top, Selection aux) {
        int n = in.x.rows, d = in.x.depth;
        int firstTile = block * BLOCK_TILES, endTile = Math.min(in.x.tiles(), firstTile + BLOCK_TILES);
        RowTopK best = new RowTopK(BLOCK_TILES * ROWS, top.k());
        RowTopK bestDead = aux != null ? new RowTopK(BLOCK_TILES * ROWS, aux.k()) : null;
        TileSelector selector = new TileSelector(in.beta, in.bias, in.latent, in.dead);
        float[] zTile = new float[ROWS * WIDTH], gTile = new float[ROWS * WIDTH];
        for (int panel = 0; panel < in.enc.count; panel++) {
            for (int t = firstTile; t < endTile; t++) {
                int row0 = t * ROWS;
                MicroKernel.tile(in.x.data, row0 * d, d, in.enc.data, in.enc.offset(panel), d, zTile);
                if (in.dec != null) MicroKernel.tile(in.g.data, row0 * d, d, in.dec.data, in.dec.offset(panel), d, gTile);
                selector.select(zTile, gTile, panel * WIDTH, Math.min(ROWS, n - row0), (t - firstTile) * ROWS, best, bestDead);
            }
        }
        for (int row = firstTile * ROWS; row < Math.min(n, endTile * ROWS); row++) {
            best.write(row - firstTile * ROWS, top, row);
            if (bestDead != null) bestDead.write(row - firstTile * ROWS, aux, row);
        }
    }

    /**
     * The pruned path for one block: the x-side tiles feed {@link Candidates}, then {@link PairScores} and
     * {@link SparseScores} score the marked pairs, or {@link #scoreDense} every pair where that would not pay;
     * counts full rows, rows scored densely, marked pairs, the sampled pass's dot products and its exact
     * recomputations into the block's slots.
     */
    private void pruneBlock(Inputs in, ScoreBound bound, boolean storeAll, int block, Selection top, Selection aux,
                            long[] full, long[] dense, long[] marked, long[] products, long[] exact) {
        int n = in.x.rows, d = in.x.depth, padded = in.bias.length;
        int firstTile = block * BLOCK_TILES, endTile = Math.min(in.x.tiles(), firstTile + BLOCK_TILES);
        int row0 = firstTile * ROWS, rows = Math.min(n, endTile * ROWS) - row0;
        Scratch scratch = this.scratch.get().fit(rows * padded, rows * (padded / LANES));
        Candidates c = new Candidates(rows, row0, top.k(), aux == null ? 0 : aux.k(), in.bias, in.latent, in.dead, bound,
                scratch.acc, scratch.mask, storeAll);
        float[] zTile = new float[ROWS * WIDTH];
        for (int panel = 0; panel < in.enc.count; panel++) {
            for (int t = firstTile; t < endTile; t++) {
                MicroKernel.tile(in.x.data, t * ROWS * d, d, in.enc.data, in.enc.offset(panel), d, zTile);
                c.collect(zTile, panel * WIDTH, Math.min(ROWS, n - t * ROWS), (t - firstTile) * ROWS);
            }
        }
        for (int r = 0; r < rows; r++) c.finish(r);
        RowTopK best = new RowTopK(rows, top.k());
        RowTopK bestDead = aux != null ? new RowTopK(rows, aux.k()) : null;
        for (int r = 0; r < rows; r++) {
            if (c.full[r]) full[block]++;
            for (int v = 0; v < c.vectors; v++) marked[block] += Long.bitCount(c.mask[r * c.vectors + v]);
        }
        if (marked[block] > denseBlock * rows * padded || c.incomplete) {
            scoreDense(in, c, firstTile, endTile, best, bestDead);
            dense[block] = rows;
        } else {
            TileSelector selector = new TileSelector(in.beta, in.bias, in.latent, in.dead);
            SparseScores.scoreFullRows(c, rows, row0, in.g, in.dec, selector, best, bestDead);
            PairScores pairs = new PairScores();
            pairs.score(c, rows, row0, in.g, in.wDec, bound, in.beta, scratch.sHat, selector, best, bestDead);
            products[block] = full[block] * in.m + pairs.approximated;
            exact[block] = pairs.exact;
        }
        for (int r = 0; r < rows; r++) {
            best.write(r, top, row0 + r);
            if (bestDead != null) bestDead.write(r, aux, row0 + r);
        }
    }

    /**
     * The unpruned second half of {@link #encodeBlock} for a block whose marks cover too much to pay:
     * the g-side tiles against the x-side ones (copied when kept whole, else computed again), through
     * the same {@link TileSelector}.
     */
    private static void scoreDense(Inputs in, Candidates c, int firstTile, int endTile, RowTopK best, RowTopK bestDead) {
        int n = in.x.rows, d = in.x.depth;
        TileSelector selector = new TileSelector(in.beta, in.bias, in.latent, in.dead);
        float[] zTile = new float[ROWS * WIDTH], gTile = new float[ROWS * WIDTH];
        for (int panel = 0; panel < in.enc.count; panel++) {
            for (int t = firstTile; t < endTile; t++) {
                int row0 = t * ROWS, tileRows = Math.min(ROWS, n - row0), blockRow = (t - firstTile) * ROWS;
                if (c.storeAll) {
                    for (int r = 0; r < tileRows; r++)
                        System.arraycopy(c.acc, (blockRow + r) * c.padded + panel * WIDTH, zTile, r * WIDTH, WIDTH);
                } else {
                    MicroKernel.tile(in.x.data, row0 * d, d, in.enc.data, in.enc.offset(panel), d, zTile);
                }
                MicroKernel.tile(in.g.data, row0 * d, d, in.dec.data, in.dec.offset(panel), d, gTile);
                selector.select(zTile, gTile, panel * WIDTH, tileRows, blockRow, best, bestDead);
            }
        }
    }

    /** A worker's x-side block and mark arrays for {@link Candidates}, grown when a call needs more. */
    private static final class Scratch {
        float[] acc = new float[0], sHat = new float[0];
        long[] mask = new long[0];

        Scratch fit(int accLength, int maskLength) {
            if (acc.length < accLength) {
                acc = new float[accLength];
                sHat = new float[accLength];
            }
            if (mask.length < maskLength) mask = new long[maskLength];
            return this;
        }
    }

    /** Checks encode-select's arguments and returns kAux = min(auxK, #dead), 0 without dead flags. */
    static int auxCount(Params p, Batch b, float beta, int k, boolean[] dead, int auxK) {
        int m = p.m();
        if (b.d() != p.d()) throw new IllegalArgumentException("batch width " + b.d() + " does not match the SAE's d=" + p.d());
        if (k < 1 || k > m) throw new IllegalArgumentException("k must be in [1, M=" + m + "], got " + k);
        if (!Float.isFinite(beta)) throw new IllegalArgumentException("beta must be finite, got " + beta);
        if (beta != 0f && !b.hasGradients()) throw new IllegalArgumentException("beta=" + beta + " needs gradients but the batch has none");
        if (dead != null && dead.length != m) throw new IllegalArgumentException("dead has " + dead.length + " flags, expected M=" + m);
        return dead == null ? 0 : Math.min(auxK, count(dead));
    }

    private static int count(boolean[] flags) {
        int c = 0;
        for (boolean f : flags) if (f) c++;
        return c;
    }
}
