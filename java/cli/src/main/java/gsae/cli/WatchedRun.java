package gsae.cli;

import gsae.config.SaeConfig;
import gsae.io.Checkpoint;
import gsae.ops.StepMetrics;
import gsae.train.MetricsLog;
import gsae.train.Trainer;

import java.io.PrintStream;
import java.nio.file.Path;

/** What the command line adds to the engine's training loop: the progress display, the message on Ctrl-C, the run's figure. */
final class WatchedRun {

    static final String CURVES = "curves.png";

    private WatchedRun() {}

    /** Runs {@code trainer} from {@code start} with progress on {@code log}, then draws {@value #CURVES} from the metrics. */
    static Trainer.Result run(Trainer trainer, Checkpoint start, Path out, PrintStream log, boolean quiet) {
        String title = title(start);
        Trainer.Result r;
        try (Interruption interruption = Interruption.watch(log, out, start.step());
             Progress progress = Progress.create(log, start.step() + 1, start.train().steps(), quiet)) {
            r = trainer.listen(new Trainer.Listener() {
                @Override
                public void stepped(long step, float lr, StepMetrics m, double tokensPerSecond) {
                    progress.update(step, m, tokensPerSecond);
                }

                @Override
                public void saved(Checkpoint c) {
                    interruption.saved(c);
                }
            }).run(start);
        }
        Plots.write(out.resolve(CURVES), title, MetricsLog.read(out.resolve(Trainer.METRICS)));
        return r;
    }

    /** "g-SAE β=4 · M=1024, k=16 · 3000 steps of 1024 tokens · model gpt2, hook transformer.h.7": what the figure shows. */
    static String title(Checkpoint c) {
        SaeConfig s = c.sae();
        String what = s.beta() > 0 ? "g-SAE β=" + Panel.number(s.beta()) : "TopK SAE";
        String data = c.data().source() != null ? c.data().source().describe() : c.data().description();
        return what + " · M=" + s.latents() + ", k=" + s.k() + " · " + c.train().steps() + " steps of " + c.train().batch() + " tokens · " + data;
    }
}
