package gsae.cpu;

import gsae.ops.Encoded;
import gsae.ops.Losses;
import gsae.ops.Params;
import gsae.ops.Selection;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pieces of the sparse backward the reference comparison does not isolate. */
class SparseBackwardTest {

    private static final ReferenceOps REF = new ReferenceOps();

    @Test
    void pairsAreGroupedByLatentInTokenOrder() {
        // token 0 selects {1, 3}, token 1 {0, 3}, token 2 {1, 2}
        Selection s = new Selection(3, 2, new int[]{1, 3, 0, 3, 1, 2}, new float[]{10, 11, 20, 21, 30, 31});
        float[] dz = {-10, -11, -20, -21, -30, -31};
        LatentPairs pairs = new LatentPairs();
        pairs.build(s, dz, 5, 5);
        assertArrayEquals(new int[]{0, 1, 3, 4, 6, 6}, Arrays.copyOf(pairs.start, 6));
        assertArrayEquals(new float[]{20, 10, 30, 31, 11, 21}, Arrays.copyOf(pairs.a, 6));
        assertArrayEquals(new float[]{-20, -10, -30, -31, -11, -21}, Arrays.copyOf(pairs.dz, 6));
        assertArrayEquals(new int[]{5, 0, 10, 10, 0, 5}, Arrays.copyOf(pairs.rowOff, 6));
        assertEquals(0, pairs.count(4));
    }

    /**
     * k = M with every latent dead: each latent is in both the top and the AuxK set of every token,
     * so its gradient rows sum both kinds of pairs. Tolerance as in FastOpsTest.
     */
    @Test
    void latentInBothTopAndAuxAddsBothContributions() {
        SparseProblem q = SparseProblem.random(9, 6, 6, 14, 0.5f, 1.0, 6, 21);
        Encoded enc = REF.encodeSelect(q.params(), q.batch(), q.beta(), q.k(), q.dead(), q.auxK());
        assertEquals(6, enc.aux().k());
        compare(q, enc, 0.5f, new FastOps(2), "top ∩ aux");
    }

    /** One FastOps reused with a larger batch, then a smaller one without AuxK, into the same grads. */
    @Test
    void scratchReuseAcrossShapesGivesFreshResults() {
        FastOps fast = new FastOps(2);
        SparseProblem big = SparseProblem.random(33, 70, 5, 50, 1f, 0.3, 8, 22);
        SparseProblem small = SparseProblem.random(33, 70, 3, 7, 0f, 0, 0, 23);
        Params grads = Params.zeros(33, 70);
        for (SparseProblem q : new SparseProblem[]{big, small, big}) {
            Encoded enc = REF.encodeSelect(q.params(), q.batch(), q.beta(), q.k(), q.dead(), q.auxK());
            fast.backward(q.params(), q.batch(), enc, fast.decode(q.params(), enc.top(), true), 0.25f, grads);
            Params fresh = Params.zeros(33, 70);
            new FastOps(1).backward(q.params(), q.batch(), enc, fast.decode(q.params(), enc.top(), true), 0.25f, fresh);
            assertArrayEquals(fresh.wDec(), grads.wDec(), q.toString());
            assertArrayEquals(fresh.wEnc(), grads.wEnc(), q.toString());
            assertArrayEquals(fresh.bEnc(), grads.bEnc(), q.toString());
            assertArrayEquals(fresh.bDec(), grads.bDec(), q.toString());
        }
    }

    /** α = 0: AuxK is still reported, and the gradients are those of FVU alone. */
    @Test
    void zeroAlphaReportsAuxKWithoutItsGradient() {
        SparseProblem q = SparseProblem.random(16, 40, 4, 30, 1f, 0.5, 8, 24);
        Encoded enc = REF.encodeSelect(q.params(), q.batch(), q.beta(), q.k(), q.dead(), q.auxK());
        FastOps fast = new FastOps(2);
        float[] xhat = fast.decode(q.params(), enc.top(), true);
        Params withAux = Params.zeros(16, 40), without = Params.zeros(16, 40);
        Losses l = fast.backward(q.params(), q.batch(), enc, xhat, 0f, withAux);
        fast.backward(q.params(), q.batch(), new Encoded(enc.top(), null), xhat, 0f, without);
        assertTrue(l.auxk() > 0);
        assertEquals(l.fvu(), l.loss());
        assertArrayEquals(without.wDec(), withAux.wDec());
        assertArrayEquals(without.wEnc(), withAux.wEnc());
        assertArrayEquals(without.bDec(), withAux.bDec());
        compare(q, enc, 0f, fast, "α = 0");
    }

    private static void compare(SparseProblem q, Encoded enc, float alpha, FastOps fast, String what) {
        Params ref = Params.zeros(q.d(), q.m()), got = Params.zeros(q.d(), q.m());
        Losses lr = REF.backward(q.params(), q.batch(), enc, null, alpha, ref);
        Losses lf = fast.backward(q.params(), q.batch(), enc, fast.decode(q.params(), enc.top(), true), alpha, got);
        double eps = FastOpsTest.backwardEps(q);
        SparseProblem.assertClose(what + " loss", lr.loss(), lf.loss(), eps);
        SparseProblem.assertClose(what + " AuxK", lr.auxk(), lf.auxk(), eps);
        SparseProblem.assertClose(what + " dW_dec", ref.wDec(), got.wDec(), eps, SparseProblem.maxAbs(ref.wDec()));
        SparseProblem.assertClose(what + " dW_enc", ref.wEnc(), got.wEnc(), eps, SparseProblem.maxAbs(ref.wEnc()));
        SparseProblem.assertClose(what + " db_enc", ref.bEnc(), got.bEnc(), eps, SparseProblem.maxAbs(ref.bEnc()));
    }
}
