package gsae.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gsae.cli.Main;
import gsae.config.SaeConfig;
import gsae.ops.Params;
import gsae.ops.Scales;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExportTest {

    static final int D = 5, M = 12, K = 3;

    @TempDir
    Path dir;

    private static Params params() {
        Params p = Params.init(D, M, 42, NpyTest.random(D, 1));
        System.arraycopy(NpyTest.random(M * D, 2), 0, p.wEnc(), 0, M * D);
        System.arraycopy(NpyTest.random(M, 3), 0, p.bEnc(), 0, M);
        return p;
    }

    private static final SaeConfig CFG = new SaeConfig(D, M, K, 0.75f, 2, 1f / 32, 1000);
    private static final Scales SCALES = new Scales(123.5f, 0.25f);

    @Test
    void sparsifyLayout() throws IOException {
        Params p = params();
        Export.sparsify(p, CFG, SCALES, dir);
        try (SafeTensors st = SafeTensors.open(dir.resolve("sae.safetensors"))) {
            assertEquals(List.of("encoder.weight", "encoder.bias", "W_dec", "b_dec"), List.copyOf(st.tensors().keySet()));
            assertArrayEquals(p.wEnc(), st.floats("encoder.weight", M, D));
            assertArrayEquals(p.bEnc(), st.floats("encoder.bias", M));
            assertArrayEquals(p.wDec(), st.floats("W_dec", M, D));
            assertArrayEquals(p.bDec(), st.floats("b_dec", D));
        }
        JsonNode cfg = new ObjectMapper().readTree(dir.resolve("cfg.json").toFile());
        assertEquals(D, cfg.get("d_in").asInt());
        assertEquals(M, cfg.get("num_latents").asInt());
        assertEquals(K, cfg.get("k").asInt());
        assertExtras(cfg);
    }

    @Test
    void saelensLayoutTransposesTheEncoder() throws IOException {
        Params p = params();
        Export.saelens(p, CFG, SCALES, dir);
        try (SafeTensors st = SafeTensors.open(dir.resolve("sae_weights.safetensors"))) {
            assertEquals(List.of("W_enc", "b_enc", "W_dec", "b_dec"), List.copyOf(st.tensors().keySet()));
            float[] wEnc = st.floats("W_enc", D, M);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < D; j++) assertEquals(p.wEnc()[i * D + j], wEnc[j * M + i], "W_enc[" + j + ", " + i + "]");
            assertArrayEquals(p.bEnc(), st.floats("b_enc", M));
            assertArrayEquals(p.wDec(), st.floats("W_dec", M, D));
            assertArrayEquals(p.bDec(), st.floats("b_dec", D));
        }
        JsonNode cfg = new ObjectMapper().readTree(dir.resolve("cfg.json").toFile());
        assertEquals("topk", cfg.get("architecture").asText());
        assertEquals(D, cfg.get("d_in").asInt());
        assertEquals(M, cfg.get("d_sae").asInt());
        assertEquals(K, cfg.get("k").asInt());
        assertEquals("float32", cfg.get("dtype").asText());
        assertTrue(cfg.get("apply_b_dec_to_input").asBoolean());
        assertExtras(cfg);
    }

    private static void assertExtras(JsonNode cfg) {
        assertEquals(0.75f, (float) cfg.get("beta").asDouble());
        assertEquals(123.5f, (float) cfg.get("grad_scale").asDouble());
        assertEquals(0.25f, (float) cfg.get("act_scale").asDouble());
    }

    @Test
    void configThatDoesNotMatchTheParametersIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Export.sparsify(params(), SaeConfig.of(D, M + 1, K, 0f), Scales.NONE, dir));
        assertTrue(e.getMessage().contains("M=" + M) && e.getMessage().contains("M=" + (M + 1)), e.getMessage());
    }

    @Test
    void commandNamesAMissingCheckpoint() {
        Path missing = dir.resolve("no-such-run");
        StringWriter err = new StringWriter();
        CommandLine cmd = Main.commandLine(new Main()).setErr(new PrintWriter(err, true));
        int code = cmd.execute("export", "--checkpoint", missing.toString(), "--format", "saelens", "--out", dir.resolve("out").toString());
        assertEquals(Main.USER_ERROR, code);
        assertEquals("gsae: " + missing + ": no such checkpoint directory", err.toString().strip());
    }

    @Test
    void commandRejectsAnUnknownFormat() {
        StringWriter err = new StringWriter();
        CommandLine cmd = Main.commandLine(new Main()).setErr(new PrintWriter(err, true));
        int code = cmd.execute("export", "--checkpoint", dir.toString(), "--format", "onnx", "--out", dir.toString());
        assertEquals(Main.USER_ERROR, code);
        assertEquals("gsae: Invalid value for option '--format': expected one of [SPARSIFY, SAELENS] (case-insensitive) but was 'onnx' "
                + "(see gsae export --help)", err.toString().strip());
    }
}
