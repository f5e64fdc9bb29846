package gsae.api;

import gsae.config.Sizes;
import gsae.config.UserError;
import gsae.data.ShardDataset;
import gsae.data.Teacher;
import gsae.io.Checkpoint;
import gsae.ops.Params;
import gsae.train.EvalReport;
import gsae.train.Evaluator;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * SPEC §7's evaluation of a saved SAE on held-out tokens: FVU, L0 and dead latents on shards; on
 * the embedded teacher also the spliced downstream loss, loss recovered, KL and the recovery of the
 * teacher's true features per family. A thin façade over the engine's evaluator.
 */
public final class Evaluation {

    /** The teacher's held-out stream that {@code gsae eval} reads, distinct from every training stream. */
    public static final long HELD_OUT_STREAM = Teacher.EVAL_STREAM;

    private final Checkpoint ckpt;

    Evaluation(Checkpoint ckpt) {
        this.ckpt = ckpt;
    }

    /** The checkpoint in {@code checkpointDir} (a folder holding checkpoint.json), ready to evaluate. */
    public static Evaluation load(Path checkpointDir) {
        return new Evaluation(Checkpoint.load(checkpointDir));
    }

    /** The embedded teacher the SAE was trained on (its seed's), described in a line. */
    public String teacher() {
        return Teacher.standard(ckpt.train().seed()).describe();
    }

    /**
     * What was evaluated and the numbers.
     *
     * @param data   the tokens evaluated, described in a line
     * @param report SPEC §7's metrics on them
     */
    public record Result(String data, EvalReport report) {}

    /** "M=1024, k=16, beta=4.0": the SAE's shape and β. */
    public String describeSae() {
        return "M=" + ckpt.sae().latents() + ", k=" + ckpt.sae().k() + ", beta=" + ckpt.sae().beta();
    }

    /**
     * On held-out tokens of the teacher the SAE was trained on (stream {@code stream}, e.g.
     * {@link #HELD_OUT_STREAM}); an SAE trained on shards is a {@link UserError} naming {@code --data}.
     *
     * @param withGradients select with g as in training; false selects as at inference (β falls back to 0)
     * @param log           where progress notes go
     * @param name          how the error names the checkpoint (the path the user gave)
     */
    public Result onTeacher(Engine engine, long stream, long tokens, int batch, boolean withGradients, PrintStream log, String name) {
        if (!ckpt.data().isTeacher())
            throw new UserError("--data: " + name + " was trained on " + ckpt.data().description() + ", pass --data PATH to evaluate it");
        Teacher teacher = Teacher.standard(ckpt.train().seed());
        return new Result(teacher.describe() + ", held-out stream", Evaluator.onTeacher(engine.backend().ops(), ckpt.sae(),
                params(name), ckpt.scales(), teacher, stream, tokens, batch, withGradients, log));
    }

    /** The weights in host arrays, which evaluation runs on; an SAE past one Java array is a UserError saying so. */
    private Params params(String name) {
        long md = Sizes.product("--latents", ckpt.sae().latents(), ckpt.sae().d());
        if (md > Sizes.arrayLimit())
            throw new UserError(String.format("%s: M·d = %,d × %,d = %,d elements per weight, more than the %,d one Java array holds; "
                    + "evaluation runs on host arrays, so it cannot take this SAE (export --format sparsify streams it)", name,
                    ckpt.sae().latents(), ckpt.sae().d(), md, Sizes.arrayLimit()));
        return ckpt.state().params();
    }

    /** On the first {@code tokens} tokens (at most all) of the shards in {@code paths}, in order. */
    public Result onShards(Engine engine, List<Path> paths, long tokens, int batch, boolean withGradients, PrintStream log) {
        try (ShardDataset shards = ShardDataset.open(paths, ckpt.train().seed(), false, false)) {
            return new Result(shards.describe(), Evaluator.onData(engine.backend().ops(), ckpt.sae(), params("the checkpoint"), ckpt.scales(),
                    shards, Math.min(tokens, shards.tokens()), batch, withGradients, log));
        }
    }
}
