package gsae.ops;

/**
 * The four stages of a g-SAE training step (SPEC §2–5) on host arrays. Every backend implements
 * them; the scalar reference is the oracle the others are tested against. Implementations may keep
 * scratch space between calls, so one instance serves one thread at a time.
 */
public interface Ops {

    /** A short name for logs and tables. */
    String name();

    /**
     * z = (x − b_dec)·W_encᵀ + b_enc; s = |g·W_decᵀ|; score = z∘(1 + β s);
     * S_n = the k largest score[n, ·] (ties: lower index first); a = ReLU(z_S).
     * When {@code dead} is given and kAux = min(auxK, |dead|) > 0, also the kAux dead latents of
     * largest score. β is used as given; callers pass 0 when the batch has no gradients.
     *
     * @param dead one flag per latent, or null for no AuxK   [M]
     */
    Encoded encodeSelect(Params p, Batch b, float beta, int k, boolean[] dead, int auxK);

    /** x̂ = a·W_dec (+ b_dec when {@code withBias}), reading only the selected rows.  returns [N, d] */
    float[] decode(Params p, Selection s, boolean withBias);

    /**
     * Losses of SPEC §3 and their gradients of SPEC §4 with respect to every parameter, written
     * (not accumulated) into {@code grads}. {@code xhat} is decode(p, enc.top, true).
     * AuxK contributes α times its gradient when enc.aux is present.
     *
     * @param xhat reconstruction [N, d]
     */
    default Losses backward(Params p, Batch b, Encoded enc, float[] xhat, float auxAlpha, Params grads) {
        return backward(p, b, enc, xhat, auxAlpha, grads, null);
    }

    /**
     * {@link #backward(Params, Batch, Encoded, float[], float, Params)} with the denominators of
     * SPEC §3 given instead of taken from this batch: this batch is one slice of a larger one, and
     * the losses and gradients returned are this slice's terms of the larger batch's, whose sums
     * over the slices are the larger batch's losses and gradients (data-parallel training).
     *
     * @param global the larger batch's denominators, or null to use this batch's own
     */
    Losses backward(Params p, Batch b, Encoded enc, float[] xhat, float auxAlpha, Params grads, Denominators global);

    /**
     * SPEC §5 in order: remove from each row of dW_dec its component along W_dec's row; Adam
     * (β1 0.9, β2 0.999, ε 6.25e-10, bias-corrected, step t ≥ 1) on every parameter at rate lr;
     * renormalise W_dec's rows. Mutates p, m and v; grads may be overwritten.
     */
    void update(Params p, Params grads, Params m, Params v, float lr, long t);

    float ADAM_BETA1 = 0.9f;
    float ADAM_BETA2 = 0.999f;
    float ADAM_EPS = 6.25e-10f;
}
