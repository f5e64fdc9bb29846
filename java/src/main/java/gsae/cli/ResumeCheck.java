package gsae.cli;

import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.io.Checkpoint;
import picocli.CommandLine.ParseResult;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What {@code train --resume} may change: only how the run executes (--threads,
 * --checkpoint-every, --backend, --quiet). An option that would change what is trained and
 * disagrees with the checkpoint is an error, since the resumed run must equal the uninterrupted one.
 */
final class ResumeCheck {

    private ResumeCheck() {}

    /** The checkpoint in {@code dir}, with the given execution options applied; conflicting options throw. */
    static Checkpoint load(Path dir, ParseResult given, TrainCommand o) {
        Checkpoint c = Checkpoint.load(dir);
        SaeConfig s = c.sae();
        TrainConfig t = c.train();
        same(given, "--latents", o.latents, s.latents());
        same(given, "--k", o.k, s.k());
        same(given, "--beta", o.beta, s.beta());
        same(given, "--aux-k", o.auxK, s.auxK());
        same(given, "--aux-alpha", o.auxAlpha, s.auxAlpha());
        same(given, "--dead-tokens", o.deadTokens, s.deadTokens());
        same(given, "--steps", o.steps, t.steps());
        same(given, "--batch", o.batch, t.batch());
        same(given, "--lr", o.lr, t.peakLr(s));
        same(given, "--warmup", o.warmup, t.warmupSteps());
        same(given, "--decay", o.decay, t.decay());
        same(given, "--seed", o.seed, t.seed());
        same(given, "--scale-acts", o.scaleActs, t.scaleActs());
        int threads = given.hasMatchedOption("--threads") ? o.threads : t.threads();
        int every = given.hasMatchedOption("--checkpoint-every") ? o.checkpointEvery : t.checkpointEvery();
        TrainConfig run = new TrainConfig(t.steps(), t.batch(), t.lr(), t.warmupSteps(), t.decay(), t.seed(), every, threads,
                t.scaleActs(), t.scaleTokens());
        return new Checkpoint(s, run, c.scales(), c.state(), c.dataPosition(), c.data());
    }

    /** The data must be the checkpoint's: resuming on other tokens would not continue the same run. */
    static void sameData(Checkpoint c, String data) {
        if (!c.data().equals(data))
            throw new IllegalArgumentException("--resume: the checkpoint was trained on " + c.data() + ", not " + data
                    + " (pass the same --data)");
    }

    private static void same(ParseResult given, String option, Object value, Object saved) {
        if (given.hasMatchedOption(option) && !Objects.equals(value, saved))
            throw new IllegalArgumentException("--resume: " + option + " " + value + " differs from the checkpoint's " + saved
                    + "; drop it to continue the run as it was");
    }
}
