package gsae.cli;

import gsae.api.DataRun;
import gsae.api.Engine;
import gsae.api.Metrics;

import java.io.PrintStream;
import java.nio.file.Path;

/** What the command line adds to a training run: the progress display, the message on Ctrl-C, the run's figure. */
final class WatchedRun {

    static final String CURVES = "curves.png";

    private WatchedRun() {}

    /** Trains {@code run} on {@code engine} with progress on {@code log}, then draws {@value #CURVES} in {@code out} from the metrics. */
    static DataRun.Outcome run(DataRun run, Engine engine, Path out, PrintStream log, boolean quiet) {
        String[] title = new String[1];
        Interruption[] interruption = new Interruption[1];
        Progress[] progress = new Progress[1];
        DataRun.Outcome r;
        try {
            r = run.train(engine, Main::needs, new DataRun.Listener() {
                @Override
                public void started(DataRun.Plan plan) {
                    title[0] = title(plan);
                    interruption[0] = Interruption.watch(log, out, plan.done());
                    progress[0] = Progress.create(log, plan.done() + 1, plan.steps(), quiet);
                }

                @Override
                public void stepped(Metrics m, double tokensPerSecond) {
                    progress[0].update(m.step(), m, tokensPerSecond);
                }

                @Override
                public void saved(long step) {
                    interruption[0].saved(step);
                }
            });
        } finally {
            if (progress[0] != null) progress[0].close();
            if (interruption[0] != null) interruption[0].close();
        }
        Plots.write(out.resolve(CURVES), title[0], DataRun.readMetrics(out.resolve(DataRun.METRICS)));
        return r;
    }

    /** "g-SAE β=4 · M=1024, k=16 · 3000 steps of 1024 tokens · model gpt2, hook transformer.h.7": what the figure shows. */
    static String title(DataRun.Plan p) {
        String what = p.beta() > 0 ? "g-SAE β=" + Panel.number(p.beta()) : "TopK SAE";
        return what + " · M=" + p.latents() + ", k=" + p.k() + " · " + p.steps() + " steps of " + p.batch() + " tokens · " + p.data();
    }
}
