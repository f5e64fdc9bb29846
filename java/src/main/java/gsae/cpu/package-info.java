/** CPU backends: the scalar reference (the oracle), the fused Vector-API fast path and the dense baseline. */
package gsae.cpu;
