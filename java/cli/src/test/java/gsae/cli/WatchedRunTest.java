package gsae.cli;

import gsae.api.DataRun;
import gsae.api.DataSources;
import gsae.api.Decay;
import gsae.api.Engine;
import gsae.api.Metrics;
import gsae.api.SaeBackend;
import gsae.data.BatchSource;
import gsae.train.SyntheticSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WatchedRunTest {

    @Test
    void quietRunPrintsAPlainLineEachTenthAndDrawsTheCurves(@TempDir Path out) throws IOException {
        DataSources synthetic = new DataSources() {
            @Override
            public BatchSource teacher(long seed) {
                return new SyntheticSource(12, 8, 3);
            }

            @Override
            public BatchSource shards(List<Path> paths, long seed, boolean skipNonfinite) {
                throw new UnsupportedOperationException("no shards here");
            }
        };
        DataRun.Options o = new DataRun.Options(32, 4, 0.5f, 40, 32, 1e-2f, 3, Decay.LINEAR, 7L, 15, 1, 6, 1f / 32, 128L, true);
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        PrintStream log = new PrintStream(progress, true, StandardCharsets.UTF_8);
        try (DataRun run = DataRun.open(out, o, false, false, null, false, synthetic, log);
             Engine reference = Engine.open(SaeBackend.REFERENCE, 1, log, false)) {
            WatchedRun.run(run, reference, out, log, true);
        }

        BufferedImage png = ImageIO.read(out.resolve(WatchedRun.CURVES).toFile());
        assertTrue(png.getWidth() > 0 && png.getHeight() > 0);
        String lines = progress.toString(StandardCharsets.UTF_8);
        assertEquals(10, lines.lines().filter(l -> l.startsWith("step ")).count(), "one line per 10% when quiet:\n" + lines);
    }

    @Test
    void progressBarShowsStepEtaAndMetrics() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Progress bar = new BarProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8), 11, 20)) {
            bar.update(15, new Metrics(15, 1e-3f, 0.25, 0.5, 0.26, 4, 0.125), 1234);
        }
        String shown = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(shown.contains("15/20"), shown);
        assertTrue(shown.contains("fvu 0.2500") && shown.contains("dead 12.5%") && shown.contains("1.2k tok/s"), shown);
    }
}
