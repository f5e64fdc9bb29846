package gsae.cuda;

import java.util.Arrays;
import java.util.Locale;

/**
 * The fused path: encode_select.cu's tile kernel and merge, and sparse_decode.cu. The tile
 * constants mirror the kernel's and are checked against encode_geometry when the stage opens.
 * Tokens are taken in chunks so that the per-tile candidate keys ([rows, tiles, min(k, 128)]
 * u64) stay under {@link #CANDIDATE_BUDGET} bytes whatever N is.
 */
final class FusedForward implements Forward {

    static final int TILE_TOKENS = 32, TILE_LATENTS = 128, MERGE_THREADS = 256, TILE_THREADS = 256, DECODE_THREADS = 128;
    static final long CANDIDATE_BUDGET = 256L << 20;

    private final Kernel tile, merge, decode;
    private final Scratch scratch;
    private final Precision precision;

    FusedForward(Kernels kernels, Scratch scratch, Precision precision) {
        this.tile = kernels.get("encode_select", precision == Precision.F32 ? "encode_tile_f32" : "encode_tile_bf16");
        this.merge = kernels.get("encode_select", "encode_merge");
        this.decode = kernels.get("sparse_decode", "sparse_decode");
        this.scratch = scratch;
        this.precision = precision;
        checkGeometry(kernels.get("encode_select", "encode_geometry"));
    }

    /** Refuses a fatbin whose tile constants differ from the ones this class launches with. */
    private void checkGeometry(Kernel geometry) {
        DeviceBuffer out = scratch.ints("encode.geometry", 3);
        geometry.launch(1, 1, 1, out);
        int[] got = new int[3];
        out.download(got);
        int[] want = {TILE_TOKENS, TILE_LATENTS, TILE_THREADS};
        if (!Arrays.equals(got, want))
            throw new IllegalStateException("encode_select.fatbin was built with tiles " + Arrays.toString(got) + " (tokens, latents, threads), "
                    + "the Java side launches " + Arrays.toString(want) + ": rebuild kernels and jar together");
    }

    @Override
    public String name() {
        return "fused-" + precision.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public void encodeSelect(DeviceParams p, DeviceBatch b, float beta, DeviceBuffer dead, DeviceSelection top, DeviceSelection aux) {
        int tiles = (p.m() + TILE_LATENTS - 1) / TILE_LATENTS;
        int kc = Math.min(top.k(), TILE_LATENTS), kca = aux == null ? 0 : Math.min(aux.k(), TILE_LATENTS);
        long keysPerRow = (long) tiles * (kc + kca);
        long fit = Math.max(TILE_TOKENS, CANDIDATE_BUDGET / (8 * keysPerRow) / TILE_TOKENS * TILE_TOKENS);
        int chunk = (int) Math.min(Math.min(b.n(), fit), 65535L * TILE_TOKENS);
        DeviceBuffer cand = scratch.get("encode.candidates", 8L * tiles * kc * chunk);
        DeviceBuffer candAux = kca == 0 ? null : scratch.get("encode.candidates_aux", 8L * tiles * kca * chunk);
        DeviceBuffer g = beta == 0f ? null : b.g();
        if (beta != 0f && g == null) throw new IllegalArgumentException("β = " + beta + " needs gradients; the batch has none");
        for (int row0 = 0; row0 < b.n(); row0 += chunk) {
            int rows = Math.min(chunk, b.n() - row0);
            tile.launch(tiles, (rows + TILE_TOKENS - 1) / TILE_TOKENS, TILE_THREADS, b.x(), g, p.wEnc(), p.bEnc(), p.wDec(), p.bDec(),
                    kca == 0 ? null : dead, row0, rows, p.d(), p.m(), top.k(), aux == null ? 0 : aux.k(), beta, cand, candAux);
            merge.launch(rows, 1, MERGE_THREADS, cand, tiles * kc, top.k(), b.x(), p.wEnc(), p.bEnc(), p.bDec(), row0, p.d(),
                    top.idx(), top.val());
            if (kca > 0)
                merge.launch(rows, 1, MERGE_THREADS, candAux, tiles * kca, aux.k(), b.x(), p.wEnc(), p.bEnc(), p.bDec(), row0, p.d(),
                        aux.idx(), aux.val());
        }
    }

    @Override
    public void decode(DeviceParams p, DeviceSelection s, boolean withBias, DeviceBuffer out) {
        launchDecode(decode, p, s, withBias ? p.bDec() : null, out);
    }

    static void launchDecode(Kernel decode, DeviceParams p, DeviceSelection s, DeviceBuffer bias, DeviceBuffer out) {
        decode.launch(s.n(), (p.d() + DECODE_THREADS - 1) / DECODE_THREADS, DECODE_THREADS, s.idx(), s.val(), p.wDec(), bias, s.k(), p.d(), out);
    }
}
