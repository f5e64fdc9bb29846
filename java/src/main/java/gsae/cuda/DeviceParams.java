package gsae.cuda;

import gsae.ops.Params;

/**
 * Params (SPEC §1) resident on the device; also used for gradients and Adam's moments.
 *
 * @param wEnc [M, d]
 * @param bEnc [M]
 * @param wDec [M, d]
 * @param bDec [d]
 */
record DeviceParams(int d, int m, DeviceBuffer wEnc, DeviceBuffer bEnc, DeviceBuffer wDec, DeviceBuffer bDec) implements AutoCloseable {

    /** Four fresh allocations, owned by the returned record. */
    static DeviceParams allocate(int d, int m, String what) {
        long md = (long) m * d;
        return new DeviceParams(d, m, DeviceBuffer.allocate(4 * md, what + ".W_enc"), DeviceBuffer.allocate(4L * m, what + ".b_enc"),
                DeviceBuffer.allocate(4 * md, what + ".W_dec"), DeviceBuffer.allocate(4L * d, what + ".b_dec"));
    }

    /** Four scratch buffers named after {@code what}, owned by the scratch. */
    static DeviceParams in(Scratch scratch, String what, int d, int m) {
        long md = (long) m * d;
        return new DeviceParams(d, m, scratch.floats(what + ".W_enc", md), scratch.floats(what + ".b_enc", m),
                scratch.floats(what + ".W_dec", md), scratch.floats(what + ".b_dec", d));
    }

    void upload(Params p) {
        wEnc.upload(p.wEnc());
        bEnc.upload(p.bEnc());
        wDec.upload(p.wDec());
        bDec.upload(p.bDec());
    }

    void download(Params p) {
        wEnc.download(p.wEnc());
        bEnc.download(p.bEnc());
        wDec.download(p.wDec());
        bDec.download(p.bDec());
    }

    Params download() {
        Params p = Params.zeros(d, m);
        download(p);
        return p;
    }

    void fill(int bits) {
        wEnc.fill(bits, (long) m * d);
        bEnc.fill(bits, m);
        wDec.fill(bits, (long) m * d);
        bDec.fill(bits, d);
    }

    @Override
    public void close() {
        wEnc.close();
        bEnc.close();
        wDec.close();
        bDec.close();
    }
}
