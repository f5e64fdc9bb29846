package gsae.cli;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Training curves as PNG figures, drawn headless: one per run ({@link #write}), and one overlaying
 * several runs ({@link #compare}), each under a title saying what was trained.
 */
public final class Plots {

    /** Column the demo's periodic evaluation writes: the spliced downstream loss increase, latents selected without g. */
    public static final String DOWNSTREAM_NO_G = "downstream_loss_increase_no_g";

    private static final Panel.Metric FVU = new Panel.Metric("fvu", "FVU on training batches (smoothed, log scale)", "FVU", true, true, 1);
    private static final Panel.Metric L0 = new Panel.Metric("l0", "L0: latents active per token", "L0", false, true, 1);
    private static final Panel.Metric DEAD = new Panel.Metric("dead_fraction", "dead latents (unselected for dead-tokens)", "% of latents",
            false, false, 100);
    private static final Panel.Metric LR = new Panel.Metric("lr", "learning rate", "lr", false, false, 1);
    private static final Panel.Metric AUXK = new Panel.Metric("auxk", "AuxK loss (dead-latent revival)", "AuxK", false, true, 1);
    private static final Panel.Metric DOWNSTREAM = new Panel.Metric(DOWNSTREAM_NO_G,
            "downstream loss increase, held-out (latents selected without g)", "Δ loss vs clean", false, false, 1);

    private static final int TITLE_H = 44, COLUMNS = 2;

    private Plots() {}

    /**
     * The figure of one run: smoothed FVU, L0, dead latents, learning rate, and where present AuxK
     * (when ever non-zero) and the held-out downstream loss.
     */
    public static void write(Path png, String title, List<Map<String, Double>> rows) {
        Map<String, List<Map<String, Double>>> run = Map.of("run", rows);
        List<Panel.Metric> metrics = new ArrayList<>(List.of(FVU, L0, DEAD, LR));
        if (rows.stream().anyMatch(r -> r.getOrDefault("auxk", 0.0) != 0)) metrics.add(AUXK);
        metrics.add(DOWNSTREAM);
        draw(png, title, metrics, run);
    }

    /** Runs overlaid, one colour each, with a legend: smoothed FVU, L0, dead latents and the held-out downstream loss. */
    public static void compare(Path png, String title, Map<String, List<Map<String, Double>>> runs) {
        draw(png, title, List.of(FVU, DOWNSTREAM, L0, DEAD), new LinkedHashMap<>(runs));
    }

    private static void draw(Path png, String title, List<Panel.Metric> metrics, Map<String, List<Map<String, Double>>> runs) {
        System.setProperty("java.awt.headless", "true");
        List<Panel.Metric> shown = new ArrayList<>();
        List<List<Panel.Series>> charts = new ArrayList<>();
        for (Panel.Metric m : metrics) {
            List<Panel.Series> s = Panel.series(m, runs);
            if (s.isEmpty()) continue;
            shown.add(m);
            charts.add(s);
        }
        int cols = Math.min(COLUMNS, Math.max(1, charts.size()));
        int rows = Math.max(1, (charts.size() + cols - 1) / cols);
        BufferedImage img = new BufferedImage(cols * Panel.W, TITLE_H + rows * Panel.H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 17));
        String heading = fit(g, title, img.getWidth() - 24);
        g.drawString(heading, (img.getWidth() - g.getFontMetrics().stringWidth(heading)) / 2, 29);
        for (int i = 0; i < charts.size(); i++) {
            Graphics2D panel = (Graphics2D) g.create(i % cols * Panel.W, TITLE_H + i / cols * Panel.H, Panel.W, Panel.H);
            Panel.draw(panel, shown.get(i), charts.get(i), runs.size() > 1);
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

    /** The title, shortened with "…" to fit {@code width} pixels. */
    private static String fit(Graphics2D g, String title, int width) {
        if (g.getFontMetrics().stringWidth(title) <= width) return title;
        String t = title;
        while (t.length() > 1 && g.getFontMetrics().stringWidth(t + "…") > width) t = t.substring(0, t.length() - 1);
        return t + "…";
    }
}
