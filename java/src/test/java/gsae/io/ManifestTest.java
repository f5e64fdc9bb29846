package gsae.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The harvester's manifest.json, read by hand-written examples of the contract. */
class ManifestTest {

    @TempDir
    Path dir;

    private Path write(String json) throws IOException {
        return Files.writeString(dir.resolve(Manifest.FILE), json);
    }

    @Test
    void readsTheFieldsAnExportNeedsAndIgnoresTheRest() throws IOException {
        write("""
                {"format": "gsae-harvest", "format_version": 1, "model": "/models/gpt2-tiny", "hook": "transformer.h.3",
                 "context_size": 128, "prepend_bos": false, "dataset_path": "/data/wiki", "d": 64, "dtype": "bfloat16",
                 "tokens": 4096, "shards": ["shard-00000.safetensors"], "gradient": {"definition": "d(sum CE)/dx"}}
                """);
        Manifest m = Manifest.near(dir);
        assertEquals(new Manifest("/models/gpt2-tiny", "transformer.h.3", 128, false, "/data/wiki"), m);
        assertEquals(m, Manifest.near(dir.resolve("shard-00000.safetensors")), "a shard file finds the manifest beside it");
        assertEquals("model /models/gpt2-tiny, hook transformer.h.3", m.describe());
    }

    @Test
    void optionalFieldsMayBeAbsent() throws IOException {
        write("{\"format\": \"gsae-harvest\", \"format_version\": 1, \"model\": \"m\", \"hook\": \"h\"}");
        assertEquals(new Manifest("m", "h", null, null, null), Manifest.near(dir));
        assertNull(Manifest.near(Files.createDirectory(dir.resolve("sub"))), "no manifest, no source");
    }

    @Test
    void aMalformedManifestNamesTheFileAndField() throws IOException {
        String base = "\"format\": \"gsae-harvest\", \"format_version\": 1, \"model\": \"m\", \"hook\": \"h\"";
        refused(write("{" + base.replace("gsae-harvest", "other") + "}"), "'format'");
        refused(write("{" + base.replace("\"format_version\": 1", "\"format_version\": 2") + "}"), "'format_version' 2");
        refused(write("{" + base.replace(", \"hook\": \"h\"", "") + "}"), "missing 'hook'");
        refused(write("{" + base + ", \"context_size\": \"128\"}"), "'context_size'");
        refused(write("{" + base + ", \"prepend_bos\": 1}"), "'prepend_bos'");
        refused(write("{" + base.replace("\"m\"", "3") + "}"), "'model' is 3");
        refused(write("{not json"), "not readable JSON");
    }

    private static void refused(Path file, String says) {
        DataException e = assertThrows(DataException.class, () -> Manifest.read(file));
        assertTrue(e.getMessage().startsWith(file + ": ") && e.getMessage().contains(says), e.getMessage());
    }

    @Test
    void theLayerComesFromTheHookPath() {
        assertEquals(7, Manifest.layerOf("transformer.h.7"));
        assertEquals(12, Manifest.layerOf("model.layers.12.mlp"));
        assertEquals(0, Manifest.layerOf("gpt_neox.layers.0"));
        assertNull(Manifest.layerOf("transformer.wte"));
        assertNull(Manifest.layerOf("h7"));
    }
}
