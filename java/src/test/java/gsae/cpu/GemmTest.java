package gsae.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Each product against a naive double product. A float FMA chain of length k errs by at most
 * k·u·Σ_j |a_j b_j| (u = 2^-24); the check allows (k + 1)·2^-23·Σ|a_j b_j|, a 2× margin.
 */
class GemmTest {

    private static float[] random(long seed, int size) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[size];
        for (int i = 0; i < size; i++) v[i] = (float) (rng.nextDouble() * 2 - 1);
        return v;
    }

    /** Asserts c[r, col] = Σ_j a(r, j)·b(j, col) with a(r, j) = a[r·ar + j·aj] and b(j, col) = b[j·bj + col·bc]. */
    private static void assertProduct(float[] c, float[] a, int ar, int aj, float[] b, int bj, int bc, int n, int m, int depth, String what) {
        for (int r = 0; r < n; r++) {
            for (int col = 0; col < m; col++) {
                double want = 0, magnitude = 0;
                for (int j = 0; j < depth; j++) {
                    double t = (double) a[r * ar + j * aj] * b[j * bj + col * bc];
                    want += t;
                    magnitude += Math.abs(t);
                }
                double tol = (depth + 1) * 0x1p-23 * magnitude;
                if (Math.abs(c[r * m + col] - want) > tol)
                    fail(what + " [" + r + ", " + col + "] = " + c[r * m + col] + ", want " + want + " ± " + tol);
            }
        }
    }

    @ParameterizedTest(name = "n={0} m={1} k={2}")
    @CsvSource({"1, 1, 1", "5, 3, 1", "13, 37, 5", "6, 32, 64", "100, 70, 33", "97, 129, 77"})
    void productsMatchNaiveDouble(int n, int m, int k) {
        try (Workers w = new Workers(2)) {
            float[] a = random(n, n * k), bt = random(m + 100, m * k), b = random(m + 200, k * m), at = random(n + 300, k * n);
            assertProduct(Gemm.abt(w, a, bt, n, m, k), a, k, 1, bt, 1, k, n, m, k, "A·Bᵀ");
            assertProduct(Gemm.ab(w, a, b, n, k, m), a, k, 1, b, m, 1, n, m, k, "A·B");
            assertProduct(Gemm.atb(w, at, b, k, n, m), at, 1, n, b, m, 1, n, m, k, "Aᵀ·B");
        }
    }

    @Test
    void resultDoesNotDependOnThreadCount() {
        int n = 300, m = 90, k = 41;
        float[] a = random(1, n * k), b = random(2, m * k);
        float[] one, three;
        try (Workers w = new Workers(1)) {
            one = Gemm.abt(w, a, b, n, m, k);
        }
        try (Workers w = new Workers(3)) {
            three = Gemm.abt(w, a, b, n, m, k);
        }
        assertArrayEquals(one, three);
    }
}
