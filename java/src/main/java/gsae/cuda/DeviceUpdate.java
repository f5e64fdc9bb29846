package gsae.cuda;

import gsae.ops.Ops;

/** SPEC §5 on the device: update.cu's fused projection, Adam and renormalisation, one launch. */
final class DeviceUpdate {

    private static final int THREADS = 256;
    private final Kernel adam;

    DeviceUpdate(Kernels kernels) {
        adam = kernels.get("update", "adam_update");
    }

    /** Same contract as {@link Ops#update}: mutates p, m, v and the decoder gradient rows. */
    void run(DeviceParams p, DeviceParams g, DeviceParams m, DeviceParams v, float lr, long t) {
        if (t < 1) throw new IllegalArgumentException("Adam step must be ≥ 1, got " + t);
        double c1 = 1.0 - Math.pow(Ops.ADAM_BETA1, t), c2 = 1.0 - Math.pow(Ops.ADAM_BETA2, t);
        adam.launch(p.m() + 1L, 1, THREADS, p.wEnc(), p.bEnc(), p.wDec(), p.bDec(), g.wEnc(), g.bEnc(), g.wDec(), g.bDec(),
                m.wEnc(), m.bEnc(), m.wDec(), m.bDec(), v.wEnc(), v.bEnc(), v.wDec(), v.bDec(), p.m(), p.d(), lr, c1, c2);
    }
}
