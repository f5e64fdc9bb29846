package gsae.train;

import gsae.config.SaeConfig;
import gsae.config.UserError;
import gsae.cpu.ReferenceOps;
import gsae.data.BatchSource;
import gsae.data.Teacher;
import gsae.data.TeacherConfig;
import gsae.ops.Batch;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.Scales;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvaluatorTest {

    private static final double EPS32 = Math.ulp(1f);
    private static final Ops OPS = new ReferenceOps();
    private static final Teacher TEACHER = Teacher.standard(1);
    private static final int D = TEACHER.d();

    /** Decoder and encoder rows are exactly the teacher's features, biases 0. */
    private static Params trueFeatures() {
        int m = TEACHER.features();
        float[] dirs = TEACHER.directions();
        return new Params(D, m, dirs.clone(), new float[m], dirs.clone(), new float[D]);
    }

    private static Params random(int m, long seed) {
        return Params.init(D, m, seed, new float[D]);
    }

    /**
     * x̂ = x up to rounding: the first d latents are the identity shifted by c (b_dec = −c, so
     * z = x + c > 0 and a − c = x); the other d never win (b_enc = −1000) and stay dead.
     */
    private static Params exact(float c) {
        Params p = Params.zeros(D, 2 * D);
        for (int j = 0; j < D; j++) {
            p.wEnc()[j * D + j] = 1;
            p.wDec()[j * D + j] = 1;
            p.wDec()[(D + j) * D + j] = 1;
            p.bEnc()[D + j] = -1000;
            p.bDec()[j] = -c;
        }
        return p;
    }

    @Test
    void trueFeaturesAreRecoveredAndRandomRowsAreNot() {
        SaeConfig cfg = SaeConfig.of(D, TEACHER.features(), 16, 0f);
        EvalReport truth = Evaluator.onTeacher(OPS, cfg, trueFeatures(), Scales.NONE, TEACHER, Teacher.EVAL_STREAM, 256, 128);
        EvalReport noise = Evaluator.onTeacher(OPS, cfg, random(TEACHER.features(), 3), Scales.NONE, TEACHER, Teacher.EVAL_STREAM, 256, 128);
        assertEquals(3, truth.recovery().size());
        truth.recovery().forEach((family, r) -> {
            assertEquals(1.0, r.meanBestCos(), 4 * D * EPS32, family);
            assertEquals(1.0, r.above09(), family);
        });
        noise.recovery().forEach((family, r) -> {
            assertTrue(r.meanBestCos() < 0.6, family + " random mean best cos " + r.meanBestCos());
            assertEquals(0.0, r.above09(), family);
        });
        assertEquals(TEACHER.config().loudInert(), truth.recovery().get("loud_inert").features());
        assertEquals(TEACHER.config().quietDecisive(), truth.recovery().get("quiet_decisive").features());
        assertEquals(TEACHER.config().ordinary(), truth.recovery().get("ordinary").features());
    }

    /**
     * With fewer features than dimensions an SAE can be exact: decoder rows the features, encoder
     * rows their dual basis (W_enc = (D·Dᵀ)⁻¹·D, so W_enc·dir_f = e_f and z = c + W_enc·ε). What is
     * left unexplained is the small noise alone.
     */
    @Test
    void dualBasisSaeOnAnUndercompleteTeacherReconstructsUpToNoise() {
        Teacher small = new Teacher(new TeacherConfig(D, 16, 16, 16, 16, 0.05, 0.2, 4, 0.6, 1.5, 0.05, 0.95, 0.5, 4, 0.01), 2);
        int f = small.features();
        float[] dirs = small.directions();
        Params p = new Params(D, f, dualBasis(dirs, f), new float[f], dirs.clone(), new float[D]);
        SaeConfig cfg = SaeConfig.of(D, f, 16, 0f);
        EvalReport r = Evaluator.onTeacher(OPS, cfg, p, Scales.NONE, small, Teacher.EVAL_STREAM, 512, 128);
        r.recovery().forEach((family, rec) -> assertEquals(1.0, rec.meanBestCos(), 4 * D * EPS32, family));
        // Noise of σ = 0.01 carries d·σ² = 0.0064 per token against ~20 of signal: FVU near 3e-4.
        assertTrue(r.fvu() < 0.005, "FVU " + r.fvu());
        assertEquals(1.0, r.downstream().lossRecovered(), 0.02, "loss recovered");
        assertTrue(r.downstream().kl() < 0.005, "KL " + r.downstream().kl());

        EvalReport random = Evaluator.onTeacher(OPS, cfg, Params.init(D, f, 4, new float[D]), Scales.NONE, small, Teacher.EVAL_STREAM, 512, 128);
        assertTrue(random.fvu() > 10 * r.fvu(), "random FVU " + random.fvu() + " vs dual basis " + r.fvu());
        assertTrue(random.downstream().lossRecovered() < r.downstream().lossRecovered());
        random.recovery().forEach((family, rec) -> assertTrue(rec.meanBestCos() < 0.7, family + " " + rec.meanBestCos()));
    }

    /** (D·Dᵀ)⁻¹·D by Gauss–Jordan elimination with partial pivoting, in double.  dirs [F, d], returns [F, d] */
    private static float[] dualBasis(float[] dirs, int f) {
        double[][] a = new double[f][f + D];
        for (int i = 0; i < f; i++) {
            for (int k = 0; k < f; k++)
                for (int j = 0; j < D; j++) a[i][k] += (double) dirs[i * D + j] * dirs[k * D + j];
            for (int j = 0; j < D; j++) a[i][f + j] = dirs[i * D + j];
        }
        for (int col = 0; col < f; col++) {
            int pivot = col;
            for (int i = col + 1; i < f; i++) if (Math.abs(a[i][col]) > Math.abs(a[pivot][col])) pivot = i;
            double[] swap = a[col];
            a[col] = a[pivot];
            a[pivot] = swap;
            for (int i = 0; i < f; i++) {
                if (i == col) continue;
                double factor = a[i][col] / a[col][col];
                for (int k = col; k < f + D; k++) a[i][k] -= factor * a[col][k];
            }
        }
        float[] out = new float[f * D];
        for (int i = 0; i < f; i++)
            for (int j = 0; j < D; j++) out[i * D + j] = (float) (a[i][f + j] / a[i][i]);
        return out;
    }

    @Test
    void exactReconstructionRecoversAllTheLossEvenWithAnActivationScale() {
        Scales scales = new Scales(1f, 2f);
        float c = 64;
        SaeConfig cfg = SaeConfig.of(D, 2 * D, D, 0f);
        EvalReport r = Evaluator.onTeacher(OPS, cfg, exact(c), scales, TEACHER, Teacher.EVAL_STREAM, 300, 128);
        // x̂ − x is the rounding of (x·s + c) − c: at most an ulp of 2c per coordinate, divided by s.
        double perCoordinate = Math.ulp(2 * c) / scales.actScale();
        EvalReport.Downstream down = r.downstream();
        assertEquals(Math.log(TEACHER.downstream().classes()), down.zeroLoss(), 1e-12, "x = 0 gives uniform logits");
        double lossTolerance = perCoordinate * D * TEACHER.config().gain() * 2;
        assertEquals(down.cleanLoss(), down.splicedLoss(), lossTolerance);
        assertEquals(1.0, down.lossRecovered(), lossTolerance / (down.zeroLoss() - down.cleanLoss()));
        assertEquals(0.0, down.kl(), lossTolerance * lossTolerance);
        assertTrue(r.fvu() < 1e-9, "FVU " + r.fvu());
        assertEquals(0.5, r.deadFraction(), "the second half of the latents never wins");
        assertEquals(D, r.l0());
    }

    @Test
    void zeroReconstructionRecoversNothing() {
        Params p = Params.zeros(D, 8);
        Arrays.fill(p.bEnc(), -1f);
        SaeConfig cfg = SaeConfig.of(D, 8, 2, 0f);
        EvalReport r = Evaluator.onTeacher(OPS, cfg, p, Scales.NONE, TEACHER, Teacher.EVAL_STREAM, 200, 64);
        assertEquals(r.downstream().zeroLoss(), r.downstream().splicedLoss(), 1e-12);
        assertEquals(0.0, r.downstream().lossRecovered(), 1e-12);
        assertEquals(0.0, r.l0());
        assertEquals(0.75, r.deadFraction(), "ties select latents 0 and 1 on every token");
    }

    @Test
    void fvuIsOneRatioOverAllTokensNotAMeanOfBatches() {
        SaeConfig cfg = SaeConfig.of(D, 64, 8, 0f);
        Params p = random(64, 5);
        int tokens = 300;
        EvalReport whole = Evaluator.onData(OPS, cfg, p, Scales.NONE, TEACHER.source(4), tokens, tokens);
        EvalReport pieces = Evaluator.onData(OPS, cfg, p, Scales.NONE, TEACHER.source(4), tokens, 37);
        assertEquals(whole.fvu(), pieces.fvu(), 1e-9 * whole.fvu());
        assertEquals(whole.l0(), pieces.l0(), 1e-12);
        assertEquals(whole.deadFraction(), pieces.deadFraction());

        float[] x = new float[tokens * D], g = new float[tokens * D];
        TEACHER.source(4).next(x, g, tokens);
        float[] xhat = OPS.decode(p, OPS.encodeSelect(p, new Batch(tokens, D, x, g), 0f, 8, null, 0).top(), true);
        double sse = 0, variance = 0;
        for (int j = 0; j < D; j++) {
            double mean = 0;
            for (int row = 0; row < tokens; row++) mean += x[row * D + j];
            mean /= tokens;
            for (int row = 0; row < tokens; row++) {
                variance += (x[row * D + j] - mean) * (x[row * D + j] - mean);
                sse += (x[row * D + j] - xhat[row * D + j]) * (double) (x[row * D + j] - xhat[row * D + j]);
            }
        }
        assertEquals(sse / variance, whole.fvu(), 1e-9 * whole.fvu());
        assertNull(whole.downstream());
        assertNull(whole.recovery());
    }

    @Test
    void teacherAndDataEvaluationAgreeOnReconstruction() {
        SaeConfig cfg = SaeConfig.of(D, 64, 8, 2f);
        Params p = random(64, 6);
        Scales scales = new Scales(0.5f, 1.5f);
        EvalReport teacher = Evaluator.onTeacher(OPS, cfg, p, scales, TEACHER, 77, 200, 50);
        EvalReport data = Evaluator.onData(OPS, cfg, p, scales, TEACHER.source(77), 200, 50);
        assertEquals(teacher.fvu(), data.fvu());
        assertEquals(teacher.l0(), data.l0());
        assertEquals(teacher.deadFraction(), data.deadFraction());
    }

    @Test
    void withoutGradientsBetaFallsBackToZeroAndSaysSoOnce() {
        Params p = random(64, 8);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);
        BatchSource a = TEACHER.source(9), b = TEACHER.source(9), c = TEACHER.source(9);
        EvalReport blind = Evaluator.onData(OPS, SaeConfig.of(D, 64, 4, 50f), p, Scales.NONE, a, 256, 64, false, out);
        EvalReport plain = Evaluator.onData(OPS, SaeConfig.of(D, 64, 4, 0f), p, Scales.NONE, b, 256, 64, true, out);
        EvalReport aware = Evaluator.onData(OPS, SaeConfig.of(D, 64, 4, 50f), p, Scales.NONE, c, 256, 64, true, out);
        assertEquals(plain.fvu(), blind.fvu());
        assertEquals(plain.l0(), blind.l0());
        assertTrue(aware.fvu() != plain.fvu(), "β = 50 with gradients must change the selection");
        String said = log.toString(StandardCharsets.UTF_8);
        assertEquals(1, said.lines().count(), said);
        assertTrue(said.contains("falls back to 0"), said);
    }

    @Test
    void mismatchedWidthIsAClearError() {
        SaeConfig cfg = SaeConfig.of(D + 1, 8, 2, 0f);
        Params p = Params.init(D + 1, 8, 1, new float[D + 1]);
        UserError e = assertThrows(UserError.class, () -> Evaluator.onData(OPS, cfg, p, Scales.NONE, TEACHER.source(1), 10, 10));
        assertTrue(e.getMessage().contains("d=" + (D + 1)) && e.getMessage().contains("d=" + D), e.getMessage());
    }
}
