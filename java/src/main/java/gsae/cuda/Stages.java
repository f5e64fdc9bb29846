package gsae.cuda;

/**
 * The four SPEC stages on one device: a forward (fused or dense), the shared sparse backward and
 * update, and the scratch they draw from. Owned by one {@link CudaOps} or {@link CudaTrainingStep}.
 */
final class Stages implements AutoCloseable {

    final Driver ctx;
    final Scratch scratch;
    final Forward forward;
    final SparseBackward backward;
    final DeviceUpdate update;

    Stages(Driver ctx, Kernels kernels, Mode mode) {
        this.ctx = ctx;
        this.scratch = new Scratch(ctx);
        Forward f = null;
        try {
            f = switch (mode) {
                case FUSED_F32 -> new FusedForward(kernels, scratch, Precision.F32);
                case FUSED_BF16 -> new FusedForward(kernels, scratch, Precision.BF16);
                case DENSE -> new DenseForward(ctx, kernels, scratch);
            };
            this.forward = f;
            this.backward = new SparseBackward(kernels, scratch);
            this.update = new DeviceUpdate(kernels);
        } catch (RuntimeException e) {
            if (f != null) f.close();
            scratch.close();
            throw e;
        }
    }

    /** Which forward the stages use. */
    enum Mode { FUSED_F32, FUSED_BF16, DENSE }

    @Override
    public void close() {
        ctx.makeCurrent();
        try {
            forward.close();
        } finally {
            scratch.close();
        }
    }
}
