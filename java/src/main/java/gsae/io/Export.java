package gsae.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gsae.config.SaeConfig;
import gsae.ops.Params;
import gsae.ops.Scales;
import gsae.tensor.HostTensor;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a trained SAE in the layouts the Python ecosystem loads without conversion (SPEC §8).
 * The weights are exported as trained: they act on act_scale·x, and a consumer of a model trained
 * with act_scale ≠ 1 multiplies its activations by the {@code act_scale} recorded in cfg.json.
 * Plain TopK inference on activations alone selects by z, which is SPEC §2 with β = 0.
 */
public final class Export {

    /** Output layouts. */
    public enum Format { SPARSIFY, SAELENS }

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Export() {}

    /** Writes {@code format} into {@code outDir}. */
    public static void write(Format format, Params p, SaeConfig cfg, Scales s, Path outDir) {
        switch (format) {
            case SPARSIFY -> sparsify(p, cfg, s, outDir);
            case SAELENS -> saelens(p, cfg, s, outDir);
        }
    }

    /**
     * EleutherAI sparsify layout: {@code sae.safetensors} with {@code encoder.weight [M, d]},
     * {@code encoder.bias [M]}, {@code W_dec [M, d]}, {@code b_dec [d]}, and {@code cfg.json} with the
     * SparseCoderConfig fields plus {@code d_in} (sparsify drops keys it does not know on load).
     */
    public static void sparsify(Params p, SaeConfig cfg, Scales s, Path outDir) {
        check(p, cfg);
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("encoder.weight", HostTensor.of(p.wEnc(), p.m(), p.d()));
        t.put("encoder.bias", HostTensor.of(p.bEnc(), p.m()));
        t.put("W_dec", HostTensor.of(p.wDec(), p.m(), p.d()));
        t.put("b_dec", HostTensor.of(p.bDec(), p.d()));
        SafeTensors.write(outDir.resolve("sae.safetensors"), t);

        ObjectNode json = JSON.createObjectNode();
        json.put("d_in", p.d());
        json.put("num_latents", p.m());
        json.put("k", cfg.k());
        json.put("activation", "topk");
        json.put("expansion_factor", Math.max(1, p.m() / p.d()));
        json.put("normalize_decoder", true);
        json.put("multi_topk", false);
        json.put("skip_connection", false);
        json.put("transcode", false);
        extras(json, cfg, s);
        writeJson(outDir.resolve("cfg.json"), json);
    }

    /**
     * SAELens layout: {@code sae_weights.safetensors} with {@code W_enc [d, M]} (the transpose of
     * gsae's encoder rows), {@code b_enc [M]}, {@code W_dec [M, d]}, {@code b_dec [d]}, and a TopK
     * {@code cfg.json}.
     */
    public static void saelens(Params p, SaeConfig cfg, Scales s, Path outDir) {
        check(p, cfg);
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("W_enc", HostTensor.of(transpose(p.wEnc(), p.m(), p.d()), p.d(), p.m()));
        t.put("b_enc", HostTensor.of(p.bEnc(), p.m()));
        t.put("W_dec", HostTensor.of(p.wDec(), p.m(), p.d()));
        t.put("b_dec", HostTensor.of(p.bDec(), p.d()));
        SafeTensors.write(outDir.resolve("sae_weights.safetensors"), t);

        ObjectNode json = JSON.createObjectNode();
        json.put("architecture", "topk");
        json.put("d_in", p.d());
        json.put("d_sae", p.m());
        json.put("k", cfg.k());
        json.put("dtype", "float32");
        json.put("device", "cpu");
        json.put("apply_b_dec_to_input", true);
        json.put("normalize_activations", "none");
        json.put("model_name", "");
        json.put("hook_name", "");
        extras(json, cfg, s);
        writeJson(outDir.resolve("cfg.json"), json);
    }

    private static void check(Params p, SaeConfig cfg) {
        if (p.d() != cfg.d() || p.m() != cfg.latents())
            throw new IllegalArgumentException("parameters are d=" + p.d() + ", M=" + p.m() + " but the config says d=" + cfg.d()
                    + ", M=" + cfg.latents());
    }

    /** g-SAE fields both layouts carry (SPEC §8). */
    private static void extras(ObjectNode json, SaeConfig cfg, Scales s) {
        json.put("beta", cfg.beta());
        json.put("grad_scale", s.gradScale());
        json.put("act_scale", s.actScale());
        json.put("aux_k", cfg.auxK());
        json.put("aux_alpha", cfg.auxAlpha());
    }

    /** out[j, i] = a[i, j].  a: [rows, cols], returns [cols, rows] */
    static float[] transpose(float[] a, int rows, int cols) {
        float[] out = new float[a.length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
        return out;
    }

    private static void writeJson(Path path, ObjectNode json) {
        ByteBuffer buf;
        try {
            buf = ByteBuffer.wrap((JSON.writeValueAsString(json) + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        AtomicFiles.write(path, ch -> {
            while (buf.hasRemaining()) ch.write(buf);
        });
    }
}
