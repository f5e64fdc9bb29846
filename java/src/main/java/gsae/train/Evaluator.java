package gsae.train;

import gsae.config.SaeConfig;
import gsae.data.BatchSource;
import gsae.data.Teacher;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.Scales;

/** PLACEHOLDER (issue #2, being written): evaluation; replaced before landing. */
public final class Evaluator {
    private Evaluator() {}
    /** FVU, L0, dead fraction on {@code tokens} tokens of {@code data} (no downstream loss). */
    public static EvalReport onData(Ops ops, SaeConfig cfg, Params p, Scales scales, BatchSource data, long tokens, int batch) { throw new UnsupportedOperationException(); }
    /** Everything, downstream and ground-truth recovery included, on held-out teacher tokens drawn with evalSeed. */
    public static EvalReport onTeacher(Ops ops, SaeConfig cfg, Params p, Scales scales, Teacher teacher, long evalSeed, long tokens, int batch) { throw new UnsupportedOperationException(); }
}
