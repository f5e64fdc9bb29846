package gsae.api;

import gsae.config.LrDecay;
import gsae.config.ParallelMode;
import gsae.config.Parallelism;
import gsae.config.SaeConfig;
import gsae.config.TrainConfig;
import gsae.config.UserError;
import gsae.io.Checkpoint;
import gsae.io.DataRecord.ShardPrint;
import gsae.io.DataRecord;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What a resumed {@link DataRun} ({@code train --resume}) may change: how the run executes (--threads, --checkpoint-every,
 * --backend, --quiet), and --steps where the schedule does not depend on it (no decay), which
 * extends or shortens the run. An option that would change what is trained and disagrees with the
 * checkpoint is an error, since the resumed run must equal the uninterrupted one.
 */
final class ResumeCheck {

    private ResumeCheck() {}

    /** The checkpoint in {@code dir}, with the given (non-null) execution options applied; conflicting options throw. */
    static Checkpoint load(Path dir, DataRun.Options o) {
        Checkpoint c = Checkpoint.load(dir);
        SaeConfig s = c.sae();
        TrainConfig t = c.train();
        same("--latents", o.latents(), s.latents());
        same("--k", o.k(), s.k());
        same("--beta", o.beta(), s.beta());
        same("--aux-k", o.auxK(), s.auxK());
        same("--aux-alpha", o.auxAlpha(), s.auxAlpha());
        same("--dead-tokens", o.deadTokens(), s.deadTokens());
        same("--batch", o.batch(), t.batch());
        same("--lr", o.lr(), t.peakLr(s));
        same("--warmup", o.warmup(), t.warmupSteps());
        same("--decay", o.decay(), Decay.valueOf(t.decay().name()));
        same("--seed", o.seed(), t.seed());
        same("--scale-acts", o.scaleActs(), t.scaleActs());
        int steps = o.steps() != null ? newSteps(c, o.steps()) : t.steps();
        int threads = o.threads() != null ? o.threads() : t.threads();
        int every = o.checkpointEvery() != null ? o.checkpointEvery() : t.checkpointEvery();
        TrainConfig run = new TrainConfig(steps, t.batch(), t.lr(), t.warmupSteps(), t.decay(), t.seed(), every, threads,
                t.scaleActs(), t.scaleTokens());
        return new Checkpoint(s, run, c.scales(), c.state(), c.dataPosition(), c.data(), c.parallel());
    }

    /**
     * A run resumes spread as it was written: data-parallel sums depend on the slices, so the same
     * mode over the same number of ranks continues it exactly. A latent-sharded checkpoint loads into
     * any number of ranks and into one process unchanged in meaning (issue #15), so runs in one
     * process and latent-sharded runs continue each other's checkpoints whatever the rank counts.
     */
    static void sameParallel(Checkpoint c, Parallelism now) {
        Parallelism was = c.parallel();
        if (!continues(was, now))
            throw new UserError("--resume: the checkpoint was written by a run " + was.describe() + ", but this run is " + now.describe()
                    + "; resume it " + how(was));
    }

    /** Whether a run spread as {@code now} may continue a checkpoint written by one spread as {@code was}. */
    static boolean continues(Parallelism was, Parallelism now) {
        return was.equals(now) || was.mode() != ParallelMode.DATA && now.mode() != ParallelMode.DATA;
    }

    private static String how(Parallelism p) {
        return p.mode() == ParallelMode.NONE ? "in one process without --parallel"
                : "with mpirun -np " + p.ranks() + " … --parallel " + p.mode().name().toLowerCase(Locale.ROOT);
    }

    /**
     * A new length for the run. Without decay the learning rate at step t does not depend on the
     * run's length, so stopping at S and going on to S' trains exactly what a run of S' steps would;
     * with linear decay it does, so the length is fixed.
     */
    private static int newSteps(Checkpoint c, int steps) {
        TrainConfig t = c.train();
        if (steps == t.steps()) return steps;
        if (t.decay() != LrDecay.NONE)
            throw new UserError("--resume: --steps " + steps + " differs from the checkpoint's " + t.steps() + ", and this run's learning rate decays "
                    + t.decay().name().toLowerCase(Locale.ROOT) + "ly to 0 at step " + t.steps()
                    + ", so changing its length would not continue it; start a fresh run (or train with --decay none to extend later)");
        if (steps < c.step())
            throw new UserError("--resume: --steps " + steps + " is before the checkpoint's step " + c.step());
        return steps;
    }

    /**
     * The data must be the checkpoint's: resuming on other tokens would not continue the same run.
     * Shards are compared by fingerprint, so renamed, moved or symlinked shards are the same data;
     * added, missing, changed or reordered shards are refused, saying which.
     */
    static void sameData(Checkpoint c, DataRecord now) {
        DataRecord was = c.data();
        if (was.isTeacher() || now.isTeacher() || was.shards().isEmpty()) {
            if (!was.description().equals(now.description()))
                throw new UserError("--resume: the checkpoint was trained on " + was.description() + ", not " + now.description()
                        + " (pass the same --data)");
            return;
        }
        List<ShardPrint> before = was.shards(), after = now.shards();
        if (before.size() == after.size() && allSame(before, after)) return;
        List<String> gone = before.stream().filter(p -> after.stream().noneMatch(p::sameData)).map(ShardPrint::name).toList();
        List<String> added = after.stream().filter(p -> before.stream().noneMatch(p::sameData)).map(ShardPrint::name).toList();
        if (gone.isEmpty() && added.isEmpty() && before.size() == after.size())
            throw new UserError("--resume: the same shards in another order; the run read them as "
                    + before.stream().map(ShardPrint::name).collect(Collectors.joining(", ")) + " (pass them in that order)");
        StringBuilder what = new StringBuilder("--resume: the data differs from the checkpoint's:");
        if (!gone.isEmpty()) what.append(" missing or changed: ").append(String.join(", ", gone)).append(";");
        if (!added.isEmpty()) what.append(" new or changed: ").append(String.join(", ", added)).append(";");
        if (gone.isEmpty() && added.isEmpty()) what.append(" a shard is given twice;");
        throw new UserError(what + " pass the run's data as it was, or start a fresh run");
    }

    private static boolean allSame(List<ShardPrint> a, List<ShardPrint> b) {
        for (int i = 0; i < a.size(); i++) if (!a.get(i).sameData(b.get(i))) return false;
        return true;
    }

    private static void same(String option, Object value, Object saved) {
        if (value != null && !Objects.equals(value, saved))
            throw new UserError("--resume: " + option + " " + value + " differs from the checkpoint's " + saved
                    + "; drop it to continue the run as it was");
    }
}
