package gsae.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import gsae.train.EvalReport;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** The demo's side-by-side comparison: one column per run, one row per SPEC §7 metric, as text and as JSON. */
final class DemoTable {

    /** Teacher feature families whose recovery the demo reports (EvalReport.recovery() keys). */
    static final List<String> FAMILIES = List.of("quiet_decisive", "loud_inert");

    private static final String MISSING = "–";

    private final Map<String, EvalReport> runs;

    /** @param runs evaluation per run name, in column order */
    DemoTable(Map<String, EvalReport> runs) {
        this.runs = new LinkedHashMap<>(runs);
    }

    /** Fixed-width text: a header row of run names, then one row per metric. */
    String render() {
        List<String[]> rows = new ArrayList<>();
        rows.add(header());
        row(rows, "FVU", r -> fixed(r.fvu(), 4));
        row(rows, "L0", r -> fixed(r.l0(), 1));
        row(rows, "downstream loss increase", r -> r.downstream() == null ? MISSING : fixed(r.downstream().lossIncrease(), 4));
        row(rows, "loss recovered", r -> r.downstream() == null ? MISSING : percent(r.downstream().lossRecovered()));
        row(rows, "KL(clean ‖ spliced)", r -> r.downstream() == null ? MISSING : fixed(r.downstream().kl(), 4));
        row(rows, "dead fraction", r -> percent(r.deadFraction()));
        for (String family : FAMILIES)
            row(rows, family + " recovered (cos > 0.9)", r -> recovery(r, family));
        return layout(rows);
    }

    /** The same numbers as JSON: {"runs": {name: EvalReport fields}}. */
    String json() {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(Map.of("runs", runs));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode the demo table: " + e.getMessage(), e);
        }
    }

    private String[] header() {
        List<String> h = new ArrayList<>(List.of(""));
        h.addAll(runs.keySet());
        return h.toArray(String[]::new);
    }

    private void row(List<String[]> rows, String label, Function<EvalReport, String> cell) {
        List<String> r = new ArrayList<>(List.of(label));
        for (EvalReport e : runs.values()) r.add(cell.apply(e));
        rows.add(r.toArray(String[]::new));
    }

    private static String recovery(EvalReport r, String family) {
        if (r.recovery() == null || !r.recovery().containsKey(family)) return MISSING;
        EvalReport.Recovery rec = r.recovery().get(family);
        return percent(rec.above09()) + " (mean cos " + fixed(rec.meanBestCos(), 3) + ")";
    }

    private static String fixed(double v, int digits) {
        return String.format("%." + digits + "f", v);
    }

    private static String percent(double v) {
        return String.format("%.1f%%", 100 * v);
    }

    /** Label column left-aligned, value columns right-aligned, two spaces between. */
    private static String layout(List<String[]> rows) {
        int cols = rows.get(0).length;
        int[] width = new int[cols];
        for (String[] r : rows)
            for (int c = 0; c < cols; c++) width[c] = Math.max(width[c], r[c].length());
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            sb.append(String.format("%-" + width[0] + "s", r[0]));
            for (int c = 1; c < cols; c++) sb.append("  ").append(String.format("%" + width[c] + "s", r[c]));
            sb.append('\n');
        }
        return sb.toString();
    }
}
