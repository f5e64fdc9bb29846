package gsae.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line is a client of gsae.api (issue #10): its sources name no engine class outside
 * gsae.api, in an import or a qualified name, except these.
 */
class ApiOnlyTest {

    /**
     * Allowed in every command. UserError: the engine's "your input is wrong" exception, which the
     * API's entry points throw and {@link Errors} must recognise by type to print one line and exit 2.
     * EvalReport: the record {@code gsae.api.Evaluation} returns; EvalFormat writes its fields to JSON
     * as they are, so a copy in gsae.api would duplicate three records and put the JSON format at risk.
     */
    static final Set<String> EVERYWHERE = Set.of("gsae.config.UserError", "gsae.train.EvalReport");

    /**
     * Allowed in one file. selftest is the CUDA kernels' own test harness (each stage of gsae.cuda
     * against the reference), not a user of an SAE.
     */
    static final Map<String, String> IN_FILE = Map.of("SelftestCommand.java", "gsae.cuda.");

    private static final Pattern ENGINE = Pattern.compile("(?<![\\w.-])gsae\\.(?!api\\.|cli\\.)[a-z]+\\.[A-Z]\\w*");

    @Test
    void commandsUseOnlyTheApi() throws IOException {
        List<Path> sources;
        try (Stream<Path> files = Files.list(Path.of("src/main/java/gsae/cli"))) {
            sources = files.filter(p -> p.toString().endsWith(".java")).toList();
        }
        assertTrue(sources.size() >= 20, "expected the CLI's sources, found " + sources);
        List<String> found = new ArrayList<>();
        for (Path p : sources) found.addAll(offences(p.getFileName().toString(), Files.readString(p)));
        assertEquals(List.of(), found, "CLI sources naming engine classes outside gsae.api");
    }

    @Test
    void theScanSeesImportsAndQualifiedNames() {
        String src = """
                import gsae.api.SaeTrainer;
                import gsae.train.Trainer;
                import gsae.config.UserError;
                import gsae.cuda.SelfCheck;
                class X { gsae.io.Checkpoint c; String s = "-Dgsae.cuda.device"; }
                """;
        assertEquals(List.of("X.java: gsae.train.Trainer", "X.java: gsae.cuda.SelfCheck", "X.java: gsae.io.Checkpoint"), offences("X.java", src));
        assertEquals(List.of("SelftestCommand.java: gsae.train.Trainer", "SelftestCommand.java: gsae.io.Checkpoint"),
                offences("SelftestCommand.java", src));
    }

    static List<String> offences(String file, String source) {
        List<String> out = new ArrayList<>();
        Matcher m = ENGINE.matcher(source);
        while (m.find()) {
            String name = m.group();
            boolean allowed = EVERYWHERE.contains(name) || IN_FILE.containsKey(file) && name.startsWith(IN_FILE.get(file));
            if (!allowed) out.add(file + ": " + name);
        }
        return out;
    }
}
