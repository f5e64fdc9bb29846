package gsae.data;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TeacherTest {

    private static final double EPS32 = Math.ulp(1f);

    private static float[][] draw(BatchSource source, int n) {
        float[] x = new float[n * source.d()], g = new float[n * source.d()];
        source.next(x, g, n);
        return new float[][]{x, g};
    }

    @Test
    void sameSeedsGiveTheSameTokensAndOtherSeedsDiffer() {
        Teacher a = Teacher.standard(7), b = Teacher.standard(7);
        assertArrayEquals(a.directions(), b.directions());
        float[][] first = draw(a.source(3), 200), again = draw(b.source(3), 200);
        assertArrayEquals(first[0], again[0]);
        assertArrayEquals(first[1], again[1]);
        assertFalse(Arrays.equals(first[0], draw(a.source(4), 200)[0]), "another stream seed gives other tokens");
        assertFalse(Arrays.equals(first[0], draw(Teacher.standard(8).source(3), 200)[0]), "another teacher seed gives other tokens");
    }

    @Test
    void seekContinuesExactlyWhereReadingWouldBe() {
        Teacher t = Teacher.standard(1);
        int d = t.d();
        float[][] whole = draw(t.source(5), 300);
        BatchSource resumed = t.source(5);
        resumed.seek(137);
        float[][] tail = draw(resumed, 163);
        assertArrayEquals(Arrays.copyOfRange(whole[0], 137 * d, 300 * d), tail[0]);
        assertArrayEquals(Arrays.copyOfRange(whole[1], 137 * d, 300 * d), tail[1]);
        assertEquals(300, resumed.position());

        BatchSource chunked = t.source(5);
        float[][] head = draw(chunked, 100), rest = draw(chunked, 200);
        assertArrayEquals(Arrays.copyOfRange(whole[0], 0, 100 * d), head[0]);
        assertArrayEquals(Arrays.copyOfRange(whole[0], 100 * d, 300 * d), rest[0]);
    }

    @Test
    void directionsAreUnitAndCodesRebuildXUpToNoise() {
        Teacher t = Teacher.standard(2);
        int d = t.d(), f = t.features();
        float[] dirs = t.directions();
        for (int i = 0; i < f; i++) {
            double ss = 0;
            for (int j = 0; j < d; j++) ss += (double) dirs[i * d + j] * dirs[i * d + j];
            assertEquals(1.0, Math.sqrt(ss), 4 * d * EPS32, "norm of feature " + i);
        }
        int n = 2000;
        double residualSquares = 0, active = 0, expectedActive = 0;
        double[] codes = new double[f];
        float[] x = new float[d];
        for (int i = 0; i < f; i++) expectedActive += t.rate(i);
        for (int token = 0; token < n; token++) {
            t.sample(9, token, x, null, 0, codes);
            for (int j = 0; j < d; j++) {
                double rebuilt = 0;
                for (int i = 0; i < f; i++) rebuilt += codes[i] * dirs[i * d + j];
                residualSquares += (x[j] - rebuilt) * (x[j] - rebuilt);
            }
            for (double c : codes) if (c != 0) active++;
        }
        double noise = t.config().noise();
        // The residual is the Gaussian noise: its mean square is noise² with relative spread √(2/(n·d)).
        assertEquals(noise * noise, residualSquares / (n * d), 5 * noise * noise * Math.sqrt(2.0 / (n * d)));
        // Features fire independently: the count per token has variance ≤ its mean.
        assertEquals(expectedActive, active / n, 5 * Math.sqrt(expectedActive / n));
    }

    @Test
    void loudFeaturesAreLargerAndQuietOnesMoveTheLossMore() {
        Teacher t = Teacher.standard(3);
        int d = t.d(), f = t.features(), n = 3000;
        float[] dirs = t.directions();
        float[] x = new float[n * d], g = new float[n * d];
        int[] labels = new int[n];
        t.source(11).next(x, g, labels, n);
        double[] codes = new double[f];
        float[] scratch = new float[d];
        double[] magnitude = new double[3], fires = new double[3], sensitivity = new double[3], members = new double[3];
        for (int token = 0; token < n; token++) {
            t.sample(11, token, scratch, null, 0, codes);
            for (int i = 0; i < f; i++) {
                int fam = t.family(i).ordinal();
                if (codes[i] != 0) {
                    magnitude[fam] += Math.abs(codes[i]);
                    fires[fam]++;
                }
                double dot = 0;
                for (int j = 0; j < d; j++) dot += (double) g[token * d + j] * dirs[i * d + j];
                sensitivity[fam] += Math.abs(dot);
                members[fam]++;
            }
        }
        int loud = FeatureFamily.LOUD_INERT.ordinal(), quiet = FeatureFamily.QUIET_DECISIVE.ordinal();
        double loudMagnitude = magnitude[loud] / fires[loud], quietMagnitude = magnitude[quiet] / fires[quiet];
        double loudSensitivity = sensitivity[loud] / members[loud], quietSensitivity = sensitivity[quiet] / members[quiet];
        assertTrue(loudMagnitude > 4 * quietMagnitude, "mean |c| loud " + loudMagnitude + " vs quiet " + quietMagnitude);
        // Planted: U reads quiet directions with weight 0.95 and loud ones with 0.05, so E|g·f| differs about 19×.
        assertTrue(quietSensitivity > 10 * loudSensitivity, "mean |g·f| quiet " + quietSensitivity + " vs loud " + loudSensitivity);
    }

    @Test
    void labelsAreDrawnFromTheCleanPrediction() {
        Teacher t = Teacher.standard(4);
        int d = t.d(), n = 4000, classes = t.downstream().classes();
        float[] x = new float[n * d], g = new float[n * d];
        int[] labels = new int[n];
        t.source(2).next(x, g, labels, n);
        double[] logp = new double[classes];
        double loss = 0, entropy = 0, entropySquares = 0;
        for (int row = 0; row < n; row++) {
            t.downstream().logProbabilities(x, row, logp);
            loss -= logp[labels[row]];
            double h = 0, h2 = 0;
            for (double lp : logp) {
                h -= Math.exp(lp) * lp;
                h2 += Math.exp(lp) * lp * lp;
            }
            entropy += h;
            entropySquares += h2 - h * h;
        }
        // With y ~ softmax, E[−log p_y | x] is the entropy and Var[−log p_y | x] = E[log² p] − H².
        assertEquals(entropy / n, loss / n, 5 * Math.sqrt(entropySquares) / n);
        assertTrue(loss / n < Math.log(classes) - 0.5, "the prediction must be informative, clean loss " + loss / n);
    }

    @Test
    void gradientMatchesFiniteDifferencesOfTheLoss() {
        Teacher t = Teacher.standard(5);
        Downstream net = t.downstream();
        int d = t.d(), n = 4;
        float[] x = new float[n * d], g = new float[n * d];
        int[] labels = new int[n];
        t.source(1).next(x, g, labels, n);
        // Central differences err by h²/6·|L'''|; along one coordinate |L'''| ≤ (2·max|U_cj|)³ (third
        // cumulant of logit slopes bounded by their range). Rounding of the double loss is far below.
        double maxU = 0;
        for (float w : net.weights()) maxU = Math.max(maxU, Math.abs(w));
        double h = 0x1p-12, truncation = h * h / 6 * Math.pow(2 * maxU, 3);
        for (int row = 0; row < n; row++) {
            float[] one = Arrays.copyOfRange(x, row * d, (row + 1) * d);
            int[] label = {labels[row]};
            for (int j = 0; j < d; j++) {
                float keep = one[j];
                one[j] = (float) (keep + h);
                float up = one[j];
                double lossUp = net.lossSum(one, label, 1);
                one[j] = (float) (keep - h);
                float down = one[j];
                double lossDown = net.lossSum(one, label, 1);
                one[j] = keep;
                double fd = (lossUp - lossDown) / ((double) up - down);
                double exact = g[row * d + j];
                assertEquals(fd, exact, truncation + 4 * EPS32 * (Math.abs(exact) + maxU), "row " + row + ", coordinate " + j);
            }
        }
    }
}
