package gsae.cuda;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** sparse_decode.cu, sparse_backward.cu and update.cu against the reference in f32. */
class StagesCudaTest {

    @AfterAll
    static void close() {
        Gpu.closeAll();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gsae.cuda.Gpu#cases")
    void decodeWithAndWithoutBias(CheckCase c) {
        SelfCheck check = Gpu.check(Precision.F32);
        Gpu.assertAgrees(check.decode(c, true));
        Gpu.assertAgrees(check.decode(c, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gsae.cuda.Gpu#cases")
    void backwardWithAuxK(CheckCase c) {
        Gpu.assertAgrees(Gpu.check(Precision.F32).backward(c, 1f / 32));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gsae.cuda.Gpu#cases")
    void update(CheckCase c) {
        Gpu.assertAgrees(Gpu.check(Precision.F32).update(c));
    }
}
