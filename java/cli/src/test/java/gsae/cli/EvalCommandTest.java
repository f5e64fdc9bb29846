package gsae.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gsae.train.EvalReport;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rendering of reports and the command's handling of bad options. Running the command end to
 * end needs a real checkpoint (gsae.io.Checkpoint), which another part of the project provides.
 */
class EvalCommandTest {

    private static final Map<String, EvalReport.Recovery> RECOVERY = new LinkedHashMap<>();

    static {
        RECOVERY.put("loud_inert", new EvalReport.Recovery(64, 0.95, 0.875));
        RECOVERY.put("quiet_decisive", new EvalReport.Recovery(128, 0.5, 0.0625));
        RECOVERY.put("ordinary", new EvalReport.Recovery(320, 0.8, 0.5));
    }

    private static final EvalReport TEACHER = new EvalReport(65536, 0.125, 15.5, 0.01,
            new EvalReport.Downstream(1.3, 1.5, 2.75, 0.2, 0.8547, 0.0421), RECOVERY);
    private static final EvalReport DATA = new EvalReport(1000, 0.25, 8.0, 0.5, null, null);

    private static Map<String, String> context() {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("checkpoint", "runs/demo/gsae");
        c.put("data", "teacher(d=64, features=512, seed=1)");
        return c;
    }

    @Test
    void tableShowsEveryMetricAndOneRowPerFamily() {
        String table = EvalFormat.table(TEACHER, context());
        List<String> lines = table.lines().toList();
        assertEquals("checkpoint           runs/demo/gsae", lines.get(0));
        assertTrue(lines.contains("tokens               65536"), table);
        assertTrue(lines.contains("fvu                  0.125000"), table);
        assertTrue(lines.contains("l0                   15.50"), table);
        assertTrue(lines.contains("dead latents         1.00%"), table);
        assertTrue(lines.contains("loss clean           1.300000"), table);
        assertTrue(lines.contains("loss spliced         1.500000"), table);
        assertTrue(lines.contains("loss zero-ablated    2.750000"), table);
        assertTrue(lines.contains("loss recovered       85.47%"), table);
        assertTrue(lines.contains("kl(clean‖spliced)    0.042100"), table);
        assertTrue(lines.contains("quiet_decisive        128         0.5000      6.25%"), table);
        int header = lines.indexOf("family           features  mean best cos  cos > 0.9");
        assertTrue(header > 0, table);
        assertEquals(List.of("loud_inert", "quiet_decisive", "ordinary"),
                lines.subList(header + 1, header + 4).stream().map(l -> l.split(" +")[0]).toList());
    }

    @Test
    void tableLeavesOutWhatTheReportLacks() {
        String table = EvalFormat.table(DATA, Map.of());
        assertTrue(table.contains("dead latents         50.00%"), table);
        assertFalse(table.contains("loss"), table);
        assertFalse(table.contains("family"), table);
    }

    @Test
    void jsonCarriesContextThenEveryField() throws Exception {
        JsonNode root = new ObjectMapper().readTree(EvalFormat.json(TEACHER, context()));
        Iterator<String> names = root.fieldNames();
        assertEquals("checkpoint", names.next());
        assertEquals("data", names.next());
        assertEquals(65536, root.get("tokens").asLong());
        assertEquals(0.125, root.get("fvu").asDouble());
        assertEquals(15.5, root.get("l0").asDouble());
        assertEquals(0.01, root.get("deadFraction").asDouble());
        assertEquals(0.8547, root.get("downstream").get("lossRecovered").asDouble());
        assertEquals(0.0421, root.get("downstream").get("kl").asDouble());
        assertEquals(128, root.get("recovery").get("quiet_decisive").get("features").asInt());
        assertEquals(0.0625, root.get("recovery").get("quiet_decisive").get("above09").asDouble());

        JsonNode plain = new ObjectMapper().readTree(EvalFormat.json(DATA, Map.of()));
        assertTrue(plain.get("downstream").isNull());
        assertTrue(plain.get("recovery").isNull());
    }

    @Test
    void anUnknownBackendIsOneLineNamingTheOption() {
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine(new Main());
        cli.setErr(new PrintWriter(err));
        int rc = cli.execute("eval", "--checkpoint", "nowhere", "--backend", "tpu");
        assertEquals(Main.USER_ERROR, rc);
        assertEquals("gsae: Invalid value for option '--backend': expected one of [AUTO, CPU, REFERENCE, DENSE, CUDA, CUDA_DENSE] "
                + "(case-insensitive) but was 'tpu' (see gsae eval --help)", err.toString().strip());
    }
}
