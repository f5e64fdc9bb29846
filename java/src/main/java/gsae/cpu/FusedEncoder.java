package gsae.cpu;

import gsae.ops.Batch;
import gsae.ops.Encoded;
import gsae.ops.Params;

/** PLACEHOLDER (issue #3, being written): delegates to the reference until the fused Vector-API encoder lands. */
public final class FusedEncoder {
    private final ReferenceOps reference = new ReferenceOps();
    public FusedEncoder(Workers workers) {}
    /** Same contract as {@link gsae.ops.Ops#encodeSelect}. */
    public Encoded encodeSelect(Params p, Batch b, float beta, int k, boolean[] dead, int auxK) {
        return reference.encodeSelect(p, b, beta, k, dead, auxK);
    }
}
