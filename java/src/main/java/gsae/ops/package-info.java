/**
 * The operations every backend implements (SPEC §2–5: encode-select, decode, backward, update),
 * the host-side records they exchange, and the device-resident training step boundary.
 */
package gsae.ops;
