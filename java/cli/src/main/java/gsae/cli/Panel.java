package gsae.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One chart of a figure, drawn with Java2D: a metric of metrics.jsonl against step, for one run or
 * several overlaid. Drawn by hand because charting libraries place ticks at data points when the steps
 * are evenly spaced (labels that run into each other) and label a log axis only at powers of ten,
 * which a loss spanning less than a decade never reaches; here ticks are at round numbers (1, 2, 5 ×
 * 10^k), on a log axis too.
 */
final class Panel {

    static final int W = 600, H = 340;
    private static final int LEFT = 72, RIGHT = 18, TOP = 34, BOTTOM = 50;
    private static final Color[] COLOURS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd)};
    private static final Color GRID = new Color(0xE4E4E4), AXIS = new Color(0x444444);
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 13), LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 12),
            TICK = new Font(Font.SANS_SERIF, Font.PLAIN, 11);

    /**
     * How one metric is shown.
     *
     * @param key    column of metrics.jsonl
     * @param title  what the panel says it shows, including how it was measured
     * @param yLabel the axis title
     * @param log    log scale (values must be > 0; others are left out)
     * @param smooth draw an exponential moving average over the noisy per-batch values, the raw values faint behind it
     * @param scale  multiplies every value (100 shows a fraction as a percentage)
     */
    record Metric(String key, String title, String yLabel, boolean log, boolean smooth, double scale) {}

    /** Steps and values of one run's rows that hold the metric. */
    record Series(String name, double[] x, double[] y) {}

    private Panel() {}

    /** The series of {@code m} for each named run that has values for it; empty when none does. */
    static List<Series> series(Metric m, Map<String, List<Map<String, Double>>> runs) {
        List<Series> out = new ArrayList<>();
        for (Map.Entry<String, List<Map<String, Double>>> run : runs.entrySet()) {
            List<double[]> pts = new ArrayList<>();
            for (Map<String, Double> r : run.getValue()) {
                Double y = r.get(m.key()), x = r.get("step");
                if (y == null || x == null || !Double.isFinite(y) || m.log() && !(y > 0)) continue;
                pts.add(new double[]{x, y * m.scale()});
            }
            if (pts.isEmpty()) continue;
            double[] x = new double[pts.size()], y = new double[pts.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = pts.get(i)[0];
                y[i] = pts.get(i)[1];
            }
            out.add(new Series(run.getKey(), x, y));
        }
        return out;
    }

    /** Draws the panel into {@code g}, whose origin is the panel's top-left corner. */
    static void draw(Graphics2D g, Metric m, List<Series> all, boolean legend) {
        int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
        double xMin = Double.POSITIVE_INFINITY, xMax = Double.NEGATIVE_INFINITY, yMin = Double.POSITIVE_INFINITY, yMax = Double.NEGATIVE_INFINITY;
        for (Series s : all) {
            for (double v : s.x()) {
                xMin = Math.min(xMin, v);
                xMax = Math.max(xMax, v);
            }
            for (double v : s.y()) {
                yMin = Math.min(yMin, m.log() ? Math.log10(v) : v);
                yMax = Math.max(yMax, m.log() ? Math.log10(v) : v);
            }
        }
        Axis xs = Axis.linear(Math.min(0, xMin), Math.max(xMax, xMin + 1), 7);
        Axis ys = m.log() ? Axis.log(yMin, yMax) : Axis.linear(yMin == yMax ? Math.min(0, yMin) : yMin, yMin == yMax ? Math.max(1, 2 * yMax) : yMax, 5);

        boolean zero = all.stream().allMatch(s -> Arrays.stream(s.y()).allMatch(v -> v == 0));
        g.setFont(TITLE);
        g.setColor(Color.BLACK);
        centred(g, m.title() + (zero ? ": 0 throughout" : ""), W / 2, 20);
        g.setFont(TICK);
        FontMetrics fm = g.getFontMetrics();
        g.setStroke(new BasicStroke(1f));
        for (double t : xs.ticks()) {
            int px = LEFT + (int) Math.round(xs.fraction(t) * pw);
            g.setColor(GRID);
            g.drawLine(px, TOP, px, TOP + ph);
            g.setColor(AXIS);
            centred(g, steps(t), px, TOP + ph + fm.getAscent() + 4);
        }
        for (double t : ys.ticks()) {
            int py = TOP + ph - (int) Math.round(ys.fraction(t) * ph);
            g.setColor(GRID);
            g.drawLine(LEFT, py, LEFT + pw, py);
            g.setColor(AXIS);
            String label = number(ys.log() ? Math.pow(10, t) : t);
            g.drawString(label, LEFT - 6 - fm.stringWidth(label), py + fm.getAscent() / 2 - 1);
        }
        g.setColor(AXIS);
        g.drawRect(LEFT, TOP, pw, ph);
        g.setFont(LABEL);
        centred(g, "step", LEFT + pw / 2, H - 10);
        AffineTransform saved = g.getTransform();
        g.rotate(-Math.PI / 2);
        centred(g, m.yLabel(), -(TOP + ph / 2), 16);
        g.setTransform(saved);

        Graphics2D plot = (Graphics2D) g.create(LEFT, TOP, pw + 1, ph + 1);
        for (int i = 0; i < all.size(); i++) {
            Series s = all.get(i);
            Color c = COLOURS[i % COLOURS.length];
            double[] y = m.log() ? log10(s.y()) : s.y();
            if (m.smooth() && s.x().length > 20) {
                line(plot, s.x(), y, xs, ys, pw, ph, new Color(c.getRed(), c.getGreen(), c.getBlue(), 55), 1f);
                line(plot, s.x(), m.log() ? log10(ema(s.y())) : ema(s.y()), xs, ys, pw, ph, c, 2.2f);
            } else {
                line(plot, s.x(), y, xs, ys, pw, ph, c, 2f);
            }
        }
        plot.dispose();
        if (legend) legend(g, all, LEFT + pw - 8, TOP + 8);
    }

    private static void line(Graphics2D g, double[] x, double[] y, Axis xs, Axis ys, int pw, int ph, Color c, float width) {
        g.setColor(c);
        g.setStroke(new BasicStroke(width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        if (x.length == 1) {
            int px = (int) Math.round(xs.fraction(x[0]) * pw), py = ph - (int) Math.round(ys.fraction(y[0]) * ph);
            g.fillOval(px - 3, py - 3, 6, 6);
            return;
        }
        Path2D.Double p = new Path2D.Double();
        for (int i = 0; i < x.length; i++) {
            double px = xs.fraction(x[i]) * pw, py = ph - ys.fraction(y[i]) * ph;
            if (i == 0) p.moveTo(px, py);
            else p.lineTo(px, py);
        }
        g.draw(p);
    }

    /** A box in the top-right corner naming each run in its colour. */
    private static void legend(Graphics2D g, List<Series> all, int right, int top) {
        g.setFont(TICK);
        FontMetrics fm = g.getFontMetrics();
        int w = 0;
        for (Series s : all) w = Math.max(w, fm.stringWidth(s.name()));
        int bw = w + 40, bh = all.size() * (fm.getHeight() + 2) + 8, left = right - bw;
        g.setColor(new Color(255, 255, 255, 230));
        g.fillRect(left, top, bw, bh);
        g.setColor(GRID);
        g.drawRect(left, top, bw, bh);
        for (int i = 0; i < all.size(); i++) {
            int base = top + 6 + (i + 1) * (fm.getHeight() + 2) - fm.getDescent() - 2;
            g.setColor(COLOURS[i % COLOURS.length]);
            g.setStroke(new BasicStroke(2.5f));
            g.drawLine(left + 8, base - fm.getAscent() / 2 + 1, left + 28, base - fm.getAscent() / 2 + 1);
            g.setColor(Color.BLACK);
            g.drawString(all.get(i).name(), left + 34, base);
        }
    }

    private static void centred(Graphics2D g, String s, int x, int baseline) {
        g.drawString(s, x - g.getFontMetrics().stringWidth(s) / 2, baseline);
    }

    private static double[] log10(double[] y) {
        double[] out = new double[y.length];
        for (int i = 0; i < y.length; i++) out[i] = Math.log10(y[i]);
        return out;
    }

    /**
     * Exponential moving average over about 2% of the run (at least 5 rows), debiased as in
     * TensorBoard so that the start is not pulled toward 0.
     */
    static double[] ema(double[] y) {
        double span = Math.max(5, y.length / 50.0), alpha = 2 / (span + 1);
        double[] out = new double[y.length];
        double acc = 0, weight = 0;
        for (int i = 0; i < y.length; i++) {
            acc = (1 - alpha) * acc + alpha * y[i];
            weight = (1 - alpha) * weight + alpha;
            out[i] = acc / weight;
        }
        return out;
    }

    /** A tick label with up to three significant digits: 0.25, 0.032, 1.5e-05, 1,200. */
    static String number(double v) {
        double a = Math.abs(v);
        if (a < 1e-12) return "0";
        if (a >= 1e5 || a < 1e-3) {
            int e = (int) Math.floor(Math.log10(a));
            return number(v / Math.pow(10, e)) + "e" + e;
        }
        if (a >= 100) return String.format(Locale.ROOT, "%,.0f", v);
        return String.format(Locale.ROOT, "%.3g", v).replaceAll("(\\.\\d*?)0+$", "$1").replaceAll("\\.$", "");
    }

    /** A step label: 950, 1.5k, 12k, 1.2M. */
    static String steps(double v) {
        if (Math.abs(v) < 1000) return String.format(Locale.ROOT, "%.0f", v);
        if (Math.abs(v) < 1e6) return number(v / 1000) + "k";
        return number(v / 1e6) + "M";
    }
}
