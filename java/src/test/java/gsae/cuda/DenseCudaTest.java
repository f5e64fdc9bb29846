package gsae.cuda;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The cuBLAS dense baseline (dense.cu + cublasSgemm through FFM) against the reference. */
class DenseCudaTest {

    @AfterAll
    static void close() {
        Gpu.closeAll();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gsae.cuda.Gpu#cases")
    void encodeSelectAndDecode(CheckCase c) {
        SelfCheck check = new SelfCheck(Gpu.dense().ops(), Precision.F32, "dense");
        Gpu.assertAgrees(check.encodeSelect(c));
        Gpu.assertAgrees(check.decode(c, true));
    }

    @Test
    void stepsAgreeWithTheReference() {
        Gpu.assertAgrees(SelfCheck.training(Gpu.dense(), CheckCase.of(64, 77, 300, 8, 0.5f, 21), Gpu.steps(), "dense"));
    }
}
