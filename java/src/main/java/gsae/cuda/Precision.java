package gsae.cuda;

/** How the fused encoder multiplies (SPEC §2's z and s); selection values are always recomputed in f32. */
public enum Precision {
    /** FMA in f32: the mode that agrees with the reference up to f32 rounding. */
    F32,
    /** bf16 operands on tensor cores, f32 accumulation: fast; near-ties may select differently. */
    BF16;

    /** Relative rounding of each operand on its way into a product: 0 in f32 (used as stored), 2^-8 in bf16 (8 significand bits). */
    public double operandRounding() {
        return this == F32 ? 0 : 0x1p-8;
    }
}
