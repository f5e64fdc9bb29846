package gsae.cpu;

import gsae.ops.Batch;
import gsae.ops.Encoded;
import gsae.ops.Params;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class ReferenceSmokeTest {
    @Test
    void identityEncoderPicksLargestCoordinates() {
        int d = 4, m = 4;
        Params p = Params.zeros(d, m);
        for (int i = 0; i < m; i++) { p.wEnc()[i * d + i] = 1; p.wDec()[i * d + i] = 1; }
        Batch b = new Batch(1, d, new float[]{0.5f, 3f, -1f, 2f}, new float[d]);
        Encoded e = new ReferenceOps().encodeSelect(p, b, 0f, 2, null, 0);
        assertArrayEquals(new int[]{1, 3}, e.top().indices());
        assertArrayEquals(new float[]{3f, 2f}, e.top().values());
    }
}
