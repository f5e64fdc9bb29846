package gsae.cpu;

import gsae.ops.Params;
import jdk.incubator.vector.FloatVector;

import java.util.Arrays;

import static gsae.cpu.RowKernels.F;

/**
 * SPEC §4's weight gradients, one latent at a time over its grouped pairs (top, then AuxK):
 *
 *     dW_dec[i] = Σ_pairs a·dout_n        dW_enc[i] = Σ_pairs dz·(x_n − b_dec)        db_enc[i] = Σ_pairs dz
 *
 * where dout is dx̂ for top pairs and the α-weighted AuxK residual gradient for AuxK pairs. Latents
 * are cut into a fixed number of blocks of about equal work; each block also returns its share
 * Σ_i db_enc[i]·W_enc[i] of db_dec. Every latent's rows are written exactly once (zeros where it has
 * no pairs), so nothing is cleared beforehand, and no result depends on the thread count.
 */
final class LatentGradients {

    /** Blocks of latents: fixed, so db_dec's partial sums are the same for every thread count. */
    static final int BLOCKS = 64;

    private final Workers workers;
    private int[] blockStart = new int[BLOCKS + 1];
    private float[] partial = new float[0];

    LatentGradients(Workers workers) {
        this.workers = workers;
    }

    /**
     * Writes dW_dec, dW_enc, db_enc into grads and returns Σ_i db_enc[i]·W_enc[i] in double.
     *
     * @param x     activations [N, d]
     * @param dxhat gradient of the loss at x̂ [N, d]
     * @param daux  gradient at the AuxK reconstruction, α included; read only where aux has pairs [N, d]
     */
    double[] compute(Params p, float[] x, float[] dxhat, float[] daux, LatentPairs top, LatentPairs aux, Params grads) {
        int m = p.m(), d = p.d(), blocks = Math.min(BLOCKS, m);
        cutBlocks(top, aux, m, blocks);
        if (partial.length < blocks * d) partial = new float[blocks * d];
        workers.forEach(blocks, b -> {
            Arrays.fill(partial, b * d, (b + 1) * d, 0f);
            for (int i = blockStart[b]; i < blockStart[b + 1]; i++) {
                latentRows(p, i, x, dxhat, daux, top, aux, grads);
                float dbEnc = grads.bEnc()[i];
                if (dbEnc != 0f) RowKernels.axpy(dbEnc, p.wEnc(), i * d, partial, b * d, d);
            }
        });
        double[] sum = new double[d];
        for (int b = 0; b < blocks; b++)
            for (int j = 0; j < d; j++) sum[j] += partial[b * d + j];
        return sum;
    }

    /** Cuts [0, M) into blocks of about equal cost, one row write plus one row per pair for each latent. */
    private void cutBlocks(LatentPairs top, LatentPairs aux, int m, int blocks) {
        long total = (long) m + top.start[m] + aux.start[m];
        long cost = 0;
        int b = 1;
        blockStart[0] = 0;
        for (int i = 0; i < m && b < blocks; i++) {
            cost += 1 + top.count(i) + aux.count(i);
            while (b < blocks && cost * blocks >= total * b) blockStart[b++] = i + 1;
        }
        while (b <= blocks) blockStart[b++] = m;
    }

    /** The three gradient rows of latent i; dW_dec and dW_enc summed in registers, top pairs then AuxK pairs. */
    private static void latentRows(Params p, int i, float[] x, float[] dxhat, float[] daux,
                                   LatentPairs top, LatentPairs aux, Params grads) {
        int d = p.d(), row = i * d;
        float[] gDec = grads.wDec(), gEnc = grads.wEnc(), bDec = p.bDec();
        if (top.count(i) + aux.count(i) == 0) {
            Arrays.fill(gDec, row, row + d, 0f);
            Arrays.fill(gEnc, row, row + d, 0f);
            grads.bEnc()[i] = 0f;
            return;
        }
        int j = 0;
        for (int bound = F.loopBound(d); j < bound; j += F.length()) {
            FloatVector bd = FloatVector.fromArray(F, bDec, j), dec = FloatVector.zero(F), enc = FloatVector.zero(F);
            for (int q = top.start[i]; q < top.start[i + 1]; q++) {
                int at = top.rowOff[q] + j;
                if (top.a[q] != 0f) dec = FloatVector.fromArray(F, dxhat, at).fma(FloatVector.broadcast(F, top.a[q]), dec);
                if (top.dz[q] != 0f) enc = FloatVector.fromArray(F, x, at).sub(bd).fma(FloatVector.broadcast(F, top.dz[q]), enc);
            }
            for (int q = aux.start[i]; q < aux.start[i + 1]; q++) {
                int at = aux.rowOff[q] + j;
                if (aux.a[q] != 0f) dec = FloatVector.fromArray(F, daux, at).fma(FloatVector.broadcast(F, aux.a[q]), dec);
                if (aux.dz[q] != 0f) enc = FloatVector.fromArray(F, x, at).sub(bd).fma(FloatVector.broadcast(F, aux.dz[q]), enc);
            }
            dec.intoArray(gDec, row + j);
            enc.intoArray(gEnc, row + j);
        }
        for (; j < d; j++) {
            float dec = 0f, enc = 0f;
            for (int q = top.start[i]; q < top.start[i + 1]; q++) {
                dec = Math.fma(top.a[q], dxhat[top.rowOff[q] + j], dec);
                enc = Math.fma(top.dz[q], x[top.rowOff[q] + j] - bDec[j], enc);
            }
            for (int q = aux.start[i]; q < aux.start[i + 1]; q++) {
                dec = Math.fma(aux.a[q], daux[aux.rowOff[q] + j], dec);
                enc = Math.fma(aux.dz[q], x[aux.rowOff[q] + j] - bDec[j], enc);
            }
            gDec[row + j] = dec;
            gEnc[row + j] = enc;
        }
        double dbEnc = 0;
        for (int q = top.start[i]; q < top.start[i + 1]; q++) dbEnc += top.dz[q];
        for (int q = aux.start[i]; q < aux.start[i + 1]; q++) dbEnc += aux.dz[q];
        grads.bEnc()[i] = (float) dbEnc;
    }
}
