package gsae.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector-API loops over float rows that the sparse stages share, each with a scalar tail for the
 * last d mod (lane count) values. Lane sums are added in lane order rather than through
 * {@code reduceLanes(ADD)}, whose order the Vector API leaves open: the result is then the same
 * whether a method runs interpreted or compiled, which the thread-count independence relies on.
 */
final class RowKernels {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private RowKernels() {}

    /** Σ_j a[aOff + j]·b[bOff + j] for j < len. */
    static float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        FloatVector acc = FloatVector.zero(F);
        int j = 0;
        for (int bound = F.loopBound(len); j < bound; j += F.length())
            acc = FloatVector.fromArray(F, a, aOff + j).fma(FloatVector.fromArray(F, b, bOff + j), acc);
        float sum = laneSum(acc);
        for (; j < len; j++) sum = Math.fma(a[aOff + j], b[bOff + j], sum);
        return sum;
    }

    /** Σ_j (a[aOff + j] − c[j])² for j < len. */
    static float centredSquares(float[] a, int aOff, float[] c, int len) {
        FloatVector acc = FloatVector.zero(F);
        int j = 0;
        for (int bound = F.loopBound(len); j < bound; j += F.length()) {
            FloatVector r = FloatVector.fromArray(F, a, aOff + j).sub(FloatVector.fromArray(F, c, j));
            acc = r.fma(r, acc);
        }
        float sum = laneSum(acc);
        for (; j < len; j++) {
            float r = a[aOff + j] - c[j];
            sum = Math.fma(r, r, sum);
        }
        return sum;
    }

    /** out[outOff + j] = a[aOff + j] − b[bOff + j] for j < len. */
    static void subtract(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int len) {
        int j = 0;
        for (int bound = F.loopBound(len); j < bound; j += F.length())
            FloatVector.fromArray(F, a, aOff + j).sub(FloatVector.fromArray(F, b, bOff + j)).intoArray(out, outOff + j);
        for (; j < len; j++) out[outOff + j] = a[aOff + j] - b[bOff + j];
    }

    /** out[off + j] = alpha·x[off + j] for j < len. */
    static void scaleInto(float alpha, float[] x, float[] out, int off, int len) {
        int j = 0;
        for (int bound = F.loopBound(len); j < bound; j += F.length())
            FloatVector.fromArray(F, x, off + j).mul(alpha).intoArray(out, off + j);
        for (; j < len; j++) out[off + j] = alpha * x[off + j];
    }

    /** y[yOff + j] = alpha·y[yOff + j] for j < len. */
    static void scale(float alpha, float[] y, int yOff, int len) {
        int j = 0;
        for (int bound = F.loopBound(len); j < bound; j += F.length())
            FloatVector.fromArray(F, y, yOff + j).mul(alpha).intoArray(y, yOff + j);
        for (; j < len; j++) y[yOff + j] *= alpha;
    }

    /** y[yOff + j] += alpha·x[xOff + j] for j < len. */
    static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int len) {
        int j = 0;
        for (int bound = F.loopBound(len); j < bound; j += F.length())
            FloatVector.fromArray(F, x, xOff + j).fma(FloatVector.broadcast(F, alpha), FloatVector.fromArray(F, y, yOff + j)).intoArray(y, yOff + j);
        for (; j < len; j++) y[yOff + j] = Math.fma(alpha, x[xOff + j], y[yOff + j]);
    }

    private static float laneSum(FloatVector v) {
        float sum = 0f;
        for (int l = 0; l < F.length(); l++) sum += v.lane(l);
        return sum;
    }
}
