package gsae.cpu;

import gsae.ops.Batch;
import gsae.ops.Denominators;
import gsae.ops.Encoded;
import gsae.ops.Losses;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.Selection;
import gsae.parallel.Slices;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;

import static gsae.cpu.SparseProblem.assertClose;
import static gsae.cpu.SparseProblem.maxAbs;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Backward with the global batch's denominators (data parallel, issue #15): on every CPU backend,
 * the losses and gradients of the slices of a batch, summed, are the whole batch's, with the
 * reference on the whole batch as the oracle. Tolerance: FastOpsTest's for one backward, doubled
 * for the sum over slices (P float values, each within it, added in double and rounded once).
 */
class SlicedBackwardTest {

    private static final ReferenceOps REF = new ReferenceOps();

    @ParameterizedTest(name = "{0} ranks, β={1}, {2}")
    @CsvSource({"2, 0, reference", "3, 1, reference", "2, 1, cpu", "3, 0.5, cpu", "2, 1, dense", "3, 0, dense"})
    void slicesSumToTheWholeBatch(int p, float beta, String backend) {
        SparseProblem q = SparseProblem.random(13, 37, 3, 29, beta, 0.4, 6, 40 + p);
        float alpha = 0.25f;
        Encoded enc = REF.encodeSelect(q.params(), q.batch(), q.beta(), q.k(), q.dead(), q.auxK());
        assertTrue(enc.aux() != null, "AuxK runs");
        Params want = Params.zeros(q.d(), q.m());
        Losses lw = REF.backward(q.params(), q.batch(), enc, null, alpha, want);

        Ops ops = switch (backend) {
            case "reference" -> REF;
            case "cpu" -> new FastOps(2);
            default -> new DenseOps(2);
        };
        Denominators global = denominators(q.batch(), ops.decode(q.params(), enc.top(), true));
        double[][] sum = {new double[want.wEnc().length], new double[want.bEnc().length], new double[want.wDec().length], new double[want.bDec().length]};
        double fvu = 0, auxk = 0, loss = 0;
        for (int r = 0; r < p; r++) {
            Batch slice = Slices.of(q.batch(), r, p);
            int lo = Slices.start(q.n(), r, p), hi = Slices.start(q.n(), r + 1, p);
            Encoded mine = new Encoded(rows(enc.top(), lo, hi), rows(enc.aux(), lo, hi));
            Params g = Params.zeros(q.d(), q.m());
            Losses l = ops.backward(q.params(), slice, mine, ops.decode(q.params(), mine.top(), true), alpha, g, global);
            fvu += l.fvu();
            auxk += l.auxk();
            loss += l.loss();
            add(sum, g);
        }
        Params got = new Params(q.d(), q.m(), floats(sum[0]), floats(sum[1]), floats(sum[2]), floats(sum[3]));
        double eps = 2 * FastOpsTest.backwardEps(q);
        assertClose("FVU", lw.fvu(), fvu, eps);
        assertClose("AuxK", lw.auxk(), auxk, eps);
        assertClose("loss", lw.loss(), loss, eps);
        assertClose("dW_dec", want.wDec(), got.wDec(), eps, maxAbs(want.wDec()));
        assertClose("dW_enc", want.wEnc(), got.wEnc(), eps, maxAbs(want.wEnc()));
        assertClose("db_enc", want.bEnc(), got.bEnc(), eps, maxAbs(want.bEnc()));
        assertClose("db_dec", want.bDec(), got.bDec(), eps, FastOpsTest.dbDecTerms(q, enc, want));
    }

    @ParameterizedTest
    @CsvSource({"0", "-1", "NaN"})
    void aZeroOrBrokenDenominatorIsRefused(double fvu) {
        assertThrows(IllegalArgumentException.class, () -> new Denominators(fvu, 1));
    }

    /** Σ‖x − x̄‖² and Σ‖e − ē‖² over the whole batch, in double, e from the float x̂ as backward forms it. */
    static Denominators denominators(Batch b, float[] xhat) {
        double[] x = new double[b.x().length], e = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = b.x()[i];
            e[i] = b.x()[i] - xhat[i];
        }
        return new Denominators(ReferenceOps.centredSumOfSquares(x, b.n(), b.d()), ReferenceOps.centredSumOfSquares(e, b.n(), b.d()));
    }

    static Selection rows(Selection s, int lo, int hi) {
        if (s == null) return null;
        return new Selection(hi - lo, s.k(), Arrays.copyOfRange(s.indices(), lo * s.k(), hi * s.k()),
                Arrays.copyOfRange(s.values(), lo * s.k(), hi * s.k()));
    }

    private static void add(double[][] sum, Params g) {
        float[][] parts = {g.wEnc(), g.bEnc(), g.wDec(), g.bDec()};
        for (int t = 0; t < parts.length; t++)
            for (int i = 0; i < parts[t].length; i++) sum[t][i] += parts[t][i];
    }

    private static float[] floats(double[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (float) v[i];
        return out;
    }
}
