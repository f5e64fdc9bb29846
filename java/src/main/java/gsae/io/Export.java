package gsae.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gsae.config.SaeConfig;
import gsae.config.Sizes;
import gsae.ops.Params;
import gsae.ops.Scales;
import gsae.ops.StateChunks;
import gsae.tensor.ChunkedTensor;
import gsae.tensor.HostTensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a trained SAE in the layouts the Python ecosystem loads without conversion (SPEC §8).
 * <p>
 * The exported weights act on raw activations: SAELens and sparsify both ignore {@code act_scale}
 * when they load, so it is folded in. gsae computes z = (s·x − b_dec)·W_encᵀ + b_enc on x scaled by
 * s = act_scale, which is s·[(x − b_dec/s)·W_encᵀ + b_enc/s]; so the export keeps W_enc and W_dec (still
 * unit-norm rows) and writes b_enc/s and b_dec/s. Its latents are gsae's divided by s, in the same
 * order (s &gt; 0), and its reconstruction is gsae's x̂ divided by s, i.e. in the units of x. cfg.json says
 * {@code "act_scale_folded": true} and keeps the original {@code act_scale} for the record.
 * Plain TopK inference on activations alone selects by z, which is SPEC §2 with β = 0.
 */
public final class Export {

    /** Output layouts. */
    public enum Format { SPARSIFY, SAELENS }

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Export() {}

    /** The SAELens release whose cfg.json layout the SAELens export follows (its {@code metadata}), beside the 5.x top-level keys. */
    public static final String SAE_LENS_VERSION = "6.0.0";

    /**
     * Where the SAE's inputs came from, for SAELens: the harvest manifest, overridden option by option.
     *
     * @param source    model, hook, context size, BOS and dataset; null when unknown
     * @param hookLayer the hook's layer; null derives it from the hook name (transformer.h.7 → 7), else 0
     */
    public record Origin(Manifest source, Integer hookLayer) {
        public static final Origin UNKNOWN = new Origin(null, null);

        int layer() {
            if (hookLayer != null) return hookLayer;
            Integer fromHook = source == null ? null : Manifest.layerOf(source.hook());
            return fromHook != null ? fromHook : 0;
        }
    }

    /** Writes {@code format} into {@code outDir}. */
    public static void write(Format format, Params p, SaeConfig cfg, Scales s, Origin origin, Path outDir) {
        switch (format) {
            case SPARSIFY -> sparsify(p, cfg, s, outDir);
            case SAELENS -> saelens(p, cfg, s, origin, outDir);
        }
    }

    /**
     * Writes {@code format} from parameters read chunk by chunk (a checkpoint's mapped files): both
     * layouts stream the weights, so they take an SAE of any size.
     */
    public static void write(Format format, StateChunks.Tensors p, SaeConfig cfg, Scales s, Origin origin, Path outDir) {
        switch (format) {
            case SPARSIFY -> sparsify(p, cfg, s, outDir);
            case SAELENS -> saelens(p, cfg, s, origin, outDir);
        }
    }

    /** A bias divided by act_scale, as the class comment derives (W_enc and W_dec stay as they are). */
    private static float[] folded(ChunkedTensor bias, Scales s) {
        float inv = 1f / s.actScale();
        float[] b = floats(bias);
        for (int i = 0; i < b.length; i++) b[i] *= inv;
        return b;
    }

    /**
     * EleutherAI sparsify layout: {@code sae.safetensors} with {@code encoder.weight [M, d]},
     * {@code encoder.bias [M]}, {@code W_dec [M, d]}, {@code b_dec [d]}, and {@code cfg.json} with the
     * SparseCoderConfig fields plus {@code d_in} (sparsify drops keys it does not know on load).
     */
    public static void sparsify(Params trained, SaeConfig cfg, Scales s, Path outDir) {
        check(trained, cfg);
        sparsify(StateChunks.Tensors.of(trained), cfg, s, outDir);
    }

    /**
     * The sparsify layout from weights read chunk by chunk, written as they come (no host copy of
     * them, whatever their size); the biases ([M] and [d]) are read and folded on the host.
     */
    public static void sparsify(StateChunks.Tensors p, SaeConfig cfg, Scales s, Path outDir) {
        int d = cfg.d(), m = cfg.latents();
        if (p.wEnc().byteSize() != 4L * m * d || p.bEnc().byteSize() != 4L * m || p.wDec().byteSize() != 4L * m * d || p.bDec().byteSize() != 4L * d)
            throw new IllegalArgumentException("parameters are not shaped d=" + d + ", M=" + m + " as the config says");
        float inv = 1f / s.actScale();
        float[] bEnc = floats(p.bEnc()), bDec = floats(p.bDec());
        for (int i = 0; i < bEnc.length; i++) bEnc[i] *= inv;
        for (int j = 0; j < bDec.length; j++) bDec[j] *= inv;
        Map<String, ChunkedTensor> t = new LinkedHashMap<>();
        t.put("encoder.weight", p.wEnc());
        t.put("encoder.bias", ChunkedTensor.of(HostTensor.of(bEnc, m)));
        t.put("W_dec", p.wDec());
        t.put("b_dec", ChunkedTensor.of(HostTensor.of(bDec, d)));
        SafeTensors.writeChunked(outDir.resolve("sae.safetensors"), t, Map.of());

        ObjectNode json = JSON.createObjectNode();
        json.put("d_in", d);
        json.put("num_latents", m);
        json.put("k", cfg.k());
        json.put("activation", "topk");
        json.put("expansion_factor", Math.max(1, m / d));
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
     * {@code cfg.json} that SAELens 6 reads (model and data in {@code metadata}) and 5.x reads (the
     * same at the top level, with {@code activation_fn_str}, {@code hook_layer} and the rest it requires).
     */
    public static void saelens(Params trained, SaeConfig cfg, Scales s, Origin origin, Path outDir) {
        check(trained, cfg);
        saelens(StateChunks.Tensors.of(trained), cfg, s, origin, outDir);
    }

    /**
     * The SAELens layout from weights read chunk by chunk: W_enc is transposed into the file a tile of
     * encoder rows at a time and W_dec written as it comes (no host copy of either, whatever their size);
     * the biases are read and folded on the host.
     */
    public static void saelens(StateChunks.Tensors p, SaeConfig cfg, Scales s, Origin origin, Path outDir) {
        int d = cfg.d(), latents = cfg.latents();
        if (p.wEnc().byteSize() != 4L * latents * d || p.bEnc().byteSize() != 4L * latents || p.wDec().byteSize() != 4L * latents * d || p.bDec().byteSize() != 4L * d)
            throw new IllegalArgumentException("parameters are not shaped d=" + d + ", M=" + latents + " as the config says");
        Map<String, SafeTensors.Source> t = new LinkedHashMap<>();
        t.put("W_enc", new SafeTensors.Source.Transposed(p.wEnc()));
        t.put("b_enc", new SafeTensors.Source.AsIs(ChunkedTensor.of(HostTensor.of(folded(p.bEnc(), s), latents))));
        t.put("W_dec", new SafeTensors.Source.AsIs(p.wDec()));
        t.put("b_dec", new SafeTensors.Source.AsIs(ChunkedTensor.of(HostTensor.of(folded(p.bDec(), s), d))));
        SafeTensors.writeSources(outDir.resolve("sae_weights.safetensors"), t, Map.of());

        ObjectNode json = JSON.createObjectNode();
        json.put("architecture", "topk");
        json.put("d_in", d);
        json.put("d_sae", latents);
        json.put("k", cfg.k());
        json.put("dtype", "float32");
        json.put("device", "cpu");
        json.put("apply_b_dec_to_input", true);
        json.put("normalize_activations", "none");
        Manifest m = origin.source();
        // SAELens 5.x: everything at the top level
        json.put("activation_fn_str", "topk");
        json.putObject("activation_fn_kwargs").put("k", cfg.k());
        json.put("model_name", m == null ? "" : m.model());
        json.put("hook_name", m == null ? "" : m.hook());
        json.put("hook_layer", origin.layer());
        json.putNull("hook_head_index");
        putOrNull(json, "context_size", m == null ? null : m.contextSize());
        json.put("prepend_bos", m == null || m.prependBos() == null || m.prependBos());
        json.put("dataset_path", m == null || m.datasetPath() == null ? "" : m.datasetPath());
        json.put("dataset_trust_remote_code", false);
        json.put("finetuning_scaling_factor", false);
        json.putObject("model_from_pretrained_kwargs");
        json.putArray("seqpos_slice").addNull();
        json.putNull("neuronpedia_id");
        // SAELens 6: model and data under metadata
        ObjectNode meta = json.putObject("metadata");
        meta.put("sae_lens_version", SAE_LENS_VERSION);
        meta.put("model_name", json.get("model_name").textValue());
        meta.put("hook_name", json.get("hook_name").textValue());
        meta.put("hook_layer", origin.layer());
        putOrNull(meta, "context_size", m == null ? null : m.contextSize());
        meta.put("prepend_bos", json.get("prepend_bos").booleanValue());
        meta.put("dataset_path", json.get("dataset_path").textValue());
        meta.put("exported_by", "gsae");
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
        json.put("act_scale_folded", true);
        json.put("aux_k", cfg.auxK());
        json.put("aux_alpha", cfg.auxAlpha());
    }

    private static void putOrNull(ObjectNode json, String key, Integer value) {
        if (value == null) json.putNull(key);
        else json.put(key, value);
    }

    /** A float32 tensor of at most one array's size, read whole. */
    private static float[] floats(ChunkedTensor t) {
        float[] out = new float[Sizes.hostArray("tensor", "elements", t.byteSize() / 4, 1)];
        t.chunks().read(0, MemorySegment.ofArray(out));
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
