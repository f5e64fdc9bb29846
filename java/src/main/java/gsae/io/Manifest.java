package gsae.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where harvested shards came from: the {@code manifest.json} that {@code python -m gsae_torch
 * harvest} writes beside them ({@code "format": "gsae-harvest"}, {@code "format_version": 1}). Only
 * the fields an SAE export needs are read; the rest (dtype, token counts, versions…) are left alone.
 *
 * @param model       the language model, as the harvester named it (a Hugging Face id or folder)
 * @param hook        the module whose output was harvested, e.g. {@code transformer.h.7}
 * @param contextSize tokens per context; null when not recorded
 * @param prependBos  whether each context starts with BOS; null when not recorded
 * @param datasetPath the text the activations came from; null when not recorded
 */
public record Manifest(String model, String hook, Integer contextSize, Boolean prependBos, String datasetPath) {

    public static final String FILE = "manifest.json";
    public static final String FORMAT = "gsae-harvest";
    public static final int FORMAT_VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The first whole-number part of a module path: transformer.h.7 → 7, model.layers.12.mlp → 12. */
    private static final Pattern LAYER = Pattern.compile("(?:^|\\.)(\\d+)(?:\\.|$)");

    public Manifest {
        if (model == null || hook == null) throw new IllegalArgumentException("a manifest names its model and hook");
    }

    /** The manifest of a data path: {@code DIR/manifest.json} for a folder, the one beside a file; null when there is none. */
    public static Manifest near(Path data) {
        Path dir = Files.isDirectory(data) ? data : data.toAbsolutePath().getParent();
        Path file = dir == null ? null : dir.resolve(FILE);
        return file != null && Files.isRegularFile(file) ? read(file) : null;
    }

    /** Reads and checks one manifest file; a malformed one is a {@link DataException} naming the field. */
    public static Manifest read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new DataException(file, "not readable JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (root == null || !root.isObject()) throw new DataException(file, "not a JSON object");
        if (!FORMAT.equals(root.path("format").asText(null)))
            throw new DataException(file, "'format' is " + root.path("format") + ", expected \"" + FORMAT + "\"");
        if (!root.path("format_version").isInt() || root.path("format_version").intValue() != FORMAT_VERSION)
            throw new DataException(file, "'format_version' " + root.path("format_version") + " is not supported (this gsae reads " + FORMAT_VERSION + ")");
        Integer context = null;
        if (present(root, "context_size")) {
            JsonNode n = root.get("context_size");
            if (!n.isInt() || n.intValue() < 1) throw new DataException(file, "'context_size' is " + n + ", expected a whole number ≥ 1");
            context = n.intValue();
        }
        Boolean bos = null;
        if (present(root, "prepend_bos")) {
            if (!root.get("prepend_bos").isBoolean()) throw new DataException(file, "'prepend_bos' is " + root.get("prepend_bos") + ", expected true or false");
            bos = root.get("prepend_bos").booleanValue();
        }
        String dataset = present(root, "dataset_path") ? text(file, root, "dataset_path") : null;
        return new Manifest(required(file, root, "model"), required(file, root, "hook"), context, bos, dataset);
    }

    /** The layer a hook such as {@code transformer.h.7} belongs to, or null when its path holds no number. */
    public static Integer layerOf(String hook) {
        Matcher m = LAYER.matcher(hook);
        return m.find() ? Integer.valueOf(m.group(1)) : null;
    }

    /** "model gpt2, hook transformer.h.7": the line {@code gsae train} prints. */
    public String describe() {
        return "model " + model + ", hook " + hook;
    }

    private static boolean present(JsonNode root, String field) {
        return root.has(field) && !root.get(field).isNull();
    }

    private static String required(Path file, JsonNode root, String field) {
        if (!present(root, field)) throw new DataException(file, "missing '" + field + "'");
        String s = text(file, root, field);
        if (s.isBlank()) throw new DataException(file, "'" + field + "' is empty");
        return s;
    }

    private static String text(Path file, JsonNode root, String field) {
        JsonNode n = root.get(field);
        if (!n.isTextual()) throw new DataException(file, "'" + field + "' is " + n + ", expected a string");
        return n.textValue();
    }
}
