package gsae.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gsae.train.EvalReport;

import java.util.Locale;
import java.util.Map;

/** Renders an {@link EvalReport} for people (aligned tables) or for programs (JSON). */
public final class EvalFormat {

    private static final ObjectMapper JSON = new ObjectMapper();

    private EvalFormat() {}

    /**
     * The report as aligned text: the metrics, then, when present, one row per feature family.
     *
     * @param context lines shown first, e.g. checkpoint → "runs/demo/gsae" (kept in order)
     */
    public static String table(EvalReport r, Map<String, String> context) {
        StringBuilder out = new StringBuilder();
        context.forEach((key, value) -> row(out, key, value));
        row(out, "tokens", Long.toString(r.tokens()));
        row(out, "fvu", number(r.fvu()));
        row(out, "l0", String.format(Locale.ROOT, "%.2f", r.l0()));
        row(out, "dead latents", percent(r.deadFraction()));
        EvalReport.Downstream down = r.downstream();
        if (down != null) {
            row(out, "loss clean", number(down.cleanLoss()));
            row(out, "loss spliced", number(down.splicedLoss()));
            row(out, "loss zero-ablated", number(down.zeroLoss()));
            row(out, "loss increase", number(down.lossIncrease()));
            row(out, "loss recovered", percent(down.lossRecovered()));
            row(out, "kl(clean‖spliced)", number(down.kl()));
        }
        if (r.recovery() != null && !r.recovery().isEmpty()) {
            out.append(String.format(Locale.ROOT, "%n%-16s %8s %14s %10s%n", "family", "features", "mean best cos", "cos > 0.9"));
            r.recovery().forEach((family, rec) -> out.append(String.format(Locale.ROOT, "%-16s %8d %14.4f %10s%n",
                    family, rec.features(), rec.meanBestCos(), percent(rec.above09()))));
        }
        return out.toString();
    }

    /** The context's entries, then the report's fields as JSON (downstream and recovery null when absent). */
    public static String json(EvalReport r, Map<String, String> context) {
        ObjectNode root = JSON.createObjectNode();
        context.forEach(root::put);
        root.setAll((ObjectNode) JSON.valueToTree(r));
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the evaluation as JSON", e);
        }
    }

    private static void row(StringBuilder out, String key, String value) {
        out.append(String.format(Locale.ROOT, "%-20s %s%n", key, value));
    }

    private static String number(double v) {
        return String.format(Locale.ROOT, "%.6f", v);
    }

    private static String percent(double v) {
        return String.format(Locale.ROOT, "%.2f%%", 100 * v);
    }
}
