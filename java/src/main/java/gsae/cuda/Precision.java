package gsae.cuda;

/** How the fused encoder multiplies (SPEC §2's z and s); selection values are always recomputed in f32. */
public enum Precision {
    /** FMA in f32: the mode that agrees with the reference up to f32 rounding. */
    F32,
    /** bf16 operands on tensor cores, f32 accumulation: fast; near-ties may select differently. */
    BF16;

    /** Unit roundoff of one operand in this mode: 2^-24 for f32, 2^-8 for bf16 (8 significand bits). */
    public double operandEps() {
        return this == F32 ? 0x1p-24 : 0x1p-8;
    }
}
