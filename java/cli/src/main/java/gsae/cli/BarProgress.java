package gsae.cli;

import gsae.api.Metrics;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.time.Duration;

/** A redrawing bar on a terminal; the library redraws on its own thread, so an update is two field writes. */
final class BarProgress implements Progress {

    private final ProgressBar bar;

    BarProgress(PrintStream out, long first, long total) {
        bar = ProgressBar.builder()
                .setTaskName("train")
                .setInitialMax(total)
                .startsFrom(first - 1, Duration.ZERO)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250)
                .setConsumer(new ConsoleProgressBarConsumer(out))
                .build();
    }

    @Override
    public void update(long step, Metrics m, double tokensPerSecond) {
        bar.stepTo(step);
        bar.setExtraMessage(String.format("fvu %.4f dead %.1f%% %s tok/s", m.fvu(), 100 * m.deadFraction(), compact(tokensPerSecond)));
    }

    /** 950, 12.3k, 4.56M: the bar shares one terminal line with its ETA, so numbers stay short. */
    static String compact(double v) {
        if (v < 1e3) return String.format("%.0f", v);
        if (v < 1e6) return String.format("%.1fk", v / 1e3);
        return String.format("%.2fM", v / 1e6);
    }

    @Override
    public void close() {
        bar.close();
    }
}
