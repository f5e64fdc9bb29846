package gsae.cpu;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import static gsae.cpu.MicroKernel.LANES;
import static gsae.cpu.MicroKernel.SPECIES;

/**
 * The second pass of the pruned encode-select for the rows {@link Candidates} could prune: its work
 * follows the surviving (row, latent) pairs, not the vectors of {@link MicroKernel#LANES} latents that hold them.
 * <ol>
 *   <li>For every marked pair, ŝ = g·W_dec[i] as a dot product along d (vectorised along d, the
 *       vector's decoder rows hot while the block's rows pass). Its rounding differs from the engine's
 *       FMA chain s̃, but both are within γ_d·Σ_j|g_j w_j| ≤ γ_d‖g‖n_i of the exact value, so
 *       ||s̃| − |ŝ|| ≤ e = {@link ScoreBound#error}·n̄_i (+ 2⁻¹²⁶ for underflow).</li>
 *   <li>Per row, from |s̃| ∈ [|ŝ| − e, |ŝ| + e], each marked latent's float score lies in [lb, ub]
 *       (z &gt; 0 for every marked pair of a pruned row). The k-th largest lb, τ₂, is a lower bound of
 *       the row's k-th largest score, so only latents with ub ≥ τ₂ can be selected (ties kept); the
 *       same within the dead set with the k_aux-th largest lb.</li>
 *   <li>Those few (about k per row) get s̃ exactly as the unpruned tile computes it, one ascending
 *       FMA chain over j from 0, and go through {@link TileSelector#offer}, so their scores are
 *       bit-identical and the heaps end with the unpruned path's selection.</li>
 * </ol>
 * Rounding of lb and ub: each is computed as fl(fl(z · fl(fma(β, s, 1))) · (1 ∓ 2⁻²⁰)) from an s
 * rounded by one subtraction or addition; these four roundings and the score's own two (fl(β·z)
 * and the FMA) stay within the 2⁻²⁰ slack. An lb that overflows is replaced by Float.MAX_VALUE / 2,
 * below the true value.
 */
final class PairScores {

    /** 1 − 2⁻²⁰: rounds a lower bound down past the roundings listed above. */
    private static final float SLACK_DOWN = 1 - 0x1p-20f;
    /** 1 − 2⁻¹⁸: τ·FLOOR is below fl(z·SLACK_DOWN) for every z ≥ τ &gt; 0 (two roundings of at most 2⁻²⁴ each). */
    private static final float FLOOR = 1 - 0x1p-18f;

    private final float[] exactLanes = new float[LANES], lbLanes = new float[LANES];
    private int[] candidate = new int[64];
    private float[] exactAll = new float[64];

    /** Pairs whose ŝ was computed, and pairs recomputed exactly, since construction. */
    long approximated, exact;

    /**
     * Scores the rows of block c that are not {@link Candidates#full} and offers their possible winners.
     *
     * @param sHat   scratch of at least rows·padded floats
     * @param wDec   the decoder as rows   [M, d]
     */
    void score(Candidates c, int rows, int firstRow, PaddedRows g, float[] wDec, ScoreBound bound, float beta,
               float[] sHat, TileSelector selector, RowTopK best, RowTopK bestDead) {
        int d = g.depth;
        for (int v = 0; v < c.vectors; v++) {
            for (int r = 0; r < rows; r++) {
                if (c.full[r]) continue;
                long marks = c.mask[r * c.vectors + v];
                int gOff = (firstRow + r) * d;
                for (long rest = marks; rest != 0L; rest &= rest - 1) {
                    int i = v * LANES + Long.numberOfTrailingZeros(rest);
                    sHat[r * c.padded + i] = dot(g.data, gOff, wDec, i * d, d);
                    approximated++;
                }
            }
        }
        for (int r = 0; r < rows; r++) if (!c.full[r]) scoreRow(c, r, firstRow, g, wDec, bound, beta, sHat, selector, best, bestDead);
    }

    /** Steps 2 and 3 for block row r. Vectors stay local to this method (none passed on unboxed but to offer). */
    private void scoreRow(Candidates c, int r, int firstRow, PaddedRows g, float[] wDec, ScoreBound bound, float beta,
                          float[] sHat, TileSelector selector, RowTopK best, RowTopK bestDead) {
        RowTopK lowTop = new RowTopK(1, best.k());
        RowTopK lowDead = bestDead == null ? null : new RowTopK(1, bestDead.k());
        float err = bound.error[firstRow + r];
        // The k latents of largest z (k_aux dead ones) have lb ≥ fl(z·(1 − 2⁻²⁰)) ≥ floor, so a smaller lb is never
        // among the k largest: offering only lb ≥ floor leaves the heaps' final thresholds as they are.
        float floor = c.tau(r) * FLOOR, floorDead = c.tauDead(r) * FLOOR;
        int base = r * c.padded;
        for (int v = 0; v < c.vectors; v++) {
            long marks = c.mask[r * c.vectors + v];
            if (marks == 0L) continue;
            int latent0 = v * LANES;
            FloatVector z = FloatVector.fromArray(SPECIES, c.acc, base + latent0).add(FloatVector.fromArray(SPECIES, c.bias, latent0));
            FloatVector e = FloatVector.fromArray(SPECIES, bound.norm, latent0).mul(err).mul(ScoreBound.SLACK).add(Float.MIN_NORMAL);
            FloatVector s = FloatVector.fromArray(SPECIES, sHat, base + latent0).abs().sub(e).max(0f);
            FloatVector lb = z.mul(s.fma(beta, 1f)).mul(SLACK_DOWN).min(Float.MAX_VALUE / 2);
            long top = marks & lb.compare(VectorOperators.GE, Math.max(floor, lowTop.threshold(0))).toLong();
            long dead = lowDead == null ? 0L
                    : marks & lb.compare(VectorOperators.GE, Math.max(floorDead, lowDead.threshold(0))).and(selector.deadLanes(latent0)).toLong();
            if ((top | dead) == 0L) continue;
            lb.intoArray(lbLanes, 0);
            offerLanes(lowTop, top, latent0);
            if (lowDead != null) offerLanes(lowDead, dead, latent0);
        }
        float tau = lowTop.threshold(0), tauDead = lowDead == null ? Float.POSITIVE_INFINITY : lowDead.threshold(0);
        int count = 0;
        for (int v = 0; v < c.vectors; v++) {
            long marks = c.mask[r * c.vectors + v];
            if (marks == 0L) continue;
            int latent0 = v * LANES;
            FloatVector z = FloatVector.fromArray(SPECIES, c.acc, base + latent0).add(FloatVector.fromArray(SPECIES, c.bias, latent0));
            FloatVector e = FloatVector.fromArray(SPECIES, bound.norm, latent0).mul(err).mul(ScoreBound.SLACK).add(Float.MIN_NORMAL);
            FloatVector s = FloatVector.fromArray(SPECIES, sHat, base + latent0).abs().add(e);
            FloatVector ub = z.mul(s.fma(beta, 1f)).mul(ScoreBound.SLACK);
            long keep = ub.compare(VectorOperators.GE, tau).toLong();
            if (lowDead != null) keep |= ub.compare(VectorOperators.GE, tauDead).and(selector.deadLanes(latent0)).toLong();
            for (long rest = keep & marks; rest != 0L; rest &= rest - 1) {
                if (count == candidate.length) candidate = Arrays.copyOf(candidate, 2 * count);
                candidate[count++] = latent0 + Long.numberOfTrailingZeros(rest);
            }
        }
        exact += count;
        offerExact(c, r, g.data, (firstRow + r) * g.depth, wDec, g.depth, count, selector, best, bestDead);
    }

    /** Computes s̃ for the row's candidates (ascending latents), then offers them vector by vector. */
    private void offerExact(Candidates c, int r, float[] g, int gOff, float[] wDec, int d, int count,
                            TileSelector selector, RowTopK best, RowTopK bestDead) {
        if (exactAll.length < count) exactAll = new float[candidate.length];
        chains(g, gOff, wDec, d, count);
        for (int at = 0; at < count; ) {
            int latent0 = candidate[at] - candidate[at] % LANES;
            long lanes = 0L;
            for (; at < count && candidate[at] < latent0 + LANES; at++) {
                lanes |= 1L << (candidate[at] - latent0);
                exactLanes[candidate[at] - latent0] = exactAll[at];
            }
            FloatVector s = FloatVector.fromArray(SPECIES, exactLanes, 0).abs();
            VectorMask<Float> deadLanes = bestDead == null ? null : selector.deadLanes(latent0);
            selector.offer(r, z(c, r, latent0), s, lanes, deadLanes, latent0, best, bestDead);
        }
    }

    /** exactAll[q] = Σ_j g_j·W_dec[candidate[q], j], one FMA chain from 0 in ascending j, q &lt; count. */
    private void chains(float[] g, int gOff, float[] wDec, int d, int count) {
        int at = 0;
        for (; at + 8 <= count; at += 8) { // eight chains in flight: FMA latency and memory stalls overlap
            int w0 = candidate[at] * d, w1 = candidate[at + 1] * d, w2 = candidate[at + 2] * d, w3 = candidate[at + 3] * d;
            int w4 = candidate[at + 4] * d, w5 = candidate[at + 5] * d, w6 = candidate[at + 6] * d, w7 = candidate[at + 7] * d;
            float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, a4 = 0f, a5 = 0f, a6 = 0f, a7 = 0f;
            for (int j = 0; j < d; j++) {
                float gj = g[gOff + j];
                a0 = Math.fma(gj, wDec[w0 + j], a0);
                a1 = Math.fma(gj, wDec[w1 + j], a1);
                a2 = Math.fma(gj, wDec[w2 + j], a2);
                a3 = Math.fma(gj, wDec[w3 + j], a3);
                a4 = Math.fma(gj, wDec[w4 + j], a4);
                a5 = Math.fma(gj, wDec[w5 + j], a5);
                a6 = Math.fma(gj, wDec[w6 + j], a6);
                a7 = Math.fma(gj, wDec[w7 + j], a7);
            }
            exactAll[at] = a0;
            exactAll[at + 1] = a1;
            exactAll[at + 2] = a2;
            exactAll[at + 3] = a3;
            exactAll[at + 4] = a4;
            exactAll[at + 5] = a5;
            exactAll[at + 6] = a6;
            exactAll[at + 7] = a7;
        }
        for (; at < count; at++) {
            int w = candidate[at] * d;
            float a = 0f;
            for (int j = 0; j < d; j++) a = Math.fma(g[gOff + j], wDec[w + j], a);
            exactAll[at] = a;
        }
    }

    private static FloatVector z(Candidates c, int r, int latent0) {
        return FloatVector.fromArray(SPECIES, c.acc, r * c.padded + latent0).add(FloatVector.fromArray(SPECIES, c.bias, latent0));
    }

    /** Keeps the lanes' lower bounds (in lbLanes) in heap, whose threshold becomes the k-th largest (−∞ below k). */
    private void offerLanes(RowTopK heap, long lanes, int latent0) {
        for (long rest = lanes; rest != 0L; rest &= rest - 1) {
            int lane = Long.numberOfTrailingZeros(rest);
            heap.offer(0, lbLanes[lane], lbLanes[lane], latent0 + lane);
        }
    }

    /** ŝ: a dot product along d in any order (four vector accumulators, then the lanes and a scalar tail). */
    private static float dot(float[] a, int aOff, float[] b, int bOff, int d) {
        FloatVector s0 = FloatVector.zero(SPECIES), s1 = s0, s2 = s0, s3 = s0;
        int j = 0;
        for (; j + 4 * LANES <= d; j += 4 * LANES) {
            s0 = FloatVector.fromArray(SPECIES, a, aOff + j).fma(FloatVector.fromArray(SPECIES, b, bOff + j), s0);
            s1 = FloatVector.fromArray(SPECIES, a, aOff + j + LANES).fma(FloatVector.fromArray(SPECIES, b, bOff + j + LANES), s1);
            s2 = FloatVector.fromArray(SPECIES, a, aOff + j + 2 * LANES).fma(FloatVector.fromArray(SPECIES, b, bOff + j + 2 * LANES), s2);
            s3 = FloatVector.fromArray(SPECIES, a, aOff + j + 3 * LANES).fma(FloatVector.fromArray(SPECIES, b, bOff + j + 3 * LANES), s3);
        }
        for (; j + LANES <= d; j += LANES)
            s0 = FloatVector.fromArray(SPECIES, a, aOff + j).fma(FloatVector.fromArray(SPECIES, b, bOff + j), s0);
        float sum = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        for (; j < d; j++) sum = Math.fma(a[aOff + j], b[bOff + j], sum);
        return sum;
    }
}
