package gsae.cuda;

/**
 * The two stages whose device implementation differs between the fused path and the dense
 * baseline; backward and update are shared. All buffers are on the device; nothing is copied.
 */
interface Forward extends AutoCloseable {

    /** A short name for logs and tables. */
    String name();

    /**
     * SPEC §2 selection into {@code top} (k = top.k()) and, when {@code aux} is not null, AuxK's
     * selection of aux.k() latents among those flagged in {@code dead} ([M] u8).
     */
    void encodeSelect(DeviceParams p, DeviceBatch b, float beta, DeviceBuffer dead, DeviceSelection top, DeviceSelection aux);

    /** x̂ = a·W_dec (+ b_dec when withBias) into {@code out} [N, d]. */
    void decode(DeviceParams p, DeviceSelection s, boolean withBias, DeviceBuffer out);

    /** Releases what the stage holds besides scratch buffers (the dense path's cuBLAS handle). */
    @Override
    default void close() {}
}
