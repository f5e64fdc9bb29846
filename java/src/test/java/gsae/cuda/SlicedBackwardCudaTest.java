package gsae.cuda;

import gsae.cpu.ReferenceOps;
import gsae.ops.Batch;
import gsae.ops.Denominators;
import gsae.ops.Encoded;
import gsae.ops.Losses;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.Selection;
import gsae.parallel.Slices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * sparse_backward.cu with the global batch's denominators (data parallel, issue #15): on each slice
 * of a batch, the device's losses and gradients equal the reference's given the same denominators,
 * to SelfCheck's backward tolerance ((k + d + 16)·u·κ relative to the largest value).
 */
class SlicedBackwardCudaTest {

    private static final double U = 0x1p-24;

    @AfterAll
    static void close() {
        Gpu.closeAll();
    }

    static List<CheckCase> cases() {
        return Gpu.emulatedCases().stream().filter(c -> c.d() == 77 || c.d() == 7).limit(3).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void slicesWithGlobalDenominatorsAgreeWithTheReference(CheckCase c) {
        Ops gpu = Gpu.backend(Precision.F32).ops();
        ReferenceOps ref = new ReferenceOps();
        Params p = c.params();
        Batch b = c.batch();
        Encoded enc = ref.encodeSelect(p, b, c.beta(), c.k(), c.dead(), c.auxK());
        float[] xhat = ref.decode(p, enc.top(), true);
        Denominators global = denominators(b, xhat);
        for (int r = 0; r < 2; r++) {
            int lo = Slices.start(b.n(), r, 2), hi = Slices.start(b.n(), r + 1, 2);
            Batch slice = Slices.of(b, r, 2);
            Encoded mine = new Encoded(rows(enc.top(), lo, hi), rows(enc.aux(), lo, hi));
            float[] sliceXhat = Arrays.copyOfRange(xhat, lo * b.d(), hi * b.d());
            Params want = Params.zeros(c.d(), c.m()), got = Params.zeros(c.d(), c.m());
            got.fill(Float.NaN);
            Losses lw = ref.backward(p, slice, mine, sliceXhat, 0.25f, want, global);
            Losses lg = gpu.backward(p, slice, mine, sliceXhat, 0.25f, got, global);
            double eps = (c.k() + c.d() + 16) * U * SelfCheck.amplification(b, xhat, enc, p);
            String what = c.label() + " slice " + r;
            near(what + " fvu", lw.fvu(), lg.fvu(), eps * lw.fvu() + U);
            near(what + " auxk", lw.auxk(), lg.auxk(), eps * lw.auxk() + U);
            for (float[][] t : new float[][][]{{want.wEnc(), got.wEnc()}, {want.bEnc(), got.bEnc()}, {want.wDec(), got.wDec()}, {want.bDec(), got.bDec()}}) {
                double scale = 0;
                for (float w : t[0]) scale = Math.max(scale, Math.abs(w));
                for (int i = 0; i < t[0].length; i++)
                    near(what + " gradient [" + i + "]", t[0][i], t[1][i], eps * (Math.abs(t[0][i]) + scale) + Double.MIN_NORMAL);
            }
        }
    }

    private static void near(String what, double want, double got, double tolerance) {
        assertTrue(Math.abs(got - want) <= tolerance, what + ": want " + want + ", got " + got + ", tolerance " + tolerance);
    }

    /** Σ‖x − x̄‖² and Σ‖e − ē‖² over the whole batch, in double. */
    private static Denominators denominators(Batch b, float[] xhat) {
        int n = b.n(), d = b.d();
        double[] mx = new double[d], me = new double[d];
        for (int i = 0; i < n * d; i++) {
            mx[i % d] += b.x()[i] / (double) n;
            me[i % d] += (b.x()[i] - xhat[i]) / (double) n;
        }
        double sx = 0, se = 0;
        for (int i = 0; i < n * d; i++) {
            sx += (b.x()[i] - mx[i % d]) * (b.x()[i] - mx[i % d]);
            double e = b.x()[i] - xhat[i] - me[i % d];
            se += e * e;
        }
        return new Denominators(sx, se);
    }

    private static Selection rows(Selection s, int lo, int hi) {
        if (s == null) return null;
        return new Selection(hi - lo, s.k(), Arrays.copyOfRange(s.indices(), lo * s.k(), hi * s.k()),
                Arrays.copyOfRange(s.values(), lo * s.k(), hi * s.k()));
    }
}
