package gsae.cuda;

/**
 * The dense baseline (dense.cu around cuBLAS, or host GEMMs on the emulated device): Z = (x − b_dec)·W_encᵀ and S = g·W_decᵀ
 * materialised as [N, M] by cublasSgemm, a radix top-k over each full row, and x̂ = A·W_dec with
 * A the dense [N, M] activations. It exists to be measured against the fused path; it allocates
 * O(N·M) where the fused path allocates O(N·k).
 */
final class DenseForward implements Forward {

    private static final int ELEMENT_THREADS = 256, SELECT_THREADS = 256;

    private final Gemm blas;
    private final Scratch scratch;
    private final Kernel centre, select, scatter, addBias;

    DenseForward(Driver ctx, Kernels kernels, Scratch scratch) {
        this.blas = ctx.gemm();
        this.scratch = scratch;
        centre = kernels.get("dense", "centre_rows");
        select = kernels.get("dense", "dense_select");
        scatter = kernels.get("dense", "dense_scatter");
        addBias = kernels.get("dense", "add_bias_rows");
    }

    @Override
    public String name() {
        return "dense-cublas";
    }

    @Override
    public void encodeSelect(DeviceParams p, DeviceBatch b, float beta, DeviceBuffer dead, DeviceSelection top, DeviceSelection aux) {
        int n = b.n(), d = p.d(), m = p.m();
        long nm = (long) n * m, nd = (long) n * d;
        if (beta != 0f && b.g() == null) throw new IllegalArgumentException("β = " + beta + " needs gradients; the batch has none");
        DeviceBuffer xc = scratch.floats("dense.xc", nd), z = scratch.floats("dense.z", nm);
        centre.launch(Kernel.blocks(nd, ELEMENT_THREADS), 1, ELEMENT_THREADS, b.x(), p.bDec(), n, d, xc);
        blas.gemmRowMajorNT(xc.address(), p.wEnc().address(), z.address(), n, m, d);
        DeviceBuffer s = null;
        if (beta != 0f) {
            s = scratch.floats("dense.s", nm);
            blas.gemmRowMajorNT(b.g().address(), p.wDec().address(), s.address(), n, m, d);
        }
        int ka = aux == null ? 0 : aux.k();
        select.launch(n, 1, SELECT_THREADS, z, s, p.bEnc(), ka == 0 ? null : dead, beta, m, top.k(), ka, top.idx(), top.val(),
                aux == null ? null : aux.idx(), aux == null ? null : aux.val());
    }

    @Override
    public void decode(DeviceParams p, DeviceSelection sel, boolean withBias, DeviceBuffer out) {
        int n = sel.n(), d = p.d(), m = p.m();
        DeviceBuffer a = scratch.floats("dense.a", (long) n * m);
        a.zero(4L * n * m);
        scatter.launch(Kernel.blocks(sel.pairs(), ELEMENT_THREADS), 1, ELEMENT_THREADS, sel.idx(), sel.val(), n, sel.k(), m, a);
        blas.gemmRowMajorNN(a.address(), p.wDec().address(), out.address(), n, d, m);
        if (withBias) addBias.launch(Kernel.blocks((long) n * d, ELEMENT_THREADS), 1, ELEMENT_THREADS, out, p.bDec(), n, d);
    }

    @Override
    public void close() {
        blas.close();
    }
}
