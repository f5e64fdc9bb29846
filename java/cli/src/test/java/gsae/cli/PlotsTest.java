package gsae.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Round tick values, short labels, and figures with the panels their metrics call for. */
class PlotsTest {

    @TempDir
    Path dir;

    private static List<String> labels(Axis a) {
        return a.ticks().stream().map(t -> Panel.number(a.log() ? Math.pow(10, t) : t)).toList();
    }

    @Test
    void stepTicksAreRoundAndShort() {
        Axis a = Axis.linear(0, 10761, 7);
        assertEquals(List.of(0.0, 2000.0, 4000.0, 6000.0, 8000.0, 10000.0, 12000.0), a.ticks());
        assertEquals(List.of("0", "2k", "4k", "6k", "8k", "10k", "12k"), a.ticks().stream().map(Panel::steps).toList());
        assertEquals("1.5k", Panel.steps(1500));
        assertEquals("950", Panel.steps(950));
        assertEquals(List.of(0.0, 50.0, 100.0, 150.0, 200.0, 250.0, 300.0), Axis.linear(0, 300, 7).ticks());
    }

    @Test
    void aLogAxisLessThanADecadeWideStillHasLabelledRoundTicks() {
        // FVU from 1.9 down to 0.38: the old figure's log axis was labelled only "1"
        assertEquals(List.of("0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1", "1.5", "2"), labels(Axis.log(Math.log10(0.38), Math.log10(1.9))));
        // 0.22 .. 0.45: round steps of the values
        assertEquals(List.of("0.25", "0.3", "0.35", "0.4", "0.45"), labels(Axis.log(Math.log10(0.22), Math.log10(0.45))));
        // several decades: 1, 2, 5 × 10^k
        assertEquals(List.of("0.001", "0.002", "0.005", "0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1"),
                labels(Axis.log(Math.log10(0.001), Math.log10(1))));
    }

    @Test
    void tinyValuesReadAsPowersOfTen() {
        assertEquals("2e-4", Panel.number(2e-4));
        assertEquals("1.5e-4", Panel.number(1.5e-4));
        assertEquals("0.032", Panel.number(0.032));
        assertEquals("1,200", Panel.number(1200));
        assertEquals("0", Panel.number(0));
    }

    @Test
    void smoothingStartsAtTheFirstValueAndFollowsALevel() {
        double[] y = new double[200];
        java.util.Arrays.fill(y, 0.5);
        y[0] = 1;
        double[] s = Panel.ema(y);
        assertEquals(1, s[0], 1e-12, "debiased: the first point is the first value, not pulled toward 0");
        assertEquals(0.5, s[199], 1e-6);
    }

    private static List<Map<String, Double>> rows(int steps, boolean auxk) {
        List<Map<String, Double>> rows = new ArrayList<>();
        for (int t = 1; t <= steps; t++) {
            Map<String, Double> r = new LinkedHashMap<>();
            r.put("step", (double) t);
            r.put("lr", 1e-4);
            r.put("fvu", 1.0 / t);
            r.put("auxk", auxk && t > 5 ? 0.3 : 0.0);
            r.put("l0", 8.0);
            r.put("dead_fraction", 0.0);
            if (t % 10 == 0) r.put(Plots.DOWNSTREAM_NO_G, 2.0 / t);
            rows.add(r);
        }
        return rows;
    }

    @Test
    void aRunsFigureHasATitleBandAndAPanelPerMetricItHas() throws IOException {
        Path flat = dir.resolve("flat.png"), revived = dir.resolve("revived.png");
        Plots.write(flat, "TopK SAE", rows(50, false));
        Plots.write(revived, "TopK SAE", rows(50, true));
        BufferedImage a = ImageIO.read(flat.toFile()), b = ImageIO.read(revived.toFile());
        // FVU, L0, dead, lr, downstream: 3 rows of 2; with a non-zero AuxK: 6 panels, still 3 rows
        assertEquals(2 * Panel.W, a.getWidth());
        assertEquals(44 + 3 * Panel.H, a.getHeight());
        assertEquals(44 + 3 * Panel.H, b.getHeight());
        List<Map<String, Double>> noEval = rows(50, false);
        noEval.forEach(r -> r.remove(Plots.DOWNSTREAM_NO_G));
        Plots.write(flat, "TopK SAE", noEval);
        assertEquals(44 + 2 * Panel.H, ImageIO.read(flat.toFile()).getHeight(), "no periodic evaluation, no downstream panel");
    }

    @Test
    void aComparisonOverlaysRuns() throws IOException {
        Map<String, List<Map<String, Double>>> runs = new LinkedHashMap<>();
        runs.put("TopK", rows(40, false));
        runs.put("g-SAE", rows(40, true));
        Path png = dir.resolve("cmp.png");
        Plots.compare(png, "TopK vs g-SAE", runs);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(44 + 2 * Panel.H, img.getHeight());
        assertTrue(img.getRGB(img.getWidth() / 2, 5) == 0xFFFFFFFF, "white background");
    }
}
