package gsae.cli;

import gsae.config.LrDecay;
import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.cpu.CpuBackend;
import gsae.io.DataRecord;
import gsae.ops.StepMetrics;
import gsae.train.Initializer;
import gsae.train.SyntheticSource;
import gsae.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WatchedRunTest {

    @Test
    void quietRunPrintsAPlainLineEachTenthAndDrawsTheCurves(@TempDir Path out) throws IOException {
        SyntheticSource src = new SyntheticSource(12, 8, 3);
        SaeConfig sae = new SaeConfig(12, 32, 4, 0.5f, 6, 1f / 32, 128);
        TrainConfig train = new TrainConfig(40, 32, 1e-2f, 3, LrDecay.LINEAR, 7, 15, 1, true, 100);
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        WatchedRun.run(new Trainer(CpuBackend.reference(), src, out), Initializer.fresh(sae, train, src, DataRecord.described("synthetic")),
                out, new PrintStream(progress, true, StandardCharsets.UTF_8), true);

        BufferedImage png = ImageIO.read(out.resolve(WatchedRun.CURVES).toFile());
        assertTrue(png.getWidth() > 0 && png.getHeight() > 0);
        String lines = progress.toString(StandardCharsets.UTF_8);
        assertEquals(10, lines.lines().filter(l -> l.startsWith("step ")).count(), "one line per 10% when quiet:\n" + lines);
    }

    @Test
    void progressBarShowsStepEtaAndMetrics() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Progress bar = new BarProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8), 11, 20)) {
            bar.update(15, new StepMetrics(0.25, 0.5, 0.26, 4, 0.125), 1234);
        }
        String shown = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(shown.contains("15/20"), shown);
        assertTrue(shown.contains("fvu 0.2500") && shown.contains("dead 12.5%") && shown.contains("1.2k tok/s"), shown);
    }
}
