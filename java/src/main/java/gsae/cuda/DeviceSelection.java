package gsae.cuda;

import gsae.ops.Selection;

/**
 * A selection on the device, rows in ascending latent order (as {@link Selection}).
 *
 * @param idx latent indices [N, k] i32
 * @param val a = ReLU(z) at those latents [N, k]
 */
record DeviceSelection(int n, int k, DeviceBuffer idx, DeviceBuffer val) {

    static DeviceSelection in(Scratch scratch, String what, int n, int k) {
        return new DeviceSelection(n, k, scratch.ints(what + ".idx", (long) n * k), scratch.floats(what + ".val", (long) n * k));
    }

    long pairs() {
        return (long) n * k;
    }

    void upload(Selection s) {
        idx.upload(s.indices());
        val.upload(s.values());
    }

    Selection download() {
        Selection s = Selection.empty(n, k);
        idx.download(s.indices());
        val.download(s.values());
        return s;
    }

    /** Indices −1 and values NaN, so that a slot no kernel wrote cannot pass for a result. */
    void poison() {
        idx.fill(-1, pairs());
        val.fill(DeviceBuffer.NAN_BITS, pairs());
    }
}
