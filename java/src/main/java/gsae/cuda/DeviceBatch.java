package gsae.cuda;

/**
 * A batch on the device (SPEC §1: x and g of N tokens).
 *
 * @param x activations [N, d]
 * @param g gradients [N, d], or null when the batch has none (β is then 0)
 */
record DeviceBatch(int n, int d, DeviceBuffer x, DeviceBuffer g) {}
