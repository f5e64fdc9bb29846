package gsae.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gsae.config.SaeConfig;
import gsae.cpu.CpuBackend;
import gsae.ops.Batch;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.Scales;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
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
        Params p = folded(params(), SCALES);
        Export.sparsify(params(), CFG, SCALES, dir);
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
        Params p = folded(params(), SCALES);
        Export.saelens(params(), CFG, SCALES, Export.Origin.UNKNOWN, dir);
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
        assertTrue(cfg.get("act_scale_folded").asBoolean());
    }

    @Test
    void foldingKeepsTheWeightsAndDividesTheBiases() {
        Params p = params();
        Export.saelens(p, CFG, SCALES, Export.Origin.UNKNOWN, dir);
        try (SafeTensors st = SafeTensors.open(dir.resolve("sae_weights.safetensors"))) {
            assertArrayEquals(p.wDec(), st.floats("W_dec", M, D));
            float[] bEnc = st.floats("b_enc", M), bDec = st.floats("b_dec", D);
            for (int i = 0; i < M; i++) assertEquals(p.bEnc()[i] / 0.25f, bEnc[i]);
            for (int j = 0; j < D; j++) assertEquals(p.bDec()[j] / 0.25f, bDec[j]);
        }
    }

    /** The parameters that compute on raw x what {@code p} computes on act_scale·x: the biases times 1/act_scale, as the export folds them. */
    static Params folded(Params p, Scales s) {
        float inv = 1f / s.actScale();
        float[] bEnc = p.bEnc().clone(), bDec = p.bDec().clone();
        for (int i = 0; i < bEnc.length; i++) bEnc[i] *= inv;
        for (int j = 0; j < bDec.length; j++) bDec[j] *= inv;
        return new Params(p.d(), p.m(), p.wEnc(), bEnc, p.wDec(), bDec);
    }

    /**
     * What SAELens and sparsify compute when they load the export, on raw x: z = (x − b_dec)·W_encᵀ + b_enc,
     * the k largest z, ReLU, x̂ = a·W_dec + b_dec. It must equal gsae's reconstruction of act_scale·x,
     * divided by act_scale (the latents of an SAE trained on scaled activations, in the units of x).
     */
    @Test
    void exportOnRawActivationsReproducesGsaesReconstruction() throws IOException {
        int n = 9;
        float s = 0.37f;
        Scales scales = new Scales(1f, s);
        Params p = params();
        float[] raw = NpyTest.random(n * D, 7);
        for (int i = 0; i < raw.length; i++) raw[i] *= 3f;
        Ops ops = CpuBackend.reference().ops();
        float[] scaled = raw.clone();
        Batch b = scales.apply(scaled, null, n, D);
        float[] gsae = ops.decode(p, ops.encodeSelect(p, b, 0f, K, null, 0).top(), true);

        Export.saelens(p, CFG.withBeta(0f), scales, Export.Origin.UNKNOWN, dir);
        float[] wEnc, bEnc, wDec, bDec;
        try (SafeTensors st = SafeTensors.open(dir.resolve("sae_weights.safetensors"))) {
            wEnc = st.floats("W_enc", D, M);
            bEnc = st.floats("b_enc", M);
            wDec = st.floats("W_dec", M, D);
            bDec = st.floats("b_dec", D);
        }
        for (int r = 0; r < n; r++) {
            double[] z = new double[M];
            for (int i = 0; i < M; i++) {
                z[i] = bEnc[i];
                for (int j = 0; j < D; j++) z[i] += (raw[r * D + j] - bDec[j]) * wEnc[j * M + i];
            }
            Integer[] order = new Integer[M];
            for (int i = 0; i < M; i++) order[i] = i;
            java.util.Arrays.sort(order, (a, c) -> Double.compare(z[c], z[a]));
            for (int j = 0; j < D; j++) {
                double xhat = bDec[j];
                for (int t = 0; t < K; t++) xhat += Math.max(0, z[order[t]]) * wDec[order[t] * D + j];
                double want = gsae[r * D + j] / s;
                assertEquals(want, xhat, 1e-4 * (1 + Math.abs(want)), "row " + r + ", column " + j);
            }
        }
    }

    @Test
    void saelensConfigCarriesTheSourceForVersion5AndVersion6() throws IOException {
        Manifest m = new Manifest("gpt2", "transformer.h.7", 128, false, "/data/wiki.txt");
        Export.saelens(params(), CFG, SCALES, new Export.Origin(m, null), dir);
        JsonNode cfg = new ObjectMapper().readTree(dir.resolve("cfg.json").toFile());
        JsonNode meta = cfg.get("metadata");
        for (JsonNode at : List.of(cfg, meta)) {
            assertEquals("gpt2", at.get("model_name").asText());
            assertEquals("transformer.h.7", at.get("hook_name").asText());
            assertEquals(7, at.get("hook_layer").asInt(), "layer from the hook name");
            assertEquals(128, at.get("context_size").asInt());
            assertEquals(false, at.get("prepend_bos").asBoolean());
            assertEquals("/data/wiki.txt", at.get("dataset_path").asText());
        }
        assertEquals(Export.SAE_LENS_VERSION, meta.get("sae_lens_version").asText());
        assertEquals("topk", cfg.get("activation_fn_str").asText());
        assertEquals(K, cfg.get("activation_fn_kwargs").get("k").asInt());
        assertTrue(cfg.get("hook_head_index").isNull());

        Export.saelens(params(), CFG, SCALES, new Export.Origin(new Manifest("m", "embed", null, null, null), 3), dir);
        JsonNode given = new ObjectMapper().readTree(dir.resolve("cfg.json").toFile());
        assertEquals(3, given.get("hook_layer").asInt(), "an explicit layer wins");
        assertTrue(given.get("context_size").isNull());
        assertEquals(0, new Export.Origin(new Manifest("m", "embed", null, null, null), null).layer(), "no number in the hook: 0");
    }

    @Test
    void configThatDoesNotMatchTheParametersIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Export.sparsify(params(), SaeConfig.of(D, M + 1, K, 0f), Scales.NONE, dir));
        assertTrue(e.getMessage().contains("M=" + M) && e.getMessage().contains("M=" + (M + 1)), e.getMessage());
    }
}
