package gsae.cuda;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** encode_select.cu (tile + merge, top and AuxK) against the reference, f32 and bf16, index sets up to near-ties. */
class EncodeSelectCudaTest {

    @AfterAll
    static void close() {
        Gpu.closeAll();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("gsae.cuda.Gpu#casesInBothPrecisions")
    void agreesWithReference(Precision precision, CheckCase c) {
        Gpu.assertAgrees(Gpu.check(precision).encodeSelect(c));
    }
}
