package gsae.cuda;

import gsae.config.Sizes;
import gsae.ops.Params;

/**
 * Params (SPEC §1) resident on the device, in buffers a {@link Scratch} owns; also used for
 * gradients and Adam's moments.
 *
 * @param wEnc [M, d]
 * @param bEnc [M]
 * @param wDec [M, d]
 * @param bDec [d]
 */
record DeviceParams(int d, int m, DeviceBuffer wEnc, DeviceBuffer bEnc, DeviceBuffer wDec, DeviceBuffer bDec) {

    /**
     * Elements of one [M, d] weight, in {@code long}: on the device it may exceed 2³¹ − 1
     * (d = 4,096, M = 1M is 2³² elements), which no Java array and no int offset holds.
     */
    static long weightElements(int d, int m) {
        return Sizes.product("latents", m, d);
    }

    /** Four scratch buffers named after {@code what}, owned by the scratch. */
    static DeviceParams in(Scratch scratch, String what, int d, int m) {
        long md = weightElements(d, m);
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
        wEnc.fill(bits, weightElements(d, m));
        bEnc.fill(bits, m);
        wDec.fill(bits, weightElements(d, m));
        bDec.fill(bits, d);
    }
}
