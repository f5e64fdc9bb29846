package gsae.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gsae.io.AtomicFiles;
import gsae.io.DataException;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code metrics.jsonl}: one JSON object per logged step, flushed as written, so a crash loses no
 * line that was logged. Keys: step, tokens, lr, fvu, auxk, loss, l0, dead_fraction, tokens_per_s,
 * elapsed_s, and any scalars a periodic evaluation adds.
 */
public final class MetricsLog implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final BufferedWriter out;

    private MetricsLog(Path file, BufferedWriter out) {
        this.file = file;
        this.out = out;
    }

    /**
     * Opens {@code file} for appending after dropping every line past step {@code keepThroughStep}:
     * on resume those steps are run again, and the log must read as one uninterrupted run.
     */
    public static MetricsLog open(Path file, long keepThroughStep) {
        try {
            if (Files.exists(file)) truncateAfter(file, keepThroughStep);
            else Files.createDirectories(file.toAbsolutePath().getParent());
            return new MetricsLog(file, Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + file + ": " + e.getMessage(), e);
        }
    }

    /** Appends one row and flushes it to the operating system. */
    public void write(Map<String, ? extends Number> row) {
        try {
            out.write(JSON.writeValueAsString(row));
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + file + ": " + e.getMessage(), e);
        }
    }

    /** Every row of a metrics file, keys in file order; a line that is not a JSON object of numbers is a DataException. */
    public static List<Map<String, Double>> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DataException(file, "cannot read: " + e.getMessage());
        }
        List<Map<String, Double>> rows = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            rows.add(parse(file, i + 1, lines.get(i)));
        }
        return rows;
    }

    private static Map<String, Double> parse(Path file, int lineNo, String line) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new DataException(file, "line " + lineNo + " is not JSON");
        }
        if (node == null || !node.isObject()) throw new DataException(file, "line " + lineNo + " is not a JSON object");
        Map<String, Double> row = new LinkedHashMap<>();
        for (var it = node.fields(); it.hasNext(); ) {
            var f = it.next();
            if (!f.getValue().isNumber()) throw new DataException(file, "line " + lineNo + ": '" + f.getKey() + "' is not a number");
            row.put(f.getKey(), f.getValue().doubleValue());
        }
        return row;
    }

    /** Rewrites the file atomically without the rows past {@code step} (and without a torn last line). */
    private static void truncateAfter(Path file, long step) throws IOException {
        StringBuilder kept = new StringBuilder();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                continue;
            }
            if (node != null && node.path("step").canConvertToLong() && node.path("step").asLong() <= step) kept.append(line).append('\n');
        }
        byte[] bytes = kept.toString().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, ch -> {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) ch.write(buf);
        });
    }
}
