package gsae.cuda;

import gsae.comm.ElementType;
import gsae.comm.ReduceOp;
import gsae.ops.Denominators;
import gsae.ops.Losses;

/**
 * SPEC §3–4 on the device in O(N·k·d) (sparse_backward.cu): losses, dx̂, dz per selected pair,
 * and weight gradients grouped by latent so that no floating-point atomics touch them. The four
 * loss sums come back as one read of four doubles, the only synchronisation of the stage.
 */
final class SparseBackward {

    /** Token rows per chunk of the latent grouping: the per-(chunk, latent) count table is ceil(N/64)·M ints. */
    static final int ROWS_PER_CHUNK = 64;
    /** Contiguous slices (grid y) of tokens and latents for the column sums: 64 keeps each thread's run short at N, M in the thousands. */
    static final int SLICES = 64;
    private static final int ROW_THREADS = 128, COL_THREADS = 256, PAIR_WARPS = 8, CHUNK_THREADS = 256, SCAN_THREADS = 1024,
            LATENT_THREADS = 128, BIAS_COLS = 32, BIAS_THREADS = 256;

    private final Kernel columnSums, columnReduce, sumDoubles, residual, auxResidual, pairDz, csrCount, csrScan, scan, csrFill, latentGrads,
            biasPartial, biasFinish, decode;
    private final Scratch scratch;

    SparseBackward(Kernels k, Scratch scratch) {
        String f = "sparse_backward";
        columnSums = k.get(f, "column_partial_sums");
        columnReduce = k.get(f, "column_reduce");
        sumDoubles = k.get(f, "sum_doubles");
        residual = k.get(f, "residual");
        auxResidual = k.get(f, "aux_residual");
        pairDz = k.get(f, "pair_dz");
        csrCount = k.get(f, "csr_count");
        csrScan = k.get(f, "csr_scan_chunks");
        scan = k.get(f, "exclusive_scan");
        csrFill = k.get(f, "csr_fill");
        latentGrads = k.get(f, "latent_grads");
        biasPartial = k.get(f, "bias_dec_partial");
        biasFinish = k.get(f, "bias_dec_finish");
        decode = k.get("sparse_decode", "sparse_decode");
        this.scratch = scratch;
    }

    /** {@link #run(DeviceParams, DeviceBatch, DeviceSelection, DeviceSelection, DeviceBuffer, float, DeviceParams, Denominators)} on this batch's own denominators. */
    Losses run(DeviceParams p, DeviceBatch b, DeviceSelection top, DeviceSelection aux, DeviceBuffer xhat, float auxAlpha, DeviceParams grads) {
        return run(p, b, top, aux, xhat, auxAlpha, grads, null);
    }

    /**
     * Writes (not accumulates) the gradients of loss = FVU + α·AuxK into {@code grads}; {@code xhat}
     * is decode(p, top, with bias) [N, d]; {@code aux} may be null (no AuxK). With {@code global}
     * the two denominators are taken from it instead of this batch (see {@link Denominators}).
     *
     * @throws IllegalArgumentException when the batch has zero variance (FVU undefined), as the reference
     */
    Losses run(DeviceParams p, DeviceBatch b, DeviceSelection top, DeviceSelection aux, DeviceBuffer xhat, float auxAlpha,
               DeviceParams grads, Denominators global) {
        return run(p, b, top, aux, xhat, auxAlpha, grads, global, null);
    }

    /**
     * The same on this rank's slice of a global batch of {@code rows} tokens spread over {@code
     * ranks}: the denominators are the global batch's, reduced on the device (see {@link
     * #centredSumOfSquares}), which makes the losses and gradients this slice's terms of the global
     * ones; the caller sums them over ranks.
     */
    Losses run(DeviceParams p, DeviceBatch b, DeviceSelection top, DeviceSelection aux, DeviceBuffer xhat, float auxAlpha,
               DeviceParams grads, DeviceRanks ranks, long rows) {
        return run(p, b, top, aux, xhat, auxAlpha, grads, null, new Spread.Data(ranks, rows));
    }

    /**
     * The same on one rank's share of the latents, the whole batch on every rank: {@code p} and
     * {@code grads} are this rank's latents (and the replicated b_dec), {@code top} and {@code aux}
     * the global selections as this rank sees them (slots of other ranks' latents with a = 0, which
     * add nothing), and {@code xhat} the whole reconstruction, summed over ranks. AuxK's ê is summed
     * over ranks before its residual, and b_dec's gradient, Σ_n dx̂_n − Σ_i db_enc[i]·W_enc[i], takes
     * its token term on rank 0 only and is summed over ranks, so that every rank holds the whole
     * gradient of b_dec. The losses are the global batch's on every rank.
     */
    Losses runSharded(DeviceParams p, DeviceBatch b, DeviceSelection top, DeviceSelection aux, DeviceBuffer xhat, float auxAlpha,
                      DeviceParams grads, DeviceRanks ranks) {
        return run(p, b, top, aux, xhat, auxAlpha, grads, null, new Spread.Latents(ranks));
    }

    /** How the work is spread over ranks: null for one process. */
    private sealed interface Spread {
        /** This rank's slice of a global batch of {@code rows} tokens. */
        record Data(DeviceRanks ranks, long rows) implements Spread {}

        /** This rank's share of the latents. */
        record Latents(DeviceRanks ranks) implements Spread {}
    }

    private Losses run(DeviceParams p, DeviceBatch b, DeviceSelection top, DeviceSelection aux, DeviceBuffer xhat, float auxAlpha,
                       DeviceParams grads, Denominators global, Spread spread) {
        Spread.Data slice = spread instanceof Spread.Data data ? data : null;
        DeviceRanks shards = spread instanceof Spread.Latents l ? l.ranks() : null;
        int n = b.n(), d = p.d(), m = p.m(), k = top.k(), ka = aux == null ? 0 : aux.k();
        long nd = (long) n * d;
        DeviceBuffer sums = scratch.doubles("backward.sums", 4), rowSse = scratch.doubles("backward.row_sse", n), e = scratch.floats("backward.e", nd),
                dxhat = scratch.floats("backward.dxhat", nd), dzTop = scratch.floats("backward.dz_top", top.pairs());
        if (global != null) sums.upload(new double[]{global.fvu(), 0, global.auxk(), 0});
        else sums.zero(32);
        if (global == null) centredSumOfSquares(b.x(), n, d, sums, 0, slice);
        residual.launch(n, 1, ROW_THREADS, b.x(), xhat, d, sums, e, dxhat, rowSse);
        sumDoubles.launch(1, 1, COL_THREADS, rowSse, n, sums, 1);
        pairDz.launch(Kernel.blocks(top.pairs(), PAIR_WARPS), 1, PAIR_WARPS * 32, top.idx(), top.val(), dxhat, p.wDec(),
                (int) top.pairs(), k, d, dzTop);

        DeviceBuffer dehat = null, dzAux = null;
        if (aux != null) {
            DeviceBuffer ehat = scratch.floats("backward.ehat", nd);
            dehat = scratch.floats("backward.dehat", nd);
            dzAux = scratch.floats("backward.dz_aux", aux.pairs());
            if (global == null) centredSumOfSquares(e, n, d, sums, 2, slice);
            FusedForward.launchDecode(decode, p, aux, null, ehat);
            if (shards != null) shards.allReduce(ehat, 0, 4 * nd, ElementType.F32, ReduceOp.SUM);
            auxResidual.launch(n, 1, ROW_THREADS, ehat, e, d, sums, auxAlpha, dehat, rowSse);
            sumDoubles.launch(1, 1, COL_THREADS, rowSse, n, sums, 3);
            pairDz.launch(Kernel.blocks(aux.pairs(), PAIR_WARPS), 1, PAIR_WARPS * 32, aux.idx(), aux.val(), dehat, p.wDec(),
                    (int) aux.pairs(), ka, d, dzAux);
        }
        weightGradients(p, b, top, aux, dzTop, dzAux, dxhat, dehat, grads, shards == null || shards.host.rank() == 0);
        if (shards != null) shards.allReduce(grads.bDec(), 0, 4L * d, ElementType.F32, ReduceOp.SUM);
        return losses(sums, auxAlpha, aux != null);
    }

    /**
     * sums[slot] = Σ_n ‖v_n − v̄‖² over v [N, d], in two passes like the reference: column means, then
     * centred squares. With {@code slice}, v is this rank's slice of a global batch of {@code rows}
     * rows and both passes are global: the column sums are summed over ranks before they become the
     * global mean, and each rank's centred squares around it are summed into every rank's sums[slot]
     * (GlobalDenominators' formula, on the device). On one rank this is bitwise the one-process value.
     */
    private void centredSumOfSquares(DeviceBuffer v, int n, int d, DeviceBuffer sums, int slot, Spread.Data slice) {
        DeviceRanks ranks = slice == null ? null : slice.ranks();
        DeviceBuffer partial = scratch.doubles("backward.column_partial", (long) SLICES * d), mean = scratch.doubles("backward.column_mean", d),
                colSs = scratch.doubles("backward.column_ss", d);
        long blocks = Kernel.blocks(d, COL_THREADS);
        columnSums.launch(blocks, SLICES, COL_THREADS, v, n, d, SLICES, null, partial);
        if (ranks == null) {
            columnReduce.launch(blocks, 1, COL_THREADS, partial, SLICES, d, (double) n, mean);
        } else {
            DeviceBuffer total = scratch.doubles("backward.column_total", d);
            columnReduce.launch(blocks, 1, COL_THREADS, partial, SLICES, d, 1.0, total);
            ranks.allReduce(total, 0, 8L * d, ElementType.F64, ReduceOp.SUM);
            columnReduce.launch(blocks, 1, COL_THREADS, total, 1, d, (double) slice.rows(), mean);
        }
        columnSums.launch(blocks, SLICES, COL_THREADS, v, n, d, SLICES, mean, partial);
        columnReduce.launch(blocks, 1, COL_THREADS, partial, SLICES, d, 1.0, colSs);
        sumDoubles.launch(1, 1, COL_THREADS, colSs, d, sums, slot);
        if (ranks != null) ranks.allReduce(sums, 8L * slot, 8, ElementType.F64, ReduceOp.SUM);
    }

    /** Groups pairs by latent (counting sort in token order) and lets one block own each latent. */
    private void weightGradients(DeviceParams p, DeviceBatch b, DeviceSelection top, DeviceSelection aux, DeviceBuffer dzTop,
                                 DeviceBuffer dzAux, DeviceBuffer dxhat, DeviceBuffer dehat, DeviceParams grads, boolean tokenTerm) {
        int n = b.n(), m = p.m(), d = p.d(), k = top.k(), ka = aux == null ? 0 : aux.k();
        int chunks = (n + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
        long pairs = (long) n * (k + ka);
        if (pairs > Integer.MAX_VALUE) throw new IllegalArgumentException(n + " tokens × " + (k + ka) + " latents is too many pairs for one batch");
        DeviceBuffer counts = scratch.ints("backward.chunk_counts", (long) chunks * m), totals = scratch.ints("backward.latent_totals", m),
                offsets = scratch.ints("backward.offsets", m + 1L), order = scratch.ints("backward.pairs", pairs),
                dbEncSum = scratch.doubles("backward.db_enc_sum", m);
        DeviceBuffer auxIdx = aux == null ? null : aux.idx(), auxVal = aux == null ? null : aux.val();
        counts.zero(4L * chunks * m);
        csrCount.launch(chunks, 1, CHUNK_THREADS, top.idx(), k, auxIdx, ka, n, ROWS_PER_CHUNK, m, counts);
        csrScan.launch(Kernel.blocks(m, COL_THREADS), 1, COL_THREADS, counts, chunks, m, totals);
        scan.launch(1, 1, SCAN_THREADS, totals, m, offsets);
        csrFill.launch(chunks, 1, CHUNK_THREADS, top.idx(), k, auxIdx, ka, n, ROWS_PER_CHUNK, m, counts, offsets, order);
        latentGrads.launch(m, 1, LATENT_THREADS, offsets, order, top.val(), dzTop, auxVal, dzAux, dxhat, dehat, b.x(), p.bDec(), k, ka, d,
                grads.wDec(), grads.wEnc(), grads.bEnc(), dbEncSum);
        DeviceBuffer biasParts = scratch.doubles("backward.db_dec_partial", (long) SLICES * d);
        biasPartial.launch(Kernel.blocks(d, BIAS_COLS), SLICES, BIAS_THREADS, dxhat, dbEncSum, p.wEnc(), tokenTerm ? n : 0, m, d, SLICES, biasParts);
        biasFinish.launch(Kernel.blocks(d, COL_THREADS), 1, COL_THREADS, biasParts, SLICES, d, grads.bDec());
    }

    private static Losses losses(DeviceBuffer sums, float auxAlpha, boolean hasAux) {
        double[] s = new double[4];
        sums.download(s);
        if (s[0] == 0) throw new IllegalArgumentException("batch has zero variance: FVU is undefined (need ≥ 2 distinct tokens)");
        double fvu = s[1] / s[0];
        double auxk = hasAux && s[2] > 0 ? s[3] / s[2] : 0;
        return new Losses(fvu, auxk, fvu + auxAlpha * auxk);
    }
}
