package gsae.cuda;

import gsae.cpu.CpuBackend;
import gsae.cpu.ReferenceOps;
import gsae.ops.Batch;
import gsae.ops.Denominators;
import gsae.ops.Encoded;
import gsae.ops.Losses;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.Selection;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The comparison machinery the GPU tests and {@code gsae selftest} rely on, exercised without a
 * GPU: the reference checked against itself must pass every stage, and an Ops that is wrong in
 * one number or one index must fail the stage it touches.
 */
class SelfCheckTest {

    private static final CheckCase SMALL = CheckCase.of(20, 7, 40, 4, 0.5f, 3);

    @Test
    void referenceAgreesWithItself() {
        for (Precision precision : Precision.values()) {
            SelfCheck check = new SelfCheck(new ReferenceOps(), precision, "ref");
            assertOk(check.encodeSelect(SMALL));
            assertOk(check.encodeSelect(CheckCase.of(20, 7, 4, 4, 0f, 4)));
        }
        SelfCheck check = new SelfCheck(new ReferenceOps(), Precision.F32, "ref");
        assertOk(check.decode(SMALL, true));
        assertOk(check.decode(SMALL, false));
        assertOk(check.backward(SMALL, 1f / 32));
        assertOk(check.update(SMALL));
        assertOk(SelfCheck.training(CpuBackend.reference(), CheckCase.of(24, 7, 30, 3, 0.5f, 5), 3, "ref"));
    }

    @Test
    void aSwappedLatentFailsEncodeSelect() {
        Ops swapped = new Wrapped() {
            @Override
            public Encoded encodeSelect(Params p, Batch b, float beta, int k, boolean[] dead, int auxK) {
                Encoded e = super.encodeSelect(p, b, beta, k, dead, auxK);
                int[] idx = e.top().indices();
                int worst = worstLatent(p, b, beta, idx, k);
                idx[0] = worst;
                Arrays.sort(idx, 0, k);
                return e;
            }
        };
        CheckResult r = new SelfCheck(swapped, Precision.F32, "bad").encodeSelect(SMALL);
        assertFalse(r.ok(), r.row());
        assertTrue(r.first().contains("row 0"), r.first());
        assertTrue(r.failures() >= 2, "the latent chosen and the one missed both count: " + r.row());
    }

    @Test
    void aNaNValueFailsEncodeSelect() {
        Ops poisoned = new Wrapped() {
            @Override
            public Encoded encodeSelect(Params p, Batch b, float beta, int k, boolean[] dead, int auxK) {
                Encoded e = super.encodeSelect(p, b, beta, k, dead, auxK);
                e.top().values()[5] = Float.NaN;
                return e;
            }
        };
        CheckResult r = new SelfCheck(poisoned, Precision.BF16, "bad").encodeSelect(SMALL);
        assertEquals(1, r.failures(), r.row());
    }

    @Test
    void aSmallErrorFailsDecodeAndBackward() {
        Ops off = new Wrapped() {
            @Override
            public float[] decode(Params p, Selection s, boolean withBias) {
                float[] x = super.decode(p, s, withBias);
                x[3] += 1e-3f;
                return x;
            }

            @Override
            public Losses backward(Params p, Batch b, Encoded enc, float[] xhat, float auxAlpha, Params grads, Denominators global) {
                Losses l = super.backward(p, b, enc, xhat, auxAlpha, grads, global);
                grads.bDec()[0] *= 1.001f;
                return l;
            }
        };
        SelfCheck check = new SelfCheck(off, Precision.F32, "bad");
        assertEquals(1, check.decode(SMALL, true).failures());
        assertEquals(1, check.backward(SMALL, 1f / 32).failures());
    }

    /** The allowed latent of lowest score in row 0 that the selection does not hold. */
    private static int worstLatent(Params p, Batch b, float beta, int[] idx, int k) {
        int worst = -1;
        double lowest = Double.POSITIVE_INFINITY;
        for (int i = 0; i < p.m(); i++) {
            boolean held = false;
            for (int j = 0; j < k; j++) held |= idx[j] == i;
            if (held) continue;
            double z = p.bEnc()[i], s = 0;
            for (int j = 0; j < p.d(); j++) {
                z += ((double) b.x()[j] - p.bDec()[j]) * p.wEnc()[i * p.d() + j];
                s += (double) b.g()[j] * p.wDec()[i * p.d() + j];
            }
            double score = z + beta * z * Math.abs(s);
            if (score < lowest) {
                lowest = score;
                worst = i;
            }
        }
        return worst;
    }

    private static void assertOk(CheckResult r) {
        assertTrue(r.ok(), r.row());
        assertTrue(r.worst() <= 1, r.row());
    }

    /** The reference, open for one wrong answer at a time. */
    private static class Wrapped implements Ops {
        private final ReferenceOps ref = new ReferenceOps();

        @Override
        public String name() {
            return "wrapped";
        }

        @Override
        public Encoded encodeSelect(Params p, Batch b, float beta, int k, boolean[] dead, int auxK) {
            return ref.encodeSelect(p, b, beta, k, dead, auxK);
        }

        @Override
        public float[] decode(Params p, Selection s, boolean withBias) {
            return ref.decode(p, s, withBias);
        }

        @Override
        public Losses backward(Params p, Batch b, Encoded enc, float[] xhat, float auxAlpha, Params grads, Denominators global) {
            return ref.backward(p, b, enc, xhat, auxAlpha, grads, global);
        }

        @Override
        public void update(Params p, Params grads, Params m, Params v, float lr, long t) {
            ref.update(p, grads, m, v, lr, t);
        }
    }
}
