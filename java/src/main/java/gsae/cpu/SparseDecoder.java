package gsae.cpu;

import gsae.ops.Params;
import gsae.ops.Selection;
import jdk.incubator.vector.FloatVector;

import java.util.Arrays;

import static gsae.cpu.RowKernels.F;

/**
 * SPEC §2's decoder on the selection alone: x̂_n = Σ_{slot} a[n, slot]·W_dec[S[n, slot]] (+ b_dec),
 * O(N·k·d). Parallel over tokens; each output lane sums its k terms in slot order in a register.
 */
final class SparseDecoder {

    /** Tokens per task: enough work to amortise a hand-off, small enough to balance two to 64 workers. */
    static final int TOKENS_PER_TASK = 16;

    private final Workers workers;

    SparseDecoder(Workers workers) {
        this.workers = workers;
    }

    /** Writes x̂ (with b_dec when {@code withBias}) into out.  out: [N, d] */
    void decode(Params p, Selection s, boolean withBias, float[] out) {
        int n = s.n(), d = p.d();
        float[] bias = withBias ? p.bDec() : null;
        workers.forEach(tasks(n), t -> {
            for (int row = t * TOKENS_PER_TASK, end = Math.min(n, row + TOKENS_PER_TASK); row < end; row++)
                decodeRow(p.wDec(), d, s, row, bias, out, row * d);
        });
    }

    static int tasks(int n) {
        return (n + TOKENS_PER_TASK - 1) / TOKENS_PER_TASK;
    }

    /**
     * out[outOff + j] = bias[j] + Σ_slot a[row, slot]·W_dec[S[row, slot], j] (bias 0 when null).
     *
     * @param wDec decoder rows [M, d]
     * @param bias b_dec or null [d]
     * @param out  destination, d values from outOff
     */
    static void decodeRow(float[] wDec, int d, Selection s, int row, float[] bias, float[] out, int outOff) {
        int k = s.k(), first = row * k;
        int[] idx = s.indices();
        float[] val = s.values();
        int j = 0;
        for (int bound = F.loopBound(d); j < bound; j += F.length()) {
            FloatVector acc = bias == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bias, j);
            for (int slot = first; slot < first + k; slot++)
                if (val[slot] != 0f) acc = FloatVector.fromArray(F, wDec, idx[slot] * d + j).fma(FloatVector.broadcast(F, val[slot]), acc);
            acc.intoArray(out, outOff + j);
        }
        if (j == d) return;
        if (bias == null) Arrays.fill(out, outOff + j, outOff + d, 0f);
        else System.arraycopy(bias, j, out, outOff + j, d - j);
        for (int slot = first; slot < first + k; slot++)
            for (int jj = j; jj < d; jj++)
                out[outOff + jj] = Math.fma(val[slot], wDec[idx[slot] * d + jj], out[outOff + jj]);
    }
}
