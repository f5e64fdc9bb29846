package gsae.train;

import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Training curves as one PNG: a panel per scalar against step, drawn headless. */
public final class Plots {

    /** Columns of metrics.jsonl that are bookkeeping, not curves. */
    private static final Set<String> NOT_PLOTTED = Set.of("step", "tokens", "lr", "loss", "l0", "tokens_per_s", "elapsed_s");
    private static final int PANEL_W = 560, PANEL_H = 320, COLUMNS = 2;

    private Plots() {}

    /**
     * Writes {@code png} with FVU, AuxK and dead fraction against step, then a panel for every
     * extra scalar (periodic evaluations), each drawn over the rows that have it.
     */
    public static void write(Path png, List<Map<String, Double>> rows) {
        System.setProperty("java.awt.headless", "true");
        List<XYChart> charts = new ArrayList<>();
        for (String key : plotted(rows)) {
            XYChart c = chart(key, rows);
            if (c != null) charts.add(c);
        }
        int cols = Math.min(COLUMNS, Math.max(1, charts.size()));
        int gridRows = Math.max(1, (charts.size() + cols - 1) / cols);
        BufferedImage img = new BufferedImage(cols * PANEL_W, gridRows * PANEL_H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        for (int i = 0; i < charts.size(); i++) {
            Graphics2D panel = (Graphics2D) g.create(i % cols * PANEL_W, i / cols * PANEL_H, PANEL_W, PANEL_H);
            charts.get(i).paint(panel, PANEL_W, PANEL_H);
            panel.dispose();
        }
        g.dispose();
        try {
            Files.createDirectories(png.toAbsolutePath().getParent());
            ImageIO.write(img, "png", png.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + png + ": " + e.getMessage(), e);
        }
    }

    /** fvu, auxk, dead_fraction first, then extras in the order they first appear. */
    private static Set<String> plotted(List<Map<String, Double>> rows) {
        Set<String> keys = new LinkedHashSet<>(List.of("fvu", "auxk", "dead_fraction"));
        for (Map<String, Double> r : rows)
            for (String k : r.keySet()) if (!NOT_PLOTTED.contains(k)) keys.add(k);
        return keys;
    }

    /** One panel, log-scaled when every value is positive and they span more than a decade; null when no row has the key. */
    private static XYChart chart(String key, List<Map<String, Double>> rows) {
        List<Double> xs = new ArrayList<>(), ys = new ArrayList<>();
        for (Map<String, Double> r : rows) {
            Double y = r.get(key), x = r.get("step");
            if (y == null || x == null || !Double.isFinite(y)) continue;
            xs.add(x);
            ys.add(y);
        }
        if (xs.isEmpty()) return null;
        XYChart c = new XYChartBuilder().width(PANEL_W).height(PANEL_H).title(key).xAxisTitle("step").yAxisTitle(key).build();
        c.getStyler().setLegendVisible(false).setMarkerSize(xs.size() == 1 ? 6 : 0).setChartTitleBoxVisible(false);
        c.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        // Plain integers, spaced for labels of up to seven digits: XChart's default packs "1,001" against "1,251".
        c.getStyler().setXAxisDecimalPattern("#").setXAxisTickMarkSpacingHint(90);
        double lo = ys.stream().mapToDouble(Double::doubleValue).min().orElse(0), hi = ys.stream().mapToDouble(Double::doubleValue).max().orElse(0);
        c.getStyler().setYAxisLogarithmic(lo > 0 && hi > 10 * lo);
        c.addSeries(key, xs.stream().mapToDouble(Double::doubleValue).toArray(), ys.stream().mapToDouble(Double::doubleValue).toArray());
        return c;
    }
}
